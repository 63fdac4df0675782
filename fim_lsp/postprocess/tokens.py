"""Special tokens streamed as text (`<|endoftext|>`, `</s>`): nothing after one is the answer."""

from __future__ import annotations

import re

_SPECIAL = re.compile(
    r"<\|(?:endoftext|end_of_text|eot_id|im_end|im_start|end|file_separator|fim_\w+|repo_name)\|>"
    r"|<fim[_-](?:prefix|middle|suffix|pad)>|<EOT>|<\uff5c[^\uff5c>]{1,30}\uff5c>"
)
# `</s>` is also the end of a strikethrough tag where markup is written.
_WITH_EOS = re.compile(_SPECIAL.pattern + r"|</s>")
_MARKUP = frozenset(
    {"html", "xml", "vue", "svelte", "javascriptreact", "typescriptreact", "markdown", "php"}
)


def _pattern(language: str) -> re.Pattern[str]:
    return _SPECIAL if language in _MARKUP else _WITH_EOS


def cut(text: str, language: str = "") -> str:
    """The text before the first special token."""
    found = _pattern(language).search(text)
    return text if found is None else text[: found.start()]


def seen(text: str, language: str = "") -> bool:
    """True once a special token has arrived."""
    return _pattern(language).search(text) is not None

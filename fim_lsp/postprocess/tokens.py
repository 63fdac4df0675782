"""Special tokens streamed as text (`<|endoftext|>`, `</s>`) and the prompt's file headers
(`// Path: src/a.ts`): nothing after one is the answer."""

from __future__ import annotations

import re

_TOKENS = (
    r"<\|(?:endoftext|end_of_text|eot_id|im_end|im_start|end|file_separator|fim_\w+|repo_name)\|>"
    r"|<fim[_-](?:prefix|middle|suffix|pad)>|<EOT>|<\uff5c[^\uff5c>]{1,30}\uff5c>"
)
# The label of the comment line that heads each file's code in a prompt (backends.other_files):
# a model that writes one has moved on to another file.
FILE_HEADER = "Path: "
_HEADER = (
    r"(?m:^(?://+|#+|--|;+|%+|/\*|<!--|') " + re.escape(FILE_HEADER) + r"\S+(?: \*/| -->)?[ \t]*)"
)
# In a stream only a complete line is a header (`# Path: where files go` is a comment).
_HEADER_AT_END = re.compile(_HEADER + r"\Z")
_SPECIAL = re.compile(_TOKENS + "|" + _HEADER + r"(?=\n)")
# `</s>` is also the end of a strikethrough tag where markup is written.
_WITH_EOS = re.compile(_SPECIAL.pattern + r"|</s>")
_MARKUP = frozenset(
    {"html", "xml", "vue", "svelte", "javascriptreact", "typescriptreact", "markdown", "php"}
)


def _pattern(language: str) -> re.Pattern[str]:
    return _SPECIAL if language in _MARKUP else _WITH_EOS


def cut(text: str, language: str = "") -> str:
    """The text before the first special token or file header."""
    found = _pattern(language).search(text) or _HEADER_AT_END.search(text)
    return text if found is None else text[: found.start()]


def seen(text: str, language: str = "") -> bool:
    """True once a special token (or a whole file-header line) has arrived."""
    return _pattern(language).search(text) is not None

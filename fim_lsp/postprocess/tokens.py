"""Special tokens streamed as text (`<|endoftext|>`, `</s>`): nothing after one is the answer."""

from __future__ import annotations

import re

_SPECIAL = re.compile(
    r"<\|(?:endoftext|end_of_text|eot_id|im_end|im_start|end|file_separator|fim_\w+|repo_name)\|>"
    r"|</s>|<EOT>|<\uff5c[^\uff5c>]{1,30}\uff5c>"
)


def cut(text: str) -> str:
    """The text before the first special token."""
    found = _SPECIAL.search(text)
    return text if found is None else text[: found.start()]


def seen(text: str) -> bool:
    """True once a special token has arrived."""
    return _SPECIAL.search(text) is not None

"""Keeps API keys out of every log line, whoever writes it (pygls logs whole messages at debug)."""

from __future__ import annotations

import logging
import re

_secrets: set[str] = set()
# An apiKey field in any message (logged before its value is known), and Authorization headers.
_PATTERNS = re.compile(r"""((?:apiKey|api_key)['"]?\s*[:=]\s*['"])[^'"]*|(Bearer\s+)[^\s'",}]+""")


def add_secret(value: str) -> None:
    """From now on, `value` is shown as <hidden> in logs."""
    if len(value) >= 4:
        _secrets.add(value)


class RedactingFilter(logging.Filter):
    """A handler filter that replaces known secrets in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message when it holds a secret; never drops a record."""
        message = record.getMessage()
        clean = _PATTERNS.sub(lambda m: (m.group(1) or m.group(2)) + "<hidden>", message)
        for secret in _secrets:
            clean = clean.replace(secret, "<hidden>")
        if clean != message:
            record.msg, record.args = clean, None
        return True

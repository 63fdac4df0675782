"""Keeps secrets out of everything the server says: log records, pop-ups, log messages, status texts, errors.

pygls logs whole messages at debug and model servers echo keys in error bodies, so every outgoing
text goes through `redact`: registered keys in every encoding (and long parts of them), credential
headers and fields, and the secret shapes of `secrets`.
"""

from __future__ import annotations

import logging
import re

from . import secrets

HIDDEN = "<hidden>"

# Credentials by where they stand, whatever their value: Authorization schemes, and apiKey-like
# fields quoted JSON- or Python-style (escaped quotes inside the value included).
_CREDENTIAL = re.compile(
    r"""(?P<scheme>\b(?:Bearer|Basic|Token)[ \t]+)[A-Za-z0-9+/=._~\-]{8,}"""
    r"""|(?P<field>(?:api[_\-]?key|x-api-key|authorization|password|passwd|secret|token)"""
    r"""(?:\\?["'])?[ \t]*[:=][ \t]*)(?P<quote>\\?["'])(?:(?!(?P=quote))(?:\\.|[^\\\n]))+(?P=quote)""",
    re.IGNORECASE,
)


def add_secret(value: str) -> None:
    """From now on `value` is hidden in every form, wherever it appears (log, message, model text)."""
    secrets.add_secret(value)


def _hide_credentials(m: re.Match[str]) -> str:
    if m.group("scheme") is not None:
        return m.group("scheme") + HIDDEN
    value = m.group(0)[len(m.group("field")) :]
    if HIDDEN in value:
        return m.group(0)
    quote = m.group("quote")
    return m.group("field") + quote + HIDDEN + quote


def redact(text: str) -> str:
    """`text` safe to show or log: no registered key in any encoding, no credential, no secret shape."""
    spans = sorted(secrets.known_secret_spans(text))
    if spans:
        parts: list[str] = []
        at = 0
        for start, end in spans:
            if start < at:  # overlaps the span hidden last (two forms of one key)
                at = max(at, end)
                continue
            parts += (text[at:start], HIDDEN)
            at = end
        parts.append(text[at:])
        text = "".join(parts)
    text = _CREDENTIAL.sub(_hide_credentials, text)
    return secrets.mask(text, remember=False)


class RedactingFilter(logging.Filter):
    """A handler filter that redacts each record: its message, traceback and stack; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place (every handler then sees the redacted text)."""
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(handler: logging.Handler) -> None:
    """Put a RedactingFilter on a handler (once)."""
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())

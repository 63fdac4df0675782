"""Drop empty and whitespace-only suggestions: ghost text of nothing only costs a keystroke."""

from __future__ import annotations


def is_empty(text: str) -> bool:
    """True when the suggestion has nothing but whitespace."""
    return not text.strip()

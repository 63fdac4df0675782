"""Test helper: a document written with one `█` where the cursor is becomes a FimContext."""

from __future__ import annotations

from fim_lsp.context import FimContext
from fim_lsp.postprocess._view import View, view_of

CURSOR = "█"


def at(doc: str, language: str = "python") -> FimContext:
    """The context for a document written with one `█` where the cursor is."""
    prefix, suffix = doc.split(CURSOR)
    return FimContext(prefix, suffix, language)


def view(doc: str, language: str = "python") -> View:
    """The rules' view of a document with a cursor marker."""
    return view_of(at(doc, language))

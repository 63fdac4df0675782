"""Completions -> LSP items with exact ranges in the client's position encoding."""

from __future__ import annotations

from lsprotocol import types

from .context import word_start
from .documents import Document
from .engine import Completion

ACCEPT_COMMAND = "fimLsp.accepted"
_LABEL_WIDTH = 60


def _range(doc: Document, line: int, start: int, end: int) -> types.Range:
    """A range on one line, from code-point indexes to the client's columns."""
    return types.Range(
        start=types.Position(line=line, character=doc.column(line, start)),
        end=types.Position(line=line, character=doc.column(line, end)),
    )


def _accept_command(doc: Document, completion: Completion) -> types.Command:
    """Run by the client on accept: reports where, from what source, after what wait."""
    return types.Command(
        title="fim-lsp: accepted",
        command=ACCEPT_COMMAND,
        arguments=[
            {
                "uri": doc.uri,
                "line": completion.line,
                "source": completion.source,
                "debounceMs": round(completion.debounce_ms, 1),
            }
        ],
    )


def inline_items(doc: Document, completion: Completion | None) -> types.InlineCompletionList:
    """The `textDocument/inlineCompletion` answer."""
    if completion is None:
        return types.InlineCompletionList(items=[])
    item = types.InlineCompletionItem(
        insert_text=completion.text,
        # From the cursor to the end of what it replaces on the line (auto-closed brackets).
        range=_range(doc, completion.line, completion.start, completion.end),
        command=_accept_command(doc, completion),
    )
    return types.InlineCompletionList(items=[item])


def completion_items(
    doc: Document, completion: Completion | None, *, markdown: bool = False
) -> types.CompletionList:
    """The `textDocument/completion` answer: the same suggestion as one item.

    `markdown`: the client renders Markdown documentation (else the full text goes as plain text).
    """
    if completion is None:
        return types.CompletionList(is_incomplete=True, items=[])
    # The edit starts at the word before the cursor, so clients that filter items by the typed
    # word (Helix, Eglot, most completion menus) keep the item as the user types on.
    body = doc.line(completion.line)
    start = word_start(body, completion.start)
    word = body[start : completion.start]
    text = word + completion.text
    first = text.lstrip().split("\n", 1)[0].rstrip("\r")
    label = first if len(first) <= _LABEL_WIDTH else first[: _LABEL_WIDTH - 1] + "…"
    multiline = "\n" in text
    item = types.CompletionItem(
        label=label or text.strip()[:_LABEL_WIDTH],
        kind=types.CompletionItemKind.Text,
        detail="fim-lsp" + (" (multi-line)" if multiline else ""),
        documentation=(
            types.MarkupContent(
                kind=types.MarkupKind.Markdown, value=f"```{doc.language_id}\n{text}\n```"
            )
            if markdown
            else text
        ),
        sort_text="0",
        filter_text=text,
        preselect=True,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(
            range=_range(doc, completion.line, start, completion.end), new_text=text
        ),
        command=_accept_command(doc, completion),
    )
    # Incomplete: typing on must ask again, since the suggestion follows the text.
    return types.CompletionList(is_incomplete=True, items=[item])

"""What Helix does as an LSP client, for test_helix.py: its capabilities, edits and filtering.

Helix cannot be installed here, so the tests drive fim-lsp with a pytest-lsp client that announces
the capabilities Helix sends (helix-lsp/src/client.rs, `Client::initialize`, master of 2026) and
applies completion edits the way Helix does.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import converters, types

# Helix's `ClientCapabilities`, as JSON. Completion-wise: no inlineCompletion, insertReplaceSupport,
# resolve of documentation/detail/additionalTextEdits, and snippets only when the user's
# `editor.lsp.snippets` is on (the default).
_CAPABILITIES: dict[str, Any] = {
    "workspace": {
        "configuration": True,
        "didChangeConfiguration": {"dynamicRegistration": False},
        "workspaceFolders": True,
        "applyEdit": True,
        "symbol": {"dynamicRegistration": False},
        "executeCommand": {"dynamicRegistration": False},
        "inlayHint": {"refreshSupport": False},
        "workspaceEdit": {
            "documentChanges": True,
            "resourceOperations": ["create", "rename", "delete"],
            "failureHandling": "abort",
            "normalizesLineEndings": False,
        },
        "didChangeWatchedFiles": {"dynamicRegistration": True, "relativePatternSupport": False},
        "fileOperations": {"willRename": True, "didRename": True},
    },
    "textDocument": {
        "completion": {
            "completionItem": {
                "snippetSupport": True,
                "resolveSupport": {
                    "properties": ["documentation", "detail", "additionalTextEdits"]
                },
                "insertReplaceSupport": True,
                "deprecatedSupport": True,
                "tagSupport": {"valueSet": [1]},
            },
            "completionItemKind": {},
        },
        "hover": {"contentFormat": ["markdown"]},
        "signatureHelp": {
            "signatureInformation": {
                "documentationFormat": ["markdown"],
                "parameterInformation": {"labelOffsetSupport": True},
                "activeParameterSupport": True,
            }
        },
        "rename": {
            "dynamicRegistration": False,
            "prepareSupport": True,
            "honorsChangeAnnotations": False,
        },
        "formatting": {"dynamicRegistration": False},
        "codeAction": {
            "codeActionLiteralSupport": {
                "codeActionKind": {
                    "valueSet": [
                        "",
                        "quickfix",
                        "refactor",
                        "refactor.extract",
                        "refactor.inline",
                        "refactor.rewrite",
                        "source",
                        "source.organizeImports",
                    ]
                }
            },
            "isPreferredSupport": True,
            "disabledSupport": True,
            "dataSupport": True,
            "resolveSupport": {"properties": ["edit", "command"]},
        },
        "publishDiagnostics": {"versionSupport": True, "tagSupport": {"valueSet": [1, 2]}},
        "inlayHint": {"dynamicRegistration": False},
    },
    "window": {"workDoneProgress": True},
    "general": {"positionEncodings": ["utf-8", "utf-32", "utf-16"]},
}


def capabilities(*, snippets: bool = True) -> types.ClientCapabilities:
    """Helix's client capabilities; `snippets` mirrors the `editor.lsp.snippets` option."""
    raw = {**_CAPABILITIES}
    raw["textDocument"] = {**raw["textDocument"]}
    completion = raw["textDocument"]["completion"]
    raw["textDocument"]["completion"] = {
        **completion,
        "completionItem": {**completion["completionItem"], "snippetSupport": snippets},
    }
    result: types.ClientCapabilities = converters.get_converter().structure(
        raw, types.ClientCapabilities
    )
    return result


def encode_column(line: str, index: int, encoding: str) -> int:
    """Column of `line[:index]` in the units of a position encoding."""
    prefix = line[:index]
    if encoding == types.PositionEncodingKind.Utf8:
        return len(prefix.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf16:
        return len(prefix.encode("utf-16-le")) // 2
    if encoding == types.PositionEncodingKind.Utf32:
        return len(prefix)
    raise ValueError(f"unknown position encoding {encoding!r}")


def decode_column(line: str, column: int, encoding: str) -> int:
    """String index in `line` of a column given in a position encoding; it must fall on a character."""
    for index in range(len(line) + 1):
        if encode_column(line, index, encoding) == column:
            return index
    raise AssertionError(f"column {column} ({encoding}) is not a character boundary of {line!r}")


def offset_at(text: str, position: types.Position, encoding: str) -> int:
    """String offset in `text` of an LSP position."""
    lines = text.split("\n")
    start = sum(len(line) + 1 for line in lines[: position.line])
    return start + decode_column(lines[position.line], position.character, encoding)


def edit_of(item: types.CompletionItem) -> types.TextEdit:
    """The edit Helix applies for an item: its TextEdit, or the insert range of an InsertReplaceEdit
    (Helix's `editor.completion-replace` is off by default)."""
    edit = item.text_edit
    if isinstance(edit, types.InsertReplaceEdit):
        return types.TextEdit(range=edit.insert, new_text=edit.new_text)
    assert isinstance(edit, types.TextEdit), f"item has no textEdit: {item}"
    return edit


def apply_edit(text: str, edit: types.TextEdit, encoding: str) -> str:
    """The document after Helix applies `edit`."""
    start = offset_at(text, edit.range.start, encoding)
    end = offset_at(text, edit.range.end, encoding)
    return text[:start] + edit.new_text + text[end:]


def word_before(line: str, index: int) -> str:
    """The word Helix filters completion items with: word characters up to the cursor."""
    start = index
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_"):
        start -= 1
    return line[start:index]


def fuzzy_matches(pattern: str, candidate: str) -> bool:
    """Whether Helix's fuzzy matcher can keep `candidate` for `pattern` (a subsequence, any case)."""
    rest = iter(candidate.lower())
    return all(ch in rest for ch in pattern.lower())

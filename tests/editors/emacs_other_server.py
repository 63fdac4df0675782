"""A stand-in for a language's own server, for test_emacs.py's rass test: one fixed completion.

Run as `python emacs_other_server.py`; speaks LSP over stdio and answers every
`textDocument/completion` with a single item labelled `other_completion`.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

LABEL = "other_completion"

server = LanguageServer("other-server", "1.0")


# The trigger character keeps completionProvider non-empty: rass skips servers whose
# completionProvider is an empty object.
@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["."]))
def completion(ls: LanguageServer, params: types.CompletionParams) -> types.CompletionList:
    return types.CompletionList(
        is_incomplete=False,
        items=[types.CompletionItem(label=LABEL, kind=types.CompletionItemKind.Variable)],
    )


if __name__ == "__main__":
    server.start_io()

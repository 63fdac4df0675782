"""Bad input from the editor: answered or ignored with a message, never a crash."""

from __future__ import annotations

import asyncio

from lsp_support import Editor
from lsprotocol import types
from mock_codestral import Reply

SOURCE = "def add(a, b):\n    return \n"


async def test_out_of_range_positions_and_unknown_documents(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    # An edit whose range lies past the end of the document is clamped, not fatal.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=ed.uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(99, 5), types.Position(120, 0)), text="#"
                )
            ],
        )
    )
    # Changes and requests for documents that were never opened.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri="file:///nope.py", version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="x")],
        )
    )
    unknown = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
            text_document=types.TextDocumentIdentifier(uri="file:///nope.py"),
            position=types.Position(0, 0),
        )
    )
    assert list(unknown.items) == []
    far = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
            text_document=types.TextDocumentIdentifier(uri=ed.uri),
            position=types.Position(1_000_000, 1_000_000),
        )
    )
    # Clamped to the end of the document, which now ends with the "#" appended above.
    assert mock.requests[-1].body["prompt"] == SOURCE + "#"
    assert [i.insert_text for i in far.items] == ["a + b"]


async def test_settings_of_the_wrong_shape_are_ignored(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, SOURCE)
    for settings in (None, [1, 2], "fimLsp", {"fimLsp": 3}, {"fimLsp": {"stop": [1], "model": ""}}):
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=settings)
        )
    await asyncio.sleep(0.2)
    items = await ed.complete(len(SOURCE) - 1)
    assert [i.insert_text for i in items] == ["a + b"]
    assert mock.requests[-1].body["model"] == "codestral-latest"
    assert any("fimLsp.stop" in m.message for m in client.messages)
    assert any("fimLsp.model" in m.message for m in client.messages)


async def test_a_lone_surrogate_in_the_document_still_gets_suggestions(start_server, mock):
    # JSON allows "\ud800" and an editor's buffer may hold half of a pair; UTF-8 cannot carry
    # it, so the body sent to the model has U+FFFD in its place instead of failing to encode.
    mock.responder = lambda body: Reply(text="b + 1")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, "a = '\ud800'\n")
    end = ed.type(len(ed.text), "b = '\ud800' + ")
    items = await ed.complete(end, invoked=True)
    assert [i.insert_text for i in items] == ["b + 1"]
    # The half pair is one UTF-16 unit: the item sits right at the cursor.
    assert items[0].range is not None and items[0].range.start == ed.position(end)
    assert items[0].range.start.character == 10
    assert mock.requests[-1].body["prompt"] == "a = '\ufffd'\nb = '\ufffd' + "

from mock_codestral import Reply
from lsp_support import Editor

async def test_suggestion_appears(start_server, mock):
    mock.responder = lambda body: Reply(text="a + b")
    client = await start_server({"endpoint": mock.url, "debounceMs": 0})
    ed = Editor(client, "def add(a, b):\n    return \n")
    items = await ed.complete(len("def add(a, b):\n    return "))
    assert [i.insert_text for i in items] == ["a + b"]
    assert mock.requests[0].body["prompt"] == "def add(a, b):\n    return "

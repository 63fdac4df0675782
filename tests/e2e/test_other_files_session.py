"""End to end: code from the other open files reaches the model, and nothing secret does."""

from __future__ import annotations

from lsp_support import Editor
from mock_codestral import MockCodestral, Reply
from mock_fim import MockFim

TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
HELPERS = (
    "import os\n\n"
    f'GITHUB_TOKEN = "{TOKEN}"\n\n\n'
    "def normalize_path(path, sep='/'):\n"
    "    return path.replace(os.sep, sep).rstrip(sep)\n"
)
DOTENV = "def normalize_path(secret_env_marker):\n    return 'SECRET_FROM_DOTENV'\n"
MAIN = "from helpers import normalize_path\n\nroot = normalize_path(\n"
CURSOR = len(MAIN) - 1


async def test_the_definition_in_another_open_file_is_in_the_codestral_prompt(start_server):
    with MockCodestral(responder=lambda body: Reply(text='"/srv/app")')) as mock:
        client = await start_server({"endpoint": mock.url, "debounceMs": 0})
        Editor(client, HELPERS, uri="file:///w/pkg/helpers.py")
        Editor(client, DOTENV, uri="file:///w/.env")
        main = Editor(client, MAIN, uri="file:///w/pkg/main.py")
        items = await main.complete(CURSOR, invoked=True)
        assert [i.insert_text for i in items] == ['"/srv/app")']
        [request] = mock.requests
    prompt = request.body["prompt"]
    assert "# Path: helpers.py\n" in prompt
    assert "def normalize_path(path, sep='/'):" in prompt
    # The cursor's file comes last, under its own header, and its text is sent as it is.
    assert prompt.endswith("# Path: main.py\n" + MAIN[:CURSOR])
    assert request.body["suffix"] == MAIN[CURSOR:]
    # Nothing of an excluded file, no secret string.
    assert "SECRET_FROM_DOTENV" not in str(request.body) and "secret_env_marker" not in prompt
    assert TOKEN not in str(request.body) and "REDACTED_SECRET" in prompt


async def test_llamacpp_gets_the_other_files_as_input_extra(start_server):
    with MockFim("llamacpp", reply=lambda body: '"/srv/app")') as mock:
        client = await start_server({"backend": "llamacpp", "endpoint": mock.url, "debounceMs": 0})
        Editor(client, HELPERS, uri="file:///w/pkg/helpers.py")
        main = Editor(client, MAIN, uri="file:///w/pkg/main.py")
        items = await main.complete(CURSOR, invoked=True)
        assert [i.insert_text for i in items] == ['"/srv/app")']
        [seen] = mock.generations
    extra = seen.body["input_extra"]
    assert [e["filename"] for e in extra] == ["helpers.py"]
    assert "def normalize_path(path, sep='/'):" in extra[0]["text"]
    assert TOKEN not in extra[0]["text"]
    assert seen.body["input_prefix"] == MAIN[:CURSOR]


async def test_context_chars_zero_sends_the_cursor_file_alone(start_server):
    with MockCodestral(responder=lambda body: Reply(text='"/srv/app")')) as mock:
        client = await start_server({"endpoint": mock.url, "debounceMs": 0, "contextChars": 0})
        Editor(client, HELPERS, uri="file:///w/pkg/helpers.py")
        main = Editor(client, MAIN, uri="file:///w/pkg/main.py")
        await main.complete(CURSOR, invoked=True)
        [request] = mock.requests
    assert request.body["prompt"] == MAIN[:CURSOR]

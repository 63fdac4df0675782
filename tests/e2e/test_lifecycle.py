"""How the server process ends: exit codes, a gone editor, a closed stdin or stdout; quietly."""

from __future__ import annotations

import subprocess
import time

from lsp_support import API_KEY, server_env
from mock_codestral import MockCodestral, Reply
from raw_lsp import RawServer

from fim_lsp.server import CONFIG_PULL_TIMEOUT

URI = "file:///tmp/life.py"
SOURCE = "def add(a, b):\n    return \n"
INLINE = {
    "textDocument": {"uri": URI},
    "position": {"line": 1, "character": 11},
    "context": {"triggerKind": 1},
}


def started(mock: MockCodestral, *, process_id: int | None = None) -> RawServer:
    """A server with a document open, its model at `mock`."""
    server = RawServer("-v", env=server_env(MISTRAL_API_KEY=API_KEY))
    server.initialize({"endpoint": mock.url, "debounceMs": 0}, process_id=process_id)
    server.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": SOURCE}},
    )
    return server


def requests_in_flight(server: RawServer, mock: MockCodestral, n: int = 20) -> list[int]:
    """`n` inline requests the (hanging) model has not answered."""
    ids = []
    for k in range(n):
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": URI, "version": 2 + k},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": 1, "character": 11 + k},
                            "end": {"line": 1, "character": 11 + k},
                        },
                        "text": "x",
                    }
                ],
            },
        )
        params = {**INLINE, "position": {"line": 1, "character": 12 + k}}
        ids.append(server.request("textDocument/inlineCompletion", params))
    assert mock.wait_for_requests(1, timeout=10)
    return ids


def assert_quiet(server: RawServer) -> None:
    """No traceback, no 'Exception ignored', nothing on stdout that is not a frame."""
    log = server.stderr_text()
    assert "Traceback" not in log, log[-4000:]
    assert "Exception ignored" not in log, log[-4000:]
    assert server.stdout_error is None


def test_exit_without_shutdown_is_code_1_at_once_with_requests_in_flight(
    mock: MockCodestral,
) -> None:
    mock.responder = lambda body: Reply(text="a + b", mode="hang")
    with started(mock) as server:
        requests_in_flight(server, mock)
        begun = time.monotonic()
        server.notify("exit")
        assert server.wait(5) == 1
        assert time.monotonic() - begun < 1.0
    assert_quiet(server)
    assert len(server.stderr) < 20_000


def test_exit_after_shutdown_is_code_0(mock: MockCodestral) -> None:
    mock.responder = lambda body: Reply(text="a + b", mode="hang")
    with started(mock) as server:
        ids = requests_in_flight(server, mock, 5)
        assert "result" in server.call("shutdown")
        # The requests in flight were ended (each answered once), and nothing new is taken on.
        for msg_id in ids:
            server.response(msg_id, timeout=5)
        time.sleep(0.2)
        assert all(len(server.responses[msg_id]) == 1 for msg_id in ids)
        late = server.call("textDocument/inlineCompletion", INLINE)
        assert late["error"]["code"] == -32600
        server.notify("exit")
        assert server.wait(5) == 0
    assert_quiet(server)


def test_the_server_exits_when_the_editor_process_is_gone(mock: MockCodestral) -> None:
    editor = subprocess.Popen(["sleep", "120"])
    try:
        with started(mock, process_id=editor.pid) as server:
            server.call("textDocument/inlineCompletion", INLINE)
            time.sleep(2.5)  # a poll or two while the editor lives
            assert server.proc.poll() is None
            editor.kill()
            editor.wait()
            begun = time.monotonic()
            assert server.wait(8) == 0
            assert time.monotonic() - begun < 5
    finally:
        editor.kill()
        editor.wait()
    assert_quiet(server)
    assert "is gone" in server.stderr_text()


def test_a_zombie_editor_counts_as_gone(mock: MockCodestral) -> None:
    """An editor that died but was not reaped yet (its pid still exists) is gone too."""
    editor = subprocess.Popen(["sleep", "120"])
    try:
        with started(mock, process_id=editor.pid) as server:
            editor.kill()  # not waited for: a zombie until the finally below
            assert server.wait(8) == 0
    finally:
        editor.wait()
    assert_quiet(server)


def test_a_process_id_that_cannot_be_seen_is_not_watched(mock: MockCodestral) -> None:
    """An editor in another PID namespace (a container) is invisible, not gone."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    with started(mock, process_id=gone.pid) as server:
        time.sleep(2.5)
        assert server.proc.poll() is None
        assert "result" in server.call("textDocument/inlineCompletion", INLINE)
        assert "not watching it" in server.stderr_text()


def test_stdin_closed_ends_the_server_quietly(mock: MockCodestral) -> None:
    mock.responder = lambda body: Reply(text="a + b", mode="hang")
    with started(mock) as server:
        requests_in_flight(server, mock)
        assert server.proc.stdin is not None
        server.proc.stdin.close()
        assert server.wait(5) == 0
    assert_quiet(server)


def test_stdout_closed_ends_the_server_quietly(mock: MockCodestral) -> None:
    """Neovim's :qa! closes the pipes: the next write fails with EPIPE, no traceback."""
    mock.responder = lambda body: Reply(text="a + b", ttft=0.3)
    with started(mock) as server:
        requests_in_flight(server, mock, 5)
        assert server.proc.stdout is not None
        server.proc.stdout.close()  # answers to the requests now hit a closed pipe
        server.request("textDocument/inlineCompletion", INLINE)
        assert server.wait(5) == 0
    log = server.stderr_text()
    assert "Traceback" not in log and "Exception ignored" not in log, log[-4000:]
    assert "stdout closed" in log


def test_exit_sent_right_behind_shutdown_is_code_0(mock: MockCodestral) -> None:
    """Some clients send `exit` without waiting for the answer to `shutdown`."""
    mock.responder = lambda body: Reply(text="a + b", mode="hang")
    with started(mock) as server:
        requests_in_flight(server, mock, 5)
        server.request("shutdown")
        server.notify("exit")
        assert server.wait(5) == 0
    assert_quiet(server)


def test_an_editor_that_never_answers_workspace_configuration_is_not_waited_for(
    mock: MockCodestral,
) -> None:
    mock.responder = lambda body: Reply(text="a + b")
    server = RawServer("-v", env=server_env(MISTRAL_API_KEY=API_KEY))
    server.unanswered.add("workspace/configuration")
    with server:
        server.initialize({"endpoint": mock.url, "debounceMs": 0})
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": SOURCE}},
        )
        # Meanwhile the initialization options hold.
        reply = server.call("textDocument/inlineCompletion", INLINE, timeout=10)
        assert [i["insertText"] for i in reply["result"]["items"]] == ["a + b"]
        # The pull gives up with a line in the log, and settings pushed later still apply.
        deadline = time.monotonic() + CONFIG_PULL_TIMEOUT + 5
        while "workspace/configuration: no answer within" not in server.stderr_text():
            assert time.monotonic() < deadline, server.stderr_text()[-2000:]
            time.sleep(0.1)
        server.notify(
            "workspace/didChangeConfiguration", {"settings": {"fimLsp": {"enable": False}}}
        )
        reply = server.call("textDocument/inlineCompletion", INLINE, timeout=10)
        assert reply["result"]["items"] == []
        assert_quiet(server)

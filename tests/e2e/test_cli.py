"""The command line: `fim-lsp complete`, `--version` and the TCP transport."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lsp_support import API_KEY, server_env
from mock_codestral import MockCodestral, Reply


def run(*args: str, env: dict[str, str], stdin: Any = None) -> subprocess.CompletedProcess[Any]:
    """`python -m fim_lsp ARGS`; output as text, or as bytes when stdin is given (LSP frames)."""
    return subprocess.run(
        [sys.executable, "-m", "fim_lsp", *args],
        stdin=stdin,
        capture_output=True,
        text=stdin is None,
        env=env,
        timeout=30,
    )


def test_complete_prints_the_suggestion(tmp_path: Path, mock: MockCodestral) -> None:
    mock.responder = lambda body: Reply(text="a + b")
    source = tmp_path / "add.py"
    source.write_text("def add(a, b):\n    return \n", encoding="utf-8")
    settings = json.dumps({"endpoint": mock.url})
    result = run(
        "complete",
        f"{source}:2:12",
        "--settings",
        settings,
        env=server_env(MISTRAL_API_KEY=API_KEY),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "a + b\n"
    assert mock.requests[0].body["prompt"] == "def add(a, b):\n    return "
    assert mock.requests[0].body["suffix"] == "\n"


def test_complete_prints_a_slow_block_whole(tmp_path: Path, mock: MockCodestral) -> None:
    # The first line is complete well past the 250 ms first-line budget: an editor would be
    # shown it alone, but a terminal gets the whole block.
    answer = "total = a + b\n    return total"
    mock.responder = lambda body: Reply(text=answer, ttft=0.05, token_delay=0.1)
    source = tmp_path / "add.py"
    source.write_text("def add(a, b):\n    \n", encoding="utf-8")
    result = run(
        "complete",
        f"{source}:2:5",
        "--settings",
        json.dumps({"endpoint": mock.url}),
        env=server_env(MISTRAL_API_KEY=API_KEY),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == answer + "\n"


def test_complete_without_a_key_says_what_to_set(tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("x = 1\n", encoding="utf-8")
    result = run("complete", f"{source}:1:1", env=server_env())
    assert result.returncode == 1
    assert result.stdout == ""
    assert "CODESTRAL_API_KEY" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_complete_with_a_rejected_key_names_the_host(tmp_path: Path, mock: MockCodestral) -> None:
    mock.responder = lambda body: Reply(status=401)
    source = tmp_path / "a.py"
    source.write_text("x = 1\n", encoding="utf-8")
    settings = json.dumps({"endpoint": mock.url})
    result = run(
        "complete",
        f"{source}:1:5",
        "--settings",
        settings,
        env=server_env(CODESTRAL_API_KEY=API_KEY),
    )
    assert result.returncode == 1
    assert f"127.0.0.1:{mock.port} rejected the API key" in result.stderr
    assert API_KEY not in result.stderr + result.stdout


def test_complete_with_a_bad_position(tmp_path: Path) -> None:
    result = run("complete", "nowhere.py:0:1", env=server_env(MISTRAL_API_KEY=API_KEY))
    assert result.returncode == 2
    assert "LINE and COL start at 1" in result.stderr


def test_complete_on_a_file_that_is_not_utf8_names_it(tmp_path: Path) -> None:
    latin1 = tmp_path / "legacy.py"
    latin1.write_bytes(b'name = "Jos\xe9"\nx = ')
    result = run("complete", f"{latin1}:2:5", env=server_env(MISTRAL_API_KEY=API_KEY))
    assert result.returncode == 2
    assert f"{latin1} is not UTF-8 text" in result.stderr and "byte 11" in result.stderr


def test_version() -> None:
    result = run("--version", env=server_env())
    assert result.returncode == 0 and result.stdout.startswith("fim-lsp ")


def _frame(obj: dict) -> bytes:
    data = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(data), data)


def _content_length(head: bytes) -> int:
    match = re.search(rb"Content-Length: (\d+)", head)
    assert match is not None, head
    return int(match[1])


def _read_frame(sock: socket.socket, buffer: bytearray) -> dict:
    while b"\r\n\r\n" not in buffer:
        buffer += sock.recv(65536)
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    length = _content_length(head)
    while len(rest) < length:
        rest += sock.recv(65536)
    buffer[:] = rest[length:]
    return json.loads(rest[:length])


def test_tcp_transport(mock: MockCodestral) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "fim_lsp", "--tcp", "--port", str(port)],
        env=server_env(MISTRAL_API_KEY=API_KEY),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with sock:
            buffer = bytearray()
            init = {"capabilities": {}, "initializationOptions": {"endpoint": mock.url}}
            sock.sendall(
                _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
            )
            while "id" not in (reply := _read_frame(sock, buffer)):
                pass
            assert reply["result"]["capabilities"]["inlineCompletionProvider"] is not None
            assert reply["result"]["serverInfo"]["name"] == "fim-lsp"
    finally:
        proc.terminate()
        proc.wait(10)


def test_api_key_never_reaches_the_log_even_at_debug(tmp_path: Path, mock: MockCodestral) -> None:
    """pygls logs whole messages at debug level, initializationOptions included."""
    mock.responder = lambda body: Reply(text="a + b")
    log_file = tmp_path / "server.log"
    secret = "sk-setting-0123456789"
    init = {"capabilities": {}, "initializationOptions": {"endpoint": mock.url, "apiKey": secret}}
    uri = "file:///tmp/k.py"
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "x = \n"}
            },
        },
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "textDocument/inlineCompletion",
            "params": {
                "textDocument": {"uri": uri},
                "position": {"line": 0, "character": 4},
                "context": {"triggerKind": 1},
            },
        },
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "fim_lsp", "-vv", "--log-file", str(log_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=server_env(CODESTRAL_API_KEY=API_KEY),
    )
    assert proc.stdin is not None
    proc.stdin.write(b"".join(_frame(m) for m in messages))
    proc.stdin.flush()
    assert mock.wait_for_requests(1, timeout=10)
    assert mock.wait_for(lambda: mock.requests[0].completed, 5)
    time.sleep(0.3)
    proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}))
    proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
    proc.stdin.flush()
    out, err = proc.communicate(timeout=10)
    assert mock.requests[0].headers["authorization"] == f"Bearer {secret}"
    text = log_file.read_text()
    assert "inlineCompletion" in text  # debug logging really was on
    for leak in (secret, API_KEY):
        assert leak not in text and leak.encode() not in out + err


def _messages(data: bytes) -> list[dict[str, object]]:
    """The JSON-RPC messages in a stream of Content-Length frames."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = _content_length(head)
        out.append(json.loads(rest[:length]))
        data = rest[length:]
    return out


def test_stdin_from_a_file_is_served_too(tmp_path: Path, mock: MockCodestral) -> None:
    """A regular file on stdin cannot be watched by the event loop: pygls's reader takes it."""
    session = tmp_path / "session.lsp"
    init = {"capabilities": {}, "initializationOptions": {"endpoint": mock.url}}
    session.write_bytes(
        _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        + _frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        + _frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        + _frame({"jsonrpc": "2.0", "method": "exit"})
    )
    with session.open("rb") as stdin:
        result = run(env=server_env(MISTRAL_API_KEY=API_KEY), stdin=stdin)
    replies = {m["id"]: m for m in _messages(result.stdout) if "id" in m}
    assert replies[1]["result"]["serverInfo"]["name"] == "fim-lsp"  # type: ignore[index]
    assert replies[2]["result"] is None

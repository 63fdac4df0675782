"""Bad framing on stdin: the server finds the next frame, or exits at once with code 1."""

from __future__ import annotations

import json
import time
from typing import Any

from lsp_support import API_KEY, server_env
from raw_lsp import RawServer, frame

PROBE = {
    "textDocument": {"uri": "file:///never-opened.py"},
    "position": {"line": 0, "character": 0},
    "context": {"triggerKind": 1},
}


def body(msg_id: Any) -> bytes:
    """A good inlineCompletion request's JSON."""
    message = {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": "textDocument/inlineCompletion",
        "params": PROBE,
    }
    return json.dumps(message).encode()


def request(msg_id: Any) -> bytes:
    """A good inlineCompletion request, framed."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body(msg_id)), body(msg_id))


BAD: dict[str, bytes] = {
    "non-numeric length": b"Content-Length: abc\r\n\r\n" + body("lost"),
    "negative length": b"Content-Length: -5\r\n\r\n" + body("lost"),
    "length with a sign": b"Content-Length: +12\r\n\r\n" + body("lost"),
    "no header at all": body("lost"),
    "garbage between frames": b"\x00\xff garbage, no newline",
    "garbage lines": b"hello\r\nworld\r\n\r\n\r\n",
    "a header line without a colon": b"Content-Length: 12\r\nnonsense\r\n\r\n" + body("lost"),
    "two different lengths": b"Content-Length: 12\r\nContent-Length: 13\r\n\r\n" + body("lost"),
    "length too small": b"Content-Length: 20\r\n\r\n" + body("lost"),
    "length zero": b"Content-Length: 0\r\n\r\n" + body("lost"),
    "body not JSON": b"Content-Length: 9\r\n\r\nnot json!",
    "body not UTF-8": b"Content-Length: 4\r\n\r\n\xff\xfe\xfd\xfc",
    "body a JSON array": b"Content-Length: 2\r\n\r\n[]",
    "header never ends": b"Content-Length: 5" + b"x" * 5000,
    "LF-only header (accepted)": b"Content-Length: %d\n\n%s" % (len(body("lf")), body("lf")),
}


def test_after_every_framing_error_the_next_frame_is_served() -> None:
    with RawServer(env=server_env(MISTRAL_API_KEY=API_KEY)) as server:
        server.initialize({"endpoint": "http://127.0.0.1:9"})
        for n, (name, bad) in enumerate(BAD.items()):
            server.send_bytes(bad + request(f"after-{n}"))
            answer = server.response(f"after-{n}", timeout=10)
            assert answer.get("result") == {"items": []}, (name, answer)
            assert server.proc.poll() is None, name
        assert server.response("lf")["result"] == {"items": []}
        assert "lost" not in server.responses
        # A header split across writes, and one frame split byte by byte, still parse.
        for byte in request("slow"):
            server.send_bytes(bytes([byte]))
        assert server.response("slow")["result"] == {"items": []}
        assert server.stdout_error is None
        assert "result" in server.call("shutdown")
        server.notify("exit")
        assert server.wait(10) == 0
    log = server.stderr_text()
    assert "Traceback" not in log
    assert "stdin:" in log  # each kind of framing problem is told (once)


def test_a_length_too_large_is_recovered_without_waiting_for_the_missing_bytes() -> None:
    """The announced body runs into the next frame's header: both messages are served."""
    with RawServer(env=server_env(MISTRAL_API_KEY=API_KEY)) as server:
        server.initialize({"endpoint": "http://127.0.0.1:9"})
        first = body("first")
        server.send_bytes(b"Content-Length: %d\r\n\r\n%s" % (len(first) + 500, first))
        server.send_bytes(request("second"))
        started = time.monotonic()
        assert server.response("second", timeout=5)["result"] == {"items": []}
        assert server.response("first", timeout=5)["result"] == {"items": []}
        assert time.monotonic() - started < 3


def test_an_impossible_length_ends_the_process_at_once_with_code_1() -> None:
    """Skipping 100 GB would be a guess: exit non-zero so that the editor restarts the server."""
    with RawServer(env=server_env(MISTRAL_API_KEY=API_KEY)) as server:
        server.initialize({"endpoint": "http://127.0.0.1:9"})
        started = time.monotonic()
        server.send_bytes(b"Content-Length: 100000000000\r\n\r\n{")
        assert server.wait(5) == 1
        assert time.monotonic() - started < 3
    log = server.stderr_text()
    assert "100000000000 bytes" in log and "exiting (code 1)" in log
    assert "Traceback" not in log


def test_frames_written_by_the_server_stay_valid() -> None:
    """A sanity check of the client's own framing helper used above."""
    assert frame({"a": 1}) == b'Content-Length: 7\r\n\r\n{"a":1}'

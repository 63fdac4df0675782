"""A mock Codestral FIM server on 127.0.0.1: real HTTP/1.1, the documented SSE format, latency and misbehaviour on demand.

Used by the tests, the benchmark, the quality evaluation and the editor tests. Standard library only.

In-process::

    with MockCodestral(responder=lambda body: Reply(text="add(a, b)")) as mock:
        ...  # point fim-lsp at mock.url
        assert mock.requests[0].body["prompt"].endswith("def ")

From a shell (prints ``listening on http://127.0.0.1:PORT`` on stdout)::

    python scripts/mock_codestral.py --port 0 --text 'return a + b' --ttft-ms 50 --log requests.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIM_PATH = "/v1/fim/completions"
ALLOWED_FIELDS = {
    "model",
    "prompt",
    "suffix",
    "temperature",
    "top_p",
    "max_tokens",
    "min_tokens",
    "stream",
    "stop",
    "random_seed",
    "metadata",
    "prompt_cache_key",
}

# What a reply does after its headers: a normal stream, or one of the ways real servers fail.
MODES = ("ok", "hang", "hang_mid", "break", "malformed")


@dataclass
class Reply:
    """What the mock answers to one request."""

    text: str = ""
    status: int = 200
    # Raw error body; by default a body shaped like the real API's for that status.
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # None: the server's defaults.
    ttft: float | None = None
    token_delay: float | None = None
    chunk_chars: int = 4
    # ok: stream it all; hang: headers, then nothing; hang_mid: first chunk, then nothing;
    # break: first chunk, then close the connection; malformed: a bad JSON event, then the rest.
    mode: str = "ok"
    finish_reason: str = "stop"
    bom: bool = False
    keepalive: bool = False
    # Seconds between the event carrying finish_reason and `[DONE]` (a slow end of stream).
    done_delay: float = 0.0


@dataclass
class RecordedRequest:
    """One request as the mock saw it, and what became of it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    started: float
    chunks_sent: int = 0
    completed: bool = False
    disconnected: bool = False
    # When the event carrying finish_reason was written: the model's answer is complete.
    answered: float | None = None
    finished: float | None = None
    # When each token event was written.
    token_times: list[float] = field(default_factory=list)

    @property
    def tokens_sent(self) -> int:
        """How many token events were written."""
        return len(self.token_times)


Responder = Callable[[dict[str, Any]], Reply]

_ERROR_BODIES: dict[int, dict[str, Any]] = {
    401: {"message": "Unauthorized", "request_id": "req-mock-401"},
    403: {"message": "Forbidden", "request_id": "req-mock-403"},
    404: {"object": "error", "message": "Model not found", "type": "invalid_request_error"},
    429: {"message": "Requests rate limit exceeded"},
    500: {"object": "error", "message": "Internal server error", "type": "server_error"},
    503: {"object": "error", "message": "Service unavailable", "type": "server_error"},
}

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def chunk_text(text: str, size: int) -> list[str]:
    """Split a reply into stream deltas of about `size` characters (a token is about 4)."""
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


class MockCodestral:
    """The mock server, run on its own thread and event loop."""

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        text: str = "",
        ttft: float = 0.0,
        token_delay: float = 0.0,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log_path: Path | None = None,
    ) -> None:
        self.responder: Responder = responder or (lambda _body: Reply(text=text))
        self.ttft = ttft
        self.token_delay = token_delay
        self.api_key = api_key
        self.host = host
        self.port = port
        self.log_path = log_path
        self.requests: list[RecordedRequest] = []
        # What GET /v1/models lists.
        self.models = ["codestral-latest", "codestral-2508"]
        self.connections = 0
        self.heads = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL to give fim-lsp as its `endpoint`."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> MockCodestral:
        """Start serving on a background thread; returns once the port is bound."""
        self._thread = threading.Thread(target=self._run, name="mock-codestral", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("mock Codestral server did not start")
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> MockCodestral:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(
            asyncio.start_server(self._handle_connection, self.host, self.port)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    # -- helpers for tests -----------------------------------------------------------------

    def reset(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll until `predicate()` holds; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return predicate()

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least `n` requests have arrived."""
        return self.wait_for(lambda: len(self.requests) >= n, timeout)

    # -- HTTP ------------------------------------------------------------------------------

    async def _handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                # The model's time starts when the request reaches it; parsing it here (slower
                # than a real server would) is the mock's own time, not the client's.
                arrived = time.monotonic()
                method, path, _version = request_line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(length) if length else b""
                keep_open = await self._respond(method, path, headers, raw, reader, writer, arrived)
                if not keep_open:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        raw: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        arrived: float,
    ) -> bool:
        if method == "HEAD":
            # Headers only: a body here would corrupt the kept-alive connection.
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            self.heads += 1
            return True
        if method == "GET" and path in ("/", "/health", "/healthz"):
            await self._send_json(writer, 200, {"status": "ok"})
            return True
        if method == "GET" and path.split("?")[0] == "/v1/models":
            # As the API lists models: the key is checked first.
            if (
                self.api_key is not None
                and headers.get("authorization") != f"Bearer {self.api_key}"
            ):
                await self._send_json(writer, 401, _ERROR_BODIES[401])
            else:
                data = [
                    {"id": m, "object": "model", "aliases": [], "capabilities": {"fim": True}}
                    for m in self.models
                ]
                await self._send_json(writer, 200, {"object": "list", "data": data})
            return True
        if method != "POST" or path.split("?")[0] != FIM_PATH:
            await self._send_json(writer, 404, {"detail": "Not Found"})
            return True
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("body is not an object")
        except ValueError:
            await self._send_json(writer, 400, {"message": "Invalid JSON body"})
            return True
        record = RecordedRequest(path=path, headers=headers, body=body, started=arrived)
        with self._lock:
            self.requests.append(record)
        self._log(record)

        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            await self._send_json(writer, 401, _ERROR_BODIES[401])
            record.completed = True
            return True
        problems = validate_body(body)
        if problems:
            await self._send_json(writer, 422, {"detail": problems})
            record.completed = True
            return True

        reply = self.responder(body)
        ttft = self.ttft if reply.ttft is None else reply.ttft
        token_delay = self.token_delay if reply.token_delay is None else reply.token_delay

        if reply.status != 200:
            await asyncio.sleep(ttft)
            payload = reply.body
            if payload is None:
                payload = json.dumps(
                    _ERROR_BODIES.get(reply.status, {"message": f"error {reply.status}"})
                ).encode()
            await self._send_raw(writer, reply.status, payload, "application/json", reply.headers)
            record.completed = True
            return True

        if not body.get("stream"):
            await asyncio.sleep(ttft + token_delay * len(chunk_text(reply.text, reply.chunk_chars)))
            await self._send_json(
                writer, 200, completion_body(body, reply.text, reply.finish_reason)
            )
            record.completed = True
            return True
        return await self._stream(body, reply, ttft, token_delay, record, reader, writer)

    async def _stream(
        self,
        body: dict[str, Any],
        reply: Reply,
        ttft: float,
        token_delay: float,
        record: RecordedRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        head = (
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/event-stream\r\n"
            "Cache-Control: no-cache\r\n"
            "Transfer-Encoding: chunked\r\n"
            f"x-request-id: req-{uuid.uuid4().hex[:12]}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items())
            + "\r\n"
        )
        writer.write(head.encode())
        await writer.drain()

        # The client closing the connection mid-stream is how it stops generation: notice it.
        eof = asyncio.ensure_future(reader.read(1))
        try:

            async def pause(seconds: float) -> bool:
                """Sleep; False if the client went away meanwhile."""
                if seconds > 0:
                    done, _ = await asyncio.wait({eof}, timeout=seconds)
                    if done:
                        record.disconnected = True
                        return False
                elif eof.done():
                    record.disconnected = True
                    return False
                return True

            async def send(data: bytes) -> bool:
                if eof.done():
                    record.disconnected = True
                    return False
                writer.write(b"%x\r\n%s\r\n" % (len(data), data))
                try:
                    await writer.drain()
                except ConnectionError:
                    record.disconnected = True
                    return False
                record.chunks_sent += 1
                return True

            if not await pause(ttft):
                return False
            if reply.mode == "hang":
                await pause(3600)
                return False

            events = stream_events(body, reply.text, reply.chunk_chars, reply.finish_reason)
            for i, event in enumerate(events):
                data = event
                if i == 0 and reply.bom:
                    data = "\ufeff" + data
                if reply.keepalive and i == 1:
                    data = ": keep-alive\n\n\n" + data
                if reply.mode == "malformed" and i == 1:
                    data = 'data: {"id": "broken", "choices": [{"delta": {"content": \n\n'
                if not await send(data.encode()):
                    return False
                if i > 0 and event.startswith("data: {"):
                    record.token_times.append(time.monotonic())
                if i >= 1 and reply.mode == "break":
                    writer.transport.abort()
                    record.finished = time.monotonic()
                    return False
                if i >= 1 and reply.mode == "hang_mid":
                    await pause(3600)
                    return False
                if i == len(events) - 2:
                    # The last token: [DONE] and the body's end follow at once, as from the API
                    # (unless the reply asks for a slow end).
                    record.answered = time.monotonic()
                    if reply.done_delay and not await pause(reply.done_delay):
                        return False
                elif i >= 1 and token_delay and not await pause(token_delay):
                    return False
            if not await send(b""):
                return False
            record.completed = True
            record.finished = time.monotonic()
            return True
        finally:
            if not eof.done():
                eof.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await eof
            if record.finished is None:
                record.finished = time.monotonic()

    async def _send_json(self, writer: asyncio.StreamWriter, status: int, obj: Any) -> None:
        await self._send_raw(writer, status, json.dumps(obj).encode(), "application/json", {})

    async def _send_raw(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        payload: bytes,
        content_type: str,
        extra: dict[str, str],
    ) -> None:
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(payload)}\r\n"
            f"x-request-id: req-{uuid.uuid4().hex[:12]}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in extra.items())
            + "\r\n"
        )
        writer.write(head.encode() + payload)
        await writer.drain()

    def _log(self, record: RecordedRequest) -> None:
        if self.log_path is None:
            return
        with self.log_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"path": record.path, "body": record.body}) + "\n")


def validate_body(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Check a request body as the real API does (422 on unknown or missing fields)."""
    problems: list[dict[str, Any]] = []
    for key in body:
        if key not in ALLOWED_FIELDS:
            problems.append(
                {
                    "loc": ["body", key],
                    "msg": "Extra inputs are not permitted",
                    "type": "extra_forbidden",
                }
            )
    for key in ("model", "prompt"):
        if not isinstance(body.get(key), str):
            problems.append({"loc": ["body", key], "msg": "Field required", "type": "missing"})
    return problems


def _chunk_json(body: dict[str, Any], cid: str, delta: dict[str, str], finish: str | None) -> str:
    obj: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "codestral-latest"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if finish is not None:
        obj["usage"] = {
            "prompt_tokens": len(body.get("prompt", "")) // 4,
            "completion_tokens": 1,
            "total_tokens": 1,
        }
    return "data: " + json.dumps(obj) + "\n\n"


def stream_events(
    body: dict[str, Any], text: str, chunk_chars: int, finish_reason: str
) -> list[str]:
    """The SSE events for one streamed answer, exactly as Codestral sends them."""
    cid = uuid.uuid4().hex
    events = [_chunk_json(body, cid, {"role": "assistant", "content": ""}, None)]
    pieces = chunk_text(text, chunk_chars) or [""]
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        events.append(_chunk_json(body, cid, {"content": piece}, finish_reason if last else None))
    events.append("data: [DONE]\n\n")
    return events


def completion_body(body: dict[str, Any], text: str, finish_reason: str) -> dict[str, Any]:
    """The JSON answer to a request with `stream: false`."""
    return {
        "id": uuid.uuid4().hex,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "codestral-latest"),
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the mock from a shell until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--text", default="", help="the middle text every request gets")
    parser.add_argument("--ttft-ms", type=float, default=0.0, help="time to first token")
    parser.add_argument("--token-ms", type=float, default=0.0, help="delay between tokens")
    parser.add_argument("--api-key", default=None, help="answer 401 unless this key is sent")
    parser.add_argument("--log", type=Path, default=None, help="append each request as a JSON line")
    parser.add_argument("--port-file", type=Path, default=None, help="write the bound port here")
    args = parser.parse_args(argv)
    mock = MockCodestral(
        text=args.text,
        ttft=args.ttft_ms / 1000,
        token_delay=args.token_ms / 1000,
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        log_path=args.log,
    ).start()
    if args.port_file:
        args.port_file.write_text(str(mock.port))
    sys.stdout.write(f"listening on {mock.url}\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        mock.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

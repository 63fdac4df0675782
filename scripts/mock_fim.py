"""Mock self-hosted FIM servers on 127.0.0.1: Ollama, llama.cpp's server, OpenAI-style and vLLM.

Each speaks its dialect as documented: Ollama's `/api/generate` (NDJSON, last line
`done: true`; 404 for an unknown model, 400 "does not support insert"), llama.cpp's `/infill`
(SSE, last event `stop: true`, no `[DONE]`; 503 while loading), `/v1/completions` with `suffix`
(SSE `choices[0].text`, `[DONE]`), and a vLLM that rejects `suffix` with 400 and serves one
model name. Real HTTP/1.1 with keep-alive and chunked streams. Standard library only.

In-process::

    with MockFim("ollama", reply=lambda body: "a + b") as mock:
        ...  # point fim-lsp at mock.url with backend "ollama"

From a shell (prints ``listening on http://127.0.0.1:PORT``)::

    python scripts/mock_fim.py ollama --port 0 --text 'return a + b'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DIALECTS = ("ollama", "llamacpp", "openai", "vllm")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    503: "Service Unavailable",
}


@dataclass
class Seen:
    """One request as the mock saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    # The request line's target as sent: absolute (http://host/path) when this mock is a proxy.
    target: str = ""


class MockFim:
    """One mock server of a dialect, on its own thread and event loop."""

    def __init__(
        self,
        dialect: str,
        *,
        reply: Callable[[dict[str, Any]], str] | None = None,
        models: tuple[str, ...] = (),
        no_insert: tuple[str, ...] = (),
        loading_for: float = 0.0,
        loading_requests: int = 0,
        api_key: str | None = None,
        chunk_chars: int = 3,
        token_delay: float = 0.0,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {DIALECTS}")
        self.dialect = dialect
        self.reply: Callable[[dict[str, Any]], str] = reply or (lambda _body: "")
        defaults = {
            "ollama": ("qwen2.5-coder:1.5b-base", "deepseek-coder:latest"),
            "llamacpp": ("qwen2.5-coder-1.5b-q8_0.gguf",),
            "openai": ("deepseek-coder",),
            "vllm": ("Qwen/Qwen2.5-Coder-1.5B",),
        }
        self.models = models or defaults[dialect]
        # Ollama models whose template has no insert (suffix) support.
        self.no_insert = no_insert or (("deepseek-coder:latest",) if dialect == "ollama" else ())
        # llama.cpp: 503 "Loading model" for this long, or for this many FIM requests.
        self.loading_until = time.monotonic() + loading_for
        self.loading_requests = loading_requests
        self.api_key = api_key
        self.chunk_chars = chunk_chars
        self.token_delay = token_delay
        self.seen: list[Seen] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        """The base URL to give fim-lsp as its endpoint."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def generations(self) -> list[Seen]:
        """The FIM requests (not the health and model-list ones)."""
        return [s for s in self.seen if s.method == "POST"]

    def start(self) -> MockFim:
        """Serve on a background thread; returns once the port is bound."""
        self._thread = threading.Thread(target=self._run, name=f"mock-{self.dialect}", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("mock server did not start")
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> MockFim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        server = loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    # -- HTTP ------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                # As an HTTP proxy the request line holds the whole URL: serve its path.
                path = urlsplit(target).path if "://" in target else target.split("?")[0]
                self.seen.append(Seen(method, path, headers, body, target))
                await self._route(method, path, headers, body, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _send(
        self, writer: asyncio.StreamWriter, status: int, obj: Any, *, head: bool = False
    ) -> None:
        data = json.dumps(obj).encode()
        writer.write(
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
            + (b"" if head else data)
        )
        await writer.drain()

    async def _stream(
        self, writer: asyncio.StreamWriter, content_type: str, items: list[bytes]
    ) -> None:
        writer.write(
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        for item in items:
            writer.write(b"%x\r\n%s\r\n" % (len(item), item))
            await writer.drain()
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    def _pieces(self, text: str) -> list[str]:
        n = max(1, self.chunk_chars)
        return [text[i : i + n] for i in range(0, len(text), n)] or [""]

    def _authorized(self, headers: dict[str, str]) -> bool:
        return self.api_key is None or headers.get("authorization") == f"Bearer {self.api_key}"

    async def _route(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any,
        writer: asyncio.StreamWriter,
    ) -> None:
        if method == "HEAD":
            await self._send(writer, 200, {}, head=True)
            return
        handler = {
            "ollama": self._ollama,
            "llamacpp": self._llamacpp,
            "openai": self._openai,
            "vllm": self._openai,
        }[self.dialect]
        await handler(method, path, headers, body, writer)

    # -- Ollama ----------------------------------------------------------------------------

    async def _ollama(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any,
        writer: asyncio.StreamWriter,
    ) -> None:
        if method == "GET" and path == "/api/tags":
            models = [{"name": m, "model": m, "size": 1, "digest": "0"} for m in self.models]
            await self._send(writer, 200, {"models": models})
            return
        if method != "POST" or path != "/api/generate":
            await self._send(writer, 404, {"error": "404 page not found"})
            return
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            await self._send(writer, 400, {"error": "model is required"})
            return
        model = body["model"]
        full = model if ":" in model else model + ":latest"
        if full not in self.models:
            await self._send(
                writer, 404, {"error": f'model "{model}" not found, try pulling it first'}
            )
            return
        if body.get("suffix") and full in self.no_insert:
            await self._send(
                writer, 400, {"error": f"registry.ollama.ai/library/{full} does not support insert"}
            )
            return
        text = self.reply(body)
        stamp = "2024-06-22T10:00:00.000000Z"
        if body.get("stream", True) is False:
            await self._send(
                writer,
                200,
                {
                    "model": model,
                    "created_at": stamp,
                    "response": text,
                    "done": True,
                    "done_reason": "stop",
                },
            )
            return
        lines = [
            json.dumps({"model": model, "created_at": stamp, "response": p, "done": False}).encode()
            + b"\n"
            for p in self._pieces(text)
        ]
        last = {
            "model": model,
            "created_at": stamp,
            "response": "",
            "done": True,
            "done_reason": "stop",
            "total_duration": 1,
            "eval_count": len(lines),
        }
        await self._stream(
            writer, "application/x-ndjson", [*lines, json.dumps(last).encode() + b"\n"]
        )

    # -- llama.cpp -------------------------------------------------------------------------

    async def _llamacpp(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any,
        writer: asyncio.StreamWriter,
    ) -> None:
        loading = time.monotonic() < self.loading_until
        unavailable = {
            "error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}
        }
        if method == "GET" and path == "/health":
            if loading:
                await self._send(writer, 503, unavailable)
            else:
                await self._send(writer, 200, {"status": "ok"})
            return
        if method == "GET" and path == "/props":
            await self._send(
                writer, 200, {"model_path": f"/models/{self.models[0]}", "total_slots": 1}
            )
            return
        if method != "POST" or path != "/infill":
            await self._send(
                writer,
                404,
                {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}},
            )
            return
        if loading or self.loading_requests > 0:
            self.loading_requests -= 1
            await self._send(writer, 503, unavailable)
            return
        if not isinstance(body, dict) or "input_prefix" not in body:
            await self._send(
                writer,
                400,
                {
                    "error": {
                        "code": 400,
                        "message": '"input_prefix" is required',
                        "type": "invalid_request_error",
                    }
                },
            )
            return
        text = self.reply(body)
        if body.get("stream") is not True:
            await self._send(writer, 200, {"content": text, "stop": True, "stop_type": "eos"})
            return
        events = [
            b"data: " + json.dumps({"index": 0, "content": p, "stop": False}).encode() + b"\n\n"
            for p in self._pieces(text)
        ]
        final = {
            "index": 0,
            "content": "",
            "stop": True,
            "stop_type": "eos",
            "tokens_cached": 10,
            "truncated": False,
            "timings": {"predicted_n": len(events)},
        }
        # llama.cpp ends the stream with the stop event: no [DONE].
        await self._stream(
            writer, "text/event-stream", [*events, b"data: " + json.dumps(final).encode() + b"\n\n"]
        )

    # -- OpenAI-style and vLLM -------------------------------------------------------------

    async def _openai(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any,
        writer: asyncio.StreamWriter,
    ) -> None:
        vllm = self.dialect == "vllm"
        if not self._authorized(headers):
            await self._send(
                writer,
                401,
                {
                    "error": {
                        "message": "Incorrect API key provided",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
            )
            return
        if method == "GET" and path == "/v1/models":
            data = [
                {"id": m, "object": "model", "owned_by": "vllm" if vllm else "me"}
                for m in self.models
            ]
            await self._send(writer, 200, {"object": "list", "data": data})
            return
        if method != "POST" or path != "/v1/completions":
            await self._send(writer, 404, {"detail": "Not Found"})
            return
        if not isinstance(body, dict) or not isinstance(body.get("prompt"), str):
            await self._send(writer, 400, _vllm_error("prompt is required", 400))
            return
        if vllm and body.get("suffix") is not None:
            await self._send(writer, 400, _vllm_error("suffix is not currently supported", 400))
            return
        model = body.get("model", self.models[0])
        if model not in self.models:
            message = f"The model `{model}` does not exist."
            await self._send(writer, 404, _vllm_error(message, 404, "NotFoundError"))
            return
        text = self.reply(body)
        base = {"id": "cmpl-mock", "object": "text_completion", "created": 0, "model": model}
        if not body.get("stream"):
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}
            await self._send(writer, 200, {**base, "choices": [choice]})
            return
        pieces = self._pieces(text)
        events = []
        for i, p in enumerate(pieces):
            finish = "stop" if i == len(pieces) - 1 else None
            choice = {"index": 0, "text": p, "logprobs": None, "finish_reason": finish}
            events.append(b"data: " + json.dumps({**base, "choices": [choice]}).encode() + b"\n\n")
        await self._stream(writer, "text/event-stream", [*events, b"data: [DONE]\n\n"])


def _vllm_error(message: str, code: int, kind: str = "BadRequestError") -> dict[str, Any]:
    return {"object": "error", "message": message, "type": kind, "param": None, "code": code}


def main(argv: list[str] | None = None) -> int:
    """Run one mock server until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dialect", choices=DIALECTS)
    parser.add_argument("--text", default="a + b", help="what every completion answers")
    parser.add_argument("--loading-s", type=float, default=0.0, help="llamacpp: 503 for this long")
    args = parser.parse_args(argv)
    mock = MockFim(args.dialect, reply=lambda _body: args.text, loading_for=args.loading_s).start()
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

"""End to end against a TLS model endpoint that offers HTTP/2 (ALPN h2 and http/1.1).

The endpoint is hypercorn serving a small Codestral-like ASGI app on https://127.0.0.1 with a
certificate from a throwaway CA, which the server process trusts through SSL_CERT_FILE.

fim-lsp speaks HTTP/2 where it is offered, and resets each stream it stops early
(fim_lsp/backends/h2reset.py; httpcore alone does not): the endpoint sees the stream end at
once, so the model stops generating, the connection stays for the next call, and the stopped
streams' bytes return to the connection's flow-control window, so it never stalls.

Needs hypercorn (in the `test` extras) and the openssl command. Without them the tests skip,
unless CI is set, where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lsp_support import API_KEY, Editor, until
from mock_codestral import stream_events
from pygls.exceptions import JsonRpcRequestCancelled

try:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config
except ImportError:  # pragma: no cover - the skip (or CI failure) below says what is missing
    serve = None

FIM_PATH = "/v1/fim/completions"
SOURCE = "def add(a, b):\n    return \n\n\nprint(add(1, 2))\n"
CURSOR = len("def add(a, b):\n    return ")


def require(missing: str) -> None:
    """Skip on a developer machine without the tools; fail under CI (as tests/editors do)."""
    if os.environ.get("CI"):
        pytest.fail(missing)
    pytest.skip(missing)


# --- A throwaway CA and a certificate for 127.0.0.1 ---------------------------------------------

OPENSSL_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = fim-lsp test CA
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


@dataclass
class Certs:
    ca: Path
    cert: Path
    key: Path


def make_certs(folder: Path) -> Certs:
    """A CA (what the client trusts) and a server certificate for IP 127.0.0.1 signed by it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        require("the openssl command is not installed")
    assert openssl is not None
    cnf = folder / "openssl.cnf"
    cnf.write_text(OPENSSL_CNF)
    ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    for command in (
        f"req -x509 -config openssl.cnf -extensions ca_ext {ec} -days 2 -keyout ca.key -out ca.pem",
        f"req -new -config openssl.cnf -subj /CN=127.0.0.1 {ec} -keyout server.key -out server.csr",
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2"
        " -extfile openssl.cnf -extensions leaf_ext -out server.pem",
    ):
        args = [openssl, *command.split()]
        subprocess.run(args, cwd=folder, check=True, capture_output=True, timeout=30)
    return Certs(ca=folder / "ca.pem", cert=folder / "server.pem", key=folder / "server.key")


# --- The endpoint: hypercorn (TLS, ALPN h2 and http/1.1) serving a Codestral-like ASGI app -----


@dataclass
class Seen:
    """One request as the endpoint saw it, and what became of it."""

    method: str
    path: str
    http_version: str
    # The peer address: one per TCP (and so TLS) connection.
    client: tuple[str, int]
    body: dict[str, Any] = field(default_factory=dict)
    chunks_sent: int = 0
    # The client went away before the end of the stream.
    disconnected: bool = False
    completed: bool = False


@dataclass
class Stream:
    """What the endpoint streams: `text` in chunks of `chunk_chars`, with delays in seconds."""

    text: str = "a + b"
    chunk_chars: int = 5
    ttft: float = 0.0
    token_delay: float = 0.0


class H2Codestral:
    """The documented Codestral FIM stream, served by hypercorn on https://127.0.0.1 in a thread."""

    def __init__(self, certs: Certs) -> None:
        self.certs = certs
        self.stream = Stream()
        self.requests: list[Seen] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="h2-codestral", daemon=True)
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def fim(self) -> list[Seen]:
        return [r for r in self.requests if r.path == FIM_PATH]

    def start(self) -> H2Codestral:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        self.port = sock.getsockname()[1]
        config = Config()
        # hypercorn takes the socket over (and closes it at shutdown).
        config.bind = [f"fd://{sock.detach()}"]
        config.certfile = str(self.certs.cert)
        config.keyfile = str(self.certs.key)
        config.alpn_protocols = ["h2", "http/1.1"]
        config.keep_alive_timeout = 60
        config.graceful_timeout = 0.5
        config.accesslog = None
        config.errorlog = None
        self._config = config
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"hypercorn did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "hypercorn did not stop"

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            await serve(self.app, self._config, shutdown_trigger=self._stop.wait)  # type: ignore[arg-type]

        try:
            asyncio.run(main())
        except BaseException as err:
            self._error = err
            self._ready.set()
            raise

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        client = scope.get("client") or ("", 0)
        seen = Seen(
            method=scope["method"],
            path=scope["path"],
            http_version=scope["http_version"],
            client=(client[0], client[1]),
        )
        self.requests.append(seen)
        if scope["path"] == "/" and scope["method"] in ("HEAD", "GET"):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["path"] != FIM_PATH or scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        seen.body = json.loads(raw)
        await self._stream(seen, receive, send)

    async def _stream(self, seen: Seen, receive: Any, send: Any) -> None:
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        async def pause(seconds: float) -> bool:
            """Wait; True when the client went away meanwhile."""
            if seconds > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(gone.wait(), seconds)
            return gone.is_set()

        async def body(data: bytes, more: bool = True) -> bool:
            if gone.is_set():
                return False
            await send({"type": "http.response.body", "body": data, "more_body": more})
            return True

        plan = self.stream
        watcher = asyncio.ensure_future(watch())
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/event-stream"),
                        (b"cache-control", b"no-cache"),
                    ],
                }
            )
            # The documented stream (role, content, finish_reason, [DONE]), as the mock sends it.
            events = stream_events(seen.body, plan.text, plan.chunk_chars, "stop")
            last = len(events) - 1
            for n, event in enumerate(events):
                delay = plan.ttft if n == 0 else plan.token_delay if n < last else 0.0
                if await pause(delay) or not await body(event.encode(), more=n < last):
                    break
                seen.chunks_sent += 1
            else:
                seen.completed = True
        finally:
            watcher.cancel()
            seen.disconnected = gone.is_set() and not seen.completed


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def h2(certs: Certs) -> Iterator[H2Codestral]:
    """The endpoint. Tests list it before `start_server`, so fim-lsp is shut down first."""
    if serve is None:
        require("hypercorn is not installed (pip install -e '.[test]')")
    endpoint = H2Codestral(certs).start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
def tls_env(certs: Certs) -> dict[str, str]:
    """The server process trusts the test CA, and reaches 127.0.0.1 without any proxy."""
    no_proxy = ",".join(p for p in (os.environ.get("NO_PROXY"), "127.0.0.1", "localhost") if p)
    return {
        "MISTRAL_API_KEY": API_KEY,
        "SSL_CERT_FILE": str(certs.ca),
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    }


async def open_editor(
    h2: H2Codestral, start_server, tls_env: dict[str, str], text: str = SOURCE
) -> Editor:
    client = await start_server({"endpoint": h2.url, "debounceMs": 0}, env=tls_env)
    editor = Editor(client, text)
    # fim-lsp warms the connection with a HEAD at start: wait for it, so the connection that
    # every later request should reuse is open before the first suggestion is asked for.
    await until(lambda: any(r.method == "HEAD" for r in h2.requests))
    return editor


async def cancel_a_streaming_request(h2: H2Codestral, ed: Editor) -> Seen:
    """Ask at CURSOR, cancel ($/cancelRequest) once the stream is under way, wait out the grace."""
    msg_id = str(uuid.uuid4())
    future = ed.request(CURSOR, msg_id=msg_id)
    await until(lambda: bool(h2.fim()) and h2.fim()[0].chunks_sent >= 2)
    ed.cancel(msg_id)
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(future, 5)
    # fim-lsp keeps a cancelled stream 200 ms for a request to adopt it, then closes it.
    await asyncio.sleep(0.4)
    return h2.fim()[0]


def connections(h2: H2Codestral) -> set[tuple[str, int]]:
    return {r.client for r in h2.requests}


async def test_h2_where_the_endpoint_offers_it(h2, start_server, tls_env):
    ed = await open_editor(h2, start_server, tls_env)
    items = await ed.complete(CURSOR)
    assert [i.insert_text for i in items] == ["a + b"]
    [fim] = h2.fim()
    assert fim.body["prompt"] == SOURCE[:CURSOR]
    # The answer comes at finish_reason; the stream's end ([DONE]) follows.
    await until(lambda: fim.completed)
    # The warm-up HEAD and the completion: HTTP/2 over TLS, one connection.
    assert [(r.method, r.http_version) for r in h2.requests] == [("HEAD", "2"), ("POST", "2")]
    assert len(connections(h2)) == 1
    assert [i.insert_text for i in await ed.complete(CURSOR - 1)] == ["a + b"]
    assert len(connections(h2)) == 1


async def test_a_cancelled_stream_is_reset_and_the_connection_kept(h2, start_server, tls_env):
    h2.stream = Stream(text="x" * 400, chunk_chars=2, ttft=0.05, token_delay=0.05)
    ed = await open_editor(h2, start_server, tls_env)
    slow = await cancel_a_streaming_request(h2, ed)
    # The endpoint sees the stream end, so the model stops generating.
    await until(lambda: slow.disconnected, 1)
    sent = slow.chunks_sent
    await asyncio.sleep(0.2)
    assert slow.chunks_sent == sent and not slow.completed
    # The next call goes over the same connection: no new handshake.
    h2.stream = Stream(text="a + b")
    assert [i.insert_text for i in await ed.complete(CURSOR - 1)] == ["a + b"]
    assert len(connections(h2)) == 1
    assert [r.method for r in h2.requests].count("HEAD") == 1


async def test_a_superseded_stream_is_reset(h2, start_server, tls_env):
    h2.stream = Stream(text="a + b + c + d", chunk_chars=2, ttft=0.05, token_delay=0.2)
    ed = await open_editor(h2, start_server, tls_env, text="def add(a, b):\n    \n")
    offset = ed.type(len("def add(a, b):\n    "), "r")
    first = ed.request(offset)
    await until(lambda: bool(h2.fim()) and h2.fim()[0].chunks_sent >= 2)
    # "e" disagrees with the "a + " already streamed: the stream is dropped at once.
    h2.stream = Stream(text="turn a + b")
    offset = ed.type(offset, "e")
    second = ed.request(offset)
    assert list((await asyncio.wait_for(first, 5)).items) == []
    items = (await asyncio.wait_for(second, 5)).items
    assert [i.insert_text for i in items] == ["turn a + b"]
    old, new = h2.fim()
    assert new.body["prompt"].endswith("re")
    await until(lambda: old.disconnected, 1)
    assert not old.completed
    assert len(connections(h2)) == 1


async def test_streams_stopped_early_do_not_stall_the_connection(h2, start_server, tls_env):
    # Each answer's first line comes with a megabyte more: with the cursor mid-line only that
    # line is wanted, so fim-lsp stops the stream after its first event, with the rest in
    # flight. Twenty such streams send more than the connection's 16 MiB window: had their
    # bytes not been acknowledged, the connection would stall before the end.
    h2.stream = Stream(text="1, 2\n" + "x" * (1 << 20), chunk_chars=1 << 16)
    line = "x = foo(bar)\n"
    ed = await open_editor(h2, start_server, tls_env, text=line * 20)
    for n in range(20):
        # A new line each time, so no answer comes from the cache.
        cursor = n * len(line) + len("x = ")
        items = await asyncio.wait_for(ed.complete(cursor), 10)
        assert [i.insert_text for i in items] == ["1, 2"], n
    assert len(h2.fim()) == 20
    assert len(connections(h2)) == 1

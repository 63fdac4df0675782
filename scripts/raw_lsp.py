"""A raw LSP client over the real server's stdio: writes Content-Length frames, reads frames back.

Unlike pytest-lsp's client it sends anything at all (malformed frames, bad params, odd ids), so the
protocol fuzzer, the framing and lifecycle tests and the soak benchmark share it. Standard library only.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def frame(message: Any) -> bytes:
    """One message as an LSP frame."""
    body = json.dumps(message, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class FrameError(AssertionError):
    """The server wrote something on stdout that is not an LSP frame."""


def parse_frames(data: bytearray) -> list[dict[str, Any]]:
    """Take every complete frame off the front of `data`; raise if stdout is not valid LSP."""
    out = []
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            if len(data) > 4096:
                raise FrameError(f"no header end in {bytes(data[:200])!r}")
            return out
        length = None
        for line in bytes(data[:end]).split(b"\r\n"):
            name, sep, value = line.partition(b":")
            if not sep:
                raise FrameError(f"bad header line {line!r}")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            elif name.strip().lower() != b"content-type":
                raise FrameError(f"unknown header {line!r}")
        if length is None:
            raise FrameError(f"no Content-Length in {bytes(data[:end])!r}")
        if len(data) < end + 4 + length:
            return out
        body = bytes(data[end + 4 : end + 4 + length])
        del data[: end + 4 + length]
        message = json.loads(body)
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            raise FrameError(f"not a JSON-RPC message: {body[:200]!r}")
        out.append(message)


class RawServer:
    """`python -m fim_lsp` with pipes: frames in, frames out, stderr collected."""

    def __init__(
        self, *args: str, env: dict[str, str] | None = None, pythonpath: Path = ROOT
    ) -> None:
        full_env = dict(os.environ if env is None else env)
        full_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(pythonpath), full_env.get("PYTHONPATH", "")) if p
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fim_lsp", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
        )
        self.pid = self.proc.pid
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.responses: dict[Any, list[dict[str, Any]]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.requests_from_server: list[dict[str, Any]] = []
        # Requests from the server this client never answers (a broken client).
        self.unanswered: set[str] = set()
        self.stdout_error: Exception | None = None
        self.stderr = bytearray()
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._write_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # -- reading ---------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        data = bytearray()
        fd = self.proc.stdout.fileno()
        try:
            while chunk := os.read(fd, 1 << 16):
                data += chunk
                for message in parse_frames(data):
                    self._dispatch(message)
            if data:
                raise FrameError(f"stdout ends inside a frame: {bytes(data[:200])!r}")
        except Exception as err:  # recorded for the test to assert on
            self.stdout_error = err
        with self._lock:
            self._lock.notify_all()

    def _dispatch(self, message: dict[str, Any]) -> None:
        with self._lock:
            if "method" in message and "id" in message:
                self.requests_from_server.append(message)
                if message["method"] not in self.unanswered:
                    self._answer_server_request(message)
            elif "method" in message:
                self.notifications.append(message)
            else:
                self.responses.setdefault(message.get("id"), []).append(message)
            self._lock.notify_all()

    def _answer_server_request(self, message: dict[str, Any]) -> None:
        # workspace/configuration: no settings held by this client; anything else: null.
        if message["method"] == "workspace/configuration":
            items = message.get("params", {}).get("items", [])
            result: Any = [None for _ in items]
        else:
            result = None
        self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        while chunk := os.read(fd, 1 << 16):
            with self._lock:
                self.stderr += chunk

    # -- writing ---------------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        """Raw bytes on the server's stdin."""
        assert self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, message: Any) -> None:
        """One message, framed."""
        self.send_bytes(frame(message))

    def notify(self, method: str, params: Any = None) -> None:
        """A notification."""
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any = None, *, msg_id: Any = None) -> Any:
        """Send a request; returns its id (wait for the answer with `response`)."""
        msg_id = next(self._ids) if msg_id is None else msg_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    def response(self, msg_id: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The (first) answer to request `msg_id`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self.responses.get(msg_id):
                left = deadline - time.monotonic()
                if left <= 0 or self.stdout_error is not None:
                    raise TimeoutError(f"no answer to request {msg_id!r} ({self.stdout_error})")
                self._lock.wait(min(left, 0.5))
            return self.responses[msg_id][0]

    def call(self, method: str, params: Any = None, timeout: float = 10.0) -> dict[str, Any]:
        """Request and wait for the answer."""
        return self.response(self.request(method, params), timeout)

    def initialize(
        self, init_options: dict[str, Any] | None = None, *, process_id: int | None = None
    ) -> dict[str, Any]:
        """The initialize handshake with inline completion capabilities."""
        params = {
            "processId": process_id,
            "rootUri": None,
            "capabilities": {
                "textDocument": {"inlineCompletion": {}, "completion": {"completionItem": {}}},
                "workspace": {"configuration": True},
            },
            "initializationOptions": init_options or {},
        }
        answer = self.call("initialize", params)
        self.notify("initialized", {})
        return answer

    # -- the process -----------------------------------------------------------------------

    def rss_kib(self) -> int:
        """The server's resident set size (VmRSS), in KiB."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def wait(self, timeout: float) -> int:
        """The exit code, once the process has ended and its output is read."""
        code = self.proc.wait(timeout)
        for thread in self._threads:
            thread.join(5)
        return code

    def close(self) -> None:
        """End the process if it still runs."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def stderr_text(self) -> str:
        """Everything the server logged so far."""
        with self._lock:
            return self.stderr.decode(errors="replace")

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

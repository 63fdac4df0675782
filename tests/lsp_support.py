"""Helpers for end-to-end tests: start the real server, and an editor that types into a document."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

API_KEY = "sk-test-0123456789abcdef"

_STATE_HOME = tempfile.mkdtemp(prefix="fim-lsp-test-state-")
atexit.register(shutil.rmtree, _STATE_HOME, True)

StartServer = Callable[..., Awaitable[LanguageClient]]


def inline_capabilities(preset: str = "visual-studio-code") -> types.ClientCapabilities:
    """A real client's capabilities plus inline completion (pytest-lsp's presets lack it)."""
    caps = client_capabilities(preset)
    assert caps.text_document is not None
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities(
        dynamic_registration=False
    )
    return caps


def server_env(**extra: str) -> dict[str, str]:
    """The environment of the server process: no keys from the developer's shell."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CODESTRAL_API_KEY", "MISTRAL_API_KEY", "FIM_LSP_ENDPOINT")
    }
    # Usage statistics of test sessions stay out of the developer's own (~/.local/state/fim-lsp).
    env["XDG_STATE_HOME"] = _STATE_HOME
    env.update(extra)
    return env


def texts(result: Any) -> list[str]:
    """The insert texts of an inlineCompletion answer (a list, an InlineCompletionList or None)."""
    items = result.items if isinstance(result, types.InlineCompletionList) else result or []
    return [str(item.insert_text) for item in items]


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for a condition the server (or the mock) brings about asynchronously."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


class Editor:
    """A document as an editor holds it: typing sends incremental didChange notifications."""

    def __init__(self, client: LanguageClient, text: str, uri: str = "file:///tmp/demo.py") -> None:
        self.client = client
        self.uri = uri
        self.text = text
        self.version = 1
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
            )
        )

    def position(self, offset: int) -> types.Position:
        """UTF-16 position of a string offset."""
        before = self.text[:offset]
        line = before.count("\n")
        col_text = before[before.rfind("\n") + 1 :]
        return types.Position(line, len(col_text.encode("utf-16-le", "surrogatepass")) // 2)

    def type(self, offset: int, chars: str) -> int:
        """Insert `chars` at `offset`; returns the new cursor offset."""
        self._change(offset, offset, chars)
        return offset + len(chars)

    def delete(self, start: int, end: int) -> int:
        """Delete text[start:end]; returns the cursor offset (`start`)."""
        self._change(start, end, "")
        return start

    def _change(self, start: int, end: int, text: str) -> None:
        """Replace text[start:end] with `text`, sent as one incremental didChange."""
        edited = types.Range(self.position(start), self.position(end))
        self.version += 1
        self.text = self.text[:start] + text + self.text[end:]
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[types.TextDocumentContentChangePartial(range=edited, text=text)],
            )
        )

    def request(
        self, offset: int, *, invoked: bool = False, msg_id: str | None = None
    ) -> asyncio.Future[Any]:
        """Send an inlineCompletion request for the cursor at `offset`."""
        kind = (
            types.InlineCompletionTriggerKind.Invoked
            if invoked
            else types.InlineCompletionTriggerKind.Automatic
        )
        params = types.InlineCompletionParams(
            context=types.InlineCompletionContext(trigger_kind=kind),
            text_document=types.TextDocumentIdentifier(uri=self.uri),
            position=self.position(offset),
        )
        return asyncio.ensure_future(
            self.client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id or str(uuid.uuid4())
            )
        )

    async def complete(
        self, offset: int, *, invoked: bool = False
    ) -> list[types.InlineCompletionItem]:
        """Request and wait for the items at `offset`."""
        result = await asyncio.wait_for(self.request(offset, invoked=invoked), 10)
        return list(
            result.items if isinstance(result, types.InlineCompletionList) else result or []
        )

    def cancel(self, msg_id: str) -> None:
        """Send $/cancelRequest, as VS Code does on the next keystroke."""
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

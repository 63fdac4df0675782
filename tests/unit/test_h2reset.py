"""The HTTP/2 stream reset is applied to httpcore only when its internals are as expected."""

from __future__ import annotations

import sys

import httpcore._async.http2 as http2
import pytest
from httpcore._async.http2 import AsyncHTTP2Connection

from fim_lsp.backends import h2reset


def test_installed_on_the_httpcore_we_ship_with() -> None:
    assert h2reset.install()
    assert AsyncHTTP2Connection._response_closed.__module__ == h2reset.__name__


def test_falls_back_when_httpcore_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    class Changed:
        def __init__(self) -> None:
            self.state = None

        async def _response_closed(self, stream_id: int) -> None:
            pass

    monkeypatch.setattr(http2, "AsyncHTTP2Connection", Changed)
    assert h2reset._install() is False


def test_falls_back_without_h2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "h2.events", None)
    assert h2reset._install() is False

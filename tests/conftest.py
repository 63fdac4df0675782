"""Shared test fixtures: the mock Codestral server, importable from scripts/."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from mock_codestral import MockCodestral  # noqa: E402


@pytest.fixture
def mock() -> Iterator[MockCodestral]:
    """A mock Codestral server on 127.0.0.1, answering "" until a test sets its responder."""
    with MockCodestral() as server:
        yield server

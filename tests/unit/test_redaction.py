"""The key never shows in what the server says: every encoding, log records, reporter messages, errors."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from fim_lsp import redaction, secrets
from fim_lsp.backends.codestral import CodestralBackend
from fim_lsp.redaction import HIDDEN, RedactingFilter, redact
from fim_lsp.server import LspReporter

translate_error = CodestralBackend().translate_error

# Quotes and a backslash: the forms escaping produces differ from the raw key.
KEY = "sk-Q7\"wEr'Ty\\Ui0p1AsDfGhJkL2zX"
PLAIN_KEY = "mZ4rT8yU2iO6pA1sD5fG9hJ3kL7qW0eR"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """KEY and PLAIN_KEY registered, as the server does with the configured and environment keys."""
    monkeypatch.setattr(secrets, "_known", secrets._Known())
    secrets.clear_cache()
    redaction.add_secret(KEY)
    redaction.add_secret(PLAIN_KEY)
    yield
    secrets.clear_cache()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forms(key: str) -> dict[str, str]:
    """How a key can appear in a text, written out here independently of the code under test."""
    return {
        "raw": key,
        "json": json.dumps(key)[1:-1],
        "json twice": json.dumps(json.dumps(key))[1:-1],
        "python repr": repr(key),
        "url": quote(key, safe=""),
        "url lower-case": re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(key, safe="")),
        "url plus": quote_plus(key),
        "base64": b64(key),
        "base64 of Bearer": b64(f"Bearer {key}"),
        "base64 of Basic user:key": b64(f"user:{key}"),
        "urlsafe base64": base64.urlsafe_b64encode(key.encode()).decode(),
        "hex": key.encode().hex(),
    }


def leaks(text: str, key: str) -> list[str]:
    """Which encodings of `key` (or long parts of them) a text still holds."""
    found = []
    for name, form in forms(key).items():
        core = form
        if name.startswith("base64") or name.startswith("urlsafe"):
            core = form[12:-4]  # the part that depends on the key alone
        if core in text:
            found.append(name)
    for part in key.replace("'", '"').replace("\\", '"').split('"'):
        if len(part) >= 10 and part in text:
            found.append(f"part {part!r}")
    return found


@pytest.mark.parametrize("key", [KEY, PLAIN_KEY])
@pytest.mark.parametrize(
    "name",
    [
        "raw",
        "json",
        "json twice",
        "python repr",
        "url",
        "url lower-case",
        "url plus",
        "base64",
        "base64 of Bearer",
        "base64 of Basic user:key",
        "urlsafe base64",
        "hex",
    ],
)
def test_every_encoding_of_a_registered_key_is_hidden(key: str, name: str):
    form = forms(key)[name]
    text = f"upstream said: invalid credentials {form} (request abc)"
    clean = redact(text)
    assert leaks(clean, key) == []
    assert clean.startswith("upstream said: invalid credentials ")
    assert clean.endswith(" (request abc)")


def test_a_key_cut_short_or_split_at_its_quote_is_hidden():
    cut = f"body: {KEY[:14]}"  # a message truncated after 200 characters ends mid-key
    assert KEY[:14] not in redact(cut)
    after_quote = KEY.split('"', 1)[1]
    assert "Ty\\Ui0p1AsDfGhJkL2zX" not in redact(f"key ends with {after_quote}")
    tail = PLAIN_KEY[-15:]
    assert tail not in redact(f"...{tail}")


def test_credentials_are_hidden_before_the_key_is_known():
    other = "nEw\"Key'0123456789abcdef"
    message = json.dumps(
        {"method": "initialize", "params": {"initializationOptions": {"apiKey": other}}}
    )
    clean = redact(message)
    assert "0123456789abcdef" not in clean and "nEw" not in clean
    assert '"apiKey": "<hidden>"' in clean
    assert redact("{'api_key': 'abc\\'def0123456'}") == "{'api_key': '<hidden>'}"
    assert redact("Authorization: Bearer abc.def-ghi_jkl") == f"Authorization: Bearer {HIDDEN}"
    assert redact("Authorization: Basic dXNlcjpwYXNzd29yZA==") == f"Authorization: Basic {HIDDEN}"


def test_a_short_key_is_still_hidden_in_messages():
    redaction.add_secret("ollama")
    assert redact("key ollama rejected") == f"key {HIDDEN} rejected"


def test_ordinary_messages_pass_unchanged():
    for text in (
        "fim-lsp: codestral.mistral.ai rejected the API key (401: Unauthorized).",
        "model call 3 for file:///tmp/demo.py: debounce 75.0 ms, waited 80 ms, after_word",
        "fim-lsp: setting fimLsp.maxTokens = 'x' must be a whole number from 1 to 8192",
        '{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"version": 3}}',
    ):
        assert redact(text) == text


def _error(status: int, body: bytes) -> str:
    response = httpx.Response(status, content=body, request=httpx.Request("POST", "http://h/"))
    return translate_error(response, body, "h").message


@pytest.mark.parametrize("status", [401, 403, 404, 422, 500])
def test_an_error_body_that_echoes_the_key_is_redacted(status: int):
    as_json = json.dumps({"message": f"Invalid key {KEY}", "detail": f"key={quote(KEY)}"}).encode()
    as_text = f"no such key: {KEY} / {b64('Bearer ' + KEY)}".encode()
    for body in (as_json, as_text):
        message = _error(status, body)
        assert leaks(message, KEY), "the test must see the key in the unredacted message"
        assert leaks(redact(message), KEY) == []


def _logger(level: int = logging.DEBUG) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(f"test-redaction-{id(stream)}")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    return logger, stream


def test_log_records_are_redacted_in_message_args_traceback_and_stack():
    logger, stream = _logger()
    logger.debug("Sending data: %s", json.dumps({"params": {"apiKey": KEY}}))
    logger.info("header %r", {"Authorization": f"Bearer {KEY}"})
    try:
        raise RuntimeError(f"upstream rejected {KEY}")
    except RuntimeError:
        logger.exception("request failed for %s", quote(KEY, safe=""))
    logger.warning("stack", stack_info=True, extra={})
    out = stream.getvalue()
    assert out.count(HIDDEN) >= 4
    assert "RuntimeError: upstream rejected <hidden>" in out
    assert leaks(out, KEY) == []


class _FakeServer:
    """What LspReporter calls on a LanguageServer, recorded."""

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.protocol = self

    def window_show_message(self, params: Any) -> None:
        self.sent.append(params.message)

    def window_log_message(self, params: Any) -> None:
        self.sent.append(params.message)

    def notify(self, method: str, params: dict[str, str]) -> None:
        self.sent.append(params["message"])


def test_the_lsp_reporter_redacts_pop_ups_log_messages_and_status():
    server = _FakeServer()
    reporter = LspReporter(server)  # type: ignore[arg-type]
    reporter.show_once("auth", f"rejected the API key (401: {KEY})", error=True)
    reporter.log(f"fim-lsp: error: {json.dumps(KEY)}", error=True)
    reporter.status("error", f"404: {quote(KEY)}")  # no event loop: sent at once
    assert len(server.sent) == 3
    for text in server.sent:
        assert HIDDEN in text
        assert leaks(text, KEY) == []

"""`fim-lsp check`: one line per finding on why suggestions would (not) appear, and one FIM call.

The same report is what the server's `fimLsp.check` command returns to the editors.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from .backends import BackendError, Probe, backend_for, host_of
from .backends.client import make_client
from .client_hints import key_setting
from .context import FimContext
from .redaction import HIDDEN, add_secret
from .settings import Settings, explain_settings, unwrap

OK, FAIL = "\u2713", "\u2717"
# The tiny FIM call: a context any code model completes.
_CTX = FimContext("def add(a, b):\n    return ", "\n", language_id="python", path="check.py")
_MAX_TOKENS = 16


@dataclass
class Report:
    """The lines of a check and whether a suggestion can be made."""

    lines: list[str] = field(default_factory=list)
    ok: bool = False

    def add(self, good: bool, text: str) -> None:
        """One ✓ or ✗ line."""
        self.lines.append(f"{OK if good else FAIL} {text}")

    def as_dict(self) -> dict[str, Any]:
        """For the `fimLsp.check` command's result."""
        return {"ok": self.ok, "lines": self.lines, "text": "\n".join(self.lines)}


def proxy_for(url: str, env: Mapping[str, str]) -> str:
    """The proxy a request to `url` goes through (HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, NO_PROXY)."""
    lower = {k.lower(): v.strip() for k, v in env.items()}
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for entry in lower.get("no_proxy", "").split(","):
        entry = entry.strip().lower().lstrip(".")
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return ""
    return lower.get(f"{parts.scheme}_proxy") or lower.get("all_proxy") or ""


def _redact_url(url: str) -> str:
    """`url` for a report line: its password (`user:password@`), if any, hidden."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=f"{parts.username}:{HIDDEN}@{host_of(url)}").geturl()


def _connection_line(err: httpx.HTTPError, url: str) -> str:
    if "CERTIFICATE_VERIFY_FAILED" in str(err):
        return (
            f"the TLS certificate of {url} is not trusted ({err}): behind a company proxy or CA, "
            "set caBundle to its PEM file"
        )
    if isinstance(err, httpx.ConnectError):
        return f"cannot reach {url}: connection refused or no such host ({err})"
    if isinstance(err, httpx.TimeoutException):
        return f"{url} did not answer in time ({type(err).__name__})"
    return f"cannot talk to {url}: {type(err).__name__}: {err}"


async def run_check(raw: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Report:
    """Check the settings `raw` (camelCase, as the editor sends them) against their endpoint."""
    env = os.environ if env is None else env
    settings, problems, origins = explain_settings(unwrap(raw), env)
    add_secret(settings.api_key)
    for _name, value in settings.headers:
        add_secret(value)
    backend = backend_for(settings.backend)
    report = Report()
    for problem in problems:
        report.add(False, problem.removeprefix("fim-lsp: "))
    report.add(True, f"backend: {settings.backend} ({origins['backend']})")
    report.add(True, f"endpoint: {_redact_url(settings.base_url)} ({origins['endpoint']})")
    model = f"{settings.model} ({origins['model']})" if settings.model else origins["model"]
    report.add(True, f"model: {model}")
    if settings.api_key:
        report.add(True, f"API key: present, not shown (from {origins['api_key']})")
    elif backend.needs_key():
        report.add(
            False,
            f"API key: none ({origins['api_key']}). " + backend.missing_key_message(key_setting()),
        )
        return report
    else:
        report.add(True, f"API key: none, and {settings.backend} needs none")
    proxy = proxy_for(settings.base_url, env)
    report.add(True, f"proxy: {_redact_url(proxy)}" if proxy else "proxy: none")

    versions: list[str] = []

    async def seen(response: httpx.Response) -> None:
        versions.append(response.http_version)

    client = make_client(settings.ca_bundle)
    client.event_hooks["response"] = [seen]
    try:
        try:
            probes: list[Probe] = await backend.health(client, settings, env)
        except httpx.HTTPError as err:
            report.add(False, _connection_line(err, _redact_url(settings.base_url)))
            return report
        for probe in probes:
            report.add(probe.ok, probe.line)
            if probe.fatal and not probe.ok:
                return report
        await _fim_call(client, settings, report)
        if versions:
            report.add(True, f"HTTP version: {versions[-1]}")
    finally:
        await client.aclose()
    return report


async def _fim_call(client: httpx.AsyncClient, settings: Settings, report: Report) -> None:
    """One tiny FIM call, timed to the first token and to the end."""
    backend = backend_for(settings.backend)
    tiny = dataclasses.replace(settings, max_tokens=_MAX_TOKENS)
    rendered = backend.render(_CTX, tiny)
    request = backend.http_request(client, rendered, tiny)
    started = time.monotonic()
    first: float | None = None
    text = ""
    stream = backend.stream(client, request, rendered, tiny)
    try:
        async for delta in stream:
            if first is None:
                first = time.monotonic() - started
            text += delta
    except BackendError as err:
        hint = f" {err.hint}" if err.hint else ""
        report.add(False, f"FIM call: {err.message}.{hint}")
        return
    finally:
        await stream.aclose()
    total = time.monotonic() - started
    ttft = f"first token {first * 1000:.0f} ms, " if first is not None else ""
    shown = text.strip().splitlines()[0][:40] if text.strip() else ""
    report.add(
        True,
        f"FIM call: {ttft}total {total * 1000:.0f} ms"
        + (f", answered {shown!r}" if shown else ", answered nothing for the test context"),
    )
    report.ok = True


async def check_command(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What the server's `fimLsp.check` command returns: {"ok", "lines", "text"}."""
    return (await run_check(raw)).as_dict()

"""Typed settings: defaults, camelCase names on the wire, validation, API key and endpoint resolution."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .backends import BACKENDS as _REGISTRY
from .backends import backend_for, host_of, loopback
from .backends.codestral import CODESTRAL_ENDPOINT, MISTRAL_ENDPOINT
from .backends.templates import valid_template

SECTION = "fimLsp"
COMPLETION_ITEM_MODES = ("auto", "on", "off")
MULTILINE_MODES = ("auto", "always", "never")
BACKENDS = tuple(_REGISTRY)
__all__ = ["CODESTRAL_ENDPOINT", "MISTRAL_ENDPOINT", "Settings", "parse_settings", "unwrap"]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a user can set; field names are snake_case here and camelCase on the wire."""

    api_key: str = field(default="", repr=False)
    endpoint: str = ""
    model: str = "codestral-latest"
    max_tokens: int = 256
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    debounce_ms: int = 75
    adaptive_debounce: bool = True
    debounce_min_ms: int = 30
    debounce_max_ms: int = 300
    enable: bool = True
    disabled_languages: tuple[str, ...] = ()
    max_prefix_chars: int = 6000
    max_suffix_chars: int = 2000
    timeout_ms: int = 10000
    completion_items: str = "auto"
    multiline: str = "auto"
    # Files never read for suggestions or context (globs, added to the built-in secret files).
    exclude: tuple[str, ...] = ()
    redact_secrets: bool = True
    backend: str = "codestral"
    # A built-in FIM template name or a custom string with {prefix} and {suffix} ("": none).
    template: str = ""
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    ca_bundle: str = ""
    top_p: float | None = None
    min_tokens: int | None = None
    random_seed: int | None = None
    stream: bool = True
    # Characters of other files' code sent with the request (0: none).
    context_chars: int = 3000
    # Benchmark baseline only: no cache, typing through, stream reuse or early stop.
    naive: bool = False
    # Ask for the continuation as soon as a suggestion is accepted, before the editor asks.
    speculate_after_accept: bool = True
    # With the adaptive debounce: call the model at once where pauses are likely, while typing,
    # so the answer is already arriving when the user stops.
    work_ahead: bool = True
    # A suggestion waits this long for the model's whole answer; past it, the first line is shown
    # as soon as it is complete and the rest streams on (for typing through and the next ask).
    early_first_line: bool = True
    first_line_ms: int = 250
    # Past that budget, ghost text may be the whole words of a first line still streaming; the
    # editor is told (fimLsp/blockReady) to ask again when the line is complete.
    partial_first_line: bool = True
    # Lines of the model's text read after a suggestion's end (0: stop there), so a pause just
    # past it (the next line, a blank line) is answered with no new call.
    read_on_lines: int = 4

    @property
    def base_url(self) -> str:
        """The endpoint without a trailing slash."""
        return self.endpoint.rstrip("/")

    @property
    def host(self) -> str:
        """The endpoint's host, for messages that say who rejected a key."""
        return host_of(self.endpoint)

    def language_enabled(self, language_id: str) -> bool:
        """Whether suggestions are on for a document of this language."""
        return self.enable and language_id not in self.disabled_languages


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def _is_str_list(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v)


def _valid_url(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    if v == "":
        return True
    parts = urlsplit(v)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


Rule = tuple[Callable[[Any], bool], str]


def _whole(low: int, high: int, unit: str = "") -> Rule:
    return (
        lambda v: _is_int(v) and low <= v <= high,
        f"must be a whole number{unit} from {low} to {high}",
    )


_BOOL: Rule = (lambda v: isinstance(v, bool), "must be true or false")

# Per field: the check and the reason shown when it fails. Values are converted only after passing.
_RULES: dict[str, Rule] = {
    "api_key": (lambda v: isinstance(v, str), "must be a string"),
    "endpoint": (_valid_url, "must be an http(s) URL such as https://codestral.mistral.ai"),
    "model": (lambda v: isinstance(v, str) and v.strip() != "", "must be a non-empty string"),
    "max_tokens": _whole(1, 8192),
    "temperature": (lambda v: _is_number(v) and 0 <= v <= 1.5, "must be a number from 0 to 1.5"),
    "stop": (
        lambda v: isinstance(v, str) or _is_str_list(v),
        "must be a string or a list of strings",
    ),
    "debounce_ms": _whole(0, 5000),
    "adaptive_debounce": _BOOL,
    "debounce_min_ms": _whole(0, 5000),
    "debounce_max_ms": _whole(0, 5000),
    "enable": _BOOL,
    "disabled_languages": (_is_str_list, "must be a list of language ids"),
    "max_prefix_chars": _whole(0, 400_000),
    "max_suffix_chars": _whole(0, 400_000),
    "timeout_ms": _whole(100, 600_000, " of milliseconds"),
    "completion_items": (
        lambda v: v in COMPLETION_ITEM_MODES,
        'must be "auto", "on" or "off"',
    ),
    "multiline": (lambda v: v in MULTILINE_MODES, 'must be "auto", "always" or "never"'),
    "exclude": (_is_str_list, "must be a list of glob patterns"),
    "redact_secrets": _BOOL,
    "backend": (lambda v: v in BACKENDS, "must be one of " + ", ".join(map(repr, BACKENDS))),
    "template": (
        lambda v: isinstance(v, str) and valid_template(v),
        "must be qwen, starcoder, deepseek, codellama, codestral, codegemma or a string with "
        "{prefix} and {suffix}",
    ),
    "headers": (
        lambda v: (
            isinstance(v, Mapping)
            and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())
        ),
        "must be an object of header names to string values",
    ),
    "ca_bundle": (
        lambda v: isinstance(v, str) and (v == "" or os.path.isfile(os.path.expanduser(v))),
        "must be the path of an existing PEM file",
    ),
    "top_p": (lambda v: _is_number(v) and 0 <= v <= 1, "must be a number from 0 to 1"),
    "min_tokens": _whole(0, 8192),
    "random_seed": _whole(0, 2**31 - 1),
    "stream": _BOOL,
    "context_chars": _whole(0, 100_000),
    "naive": _BOOL,
    "speculate_after_accept": _BOOL,
    "work_ahead": _BOOL,
    "early_first_line": _BOOL,
    "first_line_ms": _whole(0, 600_000, " of milliseconds"),
    "partial_first_line": _BOOL,
    "read_on_lines": _whole(0, 100),
}

WIRE_NAMES: dict[str, str] = {_camel(f.name): f.name for f in dataclasses.fields(Settings)}


def _convert(name: str, value: Any) -> Any:
    if name == "stop":
        return (value,) if isinstance(value, str) else tuple(value)
    if name in ("disabled_languages", "exclude"):
        return tuple(value)
    if name == "headers":
        return tuple(sorted(value.items()))
    if name == "top_p":
        return float(value)
    if name == "temperature":
        return float(value)
    if name == "endpoint":
        return value.strip()
    if name == "ca_bundle":
        return os.path.expanduser(value)
    return value


def unwrap(raw: Any) -> dict[str, Any]:
    """Settings as a flat camelCase dict, whether given flat or under a `fimLsp` section."""
    if not isinstance(raw, Mapping):
        return {}
    flat = {k: v for k, v in raw.items() if k != SECTION}
    nested = raw.get(SECTION)
    if isinstance(nested, Mapping):
        flat.update(nested)
    return flat


def parse_settings(
    raw: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> tuple[Settings, list[str]]:
    """Build settings from the client's (camelCase) values and the environment.

    Returns the settings and one message per rejected key (a rejected key keeps its default)
    or withheld API key.
    """
    settings, problems, _origins = explain_settings(raw, env)
    return settings, problems


def explain_settings(
    raw: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> tuple[Settings, list[str], dict[str, str]]:
    """`parse_settings`, plus where the backend, endpoint, model and key came from."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    problems: list[str] = []
    for wire, value in raw.items():
        name = WIRE_NAMES.get(wire)
        if name is None or value is None:
            continue
        check, reason = _RULES[name]
        if not check(value):
            shown = "<hidden>" if name == "api_key" else repr(value)
            problems.append(
                f"fim-lsp: setting {SECTION}.{wire} = {shown} {reason}; using the default."
            )
            continue
        values[name] = _convert(name, value)
    origins: dict[str, str] = {n: "settings" for n in ("backend", "model") if n in values}
    resolved, notes = _resolve_key_and_endpoint(values, env, origins)
    values.update(resolved)
    if "model" not in values:
        model = backend_for(values.get("backend", "codestral")).default_model
        values["model"] = model
        origins["model"] = "default" if model else "not set (the server's own)"
    origins.setdefault("backend", "default")
    return Settings(**values), problems + notes, origins


# Header names that carry a credential (a gateway's token): kept off plain http like the key.
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|password", re.IGNORECASE)


def _resolve_key_and_endpoint(
    values: dict[str, Any], env: Mapping[str, str], origins: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The endpoint and the key to send it, by the rules that keep a key where it belongs.

    An environment key goes only to the hosts it is meant for, to this machine, or to an
    endpoint the environment names too: a workspace's settings cannot redirect a key they
    never held to another host. No
    key goes over plain http to another machine. Each withheld key is said once.
    """
    backend = backend_for(values.get("backend", "codestral"))
    endpoint = values.get("endpoint", "")
    origins["endpoint"] = "settings"
    if not endpoint:
        endpoint = env.get("FIM_LSP_ENDPOINT", "").strip()
        origins["endpoint"] = "environment (FIM_LSP_ENDPOINT)"
        if endpoint and not _valid_url(endpoint):
            endpoint = ""
    key = values.get("api_key", "")
    notes: list[str] = []
    if key:
        origins["api_key"] = "settings"
        if not endpoint:
            endpoint = backend.default_endpoint
            origins["endpoint"] = "default"
    else:
        given = endpoint
        endpoint, key, variable = backend.env_key(endpoint, env)
        if not given:
            origins["endpoint"] = "default" if not key else f"default for {variable}"
        origins["api_key"] = f"environment ({variable})" if key else "none"
        parts = urlsplit(endpoint)
        host = parts.netloc
        # A loopback endpoint is this machine (a local gateway, a test's mock): a listener there
        # already runs as the user, so the key leaves nothing it could not read anyway.
        if (
            key
            and origins["endpoint"] == "settings"
            and host not in backend.key_hosts()
            and not loopback(parts.hostname or "")
        ):
            shown = host_of(endpoint)
            notes.append(
                f"fim-lsp: not sending {variable} to {shown}: that endpoint comes from the "
                f"settings, not from the environment. Set {SECTION}.apiKey in the same settings "
                "as the endpoint, or FIM_LSP_ENDPOINT beside the key, to send a key there."
            )
            key = ""
            origins["api_key"] = f"withheld ({variable} is not for {shown})"
    parts = urlsplit(endpoint)
    headers: tuple[tuple[str, str], ...] = values.get("headers", ())
    if parts.scheme == "http" and not loopback(parts.hostname or ""):
        secret = tuple(name for name, _ in headers if _SECRET_HEADER.search(name))
        if key or secret:
            what = " and ".join(
                (["the API key"] if key else []) + [f"header {name}" for name in secret]
            )
            notes.append(
                f"fim-lsp: not sending {what} to {host_of(endpoint)} over plain http://, where anyone "
                "on the way can read it: use https://. (A local Ollama or llama.cpp needs no key.)"
            )
        if key:
            key = ""
            origins["api_key"] = "withheld (plain http to another machine)"
        headers = tuple(h for h in headers if h[0] not in secret)
    return {"api_key": key, "endpoint": endpoint, "headers": headers}, notes

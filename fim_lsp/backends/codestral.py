"""The Codestral FIM dialect: request body, streamed answer, error translation, key pairing."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from .base import HttpBackend, Probe, host_of, join_url, model_list_lines
from .errors import StreamError
from .other_files import with_other_files
from .sse import SSEDecoder
from .stream import Delta, Framing

if TYPE_CHECKING:
    from ..context import FimContext
    from ..settings import Settings

FIM_PATH = "/v1/fim/completions"
CODESTRAL_ENDPOINT = "https://codestral.mistral.ai"
MISTRAL_ENDPOINT = "https://api.mistral.ai"
# The environment variable of each host's kind of key, in the order they are tried for it.
_KEYS_FOR = {
    urlsplit(CODESTRAL_ENDPOINT).netloc: ("CODESTRAL_API_KEY", "MISTRAL_API_KEY"),
    urlsplit(MISTRAL_ENDPOINT).netloc: ("MISTRAL_API_KEY", "CODESTRAL_API_KEY"),
}
KEY_HINT = (
    "A Codestral key works only with https://codestral.mistral.ai and a La Plateforme "
    "(MISTRAL_API_KEY) key only with https://api.mistral.ai."
)


def parse_event(data: str) -> tuple[str, str | None, bool]:
    """One event's data -> (content delta, finish_reason, is the [DONE] marker)."""
    if data.strip() == "[DONE]":
        return "", None, True
    try:
        obj = json.loads(data)
        choice = obj["choices"][0] if obj.get("choices") else {}
        delta = choice.get("delta") or {}
        content = delta.get("content") or ""
        finish = choice.get("finish_reason")
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as err:
        raise StreamError(f"malformed event in the model's stream: {data[:80]!r}") from err
    if not isinstance(content, str):
        raise StreamError(f"malformed event in the model's stream: {data[:80]!r}")
    return content, finish if isinstance(finish, str) else None, False


def well_known(env: Mapping[str, str]) -> tuple[str, str]:
    """The Codestral and La Plateforme base URLs (overridable for tests and mirrors)."""
    return (
        env.get("FIM_LSP_CODESTRAL_ENDPOINT", "").strip().rstrip("/") or CODESTRAL_ENDPOINT,
        env.get("FIM_LSP_MISTRAL_ENDPOINT", "").strip().rstrip("/") or MISTRAL_ENDPOINT,
    )


class CodestralBackend(HttpBackend):
    """Mistral's Codestral: `POST /v1/fim/completions`, SSE ending in `[DONE]`."""

    name: str = "codestral"
    path: str = FIM_PATH
    default_endpoint: str = CODESTRAL_ENDPOINT
    default_model: str = "codestral-latest"

    def framer(self) -> Callable[[], Framing]:
        """SSEDecoder frames the stream."""
        return SSEDecoder

    def needs_key(self) -> bool:
        """Mistral's hosts always want a key."""
        return True

    def missing_key_message(self, where: str) -> str:
        """Which variable to set, or `where` the user's editor takes a key."""
        return (
            "fim-lsp: no API key. Set CODESTRAL_API_KEY (a Codestral key, for codestral.mistral.ai) "
            "or MISTRAL_API_KEY (a La Plateforme key, for api.mistral.ai) in the environment the "
            f"editor starts fim-lsp from, or {where}. Suggestions are off until then."
        )

    def key_hosts(self) -> frozenset[str]:
        """Hosts the environment's keys are meant for."""
        return frozenset(_KEYS_FOR)

    def env_key(self, endpoint: str, env: Mapping[str, str]) -> tuple[str, str, str]:
        """(endpoint, key, variable) from the environment: each kind of key goes to its own host."""
        found = {
            name: env.get(name, "").strip() for name in ("CODESTRAL_API_KEY", "MISTRAL_API_KEY")
        }
        if not endpoint:
            if found["CODESTRAL_API_KEY"] or not found["MISTRAL_API_KEY"]:
                endpoint = CODESTRAL_ENDPOINT
            else:
                endpoint = MISTRAL_ENDPOINT
        order = _KEYS_FOR.get(urlsplit(endpoint).netloc, ("CODESTRAL_API_KEY", "MISTRAL_API_KEY"))
        for name in order:
            if found[name]:
                return endpoint, found[name], name
        return endpoint, "", ""

    def body(self, ctx: FimContext, settings: Settings) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Only fields the API documents (it rejects unknown ones with 422)."""
        body: dict[str, Any] = {
            "model": settings.model,
            "prompt": with_other_files(ctx),
            "suffix": ctx.suffix,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "stream": settings.stream,
        }
        if settings.top_p is not None:
            body["top_p"] = settings.top_p
        if settings.min_tokens is not None:
            body["min_tokens"] = settings.min_tokens
        if settings.random_seed is not None:
            body["random_seed"] = settings.random_seed
        if settings.stop:
            body["stop"] = list(settings.stop)
        return body, ()

    def parse(self, item: str) -> Delta:
        """One SSE event as a delta (done at finish_reason or [DONE])."""
        content, finish, done = parse_event(item)
        return Delta(content, done or finish is not None)

    def parse_whole(self, item: str) -> Delta:
        """`{"choices": [{"message": {"content": …}}]}`."""
        try:
            content = json.loads(item)["choices"][0]["message"]["content"] or ""
        except (ValueError, TypeError, KeyError, IndexError) as err:
            raise StreamError(f"malformed answer from the model: {item[:80]!r}") from err
        if not isinstance(content, str):
            raise StreamError(f"malformed answer from the model: {item[:80]!r}")
        return Delta(content, True)

    def hint(self, status: int, message: str) -> str:
        """Which key goes with which host, after a rejected key."""
        return KEY_HINT if status in (401, 403) else ""

    async def health(
        self, client: httpx.AsyncClient, settings: Settings, env: Mapping[str, str]
    ) -> list[Probe]:
        """The key accepted (else: is it the other host's kind?) and the model listed."""
        where = host_of(settings.base_url)
        status, body = await self.get_json(
            client, join_url(settings.base_url, "/v1/models"), settings
        )
        if status in (401, 403):
            codestral, mistral = well_known(env)
            other = {codestral: mistral, mistral: codestral}.get(settings.base_url)
            if other is not None:
                other_status, _ = await self.get_json(
                    client, join_url(other, "/v1/models"), settings
                )
                if other_status == 200:
                    kind = "La Plateforme" if other == mistral else "Codestral"
                    return [
                        Probe(
                            False,
                            f"key rejected by {where} ({status}): it is a {kind} key, accepted by "
                            f"{host_of(other)}; set endpoint to {other}",
                            True,
                        )
                    ]
            return [Probe(False, f"key rejected by {where} ({status}). {KEY_HINT}", True)]
        if status != 200 or not isinstance(body, dict):
            return [Probe(False, f"{where} answered {status} to GET /v1/models", False)]
        names: list[str] = []
        for entry in body.get("data") or []:
            if isinstance(entry, dict):
                names += [
                    n
                    for n in [entry.get("id"), *(entry.get("aliases") or [])]
                    if isinstance(n, str)
                ]
        return [
            Probe(True, f"key accepted by {where}"),
            model_list_lines(names, settings.model, where),
        ]

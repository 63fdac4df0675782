"""The llama.cpp server dialect: `POST /infill`, SSE whose last event has `stop: true` (no `[DONE]`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from .base import HttpBackend, Probe, Rendered, host_of, join_url, json_item
from .errors import APIStatusError, ModelLoadingError, StreamError
from .other_files import input_extra
from .sse import SSEDecoder
from .stream import Delta, Framing

if TYPE_CHECKING:
    from ..context import FimContext
    from ..settings import Settings

# How often to ask again while the server loads its model.
_LOADING_RETRY = 0.5


class LlamaCppBackend(HttpBackend):
    """llama.cpp's `llama-server` with a FIM-capable GGUF (Qwen2.5-Coder, StarCoder2, …)."""

    name: str = "llamacpp"
    path: str = "/infill"
    default_endpoint: str = "http://127.0.0.1:8012"
    # The server has one model; the name is not sent.
    default_model: str = ""

    def framer(self) -> Callable[[], Framing]:
        """SSEDecoder frames the stream."""
        return SSEDecoder

    def body(self, ctx: FimContext, settings: Settings) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The /infill fields; the server applies the model's own FIM tokens."""
        body: dict[str, Any] = {
            "input_prefix": ctx.prompt,
            "input_suffix": ctx.suffix,
            "input_extra": input_extra(ctx),
            "n_predict": settings.max_tokens,
            # Past half the timeout the server stops at the next line end: a shorter answer, in time.
            "t_max_predict_ms": settings.timeout_ms // 2,
            "cache_prompt": True,
            "temperature": settings.temperature,
            "stream": settings.stream,
        }
        if settings.top_p is not None:
            body["top_p"] = settings.top_p
        if settings.random_seed is not None:
            body["seed"] = settings.random_seed
        if settings.stop:
            body["stop"] = list(settings.stop)
        return body, ()

    def parse(self, item: str) -> Delta:
        """`{"content": "…", "stop": false}`; the event with `stop: true` is the last."""
        obj = json_item(item)
        if not isinstance(obj, dict) or not isinstance(obj.get("content", ""), str):
            raise StreamError(f"malformed event in the model's stream: {item[:80]!r}")
        if "error" in obj and "content" not in obj:
            raise StreamError(f"the model failed mid-answer: {str(obj['error'])[:200]}")
        return Delta(obj.get("content") or "", obj.get("stop") is True)

    def parse_whole(self, item: str) -> Delta:
        """The one object of `stream: false`."""
        return Delta(self.parse(item).text, True)

    def classify(self, status: int, message: str) -> type[APIStatusError]:
        """503 while loading is its own kind: it is retried."""
        if status == 503 and "loading" in message.lower():
            return ModelLoadingError
        return super().classify(status, message)

    def hint(self, status: int, message: str) -> str:
        """What the user can do about it."""
        if status == 503 and "loading" in message.lower():
            return "The server is still loading its model; suggestions start when it is ready."
        if "infill" in message.lower() or "fim" in message.lower():
            return "The model has no fill-in-the-middle tokens: load a FIM model (e.g. a Qwen2.5-Coder GGUF)."
        return ""

    def stream(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        rendered: Rendered,
        settings: Settings,
        *,
        opened: Callable[[], None] | None = None,
        closed_early: Callable[[], None] | None = None,
    ) -> AsyncGenerator[str, None]:
        """The stream, asked again while the model loads (within the timeout)."""
        return self._retrying(client, request, rendered, settings, opened, closed_early)

    async def _retrying(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        rendered: Rendered,
        settings: Settings,
        opened: Callable[[], None] | None,
        closed_early: Callable[[], None] | None,
    ) -> AsyncGenerator[str, None]:
        deadline = time.monotonic() + settings.timeout_ms / 1000
        while True:
            inner = super().stream(
                client, request, rendered, settings, opened=opened, closed_early=closed_early
            )
            try:
                async for text in inner:
                    yield text
                return
            except ModelLoadingError:
                if time.monotonic() + _LOADING_RETRY >= deadline:
                    raise
            finally:
                await inner.aclose()
            await asyncio.sleep(_LOADING_RETRY)

    async def health(
        self, client: httpx.AsyncClient, settings: Settings, env: Mapping[str, str]
    ) -> list[Probe]:
        """`GET /health` (ready or loading), then which model `/props` names."""
        where = host_of(settings.base_url)
        status, _body = await self.get_json(
            client, join_url(settings.base_url, "/health"), settings
        )
        if status == 503:
            return [Probe(False, f"{where} is still loading its model (503); try again shortly")]
        if status != 200:
            return [
                Probe(False, f"{where} answered {status} to GET /health: is it llama-server?", True)
            ]
        probes = [Probe(True, f"{where} is ready")]
        status, props = await self.get_json(client, join_url(settings.base_url, "/props"), settings)
        if status == 200 and isinstance(props, dict):
            model = props.get("model_path") or props.get("model_alias")
            if isinstance(model, str) and model:
                probes.append(Probe(True, f"model loaded: {model}"))
        return probes

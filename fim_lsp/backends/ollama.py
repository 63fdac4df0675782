"""The Ollama dialect: `POST /api/generate` with a suffix, NDJSON lines ending in `done: true`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from .base import HttpBackend, Probe, host_of, join_url, json_item, model_list_lines
from .errors import StreamError
from .ndjson import NDJSONDecoder
from .other_files import templated, with_other_files
from .stream import Delta, Framing
from .templates import template_for

if TYPE_CHECKING:
    from ..context import FimContext
    from ..settings import Settings

FIM_MODELS = "qwen2.5-coder (base), deepseek-coder-v2, codestral, starcoder2"


def _same_model(listed: str, wanted: str) -> bool:
    """Ollama names without a tag mean `:latest`."""

    def norm(name: str) -> str:
        return name if ":" in name else name + ":latest"

    return norm(listed) == norm(wanted)


class OllamaBackend(HttpBackend):
    """Ollama's native API (a FIM-capable model's template does the rest)."""

    name: str = "ollama"
    path: str = "/api/generate"
    default_endpoint: str = "http://127.0.0.1:11434"
    default_model: str = "qwen2.5-coder:1.5b-base"

    def framer(self) -> Callable[[], Framing]:
        """NDJSONDecoder frames the stream."""
        return NDJSONDecoder

    def body(self, ctx: FimContext, settings: Settings) -> tuple[dict[str, Any], tuple[str, ...]]:
        """prompt + suffix, or with `template` the rendered prompt sent raw."""
        template = template_for(settings.template)
        options: dict[str, Any] = {
            "num_predict": settings.max_tokens,
            "temperature": settings.temperature,
        }
        if settings.top_p is not None:
            options["top_p"] = settings.top_p
        if settings.random_seed is not None:
            options["seed"] = settings.random_seed
        stops = (*settings.stop, *(template.stops if template else ()))
        if stops:
            options["stop"] = list(stops)
        body: dict[str, Any] = {"model": settings.model}
        if template is None:
            body.update(prompt=with_other_files(ctx), suffix=ctx.suffix)
        else:
            body.update(prompt=templated(template, ctx), raw=True)
        body.update(stream=settings.stream, keep_alive="30m", options=options)
        return body, template.stops if template else ()

    def parse(self, item: str) -> Delta:
        """`{"response": "…", "done": false}`; an `error` line ends the stream with it."""
        obj = json_item(item)
        if not isinstance(obj, dict):
            raise StreamError(f"malformed line in the model's stream: {item[:80]!r}")
        if isinstance(obj.get("error"), str):
            raise StreamError(f"the model failed mid-answer: {obj['error'][:200]}")
        text = obj.get("response") or ""
        if not isinstance(text, str):
            raise StreamError(f"malformed line in the model's stream: {item[:80]!r}")
        return Delta(text, obj.get("done") is True)

    def parse_whole(self, item: str) -> Delta:
        """The one object of `stream: false`."""
        return Delta(self.parse(item).text, True)

    def hint(self, status: int, message: str) -> str:
        """A model to pull, or one that can fill in the middle."""
        if "does not support insert" in message or "does not support suffix" in message:
            return (
                "This model cannot fill in the middle. Use one that can, e.g. "
                f"{FIM_MODELS} (set fimLsp.model), or set fimLsp.template for a raw prompt."
            )
        if status == 404 and "not found" in message:
            return "Pull it first (`ollama pull MODEL`) or set fimLsp.model to one `ollama list` shows."
        return ""

    async def health(
        self, client: httpx.AsyncClient, settings: Settings, env: Mapping[str, str]
    ) -> list[Probe]:
        """The model among `GET /api/tags`."""
        where = host_of(settings.base_url)
        status, body = await self.get_json(
            client, join_url(settings.base_url, "/api/tags"), settings
        )
        if status != 200 or not isinstance(body, dict):
            return [
                Probe(False, f"{where} answered {status} to GET /api/tags: is it Ollama?", True)
            ]
        names = [
            str(m.get("name") or m.get("model"))
            for m in body.get("models") or []
            if isinstance(m, dict) and (m.get("name") or m.get("model"))
        ]
        probe = model_list_lines(names, settings.model, where, _same_model)
        if not probe.ok:
            probe = Probe(False, probe.line + f" (run `ollama pull {settings.model}`)", True)
        return [probe]

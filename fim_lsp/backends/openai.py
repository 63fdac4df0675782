"""The OpenAI completions dialect: `POST /v1/completions`, SSE `choices[0].text`, `[DONE]`.

With `prompt` and `suffix` (DeepSeek's beta endpoint, Ollama's OpenAI route), or with the
model's FIM template rendered into `prompt` and no `suffix` (vLLM, SGLang, TGI, llama.cpp).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from .base import HttpBackend, Probe, host_of, json_item, model_list_lines
from .errors import StreamError
from .other_files import templated, with_other_files
from .sse import SSEDecoder
from .stream import Delta, Framing
from .templates import BUILTIN, template_for

if TYPE_CHECKING:
    from ..context import FimContext
    from ..settings import Settings


def _api_base(base_url: str) -> str:
    """The base the `/completions` and `/models` routes hang from: `…/v1` unless a path is given."""
    return base_url if urlsplit(base_url).path.strip("/") else base_url + "/v1"


class OpenAIBackend(HttpBackend):
    """Any server with OpenAI's (legacy) completions route."""

    name: str = "openai"
    default_endpoint: str = "http://127.0.0.1:8000"
    # Unset: the field is left out and the server uses the model it serves.
    default_model: str = ""

    def framer(self) -> Callable[[], Framing]:
        """SSEDecoder frames the stream."""
        return SSEDecoder

    def url(self, settings: Settings) -> str:
        """`{endpoint}/v1/completions`, or `{endpoint}/completions` when the endpoint has a path."""
        return _api_base(settings.base_url) + "/completions"

    def body(self, ctx: FimContext, settings: Settings) -> tuple[dict[str, Any], tuple[str, ...]]:
        """prompt + suffix, or the template's prompt and its stop tokens."""
        template = template_for(settings.template)
        body: dict[str, Any] = {}
        if settings.model:
            body["model"] = settings.model
        if template is None:
            body.update(prompt=with_other_files(ctx), suffix=ctx.suffix)
        else:
            body["prompt"] = templated(template, ctx)
        body.update(
            max_tokens=settings.max_tokens, temperature=settings.temperature, stream=settings.stream
        )
        if settings.top_p is not None:
            body["top_p"] = settings.top_p
        if settings.random_seed is not None:
            body["seed"] = settings.random_seed
        stops = (*settings.stop, *(template.stops if template else ()))
        if stops:
            # OpenAI's own limit is four stop strings; the rest are cut on our side.
            body["stop"] = list(stops[:4])
        cut = stops if template is not None or len(stops) > 4 else ()
        return body, tuple(cut)

    def _text(self, item: str, *, whole: bool) -> Delta:
        if item.strip() == "[DONE]":
            return Delta("", True)
        obj = json_item(item)
        try:
            choice = obj["choices"][0] if obj.get("choices") else {}
            text = choice.get("text") or ""
            finish = choice.get("finish_reason")
        except (TypeError, KeyError, AttributeError, IndexError) as err:
            raise StreamError(f"malformed event in the model's stream: {item[:80]!r}") from err
        if not isinstance(text, str):
            raise StreamError(f"malformed event in the model's stream: {item[:80]!r}")
        return Delta(text, whole or isinstance(finish, str))

    def parse(self, item: str) -> Delta:
        """`{"choices": [{"text": "…", "finish_reason": null}]}` … `[DONE]`."""
        return self._text(item, whole=False)

    def parse_whole(self, item: str) -> Delta:
        """The one object of `stream: false`."""
        return self._text(item, whole=True)

    def hint(self, status: int, message: str) -> str:
        """A server that rejects `suffix` wants the template."""
        if "suffix" in message.lower():
            names = ", ".join(f'"{n}"' for n in BUILTIN)
            return (
                "This server does not take a suffix: set fimLsp.template to the model's FIM "
                f"template ({names}, or a string with {{prefix}} and {{suffix}})."
            )
        if status == 404 and "model" in message.lower():
            return "Set fimLsp.model to a model the server serves (`fim-lsp check` lists them)."
        return ""

    async def health(
        self, client: httpx.AsyncClient, settings: Settings, env: Mapping[str, str]
    ) -> list[Probe]:
        """The key accepted and the model among `GET /v1/models`."""
        where = host_of(settings.base_url)
        url = _api_base(settings.base_url) + "/models"
        status, body = await self.get_json(client, url, settings)
        if status in (401, 403):
            return [Probe(False, f"key rejected by {where} ({status})", True)]
        if status != 200 or not isinstance(body, dict):
            # Not every server lists models; the FIM call will tell.
            return [Probe(False, f"{where} answered {status} to GET {urlsplit(url).path}")]
        names = [
            str(m["id"]) for m in body.get("data") or [] if isinstance(m, dict) and m.get("id")
        ]
        probes = [Probe(True, f"{where} answered GET {urlsplit(url).path}")]
        if settings.model:
            probes.append(model_list_lines(names, settings.model, where))
        elif names:
            probes.append(Probe(True, f"model not set: the server uses its own ({names[0]})"))
        return probes

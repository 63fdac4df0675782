"""Model backends: one module per API dialect behind the `Backend` protocol, one error tree."""

from .base import (
    RETRY_AFTER_CAP,
    Backend,
    CacheKey,
    Probe,
    Rendered,
    host_of,
    loopback,
    retry_after,
)
from .codestral import CodestralBackend
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BackendError,
    ModelLoadingError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    StreamError,
)
from .llamacpp import LlamaCppBackend
from .ollama import OllamaBackend
from .openai import OpenAIBackend

BACKENDS: dict[str, Backend] = {
    b.name: b for b in (CodestralBackend(), OllamaBackend(), LlamaCppBackend(), OpenAIBackend())
}


def backend_for(name: str) -> Backend:
    """The backend a `backend` setting names (Codestral for an unknown name)."""
    return BACKENDS.get(name) or BACKENDS["codestral"]


__all__ = [
    "BACKENDS",
    "RETRY_AFTER_CAP",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "Backend",
    "BackendError",
    "CacheKey",
    "ModelLoadingError",
    "Probe",
    "RateLimitError",
    "Rendered",
    "RequestRejectedError",
    "ServerError",
    "StreamError",
    "backend_for",
    "host_of",
    "loopback",
    "retry_after",
]

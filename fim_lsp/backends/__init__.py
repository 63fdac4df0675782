"""Model backends: one module per API dialect, sharing the error tree and the SSE decoder."""

from .codestral import FimRequest, fim_http_request, stream_fim
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BackendError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
    StreamError,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BackendError",
    "FimRequest",
    "RateLimitError",
    "RequestRejectedError",
    "ServerError",
    "StreamError",
    "fim_http_request",
    "stream_fim",
]

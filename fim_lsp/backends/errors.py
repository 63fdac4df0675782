"""One exception tree for everything that can go wrong talking to a model server."""

from __future__ import annotations

from typing import Any


class BackendError(Exception):
    """Root of every backend failure; `message` is safe to show a user (it never holds the key).

    `hint`: what the user can do about it, in the dialect's terms ("" when nothing to add).
    """

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class APIConnectionError(BackendError):
    """The server could not be reached, or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""


class StreamError(BackendError):
    """The server sent an event stream that could not be understood."""


class APIStatusError(BackendError):
    """The server answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any,
        request_id: str | None,
        host: str,
        hint: str = "",
    ) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code
        self.body = body
        self.request_id = request_id
        self.host = host


class AuthenticationError(APIStatusError):
    """401 or 403: the key was rejected by this host."""


class RequestRejectedError(APIStatusError):
    """400, 404 or 422: the request itself was refused (a wrong model name, an invalid field)."""


class RateLimitError(APIStatusError):
    """429: too many requests; `retry_after` is in seconds when the server said."""

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the server failed; the next trigger may succeed."""


class ModelLoadingError(ServerError):
    """503 while the server loads its model: retried within the timeout, then told as such."""

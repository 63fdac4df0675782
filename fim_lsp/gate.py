"""The error gate: what a failed model call means for the next ones, and what the user is told.

A rejected key pauses suggestions until the settings change; a 429 pauses them for the
server's Retry-After (capped) or a doubling backoff; other failures are told and pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .backends import (
    RETRY_AFTER_CAP,
    APIConnectionError,
    AuthenticationError,
    BackendError,
    ModelLoadingError,
    RateLimitError,
    RequestRejectedError,
)

if TYPE_CHECKING:
    from .engine import Reporter

# Backoff after a 429 without Retry-After, doubling up to the cap.
BACKOFF_FIRST = 1.0
BACKOFF_CAP = 30.0


class ErrorGate:
    """Decides whether the model may be called now, from the errors seen since the settings."""

    def __init__(self, reporter: Reporter, clock: Callable[[], float]) -> None:
        self.reporter = reporter
        self._clock = clock
        self.key_rejected = False
        self.blocked_until = 0.0
        self.backoff = BACKOFF_FIRST

    def lift(self) -> None:
        """The settings changed: whatever paused suggestions may be fixed now."""
        self.key_rejected = False
        self.blocked_until = 0.0
        self.backoff = BACKOFF_FIRST

    def paused(self) -> bool:
        """Whether a model call now would only be refused again."""
        return self.key_rejected or self._clock() < self.blocked_until

    def succeeded(self) -> None:
        """A call went through: the next 429 starts the backoff afresh."""
        self.backoff = BACKOFF_FIRST

    def failed(self, err: BackendError, host: str) -> None:
        """Take an error into account and tell the user what it means."""
        hint = f" {err.hint}" if err.hint else ""
        if isinstance(err, AuthenticationError):
            self.key_rejected = True
            self.reporter.show_once(
                f"auth:{host}",
                f"fim-lsp: {err.message}.{hint} Suggestions are paused until the settings change.",
                error=True,
            )
            self.reporter.status("error", "API key rejected")
        elif isinstance(err, RateLimitError):
            wait = err.retry_after if err.retry_after is not None else self.backoff
            wait = min(wait, RETRY_AFTER_CAP)
            self.backoff = min(BACKOFF_CAP, self.backoff * 2)
            self.blocked_until = self._clock() + wait
            self.reporter.log(f"fim-lsp: {err.message}; waiting {wait:g} s", error=False)
            self.reporter.status("error", f"rate limited: suggestions resume in {wait:g} s")
        elif isinstance(err, ModelLoadingError):
            self.reporter.log(f"fim-lsp: {err.message}", error=False)
            self.reporter.status("error", "model loading")
        elif isinstance(err, RequestRejectedError):
            self.reporter.show_once(
                f"rejected:{err.message}", f"fim-lsp: {err.message}.{hint}", error=True
            )
            self.reporter.status("error", err.message)
        else:
            kind = "connection" if isinstance(err, APIConnectionError) else "error"
            self.reporter.log(f"fim-lsp: {kind}: {err.message}{hint}", error=True)
            self.reporter.status("error", err.message)

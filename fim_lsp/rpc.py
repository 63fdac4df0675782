"""JSON-RPC hygiene: what makes a message answerable, short reasons for bad params, quiet logs.

pygls structures a message's params before any handler runs; when that fails it answers nothing
and pops up "Error in server". These pieces let the protocol answer every request instead
(-32600 for a malformed request, -32602 for bad params) and log each problem once in a while.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import cattrs

INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

# How often the same kind of problem is logged; the lines in between are counted, not written.
LOG_INTERVAL = 10.0
# Field paths named in one invalid-params reason.
_MAX_PATHS = 3


def valid_id(value: Any) -> bool:
    """Whether `value` is an LSP message id (integer or string; a bool is not an integer)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)


@dataclass(frozen=True)
class InvalidMessage:
    """A message that could not be structured: answered with `code` if it is a request."""

    jsonrpc: str
    method: str
    reason: str
    code: int = INVALID_PARAMS
    # Set only when the message is a request that can be answered.
    id: int | str | None = None
    # Set when the message is a response (to a request of the server's) that did not fit.
    response_to: int | str | None = None


def check_envelope(data: dict[str, Any]) -> InvalidMessage | None:
    """The problem with a message's JSON-RPC envelope (id, method, version), if any."""
    method = data.get("method")
    msg_id = data.get("id")
    answerable = valid_id(msg_id) and method is not None
    if data.get("jsonrpc") != "2.0":
        reason = f"jsonrpc must be '2.0', got {_short(data.get('jsonrpc'))}"
    elif "method" in data and not isinstance(method, str):
        reason = f"method must be a string, got {_short(method)}"
    elif "id" in data and not valid_id(msg_id):
        reason = f"id must be an integer or a string, got {_short(msg_id)}"
        answerable = False
    elif "method" not in data and "id" not in data:
        reason = "neither a request, a notification nor a response"
    else:
        return None
    return InvalidMessage(
        jsonrpc="2.0",
        method=method if isinstance(method, str) else "",
        reason=reason,
        code=INVALID_REQUEST,
        id=msg_id if answerable else None,
    )


def params_problem(error: Exception) -> str:
    """A one-line reason why params did not fit their type, naming the fields at fault."""
    if isinstance(error, cattrs.BaseValidationError):
        try:
            paths = cattrs.transform_error(error)
        except Exception:  # a reason is a courtesy: never fail on it
            paths = []
        if paths:
            more = len(paths) - _MAX_PATHS
            text = "; ".join(p.replace("$.", "", 1) for p in paths[:_MAX_PATHS])
            return text + (f"; and {more} more" if more > 0 else "")
    return f"{type(error).__name__}: {_short(str(error), 120)}"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class RateLimitedLog:
    """Log lines that say the same kind of thing at most once per `interval` seconds per key."""

    logger: logging.Logger
    interval: float = LOG_INTERVAL
    _last: dict[str, float] = field(default_factory=dict)
    _held: dict[str, int] = field(default_factory=dict)

    def __call__(
        self, key: str, level: int, message: str, *args: Any, exc_info: Any = None
    ) -> None:
        """Log `message % args` unless `key` was logged within the interval (then count it)."""
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return
        if len(self._last) > 1000:  # keys come from a fixed set of messages; stay bounded anyway
            self._last.clear()
            self._held.clear()
        self._last[key] = now
        held = self._held.pop(key, 0)
        if held:
            message += " (and %d more like it since)"
            args = (*args, held)
        self.logger.log(level, message, *args, exc_info=exc_info)

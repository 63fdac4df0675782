"""Suggestion cache (LRU + TTL) and typing through a suggestion already shown."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from cachetools import TTLCache

from .backends import CacheKey
from .postprocess import Suggestion
from .postprocess.rest import AUTO_CLOSED


class SuggestionCache:
    """Finished suggestions (or the knowledge that there is none) by cache key.

    The key is the rendered request (URL and body, never the API key's header): whatever
    decides the model's answer is in it, because it is what was sent.
    """

    _MISSING = object()

    def __init__(self, maxsize: int = 512, ttl: float = 600.0) -> None:
        self._entries: TTLCache[CacheKey, Suggestion | None] = TTLCache(maxsize=maxsize, ttl=ttl)

    def get(self, key: CacheKey) -> tuple[bool, Suggestion | None]:
        """(found, suggestion); a found None means the model had nothing to say here."""
        value = self._entries.get(key, self._MISSING)
        if value is self._MISSING:
            return False, None
        assert value is None or isinstance(value, Suggestion)
        return True, value

    def put(self, key: CacheKey, suggestion: Suggestion | None) -> None:
        """Remember a finished answer."""
        self._entries[key] = suggestion


@dataclass(frozen=True)
class Shown:
    """The suggestion last given for a document, and where."""

    prompt: str
    suffix: str
    suggestion: Suggestion


def typed_since(old: str, new: str, limit: int) -> str | None:
    """The text typed after prompt `old` to reach prompt `new` (at most `limit` characters).

    The windows may start at different lines (the budget moves with the cursor), so when `new`
    does not simply extend `old` the two are aligned at their ends. None when they don't align.
    """
    if new.startswith(old):
        return new[len(old) :] if len(new) - len(old) <= limit else None
    for typed_len in range(min(len(new), limit) + 1):
        end = len(new) - typed_len
        if end and new.endswith(old[max(0, len(old) - end) :], 0, end):
            return new[end:]
    return None


def type_through(shown: Shown, prompt: str, suffix: str) -> Suggestion | None:
    """What is left of `shown` after the user typed its first characters; None if they diverged.

    An editor may auto-close a bracket the user types into the suggestion; that bracket then
    stands after the cursor, and the remaining suggestion's range covers it.
    """
    text = shown.suggestion.text
    extra = len(suffix) - len(shown.suffix)
    if extra < 0 or not suffix.endswith(shown.suffix):
        return None
    inserted = suffix[:extra]
    if any(c not in AUTO_CLOSED for c in inserted):
        return None
    typed = typed_since(shown.prompt, prompt, len(text))
    if not typed or not text.startswith(typed):
        return None
    rest = text[len(typed) :]
    first_line = rest.split("\n", 1)[0].rstrip("\r")
    if inserted and not first_line.rstrip().endswith(inserted):
        return None
    if not rest.strip():
        return None
    return Suggestion(rest, shown.suggestion.replace + len(inserted))


class Recent:
    """The last few suggestions finished per document, for typing through them."""

    def __init__(self, per_document: int = 4) -> None:
        self._per_document = per_document
        self._by_uri: dict[str, deque[Shown]] = {}

    def remember(self, uri: str, shown: Shown) -> None:
        """A suggestion was finished (or served from the cache) for this document."""
        recent = self._by_uri.setdefault(uri, deque(maxlen=self._per_document))
        if not recent or recent[0] != shown:
            recent.appendleft(shown)

    def typed_through(self, uri: str, prompt: str, suffix: str) -> Suggestion | None:
        """What is left of a recent suggestion the user has been typing, if any."""
        for shown in self._by_uri.get(uri, ()):
            rest = type_through(shown, prompt, suffix)
            if rest is not None:
                return rest
        return None

    def forget(self, uri: str) -> None:
        """The document closed."""
        self._by_uri.pop(uri, None)

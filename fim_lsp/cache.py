"""Suggestion cache (LRU + TTL) and typing through a suggestion already shown."""

from __future__ import annotations

from dataclasses import dataclass

from cachetools import TTLCache

from .postprocess import Suggestion
from .settings import Settings

# Characters an editor inserts by itself after the cursor (auto-closed pairs).
_AUTO_CLOSED = frozenset(")]}>\"'`")

CacheKey = tuple[str, str, int, float, tuple[str, ...], str, str]


def cache_key(settings: Settings, prompt: str, suffix: str) -> CacheKey:
    """Everything that decides the model's answer."""
    return (
        settings.base_url,
        settings.model,
        settings.max_tokens,
        settings.temperature,
        settings.stop,
        prompt,
        suffix,
    )


class SuggestionCache:
    """Finished suggestions (or the knowledge that there is none) by cache key."""

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

    def clear(self) -> None:
        """Forget everything (settings changed)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class Shown:
    """The suggestion last given for a document, and where."""

    prompt: str
    suffix: str
    suggestion: Suggestion


def type_through(shown: Shown, prompt: str, suffix: str) -> Suggestion | None:
    """What is left of `shown` after the user typed its first characters; None if they diverged.

    The windows before and after may start at different lines (the budget moves with the
    cursor), so they are compared at their ends. An editor may auto-close a bracket the user
    types into the suggestion; that bracket then stands after the cursor, and the remaining
    suggestion's range covers it.
    """
    text = shown.suggestion.text
    old = shown.prompt
    extra = len(suffix) - len(shown.suffix)
    if extra < 0 or not suffix.endswith(shown.suffix):
        return None
    inserted = suffix[:extra]
    if any(c not in _AUTO_CLOSED for c in inserted):
        return None
    for typed_len in range(1, min(len(text), len(prompt)) + 1):
        if not prompt.endswith(text[:typed_len]):
            continue
        end = len(prompt) - typed_len
        if old and end == 0:
            continue
        if not prompt.endswith(old if len(old) <= end else old[len(old) - end :], 0, end):
            continue
        rest = text[typed_len:]
        first_line = rest.split("\n", 1)[0].rstrip("\r")
        if inserted and not first_line.rstrip().endswith(inserted):
            return None
        if not rest.strip():
            return None
        return Suggestion(rest, shown.suggestion.replace + len(inserted))
    return None

"""Cache keys and typing through a suggestion already shown."""

from __future__ import annotations

from fim_lsp.backends import backend_for
from fim_lsp.cache import Recent, Shown, SuggestionCache, type_through
from fim_lsp.context import FimContext
from fim_lsp.postprocess import Suggestion
from fim_lsp.settings import Settings


def cache_key(settings: Settings, prompt: str, suffix: str):
    """The key the engine uses: the rendered request of the settings' backend."""
    return backend_for(settings.backend).render(FimContext(prompt, suffix), settings).key


def test_key_covers_everything_that_decides_the_answer() -> None:
    base = Settings(endpoint="http://a")
    key = cache_key(base, "p", "s")
    assert key == cache_key(Settings(endpoint="http://a/"), "p", "s")
    for other in (
        cache_key(Settings(endpoint="http://b"), "p", "s"),
        cache_key(Settings(endpoint="http://a", model="m2"), "p", "s"),
        cache_key(Settings(endpoint="http://a", max_tokens=8), "p", "s"),
        cache_key(Settings(endpoint="http://a", temperature=0.5), "p", "s"),
        cache_key(Settings(endpoint="http://a", stop=("x",)), "p", "s"),
        cache_key(Settings(endpoint="http://a", top_p=0.5), "p", "s"),
        cache_key(Settings(endpoint="http://a", backend="ollama"), "p", "s"),
        cache_key(Settings(endpoint="http://a", backend="openai", template="qwen"), "p", "s"),
        cache_key(base, "p2", "s"),
        cache_key(base, "p", "s2"),
    ):
        assert other != key
    # The key never depends on the API key: switching keys must not serve another account's text.
    assert cache_key(Settings(endpoint="http://a", api_key="x"), "p", "s") == key


def test_cache_remembers_none_as_an_answer() -> None:
    cache = SuggestionCache()
    key = cache_key(Settings(), "p", "s")
    assert cache.get(key) == (False, None)
    cache.put(key, None)
    assert cache.get(key) == (True, None)
    cache.put(key, Suggestion("x"))
    assert cache.get(key) == (True, Suggestion("x"))


SHOWN = Shown("def add(a, b):\n    return ", "\n", Suggestion("a + b"))


def test_typing_the_predicted_characters() -> None:
    assert type_through(SHOWN, SHOWN.prompt + "a", "\n") == Suggestion(" + b")
    assert type_through(SHOWN, SHOWN.prompt + "a +", "\n") == Suggestion(" b")


def test_diverging_text_or_suffix_is_no_match() -> None:
    assert type_through(SHOWN, SHOWN.prompt + "x", "\n") is None
    assert type_through(SHOWN, SHOWN.prompt + "a", "\nmore") is None
    assert type_through(SHOWN, "something else entirely a", "\n") is None


def test_typing_it_all_leaves_nothing() -> None:
    assert type_through(SHOWN, SHOWN.prompt + "a + b", "\n") is None


def test_window_that_moved_its_start_still_matches() -> None:
    # The prompt budget dropped the first line after typing: compare at the ends.
    assert type_through(SHOWN, "    return a", "\n") == Suggestion(" + b")


def test_auto_closed_bracket_is_covered() -> None:
    shown = Shown("x = ", "\n", Suggestion("add(1, 2)"))
    # The user typed "add(" and the editor inserted ")" after the cursor.
    assert type_through(shown, "x = add(", ")\n") == Suggestion("1, 2)", replace=1)
    assert type_through(shown, "x = add(", "]\n") is None


def test_recent_suggestions_are_typed_through_per_document() -> None:
    recent = Recent()
    recent.remember("a", Shown("x = ", "\n", Suggestion("foo(1)")))
    assert recent.typed_through("a", "x = fo", "\n") == Suggestion("o(1)")
    assert recent.typed_through("b", "x = fo", "\n") is None
    recent.forget("a")
    assert recent.typed_through("a", "x = fo", "\n") is None

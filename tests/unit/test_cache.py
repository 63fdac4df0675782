"""Cache keys and typing through a suggestion already shown."""

from __future__ import annotations

import dataclasses

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


def test_key_tells_apart_bodies_whose_parts_join_alike() -> None:
    settings = Settings(endpoint="http://a")
    # The cursor one character over: the same characters, split otherwise.
    assert cache_key(settings, "ab", "c") != cache_key(settings, "a", "bc")
    assert cache_key(settings, "", "ab") != cache_key(settings, "ab", "")
    render = backend_for("codestral").render(FimContext("p", "s"), settings)
    for body, other in (
        ({"n": 1}, {"n": True}),  # JSON 1 and true
        ({"n": 1}, {"n": 1.0}),  # sent as 1 and 1.0
        ({"a": None}, {"a": "None"}),
        ({"a": ["x", "y"]}, {"a": ["xy"]}),
        ({"a": "b", "c": "d"}, {"a": "bc", "": "d"}),
    ):
        first = dataclasses.replace(render, body=body).key
        assert first != dataclasses.replace(render, body=other).key, (body, other)
        assert first == dataclasses.replace(render, body=dict(body)).key


def test_key_is_a_small_digest_whatever_the_prompt() -> None:
    # A cache of 512 entries must not hold 512 prompts: with the largest windows allowed that
    # would be hundreds of megabytes for ten minutes.
    settings = Settings(endpoint="http://a")
    small, large = cache_key(settings, "p", "s"), cache_key(settings, "x" * 400_000, "y" * 4000)
    assert isinstance(large, bytes)
    assert len(small) == len(large) == 16
    # A lone surrogate (an editor's half of a pair) is text like any other, not a crash.
    assert cache_key(settings, "a\ud800", "") != cache_key(settings, "a\udc00", "")


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

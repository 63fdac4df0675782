"""Per-document debounce and supersession."""

from __future__ import annotations

import asyncio

import pytest

from fim_lsp.scheduler import Rhythm, Scheduler, Spot, Superseded, spot_at


async def test_newer_request_supersedes_the_waiting_one_at_once() -> None:
    scheduler = Scheduler()
    first = scheduler.enter("doc")
    waiting = asyncio.ensure_future(scheduler.debounce(first, 10))
    await asyncio.sleep(0)
    second = scheduler.enter("doc")
    with pytest.raises(Superseded):
        await asyncio.wait_for(waiting, 1)
    await scheduler.debounce(second, 0.01)


async def test_other_documents_are_independent() -> None:
    scheduler = Scheduler()
    a = scheduler.enter("a")
    scheduler.enter("b")
    await scheduler.debounce(a, 0.01)


def test_rhythm_starts_from_the_setting_then_follows_the_typing() -> None:
    rhythm = Rhythm()
    kwargs = {"fixed": 0.075, "low": 0.03, "high": 0.3, "adaptive": True}
    assert rhythm.delay(spot=Spot.PARTIAL, **kwargs) == 0.075
    now = 0.0
    for _ in range(20):
        now += 0.1
        rhythm.keystroke("doc", now)
    mid_word = rhythm.delay(spot=Spot.PARTIAL, **kwargs)
    word_end = rhythm.delay(spot=Spot.WORD_END, **kwargs)
    punctuation = rhythm.delay(spot=Spot.PUNCTUATION, **kwargs)
    space = rhythm.delay(spot=Spot.OTHER, **kwargs)
    # Well past a typical gap inside a word; about a gap where users often pause.
    assert 0.1 < mid_word <= 0.3
    assert word_end < 0.1 and punctuation < 0.1
    assert max(word_end, punctuation) < space < mid_word
    # A pause is not a typing gap.
    rhythm.keystroke("doc", now + 5)
    assert rhythm.delay(spot=Spot.PARTIAL, **kwargs) == mid_word
    # A model much slower than the typing shortens the wait.
    rhythm.model_latency(1.0)
    assert rhythm.delay(spot=Spot.PARTIAL, **kwargs) < mid_word
    # Bounds and the fixed mode.
    assert rhythm.delay(spot=Spot.PARTIAL, fixed=0.075, low=0.2, high=0.3, adaptive=True) >= 0.2
    assert rhythm.delay(spot=Spot.PARTIAL, fixed=0.075, low=0.03, high=0.3, adaptive=False) == 0.075


@pytest.mark.parametrize(
    ("prompt", "suffix", "spot"),
    [
        ("def f(x):", "", Spot.PUNCTUATION),
        ("items = [", "", Spot.PUNCTUATION),
        ("x = 1\n", "", Spot.PUNCTUATION),
        ("return ", "", Spot.OTHER),
        ("a +", "", Spot.OTHER),
        ("", "", Spot.OTHER),
        # A name the file already uses, before the cursor or after it.
        ("self.count = 0\nself.count", "", Spot.WORD_END),
        ("x = 1\nreturn", "\n    return None", Spot.WORD_END),
        ("if x:\n    if", "", Spot.WORD_END),
        # Only as part of a longer word: still being typed.
        ("counter = 0\ncount", "", Spot.PARTIAL),
        ("x = 1\nretu", "\nreturn None", Spot.PARTIAL),
        ("value = _val", "", Spot.PARTIAL),
        ("x = 1\nre", "", Spot.PARTIAL),
        # A new line: its indentation (after Enter), its first character.
        ("if x:\n    ", "", Spot.LINE_START),
        ("if x:\n    r", "", Spot.LINE_START),
        ("x", "", Spot.LINE_START),
        ("x = 1\n\t\tr", "", Spot.LINE_START),
        ("x = 1\n    (", "", Spot.PUNCTUATION),
    ],
)
def test_spot_at(prompt: str, suffix: str, spot: Spot) -> None:
    assert spot_at(prompt, suffix) is spot


def test_spot_at_judges_a_long_word_by_its_tail() -> None:
    word = "a" * 30 + "b" * 30
    tail = word[-48:]
    # Its last 48 characters stand alone earlier in the file: counted as a word typed before.
    assert spot_at(tail + "\n" + word, "") is Spot.WORD_END
    assert spot_at(tail[1:] + "\n" + word, "") is Spot.PARTIAL


def test_spot_at_looks_at_a_bounded_number_of_occurrences() -> None:
    # The word is a whole word only after many occurrences inside longer words: not found, and
    # the cost stays bounded.
    prompt = "countx " * 200 + "count = 0\ncount"
    assert spot_at(prompt, "") is Spot.PARTIAL
    assert spot_at("countx " * 10 + "count = 0\ncount", "") is Spot.WORD_END

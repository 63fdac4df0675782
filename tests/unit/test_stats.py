"""Local statistics: counting, cheap flushing to the state folder, reading back, the report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fim_lsp import stats
from fim_lsp.stats import (
    Day,
    Recorder,
    partial_accept,
    percentile,
    read_days,
    report,
    shown_text,
    state_dir,
    utf16_prefix,
)

TODAY = date(2026, 12, 1)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def recorder(path: Path, clock: Clock, day: list[date] | None = None) -> Recorder:
    days = day or [TODAY]
    return Recorder(path, clock=clock, today=lambda: days[0])


def cells(text: str, name: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return line[len(name) :].split()


def test_state_dir_follows_xdg_and_defaults_to_local_state() -> None:
    assert state_dir({"XDG_STATE_HOME": "/x/state", "HOME": "/home/u"}) == Path("/x/state/fim-lsp")
    assert state_dir({"HOME": "/home/u"}) == Path("/home/u/.local/state/fim-lsp")
    # The spec ignores a relative value.
    assert state_dir({"XDG_STATE_HOME": "rel", "HOME": "/home/u"}) == Path(
        "/home/u/.local/state/fim-lsp"
    )


def test_utf16_prefix_counts_surrogate_pairs_and_keeps_whole_characters() -> None:
    assert utf16_prefix("a😀b", 1) == "a"
    assert utf16_prefix("a😀b", 2) == "a"  # half an emoji is no character
    assert utf16_prefix("a😀b", 3) == "a😀"
    assert utf16_prefix("a😀b", 99) == "a😀b"
    assert utf16_prefix("abc", 0) == ""


def test_notification_params_as_dicts_or_objects() -> None:
    class Obj:
        def __init__(self, **fields: object) -> None:
            self.__dict__.update(fields)

    item = {"insertText": "a😀bc", "range": None}
    assert shown_text({"item": item}) == "a😀bc"
    assert shown_text(Obj(item=Obj(insertText=Obj(kind="snippet", value="x")))) == "x"
    assert shown_text({}) == "" and shown_text(None) == ""
    assert partial_accept({"item": item, "acceptedLength": 3}) == ("a😀bc", 2)
    assert partial_accept(Obj(item=Obj(insertText="abc"), acceptedLength=-1)) == ("abc", 0)
    assert partial_accept({"item": item, "acceptedLength": "2"}) == ("a😀bc", 0)


def test_nothing_is_written_per_event_only_on_flush(tmp_path: Path) -> None:
    path = tmp_path / "state" / "stats.jsonl"
    clock = Clock()
    rec = recorder(path, clock)
    for i in range(50):
        rec.suggested("model", 120.0)
        rec.shown(f"suggestion {i}")
        rec.maybe_flush()
    assert not path.exists()
    clock.now += stats.FLUSH_SECONDS
    rec.accepted(5)
    rec.maybe_flush()
    [line] = path.read_text().splitlines()
    data = json.loads(line)
    assert data["day"] == "2026-12-01"
    assert (data["suggested"], data["shown"], data["accepted"], data["chars_accepted"]) == (
        50,
        50,
        1,
        5,
    )
    # The next flush appends only what was counted since.
    rec.partially_accepted("abc", 3)
    rec.flush()
    rec.flush()  # nothing new: no line
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1]) == {
        "day": "2026-12-01",
        "partial": 1,
        "chars_accepted": 3,
        "reports_shown": True,
    }


def test_model_calls_count_the_engines_increase(tmp_path: Path) -> None:
    rec = recorder(tmp_path / "s.jsonl", Clock())
    rec.model_calls(0)
    rec.model_calls(3)
    rec.model_calls(3)
    rec.model_calls(5)
    rec.flush()
    assert read_days(tmp_path / "s.jsonl")["2026-12-01"].model_calls == 5


def test_days_are_kept_apart_and_summed_per_period(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    day = [date(2026, 11, 1)]
    rec = recorder(path, Clock(), day)
    rec.suggested("model", 100.0)
    rec.accepted(10)
    day[0] = date(2026, 11, 26)  # six days before TODAY: inside the 7 days
    rec.suggested("cache", 1.0)
    rec.accepted(4)
    day[0] = date(2026, 11, 24)  # eight days before: all time only
    rec.suggested("typed", 2.0)
    day[0] = TODAY
    rec.suggested("model", 300.0)
    rec.suggested("model", 200.0)
    rec.accepted(7)
    rec.flush()
    text = report(read_days(path), TODAY)
    # The typed-through answer is the rest of a suggestion already counted.
    assert cells(text, "suggestions shown") == ["2", "3", "4"]
    assert cells(text, "accepted") == ["1", "2", "3"]
    assert cells(text, "dismissed") == ["1", "1", "1"]
    assert cells(text, "characters accepted") == ["7", "11", "21"]
    assert cells(text, "acceptance rate") == ["50%", "(1/2)", "67%", "(2/3)", "75%", "(3/4)"]
    assert cells(text, "latency p50") == ["200", "ms", "200", "ms", "100", "ms"]
    assert cells(text, "latency p90") == ["300", "ms", "300", "ms", "300", "ms"]
    assert cells(text, "from model/cache/typed") == ["2/0/0", "2/1/0", "3/1/1"]


def test_shown_comes_from_the_client_when_it_reports_it(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    rec = recorder(path, Clock())
    # A client that reports what it showed: answers it never showed are not counted as seen.
    for _ in range(4):
        rec.suggested("model", 50.0)
    rec.shown("abc")
    rec.shown("xyz")
    rec.accepted(3)
    rec.flush()
    # Another session the same day from a client that does not (Emacs, Helix): answers count.
    other = recorder(path, Clock())
    other.suggested("model", 50.0)
    other.suggested("model", 50.0)
    other.accepted(1)
    other.flush()
    text = report(read_days(path), TODAY)
    assert cells(text, "suggestions shown")[0] == "4"
    assert cells(text, "accepted")[0] == "2"
    assert cells(text, "dismissed")[0] == "2"


def test_empty_and_broken_files_are_read_without_error(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    assert read_days(path) == {}
    text = report({}, TODAY)
    assert cells(text, "acceptance rate") == ["-", "-", "-"]
    assert cells(text, "latency p50") == ["-", "-", "-"]
    path.write_text(
        '{"day":"2026-12-01","accepted":2,"suggested":2}\n'
        "not json\n"
        '{"day":"yesterday","accepted":9}\n'
        '{"accepted":9}\n'
        '{"day":"2026-12-01","accepted":-4,"latency_ms":["x",12]}\n'
        '{"day":"2026-12-01","accepted":1,"suggested":1'  # a line cut by a crash
    )
    day = read_days(path)["2026-12-01"]
    assert (day.accepted, day.suggested, day.latency_ms) == (2, 2, [12.0])


def test_a_big_file_is_compacted_to_one_line_per_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.jsonl"
    monkeypatch.setattr(stats, "COMPACT_BYTES", 500)
    day = [date(2026, 11, 30)]
    rec = recorder(path, Clock(), day)
    for i in range(40):
        day[0] = date(2026, 11, 30) if i % 2 else TODAY
        rec.suggested("model", float(i))
        rec.accepted(1)
        rec.flush()
    lines = path.read_text().splitlines()
    assert len(lines) < 40
    days = read_days(path)
    assert days["2026-11-30"].accepted + days["2026-12-01"].accepted == 40
    assert sorted(days["2026-12-01"].latency_ms) == [float(i) for i in range(0, 40, 2)]


def test_an_unwritable_state_folder_costs_nothing_but_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    rec = recorder(blocker / "fim-lsp" / "s.jsonl", Clock())
    rec.accepted(1)
    rec.flush()
    rec.accepted(1)
    rec.flush()
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_partial_lengths_are_totals_per_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    rec = recorder(path, Clock())
    # A word, then another word of the same suggestion, then the rest with Tab.
    rec.partially_accepted("return a + b", 6)
    rec.partially_accepted("return a + b", 8)
    rec.accepted(12, "return a + b")
    # Another suggestion, accepted whole at once.
    rec.accepted(5, "x = 1")
    rec.flush()
    day = read_days(path)["2026-12-01"]
    assert (day.partial, day.accepted, day.chars_accepted) == (1, 1, 17)


def test_the_rest_of_a_partly_accepted_suggestion_is_the_same_suggestion(tmp_path: Path) -> None:
    # Neovim's ghost text asks again after a word accept and gets the rest as a new item.
    path = tmp_path / "s.jsonl"
    rec = recorder(path, Clock())
    rec.partially_accepted("total = a + b", 5)  # "total"
    rec.partially_accepted(" = a + b", 2)  # " =" of the rest, a new item
    rec.accepted(len(" a + b"), " a + b")  # Tab on the rest of the rest
    rec.flush()
    day = read_days(path)["2026-12-01"]
    assert (day.partial, day.accepted, day.chars_accepted) == (1, 0, len("total = a + b"))


def test_typing_through_a_shown_suggestion_is_one_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    rec = recorder(path, Clock())
    rec.suggested("model", 100.0)
    rec.shown("return a + b")
    for rest in ("eturn a + b", "turn a + b", "urn a + b"):  # one key at a time
        rec.suggested("typed", 1.0)
        rec.shown(rest)
    rec.accepted(len("urn a + b"), "urn a + b")
    rec.suggested("cache", 1.0)
    rec.shown("return a + b")  # the same place again, after the accept: shown again
    rec.shown("x = 1")
    rec.flush()
    day = read_days(path)["2026-12-01"]
    assert (day.shown, day.suggested, day.accepted) == (3, 2, 1)
    assert day.sources == {"model": 1, "typed": 3, "cache": 1}
    assert len(day.latency_ms) == 5


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([float(v) for v in range(1, 11)], 50) == 5.0
    assert percentile([float(v) for v in range(1, 11)], 90) == 9.0


def test_day_round_trips_through_its_line() -> None:
    day = Day(suggested=3, shown=2, accepted=1, chars_accepted=9, model_calls=2)
    day.sources["cache"] = 1
    day.latency_ms.append(12.345)
    day.reports_shown = True
    back = Day.from_json(json.loads(json.dumps(day.to_json("2026-12-01"))))
    assert back.to_json("d") == {**day.to_json("d"), "latency_ms": [12.3]}

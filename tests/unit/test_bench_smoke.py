"""Smoke test of the latency benchmark: a tiny `scripts/bench.py --quick` run gives sane JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from bench_metrics import RequestRecord, percentile, summarize_replay  # noqa: E402
from bench_oracle import MockCall, MockInfo, Oracle, Region  # noqa: E402
from bench_replay import logged_debounces, pick_cases  # noqa: E402


def test_percentile_interpolates() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([float(i) for i in range(101)], 90) == 90.0


def _call(started: float, tokens: list[float], cursor: int, *, completed: bool) -> MockCall:
    return MockCall(
        started=started,
        answered=tokens[-1] if completed else None,
        finished=tokens[-1] + 0.001,
        chunks_sent=len(tokens) + 1,
        completed=completed,
        disconnected=not completed,
        token_times=tokens,
        info=MockInfo("r", cursor, wrong=not completed),
    )


def _summary(calls: list[MockCall]) -> dict[str, Any]:
    """The metrics of one answer: the key for cursor 11 at 0.1, answered at 0.502 after the
    75 ms debounce the server reported."""
    rec = RequestRecord("r", 11, sent=0.1, done=0.502, items=[{}], source="model")
    rec.applied_debounce = 0.075
    summary, _ = summarize_replay(
        [rec], [], calls, keystrokes=10, debounce=0.075, cpu=0.1, rss_mb=50.0, wall=1.0
    )
    return summary


def test_server_added_counts_a_wait_on_a_stream_that_went_another_way_as_model_time() -> None:
    # A stream for cursor 10 starts at 0; the key for cursor 11 comes at 0.1. The stream's first
    # token (at 0.2) goes another way; the server starts a call for cursor 11 at 0.203, whose
    # last token is at 0.5; the editor has the answer at 0.502.
    miss = _call(0.0, [0.2], 10, completed=False)
    own = _call(0.203, [0.4, 0.5], 11, completed=True)
    summary = _summary([miss, own])
    # 3 ms from the other stream's token to the new call, 2 ms from the last token to the editor.
    assert summary["server_added_ms"]["n"] == 1
    assert summary["server_added_ms"]["p50"] == pytest.approx(5.0, abs=0.01)
    # The strict reading counts the 25 ms between the debounce's end and that token as well.
    strict = summary["server_added_strict_ms"]
    assert strict["p50"] == pytest.approx(30.0, abs=0.01)
    assert strict["after_a_reuse_miss"] == 1


def test_a_stream_dropped_at_once_was_not_waited_on() -> None:
    # The same timeline, but the server dropped the earlier stream when the key came (its last
    # token at 0.1005, long before the debounce ended) and its call for cursor 11 started at
    # 0.203 all the same: those 28 ms are the server's.
    dropped = _call(0.0, [0.1005], 10, completed=False)
    own = _call(0.203, [0.4, 0.5], 11, completed=True)
    summary = _summary([dropped, own])
    assert summary["server_added_ms"]["p50"] == pytest.approx(30.0, abs=0.01)
    assert summary["server_added_strict_ms"]["after_a_reuse_miss"] == 0


def test_debounces_are_read_from_the_server_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(
        "2026-11-26 16:00:00,000 INFO fim_lsp.engine: model call 1 for file:///a.py: debounce "
        "75.0 ms, waited 74 ms, inside a word\n"
        "2026-11-26 16:00:01,000 INFO fim_lsp.server: suggestion accepted (1 so far)\n"
        "2026-11-26 16:00:02,000 INFO fim_lsp.engine: model call 2 for file:///a.py: debounce "
        "112.4 ms, waited 112 ms, after punctuation\n"
    )
    assert logged_debounces(log, 2) == pytest.approx([0.075, 0.1124])
    # A call the log does not name: the log cannot be matched to the mock's calls.
    assert logged_debounces(log, 3) is None
    assert logged_debounces(tmp_path / "missing.log", 0) is None


def test_oracle_answers_the_true_continuation() -> None:
    truth = "def f(a):\n    x = a + 1\n    return x\n\nprint(f(2))\n"
    start = truth.index("x = a")
    region = Region("0:1", start, truth.index("\n\nprint"))
    oracle = Oracle(seed=3, wrong_share=0.0)
    oracle.set_region(truth, region)
    # Mid-line: the rest of the line.
    assert oracle.responder({"prompt": truth[: start + 2], "suffix": ""}).text == "= a + 1"
    # At a line end: the next lines, clipped to the region.
    reply = oracle.responder({"prompt": truth[: truth.index("\n    return")], "suffix": ""})
    assert reply.text == "\n    return x"
    # A prompt that is not the truth gets nothing.
    assert oracle.responder({"prompt": "nonsense", "suffix": ""}).text == ""


def test_cases_are_seeded() -> None:
    a = pick_cases(2, 2, seed=5)
    b = pick_cases(2, 2, seed=5)
    assert [(c.path, [(r.start, r.end) for r in c.regions]) for c in a] == [
        (c.path, [(r.start, r.end) for r in c.regions]) for c in b
    ]
    for case in a:
        for r in case.regions:
            assert 0 < r.end - r.start <= 200
            assert case.text[r.end] == "\n"


@pytest.mark.timeout(90)
def test_quick_run_writes_sane_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "bench.py"),
            "--quick",
            "--files",
            "1",
            "--regions",
            "2",
            "--seed",
            "2",
            "--ttft-ms",
            "100",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=80,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "server-added p50" in proc.stdout
    assert "PASS" in proc.stdout or "FAIL" in proc.stdout
    result = json.loads(out.read_text())
    fim, base = result["fim_lsp"], result["baseline"]
    for run in (fim, base, result["fim_lsp_fixed_debounce"]):
        assert run["keystrokes"] > 5
        assert run["upstream_calls"] > 0 and run["calls_per_keystroke"] > 0
        assert 0 <= run["discarded_share"] <= 1
        assert run["server_cpu_s"] > 0 and run["peak_rss_mb"] > 10
        assert run["pause_coverage"] is None or 0 <= run["pause_coverage"] <= 1
        if run["server_added_ms"]["n"]:
            assert 0 <= run["server_added_ms"]["p50"] < 1000
    # The baseline types every character (suggestions arrive only in pauses) and sees answers.
    assert base["keystrokes"] > 10 and base["pauses"] > 0
    assert base["server_added_ms"]["n"] > 0
    assert fim["server_added_ms"]["n"] + fim["typed_through_ms"]["n"] > 0
    # The fixed-debounce run makes no calls ahead of a request: its answers come from calls of
    # their own, which is what its exact server-added latency needs.
    assert result["fim_lsp_fixed_debounce"]["server_added_ms"]["n"] > 0
    # Debounce 0 and no cancellation shortcuts: the baseline calls the model more often.
    assert base["upstream_calls"] > fim["upstream_calls"]
    assert result["comparison"]["calls_per_keystroke_baseline_over_fim"] > 1
    assert result["many_docs"]["peak_rss_mb"] > result["many_docs"]["rss_before_mb"]
    statuses = {row["status"] for row in result["targets"]}
    assert statuses <= {"PASS", "FAIL", "n/a", "info"}
    # Issue 3's targets (11) and issue 17's (5).
    assert sum(row["status"] != "info" for row in result["targets"]) == 16
    for run in (fim, base):
        assert len(run["pause_details"]) == run["pauses"]
        assert all(d["model_first_line_ms"] >= 100 for d in run["pause_details"])
        assert len(run["call_details"]) == run["upstream_calls"]

"""Smoke test of the latency benchmark: a tiny `scripts/bench.py --quick` run gives sane JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from bench_metrics import percentile  # noqa: E402
from bench_oracle import Oracle, Region  # noqa: E402
from bench_replay import pick_cases  # noqa: E402


def test_percentile_interpolates() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([float(i) for i in range(101)], 90) == 90.0


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
    # Debounce 0 and no cancellation shortcuts: the baseline calls the model more often.
    assert base["upstream_calls"] > fim["upstream_calls"]
    assert result["comparison"]["calls_per_keystroke_baseline_over_fim"] > 1
    assert result["many_docs"]["peak_rss_mb"] > result["many_docs"]["rss_before_mb"]
    statuses = {row["status"] for row in result["targets"]}
    assert statuses <= {"PASS", "FAIL", "n/a"}
    assert len(result["targets"]) == 11

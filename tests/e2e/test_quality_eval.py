"""The quality evaluation over the real server: its targets are part of the test suite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quality_targets_hold_over_stdio(tmp_path: Path) -> None:
    report = tmp_path / "quality.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "eval_quality.py"),
            "--seed",
            "1",
            "--json",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(report.read_text())
    assert data["mode"] == "server"
    assert len(data["holes"]) >= 300
    failed = [name for name, ok in data["targets"].items() if not ok]
    assert not failed, (failed, result.stdout[-3000:])


def test_golden_cases_are_exact_over_stdio(tmp_path: Path) -> None:
    # The real server, a mock model streaming each case's text: what an editor would get.
    report = tmp_path / "golden.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "eval_golden.py"),
            "--server",
            "--json",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(report.read_text())
    assert len(rows) >= 300
    failed = [r["case"] for r in rows if r["outcome"] != "exact"]
    assert not failed, (failed, result.stdout[-3000:])

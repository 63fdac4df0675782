"""Benchmark report: targets with PASS/FAIL, the comparison with the naive baseline, a histogram."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench_metrics import ratio


def _get(d: dict[str, Any] | None, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def exact_run(result: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The run whose server-added latency counts, and its name.

    The debounce must be known to subtract it. The fixed-debounce run knows it for every answer
    by construction; the main run learns it from the items and the server's log, which a
    server built otherwise may not write.
    """
    fixed = result.get("fim_lsp_fixed_debounce")
    if fixed:
        return fixed, "fixed-debounce run"
    return result["fim_lsp"], "main run"


def comparisons(result: dict[str, Any]) -> dict[str, Any]:
    """Ratios baseline / fim-lsp (how many times better fim-lsp is) and coverage side by side."""
    fim, base = result["fim_lsp"], result["baseline"]
    added, _basis = exact_run(result)
    return {
        "calls_total_baseline_over_fim": _round(
            ratio(base.get("upstream_calls"), fim.get("upstream_calls"))
        ),
        "calls_per_keystroke_baseline_over_fim": _round(
            ratio(base.get("calls_per_keystroke"), fim.get("calls_per_keystroke"))
        ),
        "server_added_p50_baseline_over_fim": _round(
            ratio(_get(base, "server_added_ms", "p50"), _get(added, "server_added_ms", "p50"))
        ),
        "debounce_included_p50_baseline_over_fim": _round(
            ratio(
                _get(base, "debounce_included_ms", "p50"), _get(fim, "debounce_included_ms", "p50")
            )
        ),
        "cpu_per_keystroke_baseline_over_fim": _round(
            ratio(base.get("cpu_ms_per_keystroke"), fim.get("cpu_ms_per_keystroke"))
        ),
        "pause_coverage_fim": fim.get("pause_coverage"),
        "pause_coverage_baseline": base.get("pause_coverage"),
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _check(value: Any, ok: bool | None) -> str:
    if value is None or ok is None:
        return "n/a"
    return "PASS" if ok else "FAIL"


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue, with the measured value and PASS / FAIL / n/a."""
    fim = result["fim_lsp"]
    base = result.get("baseline") or {}
    rows: list[dict[str, Any]] = []

    def add(name: str, value: Any, limit: str, ok: bool | None) -> None:
        rows.append({"target": name, "value": value, "limit": limit, "status": _check(value, ok)})

    def at_most(name: str, value: float | None, limit: str) -> None:
        add(name, value, f"<= {limit}", None if value is None else value <= float(limit))

    exact, basis = exact_run(result)
    p50 = _get(exact, "server_added_ms", "p50")
    p99 = _get(exact, "server_added_ms", "p99")
    at_most(f"server-added p50 (ms) [{basis}]", p50, "3")
    at_most(f"server-added p99 (ms) [{basis}]", p99, "15")
    # Not a target: the same samples with a failed stream reuse counted as the server's time.
    strict = _get(exact, "server_added_strict_ms", "p99")
    rows.append(
        {
            "target": f"  strict reading p99 (ms) [{basis}]",
            "value": strict,
            "limit": "info: a reuse miss counted as server time",
            "status": "info",
        }
    )
    di = _get(fim, "debounce_included_ms", "p50")
    at_most("debounce-included latency p50 (ms)", di, "100")
    tt = _get(fim, "typed_through_ms", "p50")
    with_calls = _get(fim, "typed_through_ms", "with_model_call") or 0
    add(
        "typed-through p50 (ms), no model call",
        tt,
        "<= 3, 0 calls",
        None if tt is None else tt <= 3 and with_calls == 0,
    )
    cpk = fim.get("calls_per_keystroke")
    at_most("upstream calls per keystroke", cpk, "0.20")
    r = ratio(base.get("calls_per_keystroke"), cpk)
    add("calls: baseline / fim-lsp", _round(r), ">= 5", None if r is None else r >= 5)
    cov, bcov = fim.get("pause_coverage"), base.get("pause_coverage")
    # With the counts: fim-lsp accepts more while typing, so it pauses less, and a few pauses
    # either way move the share (a fifth of the mock's answers are wrong on purpose).
    add(
        "pause coverage (fim-lsp vs baseline)",
        None
        if cov is None
        else f"{cov:.2f} ({_share(fim)}) vs {bcov if bcov is None else f'{bcov:.2f} ({_share(base)})'}",
        ">= baseline",
        None if cov is None or bcov is None else cov >= bcov,
    )
    ds = fim.get("discarded_share")
    at_most("streamed then discarded (token share)", ds, "0.10")
    # Issue 17: the suggestion is there the moment the user pauses, at few calls.
    over50 = _get(fim, "over_model_first_line", "p50")
    over90 = _get(fim, "over_model_first_line", "p90")
    at_most("pause->screen / model's first-line time, p50", over50, "1.0")
    at_most("pause->screen / model's first-line time, p90", over90, "1.2")
    c100 = fim.get("calls_per_100_chars")
    at_most("model calls per 100 characters", c100, "2.5")
    at_most("streamed then discarded (token share), issue 17", ds, "0.15")
    shown, pauses = fim.get("pauses_shown"), fim.get("pauses")
    add(
        "pauses with a suggestion on screen",
        None if not pauses else f"{shown}/{pauses}",
        "all",
        None if not pauses else shown == pauses,
    )
    large = _get(result, "large", "10MB", "cpu_ms_per_keystroke_p50")
    at_most("10 MB doc: server CPU per keystroke p50 (ms)", large, "2")
    rss = fim.get("peak_rss_mb")
    at_most("peak RSS, replay (MB)", rss, "80")
    many = _get(result, "many_docs", "peak_rss_mb")
    at_most("peak RSS, 200 docs x 50 KB (MB)", many, "150")
    return rows


def _share(run: dict[str, Any]) -> str:
    return f"{run.get('pauses_correct')}/{run.get('pauses')}"


ROWS: list[tuple[str, tuple[str, ...]]] = [
    ("keystrokes", ("keystrokes",)),
    ("upstream calls", ("upstream_calls",)),
    ("calls / keystroke", ("calls_per_keystroke",)),
    ("calls / 100 chars", ("calls_per_100_chars",)),
    ("pause->screen p50 ms", ("pause_to_screen_ms", "p50")),
    ("pause->screen p90 ms", ("pause_to_screen_ms", "p90")),
    ("  pause samples", ("pause_to_screen_ms", "n")),
    ("model 1st line p50 ms", ("model_first_line_ms", "p50")),
    ("model 1st line p90 ms", ("model_first_line_ms", "p90")),
    ("pause / model p50", ("over_model_first_line", "p50")),
    ("pause / model p90", ("over_model_first_line", "p90")),
    ("after accept p50 ms", ("after_accept_ms", "p50")),
    ("after accept p90 ms", ("after_accept_ms", "p90")),
    ("  accept samples", ("after_accept_ms", "n")),
    ("server-added p50 ms", ("server_added_ms", "p50")),
    ("server-added p90 ms", ("server_added_ms", "p90")),
    ("server-added p99 ms", ("server_added_ms", "p99")),
    ("  samples", ("server_added_ms", "n")),
    ("strict p99 ms", ("server_added_strict_ms", "p99")),
    ("strict max ms", ("server_added_strict_ms", "max")),
    ("  after a reuse miss", ("server_added_strict_ms", "after_a_reuse_miss")),
    ("  before call p50 ms", ("server_added_ms", "before_call_p50")),
    ("  after call p50 ms", ("server_added_ms", "after_call_p50")),
    ("debounce-incl. p50 ms", ("debounce_included_ms", "p50")),
    ("debounce-incl. p90 ms", ("debounce_included_ms", "p90")),
    ("debounce-incl. max ms", ("debounce_included_ms", "max")),
    ("typed-through p50 ms", ("typed_through_ms", "p50")),
    ("typed-through p90 ms", ("typed_through_ms", "p90")),
    ("  typed-through n", ("typed_through_ms", "n")),
    ("reused-stream answers", ("reused_stream_answers",)),
    ("discarded token share", ("discarded_share",)),
    ("discarded chunk share", ("discarded_chunk_share",)),
    ("pause coverage", ("pause_coverage",)),
    ("  pauses", ("pauses",)),
    ("accepted", ("accepted",)),
    ("CPU ms / keystroke", ("cpu_ms_per_keystroke",)),
    ("peak RSS MB", ("peak_rss_mb",)),
    ("wall s", ("wall_s",)),
]


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def table(result: dict[str, Any]) -> str:
    """The short stdout report."""
    fim = result["fim_lsp"]
    base = result.get("baseline") or {}
    fixed = result.get("fim_lsp_fixed_debounce") or {}
    out = [f"{'metric':<24}{'fim-lsp':>12}{'fixed-deb.':>12}{'baseline':>12}"]
    for name, path in ROWS:
        values = (_get(fim, *path), _get(fixed, *path), _get(base, *path))
        out.append(f"{name:<24}" + "".join(f"{_fmt(v):>12}" for v in values))
    out.append("")
    for key, value in (result.get("comparison") or {}).items():
        out.append(f"{key:<44}{_fmt(value):>10}")
    if result.get("large"):
        out.append("")
        out.append(f"{'large document (same edits)':<34}{'10 MB':>10}{'10 KB':>10}")
        for key in (
            "cpu_ms_per_keystroke_p50",
            "cpu_ms_per_keystroke_p90",
            "cpu_ms_per_keystroke_without_call_p50",
            "keystrokes_without_call",
            "upstream_calls",
            "server_added_ms_p50",
            "latency_samples",
            "answer_without_call_ms_p50",
            "answers_without_call",
            "open_and_first_answer_s",
            "peak_rss_mb",
        ):
            big = _get(result, "large", "10MB", key)
            small = _get(result, "large", "10KB", key)
            out.append(f"{key:<34}{_fmt(big):>10}{_fmt(small):>10}")
    if result.get("many_docs"):
        md = result["many_docs"]
        out.append("")
        out.append(
            f"200 docs x 50 KB: peak RSS {_fmt(md.get('peak_rss_mb'))} MB "
            f"(idle {_fmt(md.get('rss_before_mb'))} MB), opened in {_fmt(md.get('open_s'))} s"
        )
    for note in result.get("notes", []):
        out.append(f"note: {note}")
    out.append("")
    for row in result.get("targets", []):
        out.append(
            f"{row['status']:<5} {row['target']:<50}{_fmt(row['value']):>14}  ({row['limit']})"
        )
    return "\n".join(out)


def histogram(samples: dict[str, dict[str, list[float]]], path: Path) -> bool:
    """A PNG of server-added latency for each run, when matplotlib is installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, runs in samples.items():
        values = [v * 1000 for v in runs.get("server_added", [])]
        if values:
            ax.hist(values, bins=40, alpha=0.6, label=label)
    ax.set_xlabel("server-added latency (ms)")
    ax.set_ylabel("requests")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True

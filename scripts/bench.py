#!/usr/bin/env python3
"""fim-lsp latency benchmark: replayed typing over stdio LSP against a mock model, versus a naive baseline.

    python scripts/bench.py                 # full run (a few minutes)
    python scripts/bench.py --quick         # under a minute (CI / smoke)
    python scripts/bench.py --large         # also the 10 MB vs 10 KB document part
    python scripts/bench.py --json out.json # machine-readable results (+ out.png with matplotlib)
    python scripts/bench.py --server-src /path/to/checkout   # benchmark another fim_lsp package dir

Runs: fim-lsp as configured (adaptive debounce), the same with a fixed 75 ms debounce and no
calls ahead of a request (so the debounce can be subtracted exactly, and most answers come from
a call of their own), and the naive baseline (debounceMs 0, "naive": true).

Server-added latency of an answer made by a call of its own: its time from request to answer,
minus its debounce, minus the model's own time. The model's own time is the call's, from the
request reaching the mock to its last token, plus any wait past the debounce on the output of a
stream already running for an earlier keystroke that then went another way (a "reuse miss":
the cost of keeping streams). The strict reading counts a reuse miss as the server's time; it
is reported beside it, and debounce-included latency counts it in full.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_replay
from bench_load import run_large, run_many_docs
from bench_replay import ReplayConfig, pick_cases, run_replay
from bench_report import comparisons, histogram, table, targets

FIM_OPTIONS: dict[str, Any] = {"debounceMs": 75}
NAIVE_OPTIONS: dict[str, Any] = {"debounceMs": 0, "naive": True}
# The same server with its adaptive debounce off: the debounce is known, so server-added latency
# is exact. Calls made ahead of a request (after an accept, reading on past an answer) answer most
# requests of the main run from streams they did not start, which leaves this measure a handful
# of samples: off here, so most answers come from a call of their own (work ahead is off too,
# as it needs the adaptive debounce).
FIXED_OPTIONS: dict[str, Any] = {
    "debounceMs": 75,
    "adaptiveDebounce": False,
    "speculateAfterAccept": False,
    "readOnLines": 0,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--files", type=int, default=None, help="source files to replay (default 5)"
    )
    parser.add_argument("--regions", type=int, default=None, help="regions per file (default 4)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ttft-ms", type=float, default=200.0, help="mock time to first token")
    parser.add_argument(
        "--token-ms", type=float, default=10.0, help="mock delay per token (~4 chars)"
    )
    parser.add_argument("--quick", action="store_true", help="a small run (under a minute)")
    parser.add_argument(
        "--long",
        action="store_true",
        help="regions of 4-10 lines (up to 600 characters): longer stretches of typing, more pauses",
    )
    parser.add_argument(
        "--blocks",
        action="store_true",
        help="the mock model's mid-line answers go on into the next 0-2 lines, as Codestral's do",
    )
    parser.add_argument(
        "--options",
        type=json.loads,
        default={},
        help="JSON settings added to fim-lsp's runs (not the baseline's), e.g. '{\"workAhead\": false}'",
    )
    parser.add_argument(
        "--wrong-share",
        type=float,
        default=0.2,
        help="share of the mock model's answers that are wrong on purpose (default 0.2)",
    )
    parser.add_argument("--large", action="store_true", help="also edit a 10 MB document")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline run")
    parser.add_argument(
        "--no-fixed",
        action="store_true",
        help="skip the fixed-debounce run (exact server-added latency)",
    )
    parser.add_argument("--no-many-docs", action="store_true", help="skip the 200-document part")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument(
        "--server-log",
        type=Path,
        default=None,
        help="write each run's server log (info level) to PATH.<run>.log",
    )
    parser.add_argument(
        "--server-src",
        type=Path,
        default=None,
        help="directory containing the fim_lsp package to run (default: the installed one)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.wrong_share <= 1:
        parser.error("--wrong-share must be between 0 and 1")
    if args.files is None:
        args.files = 1 if args.quick else 5
    if args.regions is None:
        args.regions = 2 if args.quick else 4
    return args


def git_state() -> str:
    """HEAD of the repository and whether fim_lsp/ has uncommitted changes (the server measured)."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "fim_lsp"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" + uncommitted fim_lsp changes" if dirty else "")


def notes(result: dict[str, Any]) -> list[str]:
    """Things a reader of the numbers should know about this run."""
    out: list[str] = []
    base = result.get("baseline")
    if base:
        told = [m for m in base.get("server_messages", []) if "naive" in m.lower()]
        if told:
            out.append(f"the server answered the 'naive' setting with: {told[0]!r}")
        sources = base.get("typed_through_ms", {}).get("sources", {})
        if sources.get("typed") or sources.get("cache") or base.get("reused_stream_answers"):
            out.append(
                "baseline still served answers without a model call "
                f"({sources}, reused streams {base.get('reused_stream_answers')}): "
                "the 'naive' setting is not (fully) honoured by this server"
            )
    for key in ("fim_lsp", "fim_lsp_fixed_debounce", "baseline"):
        run = result.get(key) or {}
        if run.get("out_of_time"):
            out.append(f"{key}: the replay hit its deadline and stopped early")
        if not run.get("server_added_ms", {}).get("n") and run:
            out.append(f"{key}: no model-served answer was shown (no latency samples)")
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every part of the benchmark; the results as one JSON-able dict."""
    cfg = ReplayConfig(
        ttft=args.ttft_ms / 1000,
        token_delay=args.token_ms / 1000,
        seed=args.seed,
        blocks=args.blocks,
        wrong_share=args.wrong_share,
        deadline_s=45.0 if args.quick else 150.0,
    )
    if args.long:
        cases = pick_cases(args.files, args.regions, args.seed, max_chars=600, span=(4, 10))
    else:
        cases = pick_cases(
            args.files, args.regions, args.seed, max_chars=120 if args.quick else 200
        )
    if not cases:
        raise SystemExit("bench: no usable standard-library source files found")
    started = time.monotonic()
    samples: dict[str, dict[str, list[float]]] = {}
    result: dict[str, Any] = {
        "config": {
            "files": [str(c.path) for c in cases],
            "regions": sum(len(c.regions) for c in cases),
            "region_chars": sum(r.end - r.start for c in cases for r in c.regions),
            "seed": args.seed,
            "ttft_ms": args.ttft_ms,
            "token_ms": args.token_ms,
            "quick": args.quick,
            "long": args.long,
            "blocks": args.blocks,
            "wrong_share": args.wrong_share,
            "options": args.options,
            "server_src": bench_replay.SERVER_SRC or "installed fim_lsp",
            "git": git_state(),
        }
    }
    print(
        f"bench: replaying {result['config']['regions']} regions of {len(cases)} files", flush=True
    )
    fim, samples["fim-lsp"] = await run_replay(
        "fim-lsp", {**FIM_OPTIONS, **args.options}, cases, cfg
    )
    result["fim_lsp"] = fim
    if not args.no_fixed:
        print("bench: fim-lsp with a fixed debounce", flush=True)
        fixed, samples["fixed-debounce"] = await run_replay(
            "fixed-debounce", {**FIXED_OPTIONS, **args.options}, cases, cfg
        )
        result["fim_lsp_fixed_debounce"] = fixed
    if not args.no_baseline:
        print("bench: naive baseline", flush=True)
        base, samples["baseline"] = await run_replay("baseline", dict(NAIVE_OPTIONS), cases, cfg)
        result["baseline"] = base
        result["comparison"] = comparisons(result)
    if not args.no_many_docs:
        print("bench: 200 open documents", flush=True)
        result["many_docs"] = await run_many_docs(cfg)
    if args.large:
        print("bench: 10 MB document", flush=True)
        result["large"] = await run_large(cfg)
    result["targets"] = targets(result)
    result["notes"] = notes(result)
    result["wall_s"] = round(time.monotonic() - started, 1)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
        if histogram(samples, args.json.with_suffix(".png")):
            result["histogram"] = str(args.json.with_suffix(".png"))
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    args = parse_args(argv)
    if args.server_src is not None:
        bench_replay.SERVER_SRC = str(args.server_src.resolve())
    if args.server_log is not None:
        bench_replay.SERVER_LOG = str(args.server_log.resolve())
    # The mock's own connection-reset noise ("Task exception was never retrieved") is not ours.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    result = asyncio.run(run(args))
    print(table(result))
    print(f"total {result['wall_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

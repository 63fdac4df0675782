"""Post-processing cost per suggestion, over every golden case (tests/golden).

Times `postprocess` on the whole model text and `stream_done` over the text in small chunks
(as the server calls it on each delta), each with the context's view built ahead (the server
calls `prepare` when the stream opens) and cold (the view built inside the timed call).

    python scripts/bench_postprocess.py [--repeat 20] [--chunk 4] [--padded] [--hostile]

--padded puts each case in a document that fills the 6000/2000 windows (a large file).
--hostile times answers as long as the default token limit allows, in the shapes that make
backtracking patterns slow (long runs of one character, then a different one; repeated short
tokens; many short lines): the worst single call is what the server would stall for.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_golden import Case, context_of, load_cases, padded

from fim_lsp.backends.limits import answer_chars
from fim_lsp.context import FimContext
from fim_lsp.postprocess import postprocess, prepare, stream_done
from fim_lsp.postprocess._view import view_of


def percentiles(samples: list[float]) -> str:
    """p50 / p90 / p99 of samples in seconds, as milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return (
        f"p50 {cuts[49] * 1000:.3f} ms  p90 {cuts[89] * 1000:.3f} ms  p99 {cuts[98] * 1000:.3f} ms"
    )


def timed(call: Callable[[], object]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def fresh(ctx: FimContext) -> FimContext:
    """An equal context the view cache has not seen (a new request)."""
    return FimContext(
        ctx.prompt + "",
        ctx.suffix,
        ctx.language_id,
        f"{ctx.path}#{time.perf_counter_ns()}",
        ctx.prefix_cut,
        ctx.suffix_cut,
        ctx.multiline,
    )


_ROWS = {
    "warm": "postprocess (view prepared, as the server)",
    "cold": "postprocess (view built inside the call)",
    "view": "view of the context (prepare)",
    "delta": "stream_done per delta",
    "stream": "one stream: every stream_done + postprocess",
}


# The longest answer the default `maxTokens` (256) lets through.
_LONGEST = answer_chars(256)
_RUN_CHARS = "a1 \t(){}[]'\"`/*#-=.,:;<>\\$_!?|&+%"
_HOSTILE_DOCUMENTS = {
    "python, mid-line": ("python", "def f(x):\n    y = foo(\u2588)\n    return y\n"),
    "python, empty line": ("python", "def f(x):\n    \u2588\n"),
    "typescript, end of file": ("typescript", "function f() {\n  const x = \u2588"),
    "markdown": ("markdown", "# Title\n\nSome text \u2588\n"),
    "html": ("html", "<div>\n  <p>\u2588</p>\n</div>\n"),
}


def hostile_answers() -> dict[str, str]:
    """Answers of the longest allowed size in shapes that make patterns backtrack."""
    n = _LONGEST - 1
    answers: dict[str, str] = {}
    for ch in _RUN_CHARS:
        answers[f"{ch!r} x {n}, then x"] = ch * n + "x"
        answers[f"{ch!r} x {n}, then )"] = ch * n + ")"
        answers[f"x, then {ch!r} x {n}"] = "x" + ch * n
    for unit in ("ab", "a ", "a.", "a,", "x = ", "(a", "a)", "'a'", "# a", "\t "):
        answers[f"{unit!r} repeated"] = unit * (n // len(unit))
    answers["short lines"] = "foo()\n" * (n // 6)
    answers["lines indented 0-39"] = "".join(" " * (i % 40) + "x\n" for i in range(n // 22))
    return answers


def hostile() -> int:
    """The worst single postprocess and stream_done call over the hostile answers."""
    worst: list[tuple[float, str, str, str]] = []
    for doc_name, (language, marked) in _HOSTILE_DOCUMENTS.items():
        cursor = marked.index("\u2588")
        document = marked.replace("\u2588", "")
        for name, answer in hostile_answers().items():
            case = Case("hostile", language, "", "clean", "auto", document, cursor, answer, None)
            ctx = context_of(case)
            prepare(ctx)
            worst.append((timed(partial(postprocess, answer, ctx)), "postprocess", doc_name, name))
            for k in range(0, len(answer), 64):
                text = answer[: k + 64]
                start = time.perf_counter()
                done = stream_done(text, ctx)
                worst.append((time.perf_counter() - start, "stream_done", doc_name, name))
                if done:
                    break
    worst.sort(reverse=True)
    print(f"hostile answers of {_LONGEST} characters: the slowest single calls")
    for seconds, call, doc_name, name in worst[:8]:
        print(f"  {seconds * 1000:8.1f} ms  {call:<12} {doc_name:<24} {name}")
    return 0


def main() -> int:
    """Time every case `--repeat` times and print the percentiles per call."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=4, help="characters per streamed delta")
    parser.add_argument(
        "--padded", action="store_true", help="each case in a document that fills the windows"
    )
    parser.add_argument(
        "--hostile", action="store_true", help="the worst calls on pathological long answers"
    )
    args = parser.parse_args()
    if args.hostile:
        return hostile()
    cases = load_cases()
    if args.padded:
        cases = [padded(c, True, True) for c in cases]
    calls: dict[str, list[float]] = {name: [] for name in _ROWS}
    best: dict[str, list[float]] = {name: [] for name in _ROWS}
    for case in cases:
        ctx = context_of(case)
        per_case: dict[str, list[float]] = {name: [] for name in _ROWS}
        for _ in range(args.repeat):
            # Each repetition is a new request: no cache has seen its context.
            new = fresh(ctx)
            per_case["view"].append(timed(partial(view_of, new)))
            per_case["cold"].append(timed(partial(postprocess, case.model, fresh(ctx))))
            new = fresh(ctx)
            prepare(new)
            per_case["warm"].append(timed(partial(postprocess, case.model, new)))
            new = fresh(ctx)
            prepare(new)
            deltas = []
            text = ""
            for k in range(0, len(case.model), args.chunk):
                text = case.model[: k + args.chunk]
                start = time.perf_counter()
                done = stream_done(text, new)
                deltas.append(time.perf_counter() - start)
                if done:
                    # The server stops reading here.
                    break
            per_case["delta"].extend(deltas)
            per_case["stream"].append(sum(deltas) + timed(partial(postprocess, text, new)))
        for name, samples in per_case.items():
            calls[name].extend(samples)
            if samples:  # an empty model text streams no delta
                best[name].append(min(samples))
    size = "in documents filling the windows" if args.padded else "as written"
    print(f"{len(cases)} golden cases ({size}) x {args.repeat}, deltas of {args.chunk} characters")
    print("per call (every sample; includes noise from other processes on the machine):")
    for name, label in _ROWS.items():
        print(f"  {label:<44} {percentiles(calls[name])}")
    print("per case (the best of its repetitions):")
    for name, label in _ROWS.items():
        print(f"  {label:<44} {percentiles(best[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

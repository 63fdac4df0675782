"""Benchmark of the context from other files, on real multi-file code.

For each package (Python stdlib `email/`, `asyncio/`, `json/`, and an npm package when one is on disk),
every file is opened; a hole is a line that calls a function or class defined (by the language's own
parser for Python) in exactly one other file of the package, cut right after `name(`. It reports how
often the defining chunk is among the chunks selected at the default budget, and what the selection
costs per request, alone and with 200 open documents of 50 KB.

    python scripts/bench_context.py [--budget 3000] [--json out.json]
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
import statistics
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fim_lsp.context import slice_context  # noqa: E402
from fim_lsp.documents import Document  # noqa: E402
from fim_lsp.related import CHUNK_LINES, RelatedCode  # noqa: E402

_MAX_HOLES = 300
# A call `name(` or `module.name(`, the qualifier not an instance.
_CALL = re.compile(r"(?<![\w.$])([A-Za-z_$][\w$]*\.)?([A-Za-z_$][\w$]{3,})\(")
_JS_DEFINITION = re.compile(
    r"^(?:export\s+)?(?:async\s+)?(?:function\s+([A-Za-z_$][\w$]*)|class\s+([A-Za-z_$][\w$]*))",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Hole:
    """A cursor right after `name(` in one file, `name` being defined in another."""

    uri: str
    line: int
    column: int
    name: str
    defined_in: str
    defined_at: int


def python_definitions(text: str) -> dict[str, int]:
    """Top-level functions and classes of a module, by name -> 0-based line."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    return {
        node.name: node.lineno - 1
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


def js_definitions(text: str) -> dict[str, int]:
    """Top-level functions and classes of a JavaScript file, by name -> 0-based line."""
    found: dict[str, int] = {}
    for m in _JS_DEFINITION.finditer(text):
        found[m.group(1) or m.group(2)] = text.count("\n", 0, m.start())
    return found


def packages() -> list[tuple[str, str, list[Path]]]:
    """(name, language id, files) for each package to measure."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for name in ("email", "asyncio", "json"):
        files = sorted(p for p in (stdlib / name).glob("*.py") if p.stat().st_size < 200_000)
        found.append((name, "python", files))
    npm = ROOT / "editors" / "vscode" / "node_modules" / "vscode-languageclient" / "lib" / "common"
    if npm.is_dir():
        found.append(("vscode-languageclient", "javascript", sorted(npm.glob("*.js"))))
    return found


def holes_of(docs: dict[str, Document], language: str) -> list[Hole]:
    """Every call of a name defined in exactly one other file of the package."""
    parse = python_definitions if language == "python" else js_definitions
    defined: dict[str, list[tuple[str, int]]] = {}
    for uri, doc in docs.items():
        for name, line in parse(doc.text).items():
            defined.setdefault(name, []).append((uri, line))
    holes = []
    for uri, doc in docs.items():
        for number, body in enumerate(doc.text_lines):
            for m in _CALL.finditer(body):
                if m.group(1) in ("self.", "cls.", "this.", "super."):
                    continue
                sites = defined.get(m.group(2), [])
                if len(sites) != 1 or sites[0][0] == uri:
                    continue
                stripped = body.lstrip()
                if stripped.startswith(("def ", "class ", "function ", "#", "//", "*")):
                    continue
                holes.append(Hole(uri, number, m.end(), m.group(2), *sites[0]))
    random.Random(1).shuffle(holes)
    return holes[:_MAX_HOLES]


def measure(
    related: RelatedCode, docs: dict[str, Document], holes: list[Hole], budget: int
) -> tuple[int, list[float], list[int]]:
    """(hits, selection times in ms, characters selected) over the holes."""
    hits = 0
    times: list[float] = []
    sizes: list[int] = []
    for hole in holes:
        doc = docs[hole.uri]
        # The user is typing this line: nothing after the cursor on it yet.
        lines = list(doc.text_lines)
        lines[hole.line] = lines[hole.line][: hole.column] + "\n"
        typed = Document(doc.uri, lines, doc.version, doc.language_id)
        ctx = slice_context(lines, hole.line, hole.column, 6000, 2000, doc.language_id)
        started = time.perf_counter()
        chosen = related.select(typed, hole.line, ctx.prompt, ctx.suffix, budget)
        times.append((time.perf_counter() - started) * 1000)
        sizes.append(sum(len(s.text) for s in chosen))
        if any(
            s.uri == hole.defined_in and s.start <= hole.defined_at < s.start + CHUNK_LINES
            for s in chosen
        ):
            hits += 1
    return hits, times, sizes


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else 0.0


def filler_documents(count: int, size: int) -> list[Document]:
    """`count` documents of about `size` characters each, cut from the stdlib."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    sources = sorted(p for p in stdlib.glob("*.py") if p.stat().st_size > size)
    docs = []
    for k in range(count):
        text = sources[k % len(sources)].read_text(encoding="utf-8", errors="replace")[:size]
        docs.append(Document.from_text(f"file:///filler/{k}.py", text, 1, "python"))
    return docs


def main() -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=3000, help="contextChars (default 3000)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    results = []
    print(f"budget {args.budget} characters, chunks of {CHUNK_LINES} lines")
    print(
        f"{'package':24} {'holes':>5} {'found':>7} {'p50 ms':>7} {'p90 ms':>7} {'+200 docs p50':>13}"
    )
    fillers = filler_documents(200, 50_000)
    for name, language, files in packages():
        docs = {
            p.as_uri(): Document.from_text(
                p.as_uri(), p.read_text(encoding="utf-8", errors="replace"), 1, language
            )
            for p in files
        }
        related = RelatedCode()
        for doc in docs.values():
            related.watch(doc)
        related.refresh()
        holes = holes_of(docs, language)
        if not holes:
            print(f"{name:24} no holes")
            continue
        hits, times, sizes = measure(related, docs, holes, args.budget)
        started = time.perf_counter()
        for doc in fillers:
            related.watch(doc)
        related.refresh()
        chunk_ms = (time.perf_counter() - started) * 1000 / len(fillers)
        _hits_loaded, loaded, _ = measure(related, docs, holes, args.budget)
        share = hits / len(holes) if holes else 0.0
        print(
            f"{name:24} {len(holes):5d} {share:7.1%} {statistics.median(times):7.3f} "
            f"{percentile(times, 90):7.3f} {statistics.median(loaded):13.3f}"
        )
        results.append(
            {
                "package": name,
                "holes": len(holes),
                "found": share,
                "select_ms_p50": statistics.median(times),
                "select_ms_p90": percentile(times, 90),
                "select_ms_p50_with_200_docs": statistics.median(loaded),
                "select_ms_p90_with_200_docs": percentile(loaded, 90),
                "chunking_ms_per_50kb_doc": chunk_ms,
                "chars_selected_p50": statistics.median(sizes),
            }
        )
    total = sum(r["holes"] for r in results)
    found = sum(r["found"] * r["holes"] for r in results) / total if total else 0.0
    print(
        f"all: {found:.1%} of {total} holes; chunking {results[-1]['chunking_ms_per_50kb_doc']:.2f} ms per 50 KB document (off the keystroke path)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

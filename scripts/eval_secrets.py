"""False positives and cost of secret redaction, measured on ordinary code.

Runs `fim_lsp.secrets.find_secrets` over the Python standard library and the JavaScript of npm
packages on disk, reports redactions per 10,000 lines (target: at most 1) with a sample of what was
redacted, then times `mask_split` on 8 KB windows the way typing asks for them::

    python scripts/eval_secrets.py                      # stdlib + editors/vscode/node_modules
    python scripts/eval_secrets.py --root DIR --root DIR2 --sample 40
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fim_lsp import secrets
from fim_lsp.context import slice_context
from fim_lsp.exclusion import check_path

CODE_SUFFIXES = {".py", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx", ".json"}
PREFIX_CHARS, SUFFIX_CHARS = 6000, 2000


def default_roots() -> list[Path]:
    """The stdlib and the npm packages of the VS Code extension, where they exist."""
    roots = [Path(sysconfig.get_paths()["stdlib"])]
    repo = Path(__file__).resolve().parents[1]
    for candidate in (
        repo / "editors/vscode/node_modules",
        Path("/work/main/editors/vscode/node_modules"),
        Path("/work/main/editors/vscode/.e2e/node_modules"),
    ):
        if candidate.is_dir():
            roots.append(candidate)
            break
    return roots


def code_files(root: Path) -> list[Path]:
    """Source files under a root, skipping those fim-lsp would never send (secret files)."""
    files = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in CODE_SUFFIXES or not path.is_file():
            continue
        if "site-packages" in path.parts or check_path(str(path)) is not None:
            continue
        files.append(path)
    return files


def scan(files: list[Path]) -> tuple[int, list[tuple[Path, int, str, str]]]:
    """(lines read, [(file, line number, kind, line text)] for every redaction)."""
    lines = 0
    found: list[tuple[Path, int, str, str]] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines += text.count("\n") + 1
        for f in secrets.find_secrets(text):
            line_no = text.count("\n", 0, f.start) + 1
            start = text.rfind("\n", 0, f.start) + 1
            end = text.find("\n", f.end)
            found.append((path, line_no, f.kind, text[start : end if end >= 0 else None][:160]))
    return lines, found


def windows(files: list[Path], count: int, rng: random.Random) -> list[tuple[str, int]]:
    """Random (text, cursor offset) pairs from files large enough for a full 8 KB window."""
    texts = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if len(text) > PREFIX_CHARS + SUFFIX_CHARS + 100 and path.suffix != ".json":
            texts.append(text)
    picked = []
    for _ in range(count):
        text = rng.choice(texts)
        picked.append((text, rng.randrange(PREFIX_CHARS, len(text) - SUFFIX_CHARS)))
    return picked


def cut(text: str, cursor: int) -> tuple[str, str]:
    """The window exactly as the server cuts it (context.slice_context, default budget)."""
    line = text.count("\n", 0, cursor)
    index = cursor - (text.rfind("\n", 0, cursor) + 1)
    ctx = slice_context(text.splitlines(keepends=True), line, index, PREFIX_CHARS, SUFFIX_CHARS)
    return ctx.prompt, ctx.suffix


def time_masking(files: list[Path], rng: random.Random, sessions: int = 60, keys: int = 30) -> None:
    """Time mask_split per request: a cold window (first request in a file) and typing in it."""
    cold: list[float] = []
    typing: list[float] = []
    for text, cursor in windows(files, sessions, rng):
        secrets.clear_cache()
        prefix, suffix = cut(text, cursor)
        started = time.perf_counter()
        secrets.mask_split(prefix, suffix)
        cold.append(time.perf_counter() - started)
        for i in range(keys):
            # One character typed at the cursor per keystroke, the window moving with it.
            text = text[:cursor] + "abcdefghij"[i % 10] + text[cursor:]
            cursor += 1
            prefix, suffix = cut(text, cursor)
            started = time.perf_counter()
            secrets.mask_split(prefix, suffix)
            typing.append(time.perf_counter() - started)

    def ms(values: list[float], q: float) -> str:
        return f"{statistics.quantiles(values, n=100)[int(q) - 1] * 1000:.3f}"

    print(
        f"\nmask_split on ~8 KB windows: typing p50 {ms(typing, 50)} ms, p90 {ms(typing, 90)} ms, "
        f"p99 {ms(typing, 99)} ms ({len(typing)} keystrokes); "
        f"first request in a file p50 {ms(cold, 50)} ms, p90 {ms(cold, 90)} ms ({len(cold)})"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation; exit 1 when the false-positive rate is above the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", action="append", type=Path, help="a directory of code (repeat)")
    parser.add_argument("--sample", type=int, default=25, help="redactions to print")
    parser.add_argument("--target", type=float, default=1.0, help="redactions per 10,000 lines")
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args(argv)
    rng = random.Random(13)
    all_files: list[Path] = []
    total_lines = 0
    total_found: list[tuple[Path, int, str, str]] = []
    for root in args.root or default_roots():
        files = code_files(root)
        started = time.perf_counter()
        lines, found = scan(files)
        elapsed = time.perf_counter() - started
        rate = len(found) / lines * 10_000 if lines else 0.0
        print(
            f"{root}: {len(files)} files, {lines:,} lines, {len(found)} redactions "
            f"({rate:.2f} per 10,000 lines) in {elapsed:.1f} s"
        )
        all_files += files
        total_lines += lines
        total_found += found
    rate = len(total_found) / total_lines * 10_000 if total_lines else 0.0
    kinds = Counter(kind for _p, _n, kind, _l in total_found)
    print(
        f"\nall: {total_lines:,} lines, {len(total_found)} redactions, {rate:.2f} per 10,000 lines"
    )
    print("by kind:", ", ".join(f"{k} {n}" for k, n in kinds.most_common()) or "none")
    for path, line_no, kind, line in rng.sample(total_found, min(args.sample, len(total_found))):
        print(f"  {kind:18} {path}:{line_no}: {line.strip()}")
    if not args.no_timing:
        time_masking(all_files, rng)
    return 0 if rate <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())

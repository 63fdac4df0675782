"""The golden corpus: hand-written cases of real model answers, run through post-processing.

Each case is one small file, tests/golden/<language-id>/<name>.case:

    # why: what a careful human would accept, and why (policy choices said here)
    # class: closers-mid | midline-retype | block-end | closing-indent | near-repetition |
    #        fences | quirks | multiline-body | multiline-setting | clean | nothing
    # multiline: auto              (optional; auto, always or never)
    --- document
    <the document, with one █ where the cursor is>
    --- model
    <the raw model text, as a model streams it>
    --- expected
    <the whole document after accepting the suggestion, or the line <nothing>>

A section holds the lines between its marker and the next; the newline before the next marker
(or the end of the file) is not part of it. The runner builds the context the server would
(its default 6000/2000 windows), runs `postprocess`, applies the suggestion and compares; it also
streams the text in small chunks through `stream_done` and checks the early stop changes nothing.

    python scripts/eval_golden.py [--server] [--json out.json] [--show] [--strict] [languages...]

--padded runs each case inside a document too large for the windows (the windows cut it).
--server drives the real `fim-lsp` over stdio with a mock model that streams the case's text
(what an editor gets, item ranges included) instead of calling post-processing in-process.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This checkout's fim_lsp, whatever the installed one is.
sys.path.insert(0, str(ROOT))

from fim_lsp.context import FimContext, slice_context  # noqa: E402
from fim_lsp.documents import split_lines  # noqa: E402
from fim_lsp.postprocess import Suggestion, postprocess, stream_done  # noqa: E402
from fim_lsp.postprocess._syntax import Scanner, syntax_of  # noqa: E402

GOLDEN = ROOT / "tests" / "golden"
CURSOR = "█"
NOTHING = "<nothing>"
CLASSES = (
    "closers-mid",
    "midline-retype",
    "block-end",
    "closing-indent",
    "near-repetition",
    "fences",
    "quirks",
    "multiline-body",
    "multiline-setting",
    "clean",
    "nothing",
)
MULTILINE = ("auto", "always", "never")
SECTIONS = ("document", "model", "expected")
# The server's default windows (settings.max_prefix_chars / max_suffix_chars).
PREFIX_CHARS = 6000
SUFFIX_CHARS = 2000
# Chunk sizes for the streaming check: models stream a few characters per delta.
CHUNKS = (1, 3, 8)
OUTCOMES = (
    "exact",
    "kept-too-much",
    "cut-too-much",
    "broken-brackets",
    "shown-when-nothing",
    "nothing-when-some",
    "other",
)


class CaseError(ValueError):
    """A case file that does not follow the format."""


@dataclass(frozen=True)
class Case:
    """One golden case: a document with a cursor, what the model sent, what should result."""

    path: str
    language: str
    why: str
    kind: str
    multiline: str
    document: str  # without the cursor mark
    cursor: int
    model: str
    expected: str | None  # None: nothing should be shown

    @property
    def name(self) -> str:
        """language/file-stem, for reports and test ids."""
        return f"{self.language}/{Path(self.path).stem}"


def parse_case(text: str, path: str = "", language: str = "") -> Case:
    """Parse one case file's text (the language is its folder's name)."""
    header: dict[str, str] = {}
    sections: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines) and not lines[i].startswith("--- "):
        line = lines[i].strip()
        i += 1
        if not line:
            continue
        if not line.startswith("#") or ":" not in line:
            raise CaseError(f"{path}: header line {i} is not `# key: value`")
        key, value = line[1:].split(":", 1)
        header[key.strip().lower()] = value.strip()
    current: str | None = None
    body: list[str] = []
    for line in lines[i:]:
        if line.startswith("--- "):
            if current is not None:
                sections[current] = "\n".join(body)
            current = line[4:].strip()
            if current not in SECTIONS or current in sections:
                raise CaseError(f"{path}: unexpected section marker {line!r}")
            body = []
        else:
            body.append(line)
    if current is not None:
        # The file's final newline ends the last section's last line.
        sections[current] = "\n".join(body[:-1] if body and body[-1] == "" else body)
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        raise CaseError(f"{path}: missing sections {missing}")
    kind = header.get("class", "")
    if kind not in CLASSES:
        raise CaseError(f"{path}: class {kind!r} is not one of {', '.join(CLASSES)}")
    multiline = header.get("multiline", "auto")
    if multiline not in MULTILINE:
        raise CaseError(f"{path}: multiline {multiline!r} is not auto, always or never")
    if not header.get("why"):
        raise CaseError(f"{path}: no `# why:` line")
    marked = sections["document"]
    if marked.count(CURSOR) != 1:
        raise CaseError(f"{path}: the document needs exactly one {CURSOR}")
    expected: str | None = sections["expected"]
    if expected == NOTHING:
        expected = None
    elif CURSOR in (expected or ""):
        raise CaseError(f"{path}: the expected document has a cursor mark")
    return Case(
        path=path,
        language=language,
        why=header["why"],
        kind=kind,
        multiline=multiline,
        document=marked.replace(CURSOR, ""),
        cursor=marked.index(CURSOR),
        model=sections["model"],
        expected=expected,
    )


def load_cases(root: Path = GOLDEN, only: Iterable[str] = ()) -> list[Case]:
    """Every case under root (tests/golden/<language>/*.case), sorted; `only` filters by name/language."""
    wanted = tuple(only)
    cases = []
    for file in sorted(root.glob("*/*.case")):
        language = file.parent.name
        case = parse_case(file.read_text(encoding="utf-8"), str(file), language)
        if wanted and not any(w in (language, case.name, str(file)) for w in wanted):
            continue
        cases.append(case)
    return cases


def context_of(case: Case) -> FimContext:
    """The FimContext the server would build at the case's cursor."""
    lines = split_lines(case.document)
    offset = 0
    for number, line in enumerate(lines):
        if case.cursor <= offset + len(line) and (
            number == len(lines) - 1 or case.cursor < offset + len(line)
        ):
            break
        offset += len(line)
    return slice_context(
        lines,
        number,
        case.cursor - offset,
        PREFIX_CHARS,
        SUFFIX_CHARS,
        case.language,
        case.path,
        case.multiline,
    )


def apply(case: Case, suggestion: Suggestion | None) -> str | None:
    """The document after accepting a suggestion (None when nothing is shown)."""
    if suggestion is None:
        return None
    doc = case.document
    return doc[: case.cursor] + suggestion.text + doc[case.cursor + suggestion.replace :]


# Comment lines for padding documents past the windows (they hold no brackets or strings).
_PAD_COMMENT = {"python": "#", "shellscript": "#", "ruby": "#", "r": "#", "yaml": "#", "css": "/*"}
PAD_ABOVE = 160
PAD_BELOW = 80


def _pad_line(language: str, k: int) -> str:
    mark = _PAD_COMMENT.get(language, "//")
    if language in ("markdown", "plaintext"):
        return f"Filler paragraph line {k} of padding text.\n"
    if mark == "/*":
        return f"/* filler line {k} of padding text */\n"
    return f"{mark} filler line {k} of padding text\n"


def padded(case: Case, above: bool, below: bool) -> Case:
    """The case inside a document too large for the windows: comment lines above and below.

    Below only when text follows the cursor (a case at the end of its file stays there).
    """
    head = "".join(_pad_line(case.language, k) for k in range(PAD_ABOVE)) if above else ""
    tail = ""
    if below and case.document[case.cursor :].strip():
        tail = "" if case.document.endswith("\n") else "\n"
        tail += "".join(_pad_line(case.language, k) for k in range(PAD_BELOW))
    return dataclasses.replace(
        case,
        document=head + case.document + tail,
        cursor=case.cursor + len(head),
        expected=None if case.expected is None else head + case.expected + tail,
    )


def run(case: Case) -> str | None:
    """The document after accepting what post-processing makes of the whole model text."""
    return apply(case, postprocess(case.model, context_of(case)))


def run_streamed(case: Case, size: int) -> str | None:
    """The same, with the text streamed in chunks of `size` and stopped where `stream_done` says."""
    ctx = context_of(case)
    raw = ""
    for start in range(0, len(case.model), size):
        raw += case.model[start : start + size]
        if stream_done(raw, ctx):
            break
    return apply(case, postprocess(raw, ctx))


def balance(text: str, language: str) -> tuple[object, ...]:
    """Bracket and quote balance of a document: what is left open, closers without an opener."""
    scanner = Scanner(syntax_of(language))
    unclosed_strings = 0
    for k, line in enumerate(text.split("\n")):
        if k:
            if scanner.string in ('"', "'") and not scanner.continued:
                unclosed_strings += 1
            scanner.newline()
        scanner.feed(line)
    return "".join(scanner.stack), scanner.unmatched, scanner.mismatched, unclosed_strings


def outcome(case: Case, got: str | None) -> str:
    """How a result compares with the expected document (one of OUTCOMES)."""
    want = case.expected
    if got == want:
        return "exact"
    if want is None:
        return "shown-when-nothing"
    if got is None:
        return "nothing-when-some"
    if balance(got, case.language) != balance(want, case.language):
        return "broken-brackets"
    # What differs, once the common start and end are set aside.
    start = 0
    while start < min(len(got), len(want)) and got[start] == want[start]:
        start += 1
    end = 0
    while end < min(len(got), len(want)) - start and got[len(got) - 1 - end] == want[-1 - end]:
        end += 1
    extra, lacking = got[start : len(got) - end], want[start : len(want) - end]
    if not lacking:
        return "kept-too-much"
    if not extra:
        return "cut-too-much"
    return "other"


@dataclass(frozen=True)
class Result:
    """One case's result: its outcome, and whether streaming changed the answer."""

    case: Case
    got: str | None
    outcome: str
    stream_ok: bool


def evaluate(cases: list[Case]) -> list[Result]:
    """Run every case whole and streamed."""
    results = []
    for case in cases:
        got = run(case)
        stream_ok = all(run_streamed(case, size) == got for size in CHUNKS)
        results.append(Result(case, got, outcome(case, got), stream_ok))
    return results


def evaluate_server(cases: list[Case], timeout: float = 10.0) -> list[Result]:
    """Run every case through the real server over stdio (a mock model sends the case's text).

    The streamed early stop is the server's own here: `stream_ok` is True.
    """
    import asyncio

    sys.path.insert(0, str(ROOT / "scripts"))
    from eval_holes import Hole
    from eval_quality import apply_item, run_server

    results: list[Result] = []
    for mode in MULTILINE:
        group = [c for c in cases if c.multiline == mode]
        if not group:
            continue
        holes = [
            Hole(
                id=c.name,
                language=c.language,
                path=c.path,
                shape="line",
                kind=c.kind,
                prefix=c.document[: c.cursor],
                suffix=c.document[c.cursor :],
                truth="",
                closers="",
                answer=c.model,
            )
            for c in group
        ]
        items, _sent = asyncio.run(run_server(holes, timeout, {"multiline": mode}))
        for case, hole in zip(group, holes, strict=True):
            item = items.get(hole.id)
            got = None if item is None else apply_item(hole, item)
            results.append(Result(case, got, outcome(case, got), True))
    order = {c.name: k for k, c in enumerate(cases)}
    return sorted(results, key=lambda r: order[r.case.name])


def table(results: list[Result]) -> str:
    """Per-language and per-class counts of each outcome."""
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        groups["all"].append(r)
        groups[f"lang:{r.case.language}"].append(r)
    for r in results:
        groups[f"class:{r.case.kind}"].append(r)
    short = ("exact", "kept", "cut", "broken", "shown", "nothing", "other", "stream")
    rows = [f"{'group':<26}{'n':>5} " + "".join(f"{s:>8}" for s in short)]
    for name, group in groups.items():
        counts = Counter(r.outcome for r in group)
        cells = [counts[o] for o in OUTCOMES] + [sum(not r.stream_ok for r in group)]
        pct = 100.0 * counts["exact"] / len(group)
        rows.append(
            f"{name:<26}{len(group):>5} "
            + "".join(f"{c:>8}" for c in cells)
            + f"   {pct:5.1f}% exact"
        )
    return "\n".join(rows)


def show(result: Result) -> str:
    """A failed case, readable: what was expected and what came out."""
    case = result.case
    cursor_line = case.document[: case.cursor].count("\n")

    def around(doc: str | None) -> str:
        if doc is None:
            return "    <nothing>"
        lines = doc.split("\n")
        lo, hi = max(0, cursor_line - 2), cursor_line + 8
        return "\n".join(f"    |{ln}" for ln in lines[lo:hi])

    return (
        f"--- {case.name} [{case.kind}] {result.outcome}"
        + ("" if result.stream_ok else " (streaming differs)")
        + f"\n  why: {case.why}\n  model: {case.model!r}\n  expected:\n{around(case.expected)}"
        + f"\n  got:\n{around(result.got)}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the corpus and print the table (and the failures with --show)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("only", nargs="*", help="languages, language/name or paths to run")
    parser.add_argument("--json", type=Path, help="write every result here")
    parser.add_argument("--show", action="store_true", help="print each case that is not exact")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless every case is exact")
    parser.add_argument(
        "--server", action="store_true", help="through the real fim-lsp over stdio, not in-process"
    )
    parser.add_argument(
        "--padded",
        action="store_true",
        help="each case inside a large document (comment lines above and below the windows)",
    )
    args = parser.parse_args(argv)
    cases = load_cases(GOLDEN, args.only)
    if args.padded:
        cases = [padded(c, True, True) for c in cases]
    results = evaluate_server(cases) if args.server else evaluate(cases)
    if args.show:
        for r in results:
            if r.outcome != "exact" or not r.stream_ok:
                print(show(r), end="\n\n")
    print(table(results))
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "case": r.case.name,
                        "class": r.case.kind,
                        "outcome": r.outcome,
                        "stream_ok": r.stream_ok,
                    }
                    for r in results
                ],
                indent=1,
            )
        )
    failed = any(r.outcome != "exact" or not r.stream_ok for r in results)
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    import signal

    # `eval_golden.py | head` ends quietly.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())

"""Holes for the quality evaluation: real source files, a span removed at a cursor, and a noisy model.

Pure functions only (no server, no network): `make_holes` picks holes from files on this machine,
`model_answer` plays a fill-in-the-middle model that knows the removed text, and `judge` compares a
final document with the truth.
"""

from __future__ import annotations

import os
import random
import subprocess
import sysconfig
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("python", "javascript", "c")
# closer_mid comes last: the holes of the kinds before it stay those of earlier runs.
KINDS = (
    "clean",
    "repeat_suffix",
    "autoclose",
    "past_block",
    "stray_space",
    "repeat_line",
    "closer_mid",
)
# Holes per language and noise kind (clean answers get the most: they guard against regressions).
QUOTA = {
    "clean": 60,
    "repeat_suffix": 20,
    "autoclose": 20,
    "past_block": 20,
    "stray_space": 20,
    "repeat_line": 20,
    "closer_mid": 20,
}

_PAIRS = {"(": ")", "[": "]", "{": "}"}
_MAX_LINE = 160
_MAX_BODY_LINES = 15
_MAX_BODY_CHARS = 900


@dataclass(frozen=True)
class Hole:
    """A document with a span removed at the cursor, and what was removed."""

    id: str
    language: str
    path: str
    shape: str  # "line", "block_end" (cursor at the end of the opener) or "block_line" (on an empty line)
    kind: str
    prefix: str  # document text before the cursor
    suffix: str  # document text after the cursor (auto-closed brackets first, if any)
    truth: str  # the text that was removed (what a perfect model answers)
    closers: str  # brackets the editor auto-inserted after the cursor
    answer: str  # what the mock model answers
    # Characters of the suffix the truth replaces: an auto-closed bracket the model writes
    # itself, with the rest of the line after it (`f(█)` + `a) + 1`).
    replaced: int = 0

    @property
    def document(self) -> str:
        """The document the editor shows."""
        return self.prefix + self.suffix

    @property
    def truth_document(self) -> str:
        """The document the user wants."""
        return self.prefix + self.truth + self.suffix[self.replaced :]


def source_files(language: str) -> list[Path]:
    """Real files of one language on this machine."""
    if language == "python":
        root = Path(sysconfig.get_paths()["stdlib"])
        files = [p for p in root.rglob("*.py") if "site-packages" not in p.parts]
    elif language == "javascript":
        npm_root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, check=True)
        root = Path(npm_root.stdout.strip()) / "npm" / "node_modules"
        files = [p for p in root.rglob("*.js") if ".min." not in p.name]
    else:
        files = list(Path("/usr/include").rglob("*.h"))
    keep = []
    for path in sorted(files):
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if 800 <= size <= 150_000 and not path.is_symlink():
            keep.append(path)
    return keep


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _width(line: str) -> int:
    return len(_indent(line).expandtabs(4))


def _unit(text: str) -> str:
    tabs = sum(1 for ln in text.split("\n") if ln.startswith("\t"))
    spaces = sum(1 for ln in text.split("\n") if ln.startswith("  "))
    return "\t" if tabs > spaces else ("  " if "\n  " in text and "\n    " not in text else "    ")


def _open_brackets(text: str) -> list[str]:
    """Unclosed brackets, ignoring quoted strings (a rough, independent scanner)."""
    stack: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch == "#" or text.startswith("//", i):
            break
        elif ch in _PAIRS:
            stack.append(ch)
        elif ch in ")]}":
            if not stack:
                return ["?"]
            stack.pop()
        i += 1
    return ["?"] if quote else stack


def _line_hole(
    rng: random.Random, text: str, lines: list[str], need_autoclose: bool
) -> tuple[str, str, str, str] | None:
    """(prefix, suffix, truth, closers) for a hole from the cursor to the end of a line."""
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln) + 1)
    for _ in range(60):
        n = rng.randrange(len(lines))
        line = lines[n].rstrip("\r")
        body = line.rstrip()
        if not body.strip() or len(line) > _MAX_LINE:
            continue
        start = len(_indent(line))
        if need_autoclose:
            cols = [c for c in range(start + 1, len(body)) if body[c - 1] in _PAIRS]
            if not cols:
                continue
            col = rng.choice(cols) + rng.choice([0, 0, 1, 2])
            col = min(col, len(body) - 1)
        else:
            col = rng.randrange(start, len(body))
        truth = line[col:]
        closers = ""
        stack = _open_brackets(line[:col])
        if stack and "?" not in stack:
            want = "".join(_PAIRS[b] for b in reversed(stack))
            if truth.endswith(want) and len(truth) > len(want):
                closers = want
        if need_autoclose and not closers:
            continue
        cut = offsets[n] + col
        end = offsets[n] + len(line)
        middle = truth[: len(truth) - len(closers)]
        return text[:cut], text[end - len(closers) :], middle, closers
    return None


def _closer_mid_hole(
    rng: random.Random, text: str, lines: list[str]
) -> tuple[str, str, str, str] | None:
    """(prefix, suffix, truth, closer) for a cursor inside brackets closed mid-line.

    The editor auto-closed the bracket and the rest of the line is not typed yet: the document
    has the closer alone; the model writes the arguments, the closer and the rest of the line.
    """
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln) + 1)
    for _ in range(80):
        n = rng.randrange(len(lines))
        line = lines[n].rstrip("\r")
        body = line.rstrip()
        if not body.strip() or len(line) > _MAX_LINE or "\\" in body:
            continue
        if _open_brackets(body) or body.lstrip().startswith(("#", "//", "*", "/*")):
            continue
        for col in rng.sample(range(1, len(body)), len(body) - 1):
            opener = body[col - 1]
            if opener not in _PAIRS or _open_brackets(body[:col]) == ["?"]:
                continue
            depth, j = 0, col
            while j < len(body):
                if body[j] in _PAIRS:
                    depth += 1
                elif body[j] == _PAIRS[opener]:
                    if depth == 0:
                        break
                    depth -= 1
                j += 1
            rest = body[j + 1 :]
            if j >= len(body) or j == col or not rest.strip() or _open_brackets(body[col:j]):
                continue
            cut = offsets[n] + col
            end = offsets[n] + len(line)
            closer = _PAIRS[opener]
            return text[:cut], closer + text[end:], line[col:], closer
    return None


def _block_hole(
    rng: random.Random, text: str, lines: list[str], language: str
) -> tuple[str, str, str, str, str] | None:
    """(shape, prefix, suffix, truth, '') for a hole that removes a whole block body."""
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln) + 1)
    opener = ":" if language == "python" else "{"
    for _ in range(200):
        n = rng.randrange(len(lines) - 2)
        head = lines[n].rstrip()
        if (
            not head.endswith(opener)
            or len(head) > _MAX_LINE
            or head.lstrip().startswith(("#", "//", "*"))
        ):
            continue
        base = _width(head)
        end = n + 1
        last_code = None
        while end < len(lines):
            ln = lines[end]
            # C preprocessor lines sit at column 0 inside blocks; Python comments there end them.
            directive = language == "c" and ln.lstrip().startswith("#")
            if ln.strip() and _width(ln) <= base and not directive:
                break
            if ln.strip():
                last_code = end
            end += 1
        if last_code is None:
            continue
        body_end = last_code + 1
        if body_end - (n + 1) > _MAX_BODY_LINES:
            continue
        if language != "python" and not lines[end if end < len(lines) else 0].lstrip().startswith(
            "}"
        ):
            continue
        start_off = offsets[n] + len(lines[n])  # the end of the opener line
        stop_off = offsets[body_end] - 1  # the end of the last body line
        body = text[start_off:stop_off]
        if len(body) > _MAX_BODY_CHARS or not body.strip():
            continue
        if rng.random() < 0.5:
            return "block_end", text[:start_off], text[stop_off:], body, ""
        first = lines[n + 1]
        if not first.strip():
            continue
        indent = _indent(first)
        cursor = offsets[n + 1] + len(indent)
        return "block_line", text[:cursor], text[stop_off:], text[cursor:stop_off], ""
    return None


def _near(line: str, rng: random.Random) -> str:
    """The same line with one small slip, as models echo what they read."""
    body = line.rstrip()
    if len(body.strip()) < 12:
        return line
    spots = [i for i, ch in enumerate(body) if ch.isalpha() and i > len(_indent(body)) + 2]
    if not spots:
        return line
    i = rng.choice(spots)
    return body[:i] + ("x" if body[i] != "x" else "y") + body[i + 1 :]


def _past_block(language: str, hole_prefix: str, unit: str, shape: str) -> str:
    """Code a model writes after it has run past the end of the block."""
    line = hole_prefix[hole_prefix.rfind("\n") + 1 :]
    indent = _indent(line)
    outer = indent[: -len(unit)] if len(indent) >= len(unit) and indent.endswith(unit) else ""
    if shape == "block_end":
        # The cursor is on the block's opening line: the block closes at that line's level.
        indent, outer = unit, indent
    if language == "python":
        return f"\n\n{outer}def _extra_helper(value):\n{outer}{unit}return value\n"
    head = (
        "function extraHelper(value) {"
        if language == "javascript"
        else "static int extra_helper(int value)\n{"
    )
    body = f"{outer}{unit}return value;\n{outer}}}\n"
    close = f"\n{outer}}}" if indent else ""
    return f"{close}\n\n{outer}{head}\n{body}"


def model_answer(
    kind: str,
    language: str,
    shape: str,
    prefix: str,
    suffix: str,
    truth: str,
    closers: str,
    rng: random.Random,
) -> str:
    """What the mock model answers for a hole, for one noise kind."""
    if kind == "clean":
        return truth
    if kind in ("autoclose", "closer_mid"):
        # closer_mid: the truth already holds the closer mid-text, as models write it.
        return truth + closers if kind == "autoclose" else truth
    if kind == "stray_space":
        return " " + truth
    if kind == "repeat_suffix":
        lines = suffix.split("\n")
        take = rng.choice([2, 2, 3, 4])
        echoed = lines[:take]
        if rng.random() < 0.5 and len(echoed) > 1:
            k = next((i for i in range(1, len(echoed)) if echoed[i].strip()), None)
            if k is not None:
                echoed[k] = _near(echoed[k], rng)
        return truth + "\n".join(echoed)
    if kind == "past_block":
        return truth + _past_block(language, prefix, _unit(prefix), shape)
    # repeat_line: a model stuck in a loop repeats the last line until its token budget runs out.
    whole = prefix + truth
    last = whole[whole.rfind("\n") + 1 :]
    copies = rng.randrange(3, 7)
    return truth + ("\n" + last) * copies + "\n" + last[: max(1, len(last) // 2)]


def make_holes(
    seed: int, quota: dict[str, int] | None = None, languages: tuple[str, ...] = LANGUAGES
) -> list[Hole]:
    """Pick holes per language and noise kind, reproducibly from `seed`."""
    quota = quota or QUOTA
    holes: list[Hole] = []
    for language in languages:
        rng = random.Random(f"{seed}-{language}")
        files = source_files(language)
        for kind, count in quota.items():
            made = 0
            attempts = 0
            while made < count and attempts < count * 50:
                attempts += 1
                path = rng.choice(files)
                try:
                    text = path.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    continue
                if "\r" in text or "\x0c" in text:
                    continue
                lines = text.split("\n")
                if len(lines) < 5 or max(len(ln) for ln in lines) > 400:
                    continue
                # Half the holes remove a whole block; autoclose needs brackets on the cursor's line.
                replaced = 0
                if kind == "closer_mid":
                    mid = _closer_mid_hole(rng, text, lines)
                    if mid is None:
                        continue
                    shape = "line"
                    prefix, suffix, truth, closers = mid
                    replaced = len(closers)
                elif kind != "autoclose" and rng.random() < 0.5:
                    found = _block_hole(rng, text, lines, language)
                    if found is None:
                        continue
                    shape, prefix, suffix, truth, closers = found
                else:
                    got = _line_hole(rng, text, lines, need_autoclose=kind == "autoclose")
                    if got is None:
                        continue
                    shape = "line"
                    prefix, suffix, truth, closers = got
                if not truth.strip():
                    continue
                answer = model_answer(kind, language, shape, prefix, suffix, truth, closers, rng)
                if rng.random() < 0.1:
                    # Some documents use CRLF line ends: the suggestion must follow them.
                    prefix, suffix = prefix.replace("\n", "\r\n"), suffix.replace("\n", "\r\n")
                    truth = truth.replace("\n", "\r\n")
                hole_id = f"{language}-{kind}-{made}"
                rel = os.path.relpath(path, "/")
                holes.append(
                    Hole(
                        hole_id,
                        language,
                        rel,
                        shape,
                        kind,
                        prefix,
                        suffix,
                        truth,
                        closers,
                        answer,
                        replaced,
                    )
                )
                made += 1
    return holes


@dataclass(frozen=True)
class Verdict:
    """How a final document compares with the truth."""

    exact: bool
    duplicated: bool
    past_block: bool


def _content_lines(text: str) -> Counter[str]:
    return Counter(ln.strip() for ln in text.replace("\r\n", "\n").split("\n") if ln.strip())


def _net_closers(text: str) -> int:
    return sum(text.count(c) for c in ")]}") - sum(text.count(c) for c in "([{")


def judge(final: str, hole: Hole) -> Verdict:
    """Exact match; duplicated text (a line or closer the document already had, twice); past the block."""
    truth = hole.truth_document
    if final == truth:
        return Verdict(True, False, False)
    window = slice(max(0, len(hole.prefix) - 2000), len(hole.prefix) + 4000)
    final_lines = _content_lines(final[window.start : len(final) - len(hole.suffix) + 2000])
    truth_lines = _content_lines(truth[window.start : len(truth) - len(hole.suffix) + 2000])
    extra = final_lines - truth_lines
    known = set(_content_lines(truth))
    duplicated = any(line in known for line in extra)
    # A doubled closer unbalances the brackets; invented balanced code does not.
    closers = _net_closers(final) > _net_closers(truth)
    past = any(line not in known for line in extra) and final.count("\n") > truth.count("\n")
    return Verdict(False, duplicated or closers, past)

"""Open documents as line lists, edited in place, with LSP position encodings (utf-16, utf-8, utf-32).

Per-keystroke cost is proportional to the edited lines, not the file: an edit replaces a slice of
the line list and never rebuilds the whole text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"

# LSP line terminators: \r\n, \r and \n; nothing else (unlike str.splitlines).
_LINE_END = re.compile(r"\r\n|\r|\n")


def encoding_name(kind: object) -> str:
    """An LSP position encoding (enum member or string) as "utf-8", "utf-16" or "utf-32"."""
    name = str(getattr(kind, "value", kind) or UTF16).lower()
    if name not in (UTF8, UTF16, UTF32):
        raise ValueError(f"unknown position encoding {kind!r}")
    return name


def split_lines(text: str) -> list[str]:
    """Split into lines that keep their terminator; the last item has none (possibly empty)."""
    lines: list[str] = []
    start = 0
    for match in _LINE_END.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    lines.append(text[start:])
    return lines


def line_body(line: str) -> str:
    """A line without its terminator."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


def _units(ch: str, encoding: str) -> int:
    code = ord(ch)
    if encoding == UTF16:
        return 2 if code > 0xFFFF else 1
    if encoding == UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 1


def column_to_index(body: str, column: int, encoding: str = UTF16) -> int:
    """Code-point index in `body` of an LSP column; clamped to the line, never inside a character."""
    if column <= 0:
        return 0
    if encoding == UTF32 or body.isascii():
        return min(column, len(body))
    units = 0
    for i, ch in enumerate(body):
        units += _units(ch, encoding)
        if units > column:
            # A column that falls inside a surrogate pair or UTF-8 sequence rounds down.
            return i
        if units == column:
            return i + 1
    return len(body)


def index_to_column(body: str, index: int, encoding: str = UTF16) -> int:
    """LSP column of a code-point index in `body`."""
    head = body[: max(0, index)]
    if encoding == UTF32 or head.isascii():
        return len(head)
    if encoding == UTF16:
        return len(head) + sum(1 for ch in head if ord(ch) > 0xFFFF)
    return len(head.encode("utf-8", "surrogatepass"))


@dataclass
class Document:
    """One open text document: its lines, version and language."""

    uri: str
    text_lines: list[str]
    version: int = 0
    language_id: str = ""
    encoding: str = UTF16

    @classmethod
    def from_text(
        cls, uri: str, text: str, version: int = 0, language_id: str = "", encoding: str = UTF16
    ) -> Document:
        """A document holding `text`."""
        return cls(uri, split_lines(text), version, language_id, encoding)

    @property
    def text(self) -> str:
        """The whole text (costs a join: not for the keystroke path)."""
        return "".join(self.text_lines)

    def line(self, number: int) -> str:
        """The text of line `number` without its terminator ('' past the end)."""
        if 0 <= number < len(self.text_lines):
            return line_body(self.text_lines[number])
        return ""

    def clamp(self, line: int, column: int) -> tuple[int, int]:
        """An LSP (line, column) to a valid (line, code-point index) in this document."""
        if line < 0:
            return 0, 0
        if line >= len(self.text_lines):
            last = len(self.text_lines) - 1
            return last, len(line_body(self.text_lines[last]))
        return line, column_to_index(self.line(line), column, self.encoding)

    def column(self, line: int, index: int) -> int:
        """The LSP column of code-point `index` on `line`."""
        return index_to_column(self.line(line), index, self.encoding)

    def replace_all(self, text: str, version: int) -> None:
        """Apply a full-content change."""
        self.text_lines = split_lines(text)
        self.version = version

    def apply_edit(
        self, start: tuple[int, int], end: tuple[int, int], new_text: str, version: int
    ) -> None:
        """Apply an incremental change between two LSP positions (line, column)."""
        sl, si = self.clamp(*start)
        el, ei = self.clamp(*end)
        if (el, ei) < (sl, si):
            sl, si, el, ei = el, ei, sl, si
        lines = self.text_lines
        first = lines[sl]
        last = lines[el]
        merged = first[:si] + new_text + last[ei:]
        lo, hi = sl, el + 1
        # A \r at one edge and a \n at the other would now form one \r\n: re-split the neighbours too.
        if merged.endswith("\r") and hi < len(lines):
            merged += lines[hi]
            hi += 1
        if merged.startswith("\n") and lo > 0 and lines[lo - 1].endswith("\r"):
            merged = lines[lo - 1] + merged
            lo -= 1
        pieces = split_lines(merged)
        if hi < len(lines):
            # `merged` ends with a terminator here, so its trailing empty piece is not a line.
            pieces.pop()
        lines[lo:hi] = pieces
        self.version = version


class DocumentStore:
    """The open documents, by URI."""

    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, text: str, version: int, language_id: str, encoding: str) -> Document:
        """Track a newly opened document."""
        doc = Document.from_text(uri, text, version, language_id, encoding)
        self._docs[uri] = doc
        return doc

    def get(self, uri: str) -> Document | None:
        """The document at `uri`, if open."""
        return self._docs.get(uri)

    def close(self, uri: str) -> None:
        """Forget a closed document."""
        self._docs.pop(uri, None)

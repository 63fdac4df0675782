"""Code from other open files for the prompt: definitions of the names near the cursor, recent edits.

Each open document is cut into chunks of a few dozen lines when it changes, off the keystroke path
(lazily, one document per idle tick); a request then only scores the chunks that define a name used
near the cursor and the chunks around recent edits, so its cost does not grow with the number or the
size of open documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .documents import Document

# Lines per chunk, and the most characters one chunk may hold (longer lines are cut).
CHUNK_LINES = 24
CHUNK_CHARS = 1500
# Places the user edited or asked for a suggestion, newest first.
MAX_RECENT = 16
# How much of the text around the cursor names the identifiers to look up.
_NEAR_BEFORE = 1500
_NEAR_AFTER = 400
# Chunks scored per request at most: the lookups are bounded, whatever the workspace holds.
_MAX_CANDIDATES = 64
_MAX_DEFINITIONS_PER_NAME = 4
# Documents larger than this are not chunked (minified bundles, generated files).
_MAX_DOC_CHARS = 2_000_000
_CHUNKS_PER_TICK = 8
_TICK_SECONDS = 0.02
# A document is chunked again once it has not changed for this long.
_QUIET_SECONDS = 1.0

_IDENT = re.compile(r"[A-Za-z_$][\w$]{2,}")
# Definition sites: `def f`, `class C`, `function f`, `func (r T) F`, `fn f`, `struct S`, ...
_DEFINITION = re.compile(
    r"""^[ \t]*(?:@\w[\w.]*(?:\(.*\))?\s+)?
    (?:(?:export|default|public|private|protected|internal|static|async|abstract|final|override|
       inline|extern|unsafe|open|sealed|data|pub(?:\([^)]*\))?|declare)\s+)*
    (?:def|class|function\*?|func(?:\s*\([^)]*\))?|fn|struct|type|interface|enum|trait|impl|module|
       object|record|namespace|typedef\s+struct|let|const|var|val|local\s+function)\s+
    \*?([A-Za-z_$][\w$]*)""",
    re.VERBOSE | re.MULTILINE,
)
# `NAME = ...` and `NAME: T = ...` at the top level (module constants, exported objects).
_ASSIGNMENT = re.compile(r"^([A-Za-z_$][\w$]*)\s*(?::[^=\n]{0,80})?=(?![=>])", re.MULTILINE)
# C-family functions and methods: a return type, the name, `(`, and no `;` on the line.
_C_FUNCTION = re.compile(
    r"^[ \t]{0,8}(?:[\w:<>\[\],*&]+[ \t]+)+[*&]?([A-Za-z_]\w*)[ \t]*\([^;]*$", re.MULTILINE
)
_KEYWORDS = frozenset(
    re.findall(
        r"\w+",
        "for while switch return else elif with try catch except finally new delete sizeof and not "
        "the self this cls true false none null nil let var const def class function func import "
        "from export default public private static async await yield print string int bool void "
        "char float double long short unsigned struct type interface enum raise throw pass break "
        "continue lambda assert ",
    )
)
_NOT_NAMES = _KEYWORDS | {k.capitalize() for k in _KEYWORDS}
# Languages whose functions are `type name(...)`, without a keyword.
_C_FAMILY = frozenset(
    {"c", "cpp", "objective-c", "objective-cpp", "cuda-cpp", "java", "csharp", "dart", "glsl"}
)


def identifiers(text: str) -> set[str]:
    """The names in a piece of code worth matching (no keywords, no one- or two-letter names)."""
    return set(_IDENT.findall(text)) - _NOT_NAMES


def definitions_in(text: str, c_family: bool = False) -> set[str]:
    """Names a chunk of code defines, by a lexical match over common languages."""
    names = {m.group(1) for m in _DEFINITION.finditer(text)}
    names.update(m.group(1) for m in _ASSIGNMENT.finditer(text))
    if c_family:
        names.update(m.group(1) for m in _C_FUNCTION.finditer(text))
    return names - _NOT_NAMES


@dataclass(frozen=True)
class Snippet:
    """A chunk of another file, as the prompt may carry it."""

    uri: str
    language_id: str
    start: int  # its first line in the document
    text: str
    # The path the model sees (relative to the workspace folder); set when it is chosen.
    path: str = ""


@dataclass
class _Chunked:
    """One document cut into chunks, with each chunk's names and definitions."""

    version: int
    snippets: list[Snippet]
    names: list[frozenset[str]]
    defines: dict[str, list[int]]


@dataclass
class _Watched:
    doc: Document
    changed: float = 0.0  # when it last changed (or opened)
    chunked: _Chunked | None = None
    # Chunks made so far of the document's current version, and the line to go on from.
    building: _Chunked | None = None
    next_line: int = 0

    @property
    def stale(self) -> bool:
        return self.chunked is None or self.chunked.version != self.doc.version

    def build(self, max_chunks: int | None) -> tuple[_Chunked | None, int]:
        """Chunk on from where the last call stopped: (the finished index or None, chunks made)."""
        doc = self.doc
        if self.building is None or self.building.version != doc.version:
            self.building, self.next_line = _Chunked(doc.version, [], [], {}), 0
            if sum(len(line) for line in doc.text_lines) > _MAX_DOC_CHARS:
                self.next_line = len(doc.text_lines)
        built = self.building
        lines = doc.text_lines
        c_family = doc.language_id in _C_FAMILY
        made = 0
        while self.next_line < len(lines) and (max_chunks is None or made < max_chunks):
            start = self.next_line
            self.next_line += CHUNK_LINES
            text = "".join(lines[start : start + CHUNK_LINES])[:CHUNK_CHARS]
            made += 1
            if not text.strip():
                continue
            index = len(built.snippets)
            built.snippets.append(Snippet(doc.uri, doc.language_id, start, text))
            built.names.append(frozenset(identifiers(text)))
            for name in definitions_in(text, c_family):
                built.defines.setdefault(name, []).append(index)
        if self.next_line < len(lines):
            return None, made
        self.building = None
        return built, made


def chunk_document(doc: Document) -> _Chunked:
    """Cut a document into chunks of CHUNK_LINES lines and index their names."""
    done, _made = _Watched(doc).build(None)
    assert done is not None
    return done


@dataclass(frozen=True)
class _Candidate:
    snippet: Snippet
    names: frozenset[str]
    bonus: float


@dataclass
class RelatedCode:
    """The open documents' chunks, and the places the user worked last."""

    _docs: dict[str, _Watched] = field(default_factory=dict)
    # name -> {uri: indexes of the chunks that define it}, over every chunked document.
    _defines: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    _recent: deque[tuple[str, int]] = field(default_factory=lambda: deque(maxlen=MAX_RECENT))
    _pending: asyncio.TimerHandle | None = None
    # Which documents may contribute (secret files may not); set by the engine.
    allowed: Callable[[str], bool] = lambda uri: True
    clock: Callable[[], float] = time.monotonic
    _stale: set[str] = field(default_factory=set)

    @property
    def pending(self) -> bool:
        """Whether some document waits to be chunked (again)."""
        return bool(self._stale)

    def watch(self, doc: Document) -> None:
        """A document opened (or changed): it is chunked again once it has been quiet a while."""
        watched = self._docs.setdefault(doc.uri, _Watched(doc))
        watched.doc, watched.changed = doc, self.clock()
        if watched.stale:
            self._stale.add(doc.uri)
            self._schedule()

    def touched(self, uri: str, line: int) -> None:
        """The user edited, or asked for a suggestion, at this line."""
        block = line // CHUNK_LINES
        if self._recent and self._recent[0] == (uri, block):
            return
        with contextlib.suppress(ValueError):
            self._recent.remove((uri, block))
        self._recent.appendleft((uri, block))

    def forget(self, uri: str) -> None:
        """A document closed."""
        watched = self._docs.pop(uri, None)
        self._stale.discard(uri)
        if watched is not None:
            self._unindex(uri, watched.chunked)
        for entry in [e for e in self._recent if e[0] == uri]:
            self._recent.remove(entry)

    def refresh(self, max_chunks: int | None = None, *, skip: str = "", quiet: float = 0.0) -> bool:
        """Chunk stale documents now (at most `max_chunks` chunks); True while some are stale.

        `skip`: a document not to chunk now (the one being typed in); `quiet`: chunk only
        documents unchanged for that long (a document being edited would be chunked in vain).
        """
        budget = max_chunks
        now = self.clock()
        for uri in list(self._stale):
            watched = self._docs[uri]
            if uri == skip or now - watched.changed < quiet:
                continue
            if budget is not None and budget <= 0:
                break
            done, made = watched.build(budget)
            if budget is not None:
                budget -= max(1, made)
            if done is not None:
                self._unindex(uri, watched.chunked)
                watched.chunked = done
                for name, indexes in done.defines.items():
                    self._defines.setdefault(name, {})[uri] = indexes
                self._stale.discard(uri)
        return bool(self._stale)

    def _unindex(self, uri: str, chunked: _Chunked | None) -> None:
        if chunked is None:
            return
        for name in chunked.defines:
            sites = self._defines.get(name)
            if sites is not None:
                sites.pop(uri, None)
                if not sites:
                    del self._defines[name]

    def _schedule(self, delay: float = _TICK_SECONDS) -> None:
        if self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._pending = loop.call_later(delay, self._idle_tick)

    def _idle_tick(self) -> None:
        self._pending = None
        # A few chunks per tick: a request arriving meanwhile waits a millisecond or two at most.
        if self.refresh(max_chunks=_CHUNKS_PER_TICK, quiet=_QUIET_SECONDS):
            # Sleep until the first stale document has been quiet long enough.
            quiet_at = min(self._docs[uri].changed for uri in self._stale) + _QUIET_SECONDS
            self._schedule(max(_TICK_SECONDS, quiet_at - self.clock()))

    def select(
        self,
        doc: Document,
        line: int,
        prompt: str,
        suffix: str,
        budget: int,
        header_cost: Callable[[Snippet], int] = lambda s: 0,
    ) -> tuple[Snippet, ...]:
        """The chunks of other files worth sending for a cursor, within `budget` characters.

        Ordered by file and line, so the prompt stays the same from one keystroke to the next
        while the choice does not change (model servers then reuse their prompt cache).
        """
        if budget <= 0:
            return ()
        if self._stale:
            # A file opened a moment ago: a few of its chunks now (bounded), the rest when idle.
            self.refresh(max_chunks=_CHUNKS_PER_TICK, skip=doc.uri)
        near_text = prompt[-_NEAR_BEFORE:] + suffix[:_NEAR_AFTER]
        near = identifiers(near_text)
        if not near:
            return ()
        cursor_line = prompt[prompt.rfind("\n") + 1 :]
        on_line = identifiers(cursor_line + suffix[: max(0, suffix.find("\n"))])
        window = (line - prompt.count("\n"), line + suffix.count("\n"))
        candidates = self._candidates(doc, near, on_line, window)
        if not candidates:
            return ()
        scored = sorted(
            candidates,
            key=lambda c: (
                -(
                    _jaccard(c.names, near)
                    + c.bonus
                    + (0.1 if c.snippet.language_id == doc.language_id else 0)
                )
            ),
        )
        chosen: list[Snippet] = []
        seen: set[str] = set()
        used = 0
        for cand in scored:
            snippet = cand.snippet
            if snippet.text in seen:
                continue
            cost = len(snippet.text) + header_cost(snippet)
            if used + cost > budget:
                continue
            seen.add(snippet.text)
            chosen.append(snippet)
            used += cost
        chosen.sort(key=lambda s: (s.uri, s.start))
        return tuple(chosen)

    def _candidates(
        self, doc: Document, near: set[str], on_line: set[str], window: tuple[int, int]
    ) -> list[_Candidate]:
        found: dict[tuple[str, int], _Candidate] = {}

        def add(uri: str, index: int, bonus: float) -> None:
            watched = self._docs.get(uri)
            if watched is None or watched.chunked is None or index >= len(watched.chunked.snippets):
                return
            snippet = watched.chunked.snippets[index]
            if uri == doc.uri:
                end = snippet.start + CHUNK_LINES
                if end > window[0] and snippet.start <= window[1]:
                    return  # already in the prompt or the suffix
            key = (uri, index)
            old = found.get(key)
            if old is None or old.bonus < bonus:
                found[key] = _Candidate(snippet, watched.chunked.names[index], bonus)

        # Definitions of the names on the cursor's line first: the call being written.
        for name in sorted(near, key=lambda n: (n not in on_line, n)):
            sites = self._defines.get(name)
            if not sites:
                continue
            bonus = 1.0 if name in on_line else 0.5
            hits = 0
            for uri, indexes in sites.items():
                if uri == doc.uri or not self.allowed(uri):
                    continue
                for index in indexes[: _MAX_DEFINITIONS_PER_NAME - hits]:
                    add(uri, index, bonus)
                    hits += 1
                if hits >= _MAX_DEFINITIONS_PER_NAME:
                    break
            if len(found) >= _MAX_CANDIDATES:
                break
        for uri, block in self._recent:
            watched = self._docs.get(uri)
            if watched is None or watched.chunked is None or not self.allowed(uri):
                continue
            for index, snippet in enumerate(watched.chunked.snippets):
                if snippet.start // CHUNK_LINES == block:
                    add(uri, index, 0.0)
                    break
        return list(found.values())


def _jaccard(a: frozenset[str], b: set[str]) -> float:
    inter = len(a & b)
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0

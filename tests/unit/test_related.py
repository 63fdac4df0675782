"""Context from other files: definitions found lexically, chunks chosen within a budget."""

from __future__ import annotations

import asyncio

import pytest

from fim_lsp.context import slice_context
from fim_lsp.documents import Document
from fim_lsp.related import CHUNK_LINES, RelatedCode, definitions_in, identifiers


@pytest.mark.parametrize(
    ("code", "language", "name"),
    [
        ("def parse_header(line):\n    pass\n", "python", "parse_header"),
        ("class Parser:\n    pass\n", "python", "Parser"),
        ("async def fetch_all(urls):\n    pass\n", "python", "fetch_all"),
        ("MAX_RETRIES = 3\n", "python", "MAX_RETRIES"),
        ("export function renderRow(row) {\n}\n", "javascript", "renderRow"),
        ("export const formatDate = (d) => d.toISOString();\n", "javascript", "formatDate"),
        ("export default class Store {\n}\n", "javascript", "Store"),
        ("export interface UserProps {\n  id: number;\n}\n", "typescript", "UserProps"),
        ("type Handler = (e: Event) => void;\n", "typescript", "Handler"),
        ("func (s *Server) ServeHTTP(w http.ResponseWriter) {\n}\n", "go", "ServeHTTP"),
        ("func NewServer(addr string) *Server {\n}\n", "go", "NewServer"),
        ("pub fn parse_args(args: &[String]) -> Config {\n}\n", "rust", "parse_args"),
        ("pub(crate) struct Config {\n}\n", "rust", "Config"),
        ("static int count_words(const char *s) {\n", "c", "count_words"),
        ("    public List<String> splitNames(String all) {\n", "java", "splitNames"),
        ("local function trim(s)\nend\n", "lua", "trim"),
    ],
)
def test_definitions_are_found_lexically_in_many_languages(
    code: str, language: str, name: str
) -> None:
    c_family = language in ("c", "java")
    assert name in definitions_in(code, c_family)


def test_identifiers_skip_keywords_and_short_names() -> None:
    assert identifiers("if x: return self.total(a, bb, count)") == {"total", "count"}


def _doc(uri: str, text: str, language: str = "python") -> Document:
    return Document.from_text(uri, text, 1, language)


HELPERS = (
    "import re\n\n\n"
    + "".join(f"def unrelated_{k}(value):\n    return value * {k}\n\n\n" for k in range(20))
    + "def normalize_path(path, sep='/'):\n    return path.replace('\\\\', sep).rstrip(sep)\n"
)


def _select(related: RelatedCode, doc: Document, line: int, column: int, budget: int = 3000):
    ctx = slice_context(doc.text_lines, line, column, 6000, 2000, doc.language_id)
    return related.select(doc, line, ctx.prompt, ctx.suffix, budget)


def _setup() -> tuple[RelatedCode, Document]:
    related = RelatedCode()
    related.watch(_doc("file:///w/helpers.py", HELPERS))
    current = _doc("file:///w/main.py", "from helpers import *\n\nroot = normalize_path(\n")
    related.watch(current)
    related.refresh()
    return related, current


def test_the_definition_of_the_function_called_on_the_cursor_line_is_chosen() -> None:
    related, current = _setup()
    chosen = _select(related, current, 2, len("root = normalize_path("))
    assert chosen and all(s.uri == "file:///w/helpers.py" for s in chosen)
    assert any("def normalize_path(path, sep='/')" in s.text for s in chosen)


def test_no_budget_no_names_or_no_other_files_give_nothing() -> None:
    related, current = _setup()
    assert _select(related, current, 2, 22, budget=0) == ()
    assert _select(related, current, 2, 22, budget=10) == ()
    alone = RelatedCode()
    alone.watch(current)
    alone.refresh()
    assert _select(alone, current, 2, 22) == ()


def test_a_file_that_is_not_allowed_contributes_nothing() -> None:
    related, current = _setup()
    related.allowed = lambda uri: not uri.endswith("helpers.py")
    assert _select(related, current, 2, 22) == ()


def test_a_closed_document_contributes_nothing() -> None:
    related, current = _setup()
    related.forget("file:///w/helpers.py")
    assert _select(related, current, 2, 22) == ()


def test_the_choice_is_ordered_by_file_and_line_and_stable() -> None:
    related, current = _setup()
    related.watch(_doc("file:///w/a_first.py", "def normalize_path(p):\n    return p\n"))
    related.refresh()
    first = _select(related, current, 2, 22)
    assert [s.uri for s in first] == sorted(s.uri for s in first)
    assert _select(related, current, 2, 22) == first


def test_a_chunk_around_a_recent_edit_is_a_candidate_even_without_shared_definitions() -> None:
    related, current = _setup()
    notes = _doc("file:///w/notes.py", "root_folder = normalize_path_setting\n" * 3)
    related.watch(notes)
    related.refresh()
    related.touched(notes.uri, 1)
    chosen = _select(related, current, 2, 22)
    assert any(s.uri == notes.uri for s in chosen)


def test_chunks_of_the_cursor_file_inside_the_window_are_not_sent_again() -> None:
    text = "def far_away_helper(x):\n    return x\n" + "pass\n" * (3 * CHUNK_LINES)
    text += "y = far_away_helper(\n"
    current = _doc("file:///w/one.py", text)
    related = RelatedCode()
    related.watch(current)
    related.refresh()
    line = 2 + 3 * CHUNK_LINES
    related.touched(current.uri, 0)
    # Everything fits the local window: the first chunk is already in the prompt.
    assert _select(related, current, line, 20) == ()
    ctx = slice_context(current.text_lines, line, 20, 100, 100, "python")
    chosen = related.select(current, line, ctx.prompt, ctx.suffix, 3000)
    assert [s.start for s in chosen] == [0]


def test_a_changed_document_is_chunked_again_a_few_chunks_at_a_time() -> None:
    related, _current = _setup()
    big = _doc("file:///w/big.py", "x = 1\n" * (CHUNK_LINES * 20) + "def late_name(a):\n    pass\n")
    related.watch(big)
    ticks = 0
    while related.refresh(max_chunks=4):
        ticks += 1
    assert ticks >= 4
    probe = _doc("file:///w/probe.py", "v = late_name(\n")
    related.watch(probe)
    related.refresh()
    assert any("def late_name" in s.text for s in _select(related, probe, 0, 14))
    big.apply_edit((0, 0), (0, 0), "def early_name(b):\n    pass\n", 2)
    related.watch(big)
    early = _doc("file:///w/early.py", "w = early_name(\n")
    related.watch(early)
    # Until the new version is chunked, the old index answers.
    assert related.refresh(max_chunks=1)
    assert not any("def early_name" in s.text for s in _select(related, early, 0, 15))
    related.refresh()
    assert any("def early_name" in s.text for s in _select(related, early, 0, 15))


async def test_documents_are_chunked_in_the_background_once_quiet() -> None:
    related = RelatedCode()
    related.watch(_doc("file:///w/helpers.py", HELPERS))
    assert related.pending
    for _ in range(150):
        await asyncio.sleep(0.02)
        if not related.pending:
            break
    assert not related.pending
    current = _doc("file:///w/main.py", "root = normalize_path(\n")
    assert any("def normalize_path" in s.text for s in _select(related, current, 0, 22))


def test_a_file_opened_a_moment_ago_is_chunked_at_the_request_but_not_the_one_typed_in() -> None:
    related = RelatedCode()
    related.watch(_doc("file:///w/helpers.py", HELPERS))
    current = _doc("file:///w/main.py", "root = normalize_path(\n")
    related.watch(current)
    assert any("def normalize_path" in s.text for s in _select(related, current, 0, 22))
    # The document being typed in waits until it is quiet.
    assert related.pending and related.refresh(quiet=60.0)

"""Whitespace where the suggestion meets the document: models re-emit spaces and newlines the user already has."""

from __future__ import annotations

import re
import textwrap

from ._syntax import BRACELESS, CLOSING, PROSE
from ._view import TRAILING_BLANK_LINES, View, indent_width, is_blank

# A word character or a closing bracket before a dot: member access, where no space follows.
_MEMBER_DOT = re.compile(r"[A-Za-z_)\]]\.\Z")
# The file writes `( x` or `[ x`: a space after an opening bracket is its style, not noise.
_SPACED_BRACKET = re.compile(r"[(\[] [^\s)\]]")
_TRAILING_WORD = re.compile(r"[A-Za-z_$][\w$]*\Z")
_LEADING_WORD = re.compile(r"[\w$]+")
_SPACE_BEFORE_PUNCT = re.compile(r"[^\s,;(\[] [,;)\]]")
_WINDOW = 4000
# The word being typed is looked for in this many last characters of the line.
_LONGEST_WORD = 80
# A line's text shorter than this (`x`, `i =`) may start again by design; a longer copy is an echo.
_ECHO_CHARS = 4
# A markdown list item's marker (`- `, `1. `, `- [ ] `) or a quote's: the line's text follows it.
_LIST_MARKER = re.compile(r"(?:[-*+]|\d+[.)]|>)[ \t]+(?:\[[ xX]\][ \t]+)?")
# How much of a prose line's end is looked at for words the answer re-types.
_PROSE_ECHO_CHARS = 200
# Invisible format characters a model starts with (a zero-width space, a byte-order mark, a
# direction mark), and the gap after them: pasted into code they break it and cannot be seen.
_INVISIBLE_START = re.compile(r"[\u200b-\u200f\u2060\ufeff]+([ \t]*)")
# A line that ends where a value must follow (`x = `, `return `, `export default `, `f(`, `a +`).
_EXPECTS_VALUE = re.compile(
    r"(?:(?<![+\-])[=(\[,+\-*/%&|^!~?]|=>|\b(?:return|default|yield|await|throw|new|in|of))\s*\Z"
)
# Words after which a space and a name are normal code.
_KEYWORDS: dict[str, frozenset[str]] = {
    "python": frozenset(
        [
            "False",
            "None",
            "True",
            "and",
            "as",
            "assert",
            "async",
            "await",
            "break",
            "case",
            "class",
            "continue",
            "def",
            "del",
            "elif",
            "else",
            "except",
            "finally",
            "for",
            "from",
            "global",
            "if",
            "import",
            "in",
            "is",
            "lambda",
            "match",
            "nonlocal",
            "not",
            "or",
            "pass",
            "raise",
            "return",
            "try",
            "type",
            "while",
            "with",
            "yield",
            "print",
            "exec",
        ]
    ),
    "javascript": frozenset(
        [
            "async",
            "await",
            "break",
            "case",
            "catch",
            "class",
            "const",
            "continue",
            "debugger",
            "default",
            "delete",
            "do",
            "else",
            "export",
            "extends",
            "finally",
            "for",
            "from",
            "function",
            "get",
            "if",
            "import",
            "in",
            "instanceof",
            "let",
            "new",
            "of",
            "return",
            "set",
            "static",
            "super",
            "switch",
            "this",
            "throw",
            "try",
            "typeof",
            "var",
            "void",
            "while",
            "with",
            "yield",
            "as",
        ]
    ),
    "c": frozenset(
        [
            "auto",
            "bool",
            "break",
            "case",
            "char",
            "const",
            "continue",
            "default",
            "define",
            "do",
            "double",
            "elif",
            "else",
            "endif",
            "enum",
            "error",
            "extern",
            "float",
            "for",
            "goto",
            "if",
            "ifdef",
            "ifndef",
            "include",
            "inline",
            "int",
            "long",
            "pragma",
            "register",
            "restrict",
            "return",
            "short",
            "signed",
            "sizeof",
            "static",
            "struct",
            "switch",
            "typedef",
            "undef",
            "union",
            "unsigned",
            "void",
            "volatile",
            "while",
            "class",
            "namespace",
            "template",
            "typename",
            "using",
            "public",
            "private",
            "protected",
            "virtual",
            "override",
            "final",
            "constexpr",
            "explicit",
            "friend",
            "operator",
            "new",
            "delete",
            "throw",
            "try",
            "catch",
            "noexcept",
            "decltype",
            "mutable",
        ]
    ),
}
_KEYWORDS["typescript"] = _KEYWORDS["javascript"] | frozenset(
    [
        "type",
        "interface",
        "implements",
        "enum",
        "declare",
        "namespace",
        "module",
        "readonly",
        "private",
        "public",
        "protected",
        "abstract",
        "keyof",
        "infer",
        "is",
        "asserts",
    ]
)
_KEYWORDS["javascriptreact"] = _KEYWORDS["javascript"]
_KEYWORDS["typescriptreact"] = _KEYWORDS["typescript"]
_KEYWORDS["cpp"] = _KEYWORDS["c"]
_ALL_KEYWORDS = frozenset().union(*_KEYWORDS.values())
# Languages where two names side by side need a keyword between or before them.
_JUXTAPOSE_ONLY_KEYWORDS = frozenset({"python", "javascript", "javascriptreact"})


def _dedent_first(line: str, width: int) -> str:
    """Remove up to `width` columns of leading whitespace from a line."""
    i = 0
    col = 0
    while i < len(line) and line[i] in " \t":
        step = 4 if line[i] == "\t" else 1
        if col + step > width:
            break
        col += step
        i += 1
    return line[i:]


_OPENERS = (":", "{", "(", "[", "=>", " do", " then")


def _body_of_line_above(view: View) -> bool:
    """The line above opens a block the cursor's line is not yet indented into (`if x:`, a
    braceless `if (x)`)."""
    above = view.line_above()
    opens = above.endswith(_OPENERS) or (
        not view.syntax.indent_blocks and BRACELESS.match(above) is not None
    )
    return opens and indent_width(above) >= indent_width(view.line_prefix)


def _blank_lines_meant(lead: str, content: str, view: View) -> bool:
    """Whether a model's leading newlines on an empty line keep the file's own spacing.

    Between definitions (two blank lines before a top-level `def` in Python) the model starts
    with the blank lines still missing; that spacing is the file's when the blank run it makes
    is no longer than one the file already has and the new line is a sibling of the code
    above (not the first line of a block it opens), with nothing after the cursor on its line.
    """
    if view.line_rest.strip():
        return False
    head = view.prefix[: len(view.prefix) - len(view.line_prefix)]
    above = head.split("\n")[:-1]
    blank_above = 0
    for line in reversed(above):
        if line.strip():
            break
        blank_above += 1
    if blank_above == len(above):
        return False  # the start of the file
    code = above[len(above) - blank_above - 1]
    if code.rstrip().endswith(_OPENERS) or indent_width(content) > indent_width(code):
        return False
    run = blank_above + lead.count("\n")
    longest = current = 0
    for line in above[: len(above) - blank_above]:
        current = current + 1 if not line.strip() else 0
        longest = max(longest, current)
    return run <= longest


def _single_stray_space(text: str) -> bool:
    return len(text) > 1 and text[0] == " " and text[1] not in " \t\n"


# Where a line may sit one column past a level on purpose (a scalar's continuation, a layout
# aligned with the line above) or is text.
_ALIGNED_LAYOUT = PROSE | {"yaml", "haskell", "fsharp", "elm", "purescript"}


def _even_indents(view: View) -> bool:
    """The lines around the cursor are indented with spaces, in even steps only."""
    near = [*view.lines_before(40), *view.after[:40]]
    code = [ln for ln in near if ln.strip() and not ln.lstrip().startswith("*")]
    return any(ln[:1] == " " for ln in code) and all(
        ln[:1] != "\t" and indent_width(ln) % 2 == 0 for ln in code
    )


def _unshift_lines(text: str, view: View, after_stray: bool = True) -> str:
    """The lines after the first, if every one of them is indented one space past a level (the
    model shifted its answer), lose that space.

    After a stray space dropped from the first line the whole answer was shifted. Otherwise the
    file's indentation must be known, the first line on a level and each line before a shifted
    one complete (brackets closed): then no line is aligned with an open bracket.
    """
    lines = text.split("\n")
    step = len(view.indent_unit) if view.indent_unit.startswith(" ") else 2
    out = [lines[0]]
    for line in lines[1:]:
        body = line.lstrip(" \t")
        if not body:
            out.append(line)
            continue
        level = line[: len(line) - len(body) - 1]
        past_tabs = after_stray and bool(level) and not level.strip("\t")
        past_spaces = not level.strip(" ") and (len(level) + 1) % step == 1
        if line[len(level)] != " " or body.startswith("*") or not (past_tabs or past_spaces):
            # A line on a level (or a comment's aligned ` * `): the answer was not shifted.
            return text
        out.append(level + body)
    if not after_stray and not _realigns(lines, view, step):
        return text
    return "\n".join(out)


def _realigns(lines: list[str], view: View, step: int) -> bool:
    """Whether lines one space past a level after a first line on one are the model's slip."""
    if (
        view.language in _ALIGNED_LAYOUT
        or step < 2
        or indent_width(view.line_prefix + lines[0]) % step
        or not (view.indent_unit.startswith(" ") or _even_indents(view))
    ):
        return False
    scanner = view.scan_from_line_start(lines[0])
    for line in lines[1:]:
        if scanner.depth > 0 or not scanner.in_code:
            # The line may be aligned with a bracket or be a string's text.
            return False
        scanner.newline()
        scanner.feed(line)
    return True


def trim_start(text: str, view: View) -> str:
    """Remove a stray leading newline, trailing spaces on the cursor's line, a doubled space."""
    line_prefix = view.line_prefix
    invisible = _INVISIBLE_START.match(text)
    if invisible:
        # The gap after them goes where the user typed one; at a line's start it is indentation.
        typed_gap = not is_blank(line_prefix) and line_prefix[-1] in " \t"
        text = text[invisible.end() if typed_gap else invisible.start(1) :]
    if is_blank(line_prefix):
        # The cursor sits on an empty line: a leading newline would skip it.
        stripped = text.lstrip(" \t\n")
        if stripped and "\n" in text[: len(text) - len(stripped)]:
            lead = text[: len(text) - len(stripped)]
            if _blank_lines_meant(lead, lead.rsplit("\n", 1)[1] + stripped, view):
                return text
            first_start = text.rfind("\n", 0, len(text) - len(stripped)) + 1
            text = _dedent_first(text[first_start:], indent_width(line_prefix))
        elif (
            line_prefix
            and text.startswith(line_prefix)
            and text[len(line_prefix) : len(line_prefix) + 1].strip()
            and not _body_of_line_above(view)
        ):
            # The model re-sent the indentation the cursor's line already has.
            text = text[len(line_prefix) :]
        elif (
            _single_stray_space(text)
            and view.at_cursor.in_code
            and not text.startswith(" *")
            and (
                (line_prefix and not line_prefix.strip("\t"))
                or (
                    "\t" not in line_prefix
                    and (len(line_prefix) + 1) % (len(view.indent_unit) or 2)
                )
            )
        ):
            # One space after tabs, or one more than the indentation, lands between levels.
            text = _unshift_lines(text[1:], view)
        elif not line_prefix and text[:1] in " \t" and view.at_end and _no_code(view):
            # The first code of a file (empty, or comments only so far) starts at its left edge.
            text = textwrap.dedent(text).lstrip(" \t")
        elif "\n" in text and view.at_cursor.in_code:
            text = _unshift_lines(text, view, after_stray=False)
        return text
    echo = _retyped(text, view)
    if echo:
        # The model re-typed what the line already has before the cursor (`const x = f(` then
        # `const x = f(a)`, `console.log` then `log(`): the line keeps one copy.
        text = text[echo:]
        if not text:
            return text
    newline = text.find("\n")
    if newline == 0 and view.at_end and line_prefix[-1] in " \t" and text.lstrip()[:1] == "{":
        # `for (...) ` then a newline and `{`: the user typed the space for the brace.
        return text.lstrip(" \t\n")
    if newline == 0 and view.at_end and _EXPECTS_VALUE.search(line_prefix):
        # At the end of the file Codestral starts a value on a new line: it belongs on this one.
        stripped = text.lstrip(" \t\n")
        nxt = text[: len(text) - len(stripped)].rsplit("\n", 1)[-1] + stripped.split("\n", 1)[0]
        if (
            stripped
            and indent_width(nxt) <= indent_width(line_prefix)
            and stripped[0] not in CLOSING
        ):
            return stripped if line_prefix[-1].isspace() else " " + stripped
    if newline > 0 and is_blank(text[:newline]):
        # Spaces before the first newline would be trailing whitespace on the cursor's line.
        return text[newline:]
    if _break_left_out(text, view):
        # After a `{` that ends the line, the model wrote the block's first line, indented,
        # without the line break before it (`{    return x;`).
        return "\n" + text
    if (
        text[:1] == "\t"
        and text[1:2] not in ("", " ", "\t", "\n")
        and line_prefix[-1] == " "
        and view.at_cursor.in_code
    ):
        # A tab after the space typed (`x = ` then `\t1`) is a stray gap, not alignment.
        return text[1:]
    if not _single_stray_space(text):
        return text
    if not view.at_cursor.in_code:
        # In a comment or a string only a space inside a word the file uses is noise.
        return text[1:] if _split_word(line_prefix, text, view) else text
    last = line_prefix[-1]
    if text[1] in ",;)]" and last not in " \t([" and not _SPACE_BEFORE_PUNCT.search(view.prefix):
        # No space before a comma, a semicolon or a closer, unless the file writes them so.
        return text[1:]
    if last in " \t":
        sentence = line_prefix.rstrip()[-1:] in (".", "?", "!")
        # Two spaces already typed: the user is aligning, and one more may be meant.
        aligning = line_prefix[-2:-1].isspace()
        if not view.aligns and not sentence and not aligning:
            return text[1:]
    elif last in "([":
        if not _SPACED_BRACKET.search(view.prefix):
            return text[1:]
    elif _MEMBER_DOT.search(line_prefix) or _split_word(line_prefix, text, view):
        return text[1:]
    return text


def _break_left_out(text: str, view: View) -> bool:
    """Whether `text` is an indented line that belongs below the cursor's `{`-ended line."""
    body = text.lstrip(" \t")
    width = indent_width(text[: len(text) - len(body)])
    return (
        width > max(1, indent_width(view.line_prefix))
        and body[:1] not in ("", "\n")
        and not view.mid_line
        and view.at_cursor.in_code
        and view.line_prefix.rstrip().endswith("{")
    )


def _no_code(view: View) -> bool:
    """Whether the prefix holds only blank lines and line comments."""
    marks = view.syntax.line_comments
    return all(
        not line.strip() or (bool(marks) and line.lstrip().startswith(marks))
        for line in view.prefix.split("\n")
    )


def _retyped(text: str, view: View) -> int:
    """How many characters at the start of `text` re-type the cursor's line before the cursor
    (all of its text, or the word being typed); 0 when the text goes on from the cursor."""
    typed = view.line_prefix.lstrip(" \t")
    if len(typed) >= _ECHO_CHARS and any(ch.isalnum() for ch in typed):
        echo = _echo_after(text, typed, " \t")
        if echo:
            return echo
    if view.language in PROSE:
        echo = _retyped_words(typed, text)
        if echo:
            return echo
    head = _typed_word(typed)
    if head is None or len(head.group()) < 2 or not text.startswith(head.group()):
        return 0
    word = head.group()
    tail = _LEADING_WORD.match(text)
    assert tail is not None
    if typed[: head.start()].endswith("#") or _used(word + tail.group(), _window(view, word)):
        # `#ab` then `ab12`: a colour that repeats its digits; a name the file has.
        return 0
    return len(word)


def _retyped_words(typed: str, text: str) -> int:
    """In prose, how many characters at the start of `text` re-type the line's last words
    (`Hello there general ` + `general Kenobi`), or its text after a list marker (`- [ ] `)."""
    marker = _LIST_MARKER.match(typed)
    item = typed[marker.end() :] if marker else ""
    if len(item) >= _ECHO_CHARS and text.startswith(item):
        return len(item)
    if marker and not item:
        # Only the marker typed, and the model starts the item again (on a line of its own).
        echo = _echo_after(text, typed, " \t\n")
        if echo:
            return echo
    # From the longest tail that starts a word to the shortest. One word ending the line is
    # the typed word, which `_retyped` judges with the file's names.
    ends_word = not typed[-1:].isspace()
    for at in range(max(0, len(typed) - _PROSE_ECHO_CHARS), len(typed)):
        if typed[at].isspace() or (at and not typed[at - 1].isspace()):
            continue
        words = typed[at:]
        if ends_word and " " not in words:
            break
        if text.startswith(words) and sum(ch.isalnum() for ch in words) >= 2:
            return len(words)
    return 0


def _echo_after(text: str, typed: str, gap: str) -> int:
    """How much of `text` re-types `typed` after a leading gap of `gap` characters, or 0."""
    body = text.lstrip(gap)
    return len(text) - len(body) + len(typed) if body.startswith(typed) else 0


def _window(view: View, word: str) -> str:
    """The text around the cursor, without the word being typed (it would count as a use of itself)."""
    before = view.prefix[max(0, len(view.prefix) - _WINDOW) : len(view.prefix) - len(word)]
    return before + "\n" + view.line_rest + "\n" + "\n".join(view.after)


def _used(name: str, window: str) -> bool:
    """Whether `window` has `name` as a whole word."""
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", window) is not None


def _typed_word(line_prefix: str) -> re.Match[str] | None:
    """The word the line ends with (looked for in its last characters only: a search from
    every start of one very long word would take the square of its length)."""
    return _TRAILING_WORD.search(line_prefix, max(0, len(line_prefix) - _LONGEST_WORD))


def _split_word(line_prefix: str, text: str, view: View) -> bool:
    """True when the space would split a word the user is typing (`retu` + ` rn`)."""
    head = _typed_word(line_prefix)
    tail = _LEADING_WORD.match(text, 1)
    if head is None or tail is None:
        return False
    word, rest = head.group(), tail.group()
    window = _window(view, word)
    if _used(word + rest, window):
        # The joined word is used in the file: the user is typing it.
        return True
    if not view.at_cursor.in_code:
        # In prose every word is new: only the evidence above counts.
        return False
    keywords = _KEYWORDS.get(view.language, _ALL_KEYWORDS)
    if word in keywords or rest in keywords:
        return False
    whole_word = rf"(?<![\w$]){re.escape(word)}(?![\w$])"
    if re.search(rf"(?<![\w$]){re.escape(word)}[\w$]", window) and not re.search(
        whole_word, window
    ):
        # The file has longer names starting with it and never uses it alone: a fragment.
        return True
    if view.language not in _JUXTAPOSE_ONLY_KEYWORDS:
        # In prose every word is new, and in C-like declarations a type precedes a name: only
        # the evidence above counts there.
        return False
    if word.isupper():
        # Macros in upper case may stand before a name (`EXPORT int`).
        return False
    # A word the file never follows with a space and a name is a fragment, not a type or keyword.
    return re.search(rf"(?<![\w$]){re.escape(word)}[ \t]+[A-Za-z_]", window) is None


def trim_end(text: str, view: View) -> str:
    """Drop trailing blank lines at the end of a line (they would push the next line down), and
    spaces at the ends of the suggestion's lines."""
    text = _line_ends_trimmed(text, view)
    if view.mid_line:
        last = text.rsplit("\n", 1)[-1]
        if view.line_rest[:1] in (" ", "\t") and view.at_cursor.in_code and last.strip():
            # The rest of the line brings its own gap (`sum(bar, █ baz)` + `bar, `).
            text = text.rstrip(" \t")
        # Before text that stays on the line, a final newline is part of the answer (`(\n    a,\n)`).
        return text
    if _nothing_typed_after(text) and view.language not in PROSE:
        text = text.rstrip(" \t")
    return TRAILING_BLANK_LINES.sub("", text)


_SPACE_AT_LINE_END = re.compile(r"[ \t]\n")


def _nothing_typed_after(text: str) -> bool:
    """Whether the text ends in a gap that nothing follows: spaces after a finished statement or
    a closer, or a tab (it aligns nothing). Not a regex: one anchored at the end would scan a long
    gap again from each of its characters."""
    body = text.rstrip(" \t")
    gap = text[len(body) :]
    return gap.endswith("\t") or (gap != "" and body[-1:] in (";", ")", "]", "}"))


def _line_ends_trimmed(text: str, view: View) -> str:
    """`text` without spaces before its line breaks, but where a string or a here-document
    goes on over the break (its text), and in prose (Markdown's two spaces break the line)."""
    if view.language in PROSE or not _SPACE_AT_LINE_END.search(text):
        return text
    lines = text.split("\n")
    scanner = view.scan_from_line_start(lines[0])
    # Not the last line: the user may go on typing after its space (`g(2, `).
    for k in range(len(lines) - 1):
        if k:
            scanner.newline()
            scanner.feed(lines[k])
        if scanner.string is None and scanner.heredoc is None and not scanner.in_block_comment:
            lines[k] = lines[k].rstrip(" \t")
    return "\n".join(lines)

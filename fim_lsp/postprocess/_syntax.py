"""A tiny language-aware scanner: brackets, strings and comments, line by line, no parsing."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import lru_cache

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSING = {")": "(", "]": "[", "}": "{"}

_HASH = frozenset(
    {
        "python", "shellscript", "sh", "bash", "zsh", "fish", "ruby", "perl", "r", "yaml",
        "toml", "makefile", "dockerfile", "elixir", "julia", "nim", "powershell", "cmake",
        "coffeescript", "crystal", "gdscript", "starlark", "ini", "properties",
    }
)  # fmt: skip
_SLASH = frozenset(
    {
        "c", "cpp", "objective-c", "objective-cpp", "cuda-cpp", "java", "javascript",
        "javascriptreact", "typescript", "typescriptreact", "go", "rust", "csharp", "swift",
        "kotlin", "php", "scala", "dart", "zig", "jsonc", "css", "scss", "less", "groovy",
        "proto", "glsl", "hlsl", "solidity", "d", "vue", "svelte",
    }
)  # fmt: skip
_DASH = frozenset({"lua", "sql", "haskell", "elm", "ada", "vhdl"})
_BACKTICK = frozenset(
    {"javascript", "javascriptreact", "typescript", "typescriptreact", "go", "vue", "svelte"}
)
_SHELL = frozenset({"shellscript", "sh", "bash", "zsh"})
_REGEX = frozenset({"javascript", "javascriptreact", "typescript", "typescriptreact"})
# A `/` after one of these (or at the start of a line) begins a regex literal, not a division.
_BEFORE_REGEX = frozenset("(,=:[!&|?{};+-*%<>~^")
# Prose-like or lifetime-using languages: an apostrophe is not a string quote there.
_NO_SINGLE_QUOTE = frozenset({"rust", "markdown", "plaintext", "latex", "restructuredtext", ""})
_PREPROCESSOR = frozenset({"c", "cpp", "objective-c", "objective-cpp", "cuda-cpp", "csharp"})
# Languages where `<...>` pairs (tags, type arguments) stand like brackets.
ANGLE_BRACKETS = frozenset(
    {
        "javascript", "javascriptreact", "typescript", "typescriptreact", "java", "csharp", "cpp",
        "rust",
        "scala", "kotlin", "swift", "dart", "html", "xml", "vue", "svelte", "php",
    }
)  # fmt: skip
# Documents of prose: a line ends where it ends, indentation says little.
# A control line without a brace: its body is one statement, then the block goes on.
BRACELESS = re.compile(r"\s*(\}\s*)?(if|for|while|else if|else)\b.*[)\w]\s*$")
PROSE = frozenset({"markdown", "plaintext", "restructuredtext", "latex", "asciidoc"})
_CHAR_LITERAL = re.compile(r"'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^'\\])'")
# A shell here-document: its lines are text until the one that is only the word.
_HEREDOC = re.compile(r"<<-?\s*['\"]?([A-Za-z_]\w*)['\"]?")
# Languages whose blocks are delimited by indentation only.
INDENT_BLOCKS = frozenset({"python", "yaml", "nim", "gdscript", "starlark", "coffeescript"})


@dataclass(frozen=True)
class Syntax:
    """What the scanner needs to know about a language."""

    line_comments: tuple[str, ...]
    block_comment: bool
    quotes: tuple[str, ...]
    preprocessor: bool
    indent_blocks: bool
    # `/re/` literals (JavaScript, TypeScript).
    regex: bool = False
    # Shell `case` arms: `start)` ends a pattern, it closes no bracket.
    case_patterns: bool = False
    # `'{'` is a character, though `'` alone starts no string (Rust lifetimes).
    char_literals: bool = False
    # The characters where code can change the scanner's state (computed once per language).
    specials: re.Pattern[str] | None = field(default=None, compare=False, hash=False)


def syntax_of(language_id: str) -> Syntax:
    """The scanner's rules for an LSP language id (unknown ids get quotes and brackets only)."""
    lang = language_id.lower()
    comments: tuple[str, ...] = ()
    if lang in _HASH:
        comments = ("#",)
    elif lang in _SLASH:
        comments = ("//",)
    elif lang in _DASH:
        comments = ("--",)
    quotes: list[str] = []
    if lang == "python":
        quotes += ['"""', "'''"]
    quotes.append('"')
    if lang not in _NO_SINGLE_QUOTE:
        quotes.append("'")
    if lang in _BACKTICK:
        quotes.append("`")
    if lang in ("markdown", "plaintext"):
        quotes = []
    syntax = Syntax(
        line_comments=comments,
        block_comment=lang in _SLASH,
        quotes=tuple(quotes),
        preprocessor=lang in _PREPROCESSOR,
        indent_blocks=lang in INDENT_BLOCKS,
        regex=lang in _REGEX,
        case_patterns=lang in _SHELL,
        char_literals=lang == "rust",
    )
    return dataclasses.replace(syntax, specials=_specials(syntax))


@dataclass
class Scanner:
    """Tracks open brackets, strings and comments over text fed one line at a time."""

    syntax: Syntax
    stack: list[str] = field(default_factory=list)
    # Closers seen with nothing open: they close something before the scanned text.
    unmatched: int = 0
    # Closers that met a different opener: a bracket error, for scoring candidates.
    mismatched: int = 0
    string: str | None = None
    in_block_comment: bool = False
    in_line_comment: bool = False
    # A one-line string whose line ended in a backslash goes on to the next line.
    continued: bool = False
    # Stack depths where `${` expressions of template literals began.
    templates: list[int] = field(default_factory=list)
    # The word that ends the shell here-document the scanner is in.
    heredoc: str | None = None

    @property
    def depth(self) -> int:
        """Open brackets minus closers of brackets opened before the scanned text."""
        return len(self.stack) - self.unmatched

    @property
    def in_code(self) -> bool:
        """False inside a string or a comment."""
        return (
            self.string is None
            and not self.in_block_comment
            and not self.in_line_comment
            and self.heredoc is None
        )

    def copy(self) -> Scanner:
        """An independent scanner in the same state."""
        return Scanner(
            self.syntax,
            list(self.stack),
            self.unmatched,
            self.mismatched,
            self.string,
            self.in_block_comment,
            self.in_line_comment,
            self.continued,
            list(self.templates),
            self.heredoc,
        )

    def feed(self, text: str) -> int:
        """Scan `text`, which must not contain a line end; returns the lowest depth reached."""
        syn = self.syntax
        low = self.depth
        if self.heredoc is not None:
            if text.strip() == self.heredoc:
                self.heredoc = None
            return low
        i = 0
        n = len(text)
        # A shell `)` with no `(` before it on its line ends a `case` pattern.
        opened = False
        specials = syn.specials or _specials(syn)
        while i < n:
            if self.in_line_comment:
                return low
            if self.in_block_comment:
                end = text.find("*/", i)
                if end < 0:
                    return low
                self.in_block_comment = False
                i = end + 2
                continue
            # Jump over what cannot change the state: most of a line is names and spaces.
            found = (specials if self.string is None else _string_stops(self.string)).search(
                text, i
            )
            if found is None:
                return low
            i = found.start()
            ch = text[i]
            if self.string is not None:
                if ch == "\\":
                    self.continued = i == n - 1
                    i += 2
                    continue
                if text.startswith(self.string, i):
                    i += len(self.string)
                    self.string = None
                    continue
                if self.string == "`" and text.startswith("${", i):
                    # A template expression is code until its `}`.
                    self.templates.append(len(self.stack))
                    self.string = None
                    i += 2
                    continue
                i += 1
                continue
            if ch in OPENERS:
                self.stack.append(ch)
                opened = True
            elif ch == ")" and syn.case_patterns and not opened and text[:i].strip():
                pass
            elif ch == "'" and syn.char_literals:
                found = _CHAR_LITERAL.match(text, i)
                i = found.end() if found else i + 1
                continue
            elif ch == "<" and syn.case_patterns and text.startswith("<<", i):
                found = _HEREDOC.match(text, i)
                if found:
                    # The document starts on the next line.
                    self.heredoc = found.group(1)
                    i = found.end()
                    continue
                i += 2
                continue
            elif ch == "}" and self.templates and self.templates[-1] == len(self.stack):
                self.templates.pop()
                self.string = "`"
            elif ch == "/" and syn.regex and _regex_allowed(text, i):
                i = _skip_regex(text, i)
                continue
            elif ch in CLOSING:
                if self.stack:
                    if self.stack.pop() != CLOSING[ch]:
                        self.mismatched += 1
                else:
                    self.unmatched += 1
                low = min(low, self.depth)
            elif ch == "/" and syn.block_comment and text.startswith("/*", i):
                self.in_block_comment = True
                i += 2
                continue
            elif any(text.startswith(c, i) for c in syn.line_comments):
                self.in_line_comment = True
                return low
            else:
                for quote in syn.quotes:
                    if text.startswith(quote, i):
                        self.string = quote
                        i += len(quote)
                        break
                else:
                    i += 1
                continue
            i += 1
        return low

    def newline(self) -> None:
        """End the current line: line comments and one-line strings end with it."""
        self.in_line_comment = False
        if self.string in ('"', "'") and not self.continued:
            self.string = None
        self.continued = False

    def feed_lines(self, text: str) -> None:
        """Scan text that may span lines (line ends must be "\\n")."""
        lines = text.split("\n")
        for k, line in enumerate(lines):
            if k:
                self.newline()
            self.feed(line)


@lru_cache(maxsize=64)
def _specials(syntax: Syntax) -> re.Pattern[str]:
    """The characters where code can change the scanner's state."""
    chars = set("()[]{}")
    chars |= {q[0] for q in syntax.quotes}
    chars |= {c[0] for c in syntax.line_comments}
    if syntax.block_comment or syntax.regex:
        chars.add("/")
    if syntax.case_patterns:
        chars.add("<")
    if syntax.char_literals:
        chars.add("'")
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


@lru_cache(maxsize=16)
def _string_stops(quote: str) -> re.Pattern[str]:
    """The characters where a string of `quote` can end or change (escapes, `${`)."""
    chars = {"\\", quote[0]} | ({"$"} if quote == "`" else set())
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


def _regex_allowed(text: str, i: int) -> bool:
    """True when the `/` at `i` starts a regex literal (not a division or a comment)."""
    if text.startswith(("//", "/*"), i):
        return False
    before = text[:i].rstrip()
    return not before or before[-1] in _BEFORE_REGEX or before.endswith(("return", "typeof"))


def _skip_regex(text: str, i: int) -> int:
    """Index just past the regex literal starting at `i` (the line's end if unterminated)."""
    j = i + 1
    in_class = False
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "/" and not in_class:
            return j + 1
        j += 1
    return len(text)

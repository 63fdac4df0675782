"""Secret patterns, their one home: known keys in every encoding, credentials in code, the placeholder.

Two users: `mask` rewrites text before it goes to a model (the model never sees a secret; nothing
maps back and the editor's document is untouched), and `redaction.redact` hides secrets in what
the server says (log lines, pop-ups, status texts).

Cost: every shape is a regex that starts with a literal, so the engine skips to candidates at
memchr speed and Python code runs only on them; `mask` remembers lines it masked, since a
keystroke changes one line of an 8 KB window (p50 under 0.1 ms per request while typing).
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

# What a secret becomes in text sent to a model: a plain identifier, so it is a word wherever it
# lands (inside a string literal, an unquoted YAML value, a shell assignment) and the quotes,
# brackets and lines around it stay as they were.
PLACEHOLDER = "REDACTED_SECRET"

# A known key is hidden also where only part of it shows (a message cut at 200 characters, a key
# split at one of its quotes), from this many characters of it on.
MIN_FRAGMENT = 10
_BLOCK = MIN_FRAGMENT // 2
# A key shorter than this ("ollama", "none" for a local server) is no secret worth hiding from the
# model, and masking it would mask that word all over the code; it is still hidden in messages.
_CODE_SHORTEST = 12


@dataclass(frozen=True)
class Found:
    """One secret in a text: its kind and where it lies, `text[start:end]`."""

    kind: str
    start: int
    end: int


# -- known secrets (the server's own key) ----------------------------------------------------


def _b64_cores(data: bytes) -> set[str]:
    """The part of any base64 text that is fixed by `data` wherever `data` sits in what is encoded.

    base64 encodes 3 bytes as 4 characters, so `data` inside a longer string (`Bearer <key>`,
    `user:<key>`) shows as one of three alignments; each is cut to the characters that depend on
    `data` alone.
    """
    cores: set[str] = set()
    for shift in range(3):
        total = shift + len(data)
        padded = bytes(shift) + data
        first, last = math.ceil(shift * 8 / 6), (total * 8) // 6
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            core = encode(padded).decode()[first:last]
            if core:
                cores.add(core)
    return cores


def encoded_forms(value: str) -> set[str]:
    """Every way `value` can show up in text: raw, escaped for JSON and source code, URL-encoded, base64, hex."""
    forms = {value}
    forms.add(json.dumps(value)[1:-1])
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    forms.add(json.dumps(json.dumps(value)[1:-1])[1:-1])
    forms.add(repr(value)[1:-1])
    forms.add(value.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'"))
    for url in (quote(value, safe=""), quote(value), quote_plus(value)):
        forms.add(url)
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), url))
    data = value.encode()
    forms |= _b64_cores(data)
    forms.add(data.hex())
    return {f for f in forms if f}


class _Known:
    """The registered secrets, indexed by short blocks so that any long part of one is found fast."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        # block -> [(form, offset of the block in the form)]; one set for model text, one for messages.
        self.code_blocks: dict[str, list[tuple[str, int]]] = {}
        self.all_blocks: dict[str, list[tuple[str, int]]] = {}

    def add(self, value: str) -> None:
        if len(value) < 4 or value in self.values:
            return
        forms = encoded_forms(value)
        # Source code holds a key raw or escaped; messages may hold any encoding.
        code = {value, value.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")}
        code.add(json.dumps(value)[1:-1])
        # Copied, then swapped in whole: the stdin thread may be redacting a log line meanwhile.
        code_blocks = {k: list(v) for k, v in self.code_blocks.items()}
        all_blocks = {k: list(v) for k, v in self.all_blocks.items()}
        if len(value) >= _CODE_SHORTEST:
            _index(code_blocks, code)
        _index(all_blocks, forms)
        self.code_blocks, self.all_blocks = code_blocks, all_blocks
        self.values = self.values | {value}

    def spans(self, text: str, *, every_form: bool) -> list[tuple[int, int]]:
        blocks = self.all_blocks if every_form else self.code_blocks
        found: list[tuple[int, int]] = []
        for block, places in blocks.items():
            at = text.find(block)
            while at >= 0:
                for form, offset in places:
                    span = _grow(text, at, form, offset, len(block))
                    if span is not None:
                        found.append(span)
                at = text.find(block, at + 1)
        return found


def _index(blocks: dict[str, list[tuple[str, int]]], forms: Iterable[str]) -> None:
    for form in forms:
        if len(form) < MIN_FRAGMENT:
            # A short form is looked for whole.
            blocks.setdefault(form, []).append((form, 0))
            continue
        offsets = list(range(0, len(form) - _BLOCK + 1, _BLOCK))
        if offsets[-1] != len(form) - _BLOCK:
            offsets.append(len(form) - _BLOCK)
        for offset in offsets:
            blocks.setdefault(form[offset : offset + _BLOCK], []).append((form, offset))


def _grow(text: str, at: int, form: str, offset: int, size: int) -> tuple[int, int] | None:
    """The longest part of `form` around a block found at `at`, if it is long enough to hide."""
    start, end = at, at + size
    i = offset
    while i > 0 and start > 0 and text[start - 1] == form[i - 1]:
        start -= 1
        i -= 1
    j = offset + size
    while j < len(form) and end < len(text) and text[end] == form[j]:
        end += 1
        j += 1
    if end - start >= min(MIN_FRAGMENT, len(form)):
        return start, end
    return None


_known = _Known()


def add_secret(value: str) -> None:
    """From now on `value` (the API key, say) is hidden in every form, in model text and messages."""
    before = len(_known.values)
    _known.add(value.strip())
    if value.strip() != value:
        _known.add(value)
    if len(_known.values) != before:
        _LINE_CACHE.clear()


def known_secret_spans(text: str, *, every_form: bool = True) -> list[tuple[int, int]]:
    """Where registered secrets (or long parts of them) occur in `text`."""
    return _known.spans(text, every_form=every_form)


# -- secrets in code -------------------------------------------------------------------------
#
# Each rule is its own regex starting with a literal (CPython's engine then skips to it at
# memchr speed); one alternation of them all was measured 5x slower, since it is tried at every
# position. Boundaries before a match are checked in Python for the same reason.


def _entropy(s: str) -> float:
    counts = Counter(s)
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _classes(s: str) -> tuple[int, int, int, int]:
    lower = sum(c.islower() for c in s)
    upper = sum(c.isupper() for c in s)
    digits = sum(c.isdigit() for c in s)
    return lower, upper, digits, len(s) - lower - upper - digits


def _key_like(value: str) -> bool:
    """The random part of a prefixed key: letters and digits both."""
    _lower, _upper, digits, _other = _classes(value)
    return digits >= 2 and len(value) - digits >= 4


def _sk_key(value: str) -> bool:
    body = value[3:]
    return _key_like(body) and _entropy(body) >= 3.5 and not re.search(r"[a-z]{8}", body)


_NOT_A_VALUE = re.compile(
    r"\$\{|\{\{|%\(|%[sd]|^<.*>$|^\*+$|^x+$|^\.+$|your[_\- ]|example|changeme|dummy|"
    r"placeholder|redacted|^(?:true|false|none|null|undefined)$",
    re.IGNORECASE,
)
_WORDISH = re.compile(r"[A-Za-z_][A-Za-z_.\-]*")


def _assigned_value(value: str) -> bool:
    """A value given to a password/secret/token name that looks like a real one, not a word or a template."""
    if len(value) < 6 or len(value) > 256 or any(c.isspace() for c in value):
        return False
    if len(set(value)) < 4 or _NOT_A_VALUE.search(value) or _PATHISH.search(value):
        return False
    lower, upper, digits, other = _classes(value)
    if digits == len(value) or lower + upper == 0:
        return False
    # Words and identifiers (NAME, some_name, someName, dotted.names) are code, not secrets.
    if _WORDISH.fullmatch(value):
        return False
    return sum(1 for n in (lower, upper, digits, other) if n) >= 2 and _entropy(value) >= 2.5


def _bare_value(value: str) -> bool:
    """An unquoted value (YAML, .env, shell): as for a quoted one, and with a digit in it."""
    return _assigned_value(value) and any(c.isdigit() for c in value)


# A URL's password that only says where one goes (examples, documentation).
_URL_PASSWORD_WORD = re.compile(r"pass(?:word|wd)?|pwd|secret", re.IGNORECASE)


def _url_password(value: str) -> bool:
    """A URL's password that is one: not a template (`${DB_PASSWORD}`, `{password}`, `<pass>`)
    nor the word itself (`user:pass@`)."""
    if _NOT_A_VALUE.search(value) or _URL_PASSWORD_WORD.fullmatch(value):
        return False
    return not (value[0] in "{<[" and value[-1] in "}>]")


_HEX = re.compile(r"[0-9a-fA-F\-]+")
# Words of an identifier: Capitalised or lower-case runs, upper-case runs, digit runs.
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
# Paths, URLs and selectors given to a secret-sounding name are not secrets.
_PATHISH = re.compile(r"^(?:/|\./|~/|[A-Za-z]:[\\/])|://|^\[.*\]$|^\(.*\)$")


def _random_literal(value: str) -> bool:
    """A string literal random enough to be a key: mixed case and digits, high entropy, not hex."""
    if _HEX.fullmatch(value):
        # Hashes, UUIDs and hex ids are everywhere in code; a hex key is caught by its name instead.
        return False
    lower, upper, digits, _other = _classes(value)
    if lower < 3 or upper < 3 or digits < 2:
        return False
    if value.startswith("eyJ"):
        return False  # base64 of a JSON object (a token has dots, and its own rule)
    separators = value.count("_") + value.count("-")
    if separators >= 3 and separators * 10 >= len(value):
        return False  # snake_case / kebab-case names, message ids
    # Identifiers are made of words a few letters long; in random text case flips every 1-2 characters.
    words = _WORD.findall(value)
    if sum(map(len, words)) / max(1, len(words)) >= 3.0:
        return False
    return _entropy(value) >= min(4.2, 0.85 * math.log2(len(value)))


@dataclass(frozen=True)
class _Rule:
    """A secret shape: its regex (group 1 is the secret when there is one), the check a match must pass."""

    kind: str
    regex: re.Pattern[str]
    valid: Callable[[str], bool] | None = None
    # The character before a match must not match this (a token is a whole word).
    before: re.Pattern[str] | None = None


def _rule(
    kind: str, pattern: str, valid: Callable[[str], bool] | None = None, before: str = "A-Za-z0-9_"
) -> _Rule:
    return _Rule(kind, re.compile(pattern), valid, re.compile(f"[{before}]") if before else None)


_TOKEN_RULES: tuple[_Rule, ...] = (
    # Long-term (AKIA) and temporary (ASIA) access key ids; the other AWS ids name, not grant.
    _rule("aws-access-key-id", r"AKIA[A-Z0-9]{16}(?![A-Za-z0-9])"),
    _rule("aws-access-key-id", r"ASIA[A-Z0-9]{16}(?![A-Za-z0-9])"),
    _rule("github-token", r"gh(?:[pousr]_[A-Za-z0-9]{36,251}|ithub_pat_[A-Za-z0-9_]{22,})"),
    _rule("gitlab-token", r"glpat-[A-Za-z0-9_\-]{20,}"),
    _rule("slack-token", r"xox[abposre]-[A-Za-z0-9\-]{10,}", lambda v: _key_like(v[5:])),
    _rule("stripe-key", r"sk_(?:live|test)_[A-Za-z0-9]{10,}"),
    _rule("stripe-key", r"rk_(?:live|test)_[A-Za-z0-9]{10,}"),
    _rule("api-key", r"sk-[A-Za-z0-9_\-]{20,}", _sk_key, "A-Za-z0-9_\\-"),
    _rule("google-api-key", r"AIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"),
    _rule(
        "jwt",
        r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
        None,
        "A-Za-z0-9_\\-",
    ),
    # The password of a URL's user info (scheme://user:password@host: a database, a broker, a
    # git remote); the user name and the host stay.
    _rule("url-password", r"://[^\s/?#@:\"'`<>]*:([^\s/?#@\"'`<>]+)@", _url_password, ""),
    # A quoted literal (its closing quote may lie beyond the end of a window).
    _rule("random-literal", r"[\"'`]([A-Za-z0-9+/=_\-]{24,512})(?=[\"'`]|\Z)", _random_literal, ""),
)

# Names that say "secret", looked for in the lower-cased text; `key` only after api, access, ...
_SECRET_WORDS = re.compile(r"pass(?:word|wd|phrase)|pwd|secret|token|credentials?")
_KEY_WORD = re.compile(r"key")
_KEY_KINDS = re.compile(
    r"(?:api|access|secret|private|auth|client|encryption|signing|master|account)[_\-.]?$"
)
# After the name: the end of the identifier, a closing quote or bracket (dict keys), a type
# annotation, then =, :, :=, => ...; then a quoted value or a bare one running to the end of line.
_ASSIGNED = re.compile(
    r"(?![A-Za-z0-9])[\"'`\]]?(?:[ \t]*:[ \t]*[A-Za-z_][\w.\[\]|]{0,30})?"
    r"[ \t]*(?::=|=>|\?\?=|\|\|=|=(?!=)|:)[ \t]*"
    r"(?:[rbuf]{0,2}[\"'`]([^\"'`\n\\]+)(?=[\"'`]|\Z)"
    r"|([A-Za-z0-9!@#$%^&*_+\-./=~]{6,})[ \t]*(?:\r?\n|\Z|#))"
)
_SECRET_WORDS_ANY = re.compile(_SECRET_WORDS.pattern, re.IGNORECASE)
_KEY_WORD_ANY = re.compile("key", re.IGNORECASE)

_PEM_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
# The body of a PEM block: its base64 runs (one per line, so the block keeps its lines), also
# inside string literals that spell the newlines as \n.
_PEM_RUN = re.compile(r"([A-Za-z0-9+/=]{16,})")
_PEM_LONGEST = 64 * 1024


# A line of a PEM body as code may hold it: base64, in quotes or not, maybe a "\n", a + or a comma.
_PEM_LINE = re.compile(
    r"""[ \t]*[rbuf]{0,2}["'`]?([A-Za-z0-9+/=]{4,})(?:\\n)?["'`]?[ \t]*[+,]?[ \t]*\\?"""
)
_PEM_LONG_RUN = re.compile(r"[A-Za-z0-9+/=]{40}")


def _pem_spans(text: str) -> list[Found]:
    """The bodies of private-key blocks: between BEGIN and END, or next to one the text cut off."""
    found: list[Found] = []
    begins = list(_PEM_BEGIN.finditer(text))
    ends = list(_PEM_END.finditer(text))
    if ends and (not begins or ends[0].start() < begins[0].start()):
        # The text starts inside a block: its body is the run of key lines right above END.
        _pem_lines(text, text.rfind("\n", 0, ends[0].start()), -1, found)
    for begin in begins:
        end = _PEM_END.search(text, begin.end(), begin.end() + _PEM_LONGEST)
        if end is None:
            # The text stops inside the block: its body is the run of key lines below BEGIN.
            _pem_lines(text, text.find("\n", begin.end()), 1, found)
            continue
        # Real key bodies have 64-character lines; code between two PEM markers (a parser) has not.
        if _PEM_LONG_RUN.search(text, begin.end(), end.start()):
            _pem_body(text, begin.end(), end.start(), found)
    return found


def _pem_lines(text: str, newline: int, step: int, found: list[Found]) -> None:
    """Mask whole key lines from the line break at `newline`, up (step -1) or down (step 1)."""
    while newline >= 0:
        if step > 0:
            start, stop = newline + 1, text.find("\n", newline + 1)
            stop = len(text) if stop < 0 else stop
        else:
            stop, start = newline, text.rfind("\n", 0, newline) + 1
        line = _PEM_LINE.fullmatch(text, start, stop)
        if line is None:
            return
        found.append(Found("private-key", line.start(1), line.end(1)))
        newline = (stop if stop < len(text) else -1) if step > 0 else start - 1


def _pem_body(text: str, start: int, stop: int, found: list[Found]) -> None:
    for run in _PEM_RUN.finditer(text, start, stop):
        body = run.group(1)
        # "\n" spelt in a string literal leaves an n glued to the run.
        if body.startswith("n") and text[run.start() - 1 : run.start()] == "\\":
            body = body[1:]
        if len(body) >= 16:
            found.append(Found("private-key", run.end(1) - len(body), run.end(1)))


def _assigned_spans(text: str) -> list[Found]:
    found: list[Found] = []
    folded = text.lower() if text.isascii() else None
    hay = folded if folded is not None else text
    words = _SECRET_WORDS if folded is not None else _SECRET_WORDS_ANY
    key = _KEY_WORD if folded is not None else _KEY_WORD_ANY
    hits = [m.end() for m in words.finditer(hay)]
    for m in key.finditer(hay):
        if _KEY_KINDS.search(hay, max(0, m.start() - 12), m.start()):
            hits.append(m.end())
    for end in hits:
        tail = _ASSIGNED.match(text, end)
        if tail is None:
            continue
        if tail.group(1) is not None:
            value, group, valid = tail.group(1), 1, _assigned_value
        else:
            value, group, valid = tail.group(2), 2, _bare_value
        if valid(value):
            found.append(Found("assigned-secret", tail.start(group), tail.end(group)))
    return found


_HASH_NEAR = re.compile(r"(?i)sha-?(?:1|224|256|384|512)|md5|hash|digest|integrity|checksum")


def _token_spans(text: str) -> list[Found]:
    found: list[Found] = []
    for rule in _TOKEN_RULES:
        boundary = rule.before
        for m in rule.regex.finditer(text):
            group = 1 if rule.regex.groups else 0
            start, end = m.start(group), m.end(group)
            if boundary is not None and start > 0 and boundary.match(text, start - 1):
                continue
            value = m.group(group)
            if value == PLACEHOLDER or (rule.valid is not None and not rule.valid(value)):
                continue
            if rule.kind == "random-literal" and _HASH_NEAR.search(text, max(0, start - 20), start):
                continue  # a digest, a pin, an integrity hash: public by nature
            found.append(Found(rule.kind, start, end))
    return found


def find_secrets(text: str) -> list[Found]:
    """Every secret in a text (any text: a prefix, a suffix, another file's chunk), in order."""
    found = [Found("known-key", a, b) for a, b in _known.spans(text, every_form=False)]
    if "PRIVATE KEY" in text:
        found += _pem_spans(text)
    found += _token_spans(text)
    found += _assigned_spans(text)
    return _merge(found)


def _merge(found: list[Found]) -> list[Found]:
    found.sort(key=lambda f: (f.start, -f.end))
    merged: list[Found] = []
    for f in found:
        if merged and f.start < merged[-1].end:
            last = merged[-1]
            if f.end > last.end:
                merged[-1] = Found(last.kind, last.start, f.end)
            continue
        merged.append(f)
    return merged


def _apply(text: str, found: list[Found]) -> str:
    if not found:
        return text
    parts: list[str] = []
    at = 0
    for f in found:
        parts.append(text[at : f.start])
        parts.append(PLACEHOLDER)
        at = f.end
    parts.append(text[at:])
    return "".join(parts)


# Masked lines by their text: a keystroke changes one line of a window, so a window is mostly
# lines masked before. Every rule but the PEM block sees one line at a time, so a line's mask does
# not depend on its neighbours.
_LINE_CACHE: dict[str, str] = {}
_LINE_CACHE_SIZE = 8192
_LINE_CACHE_LONGEST = 2048
_SCAN_ALONE = 8  # more lines missing than this are scanned together, in one pass


def mask(text: str, *, remember: bool = True) -> str:
    """`text` with every secret replaced by PLACEHOLDER (quotes, brackets and line breaks kept).

    `remember`: keep the masked lines for the next call (text sent to a model, which repeats from
    keystroke to keystroke); one-off texts such as log lines pass False.
    """
    if "PRIVATE KEY" in text or not remember:
        return _apply(text, find_secrets(text))
    lines = text.splitlines(keepends=True)
    cache = _LINE_CACHE
    out: list[str | None] = [cache.get(line) for line in lines]
    missing = [i for i, got in enumerate(out) if got is None]
    if not missing:
        return "".join(out)  # type: ignore[arg-type]
    if len(missing) <= _SCAN_ALONE:
        for i in missing:
            out[i] = _apply(lines[i], find_secrets(lines[i]))
    else:
        # One scan of the missing lines joined; no rule crosses a line break, so the lines of the
        # result are the masked lines.
        joined = "".join(lines[i] for i in missing)
        masked = _apply(joined, find_secrets(joined)).splitlines(keepends=True)
        if len(masked) != len(missing):  # a line that ended without a break ran into the next
            masked = [_apply(lines[i], find_secrets(lines[i])) for i in missing]
        for i, line in zip(missing, masked, strict=True):
            out[i] = line
    if len(cache) + len(missing) > _LINE_CACHE_SIZE:
        cache.clear()
    for i in missing:
        if len(lines[i]) <= _LINE_CACHE_LONGEST:
            cache[lines[i]] = out[i]  # type: ignore[assignment]
    return "".join(out)  # type: ignore[arg-type]


def mask_split(prefix: str, suffix: str) -> tuple[str, str]:
    """`mask` for the two sides of a cursor; the cursor's line is scanned whole, so a secret it splits is found.

    A secret that spans the cursor becomes one placeholder on the prefix side; its suffix side is dropped.
    """
    head, sep, _ = prefix.rpartition("\n")
    line_start = prefix[: len(head) + len(sep)]
    before = prefix[len(line_start) :]
    nl = suffix.find("\n")
    after = suffix if nl < 0 else suffix[: nl + 1]
    rest = "" if nl < 0 else suffix[nl + 1 :]
    line = before + after
    cut = len(before)
    found = find_secrets(line)
    if "PRIVATE KEY" in prefix + suffix:
        # A PEM block is the one secret that spans lines: scan all of it.
        whole = prefix + suffix
        return _split(whole, find_secrets(whole), len(prefix))
    left, right = _split(line, found, cut)
    return mask(line_start) + left, right + mask(rest)


def _split(text: str, found: list[Found], cut: int) -> tuple[str, str]:
    before: list[str] = []
    after: list[str] = []
    at = 0
    for f in found:
        if f.start < cut:
            before.append(text[at : f.start])
            before.append(PLACEHOLDER)
            at = max(f.end, cut) if f.end > cut else f.end
            continue
        if at < cut:
            before.append(text[at:cut])
            at = cut
        after.append(text[at : f.start])
        after.append(PLACEHOLDER)
        at = f.end
    if at < cut:
        before.append(text[at:cut])
        at = cut
    after.append(text[at:])
    return "".join(before), "".join(after)


def contains_placeholder(text: str) -> bool:
    """Whether a model's suggestion repeats a placeholder (it must not be shown)."""
    return PLACEHOLDER in text


def clear_cache() -> None:
    """Forget masked lines (a new secret was registered, so they may need masking again)."""
    _LINE_CACHE.clear()

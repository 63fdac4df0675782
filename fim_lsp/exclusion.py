"""Which files are never read for suggestions: secret files, the `exclude` setting, `.fimignore`.

Patterns use gitignore syntax (matched by `pathspec`) against the path relative to the workspace
folder that holds the file (a file outside every folder: its whole path). The built-in secret files
always apply; `exclude` and `.fimignore` only add to them, since a repository's own files must not
be able to switch that protection off. Decided once per document: the answer is cached by URI,
settings and the `.fimignore` file's modification time.
"""

from __future__ import annotations

import os
import posixpath
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pathspec

IGNORE_FILE = ".fimignore"

# Built-in exclusions, in gitignore syntax, with the reason the status gives.
DEFAULT_EXCLUDES: tuple[tuple[str, str], ...] = (
    (".env", ".env files may hold secrets"),
    (".env.*", ".env files may hold secrets"),
    ("*.pem", "certificate and key files (*.pem) may hold private keys"),
    ("*.key", "key files (*.key) hold private keys"),
    ("*.p12", "PKCS#12 files (*.p12) hold private keys"),
    ("*.pfx", "PKCS#12 files (*.pfx) hold private keys"),
    ("id_rsa*", "SSH keys (id_rsa) are secret"),
    ("id_ed25519*", "SSH keys (id_ed25519) are secret"),
    (".npmrc", ".npmrc may hold registry tokens"),
    (".pypirc", ".pypirc may hold package index passwords"),
    (".netrc", ".netrc holds passwords"),
    (".git-credentials", ".git-credentials holds passwords"),
    ("credentials*", "credentials files hold secrets"),
    ("secrets.*", "secrets files hold secrets"),
    ("*.kdbx", "password databases (*.kdbx) are secret"),
    ("kubeconfig", "kubeconfig holds cluster credentials"),
    (".git/", "files under .git/ are not sent"),
    (".ssh/", "files under .ssh/ may hold keys"),
    (".aws/", "files under .aws/ hold AWS credentials"),
    (".gnupg/", "files under .gnupg/ hold private keys"),
)

_DEFAULT_SPEC = pathspec.GitIgnoreSpec.from_lines([p for p, _ in DEFAULT_EXCLUDES])
# How often a workspace's .fimignore is looked at again (its modification time), in seconds.
RECHECK_AFTER = 2.0
_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Exclusion:
    """Why a file is excluded: the pattern that matched, where it came from, and words for the user."""

    pattern: str
    source: str  # "default", "exclude" or ".fimignore"
    reason: str

    @property
    def status(self) -> str:
        """The status text, e.g. "off for this file: .env files may hold secrets"."""
        return f"off for this file: {self.reason}"


def uri_path(uri: str) -> str:
    """The path of a URI (file: or another scheme), decoded, with / separators; the text itself if it is no URI."""
    parts = urlsplit(uri)
    # A plain path, or a Windows drive letter taken for a scheme, is used as it is.
    path = uri if not parts.scheme or len(parts.scheme) == 1 else unquote(parts.path)
    path = path.replace("\\", "/")
    if len(path) >= 3 and path[0] == "/" and path[2] == ":":  # /c:/Users -> c:/Users
        path = path[1:]
    if len(path) >= 2 and path[1] == ":":
        path = path[0].lower() + path[1:]
    return posixpath.normpath(path) if path else path


def _relative(path: str, roots: Sequence[str]) -> tuple[str, str | None]:
    """The path relative to the deepest root holding it (and that root), else the path itself."""
    best: str | None = None
    for root in roots:
        r = uri_path(root).rstrip("/")
        if r and (path == r or path.startswith(r + "/")) and (best is None or len(r) > len(best)):
            best = r
    if best is None:
        return path.lstrip("/"), None
    return path[len(best) + 1 :], best


def _first_match(spec: pathspec.GitIgnoreSpec, path: str) -> str | None:
    """The pattern that excludes `path` (the last one that decides, as git does), or None."""
    result = spec.check_file(path)
    if not result.include or result.index is None:
        return None
    pattern = spec.patterns[result.index]
    return getattr(pattern, "pattern", None) or str(pattern)


def _spec(lines: Sequence[str]) -> pathspec.GitIgnoreSpec | None:
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def _decide(
    rel: str, exclude: pathspec.GitIgnoreSpec | None, ignore: pathspec.GitIgnoreSpec | None
) -> Exclusion | None:
    if not rel or rel == ".":
        return None
    # Built-in names are matched whatever their case (.ENV on a case-insensitive disk is .env).
    found = _DEFAULT_SPEC.check_file(rel.lower())
    if found.include and found.index is not None:
        pattern, reason = DEFAULT_EXCLUDES[found.index]
        return Exclusion(pattern, "default", reason)
    matched = _first_match(exclude, rel) if exclude is not None else None
    if matched is not None:
        return Exclusion(matched, "exclude", f"it matches the exclude setting ({matched})")
    matched = _first_match(ignore, rel) if ignore is not None else None
    if matched is not None:
        return Exclusion(matched, IGNORE_FILE, f"{IGNORE_FILE} excludes it ({matched})")
    return None


def check_path(
    path: str,
    roots: Sequence[str] = (),
    exclude: Sequence[str] = (),
    ignore_lines: Sequence[str] = (),
) -> Exclusion | None:
    """Whether a path or URI is excluded, given the `exclude` globs and .fimignore lines; pure, uncached."""
    rel, _root = _relative(uri_path(path), roots)
    return _decide(rel, _spec(exclude), _spec(ignore_lines))


def workspace_roots(root_uri: str | None, folders: Sequence[str] = ()) -> tuple[str, ...]:
    """The workspace folders of an `initialize` (its `workspaceFolders` URIs, else its `rootUri`)."""
    if folders:
        return tuple(folders)
    return (root_uri,) if root_uri else ()


@dataclass
class _IgnoreFile:
    """A workspace's .fimignore as last read: its mtime, its spec, when it was last looked at."""

    mtime: float | None
    spec: pathspec.GitIgnoreSpec | None
    checked: float


class Excluder:
    """Decides per document whether it is excluded; cheap per keystroke (cached)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._ignore: dict[str, _IgnoreFile] = {}
        self._specs: dict[tuple[str, ...], pathspec.GitIgnoreSpec] = {}
        # (uri, roots, exclude) -> (the root holding the file, its .fimignore mtime, the answer)
        self._cache: dict[
            tuple[str, tuple[str, ...], tuple[str, ...]],
            tuple[str | None, float | None, Exclusion | None],
        ] = {}

    def check(
        self, uri: str, roots: Sequence[str] = (), exclude: Sequence[str] = ()
    ) -> Exclusion | None:
        """Why `uri` is excluded, or None when suggestions and context may read it."""
        key = (uri, tuple(roots), tuple(exclude))
        cached = self._cache.get(key)
        if cached is not None:
            root, mtime, result = cached
            if root is None or self._ignore_file(root).mtime == mtime:
                return result
        rel, root = _relative(uri_path(uri), key[1])
        ignore = self._ignore_file(root) if root is not None else None
        exclude_spec = None
        if key[2]:
            exclude_spec = self._specs.get(key[2])
            if exclude_spec is None:
                exclude_spec = self._specs[key[2]] = pathspec.GitIgnoreSpec.from_lines(key[2])
        result = _decide(rel, exclude_spec, ignore.spec if ignore is not None else None)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = (root, ignore.mtime if ignore is not None else None, result)
        return result

    def forget(self, uri: str) -> None:
        """A document closed: drop its cached answers."""
        for key in [k for k in self._cache if k[0] == uri]:
            del self._cache[key]

    def _ignore_file(self, root: str) -> _IgnoreFile:
        now = self._clock()
        known = self._ignore.get(root)
        if known is not None and now - known.checked < RECHECK_AFTER:
            return known
        path = os.path.join(root, IGNORE_FILE)
        try:
            mtime: float | None = os.stat(path).st_mtime
        except OSError:
            mtime = None
        if known is not None and known.mtime == mtime:
            known.checked = now
            return known
        spec = None
        if mtime is not None:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    spec = pathspec.GitIgnoreSpec.from_lines(f.read().splitlines())
            except OSError:
                spec = None
        fresh = _IgnoreFile(mtime, spec, now)
        self._ignore[root] = fresh
        return fresh

"""Command line: start the server (stdio or TCP), or complete one position from a terminal."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .redaction import RedactingFilter, add_secret, redact

log = logging.getLogger("fim_lsp")

_LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".jsx": "javascriptreact",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".rs": "rust",
    ".go": "go",
    ".java": "java",
    ".rb": "ruby",
    ".lua": "lua",
    ".sh": "shellscript",
    ".md": "markdown",
}


def setup_logging(verbose: int, log_file: str | None) -> None:
    """Log to stderr (or a file): stdout carries the LSP frames."""
    level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8")
        if log_file
        else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    for name in ("CODESTRAL_API_KEY", "MISTRAL_API_KEY"):
        add_secret(os.environ.get(name, ""))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pygls and httpx are chatty at INFO; their details matter only when debugging.
    for name in ("pygls", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    # A cancel that arrives after its answer was sent is a normal race, not worth a warning.
    logging.getLogger("pygls.protocol.json_rpc").addFilter(
        lambda record: not record.getMessage().startswith("Cancel notification for unknown")
    )


def parse_position(spec: str) -> tuple[Path, int, int]:
    """PATH:LINE:COL (1-based, as compilers print them) -> (path, line, column), 0-based."""
    try:
        path, line, col = spec.rsplit(":", 2)
        line_no, col_no = int(line), int(col)
    except ValueError:
        raise ValueError(f"expected PATH:LINE:COL, got {spec!r}") from None
    if line_no < 1 or col_no < 1:
        raise ValueError(f"LINE and COL start at 1, got {line_no}:{col_no}")
    return Path(path), line_no - 1, col_no - 1


class _TerminalReporter:
    """The engine's messages for a terminal: each once, on stderr; remembers a failure."""

    def __init__(self) -> None:
        self.failed = False
        self._said: set[str] = set()

    def _say(self, message: str) -> None:
        if message not in self._said:
            self._said.add(message)
            # A server's error body may repeat the key: the terminal gets no form of it either.
            sys.stderr.write(redact(message) + "\n")

    def show_once(self, key: str, message: str, *, error: bool) -> None:
        self.failed = self.failed or error
        self._say(message)

    def log(self, message: str, *, error: bool) -> None:
        self.failed = self.failed or error
        self._say(message)

    def status(self, state: str, message: str = "") -> None:
        self.failed = self.failed or state == "error"


async def complete_once(spec: str, settings_json: str | None) -> int:
    """Run the server's pipeline once for a position in a file and print the suggestion."""
    import json

    from .documents import UTF32, Document
    from .engine import Engine
    from .settings import parse_settings

    try:
        path, line, col = parse_position(spec)
        text = path.read_text(encoding="utf-8")
        raw = json.loads(settings_json) if settings_json else {}
        if not isinstance(raw, dict):
            raise ValueError("--settings must be a JSON object")
    except UnicodeDecodeError as err:
        reason = f"{err.reason} at byte {err.start}"
        sys.stderr.write(f"fim-lsp: {path} is not UTF-8 text ({reason})\n")
        return 2
    except (OSError, ValueError) as err:
        sys.stderr.write(f"fim-lsp: {err}\n")
        return 2
    settings, problems = parse_settings(raw)
    add_secret(settings.api_key)
    for problem in problems:
        sys.stderr.write(problem + "\n")
    language = _LANGUAGES.get(path.suffix.lower(), "")
    doc = Document.from_text(path.resolve().as_uri(), text, language_id=language, encoding=UTF32)
    if line >= len(doc.text_lines):
        sys.stderr.write(f"fim-lsp: {path} has only {len(doc.text_lines)} lines\n")
        return 2
    reporter = _TerminalReporter()
    engine = Engine(reporter)
    # A terminal is written once: the whole answer, never a first line whose block comes later.
    engine.configure(dataclasses.replace(settings, early_first_line=False))
    if not engine.has_key():
        return 1
    try:
        completion = await engine.complete(doc, line, col, invoked=True)
    finally:
        await engine.aclose()
    if reporter.failed:
        return 1
    if completion is None:
        sys.stderr.write("fim-lsp: the model had no suggestion for this position\n")
        return 0
    sys.stdout.write(completion.text + "\n")
    return 0


async def check_once(settings_json: str | None) -> int:
    """`fim-lsp check`: print one line per finding; 0 when a suggestion can be made."""
    import json

    from .check import run_check

    try:
        raw = json.loads(settings_json) if settings_json else {}
        if not isinstance(raw, dict):
            raise ValueError("--settings must be a JSON object")
    except ValueError as err:
        sys.stderr.write(f"fim-lsp: {err}\n")
        return 2
    report = await run_check(raw)
    sys.stdout.write("\n".join(report.lines) + "\n")
    return 0 if report.ok else 1


def print_stats() -> int:
    """Print the local usage statistics (today, 7 days, all time) and where they are kept."""
    from datetime import date

    from .stats import FILE_NAME, read_days, report, state_dir

    path = state_dir() / FILE_NAME
    sys.stdout.write(report(read_days(path), date.today()) + "\n")
    sys.stdout.write(f"(kept in {path}, never sent anywhere)\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `fim-lsp` command."""
    parser = argparse.ArgumentParser(
        prog="fim-lsp",
        description="AI code completion from a fill-in-the-middle model, as a language server.",
    )
    parser.add_argument("--version", action="version", version=f"fim-lsp {__version__}")
    parser.add_argument("--stdio", action="store_true", help="serve over stdin/stdout (default)")
    parser.add_argument("--tcp", action="store_true", help="serve over TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument("--log-file", help="write logs to this file instead of stderr")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="-v info, -vv debug")
    sub = parser.add_subparsers(dest="command")
    complete = sub.add_parser(
        "complete", help="print the suggestion for PATH:LINE:COL (1-based) and exit"
    )
    complete.add_argument("position", help="PATH:LINE:COL, 1-based")
    complete.add_argument(
        "--settings", help='settings as JSON, e.g. \'{"endpoint": "http://127.0.0.1:8080"}\''
    )
    check = sub.add_parser(
        "check", help="say whether suggestions can work with these settings, and why not"
    )
    check.add_argument("--settings", help="settings as JSON, as the editor would send them")
    sub.add_parser(
        "stats",
        help="print acceptance rate, characters accepted, latency and model calls (kept locally)",
    )
    args = parser.parse_args(argv)
    setup_logging(args.verbose, args.log_file)

    if args.command == "check":
        return asyncio.run(check_once(args.settings))

    if args.command == "complete":
        return asyncio.run(complete_once(args.position, args.settings))
    if args.command == "stats":
        return print_stats()

    # httpcore imports trio whenever it is installed (a test tool brings it along), 0.1-1 s spent
    # inside the first `initialize`, only to support a loop the server never runs: it runs on
    # asyncio. Then the HTTP client is loaded now, before the editor waits on an answer.
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
    import httpcore  # noqa: F401

    from .server import server
    from .transport import start_stdio

    log.info("fim-lsp %s starting (pid %d)", __version__, os.getpid())
    if args.tcp:
        server.start_tcp(args.host, args.port)
        return server.exit_code or 0
    # 0 after shutdown + exit (or when the editor is gone), 1 for exit without shutdown.
    code = start_stdio(server)
    # Tearing the interpreter down (pygls, httpx and all their modules) takes a second or more
    # on a busy machine, while the editor waits for the process to end: flush and leave now.
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)

"""Benchmark replay driver: a typist replaying real source files over stdio LSP against an oracle model.

The document starts as the true file with a region cut out; the typist types the region back
character by character with human timing, cancelling the previous request on each keystroke as
VS Code does, and accepts suggestions that match what it is about to type. The mock model knows
the true file and answers its continuation (sometimes, seeded, a wrong one).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import random
import re
import sys
import sysconfig
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_metrics import (
    PauseRecord,
    RequestRecord,
    cpu_seconds,
    peak_rss_mb,
    percentile,
    summarize_replay,
)
from bench_oracle import OracleProcess, Region
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

API_KEY = "bench-key-not-secret"
STATUS_NOTIFICATION = "fimLsp/status"
# A directory holding the `fim_lsp` package to benchmark instead of the installed one (--server-src).
SERVER_SRC = ""
# Where the server writes its info-level log (--server-log), one file per run label.
SERVER_LOG = ""


# -- the server over stdio ----------------------------------------------------------------------


def inline_capabilities() -> types.ClientCapabilities:
    """VS Code's capabilities plus inline completion (pytest-lsp's presets lack it)."""
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities(
        dynamic_registration=False
    )
    return caps


async def start_server(
    init_options: dict[str, Any], label: str = "server", log_file: str | None = None
) -> tuple[LanguageClient, int]:
    """Start `python -m fim_lsp` over stdio and initialize a session; returns the client and pid.

    The server logs at info level to `log_file`, or to SERVER_LOG.<label>.log when that is set.
    """
    warnings.filterwarnings("ignore", module="pytest_lsp")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CODESTRAL_API_KEY", "MISTRAL_API_KEY", "FIM_LSP_ENDPOINT")
    }
    env["MISTRAL_API_KEY"] = API_KEY
    if SERVER_SRC:
        # Benchmark another checkout or a snapshot of fim_lsp (it wins over the editable install).
        env["PYTHONPATH"] = os.pathsep.join([SERVER_SRC, *filter(None, [env.get("PYTHONPATH")])])
    # -P: the working directory must not put another fim_lsp ahead of --server-src's.
    command = [sys.executable, *(["-P"] if SERVER_SRC else []), "-m", "fim_lsp"]
    log_file = log_file or (f"{SERVER_LOG}.{label}.log" if SERVER_LOG else None)
    if log_file:
        command += ["-v", "--log-file", log_file]
    config = ClientServerConfig(server_command=command, server_env=env)
    client = await config.start()
    assert isinstance(client, LanguageClient)
    statuses: list[Any] = []

    def on_status(params: Any) -> None:
        statuses.append(params)

    client.feature(STATUS_NOTIFICATION)(on_status)
    client.fim_statuses = statuses  # type: ignore[attr-defined]
    await asyncio.wait_for(
        client.initialize_session(
            types.InitializeParams(
                capabilities=inline_capabilities(), initialization_options=init_options
            )
        ),
        30,
    )
    assert client._server is not None
    return client, client._server.pid


async def stop_server(client: LanguageClient) -> None:
    """Shut the session down and stop the process."""
    try:
        await asyncio.wait_for(client.shutdown_session(), 10)
    except Exception as err:  # a server that fails to shut down must not lose the numbers
        print(f"bench: shutdown failed: {err!r}", file=sys.stderr)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.stop(), 10)


def open_document(client: LanguageClient, uri: str, text: str) -> None:
    """didOpen a Python document at version 1."""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )


def change_document(
    client: LanguageClient,
    uri: str,
    version: int,
    start: types.Position,
    end: types.Position,
    text: str,
) -> None:
    """An incremental didChange replacing start..end with `text`."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(start, end), text=text)
            ],
        )
    )


def send_inline(
    client: LanguageClient, uri: str, pos: types.Position, msg_id: str, *, invoked: bool = False
) -> concurrent.futures.Future[Any]:
    """Send textDocument/inlineCompletion with an explicit id now; the answer as the client's future.

    The future is resolved as soon as the client has parsed the answer, on the loop's thread, so
    a done callback on it times the answer without waiting for another turn of the loop.
    """
    kind = (
        types.InlineCompletionTriggerKind.Invoked
        if invoked
        else types.InlineCompletionTriggerKind.Automatic
    )
    params = types.InlineCompletionParams(
        context=types.InlineCompletionContext(trigger_kind=kind),
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=pos,
    )
    # send_request writes the message now (send_request_async would wait for the next loop turn).
    future: concurrent.futures.Future[Any] = client.protocol.send_request(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
    )
    return future


def request_inline(
    client: LanguageClient, uri: str, pos: types.Position, msg_id: str, *, invoked: bool = False
) -> asyncio.Future[Any]:
    """send_inline with the answer as an asyncio future."""
    return awaitable(send_inline(client, uri, pos, msg_id, invoked=invoked))


def awaitable(answer: concurrent.futures.Future[Any]) -> asyncio.Future[Any]:
    """The client's future as an asyncio one, whose outcome is retrieved even if nobody awaits it."""
    fut = asyncio.wrap_future(answer)
    fut.add_done_callback(_consume)
    return fut


def _consume(fut: asyncio.Future[Any]) -> None:
    """Retrieve a request's outcome so a cancelled one is not reported as never retrieved."""
    if not fut.cancelled():
        fut.exception()


def cancel_request(client: LanguageClient, msg_id: str) -> None:
    """$/cancelRequest, as VS Code sends for the previous request on each keystroke."""
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))


def result_items(result: Any) -> list[Any]:
    """The items of an inlineCompletion answer (a list, an InlineCompletionList or None)."""
    if isinstance(result, types.InlineCompletionList):
        return list(result.items)
    return list(result or [])


def item_text(item: Any) -> str:
    """insertText as a string (a snippet's value when it is one)."""
    text = item.insert_text
    return text if isinstance(text, str) else str(getattr(text, "value", text))


def item_info(item: Any, key: str) -> Any:
    """A value fim-lsp puts in the accept command's arguments (source: model, cache, typed)."""
    cmd = getattr(item, "command", None)
    args = getattr(cmd, "arguments", None) or []
    if args and isinstance(args[0], dict):
        return args[0].get(key)
    return None


def item_source(item: Any) -> str | None:
    """Where the suggestion came from: model, cache or typed (None if the server does not say)."""
    source = item_info(item, "source")
    return source if isinstance(source, str) else None


# -- inputs -------------------------------------------------------------------------------------


@dataclass
class FileCase:
    """A true source file and the regions typed into it, in order."""

    path: Path
    uri: str
    text: str
    regions: list[Region] = field(default_factory=list)


def stdlib_sources(min_size: int = 0, max_size: int = 10**9) -> list[Path]:
    """ASCII Python files of the standard library (no tests, no site-packages), sorted."""
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).parts
        if rel[0] in ("site-packages", "test", "idlelib", "lib2to3") or "tests" in rel:
            continue
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if min_size <= size <= max_size:
            found.append(path)
    return found


def ascii_source(path: Path) -> str | None:
    """A source file's text if it is ASCII with LF line ends (columns are then string indices)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text if text.isascii() and "\r" not in text else None


def pick_regions(
    text: str, n: int, rng: random.Random, max_chars: int, span: tuple[int, int] = (1, 3)
) -> list[tuple[int, int]]:
    """Up to n non-overlapping regions of `span` (1-3) code lines, from a line's first non-blank
    to a line end."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    good = [
        i
        for i, line in enumerate(lines[:-3])
        if i > 20
        and 12 <= len(line.strip()) <= 90
        and not line.strip().startswith(("#", '"', "'"))
        and "\t" not in line
    ]
    rng.shuffle(good)
    taken: list[tuple[int, int]] = []
    used_lines: list[int] = []
    for i in good:
        if len(taken) >= n:
            break
        if any(abs(i - j) < 8 + span[1] for j in used_lines):
            continue
        k = rng.randint(*span)
        block = lines[i : i + k]
        if any("\t" in b for b in block) or not block[-1].strip():
            k = 1
            block = lines[i : i + 1]
        start = starts[i] + len(lines[i]) - len(lines[i].lstrip())
        end = starts[i + k - 1] + len(lines[i + k - 1].rstrip())
        if end - start > max_chars or end <= start:
            continue
        taken.append((start, end))
        used_lines.append(i)
    return sorted(taken)


def pick_cases(
    n_files: int,
    n_regions: int,
    seed: int,
    max_chars: int = 200,
    span: tuple[int, int] = (1, 3),
) -> list[FileCase]:
    """Seeded choice of stdlib files (8-60 KB, ASCII) and regions in each."""
    rng = random.Random(seed)
    candidates = stdlib_sources(8_000, 60_000)
    rng.shuffle(candidates)
    cases: list[FileCase] = []
    for path in candidates:
        if len(cases) >= n_files:
            break
        text = ascii_source(path)
        if text is None:
            continue
        spans = pick_regions(text, n_regions, rng, max_chars, span)
        if len(spans) < n_regions:
            continue
        uri = f"file:///bench/{len(cases)}/{path.name}"
        regions = [Region(f"{len(cases)}:{s}", s, e) for s, e in spans]
        cases.append(FileCase(path, uri, text, regions))
    return cases


# -- the typist ---------------------------------------------------------------------------------


@dataclass
class ReplayConfig:
    """How the typist types and how the model answers."""

    ttft: float = 0.200
    token_delay: float = 0.010
    key_ms: float = 90.0
    jitter_ms: float = 30.0
    pause_min: float = 0.7
    pause_max: float = 1.2
    word_pause_share: float = 0.2
    notice_share: float = 0.3
    accept_at_pause_share: float = 0.6
    min_accept_chars: int = 3
    wrong_share: float = 0.2
    # The model's mid-line answers go on into the next lines (bench_oracle --blocks).
    blocks: bool = False
    seed: int = 1
    deadline_s: float = 240.0


@dataclass
class Shown:
    """The request whose answer is on screen, and the document state it was made for."""

    record: RequestRecord
    future: asyncio.Future[Any]
    msg_id: str


class Typist:
    """Types regions into documents over one LSP session and records every request."""

    def __init__(self, client: LanguageClient, oracle: OracleProcess, cfg: ReplayConfig) -> None:
        self.client = client
        self.oracle = oracle
        self.cfg = cfg
        self.records: list[RequestRecord] = []
        self.pauses: list[PauseRecord] = []
        self.keystrokes = 0
        self.doc = ""
        self.uri = ""
        self.version = 1
        self.current: Shown | None = None
        self.background: list[asyncio.Future[Any]] = []
        self.started = time.monotonic()

    # -- randomness tied to the position, so both servers see the same typist ----------------

    def _rand(self, region: Region, c: int, tag: str) -> random.Random:
        return random.Random(f"{self.cfg.seed}:{region.key}:{c}:{tag}")

    def _gap(self, region: Region, c: int) -> float:
        rng = self._rand(region, c, "gap")
        return max(0.03, rng.gauss(self.cfg.key_ms, self.cfg.jitter_ms) / 1000)

    # -- document positions (ASCII documents: columns are string indices) --------------------

    def _pos(self, offset: int) -> types.Position:
        line = self.doc.count("\n", 0, offset)
        return types.Position(line, offset - (self.doc.rfind("\n", 0, offset) + 1))

    def _offset(self, pos: types.Position) -> int:
        start = 0
        for _ in range(pos.line):
            nxt = self.doc.find("\n", start)
            if nxt < 0:
                return len(self.doc)
            start = nxt + 1
        eol = self.doc.find("\n", start)
        eol = len(self.doc) if eol < 0 else eol
        return min(start + pos.character, eol)

    # -- editor actions -------------------------------------------------------------------------

    def _cancel_current(self) -> None:
        cur = self.current
        if cur is not None and not cur.future.done():
            cur.record.cancelled_at = time.monotonic()
            cancel_request(self.client, cur.msg_id)

    def _request(self, region: Region, cursor: int, kind: str) -> None:
        rec = RequestRecord(region=region.key, cursor=cursor, sent=0.0, kind=kind)
        msg_id = str(uuid.uuid4())
        pos = self._pos(cursor)

        def done(f: concurrent.futures.Future[Any]) -> None:
            rec.done = time.monotonic()
            if f.cancelled():
                rec.error = "cancelled"
                return
            exc = f.exception()
            if exc is not None:
                rec.error = type(exc).__name__
                return
            rec.items = result_items(f.result())
            if rec.items:
                rec.source = item_source(rec.items[0])
                applied = item_info(rec.items[0], "debounceMs")
                if isinstance(applied, (int, float)):
                    rec.applied_debounce = applied / 1000

        answer = send_inline(self.client, self.uri, pos, msg_id)
        # The request's bytes are in the pipe now: the client's own serialization is not timed.
        rec.sent = time.monotonic()
        answer.add_done_callback(done)
        self.records.append(rec)
        self.current = Shown(rec, awaitable(answer), msg_id)

    def _edit(self, a: int, b: int, text: str, region: Region, cursor: int, kind: str) -> None:
        """A keystroke or an accepted suggestion: cancel, didChange, then a new request."""
        self._cancel_current()
        start, end = self._pos(a), self._pos(b)
        self.version += 1
        self.doc = self.doc[:a] + text + self.doc[b:]
        change_document(self.client, self.uri, self.version, start, end, text)
        self.keystrokes += 1
        self._request(region, cursor, kind)

    def _on_screen(self, truth: str, c: int, region: Region) -> tuple[Any, int, int, int] | None:
        """The item on screen if applying it gives the truth up to a later cursor: (item, a, b, c2)."""
        cur = self.current
        if cur is None or not cur.future.done() or not cur.record.shown or not cur.record.items:
            return None
        item = cur.record.items[0]
        text = item_text(item)
        if item.range is not None:
            a, b = self._offset(item.range.start), self._offset(item.range.end)
        else:
            a = b = c
        if a != c:
            return None
        new_doc = self.doc[:a] + text + self.doc[b:]
        tail = truth[region.end :]
        if not new_doc.endswith(tail):
            return None
        head_len = len(new_doc) - len(tail)
        c2 = a + len(text)
        need = min(self.cfg.min_accept_chars, region.end - c)
        if head_len != c2 or c2 > region.end or c2 - c < need:
            return None
        if not truth.startswith(new_doc[c:head_len], c):
            return None
        return item, a, b, c2

    def _accept(self, item: Any, a: int, b: int, c2: int, region: Region) -> None:
        """Apply the item as an editor does, run its command, and ask again at the new cursor."""
        self._edit(a, b, item_text(item), region, c2, "accept")
        cmd = item.command
        if cmd is not None:
            params = types.ExecuteCommandParams(command=cmd.command, arguments=cmd.arguments)
            self.background.append(
                asyncio.ensure_future(
                    self.client.protocol.send_request_async(
                        types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=str(uuid.uuid4())
                    )
                )
            )

    @staticmethod
    def _next_chars(truth: str, c: int, end: int) -> str:
        """One key: a character, or Enter with the auto-indent an editor adds."""
        if truth[c] != "\n":
            return truth[c]
        j = c + 1
        while j < end and truth[j] in " \t":
            j += 1
        return truth[c:j]

    # -- sessions -----------------------------------------------------------------------------

    def out_of_time(self) -> bool:
        """True past the configured deadline (the loops are bounded)."""
        return time.monotonic() - self.started > self.cfg.deadline_s

    async def type_file(self, case: FileCase) -> None:
        """Open the file with its first region cut out, then type every region back."""
        truth = case.text
        first = case.regions[0]
        self.uri = case.uri
        self.version = 1
        self.doc = truth[: first.start] + truth[first.end :]
        self.current = None
        await self.oracle.set_truth(truth)
        open_document(self.client, self.uri, self.doc)
        await asyncio.sleep(0.2)
        for n, region in enumerate(case.regions):
            if self.out_of_time():
                break
            # The model knows the region before it is cut: a server may ask at the cut.
            await self.oracle.set_region(region)
            if n > 0:
                # Cut the next region out (set-up, not a keystroke), as a user clears a line.
                start, end = self._pos(region.start), self._pos(region.end)
                self.version += 1
                self.doc = truth[: region.start] + truth[region.end :]
                change_document(self.client, self.uri, self.version, start, end, "")
                await asyncio.sleep(0.2)
            await self.type_region(truth, region)
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=self.uri))
        )

    async def type_region(self, truth: str, region: Region) -> None:
        """Type one region with human timing, pausing at line ends and some word ends."""
        c = region.start
        for _ in range(4 * (region.end - region.start) + 10):
            if c >= region.end or self.out_of_time():
                break
            chars = self._next_chars(truth, c, region.end)
            self._edit(c, c, chars, region, c + len(chars), "key")
            c += len(chars)
            if c >= region.end:
                break
            word_end = (truth[c - 1].isalnum() or truth[c - 1] == "_") and not (
                truth[c].isalnum() or truth[c] == "_"
            )
            pause = truth[c] == "\n" or (
                word_end and self._rand(region, c, "pause").random() < self.cfg.word_pause_share
            )
            if pause:
                wait = self._rand(region, c, "len").uniform(self.cfg.pause_min, self.cfg.pause_max)
            else:
                wait = self._gap(region, c)
            await asyncio.sleep(wait)
            hit = self._on_screen(truth, c, region)
            if pause and self.current is not None:
                self.pauses.append(PauseRecord(self.current.record, hit is not None, wait))
            share = self.cfg.accept_at_pause_share if pause else self.cfg.notice_share
            if hit is not None and self._rand(region, c, "accept").random() < share:
                item, a, b, c2 = hit
                self._accept(item, a, b, c2, region)
                c = c2
                await asyncio.sleep(self._gap(region, c + 1))
        # The region is done: give the last request a moment, then move on as an editor would.
        if self.current is not None:
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(self.current.future), 1.5)
            self._cancel_current()
        await asyncio.sleep(0.1)


def first_line_chars(text: str) -> int:
    """Characters up to the end of the first line with something on it (blank lines skipped).

    The rule of fim_lsp.engine.first_line_end, kept here: the benchmark imports nothing of the
    server it measures (`--server-src` may be another checkout).
    """
    start = 0
    while (end := text.find("\n", start)) >= 0:
        if text[start:end].strip():
            return end
        start = end + 1
    return len(text)


def model_first_line(text: str, cfg: ReplayConfig) -> float:
    """The mock model's own time to the first line of `text`: its first token, then a token each
    `token_delay` (tokens of 4 characters, as the mock streams them)."""
    tokens = max(1, -(-first_line_chars(text) // 4))
    return cfg.ttft + cfg.token_delay * (tokens - 1)


def pause_details(
    pauses: list[PauseRecord], cases: list[FileCase], cfg: ReplayConfig
) -> list[dict[str, Any]]:
    """Each pause: where, what the typist was about to type, what was on screen and when, and
    the model's own time to the first line of what comes next (a call made at the pause)."""
    truths = {r.key: (c.text, r) for c in cases for r in c.regions}
    out: list[dict[str, Any]] = []
    for p in pauses:
        rec = p.request
        text, region = truths[rec.region]
        shown = item_text(rec.items[0]) if rec.shown and rec.items else None
        out.append(
            {
                "cursor": f"{rec.region}@{rec.cursor}",
                "before": text[max(region.start, rec.cursor - 30) : rec.cursor],
                "next": text[rec.cursor : min(region.end, rec.cursor + 40)],
                "shown": shown,
                "source": rec.source,
                "correct": p.correct,
                "ms": None if rec.done is None else round((rec.done - rec.sent) * 1000, 1),
                "model_first_line_ms": round(
                    1000 * model_first_line(text[rec.cursor : region.end], cfg), 1
                ),
                "error": rec.error,
            }
        )
    return out


def pause_summary(details: list[dict[str, Any]]) -> dict[str, Any]:
    """Pause -> screen against the model's own first-line time, over the pauses that showed one."""
    shown = [d for d in details if d["shown"] is not None and d["ms"] is not None]
    own = [d["model_first_line_ms"] for d in shown]
    over = [d["ms"] / d["model_first_line_ms"] for d in shown if d["model_first_line_ms"]]
    return {
        "pauses_shown": len(shown),
        "model_first_line_ms": {
            "p50": percentile(own, 50),
            "p90": percentile(own, 90),
        },
        "over_model_first_line": {
            "p50": None if not over else round(percentile(over, 50) or 0, 3),
            "p90": None if not over else round(percentile(over, 90) or 0, 3),
        },
    }


_CALL_LOG = re.compile(r"model call (\d+) for \S+: debounce ([\d.]+) ms")


def logged_debounces(log_file: Path, calls: int) -> list[float] | None:
    """The debounce (seconds) the server logged for each of its model calls, in call order;
    None unless the log names exactly calls 1..`calls` (then they match the mock's, in order)."""
    try:
        text = log_file.read_text(errors="replace")
    except OSError:
        return None
    found = {int(n): float(v) / 1000 for n, v in _CALL_LOG.findall(text)}
    if sorted(found) != list(range(1, calls + 1)):
        return None
    return [found[n] for n in range(1, calls + 1)]


async def run_replay(
    label: str, init_options: dict[str, Any], cases: list[FileCase], cfg: ReplayConfig
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Replay every case against a fresh server and mock; the run's metrics and latency samples."""
    with tempfile.TemporaryDirectory() as tmp:
        log_file = f"{SERVER_LOG}.{label}.log" if SERVER_LOG else str(Path(tmp) / "server.log")
        async with OracleProcess(
            cfg.seed, cfg.wrong_share, cfg.ttft, cfg.token_delay, cfg.blocks
        ) as oracle:
            client, pid = await start_server(
                {"endpoint": oracle.url, **init_options}, label, log_file
            )
            started = time.monotonic()
            cpu0 = cpu_seconds(pid)
            typist = Typist(client, oracle, cfg)
            try:
                for case in cases:
                    if typist.out_of_time():
                        break
                    await typist.type_file(case)
                await asyncio.sleep(0.3)
                cpu = cpu_seconds(pid) - cpu0
                rss = peak_rss_mb(pid)
                messages = [m.message for m in client.messages]
            finally:
                for fut in typist.background:
                    fut.cancel()
                await stop_server(client)
            wall = time.monotonic() - started
            calls, connections, heads = await oracle.calls()
        # With the adaptive debounce on, only the server knows each wait: it reports it with
        # items, and logs it for every model call (empty answers included).
        logged = logged_debounces(Path(log_file), len(calls))
    adaptive = init_options.get("adaptiveDebounce", True) and not init_options.get("naive")
    debounce = None if adaptive else float(init_options.get("debounceMs", 75)) / 1000
    summary, samples = summarize_replay(
        typist.records,
        typist.pauses,
        calls,
        keystrokes=typist.keystrokes,
        debounce=debounce,
        call_debounce=logged,
        cpu=cpu,
        rss_mb=rss,
        wall=wall,
    )
    summary["label"] = label
    summary["pause_details"] = pause_details(typist.pauses, cases, cfg)
    summary.update(pause_summary(summary["pause_details"]))
    typed = sum(r.end - r.start for c in cases for r in c.regions)
    summary["chars"] = typed
    summary["calls_per_100_chars"] = round(100 * len(calls) / typed, 2) if typed else None
    summary["init_options"] = {k: v for k, v in init_options.items() if k != "endpoint"}
    summary["server_messages"] = messages
    summary["out_of_time"] = typist.out_of_time()
    summary["warmup_heads"] = heads
    summary["mock_connections"] = connections
    summary["status_notifications"] = len(getattr(client, "fim_statuses", []))
    return summary, samples

"""Soak: type 20,000 keystrokes into the real server over stdio and watch its memory.

Documents are opened, typed into (incremental didChange, some backspaces), asked for inline
completions between keystrokes (the previous request is cancelled, as VS Code does) and closed;
every document gets a fresh URI, so per-document state that is never freed shows as growth too.
The server's RSS (/proc/PID/status VmRSS) is sampled every `--sample` keystrokes after a request
has been answered (so the server has handled everything sent before it). The answer to each
request comes from the mock Codestral server (scripts/mock_codestral.py) on 127.0.0.1.

    python scripts/soak.py            # 20,000 keystrokes (about a minute)
    python scripts/soak.py --quick    # 4,000 keystrokes, a smoke test
    python scripts/soak.py --work-ahead   # the default settings, a model that knows the snippet

`--work-ahead` runs the server with its default settings (adaptive debounce, calls made ahead of
a pause, the next suggestion asked for after an accept) against a model that answers the
snippet's own continuation wherever the typed text is the snippet's; every fourth request is a
pause whose answer is awaited and accepted (as one edit, then the item's accept command) when it
is what the typist was about to type. Typing through, streams kept and adopted, the calls made
ahead and the accepts then run thousands of times, and their per-document state with them.

Exit code 1 when RSS grew by more than `--limit-mb` after the warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mock_codestral import MockCodestral, Reply
from raw_lsp import RawServer

SNIPPET = (
    "def running_mean(values, window):\n"
    "    total = 0.0\n"
    "    out = []\n"
    "    for i, value in enumerate(values):\n"
    "        total += value\n"
    "        if i >= window:\n"
    "            total -= values[i - window]\n"
    "        out.append(total / min(i + 1, window))\n"
    "    return out\n\n"
)
HEADER = "import math\nimport os\n\n\nclass Model:\n    pass\n\n\n"
# How much of the prompt's end the snippet model looks for in the snippet (--work-ahead).
TAIL = 12


def snippet_answer(body: dict[str, Any]) -> Reply:
    """The snippet's continuation where the prompt ends (the rest of its line and the next
    line), when the prompt's last characters are the snippet's; else nothing."""
    tail = str(body.get("prompt", ""))[-TAIL:]
    cycle = SNIPPET * 2
    at = cycle.find(tail) if len(tail) == TAIL else -1
    if at < 0:
        return Reply(text="")
    start = at + TAIL
    end = cycle.find("\n", cycle.find("\n", start) + 1)
    return Reply(text=cycle[start:end])


class Typist:
    """One open document and the text the editor holds for it."""

    def __init__(self, server: RawServer, uri: str) -> None:
        self.server = server
        self.uri = uri
        self.text = HEADER
        self.version = 1
        self.typed = 0
        server.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": 1,
                    "text": self.text,
                }
            },
        )

    def _position(self, offset: int) -> dict[str, int]:
        before = self.text[:offset]
        line = before.count("\n")
        return {"line": line, "character": len(before) - (before.rfind("\n") + 1)}

    def upcoming(self, n: int) -> str:
        """The next `n` characters of the snippet this typist is about to type."""
        start = self.typed % len(SNIPPET)
        return (SNIPPET * (2 + n // len(SNIPPET)))[start : start + n]

    def accept(self, server: RawServer, reply: dict[str, Any]) -> bool:
        """Take the reply's first item when it inserts, at the cursor, what comes next: one
        edit inserting it, then the item's command (the accept notice), as VS Code does."""
        items = (reply.get("result") or {}).get("items") or []
        if not items or not isinstance(items[0].get("insertText"), str):
            return False
        item, cursor = items[0], self._position(len(self.text))
        text = item["insertText"]
        where = item.get("range") or {"start": cursor, "end": cursor}
        if not text or where["start"] != cursor or where["end"] != cursor:
            return False
        if self.upcoming(len(text)) != text:
            return False
        self.version += 1
        self.text += text
        self.typed += len(text)
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{"range": where, "text": text}],
            },
        )
        command = item.get("command")
        if command:
            server.call(
                "workspace/executeCommand",
                {"command": command["command"], "arguments": command.get("arguments", [])},
            )
        return True

    def keystroke(self) -> None:
        """Type the next character of the snippet; every 23rd keystroke is a backspace."""
        self.version += 1
        end = len(self.text)
        if self.typed % 23 == 22 and not self.text.endswith("\n"):
            start = self._position(end - 1)
            self.text = self.text[:-1]
            change = {"range": {"start": start, "end": self._position(end)}, "text": ""}
        else:
            char = SNIPPET[self.typed % len(SNIPPET)]
            pos = self._position(end)
            self.text += char
            change = {"range": {"start": pos, "end": pos}, "text": char}
        self.typed += 1
        self.server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [change],
            },
        )

    def ask(self) -> Any:
        """An automatic inline completion request at the end of the document."""
        return self.server.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": self.uri},
                "position": self._position(len(self.text)),
                "context": {"triggerKind": 2},
            },
        )

    def close(self) -> None:
        """didClose."""
        self.server.notify("textDocument/didClose", {"textDocument": {"uri": self.uri}})


def soak(
    keystrokes: int,
    *,
    warmup: int,
    sample: int,
    documents: int,
    per_document: int,
    ask_every: int,
    max_seconds: float,
    work_ahead: bool = False,
) -> dict[str, Any]:
    """Run the soak; returns the samples and the summary."""
    responder = snippet_answer if work_ahead else (lambda body: Reply(text="values[i]"))
    with MockCodestral(responder=responder) as mock:
        env = {**os.environ, "MISTRAL_API_KEY": "sk-soak-0123456789"}
        with RawServer(env=env) as server:
            if work_ahead:
                server.initialize({"endpoint": mock.url})
            else:
                settings = {"debounceMs": 0, "adaptiveDebounce": False}
                server.initialize({"endpoint": mock.url, **settings})
            started = time.monotonic()
            opened = 0
            typists: list[Typist] = []
            pending: Any = None
            samples: list[tuple[int, int]] = [(0, server.rss_kib())]
            answered = cancelled = accepted = 0
            done = 0
            while done < keystrokes and time.monotonic() - started < max_seconds:
                # Keep `documents` open; a document typed `per_document` times is closed.
                typists = [t for t in typists if t.typed < per_document or t.close()]
                while len(typists) < documents:
                    opened += 1
                    typists.append(Typist(server, f"file:///soak/doc{opened}.py"))
                typist = typists[done % len(typists)]
                typist.keystroke()
                done += 1
                if done % ask_every == 0:
                    if pending is not None:
                        # Half the requests are cancelled by the next keystroke, as in VS Code.
                        if done % (2 * ask_every) == 0:
                            server.notify("$/cancelRequest", {"id": pending})
                        reply = server.response(pending, 30)
                        answered += "result" in reply
                        cancelled += "error" in reply
                    pending = typist.ask()
                    if work_ahead and done % (4 * ask_every) == 0:
                        # A pause: the answer is awaited, and taken when it is right.
                        reply = server.response(pending, 30)
                        pending = None
                        answered += "result" in reply
                        accepted += typist.accept(server, reply)
                if done % sample == 0:
                    if pending is not None:
                        server.response(pending, 30)
                        answered += 1
                        pending = None
                    samples.append((done, server.rss_kib()))
            elapsed = time.monotonic() - started
            if pending is not None:
                server.response(pending, 30)
            shutdown = server.call("shutdown")
            server.notify("exit")
            code = server.wait(10)
            model_requests = len(mock.requests)
    after = [rss for n, rss in samples if n >= warmup]
    at_warmup = next(rss for n, rss in samples if n >= warmup) if after else samples[-1][1]
    return {
        "keystrokes": done,
        "documents_opened": opened,
        "requests_answered": answered,
        "requests_cancelled": cancelled,
        "accepted": accepted,
        "model_requests": model_requests,
        "seconds": round(elapsed, 1),
        "rss_start_mb": round(samples[0][1] / 1024, 1),
        "rss_warmup_mb": round(at_warmup / 1024, 1),
        "rss_end_mb": round(samples[-1][1] / 1024, 1),
        "rss_max_after_warmup_mb": round(max(after or [at_warmup]) / 1024, 1),
        "growth_after_warmup_mb": round((samples[-1][1] - at_warmup) / 1024, 1),
        "warmup_keystrokes": warmup,
        "shutdown_ok": "result" in shutdown,
        "exit_code": code,
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4,000 keystrokes")
    parser.add_argument("--keystrokes", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, help="keystrokes before the baseline (10%%)")
    parser.add_argument("--sample", type=int, default=500, help="keystrokes between samples")
    parser.add_argument("--documents", type=int, default=5, help="documents open at once")
    parser.add_argument("--per-document", type=int, default=400, help="keystrokes per document")
    parser.add_argument("--ask-every", type=int, default=8, help="keystrokes between requests")
    parser.add_argument("--max-seconds", type=float, default=240.0, help="stop early after this")
    parser.add_argument("--limit-mb", type=float, default=5.0, help="allowed growth")
    parser.add_argument(
        "--work-ahead",
        action="store_true",
        help="default settings, a model that knows the snippet, pauses and accepts",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    keystrokes = 4_000 if args.quick else args.keystrokes
    warmup = args.warmup if args.warmup is not None else keystrokes // 10
    result = soak(
        keystrokes,
        warmup=warmup,
        sample=min(args.sample, max(100, keystrokes // 20)),
        documents=args.documents,
        per_document=args.per_document,
        ask_every=args.ask_every,
        max_seconds=args.max_seconds,
        work_ahead=args.work_ahead,
    )
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['keystrokes']} keystrokes over {result['documents_opened']} documents "
            f"in {result['seconds']} s; {result['requests_answered']} requests answered, "
            f"{result['requests_cancelled']} cancelled, {result['accepted']} accepted, "
            f"{result['model_requests']} reached the model"
        )
        print(
            f"RSS: start {result['rss_start_mb']} MB, after {warmup} keystrokes "
            f"{result['rss_warmup_mb']} MB, end {result['rss_end_mb']} MB "
            f"(max {result['rss_max_after_warmup_mb']} MB); "
            f"growth after warm-up {result['growth_after_warmup_mb']} MB "
            f"(limit {args.limit_mb} MB)"
        )
        print("samples (keystrokes, RSS KiB):", " ".join(f"{n}:{r}" for n, r in result["samples"]))
    ok = result["growth_after_warmup_mb"] <= args.limit_mb and result["keystrokes"] == keystrokes
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

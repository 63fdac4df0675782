#!/usr/bin/env python3
"""After-accept latency: how long the next suggestion takes once one is accepted (Tab, then more).

    python scripts/bench_accept.py --quick                  # 8 accepts per run and scenario
    python scripts/bench_accept.py --ttft-ms 500 --token-ms 25

A session accepts line after line of a function the mock model knows. Each accept is what VS
Code sends on Tab: the edit (didChange), then the item's command; the editor's next request
follows either at once ("immediate") or after the user read the line for 0.8 s ("after a read",
the model has had time). Runs: fim-lsp as configured, fim-lsp with speculateAfterAccept off,
and the naive baseline, in the same run against the same mock.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_replay
from bench_metrics import ms, percentile
from bench_replay import change_document, open_document, request_inline, start_server, stop_server
from lsprotocol import types
from mock_codestral import MockCodestral, Reply

URI = "file:///bench/accept.py"
HEAD = "def f():\n    a0 = 0"
_LAST = re.compile(r"a(\d+) = \S+$")
RUNS: dict[str, dict[str, Any]] = {
    "fim-lsp": {},
    "no speculation": {"speculateAfterAccept": False},
    "baseline": {"debounceMs": 0, "naive": True},
}


def responder(ttft: float, token_delay: float) -> Any:
    """The next line of the function, whatever line the cursor ends."""

    def respond(body: dict[str, Any]) -> Reply:
        match = _LAST.search(body["prompt"])
        if match is None:
            return Reply(text="", ttft=ttft)
        k = int(match.group(1))
        return Reply(text=f"\n    a{k + 1} = f(a{k})", ttft=ttft, token_delay=token_delay)

    return respond


def position(text: str) -> types.Position:
    """The position of the end of `text`."""
    return types.Position(text.count("\n"), len(text) - (text.rfind("\n") + 1))


async def session(
    options: dict[str, Any], url: str, accepts: int, read: float
) -> tuple[list[float], int]:
    """Accept `accepts` suggestions in a row; the latencies of the request after each accept."""
    client, _pid = await start_server({"endpoint": url, **options}, "accept")
    latencies: list[float] = []
    doc, version = HEAD, 1
    try:
        open_document(client, URI, doc)
        await asyncio.sleep(0.2)
        answer = await asyncio.wait_for(
            request_inline(client, URI, position(doc), str(uuid.uuid4()), invoked=True), 10
        )
        for _ in range(accepts):
            items = answer.items if answer is not None else []
            if not items:
                break
            item = items[0]
            text = item.insert_text if isinstance(item.insert_text, str) else ""
            end = position(doc)
            version += 1
            doc += text
            change_document(client, URI, version, end, end, text)
            if item.command is not None:
                params = types.ExecuteCommandParams(
                    command=item.command.command, arguments=item.command.arguments
                )
                client.protocol.send_request(
                    types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=str(uuid.uuid4())
                )
            if read:
                await asyncio.sleep(read)
            sent = time.monotonic()
            answer = await asyncio.wait_for(
                request_inline(client, URI, position(doc), str(uuid.uuid4())), 10
            )
            if answer is not None and answer.items:
                latencies.append(time.monotonic() - sent)
    finally:
        await stop_server(client)
    return latencies, accepts


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every run and scenario against one mock."""
    accepts = 8 if args.quick else 25
    out: dict[str, Any] = {"ttft_ms": args.ttft_ms, "token_ms": args.token_ms, "runs": {}}
    with MockCodestral(responder=responder(args.ttft_ms / 1000, args.token_ms / 1000)) as mock:
        for label, options in RUNS.items():
            row: dict[str, Any] = {}
            for scenario, read in (("immediate", 0.0), ("after a read", 0.8)):
                before = len(mock.requests)
                latencies, _n = await session(options, mock.url, accepts, read)
                row[scenario] = {
                    "n": len(latencies),
                    "p50": ms(percentile(latencies, 50)),
                    "p90": ms(percentile(latencies, 90)),
                    "calls": len(mock.requests) - before,
                }
            out["runs"][label] = row
    return out


def main(argv: list[str] | None = None) -> int:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ttft-ms", type=float, default=200.0)
    parser.add_argument("--token-ms", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--server-src", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.server_src is not None:
        bench_replay.SERVER_SRC = str(args.server_src.resolve())
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    result = asyncio.run(run(args))
    print(f"after-accept latency, model TTFT {args.ttft_ms:g} ms + {args.token_ms:g} ms/token")
    print(f"{'run':<16}{'scenario':<14}{'n':>4}{'p50 ms':>10}{'p90 ms':>10}{'calls':>7}")
    for label, row in result["runs"].items():
        for scenario, r in row.items():
            print(
                f"{label:<16}{scenario:<14}{r['n']:>4}{r['p50'] or 0:>10.1f}"
                f"{r['p90'] or 0:>10.1f}{r['calls']:>7}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

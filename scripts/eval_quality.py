"""Suggestion quality on real code: holes punched in real files, a noisy mock model, the real server.

For each hole the mock model (scripts/mock_codestral.py) answers like real models do (clean, echoing
the suffix, re-adding an auto-closed bracket, running past the block, a stray leading space, a looping
line); fim-lsp, driven over stdio with pygls's LanguageClient, turns that into an inline completion,
which is applied to the document and compared with the original file. The same answers inserted raw
at the cursor give the "without the pipeline" numbers.

    python scripts/eval_quality.py --seed 1 [--json out.json] [--direct] [--per-kind N]

--direct calls fim_lsp.postprocess in-process instead of the server (quick iteration on the rules).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_holes import KINDS, LANGUAGES, QUOTA, Hole, Verdict, judge, make_holes
from mock_codestral import MockCodestral, Reply


def utf16_offset(text: str, line: int, character: int) -> int:
    """String offset of an LSP position (UTF-16 code units, the protocol's default)."""
    offset = 0
    for _ in range(line):
        nl = text.find("\n", offset)
        if nl < 0:
            return len(text)
        offset = nl + 1
    units = 0
    i = offset
    while i < len(text) and units < character and text[i] not in "\r\n":
        units += 2 if ord(text[i]) > 0xFFFF else 1
        i += 1
    return i


def position_of(text: str, offset: int) -> tuple[int, int]:
    """LSP (line, UTF-16 character) of a string offset."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return line, sum(2 if ord(c) > 0xFFFF else 1 for c in text[start:offset])


def raw_final(hole: Hole, sent: str) -> str:
    """The document with the model's text inserted raw at the cursor."""
    if "\r\n" in hole.prefix + hole.suffix:
        sent = sent.replace("\r\n", "\n").replace("\n", "\r\n")
    return hole.prefix + sent + hole.suffix


def apply_item(hole: Hole, item: dict[str, Any] | None) -> str:
    """The document after accepting an inline completion item (None: nothing shown)."""
    doc = hole.document
    if item is None:
        return doc
    start = utf16_offset(doc, *item["start"])
    end = utf16_offset(doc, *item["end"])
    return doc[:start] + str(item["text"]) + doc[end:]


def server_context(hole: Hole, make: Any) -> Any:
    """The context the server would build (its default windows), or the whole text around."""
    try:
        from fim_lsp.context import slice_context
        from fim_lsp.documents import split_lines
    except ImportError:  # the server's slicing is not there: use everything
        return make(hole.prefix, hole.suffix, hole.language)
    line = hole.prefix.count("\n")
    column = len(hole.prefix) - (hole.prefix.rfind("\n") + 1)
    ctx = slice_context(split_lines(hole.document), line, column, 6000, 2000, hole.language)
    return ctx if make is type(ctx) else make(ctx.prompt, ctx.suffix, hole.language)


def run_direct(holes: list[Hole]) -> dict[str, dict[str, Any] | None]:
    """Suggestions straight from the pipeline, as the server would build its item."""
    from fim_lsp.context import FimContext
    from fim_lsp.postprocess import postprocess

    out: dict[str, dict[str, Any] | None] = {}
    for hole in holes:
        s = postprocess(hole.answer, server_context(hole, FimContext))
        if s is None:
            out[hole.id] = None
            continue
        doc = hole.document
        cursor = len(hole.prefix)
        out[hole.id] = {
            "text": s.text,
            "start": position_of(doc, cursor),
            "end": position_of(doc, cursor + s.replace),
        }
    return out


async def run_server(
    holes: list[Hole], timeout: float, options: dict[str, Any] | None = None
) -> tuple[dict[str, dict[str, Any] | None], dict[str, str]]:
    """Suggestions from the real server over stdio; also what the mock sent for each hole.

    `options`: more initialization options (settings) for the server.
    """
    from lsprotocol import types as t
    from pygls.lsp.client import LanguageClient

    current: dict[str, Hole] = {}
    sent: dict[str, str] = {}
    prompts_ok: dict[str, bool] = {}

    def responder(body: dict[str, Any]) -> Reply:
        hole = current["hole"]
        sent[hole.id] = hole.answer
        prefix = hole.prefix.replace("\r\n", "\n")
        prompts_ok[hole.id] = prefix.endswith(body["prompt"].replace("\r\n", "\n")[-200:])
        return Reply(text=hole.answer, chunk_chars=4)

    results: dict[str, dict[str, Any] | None] = {}
    with MockCodestral(responder=responder) as mock:
        client = LanguageClient("fim-lsp-eval", "1")

        @client.feature("fimLsp/status")  # type: ignore[untyped-decorator]
        def _status(_params: Any) -> None:
            """The server's status notifications: not needed here."""

        env = {**os.environ, "MISTRAL_API_KEY": "test"}
        env.pop("CODESTRAL_API_KEY", None)
        await client.start_io(sys.executable, "-m", "fim_lsp", env=env)
        server = client._server  # drain stderr so a chatty server never blocks on a full pipe
        drain = asyncio.create_task(server.stderr.read()) if server and server.stderr else None
        caps = t.ClientCapabilities(
            text_document=t.TextDocumentClientCapabilities(
                inline_completion=t.InlineCompletionClientCapabilities(dynamic_registration=False)
            ),
            general=t.GeneralClientCapabilities(position_encodings=[t.PositionEncodingKind.Utf16]),
        )
        await client.initialize_async(
            t.InitializeParams(
                capabilities=caps,
                initialization_options={
                    "endpoint": mock.url,
                    "debounceMs": 0,
                    **(options or {}),
                },
                process_id=os.getpid(),
            )
        )
        client.initialized(t.InitializedParams())
        for n, hole in enumerate(holes):
            current["hole"] = hole
            uri = f"file:///eval/{n}/{Path(hole.path).name}"
            doc = hole.document
            client.text_document_did_open(
                t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, hole.language, 1, doc))
            )
            line, character = position_of(doc, len(hole.prefix))
            params = t.InlineCompletionParams(
                context=t.InlineCompletionContext(
                    trigger_kind=t.InlineCompletionTriggerKind.Invoked
                ),
                text_document=t.TextDocumentIdentifier(uri),
                position=t.Position(line, character),
            )
            try:
                reply = await asyncio.wait_for(
                    client.text_document_inline_completion_async(params), timeout
                )
            except Exception as err:  # a failed request is a missing suggestion, reported below
                print(f"{hole.id}: {type(err).__name__}: {err}", file=sys.stderr)
                reply = None
            items = reply.items if isinstance(reply, t.InlineCompletionList) else (reply or [])
            item = items[0] if items else None
            if item is not None and isinstance(item.insert_text, str):
                rng = item.range or t.Range(
                    t.Position(line, character), t.Position(line, character)
                )
                results[hole.id] = {
                    "text": item.insert_text,
                    "start": (rng.start.line, rng.start.character),
                    "end": (rng.end.line, rng.end.character),
                }
            else:
                results[hole.id] = None
            client.text_document_did_close(
                t.DidCloseTextDocumentParams(t.TextDocumentIdentifier(uri))
            )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_async(None), 5)
        client.exit(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.stop(), 5)  # type: ignore[no-untyped-call]
        if drain:
            drain.cancel()
    bad = [k for k, ok in prompts_ok.items() if not ok]
    if bad:
        print(
            f"warning: {len(bad)} prompts did not end like the document prefix: {bad[:5]}",
            file=sys.stderr,
        )
    return results, sent


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rates for a group of holes, with and without the pipeline."""
    n = len(rows)
    if not n:
        return {"n": 0}

    def rate(key: str) -> float:
        return round(100 * sum(1 for r in rows if r[key]) / n, 1)

    return {
        "n": n,
        "exact": rate("exact"),
        "duplicated": rate("duplicated"),
        "past_block": rate("past_block"),
        "raw_exact": rate("raw_exact"),
        "raw_duplicated": rate("raw_duplicated"),
        "raw_past_block": rate("raw_past_block"),
        "regressions": sum(1 for r in rows if r["raw_exact"] and not r["exact"]),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print a table; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="write the full report here")
    parser.add_argument("--direct", action="store_true", help="call the pipeline in-process")
    parser.add_argument(
        "--per-kind", type=int, default=None, help="holes per language and noise kind"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--show", type=int, default=0, help="print this many failures")
    parser.add_argument("--only", default=None, help="run only holes whose id starts with this")
    args = parser.parse_args(argv)

    started = time.monotonic()
    quota = {k: args.per_kind for k in KINDS} if args.per_kind else QUOTA
    holes = make_holes(args.seed, quota)
    if args.only:
        holes = [h for h in holes if h.id.startswith(args.only)]
    if args.direct:
        items = run_direct(holes)
        sent = {h.id: h.answer for h in holes}
    else:
        items, sent = asyncio.run(run_server(holes, args.timeout))

    rows: list[dict[str, Any]] = []
    failures: list[tuple[Hole, str, Verdict]] = []
    for hole in holes:
        final = apply_item(hole, items.get(hole.id))
        verdict = judge(final, hole)
        raw = judge(raw_final(hole, sent.get(hole.id, "")), hole)
        rows.append(
            {
                "id": hole.id,
                "language": hole.language,
                "kind": hole.kind,
                "shape": hole.shape,
                "path": hole.path,
                "exact": verdict.exact,
                "duplicated": verdict.duplicated,
                "past_block": verdict.past_block,
                "raw_exact": raw.exact,
                "raw_duplicated": raw.duplicated,
                "raw_past_block": raw.past_block,
                "suggestion": (items.get(hole.id) or {}).get("text"),
            }
        )
        if not verdict.exact:
            failures.append((hole, final, verdict))

    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups["all"].append(r)
        groups["clean" if r["kind"] == "clean" else "noisy"].append(r)
        groups[f"kind:{r['kind']}"].append(r)
        groups[f"lang:{r['language']}"].append(r)
        groups[f"shape:{r['shape']}"].append(r)
    order = (
        ["all", "clean", "noisy"]
        + [f"kind:{k}" for k in KINDS]
        + [f"lang:{lang}" for lang in LANGUAGES]
    )
    order += sorted(k for k in groups if k.startswith("shape:"))
    summary = {k: summarize(groups[k]) for k in order}
    clean, noisy = summary["clean"], summary["noisy"]
    targets = {
        "clean exact >= 97%": clean.get("exact", 100) >= 97,
        "noisy duplicated <= 1%": noisy.get("duplicated", 0) <= 1,
        "noisy exact >= 85%": noisy.get("exact", 100) >= 85,
        "no clean regressions": clean.get("regressions", 0) == 0,
    }
    elapsed = round(time.monotonic() - started, 1)

    print(
        f"{len(holes)} holes, seed {args.seed}, {'in-process pipeline' if args.direct else 'fim-lsp over stdio'}, {elapsed}s"
    )
    print(
        f"{'group':22} {'n':>4} | {'exact':>6} {'dup':>5} {'past':>5} | {'raw ex':>6} {'raw dup':>7} {'raw past':>8} | regr"
    )
    for key in order:
        s = summary[key]
        if not s["n"]:
            continue
        print(
            f"{key:22} {s['n']:>4} | {s['exact']:>6} {s['duplicated']:>5} {s['past_block']:>5} |"
            f" {s['raw_exact']:>6} {s['raw_duplicated']:>7} {s['raw_past_block']:>8} | {s['regressions']}"
        )
    for name, ok in targets.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    for hole, final, verdict in failures[: args.show]:
        cursor = len(hole.prefix)
        print(
            f"\n--- {hole.id} {hole.shape} {hole.path} dup={verdict.duplicated} past={verdict.past_block}"
        )
        print("prefix :", repr(hole.prefix[-120:]))
        print("suffix :", repr(hole.suffix[:80]))
        print("truth  :", repr(hole.truth[:300]))
        print("answer :", repr(hole.answer[:300]))
        print("item   :", items.get(hole.id))
        print("got    :", repr(final[cursor - 20 : cursor + len(hole.truth) + 60]))
    if args.json:
        report = {
            "seed": args.seed,
            "mode": "direct" if args.direct else "server",
            "seconds": elapsed,
            "summary": summary,
            "targets": targets,
            "holes": rows,
        }
        args.json.write_text(json.dumps(report, indent=1))
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

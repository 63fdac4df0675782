"""The benchmark's model: a mock Codestral that knows the true file, run in a process of its own.

The replay's client and this server would otherwise share one interpreter (and its GIL) and add
their scheduling to every latency sample. The typist tells this process which region it types
(one JSON line on stdin, acknowledged); the mock finds the cursor from each request's prompt,
since the typed text equals the true file up to the cursor. At the end the recorded calls are
written back as one JSON line. Timestamps are `time.monotonic()`, one clock for every process.

    python scripts/bench_oracle.py --seed 1 --wrong-share 0.2 --ttft-ms 200 --token-ms 10
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import random
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mock_codestral import MockCodestral, Reply


@dataclass
class Region:
    """Text of the true file the typist types back: truth[start:end]."""

    key: str
    start: int
    end: int


@dataclass
class MockInfo:
    """What the oracle knew about one model request: where its cursor was, its answer."""

    region: str
    cursor: int
    wrong: bool


@dataclass
class MockCall:
    """One upstream call as the mock saw it (monotonic seconds), and what the oracle answered."""

    started: float
    # When the last token was sent (the model's answer complete), else None.
    answered: float | None
    finished: float | None
    chunks_sent: int
    completed: bool
    disconnected: bool
    # When each token was sent.
    token_times: list[float]
    info: MockInfo | None

    @property
    def model_end(self) -> float | None:
        """The end of the model's own time: its last token, or when the stream ended without one."""
        return self.answered if self.answered is not None else self.finished

    @property
    def tokens_sent(self) -> int:
        """How many tokens were sent."""
        return len(self.token_times)

    def output_by(self, t: float) -> float | None:
        """When the last piece of output sent by time t was sent (None: nothing by then)."""
        i = bisect.bisect_right(self.token_times, t)
        if i:
            return self.token_times[i - 1]
        end = self.model_end
        return end if end is not None and end <= t else None


class Oracle:
    """The true file and the region being typed; answers a FIM request with its continuation."""

    def __init__(self, seed: int, wrong_share: float, blocks: bool = False) -> None:
        self.seed = seed
        self.wrong_share = wrong_share
        # Mid-line answers run on past the line's end (the cursor is at the end of the typed
        # text, so a FIM model goes on with the next lines, as Codestral does).
        self.blocks = blocks
        self.truth = ""
        self.region: Region | None = None
        self.info: dict[int, MockInfo] = {}

    def set_region(self, truth: str, region: Region) -> None:
        """The typist starts on a region."""
        self.truth = truth
        self.region = region

    def locate(self, prompt: str) -> int | None:
        """The true offset the prompt ends at: the typed text equals the truth up to the cursor."""
        region = self.region
        if region is None:
            return None
        truth = self.truth
        # Code from other files (or far parts of this one) may come before the window: the
        # window's own tail is enough to place the cursor.
        for tail in (prompt, prompt[-400:]):
            for c in range(region.end, region.start - 1, -1):
                if truth.endswith(tail, 0, c):
                    return c
        return None

    def continuation(self, c: int, region: Region) -> str:
        """What a model that knows the file says at c: the rest of the line, or the next 1-3 lines
        with code on them (blank lines between come along; a model does not stop at one)."""
        truth = self.truth
        eol = truth.find("\n", c)
        eol = len(truth) if eol < 0 else eol
        rng = random.Random(f"{self.seed}:{region.key}:{c}:lines")
        if truth[c:eol].strip() and not self.blocks:
            text = truth[c:eol]
        else:
            end = eol
            more = rng.randint(0, 2) if truth[c:eol].strip() else rng.randint(1, 3)
            for _ in range(more):
                while True:
                    nxt = truth.find("\n", end + 1)
                    start, end = end + 1, len(truth) if nxt < 0 else nxt
                    if truth[start:end].strip() or end == len(truth):
                        break
            text = truth[c:end]
        return text[: max(0, region.end - c)]

    def wrong(self, c: int, right: str, rng: random.Random) -> str:
        """A plausible wrong answer: another line of the file."""
        lines = [line.strip() for line in self.truth.split("\n") if len(line.strip()) > 8]
        text = rng.choice(lines) if lines else "pass"
        if self.truth.startswith(text, c) or right.startswith(text):
            text = "_" + text
        return text

    def responder(self, body: dict[str, Any]) -> Reply:
        """The mock's answer to a FIM request body (called on the mock's thread)."""
        region = self.region
        c = self.locate(str(body.get("prompt", "")))
        if region is None or c is None:
            return Reply(text="")
        rng = random.Random(f"{self.seed}:{region.key}:{c}:wrong")
        text = self.continuation(c, region)
        wrong = bool(text.strip()) and rng.random() < self.wrong_share
        if wrong:
            text = self.wrong(c, text, rng)
        self.info[id(body)] = MockInfo(region.key, c, wrong)
        return Reply(text=text)


def calls_of(mock: MockCodestral, oracle: Oracle) -> list[MockCall]:
    """The mock's recorded requests with the oracle's knowledge of each."""
    return [
        MockCall(
            started=r.started,
            answered=r.answered,
            finished=r.finished,
            chunks_sent=r.chunks_sent,
            completed=r.completed,
            disconnected=r.disconnected,
            token_times=list(r.token_times),
            info=oracle.info.get(id(r.body)),
        )
        for r in list(mock.requests)
    ]


def call_from_json(obj: dict[str, Any]) -> MockCall:
    """A MockCall from its JSON form."""
    info = obj.pop("info")
    return MockCall(**obj, info=None if info is None else MockInfo(**info))


def serve(args: argparse.Namespace) -> int:
    """Serve the mock and answer the typist's commands on stdin until EOF or "stop"."""
    oracle = Oracle(args.seed, args.wrong_share, args.blocks)
    truth = ""
    with MockCodestral(
        responder=oracle.responder, ttft=args.ttft_ms / 1000, token_delay=args.token_ms / 1000
    ) as mock:
        print(json.dumps({"url": mock.url}), flush=True)
        for line in sys.stdin:
            cmd = json.loads(line)
            op = cmd.get("op")
            if op == "truth":
                truth = cmd["text"]
                out: dict[str, Any] = {"ok": True}
            elif op == "region":
                oracle.set_region(truth, Region(cmd["key"], cmd["start"], cmd["end"]))
                out = {"ok": True}
            elif op == "calls":
                out = {
                    "calls": [asdict(c) for c in calls_of(mock, oracle)],
                    "connections": mock.connections,
                    "heads": mock.heads,
                }
            elif op == "stop":
                break
            else:
                out = {"error": f"unknown op {op!r}"}
            print(json.dumps(out), flush=True)
    return 0


class OracleProcess:
    """The oracle mock as seen from the benchmark: a child process spoken to over pipes."""

    def __init__(
        self, seed: int, wrong_share: float, ttft: float, token_delay: float, blocks: bool = False
    ) -> None:
        self.argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--seed",
            str(seed),
            "--wrong-share",
            str(wrong_share),
            "--ttft-ms",
            str(ttft * 1000),
            "--token-ms",
            str(token_delay * 1000),
            *(["--blocks"] if blocks else []),
        ]
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""

    async def __aenter__(self) -> OracleProcess:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**26,
        )
        self.url = (await self._read())["url"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.returncode is None:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()

    async def _read(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        if not line:
            raise RuntimeError("bench oracle process ended unexpectedly")
        out: dict[str, Any] = json.loads(line)
        if "error" in out:
            raise RuntimeError(f"bench oracle: {out['error']}")
        return out

    async def _ask(self, cmd: dict[str, Any]) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd).encode() + b"\n")
        await self.proc.stdin.drain()
        return await self._read()

    async def set_truth(self, text: str) -> None:
        """The true file of the regions that follow."""
        await self._ask({"op": "truth", "text": text})

    async def set_region(self, region: Region) -> None:
        """The region the typist is about to type."""
        await self._ask({"op": "region", **asdict(region)})

    async def calls(self) -> tuple[list[MockCall], int, int]:
        """Every upstream call so far, the number of connections and of HEAD requests."""
        out = await self._ask({"op": "calls"})
        return [call_from_json(c) for c in out["calls"]], out["connections"], out["heads"]


def main(argv: list[str] | None = None) -> int:
    """Run the oracle mock as a child process of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wrong-share", type=float, default=0.2)
    parser.add_argument("--ttft-ms", type=float, default=200.0)
    parser.add_argument("--token-ms", type=float, default=10.0)
    parser.add_argument(
        "--blocks", action="store_true", help="mid-line answers go on to 0-2 more lines"
    )
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

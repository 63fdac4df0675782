"""The mock model for test_vscode.py: one answer for every prompt, others for prompts ending in given text.

    python tests/editors/vscode_mock.py --text 'a + b' --answers '{"rfind(": "sep) + 1"}' [--api-key K]

Prints `listening on URL`, then serves until killed (scripts/mock_codestral.py does the HTTP).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from mock_codestral import MockCodestral, Reply


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default="")
    parser.add_argument(
        "--answers",
        default="{}",
        help='JSON: prompt ending -> answer text, or {"text", "chunkChars", "tokenDelay"}',
    )
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--log", type=Path, default=None)
    args = parser.parse_args()
    answers: dict[str, str | dict[str, Any]] = json.loads(args.answers)

    def respond(body: dict[str, Any]) -> Reply:
        prompt = str(body.get("prompt", ""))
        for tail, answer in answers.items():
            if not prompt.endswith(tail):
                continue
            if isinstance(answer, str):
                return Reply(text=answer)
            # A slow answer: its chunks `tokenDelay` seconds apart.
            return Reply(
                text=answer["text"],
                chunk_chars=answer.get("chunkChars", 4),
                token_delay=answer.get("tokenDelay"),
            )
        return Reply(text=args.text)

    mock = MockCodestral(
        text=args.text, responder=respond, api_key=args.api_key, log_path=args.log
    ).start()
    sys.stdout.write(f"listening on {mock.url}\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    raise SystemExit(main())

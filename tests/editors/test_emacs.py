"""fim-lsp.el in a real Emacs: byte-compiles cleanly, and Eglot and lsp-mode get completions.

Runs Debian's Emacs (`emacs-nox`, with `elpa-eglot` and `elpa-lsp-mode`) in `--batch` against the
real server (`python -m fim_lsp`) and the mock Codestral server on 127.0.0.1. The Emacs side lives in
`emacs_driver.el`. Without CI set, a missing Emacs skips these tests; with CI set, it fails them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPO / "editors" / "emacs"
DRIVER = Path(__file__).with_name("emacs_driver.el")
OTHER_SERVER = Path(__file__).with_name("emacs_other_server.py")
sys.path.insert(0, str(REPO / "scripts"))

from mock_codestral import MockCodestral  # noqa: E402

EMACS_TIMEOUT = 60


def _require_emacs() -> str:
    emacs = shutil.which("emacs")
    if emacs is None:
        message = "Emacs not installed: `bash .ci/run` installs it (or apt-get install emacs-nox elpa-eglot elpa-lsp-mode)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return emacs


@pytest.fixture(scope="module")
def emacs() -> str:
    return _require_emacs()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home folder of its own, so neither the user's init files nor state files get involved."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def _emacs_env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("CODESTRAL_API_KEY", "MISTRAL_API_KEY", "FIM_LSP_ENDPOINT"):
        env.pop(key, None)
    env.update(HOME=str(home), MISTRAL_API_KEY="test", TMPDIR=str(home), **extra)
    return env


def _run_emacs(
    emacs: str, args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    # `--batch` skips the user's init file but keeps the site start-up files, through which Debian
    # puts its elpa-* packages on the load path.
    return subprocess.run(
        [emacs, "--batch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=EMACS_TIMEOUT,
        check=False,
    )


def _require_rass() -> None:
    if importlib.util.find_spec("rassumfrassum") is None:
        message = "rass not installed: `bash .ci/run` installs it (or pip install rassumfrassum)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _require_package(emacs: str, home: Path, feature: str) -> None:
    proc = _run_emacs(
        emacs, ["--eval", f"(progn (package-initialize) (require '{feature}))"], _emacs_env(home)
    )
    if proc.returncode != 0:
        message = f"Emacs cannot load {feature}: `bash .ci/run` installs it (or apt-get install elpa-eglot elpa-lsp-mode): {proc.stderr[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Case:
    """A file, a cursor (1-based line, 0-based column), the model's answer and what must follow."""

    name: str
    text: str
    line: int
    column: int
    middle: str
    expected_line: str


CASES = [
    Case(
        name="after-space",
        text="def add(a, b):\n    return \n",
        line=2,
        column=11,
        middle="a + b",
        expected_line="    return a + b",
    ),
    Case(
        name="inside-word",
        text="def add(a, b):\n    ret\n",
        line=2,
        column=7,
        middle="urn a + b",
        expected_line="    return a + b",
    ),
    Case(
        name="closing-paren-after-cursor",
        text="def add(a, b):\n    return a + b\n\n\nresult = add()\n",
        line=5,
        column=13,
        middle="1, 2)",
        expected_line="result = add(1, 2)",
    ),
]


@pytest.fixture
def mock_factory() -> Iterator[Any]:
    mocks: list[MockCodestral] = []

    def start(middle: str) -> MockCodestral:
        mock = MockCodestral(text=middle).start()
        mocks.append(mock)
        return mock

    yield start
    for mock in mocks:
        mock.stop()


def _drive(
    emacs: str,
    home: Path,
    client: str,
    case: Case,
    endpoint: str,
    *,
    accept: str = "completion-at-point",
    pick: str | None = None,
    command: list[str] | None = None,
    contact: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    workspace: dict[str, Any] | None = None,
    check: bool = False,
) -> dict[str, Any]:
    project = home / "project"
    project.mkdir(exist_ok=True)
    source = project / "example.py"
    source.write_text(case.text, encoding="utf-8")
    out = home / "result.json"
    env = _emacs_env(
        home,
        FIM_TEST_CLIENT=client,
        FIM_TEST_LOAD_PATH=str(PACKAGE_DIR),
        FIM_TEST_COMMAND=json.dumps(command or [sys.executable, "-m", "fim_lsp"]),
        FIM_TEST_SETTINGS=json.dumps({"endpoint": endpoint, "debounceMs": 0, **(settings or {})}),
        FIM_TEST_FILE=str(source),
        FIM_TEST_LINE=str(case.line),
        FIM_TEST_COLUMN=str(case.column),
        FIM_TEST_ACCEPT=accept,
        FIM_TEST_OUT=str(out),
    )
    if workspace is not None:
        env["FIM_TEST_WORKSPACE"] = json.dumps(workspace)
    if pick is not None:
        env["FIM_TEST_PICK"] = pick
    if check:
        env["FIM_TEST_CHECK"] = "1"
    if contact is not None:
        env["FIM_TEST_EGLOT_CONTACT"] = json.dumps(contact)
    proc = _run_emacs(emacs, ["-l", str(DRIVER), "-f", "fim-test-main"], env)
    assert proc.returncode == 0 and out.exists(), (
        f"emacs exited with {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def _expected_buffer(case: Case) -> str:
    lines = case.text.split("\n")
    lines[case.line - 1] = case.expected_line
    return "\n".join(lines)


def test_byte_compiles_without_warnings(emacs: str, home: Path, tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    shutil.copy(PACKAGE_DIR / "fim-lsp.el", build)
    proc = _run_emacs(
        emacs,
        [
            "--eval",
            "(progn (package-initialize) (setq byte-compile-error-on-warn t))",
            "-L",
            str(build),
            "-f",
            "batch-byte-compile",
            str(build / "fim-lsp.el"),
        ],
        _emacs_env(home),
    )
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    assert (build / "fim-lsp.elc").exists()


def test_checkdoc_is_clean(emacs: str, home: Path) -> None:
    proc = _run_emacs(
        emacs,
        [
            "--eval",
            "(progn (require 'checkdoc)"
            ' (setq checkdoc-diagnostic-buffer "*checkdoc*")'
            f" (checkdoc-file {json.dumps(str(PACKAGE_DIR / 'fim-lsp.el'))}))",
        ],
        _emacs_env(home),
    )
    assert proc.returncode == 0, proc.stderr
    assert "fim-lsp.el:" not in proc.stderr, proc.stderr


# How the user accepts: Emacs's own `completion-at-point` (a sole candidate is inserted at once), or
# a completion popup such as Company or Corfu (`select`: insert the candidate, run the exit function).
ACCEPT = ["completion-at-point", "select"]


@pytest.mark.parametrize("accept", ACCEPT)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_eglot_completion_inserts_suggestion(
    emacs: str, home: Path, mock_factory: Any, case: Case, accept: str
) -> None:
    _require_package(emacs, home, "eglot")
    mock = mock_factory(case.middle)
    result = _drive(emacs, home, "eglot", case, mock.url, accept=accept)
    assert len(result["candidates"]) == 1, result
    assert result["line"] == case.expected_line, result
    assert result["buffer"] == _expected_buffer(case), result
    assert mock.requests, "the server never called the model"
    # fimLsp/status notifications reached fim-lsp.el's handler.
    assert result["status"] == "idle", result


def test_eglot_workspace_configuration_reaches_server(
    emacs: str, home: Path, mock_factory: Any
) -> None:
    _require_package(emacs, home, "eglot")
    case = CASES[0]
    mock = mock_factory(case.middle)
    result = _drive(emacs, home, "eglot", case, mock.url, workspace={"fimLsp": {"maxTokens": 17}})
    assert result["line"] == case.expected_line, result
    assert mock.requests
    assert mock.requests[-1].body["max_tokens"] == 17


def test_eglot_with_rass_keeps_both_servers(emacs: str, home: Path, mock_factory: Any) -> None:
    """The README's setup for Eglot beside another server: rass in front of both, fim-lsp's
    settings from `eglot-workspace-configuration` (rass gives all servers the same options)."""
    _require_package(emacs, home, "eglot")
    _require_rass()
    case = CASES[2]
    mock = mock_factory(case.middle)
    contact = [sys.executable, "-m", "rassumfrassum", "--", sys.executable, str(OTHER_SERVER)]
    contact += ["--", sys.executable, "-m", "fim_lsp"]
    result = _drive(
        emacs,
        home,
        "eglot",
        case,
        "http://127.0.0.1:9",  # unused: initializationOptions do not reach fim-lsp here
        accept="select",
        pick=case.middle,
        contact=contact,
        workspace={"fimLsp": {"endpoint": mock.url, "debounceMs": 0}},
    )
    assert sorted(result["candidates"]) == sorted(["other_completion", case.middle]), result
    assert result["buffer"] == _expected_buffer(case), result
    assert mock.requests


# lsp-mode 8's table never reports an exact match; fim-lsp.el makes a sole fim-lsp suggestion one, so
# plain `completion-at-point` inserts it through the item's textEdit as a popup does.
@pytest.mark.parametrize("accept", ACCEPT)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_lsp_mode_add_on_client_completes(
    emacs: str, home: Path, mock_factory: Any, case: Case, accept: str
) -> None:
    _require_package(emacs, home, "lsp-mode")
    mock = mock_factory(case.middle)
    settings = {"maxTokens": 64, "stop": ["\n\n"]}
    result = _drive(emacs, home, "lsp-mode", case, mock.url, accept=accept, settings=settings)
    assert result["registered"] is True
    assert result["status"] == "idle", result
    # What lsp-mode answers to the server's workspace/configuration pull of section fimLsp.
    assert result["section"] == {
        "fimLsp": {"endpoint": mock.url, "debounceMs": 0, "maxTokens": 64, "stop": ["\n\n"]}
    }
    assert result["served"] is True
    assert len(result["candidates"]) == 1, result
    assert result["line"] == case.expected_line, result
    assert result["buffer"] == _expected_buffer(case), result


MULTILINE = Case(
    name="multi-line",
    text="import math\n\n\ndef area(r):\n    \n",
    line=5,
    column=4,
    middle="pi = math.pi\n    return pi * r * r",
    expected_line="    return pi * r * r",
)


@pytest.mark.parametrize("accept", ACCEPT)
def test_lsp_mode_inserts_a_multiline_suggestion_whole_and_reports_the_accept(
    emacs: str, home: Path, mock_factory: Any, tmp_path: Path, accept: str
) -> None:
    # lsp-mode 8 with plain C-M-i used to insert the label (the first line) only, and a second C-M-i
    # glued the next line onto it; the accept command was never sent.
    _require_package(emacs, home, "lsp-mode")
    mock = mock_factory(MULTILINE.middle)
    log = tmp_path / "fim-lsp.log"
    result = _drive(
        emacs,
        home,
        "lsp-mode",
        MULTILINE,
        mock.url,
        accept=accept,
        command=[sys.executable, "-m", "fim_lsp", "--log-file", str(log), "-v"],
    )
    assert result["buffer"] == (
        "import math\n\n\ndef area(r):\n    pi = math.pi\n    return pi * r * r\n"
    ), result
    assert result["line"] == "    return pi * r * r", result
    assert "suggestion accepted" in log.read_text(encoding="utf-8")
    # The mode line shows the state and the last suggestion's latency and source.
    assert re.search(r"fim-lsp\[idle \d+ms (model|cache|typed)\]", result["mode-line"]), result[
        "mode-line"
    ]


CLIENTS = ["eglot", "lsp-mode"]


@pytest.mark.parametrize("client", CLIENTS)
def test_check_shows_the_servers_findings(
    emacs: str, home: Path, mock_factory: Any, client: str
) -> None:
    _require_package(emacs, home, client)
    mock = mock_factory("a + b")
    secret = "sk-emacs-check-secret"
    result = _drive(
        emacs, home, client, CASES[0], mock.url, settings={"apiKey": secret}, check=True
    )
    assert result["check-buffer"] == "*fim-lsp check*"
    assert result["check-mode"] == "special-mode"
    lines = [text for text, _face in result["check-lines"]]
    via = "Eglot" if client == "eglot" else "lsp-mode"
    assert lines[0] == f"fim-lsp check (asked through {via})", lines
    findings = [line for line in result["check-lines"] if line[0][:1] in ("\u2713", "\u2717")]
    assert findings[0] == ["\u2713 backend: codestral (default)", "success"], findings
    assert [f"\u2713 endpoint: {mock.url} (settings)", "success"] in findings
    assert any(text.startswith("\u2713 FIM call: first token ") for text, _ in findings), lines
    assert all(face == "success" for _text, face in findings), findings
    assert lines[-1] == "Suggestions can be made with these settings.", lines
    assert secret not in json.dumps(result["check-lines"])
    assert any(r.path.endswith("/fim/completions") for r in mock.requests), mock.requests


@pytest.mark.parametrize("client", CLIENTS)
def test_check_shows_failures_in_the_error_face(emacs: str, home: Path, client: str) -> None:
    _require_package(emacs, home, client)
    # Nothing listens on port 9 (discard) here.
    result = _drive(emacs, home, client, CASES[0], "http://127.0.0.1:9", check=True)
    failed = [text for text, face in result["check-lines"] if face == "error"]
    assert failed == [
        "\u2717 cannot reach http://127.0.0.1:9: connection refused or no such host "
        "(All connection attempts failed)",
        "No suggestion can be made with these settings.",
    ], result["check-lines"]

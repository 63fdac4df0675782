"""The no-key message names the setting of the user's own editor."""

from __future__ import annotations

import pytest

from fim_lsp.backends.codestral import CodestralBackend
from fim_lsp.client_hints import client_kind, key_setting


def no_key_message(client: str | None) -> str:
    return CodestralBackend().missing_key_message(key_setting(client))


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Visual Studio Code", "vscode"),
        ("code-server", "vscode"),
        ("VSCodium", "vscode"),
        ("Neovim", "neovim"),
        ("emacs", "emacs"),  # lsp-mode
        ("Eglot", "emacs"),
        ("helix", "helix"),
        ("", ""),
        (None, ""),
        ("Kate", ""),
    ],
)
def test_client_kind_from_client_info(name: str | None, kind: str) -> None:
    assert client_kind(name) == kind


def test_each_editor_is_told_its_own_setting() -> None:
    vscode = no_key_message("Visual Studio Code")
    assert '"fim-lsp: Set API key"' in vscode and "setup(" not in vscode
    neovim = no_key_message("Neovim")
    assert "settings = { apiKey = ... }" in neovim and "VS Code" not in neovim
    emacs = no_key_message("emacs")
    assert "fim-lsp-api-key" in emacs and "VS Code" not in emacs
    helix = no_key_message("helix")
    assert "languages.toml" in helix and "config" in helix and "VS Code" not in helix
    for message in (vscode, neovim, emacs, helix, no_key_message(None)):
        assert "CODESTRAL_API_KEY" in message and "MISTRAL_API_KEY" in message
        assert message.startswith("fim-lsp: no API key.")

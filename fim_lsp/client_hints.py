"""Words that depend on the editor: where each client's user sets the API key.

The client is known by the `clientInfo.name` it sends in `initialize` ("Visual Studio Code",
"code-server", "Neovim", "emacs" for lsp-mode, "Eglot", "helix"); an unknown or absent name gets
the words for every editor.
"""

from __future__ import annotations

_WHERE = {
    "vscode": 'run the command "fim-lsp: Set API key" (kept in VS Code\'s secret storage)',
    # (No quoted value after `apiKey =`: the redaction of outgoing text would hide it.)
    "neovim": 'pass it to the plugin: require("fim_lsp").setup({ settings = { apiKey = ... } })',
    "emacs": "set the variable `fim-lsp-api-key' (a string, or a function such as "
    "`fim-lsp-api-key-from-auth-source')",
    "helix": "add apiKey (a string) to the `config` table of [language-server.fim-lsp] in "
    "languages.toml",
    "": 'set the apiKey setting (in VS Code: run the command "fim-lsp: Set API key")',
}


def client_kind(name: str | None) -> str:
    """'vscode', 'neovim', 'emacs', 'helix', or '' for a client name we do not know."""
    low = (name or "").lower()
    if "neovim" in low or low == "nvim":
        return "neovim"
    if "emacs" in low or "eglot" in low:
        return "emacs"
    if "helix" in low:
        return "helix"
    if any(word in low for word in ("code", "vscod", "visual studio", "cursor", "windsurf")):
        return "vscode"
    return ""


def key_setting(client_name: str | None = None) -> str:
    """How a user of this editor gives fim-lsp an API key ("run the command …", "set …")."""
    return _WHERE[client_kind(client_name)]

"""Words that depend on the editor: where each client's user sets the API key.

The client is known by the `clientInfo.name` it sends in `initialize` ("Visual Studio Code",
"code-server", "Neovim", "emacs" for lsp-mode, "Eglot", "helix"); an unknown or absent name gets
the words for every editor.
"""

from __future__ import annotations

_ENV = (
    "Set CODESTRAL_API_KEY (a Codestral key, for codestral.mistral.ai) or MISTRAL_API_KEY "
    "(a La Plateforme key, for api.mistral.ai) in the environment the editor starts fim-lsp from"
)
_WHERE = {
    "vscode": 'or run the command "fim-lsp: Set API key" (kept in VS Code\'s secret storage)',
    "neovim": 'or pass it to the plugin: require("fim_lsp").setup({ settings = { apiKey = "..." } })',
    "emacs": "or set the variable `fim-lsp-api-key' (a string, or a function such as "
    "`fim-lsp-api-key-from-auth-source')",
    "helix": 'or add apiKey = "..." to the `config` table of [language-server.fim-lsp] in '
    "languages.toml",
    "": 'or the apiKey setting (in VS Code: run the command "fim-lsp: Set API key")',
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


def no_key_message(client_name: str | None = None) -> str:
    """What to tell a user who has set no API key, naming the setting of their editor."""
    where = _WHERE[client_kind(client_name)]
    return f"fim-lsp: no API key. {_ENV}, {where}. Suggestions are off until then."

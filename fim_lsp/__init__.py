"""fim-lsp: AI code completion from a fill-in-the-middle model for every LSP editor."""

__version__ = "0.1.0"

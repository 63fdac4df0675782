"""`python -m fim_lsp`: the same as the `fim-lsp` command."""

from .cli import main

raise SystemExit(main())

"""FIM prompt templates of the open code models: the prompt a server without `suffix` needs."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    """A FIM template: `{prefix}` and `{suffix}` slots, and the end tokens the model may emit."""

    text: str
    stops: tuple[str, ...] = ()
    # Repository-level layout: (repository token, what ends the repository's name, file separator).
    repo: tuple[str, str, str] | None = None

    def render(self, prefix: str, suffix: str) -> str:
        """The prompt; slots are filled in one pass, so code that contains "{suffix}" stays as is."""
        return _SLOT.sub(lambda m: prefix if m.group(0) == "{prefix}" else suffix, self.text)


_SLOT = re.compile(r"\{prefix\}|\{suffix\}")

BUILTIN: dict[str, Template] = {
    # Qwen2.5-Coder.
    "qwen": Template(
        "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        ("<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|im_end|>"),
        ("<|repo_name|>", "\n", "<|file_sep|>"),
    ),
    # StarCoder and StarCoder2.
    "starcoder": Template(
        "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
        ("<|endoftext|>", "<file_sep>"),
        ("<repo_name>", "", "<file_sep>"),
    ),
    # DeepSeek-Coder (full-width bars and the "▁" block).
    "deepseek": Template(
        "<\uff5cfim\u2581begin\uff5c>{prefix}<\uff5cfim\u2581hole\uff5c>{suffix}"
        "<\uff5cfim\u2581end\uff5c>",
        ("<\uff5cend\u2581of\u2581sentence\uff5c>",),
    ),
    "codellama": Template("<PRE> {prefix} <SUF>{suffix} <MID>", ("<EOT>",)),
    # Codestral's raw weights (not the API): the suffix comes first.
    "codestral": Template("[SUFFIX]{suffix}[PREFIX]{prefix}", ("[PREFIX]", "[SUFFIX]")),
    "codegemma": Template(
        "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        ("<|file_separator|>", "<|fim_prefix|>"),
    ),
}


def valid_template(value: str) -> bool:
    """A built-in name, a custom string with both slots, or "" (none)."""
    return value == "" or value in BUILTIN or ("{prefix}" in value and "{suffix}" in value)


def template_for(value: str) -> Template | None:
    """The template a setting names (None: the server gets prompt and suffix)."""
    if not value:
        return None
    return BUILTIN.get(value) or Template(value)

"""The document's indentation unit (tabs or spaces) and line ending (LF or CRLF), whatever the model used."""

from __future__ import annotations

from ._view import View, leading_ws


def _space_step(lines: list[str]) -> int:
    widths = [len(leading_ws(ln)) for ln in lines if ln.strip() and ln.startswith(" ")]
    return min((w for w in widths if w >= 2), default=4)


def indentation(text: str, view: View) -> str:
    """Re-indent lines 2.. with the document's unit when the model used the other kind.

    Only when the file clearly uses one kind and the lines around the cursor agree: files that
    mix tabs and spaces keep the model's choice.
    """
    lines = text.split("\n")
    rest = lines[1:]
    if not rest:
        return text
    uses_tabs = any(ln.startswith("\t") for ln in rest)
    uses_spaces = any(ln.startswith("  ") for ln in rest)
    if view.indent_unit == "\t" and uses_spaces and not uses_tabs and " " not in view.near_indent:
        step = _space_step(rest)
        for k, line in enumerate(rest):
            ws = leading_ws(line)
            if len(ws) >= step and "\t" not in ws:
                rest[k] = "\t" * (len(ws) // step) + " " * (len(ws) % step) + line[len(ws) :]
    elif (
        view.indent_unit.startswith(" ")
        and uses_tabs
        and not uses_spaces
        and "\t" not in view.near_indent
    ):
        for k, line in enumerate(rest):
            ws = leading_ws(line)
            rest[k] = ws.replace("\t", view.indent_unit) + line[len(ws) :]
    else:
        return text
    return "\n".join([lines[0], *rest])


def line_endings(text: str, view: View) -> str:
    """Use the document's line ending."""
    return text.replace("\n", view.eol) if view.eol != "\n" else text

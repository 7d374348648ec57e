"""Escape source values for where they land in generated Markdown, read the same by MkDocs and pandoc.

Both readers honour a backslash before any ASCII punctuation (MkDocs through `pymdownx.escapeall`), so
text values are escaped character by character. User prose keeps its Markdown, but raw HTML, raw
attributes (`{=html}`, `{=typst}`, `{=latex}`) and top-level headings are neutralised.
"""

from __future__ import annotations

import re

from markupsafe import Markup

_SPECIAL = set("\\`*_{}[]<>|&$@~^!")
_LINE_START = re.compile(r"^(>|[#+-](?=\s|$)|\d+[.)](?=\s|$))")
_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})(.*)$")
_ATX_HEADING = re.compile(r"^(\s{0,3})(#{1,6})(\s|$)")
_RAW_ATTRIBUTE = re.compile(r"\{=[A-Za-z0-9_-]+\}")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)


def inline(value: object) -> Markup:
    """Any value as literal inline text: markup characters escaped, line breaks as spaces."""
    text = " ".join(str(value).split()) if "\n" in str(value) or "\r" in str(value) else str(value)
    escaped = "".join(f"\\{c}" if c in _SPECIAL else c for c in text)
    start = _LINE_START.match(escaped)
    if start:
        escaped = escaped[: start.end() - 1] + "\\" + escaped[start.end() - 1 :]
    return Markup(escaped)


def cell(value: object) -> Markup:
    """A value inside a pipe-table cell: literal text on one line (pipes escaped by `inline`)."""
    if value is None or value == "":
        return Markup("—")
    return inline(value)


def prose(text: str, heading_level: int = 3) -> Markup:
    """User Markdown placed under a heading: raw HTML and raw attributes neutralised, and its headings shifted so
    that the shallowest one lands at `heading_level`."""
    source = text.replace("\r\n", "\n").split("\n")
    depths = [len(m.group(2)) for m in map(_ATX_HEADING.match, _outside_fences(source)) if m]
    shift = heading_level - min(depths) if depths else 0
    lines: list[str] = []
    fence: str | None = None
    for line in source:
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(2)[0] * len(match.group(2))
            info = _RAW_ATTRIBUTE.sub("", match.group(3)).replace("{", "").replace("}", "")
            lines.append(f"{match.group(1)}{match.group(2)}{info}")
            continue
        if fence is not None:
            if line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
                fence = None
            lines.append(line)
            continue
        heading = _ATX_HEADING.match(line)
        if heading:
            depth = max(1, min(6, len(heading.group(2)) + shift))
            line = f"{heading.group(1)}{'#' * depth}{line[heading.end(2):]}"
        lines.append(_neutralise_inline(line))
    if fence is not None:
        lines.append(fence)
    return Markup("\n".join(lines).strip("\n"))


def _outside_fences(lines: list[str]) -> list[str]:
    """The lines that are not inside fenced code blocks."""
    outside, fence = [], None
    for line in lines:
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(2)[0]
        elif fence is not None and line.strip() and set(line.strip()) == {fence}:
            fence = None
        elif fence is None:
            outside.append(line)
    return outside


def _neutralise_inline(line: str) -> str:
    """Escape HTML and raw-attribute syntax outside code spans; code spans stay as written."""
    parts: list[str] = []
    position = 0
    for span in _CODE_SPAN.finditer(line):
        parts.append(_escape_markup(line[position:span.start()]))
        parts.append(span.group(0))
        end = span.end()
        raw = _RAW_ATTRIBUTE.match(line, end)
        position = raw.end() if raw else end
    parts.append(_escape_markup(line[position:]))
    return "".join(parts)


def _escape_markup(text: str) -> str:
    text = _RAW_ATTRIBUTE.sub(lambda m: "\\{\\=" + m.group(0)[2:-1] + "\\}", text)
    return text.replace("<", "\\<").replace("$", "\\$").replace("@", "\\@")

"""Escape source values for where they land in generated Markdown, read the same by MkDocs and pandoc.

Both readers honour a backslash before any ASCII punctuation (MkDocs through `pymdownx.escapeall`), so
text values are escaped character by character. User prose keeps its Markdown, but raw HTML, raw
attributes (`{=html}`, `{=typst}`, `{=latex}`) and top-level headings are neutralised.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from techfile.validation.prose import InlineReader, LinkPolicy, definitions, is_definition, prose_lines

_SPECIAL = set("\\`*_{}[]<>|&$@~^!")
# What would start a block at the start of a line: a quote, heading, list item, definition, setext underline or rule.
_LINE_START = re.compile(r"^(>|[#+:-](?=\s|$)|=+(?=\s*$)|-{2,}(?=\s*$)|\d+[.)](?=\s|$))")
_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})(.*)$")
_ATX_HEADING = re.compile(r"^(\s{0,3})(#{1,6})(\s|$)")
_RAW_ATTRIBUTE = re.compile(r"\{=[A-Za-z0-9_-]+\}")


def inline(value: object) -> Markup:
    """Any value as literal inline text: markup characters escaped, line breaks as spaces."""
    text = " ".join(str(value).split()) if "\n" in str(value) or "\r" in str(value) else str(value)
    escaped = "".join(f"\\{c}" if c in _SPECIAL else c for c in text)
    start = _LINE_START.match(escaped)
    if start:
        escaped = escaped[: start.end() - 1] + "\\" + escaped[start.end() - 1 :]
    return Markup(escaped)


_TOKEN = re.compile(r"[\w.:/+-]+")


def code(value: object) -> Markup:
    """An identifier as inline code. A code span shows its text verbatim (a backslash escape would show), so only a
    plain token (letters, digits and `_.:/+-`) becomes code; anything else is literal text."""
    text = str(value)
    return Markup(f"`{text}`") if _TOKEN.fullmatch(text) else inline(text)


def cell(value: object) -> Markup:
    """A value inside a pipe-table cell: literal text on one line (pipes escaped by `inline`)."""
    if value is None or value == "":
        return Markup("—")
    return inline(value)


def prose(text: str, heading_level: int = 3, policy: LinkPolicy | None = None) -> Markup:
    """User Markdown placed under a heading: raw HTML and raw attributes neutralised, links and images kept only
    where `policy` allows them (else shown as text), and its headings shifted so that the shallowest one lands
    at `heading_level`."""
    policy = policy if policy is not None else LinkPolicy()
    source = list(prose_lines(text))
    depths = [len(m.group(2)) for m in (_ATX_HEADING.match(line.text) for line in source if line.markdown) if m]
    shift = heading_level - min(depths) if depths else 0
    reader = InlineReader(policy, definitions(text))
    lines: list[str] = []
    fence: str | None = None
    for line in source:
        if line.fence_open:
            match = _FENCE.match(line.text)
            assert match is not None
            fence = match.group(2)
            info = _RAW_ATTRIBUTE.sub("", match.group(3)).replace("{", "").replace("}", "")
            lines.append(f"{match.group(1)}{match.group(2)}{info}")
            continue
        if not line.markdown:
            fence = None if line.fence_close else fence
            lines.append(line.text)
            continue
        if is_definition(line.text):
            continue
        heading = _ATX_HEADING.match(line.text)
        text_line = line.text
        if heading:
            depth = max(1, min(6, len(heading.group(2)) + shift))
            text_line = f"{heading.group(1)}{'#' * depth}{text_line[heading.end(2):]}"
        lines.append(reader.rewrite(text_line, line.number))
    if fence is not None:
        lines.append(fence)
    return Markup("\n".join(lines).strip("\n"))

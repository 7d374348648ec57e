"""`check` as the gate for `build`: source text that a renderer would refuse or choke on is reported here, located,
before any build runs. The bounds are documented in the README (Limits) and SECURITY.md.

- control characters other than tab and newline, and lone surrogates (TF120): PDF/A and UTF-8 files refuse them;
- characters no shipped font can print, when the project makes PDFs (TF121);
- text over the size bounds (TF123) and words too long for a PDF text string (TF124);
- Markdown prose nested deeper than the PDF renderer accepts (TF125), links shown as text because of their
  scheme (TF126) or because their in-project target is no document (TF127), and images that are not readable
  image files inside the project (TF128, TF129, TF401, TF402).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from techfile.diagnostics import Diagnostic, finding
from techfile.project import Project
from techfile.sources.yaml_source import JsonPath, SourceDocument, SourceError, read_text
from techfile.validation.annotations import ANY, Pattern, find_values
from techfile.validation.files import resolve_inside
from techfile.validation.glyphs import unprintable
from techfile.validation.prose import LinkPolicy, scan_prose
from techfile.validation.schema import deref, load_schema

MAX_TEXT = 10_000  # characters in one text value (a name, a description, a key)
MAX_PROSE = 100_000  # characters in one Markdown prose text, inline or in a .md file
MAX_WORD = 1_000  # characters in a row without a space (a PDF text string holds at most 32,767)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]|\r(?!\n)")
_WORD = re.compile(r"(?<!\S)\S{" + str(MAX_WORD + 1) + ",}")  # tried only where a run starts: linear time


def check_renderable(root: Path, documents: list[tuple[str, SourceDocument]], project: Project) -> list[Diagnostic]:
    """Every problem in the sources' text that would make a document fail to render, or lose a link or image."""
    pdf = project.settings.outputs.pdf if project.settings is not None else True
    pages = None
    if project.settings is not None and project.system is not None:
        from techfile.assess.pages import planned_documents

        pages = frozenset(planned_documents(project))
    policy = LinkPolicy(pages=pages, root=root)
    diagnostics: list[Diagnostic] = []
    for kind, document in documents:
        places = prose_places(kind)
        prose_paths = {path for pattern in places for path, _ in find_values(document.data, pattern)}
        for path, value, is_key in () if _sound_as_written(document, pdf) else _walk(document.data, ()):
            if isinstance(value, str):  # numbers that are not finite never get here: the loader refuses them (TF112)
                bound = MAX_PROSE if path in prose_paths and not is_key else MAX_TEXT
                problem = text_problem(value, bound, pdf)
                if problem:
                    code, message, hint = problem
                    diagnostics.append(document.finding(code, path, message, hint, on_key=is_key))
        if prose_paths:
            source_lines = (document.text or document.path.read_text(encoding="utf-8", errors="replace")).splitlines()
            for path in sorted(prose_paths, key=str):
                diagnostics.extend(_check_prose(root, document, source_lines, path, policy, pdf))
    return diagnostics


def _sound_as_written(document: SourceDocument, pdf: bool) -> bool:
    """True when no value or key of `document` can have a text problem, so that they need not be looked at one by
    one: without a backslash in the text (an escape could make a character the text lacks), every value and key is
    made of the text's own characters, line breaks folded to spaces or kept, so none holds a character or a run
    without a space that the text lacks; the text has no such problem, and no value or key is over MAX_TEXT."""
    text = document.text
    return (bool(text) and "\\" not in text and text_problem(text, len(text), pdf) is None
            and (len(text) <= MAX_TEXT or _longest_text(document.data) <= MAX_TEXT))


def _longest_text(data: Any) -> int:
    """The length of the longest string, value or key, in a source's data."""
    longest = 0
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            longest = max(longest, len(item))
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return longest


def text_problem(text: str, bound: int, pdf: bool) -> tuple[str, str, str] | None:
    """The first reason `text` cannot be rendered, as (code, message, hint), or None."""
    control = _CONTROL.search(text)
    if control:
        return ("TF120", f"control character U+{ord(control.group(0)[0]):04X} in the text",
                "Remove it: only tab and line breaks may appear in text (the PDF format refuses the others).")
    if len(text) > bound:
        return ("TF123", f"text of {len(text):,} characters, over the limit of {bound:,}",
                "Shorten it, or keep the bulk in an evidence file and summarise it here.")
    word = _WORD.search(text) if len(text) > MAX_WORD else None
    if word:
        return ("TF124", f"{len(word.group(0)):,} characters without a space ({word.group(0)[:24]}…), over the limit "
                f"of {MAX_WORD:,}", "Break it up with spaces; a PDF cannot hold a word that long.")
    if pdf and not text.isascii():  # the ASCII characters no font prints are control characters, refused above
        character = unprintable(text)
        if character is not None:
            import unicodedata

            name = unicodedata.name(character, "unnamed")
            return ("TF121", f"character U+{ord(character):04X} ({name}) cannot be printed with the fonts of the PDFs",
                    "The PDFs use the DejaVu fonts shipped with techfile; write the text without this character, or "
                    "set `outputs.pdf: false` in techfile.yaml.")
    return None


def _check_prose(root: Path, document: SourceDocument, source_lines: list[str], path: JsonPath, policy: LinkPolicy,
                 pdf: bool) -> list[Diagnostic]:
    value = _get(document.data, path)
    if isinstance(value, str):
        start = document.mark(path)
        literal = source_lines[start.line - 1][start.col - 1:start.col] == "|" if start.line <= len(source_lines) else False
        found = []
        for item in scan_prose(value, policy):
            line, col = start.line, start.col
            if literal and start.line + 1 + item.line <= len(source_lines):  # a `|` block: one value line per file line
                line = start.line + 1 + item.line
                text = source_lines[line - 1]
                col = len(text) - len(text.lstrip(" ")) + item.col + 1
            found.append(finding(item.code, document.relpath, line, col, item.message, item.hint))
        return found
    if not (isinstance(value, dict) and isinstance(value.get("file"), str)):
        return []
    reference = value["file"]
    resolved, _, _ = resolve_inside(root, reference)
    if resolved is None:
        return []  # reported by the file checks
    try:
        text = read_text(resolved)
    except SourceError:
        return []  # reported when the prose is read
    relpath = Path(reference).as_posix()
    found = [finding(i.code, relpath, i.line + 1, i.col + 1, i.message, i.hint) for i in scan_prose(text, policy)]
    problem = text_problem(text, MAX_PROSE, pdf)
    if problem:
        code, message, hint = problem
        line, col = _position_of_problem(text, code)
        found.append(finding(code, relpath, line, col, message, hint))
    return found


def _position_of_problem(text: str, code: str) -> tuple[int, int]:
    """Line and column (1-based) of the character or word a text finding is about."""
    match = None
    if code == "TF120":
        match = _CONTROL.search(text)
    elif code == "TF124":
        match = _WORD.search(text)
    elif code == "TF121":
        character = unprintable(text)
        index = text.index(character) if character else 0
        return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1
    index = match.start() if match else 0
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _walk(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, Any, bool]]:
    """Every value and key in a document, with its path (`is_key` for keys), in document order."""
    stack: list[tuple[JsonPath, Any, bool]] = [(path, value, False)]
    while stack:
        path, value, is_key = stack.pop()
        if is_key:
            yield path, value, True
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                inner = (*path, key)
                stack.append((inner, item, False))
                stack.append((inner, key, True))
        elif isinstance(value, list):
            stack.extend(((*path, index), item, False) for index, item in reversed(list(enumerate(value))))
        else:
            yield path, value, False


def _get(data: Any, path: JsonPath) -> Any:
    for key in path:
        data = data[key]
    return data


@cache
def prose_places(kind_name: str) -> tuple[Pattern, ...]:
    """The places in a kind's schema that hold Markdown prose (its `prose` definition), as path patterns."""
    schema = load_schema(kind_name)
    places: set[Pattern] = set()

    def walk(node: Any, pattern: Pattern, depth: int) -> None:
        if not isinstance(node, dict) or depth > 32:
            return
        if str(node.get("$ref", "")).endswith("/prose"):
            places.add(pattern)
            return
        if "$ref" in node:
            walk(deref(schema, node), pattern, depth + 1)
        for key, child in node.get("properties", {}).items():
            walk(child, (*pattern, key), depth + 1)
        for keyword in ("items", "additionalProperties"):
            if isinstance(node.get(keyword), dict):
                walk(node[keyword], (*pattern, ANY), depth + 1)
        for keyword in ("oneOf", "anyOf", "allOf"):
            for branch in node.get(keyword, []):
                walk(branch, pattern, depth + 1)

    walk(schema, (), 0)
    return tuple(sorted(places))

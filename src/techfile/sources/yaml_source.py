"""Load one YAML source file safely into plain data, keeping the line and column of every key and value."""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from techfile.diagnostics import Diagnostic, finding

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_EXPANSIONS = 100_000

JsonPath = tuple[str | int, ...]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAB_INDENT = re.compile(r"^[ ]*\t", re.MULTILINE)
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # what YAML counts as a line break
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Numbers every later step handles: whole numbers that JSON tools keep exact (2^53 - 1), and decimal numbers far
# beyond any measured quantity yet far from where arithmetic in charts and checks overflows.
LARGEST_INTEGER = 2**53 - 1
LARGEST_DECIMAL = 1e100

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:timestamp",  # dates stay text: JSON has no date type
    "!",
}
_CONSTRUCTED_TAGS = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:null",
}


class Mark(NamedTuple):
    """A 1-based position in a source file (a named tuple: the loader makes one per key and value)."""

    line: int
    col: int


class Marks(Mapping[JsonPath, Mark]):
    """Where each value (or each key) of a document sits, kept as numbers and made a Mark only when one is asked for:
    a source has a mark per value and most are never read, and a process that loads sources in parallel sends
    them back as two flat sequences."""

    __slots__ = ("_at", "_numbers")

    def __init__(self) -> None:
        self._at: dict[JsonPath, int] = {}  # path → where its line is in _numbers (its column follows)
        self._numbers = array("q")

    def add(self, path: JsonPath, line: int, col: int) -> None:
        """Record where `path` sits, unless it already has a place."""
        if path not in self._at:
            self._at[path] = len(self._numbers)
            self._numbers.extend((line, col))

    def put(self, path: JsonPath, line: int, col: int) -> None:
        """Record where `path` sits, replacing any place it had."""
        if path in self._at:
            self._numbers[self._at[path]:self._at[path] + 2] = array("q", (line, col))
        else:
            self.add(path, line, col)

    def __getitem__(self, path: JsonPath) -> Mark:
        at = self._at[path]
        return Mark(self._numbers[at], self._numbers[at + 1])

    def __contains__(self, path: object) -> bool:
        return path in self._at

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)

    def __repr__(self) -> str:
        return f"Marks({dict(self)!r})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _unpickle_marks, (tuple(self._at), self._numbers)


def _unpickle_marks(paths: tuple[JsonPath, ...], numbers: array) -> Marks:
    marks = Marks()
    marks._at = dict(zip(paths, range(0, len(numbers), 2), strict=True))  # each path came with its two numbers, in order
    marks._numbers = numbers
    return marks


@dataclass
class SourceDocument:
    """One loaded source file: its plain data and where each value and key sits."""

    path: Path
    relpath: str
    data: Any
    value_marks: Marks = field(default_factory=Marks)
    key_marks: Marks = field(default_factory=Marks)
    text: str = field(default="", repr=False)  # the file's text as loaded (checks that quote lines read it here)

    def mark(self, path: JsonPath) -> Mark:
        """Where the value at `path` starts, falling back to its nearest located parent."""
        while path not in self.value_marks and path:
            path = path[:-1]
        return self.value_marks.get(path, Mark(1, 1))

    def key_mark(self, path: JsonPath) -> Mark:
        """Where the key of the value at `path` is written (the value's position for list items)."""
        return self.key_marks.get(path) or self.mark(path)

    def finding(self, code: str, path: JsonPath, message: str, hint: str = "", on_key: bool = False) -> Diagnostic:
        """A diagnostic located at the value (or, with `on_key`, the key) at `path`."""
        mark = self.key_mark(path) if on_key else self.mark(path)
        return finding(code, self.relpath, mark.line, mark.col, message, hint)


class SourceError(Exception):
    """A problem that stops one file from loading; carries its diagnostic."""

    def __init__(self, code: str, mark: Mark, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code, self.mark, self.message, self.hint = code, mark, message, hint

    def diagnostic(self, relpath: str) -> Diagnostic:
        return finding(self.code, relpath, self.mark.line, self.mark.col, self.message, self.hint)


def load_yaml_source(path: Path, relpath: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Load `path` as one YAML mapping; on failure return no document and the located reasons."""
    try:
        return _load(path, relpath, max_bytes), []
    except SourceError as err:
        return None, [err.diagnostic(relpath)]


def yaml_data(raw: bytes, relpath: str, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """The plain data of one YAML mapping given as bytes (e.g. a file as an earlier commit held it), under the same
    bounds as a source file; None where it is not one."""
    if len(raw) > max_bytes:
        return None
    try:
        return _parse(raw.decode("utf-8").removeprefix("\ufeff"), Path(relpath), relpath).data
    except (SourceError, UnicodeDecodeError):
        return None


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 text file within the size bound, raising SourceError otherwise."""
    size = path.stat().st_size
    if size > max_bytes:
        raise SourceError(
            "TF107", Mark(1, 1), f"file is {size / 1_048_576:.1f} MB, over the {max_bytes / 1_048_576:.0f} MB limit",
            "Split the file, or keep bulk data in an evidence file and record its sha256.",
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        before = raw[: err.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        raise SourceError(
            "TF101", Mark(line, col), f"file is not valid UTF-8 (byte 0x{raw[err.start]:02x})",
            "Re-save the file with UTF-8 encoding.",
        ) from None
    return text.removeprefix("\ufeff")


def _load(path: Path, relpath: str, max_bytes: int) -> SourceDocument:
    text = read_text(path, max_bytes)
    try:
        return _parse(text, path, relpath)
    except SourceError as err:
        err.mark = within_text(text, err.mark)
        raise


def within_text(text: str, mark: Mark) -> Mark:
    """`mark`, moved back onto the file's last character when a parser reports a place after the end of the file."""
    lines = _LINE_BREAK.split(text)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the break that ends the last line does not start another one
    if mark.line <= len(lines):
        return Mark(mark.line, min(mark.col, len(lines[mark.line - 1]) + 1))
    return Mark(len(lines), len(lines[-1]) + 1)


def _position(text: str, index: int) -> Mark:
    before = text[:index]
    lines = _LINE_BREAK.split(before)
    return Mark(len(lines), len(lines[-1]) + 1)


def _parse(text: str, path: Path, relpath: str) -> SourceDocument:
    tab = _TAB_INDENT.search(text)
    if tab:
        line = text.count("\n", 0, tab.start()) + 1
        raise SourceError("TF104", Mark(line, tab.end() - tab.start()), "tab character used for indentation",
                          "YAML indents with spaces only; replace the tabs with spaces.")
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as err:
        raise _syntax_error(err) from None
    except yaml.reader.ReaderError:
        raise _unprintable(text) from None
    except yaml.YAMLError as err:
        raise SourceError("TF102", Mark(1, 1), f"YAML syntax error: {err}", "") from None
    except RecursionError:
        raise SourceError("TF109", Mark(1, 1), f"values nested deeper than {MAX_DEPTH} levels", "Flatten the structure.") from None
    if len(nodes) > 1:
        second = nodes[1].start_mark
        raise SourceError("TF110", Mark(second.line + 1, second.column + 1), "file holds more than one YAML document",
                          "Keep one entity per file; move the second document into a file of its own.")
    if not nodes or nodes[0] is None:
        raise SourceError("TF105", Mark(1, 1), "file is empty", "Fill the file in, or delete it.")
    root = nodes[0]
    if not isinstance(root, yaml.MappingNode):
        shape = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        raise SourceError("TF106", _mark(root), f"expected a mapping of `key: value` at the top level, found {shape}",
                          "Write the entity's properties as `key: value` lines, not as a list item or a bare value.")
    document = SourceDocument(path, relpath, None, text=text)
    document.data = _Converter(document).convert(root, ())
    return document


def _syntax_error(err: yaml.MarkedYAMLError) -> SourceError:
    """Locate a YAML syntax error where the user must look: where a scalar or key began, else where parsing stopped."""
    problem = err.problem or ""
    context = err.context or ""
    if "maximum nesting depth" in problem:
        mark = err.problem_mark
        return SourceError("TF109", Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1),
                           f"values nested deeper than {MAX_DEPTH} levels", "Flatten the structure.")
    starts_earlier = context.startswith("while scanning") or "could not find expected ':'" in problem
    mark = err.context_mark if starts_earlier and err.context_mark else err.problem_mark or err.context_mark
    position = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
    message = " ".join(filter(None, [context, problem]))
    return SourceError("TF102", position, f"YAML syntax error: {message}",
                       "Check indentation, quoting and the `key: value` form around this position.")


def _unprintable(text: str) -> SourceError:
    """The YAML reader refuses a character (a control character, a lone surrogate): say which and where."""
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return SourceError("TF102", Mark(1, 1), "YAML syntax error: a character that YAML does not allow", "")
    return SourceError("TF102", _position(text, found.start()),
                       f"YAML syntax error: character U+{ord(found.group()):04X} is not allowed in a YAML file",
                       "Remove the character (control characters are often pasted by accident); in a double-quoted "
                       "string it can be written as an escape such as \\t.")


def _shown(text: str, limit: int = 24) -> str:
    """A value for a message: quoted, and shortened when long."""
    return repr(text) if len(text) <= limit else repr(text[: limit - 4]) + f"… ({len(text)} characters)"


def _out_of_range(node: yaml.ScalarNode, reason: str) -> SourceError:
    return SourceError("TF112", _mark(node), f"number {_shown(node.value)} {reason}",
                       "Whole numbers may have up to 15 digits (at most 9007199254740991, which JSON tools keep exact); "
                       "write larger quantities as decimals such as 3.2e+24 (up to 1e+100). Quote the value if it is "
                       "meant as text.")


# Numbers in their plain decimal form, which Python reads exactly as PyYAML's constructor does; everything else
# (underscores, 0x/0o/0b, leading zeros (octal in YAML 1.1), sexagesimal, .inf, .nan) goes to the constructor.
_NUMBER_TAGS = {"tag:yaml.org,2002:int": re.compile(r"[-+]?(?:0|[1-9][0-9]*)").fullmatch,
                "tag:yaml.org,2002:float": re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?").fullmatch}


def _plain_number(node: yaml.ScalarNode) -> int | float | None:
    if not _NUMBER_TAGS[node.tag](node.value):
        return None
    return int(node.value) if node.tag == "tag:yaml.org,2002:int" else float(node.value)


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Converter:
    """Turn a composed node tree into JSON-like data, recording marks and enforcing limits."""

    def __init__(self, document: SourceDocument) -> None:
        self.document = document
        self.seen: set[int] = set()
        self.active: set[int] = set()
        self.expansions = 0
        self.alias_site: JsonPath = ()
        self.constructor = yaml.constructor.SafeConstructor()
        self.marks = document.value_marks

    def _expand(self, node: yaml.Node) -> None:
        """Count one value written by an alias, refusing an alias bomb."""
        self.expansions += 1
        if self.expansions > MAX_ALIAS_EXPANSIONS:
            site = self.document.mark(self.alias_site[:-1]) if self.alias_site else _mark(node)
            raise SourceError("TF108", site, f"YAML aliases expand to more than {MAX_ALIAS_EXPANSIONS} values",
                              "Write the values out instead of nesting aliases (an 'alias bomb' is refused).")

    def convert(self, node: yaml.Node, path: JsonPath, aliased: bool = False) -> Any:
        if len(path) > MAX_DEPTH:
            raise SourceError("TF109", _mark(node), f"values nested deeper than {MAX_DEPTH} levels", "Flatten the structure.")
        if isinstance(node, yaml.ScalarNode):  # most nodes: a scalar is never an alias site nor contains one
            if aliased:
                self._expand(node)
            start = node.start_mark
            self.marks.add(path, start.line + 1, start.column + 1)
            return node.value if node.tag in _PLAIN_TAGS else self._scalar(node)
        if id(node) in self.active:
            raise SourceError("TF108", _mark(node), "a YAML alias refers to the value that contains it",
                              "Write the values out instead of a self-referring alias.")
        if not aliased and id(node) in self.seen:
            aliased, self.alias_site = True, path
        if aliased:
            self._expand(node)
        self.seen.add(id(node))
        start = node.start_mark
        self.marks.add(path, start.line + 1, start.column + 1)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != "tag:yaml.org,2002:seq":
                    raise SourceError("TF111", _mark(node), f"YAML tag {node.tag!r} is not accepted",
                                      "Sources hold plain data only: remove the tag.")
                return [self.convert(item, (*path, index), aliased) for index, item in enumerate(node.value)]
            return self._mapping(node, path, aliased)
        finally:
            self.active.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag in _PLAIN_TAGS:
            return node.value
        if node.tag not in _CONSTRUCTED_TAGS:
            raise SourceError("TF111", _mark(node), f"YAML tag {node.tag!r} is not accepted",
                              "Sources hold plain data only: remove the tag.")
        try:
            value = _plain_number(node) if node.tag in _NUMBER_TAGS else None
            if value is None:
                value = self.constructor.yaml_constructors[node.tag](self.constructor, node)
        except (ValueError, KeyError, yaml.constructor.ConstructorError):
            if node.tag == "tag:yaml.org,2002:int" and re.fullmatch(r"[-+]?[0-9_]+", node.value):
                raise _out_of_range(node, "is too large: whole numbers go up to 9007199254740991") from None
            kind = node.tag.rsplit(":", 1)[-1]
            raise SourceError("TF113", _mark(node), f"{_shown(node.value)} is not a valid {kind}",
                              f"Remove the `!!{kind}` tag, or write a value of that type.") from None
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int) and abs(value) > LARGEST_INTEGER:
            raise _out_of_range(node, "is too large: whole numbers go up to 9007199254740991")
        if isinstance(value, float) and not math.isfinite(value) and node.value.lower().lstrip("+-") in (".inf", ".nan"):
            raise _out_of_range(node, "is not a finite number")
        if isinstance(value, float) and not abs(value) <= LARGEST_DECIMAL:
            raise _out_of_range(node, "is too large: decimal numbers go up to 1e+100")
        return value

    def _mapping(self, node: yaml.MappingNode, path: JsonPath, aliased: bool) -> dict[str, Any]:
        if node.tag not in ("tag:yaml.org,2002:map",):
            raise SourceError("TF111", _mark(node), f"YAML tag {node.tag!r} is not accepted",
                              "Sources hold plain data only: remove the tag.")
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        first_seen: dict[str, Mark] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.update(self._merge_source(value_node, path, aliased))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise SourceError("TF106", _mark(key_node), "a key must be plain text, not a list or mapping",
                                  "Write keys as simple words.")
            key = key_node.value
            if key in first_seen:
                first = first_seen[key]
                raise SourceError("TF103", _mark(key_node), f"duplicate key {key!r} (first at line {first.line})",
                                  "Remove one of the two keys; YAML would silently keep only one of them.")
            key_path = (*path, key)
            first_seen[key] = mark = _mark(key_node)
            self.document.key_marks.put(key_path, mark.line, mark.col)
            result[key] = self.convert(value_node, key_path, aliased)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _merge_source(self, node: yaml.Node, path: JsonPath, aliased: bool) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            value = self.convert(source, path, aliased)
            if not isinstance(value, dict):
                raise SourceError("TF106", _mark(source), "a `<<` merge key must refer to a mapping", "")
            merged.update(value)
        return merged

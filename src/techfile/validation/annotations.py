"""Read techfile's own schema annotations: which values are references to entities, which are file paths."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from techfile.sources.yaml_source import JsonPath
from techfile.validation.schema import deref, load_schema

REF_KEYWORD = "x-techfile-ref"
PATH_KEYWORD = "x-techfile-path"
ANY = "*"

Pattern = tuple[str, ...]


@dataclass(frozen=True)
class Annotated:
    """A place in a schema that carries an annotation: a reference to a kind, or a file path."""

    pattern: Pattern
    ref_kind: str | None
    is_path: bool


@cache
def annotated_places(kind_name: str) -> tuple[Annotated, ...]:
    """Every annotated place in a kind's schema, as path patterns (`*` matches any key or index)."""
    schema = load_schema(kind_name)
    places: dict[Pattern, Annotated] = {}
    _walk(schema, schema, (), places, depth=0)
    return tuple(places[p] for p in sorted(places))


def _walk(node: Any, root: dict[str, Any], pattern: Pattern, places: dict[Pattern, Annotated], depth: int) -> None:
    if not isinstance(node, dict) or depth > 32:
        return
    if REF_KEYWORD in node or node.get(PATH_KEYWORD):
        places[pattern] = Annotated(pattern, node.get(REF_KEYWORD), bool(node.get(PATH_KEYWORD)))
    if "$ref" in node:
        _walk(deref(root, node), root, pattern, places, depth + 1)
    for key, child in node.get("properties", {}).items():
        _walk(child, root, (*pattern, key), places, depth + 1)
    for keyword in ("items", "additionalProperties"):
        if isinstance(node.get(keyword), dict):
            _walk(node[keyword], root, (*pattern, ANY), places, depth + 1)
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in node.get(keyword, []):
            _walk(branch, root, pattern, places, depth + 1)


def find_values(data: Any, pattern: Pattern, prefix: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    """The values in `data` that sit at places matching `pattern`."""
    if not pattern:
        yield prefix, data
        return
    head, rest = pattern[0], pattern[1:]
    if head == ANY:
        items = enumerate(data) if isinstance(data, list) else data.items() if isinstance(data, dict) else ()
        for key, value in items:
            yield from find_values(value, rest, (*prefix, key))
    elif isinstance(data, dict) and head in data:
        yield from find_values(data[head], rest, (*prefix, head))

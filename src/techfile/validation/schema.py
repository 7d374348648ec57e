"""Check each source document against the JSON Schema of its kind, with located, human messages."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from techfile.diagnostics import Diagnostic
from techfile.resources import schemas_dir
from techfile.sources.kinds import SourceKind
from techfile.sources.yaml_source import JsonPath, SourceDocument
from techfile.validation.compiled import Predicate, UnsupportedSchema, compile_schema

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_TYPE_NAMES = {
    "string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
    "array": "a list", "object": "a mapping of `key: value`", "null": "nothing",
}


@cache
def load_schema(kind_name: str) -> dict[str, Any]:
    """The JSON Schema shipped for a source kind."""
    return json.loads((schemas_dir() / f"{kind_name}.schema.json").read_text(encoding="utf-8"))


@cache
def _validator(kind_name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # imported only to explain a failing document: it is slow to import

    return Draft202012Validator(load_schema(kind_name), format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def _fits(kind_name: str) -> Predicate | None:
    """The kind's schema compiled to a yes/no predicate (None when it uses a keyword the compiler lacks)."""
    try:
        return compile_schema(load_schema(kind_name))
    except UnsupportedSchema:
        return None


def check_schema(kind: SourceKind, document: SourceDocument) -> list[Diagnostic]:
    """All schema violations of one document, each at the key or value it concerns (the compiled predicate clears
    a valid document; jsonschema explains an invalid one)."""
    fits = _fits(kind.name)
    if fits is not None and fits(document.data):
        return []
    errors = [_most_specific(error) for error in _validator(kind.name).iter_errors(document.data)]
    wrong_type = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    diagnostics: list[Diagnostic] = []
    for error in errors:
        if error.validator != "type" and tuple(error.absolute_path) in wrong_type:
            continue  # the value's type is wrong: its other constraints say nothing more
        diagnostics.extend(_describe(error, document, load_schema(kind.name)))
    return diagnostics


def _most_specific(error: ValidationError) -> ValidationError:
    """For `oneOf`/`anyOf` failures, the error of the branch meant for this kind of value (its `type` matches)."""
    from jsonschema.exceptions import best_match

    while error.validator in ("oneOf", "anyOf") and error.context:
        wrong_type = {e.relative_schema_path[0] for e in error.context
                      if e.validator == "type" and len(e.relative_schema_path) == 2}
        fitting = [e for e in error.context if e.relative_schema_path[0] not in wrong_type]
        error = best_match(fitting or error.context)
    return error


def _describe(error: ValidationError, document: SourceDocument, root: dict[str, Any]) -> Iterator[Diagnostic]:
    path: JsonPath = tuple(error.absolute_path)
    where = _where(path)
    keyword = error.validator
    if keyword == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(known)):
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            message = f"unknown property {key!r}{where}"
            hint = f"Did you mean {close[0]!r}?" if close else f"Known properties here: {', '.join(known)}."
            suggestion = f"; did you mean {close[0]!r}?" if close else ""
            yield document.finding("TF202", (*path, key), message + suggestion, hint, on_key=True)
        return
    if keyword == "required":
        for name in error.validator_value:
            if isinstance(error.instance, dict) and name not in error.instance:
                description = _property_description(root, error.schema, path, name)
                hint = f"Add `{name}:`. {description}".strip()
                yield document.finding("TF201", path, f"missing required property {name!r}{where}", hint, on_key=True)
        return
    description = error.schema.get("description", "")
    if keyword == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
        yield document.finding("TF203", path, f"expected {wanted}{where}, found {_kind_of(error.instance)}", description)
    elif keyword in ("enum", "const"):
        allowed = error.validator_value if keyword == "enum" else [error.validator_value]
        shown = ", ".join(json.dumps(a) for a in allowed)
        close = difflib.get_close_matches(str(error.instance), [str(a) for a in allowed], n=1, cutoff=0.6)
        suggestion = f"; did you mean {close[0]!r}?" if close else ""
        yield document.finding("TF204", path, f"{_short(error.instance)} is not allowed{where}{suggestion}", f"Allowed: {shown}.")
    elif keyword in ("pattern", "format"):
        yield document.finding("TF205", path, f"{_short(error.instance)} does not have the expected form{where}", description)
    else:
        yield document.finding("TF206", path, f"{_rule(error)}{where}", description)


def _property_description(root: dict[str, Any], schema: dict[str, Any], path: JsonPath, name: str) -> str:
    """The description of property `name`, looked up in the failing subschema, else along `path` from the root."""
    found = schema.get("properties", {}).get(name, {}).get("description")
    if found:
        return found
    node: Any = root
    for step in (*path, name):
        node = deref(root, node)
        node = node.get("items", {}) if isinstance(step, int) else node.get("properties", {}).get(step, {})
    return deref(root, node).get("description", "")


def deref(root: dict[str, Any], node: Any) -> dict[str, Any]:
    """Follow local `$ref`s (`#/...`) from `node` to the subschema they name."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target.get(part, {})
        node = target
    return node if isinstance(node, dict) else {}


def _rule(error: ValidationError) -> str:
    """A plain-language statement of a constraint that is not a type, enum or pattern."""
    value = error.validator_value
    messages = {
        "minItems": f"needs at least {value} item(s)",
        "maxItems": f"allows at most {value} item(s)",
        "minLength": f"needs at least {value} character(s)",
        "maxLength": f"allows at most {value} character(s)",
        "minimum": f"{_short(error.instance)} is below the minimum {value}",
        "maximum": f"{_short(error.instance)} is above the maximum {value}",
        "exclusiveMinimum": f"{_short(error.instance)} must be above {value}",
        "exclusiveMaximum": f"{_short(error.instance)} must be below {value}",
        "uniqueItems": "lists the same item more than once",
        "dependentRequired": f"needs {_dependents(value)}",
        "not": _exclusion(value),
    }
    return messages.get(error.validator, error.message)


def _exclusion(value: Any) -> str:
    names = value.get("required", []) if isinstance(value, dict) else []
    if len(names) >= 2:
        return " and ".join(names) + " must not both be given"
    return "combines properties that exclude each other"


def _dependents(value: Any) -> str:
    pairs = value.items() if isinstance(value, dict) else []
    return "; ".join(f"{', '.join(map(repr, needed))} alongside {key!r}" for key, needed in pairs)


def _where(path: JsonPath) -> str:
    if not path:
        return ""
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return f" in `{text}`"


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"text {_short(value)}"


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"



"""A JSON Schema compiled once into plain Python predicates: a fast yes/no for the valid documents (nearly all of
them), so that jsonschema's slower, fully explained validation runs only for a document that fails.

It covers the Draft 2020-12 keywords the shipped schemas use, with jsonschema's own semantics (types, `equal`
for enum/const/uniqueItems, `re.search` for patterns, the same format checker); a schema with any other keyword
raises `UnsupportedSchema`, and the caller then validates with jsonschema alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from techfile.validation.formats import format_test

Predicate = Callable[[Any], bool]

# Keywords that only annotate: they never make an instance invalid.
_ANNOTATIONS = {"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples", "deprecated",
                "readOnly", "writeOnly"}


_SUPPORTED = {"$ref", "properties", "additionalProperties", "items", "propertyNames", "oneOf", "anyOf", "allOf", "not",
              "if", "type", "enum", "const", "required", "dependentRequired", "minProperties", "minLength", "maxLength",
              "pattern", "format", "minItems", "maxItems", "uniqueItems", "minimum", "maximum", "exclusiveMinimum",
              "exclusiveMaximum"}


class UnsupportedSchema(Exception):
    """The schema uses a keyword this compiler does not implement."""


def compile_schema(root: dict[str, Any], formats: bool = True) -> Predicate:
    """A predicate that is true exactly when jsonschema's Draft 2020-12 validator (with its format checker when
    `formats`) finds no error in the instance."""
    return _Compiler(root, formats).compile(root)


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's equality (booleans are not numbers, 1 equals 1.0, containers compare deeply)."""
    from jsonschema._utils import equal

    return bool(equal(one, two))


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_TYPE_TESTS: dict[str, Predicate] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    "integer": _is_integer,
}


def _all_of(tests: list[Predicate]) -> Predicate:
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]
    frozen = tuple(tests)

    def test(value: Any) -> bool:  # a loop, not all() over a generator: this runs for every value of every source
        for check in frozen:
            if not check(value):
                return False
        return True
    return test


class _Compiler:
    def __init__(self, root: dict[str, Any], formats: bool) -> None:
        self.root = root
        self.formats = formats
        self.refs: dict[str, Predicate] = {}

    def compile(self, schema: Any) -> Predicate:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise UnsupportedSchema(f"not a schema: {schema!r}")
        tests: list[Predicate] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword.startswith("x-"):
                continue
            if keyword in ("then", "else"):
                continue  # compiled with `if`
            if keyword == "additionalProperties" and "properties" in schema:
                continue  # compiled with `properties`
            if keyword not in _SUPPORTED:
                raise UnsupportedSchema(f"keyword {keyword!r}")
            make = getattr(self, "_" + keyword.lstrip("$"))
            tests.append(make(value, schema))
        return _all_of(tests)

    # -- applicators --------------------------------------------------------------------------------------------

    def _ref(self, ref: Any, _: dict[str, Any]) -> Predicate:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise UnsupportedSchema(f"$ref {ref!r}")
        if ref not in self.refs:
            target: Any = self.root
            for part in ref[1:].split("/")[1:]:
                target = target[part.replace("~1", "/").replace("~0", "~")]
            slot: list[Predicate] = []
            self.refs[ref] = lambda value: slot[0](value)  # a recursive schema reaches itself through the slot
            slot.append(self.compile(target))
            self.refs[ref] = slot[0]  # later references call the compiled target directly
        return self.refs[ref]

    def _properties(self, properties: dict[str, Any], schema: dict[str, Any]) -> Predicate:
        compiled = tuple((name, self.compile(sub)) for name, sub in properties.items())
        known = frozenset(properties)
        additional = schema.get("additionalProperties", True)
        extra: Predicate | None = None if additional is True else self.compile(additional)

        def test(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for name, check in compiled:
                if name in value and not check(value[name]):
                    return False
            if extra is not None:
                for key in value:
                    if key not in known and not extra(value[key]):
                        return False
            return True
        return test

    def _additionalProperties(self, additional: Any, _: dict[str, Any]) -> Predicate:
        check = self.compile(additional)
        return lambda value: not isinstance(value, dict) or all(check(item) for item in value.values())

    def _items(self, items: Any, _: dict[str, Any]) -> Predicate:
        check = self.compile(items)

        def test(value: Any) -> bool:
            if isinstance(value, list):
                for item in value:
                    if not check(item):
                        return False
            return True
        return test

    def _propertyNames(self, names: Any, _: dict[str, Any]) -> Predicate:
        check = self.compile(names)
        return lambda value: not isinstance(value, dict) or all(check(key) for key in value)

    def _oneOf(self, branches: list[Any], _: dict[str, Any]) -> Predicate:
        compiled = tuple(self.compile(b) for b in branches)
        return lambda value: sum(1 for check in compiled if check(value)) == 1

    def _anyOf(self, branches: list[Any], _: dict[str, Any]) -> Predicate:
        compiled = tuple(self.compile(b) for b in branches)
        return lambda value: any(check(value) for check in compiled)

    def _allOf(self, branches: list[Any], _: dict[str, Any]) -> Predicate:
        return _all_of([self.compile(b) for b in branches])

    def _not(self, negated: Any, _: dict[str, Any]) -> Predicate:
        check = self.compile(negated)
        return lambda value: not check(value)

    def _if(self, condition: Any, schema: dict[str, Any]) -> Predicate:
        test = self.compile(condition)
        then = self.compile(schema.get("then", True))
        otherwise = self.compile(schema.get("else", True))
        return lambda value: then(value) if test(value) else otherwise(value)

    # -- assertions ---------------------------------------------------------------------------------------------

    def _type(self, wanted: Any, _: dict[str, Any]) -> Predicate:
        names = wanted if isinstance(wanted, list) else [wanted]
        try:
            tests = tuple(_TYPE_TESTS[name] for name in names)
        except KeyError as unknown:
            raise UnsupportedSchema(f"type {unknown}") from None
        if len(tests) == 1:
            return tests[0]
        return lambda value: any(test(value) for test in tests)

    def _enum(self, allowed: list[Any], _: dict[str, Any]) -> Predicate:
        if all(isinstance(a, str) for a in allowed):
            strings = frozenset(allowed)
            return lambda value: isinstance(value, str) and value in strings
        return lambda value: any(_equal(value, a) for a in allowed)

    def _const(self, constant: Any, _: dict[str, Any]) -> Predicate:
        if isinstance(constant, str):
            return lambda value: isinstance(value, str) and value == constant
        return lambda value: _equal(value, constant)

    def _required(self, names: list[str], _: dict[str, Any]) -> Predicate:
        needed = frozenset(names)
        return lambda value: not isinstance(value, dict) or needed <= value.keys()

    def _dependentRequired(self, dependencies: dict[str, list[str]], _: dict[str, Any]) -> Predicate:
        pairs = tuple((key, tuple(needed)) for key, needed in dependencies.items())
        return lambda value: not isinstance(value, dict) or all(
            all(name in value for name in needed) for key, needed in pairs if key in value)

    def _minProperties(self, least: int, _: dict[str, Any]) -> Predicate:
        return lambda value: not isinstance(value, dict) or len(value) >= least

    def _minLength(self, least: int, _: dict[str, Any]) -> Predicate:
        return lambda value: not isinstance(value, str) or len(value) >= least

    def _maxLength(self, most: int, _: dict[str, Any]) -> Predicate:
        return lambda value: not isinstance(value, str) or len(value) <= most

    def _pattern(self, pattern: str, _: dict[str, Any]) -> Predicate:
        search = re.compile(pattern).search
        return lambda value: not isinstance(value, str) or search(value) is not None

    def _format(self, name: str, _: dict[str, Any]) -> Predicate:
        test = format_test(name) if self.formats else None
        return test or _always

    def _minItems(self, least: int, _: dict[str, Any]) -> Predicate:
        return lambda value: not isinstance(value, list) or len(value) >= least

    def _maxItems(self, most: int, _: dict[str, Any]) -> Predicate:
        return lambda value: not isinstance(value, list) or len(value) <= most

    def _uniqueItems(self, unique: bool, _: dict[str, Any]) -> Predicate:
        if not unique:
            return _always

        def test(value: Any) -> bool:
            if not isinstance(value, list):
                return True
            if all(isinstance(item, str) for item in value):
                return len(set(value)) == len(value)
            from jsonschema._utils import uniq

            return bool(uniq(value))
        return test

    def _minimum(self, bound: float, _: dict[str, Any]) -> Predicate:
        return lambda value: not _is_number(value) or value >= bound

    def _maximum(self, bound: float, _: dict[str, Any]) -> Predicate:
        return lambda value: not _is_number(value) or value <= bound

    def _exclusiveMinimum(self, bound: float, _: dict[str, Any]) -> Predicate:
        return lambda value: not _is_number(value) or value > bound

    def _exclusiveMaximum(self, bound: float, _: dict[str, Any]) -> Predicate:
        return lambda value: not _is_number(value) or value < bound

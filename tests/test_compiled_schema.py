"""validation/compiled.py: the compiled predicate agrees with jsonschema's Draft 2020-12 validator on every source of
the sample and on random mutations of them (hypothesis), and `check` reports the same located findings as before."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from techfile.sources.discovery import discover_sources
from techfile.sources.kinds import SOURCE_KINDS
from techfile.sources.yaml_source import load_yaml_source
from techfile.validation.compiled import UnsupportedSchema, compile_schema
from techfile.validation.schema import _fits, load_schema

from conftest import SAMPLE

SETTINGS = settings(max_examples=1500, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@cache
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(kind), format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def _sources() -> tuple[tuple[str, Any], ...]:
    found, _ = discover_sources(SAMPLE)
    loaded = []
    for source in found:
        document, _ = load_yaml_source(source.path, source.relpath)
        loaded.append((source.kind.name, document.data))
    return tuple(loaded)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _agree(kind: str, data: Any) -> None:
    fits = _fits(kind)
    assert fits is not None
    assert fits(data) == _validator(kind).is_valid(data), (kind, data)


def test_every_shipped_schema_compiles() -> None:
    assert all(_fits(kind.name) is not None for kind in SOURCE_KINDS)


def test_agrees_on_the_sample() -> None:
    for kind, data in _sources():
        _agree(kind, data)


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 1.0, 2.5, -1, 100, 1e30, "", " ", "x", "2026-02-30", "2026-09-30", "2026-09-30T10:00:00Z",
                     "not a date", "https://example.org", "ctl-oversight-ui", "a" * 300, "Ünïcode", "1", "true",
                     "high", "medium", "mitigate", "provider", "training", "A.5.2", "GOVERN 1.1"]),
    st.text(max_size=12))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["id", "name", "file", "x", "title"]), inner, max_size=3)),
    max_leaves=6)


@SETTINGS
@given(st.data())
def test_agrees_on_mutations(data: st.DataObject) -> None:
    kind, original = data.draw(st.sampled_from(_sources()))
    mutated = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(mutated)
        path = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if not path:
            continue
        parent: Any = mutated
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if action == "replace":
            parent[last] = data.draw(_VALUES)
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["unknown", "id", "notes", "x-extra"]))] = data.draw(_VALUES)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
    _agree(kind, mutated)


@pytest.mark.parametrize(("schema", "instance", "valid"), [
    ({"type": "integer"}, 1.0, True),
    ({"type": "integer"}, True, False),
    ({"type": "number"}, False, False),
    ({"enum": [1, 2]}, True, False),
    ({"uniqueItems": True}, [1, True], True),
    ({"uniqueItems": True}, [{"a": 1}, {"a": 1.0}], False),
    ({"const": 0}, False, False),
    ({"pattern": "b"}, "abc", True),
    ({"minLength": 2}, "é" * 2, True),
    ({"$defs": {"n": {"type": "object", "properties": {"next": {"$ref": "#/$defs/n"}}}}, "$ref": "#/$defs/n"},
     {"next": {"next": {"next": 3}}}, False),
])
def test_edge_cases_match_jsonschema(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    compiled = compile_schema(schema)
    assert compiled(instance) is valid
    assert Draft202012Validator(schema).is_valid(instance) is valid


def test_refuses_keywords_it_does_not_know() -> None:
    with pytest.raises(UnsupportedSchema):
        compile_schema({"patternProperties": {"^x": {"type": "string"}}})


def test_invalid_document_keeps_its_located_findings(tmp_path: Path) -> None:
    import shutil

    from techfile.loading import load_project

    project = tmp_path / "p"
    shutil.copytree(SAMPLE, project)
    risk = project / "risks" / "risk-automation-bias.yaml"
    text = risk.read_text(encoding="utf-8").replace("likelihood: possible", "likelihood: sometimes")
    risk.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if row.startswith("likelihood:"))
    found = [d for d in load_project(project).errors if d.code == "TF204"]
    assert [(d.path, d.line, d.col) for d in found] == [("risks/risk-automation-bias.yaml", line, 13)]


@pytest.mark.parametrize("name", ["date", "date-time", "uri"])
@pytest.mark.parametrize("value", ["2026-09-30", "2026-02-30", "2026-9-30", "２０２６-09-30", "2026-09-30T10:00:00Z",
                                   "2026-09-30t10:00:00z", "2026-09-30T25:00:00Z", "2026-09-30T10:00:00+01:00",
                                   "https://example.org/a?b=c", "https://exa mple.org", "example.org", "urn:x:y", "", 5])
def test_formats_match_jsonschema(name: str, value: object) -> None:
    schema = {"format": name}
    expected = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).is_valid(value)
    assert compile_schema(schema)(value) is expected

"""The shipped JSON Schemas are valid Draft 2020-12, documented for editors, and accept the sample."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from techfile.sources.discovery import discover_sources
from techfile.sources.kinds import SOURCE_KINDS

from conftest import REPO, SAMPLE, SCHEMAS, run_cli

SCHEMA_FILES = sorted(SCHEMAS.glob("*.schema.json"))
# the schemas of the JSON exports describe no source kind
EXPORT_SCHEMAS = {"export.schema.json", "eu-database-export.schema.json"}
SOURCE_SCHEMA_FILES = [p for p in SCHEMA_FILES if p.name not in EXPORT_SCHEMAS]


def objects(schema: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object-typed subschema, with a readable location."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            yield where, schema
        for key, value in schema.items():
            yield from objects(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from objects(value, f"{where}/{index}")


def test_one_schema_per_source_kind() -> None:
    assert {p.name for p in SOURCE_SCHEMA_FILES} == {k.schema_file for k in SOURCE_KINDS}


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"] and schema["description"]


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_object_is_closed_and_every_property_described(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    for where, node in objects(schema):
        if "properties" not in node:
            continue
        assert node.get("additionalProperties") is False, f"{where} allows unknown properties"
        for name, prop in node["properties"].items():
            assert prop.get("description", "").strip(), f"{where}/properties/{name} has no description"


def test_metaschema_check_with_independent_tool() -> None:
    tool = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(tool), "--check-metaschema", *map(str, SCHEMA_FILES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sample_validates_with_independent_validator() -> None:
    """The sample and the templates validate, and together they have a file of every source kind (a FRIA and a
    registration record belong to an Annex III system, which the sample is not: the credit template has them)."""
    tool = Path(sys.executable).parent / "check-jsonschema"
    by_kind: dict[str, list[str]] = {}
    for project in (SAMPLE, *sorted((REPO / "project_templates").iterdir())):
        found, missing = discover_sources(project)
        assert not missing, project
        for source in found:
            by_kind.setdefault(source.kind.schema_file, []).append(str(source.path))
    assert len(by_kind) == len(SOURCE_KINDS)
    for schema_file, files in sorted(by_kind.items()):
        result = subprocess.run([str(tool), "--schemafile", str(SCHEMAS / schema_file), *files],
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{schema_file}:\n{result.stdout}{result.stderr}"


def test_sample_files_carry_a_modeline_to_their_schema() -> None:
    found, _ = discover_sources(SAMPLE)
    for source in found:
        first = source.path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), source.relpath
        target = (source.path.parent / first.split("=", 1)[1].strip()).resolve()
        assert target == (SCHEMAS / source.kind.schema_file).resolve(), source.relpath


def test_schema_command_writes_all_schemas(tmp_path: Path) -> None:
    result = run_cli("schema", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(p.name for p in SOURCE_SCHEMA_FILES)
    for name in written:
        assert (tmp_path / "out" / name).read_bytes() == (SCHEMAS / name).read_bytes()


def test_dataclasses_agree_with_the_schemas_on_required_fields() -> None:
    """A field the schema leaves optional must have a default in the typed project (and the other way round)."""
    import dataclasses
    import typing

    from techfile.resolve import ENTITY_TYPES

    def walk(cls: type, schema: dict[str, Any], root: dict[str, Any], where: str) -> None:
        from techfile.validation.schema import deref

        schema = deref(root, schema)
        required = set(schema.get("required", []))
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            if field.name in ("location", "field_locations"):
                continue
            key = field.name.rstrip("_")
            has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
            assert key in schema.get("properties", {}), f"{where}.{key} is not in the schema"
            assert has_default != (key in required), f"{where}.{key}: required={key in required}, default={has_default}"
            prop = deref(root, schema["properties"][key])
            inner = hints[field.name]
            for arg in [inner, *typing.get_args(inner), *(a for t in typing.get_args(inner) for a in typing.get_args(t))]:
                if dataclasses.is_dataclass(arg) and arg.__name__ != "Prose":
                    target = prop.get("items", prop) if prop.get("type") == "array" else prop
                    walk(arg, target, root, f"{where}.{key}")

    for kind, cls in ENTITY_TYPES.items():
        schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))
        walk(cls, schema, schema, kind)

"""Build the typed project from validated source documents."""

from __future__ import annotations

import dataclasses
import keyword
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any, Union

from techfile import project as model
from techfile.diagnostics import Diagnostic
from techfile.sources.yaml_source import (
    JsonPath,
    SourceDocument,
    SourceError,
    read_text,
)
from techfile.validation.files import resolve_inside

ENTITY_TYPES: dict[str, type] = {
    "project": model.ProjectSettings,
    "system": model.System,
    "pipeline_stage": model.PipelineStage,
    "dataset": model.Dataset,
    "model": model.Model,
    "risk": model.Risk,
    "control": model.Control,
    "procedure": model.Procedure,
    "evidence": model.Evidence,
    "logbook_entry": model.LogbookEntry,
    "soa": model.StatementOfApplicability,
    "gspr": model.GsprChecklist,
    "change": model.Change,
    "framework": model.CustomFramework,
    "lineage": model.LineageGraph,
    "fria": model.Fria,
    "monitoring": model.MonitoringPlan,
    "monitoring_review": model.MonitoringReview,
    "incident": model.Incident,
    "registration": model.Registration,
    "gpai_model": model.GpaiModelFacts,
}


def resolve_project(root: Path, documents: list[tuple[str, SourceDocument]]) -> tuple[model.Project, list[Diagnostic]]:
    """Turn each valid document into its typed entity and gather them into one Project."""
    diagnostics: list[Diagnostic] = []
    built: dict[str, list[Any]] = {kind: [] for kind in ENTITY_TYPES}
    for kind, document in documents:
        builder = _Builder(root, document, diagnostics)
        built[kind].append(builder.build(ENTITY_TYPES[kind], document.data, ()))
    project = model.Project(
        root=root,
        settings=_single(built["project"]),
        system=_single(built["system"]),
        pipeline_stages=sorted(built["pipeline_stage"], key=lambda s: (s.order, s.id)),
        datasets=built["dataset"],
        models=built["model"],
        risks=built["risk"],
        controls=built["control"],
        procedures=built["procedure"],
        evidence=built["evidence"],
        logbook=sorted(built["logbook_entry"], key=lambda e: (e.sequence, e.id)),
        soa=_single(built["soa"]),
        changes=sorted(built["change"], key=lambda c: (c.date, c.id)),
        frameworks=sorted(built["framework"], key=lambda f: f.framework.id),
        lineage=sorted(built["lineage"], key=lambda g: g.id),
        gspr=_single(built["gspr"]),
        fria=_single(built["fria"]),
        monitoring=_single(built["monitoring"]),
        monitoring_reviews=sorted(built["monitoring_review"], key=lambda r: (r.date, r.id)),
        incidents=sorted(built["incident"], key=lambda i: (i.aware_on, i.id)),
        registration=_single(built["registration"]),
        gpai_model=_single(built["gpai_model"]),
    )
    return project, diagnostics


def _single(values: list[Any]) -> Any:
    return values[0] if values else None


@cache
def _shape(hint: Any) -> tuple[str, Any]:
    """How `build` converts a value for type `hint` (worked out once per type): its shape and the inner type."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return "optional", options[0] if len(options) == 1 else None
    if origin is list:
        return "list", typing.get_args(hint)[0]
    if origin is dict:
        return "dict", typing.get_args(hint)[1]
    if hint is model.Prose:
        return "prose", None
    if hint is model.Location:
        return "location", None
    if dataclasses.is_dataclass(hint):
        return "record", None
    if hint is float:
        return "float", None
    return "plain", None


@cache
def _fields(cls: type) -> tuple[tuple[str, str, Any, bool], ...]:
    """(attribute name, source key, type, whether the value is taken as it is) for each field of a dataclass."""
    hints = typing.get_type_hints(cls)
    result = []
    for item in dataclasses.fields(cls):
        key = item.name[:-1] if item.name.endswith("_") and keyword.iskeyword(item.name[:-1]) else item.name
        hint = hints[item.name]
        result.append((item.name, key, hint, _shape(hint)[0] == "plain"))
    return tuple(result)


class _Builder:
    """Convert schema-valid plain data into dataclasses, reading prose files as it goes."""

    def __init__(self, root: Path, document: SourceDocument, diagnostics: list[Diagnostic]) -> None:
        self.root, self.document, self.diagnostics = root, document, diagnostics

    def build(self, hint: Any, value: Any, path: JsonPath) -> Any:
        shape, argument = _shape(hint)
        if shape == "plain":
            return value
        if shape == "optional":
            if value is None:
                return None
            return self.build(argument, value, path) if argument is not None else value
        if shape == "list":
            if _shape(argument)[0] == "plain":
                return list(value)
            return [self.build(argument, v, (*path, i)) for i, v in enumerate(value)]
        if shape == "dict":
            return {k: self.build(argument, v, (*path, k)) for k, v in value.items()}
        if shape == "prose":
            return self.prose(value, path)
        if shape == "location":
            mark = self.document.mark(path)
            return model.Location(self.document.relpath, mark.line, mark.col)
        if shape == "record":
            return self.record(hint, value, path)
        if isinstance(value, int) and not isinstance(value, bool):  # a float field
            return float(value)
        return value

    def record(self, cls: type, value: dict[str, Any], path: JsonPath) -> Any:
        arguments = {}
        for name, key, hint, plain in _fields(cls):
            if plain:
                if key in value:
                    arguments[name] = value[key]
            elif name == "location":
                arguments[name] = self.build(model.Location, None, path)
            elif name == "field_locations":
                arguments[name] = {k: self._key_location((*path, k)) for k in value}
            elif key in value:
                arguments[name] = self.build(hint, value[key], (*path, key))
        return cls(**arguments)

    def _key_location(self, path: JsonPath) -> model.Location:
        mark = self.document.key_mark(path)
        return model.Location(self.document.relpath, mark.line, mark.col)

    def prose(self, value: str | dict[str, str], path: JsonPath) -> model.Prose:
        if isinstance(value, str):
            return model.Prose(value)
        reference = value["file"]
        resolved, _, _ = resolve_inside(self.root, reference)
        if resolved is None:  # already reported by the file checks
            return model.Prose("", reference)
        try:
            return model.Prose(read_text(resolved), reference)
        except SourceError as err:
            self.diagnostics.append(err.diagnostic(reference))
            return model.Prose("", reference)

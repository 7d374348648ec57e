"""Ids are unique across the project, and every reference names an existing entity of the right kind."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from techfile.diagnostics import Diagnostic
from techfile.sources.kinds import KINDS_BY_NAME
from techfile.sources.yaml_source import SourceDocument
from techfile.validation.annotations import ANY, annotated_places, find_values


@dataclass(frozen=True)
class EntityRecord:
    """Where an entity with an id is defined."""

    id: str
    kind: str
    document: SourceDocument


def index_entities(documents: list[tuple[str, SourceDocument]]) -> tuple[dict[str, EntityRecord], list[Diagnostic]]:
    """Map each id to its entity, reporting ids defined twice."""
    index: dict[str, EntityRecord] = {}
    diagnostics: list[Diagnostic] = []
    for kind, document in documents:
        entity_id = document.data.get("id")
        if kind == "project" or not isinstance(entity_id, str):
            continue
        if entity_id in index:
            first = index[entity_id].document
            line = first.mark(("id",)).line
            diagnostics.append(document.finding(
                "TF301", ("id",), f"duplicate id {entity_id!r}, already used by {first.relpath}:{line}",
                "Ids are unique across the whole project: give this entity another id.",
            ))
            continue
        index[entity_id] = EntityRecord(entity_id, kind, document)
    return index, diagnostics


def check_references(kind: str, document: SourceDocument, index: dict[str, EntityRecord],
                     unreadable: dict[str, str] | None = None) -> list[Diagnostic]:
    """Every annotated reference in `document` names an entity of the kind its schema asks for.

    `unreadable` maps the file stems of sources that failed to load to their kind: a reference to one of
    them is not reported again, since the file's own error already explains it.
    """
    unreadable = unreadable or {}
    diagnostics: list[Diagnostic] = []
    for place in annotated_places(kind):
        if place.ref_kind is None:
            continue
        for path, value in find_values(document.data, place.pattern):
            if not isinstance(value, str) or (value in unreadable and value not in index
                                              and place.ref_kind in (unreadable[value], ANY)):
                continue
            problem = _reference_problem(value, place.ref_kind, index)
            if problem:
                message, hint = problem
                diagnostics.append(document.finding("TF302", path, message, hint))
    diagnostics.extend(_check_metric_references(kind, document))
    diagnostics.extend(_check_indicator_references(kind, document, index))
    return diagnostics


def _reference_problem(value: str, wanted: str, index: dict[str, EntityRecord]) -> tuple[str, str] | None:
    record = index.get(value)
    label = "entity" if wanted == ANY else KINDS_BY_NAME[wanted].label
    if record is not None:
        if wanted in (ANY, record.kind):
            return None
        found = KINDS_BY_NAME[record.kind].label
        return (f"{value!r} is {_a(found)} ({record.document.relpath}), not {_a(label)}",
                f"Refer to {_a(label)} here.{_suggest(value, wanted, index)}")
    return f"unknown {label} {value!r}", f"No {label} has this id.{_suggest(value, wanted, index)}"


def _a(label: str) -> str:
    return f"{'an' if label[0].lower() in 'aeiou' else 'a'} {label}"


def _suggest(value: str, wanted: str, index: dict[str, EntityRecord]) -> str:
    candidates = sorted(i for i, r in index.items() if wanted in (ANY, r.kind))
    close = difflib.get_close_matches(value, candidates, n=3, cutoff=0.5)
    if close:
        return " Did you mean " + " or ".join(repr(c) for c in close) + "?"
    if candidates and len(candidates) <= 8:
        return " Known: " + ", ".join(candidates) + "."
    return ""


def _check_metric_references(kind: str, document: SourceDocument) -> list[Diagnostic]:
    """A model's results name metrics that the model declares."""
    if kind != "model":
        return []
    metrics = document.data.get("metrics")
    results = document.data.get("results")
    if not isinstance(metrics, list) or not isinstance(results, list):
        return []
    declared = sorted(m["id"] for m in metrics if isinstance(m, dict) and isinstance(m.get("id"), str))
    diagnostics = []
    for index, result in enumerate(results):
        name = result.get("metric") if isinstance(result, dict) else None
        if isinstance(name, str) and name not in declared:
            close = difflib.get_close_matches(name, declared, n=1, cutoff=0.5)
            hint = f"Did you mean {close[0]!r}?" if close else f"Declared metrics: {', '.join(declared)}."
            diagnostics.append(document.finding("TF302", ("results", index, "metric"), f"result names metric {name!r}, which this model does not declare in `metrics`", hint))
    return diagnostics


def _check_indicator_references(kind: str, document: SourceDocument, index: dict[str, EntityRecord]) -> list[Diagnostic]:
    """A monitoring indicator follows a metric its model declares; a review's figures name indicators of the plan."""
    diagnostics = []
    if kind == "monitoring":
        for number, indicator in enumerate(_dicts(document.data.get("indicators"))):
            record = index.get(indicator.get("model")) if isinstance(indicator.get("model"), str) else None
            metric = indicator.get("metric")
            if record is None or record.kind != "model" or not isinstance(metric, str):
                continue
            declared = sorted(m["id"] for m in _dicts(record.document.data.get("metrics")) if isinstance(m.get("id"), str))
            if metric not in declared:
                diagnostics.append(document.finding(
                    "TF302", ("indicators", number, "metric"),
                    f"indicator names metric {metric!r}, which model {record.id!r} does not declare in `metrics`",
                    _closest(metric, declared, "Declared metrics")))
    elif kind == "monitoring_review":
        plans = [r for r in index.values() if r.kind == "monitoring"]
        if not plans:
            return []
        known = sorted(i["id"] for i in _dicts(plans[0].document.data.get("indicators")) if isinstance(i.get("id"), str))
        for number, figure in enumerate(_dicts(document.data.get("figures"))):
            name = figure.get("indicator")
            if isinstance(name, str) and name not in known:
                diagnostics.append(document.finding(
                    "TF302", ("figures", number, "indicator"),
                    f"figure names indicator {name!r}, which {plans[0].document.relpath} does not define",
                    _closest(name, known, "Indicators of the plan")))
    return diagnostics


def _dicts(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _closest(value: str, known: list[str], label: str) -> str:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
    return f"Did you mean {close[0]!r}?" if close else f"{label}: {', '.join(known) or 'none'}."

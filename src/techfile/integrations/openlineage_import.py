"""OpenLineage import: run events (JSON Lines) → one lineage graph source, lineage/<id>.yaml.

Every line is read into openlineage-python's RunEvent model (`openlineage.client.event_v2`, with the schema and
columnLineage dataset facets typed), so a line the client would not accept is an error at its line number and the
import writes nothing. Datasets of the events map to techfile datasets through `lineage_names` or by a name equal to
a dataset id; the others stay in the graph and are reported as unmapped. openlineage-python is imported only inside
the functions that need it (`pip install 'techfile[openlineage]'`).
"""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, Union

from techfile.assess.lineage import dataset_for
from techfile.integrations import MissingExtra
from techfile.project import Dataset, LineageName
from techfile.sources.writer import InlineMapping, source_yaml

__all__ = ["LineageError", "LineageImport", "MissingExtra", "import_openlineage", "read_run_events"]

MODELINE = "# yaml-language-server: $schema=../schemas/lineage.schema.json"
FOLDER = "lineage"
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class LineageError(ValueError):
    """The events cannot be imported: `problems` holds one message per problem, bad lines as `file:line: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class LineageImport:
    """The lineage source written, with the datasets that mapped to techfile datasets and those that did not."""

    lineage_id: str
    path: Path
    source: dict[str, Any]
    events: int
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunEventLine:
    """One line of the events file, read into openlineage-python's RunEvent."""

    line: int
    event: Any
    time: datetime
    producer: str | None  # as the line gives it: the model would fill in its own client's when absent


def import_openlineage(project_dir: str | Path, events_path: str | Path, lineage_id: str | None = None,
                       title: str | None = None) -> LineageImport:
    """Read the RunEvents of `events_path` (JSON Lines) and write them as lineage/<id>.yaml of the project; never overwrites."""
    from techfile.loading import load_project

    root, events_file = Path(project_dir), Path(events_path)
    events = read_run_events(events_file)
    loaded = load_project(root)
    if any(d.code == "TF001" for d in loaded.diagnostics):
        raise LineageError([f"{root.as_posix()}: not a techfile project (no techfile.yaml)"])
    graph_id = lineage_id or _default_id(events_file)
    if not _ID.match(graph_id) or len(graph_id) > 64:
        raise LineageError([f"{graph_id!r} is not a techfile id: lowercase letters, digits, '.', '_' and '-', at most 64 characters"])
    target = root / FOLDER / f"{graph_id}.yaml"
    if target.exists():
        raise FileExistsError(f"{target.as_posix()} exists; not overwritten (choose another lineage id)")
    if loaded.project.entity(graph_id) is not None:
        raise LineageError([f"the id {graph_id!r} is already used in the project; choose another lineage id"])

    source, mapped, unmapped = _lineage_source(graph_id, title or f"Lineage from {events_file.name}", events_file.name,
                                               events, loaded.project.datasets)
    _check_source(source, events_file.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8") as out:
        out.write(to_yaml(source))
    return LineageImport(graph_id, target, source, len(events), mapped, unmapped)


def read_run_events(path: Path) -> list[RunEventLine]:
    """The RunEvents of a JSON Lines file (blank lines skipped), in time order; every bad line is reported, none dropped."""
    run_event, facets = _openlineage_models()
    try:
        lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines(): JSON strings may hold U+2028
    except UnicodeDecodeError as error:
        raise LineageError([f"{path.name}: not UTF-8 text ({error.reason} at byte {error.start})"]) from error
    events: list[RunEventLine] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{path.name}:{number}: not JSON: {error.msg} (column {error.colno})")
            continue
        try:
            event = _structure(run_event, data, "", facets)
            events.append(RunEventLine(number, event, _event_time(event.eventTime), data.get("producer") or None))
        except _Invalid as error:
            problems.append(f"{path.name}:{number}: not an OpenLineage RunEvent: {error}")
    if problems:
        raise LineageError(problems)
    if not events:
        raise LineageError([f"{path.name}: no run events"])
    return sorted(events, key=lambda e: (e.time, e.line))


def to_yaml(source: dict[str, Any]) -> str:
    """A lineage source as YAML for lineage/<id>.yaml: schema modeline first, key order kept, block style except for
    the one-line mappings (dataset and job references, run events)."""
    return source_yaml(source, MODELINE, width=130)


# --- reading events with openlineage-python's models -------------------------------------------


class _Invalid(ValueError):
    """A value of an event that the OpenLineage model does not accept; the message starts with where it is."""


def _openlineage_models() -> tuple[type, dict[type, dict[str, type]]]:
    """RunEvent, and per facet base class the facets read into their models; the others are not needed and skipped."""
    try:
        from openlineage.client import facet_v2
        from openlineage.client.event_v2 import RunEvent
    except ImportError as error:
        raise MissingExtra("openlineage") from error
    dataset_facets = {"schema": facet_v2.schema_dataset.SchemaDatasetFacet,
                      "columnLineage": facet_v2.column_lineage_dataset.ColumnLineageDatasetFacet}
    return RunEvent, {facet_v2.DatasetFacet: dataset_facets, facet_v2.InputDatasetFacet: {},
                      facet_v2.OutputDatasetFacet: {}, facet_v2.RunFacet: {}, facet_v2.JobFacet: {}}


def _structure(cls: type, data: Any, where: str, facets: dict[type, dict[str, type]]) -> Any:
    """An instance of the attrs model `cls` from JSON data, checking each value's type and the model's validators."""
    import attr

    if not isinstance(data, dict):
        raise _Invalid(f"{where or 'the line'}: expected a JSON object, got {_json_type(data)}")
    hints = _type_hints(cls)
    arguments = {}
    for attribute in attr.fields(cls):
        if not attribute.init:
            continue
        at = f"{where}.{attribute.name}" if where else attribute.name
        if data.get(attribute.name) is None:
            if attribute.default is attr.NOTHING:
                raise _Invalid(f"{at}: missing")
            continue
        value = _value(hints[attribute.name], data[attribute.name], at, facets)
        if attribute.validator is not None:
            try:
                attribute.validator(None, attribute, value)
            except (ValueError, TypeError, OverflowError) as error:
                raise _Invalid(f"{at}: {value!r} is not valid ({error})") from error
        arguments[attribute.alias] = value
    try:
        return cls(**arguments)
    except (ValueError, TypeError) as error:
        raise _Invalid(f"{where or 'event'}: {error}") from error


@cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _value(hint: Any, value: Any, at: str, facets: dict[type, dict[str, type]]) -> Any:
    import attr

    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value is None else _value(options[0], value, at, facets)
    if origin is list:
        (item,) = typing.get_args(hint)
        _expect(isinstance(value, list), at, "a list", value)
        return [_value(item, v, f"{at}[{i}]", facets) for i, v in enumerate(value)]
    if origin is dict:
        _, item = typing.get_args(hint)
        _expect(isinstance(value, dict), at, "an object", value)
        if item in facets:
            known = facets[item]
            return {k: _structure(known[k], v, f"{at}.{k}", facets) for k, v in value.items() if k in known}
        return {k: _value(item, v, f"{at}.{k}", facets) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError:
            raise _Invalid(f"{at}: {value!r} is not one of {', '.join(str(m.value) for m in hint)}") from None
    if isinstance(hint, type) and attr.has(hint):
        return _structure(hint, value, at, facets)
    if hint is str:
        _expect(isinstance(value, str), at, "a string", value)
    elif hint is bool:
        _expect(isinstance(value, bool), at, "true or false", value)
    elif hint is int:
        _expect(isinstance(value, int) and not isinstance(value, bool), at, "a whole number", value)
    elif hint is float:
        _expect(isinstance(value, int | float) and not isinstance(value, bool), at, "a number", value)
    return value


def _expect(ok: bool, at: str, expected: str, value: Any) -> None:
    if not ok:
        raise _Invalid(f"{at}: expected {expected}, got {_json_type(value)}")


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _event_time(text: str) -> datetime:
    """The event time in UTC (a time without offset is taken as UTC), parsed as openlineage-python validates it."""
    from dateutil import parser

    moment = parser.isoparse(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- the graph ----------------------------------------------------------------------------------


@dataclass
class _Node:
    first_line: int
    fields: list[dict[str, str]] | None = None


def _lineage_source(graph_id: str, title: str, file_name: str, events: list[RunEventLine],
                    datasets: list[Dataset]) -> tuple[dict[str, Any], list[str], list[str]]:
    """The lineage source for the events (in time order), with the mapped and unmapped datasets described."""
    nodes: dict[LineageName, _Node] = {}
    runs: dict[LineageName, dict[str, list[dict[str, str]]]] = {}
    edges: set[tuple[LineageName, LineageName | None, LineageName | None]] = set()
    columns: dict[LineageName, list[dict[str, Any]]] = {}
    for item in events:
        event = item.event
        job = LineageName(event.job.namespace, event.job.name)
        run_events = runs.setdefault(job, {}).setdefault(event.run.runId, [])
        run_events.append(InlineMapping(type=event.eventType.value, time=event.eventTime) if event.eventType else
                          InlineMapping(time=event.eventTime))
        inputs = [_node(nodes, d, item.line, columns) for d in event.inputs or []]
        outputs = [_node(nodes, d, item.line, columns) for d in event.outputs or []]
        edges.update((job, i, o) for i in inputs or [None] for o in outputs or [None] if i or o)
    for entries in columns.values():
        for entry in entries:
            for source in entry["inputs"]:
                node = nodes.setdefault(LineageName(source["namespace"], source["name"]), _Node(entry["line"]))
                node.first_line = min(node.first_line, entry["line"])

    mapped, unmapped, dataset_nodes = [], [], []
    for name in sorted(nodes, key=_order):
        node: dict[str, Any] = {"namespace": name.namespace, "name": name.name}
        dataset = dataset_for(name, datasets)
        if dataset is not None:
            node["dataset"] = dataset.id
            how = "lineage_names" if name in dataset.lineage_names else "name equal to its id"
            mapped.append(f"{name.name} ({name.namespace}) → dataset {dataset.id} (by {how})")
        else:
            unmapped.append(f"{name.name} ({name.namespace}), first named on {file_name}:{nodes[name].first_line}: no techfile "
                            f"dataset lists it in `lineage_names` or has the id {name.name!r}; kept in the graph as an "
                            "unmapped dataset")
        if nodes[name].fields:
            node["fields"] = nodes[name].fields
        dataset_nodes.append(node)

    latest = max(e.time for e in events)
    source: dict[str, Any] = {
        "id": graph_id,
        "title": title,
        "imported_from": file_name,
        "imported_on": latest.date().isoformat(),
        "producers": sorted({e.producer for e in events if e.producer}),
        "datasets": dataset_nodes,
        "jobs": [{"namespace": job.namespace, "name": job.name,
                  "runs": [{"run_id": run_id, "events": run_events} for run_id, run_events in runs[job].items()]}
                 for job in sorted(runs, key=_order)],
        "edges": [_edge(job, i, o) for job, i, o in sorted(edges, key=lambda e: (_order(e[0]), _order(e[1]), _order(e[2])))],
        "column_lineage": [{k: v for k, v in entry.items() if k != "line"}
                           for output in sorted(columns, key=_order) for entry in columns[output]],
    }
    for key in ("producers", "column_lineage"):
        if not source[key]:
            del source[key]
    return source, mapped, unmapped


def _node(nodes: dict[LineageName, _Node], dataset: Any, line: int, columns: dict[LineageName, list[dict[str, Any]]]) -> LineageName:
    """Record a dataset of an event: first sight, and the schema and column lineage of the latest event carrying them."""
    name = LineageName(dataset.namespace, dataset.name)
    node = nodes.setdefault(name, _Node(line))
    node.first_line = min(node.first_line, line)
    schema = (dataset.facets or {}).get("schema")
    if schema is not None and schema.fields:
        node.fields = _fields(schema.fields, "")
    lineage = (dataset.facets or {}).get("columnLineage")
    if lineage is not None:
        columns[name] = [_column(name, output_field, lineage.fields[output_field], line) for output_field in sorted(lineage.fields)]
    return name


def _fields(fields: list[Any], prefix: str) -> list[dict[str, str]]:
    """Schema facet fields, nested ones flattened as parent.child."""
    flat = []
    for item in fields:
        name = f"{prefix}{item.name}"
        flat.append({"name": name} | ({"type": item.type} if item.type else {})
                    | ({"description": item.description} if item.description else {}))
        flat.extend(_fields(item.fields or [], f"{name}."))
    return flat


def _column(output: LineageName, output_field: str, lineage: Any, line: int) -> dict[str, Any]:
    inputs = []
    for source in lineage.inputFields:
        entry: dict[str, Any] = {"namespace": source.namespace, "name": source.name, "field": source.field}
        transformations = [{k: v for k, v in (("type", t.type), ("subtype", t.subtype), ("description", t.description),
                                              ("masking", t.masking)) if v is not None}
                           for t in source.transformations or []]
        if transformations:
            entry["transformations"] = transformations
        inputs.append(entry)
    column: dict[str, Any] = {"output": _ref(output), "field": output_field, "inputs": inputs}
    description = lineage.transformationDescription or lineage.transformationType
    if description:
        column["description"] = description
    return column | {"line": line}


def _edge(job: LineageName, source: LineageName | None, target: LineageName | None) -> dict[str, Any]:
    edge: dict[str, Any] = {}
    if source is not None:
        edge["input"] = _ref(source)
    edge["job"] = _ref(job)
    if target is not None:
        edge["output"] = _ref(target)
    return edge


def _ref(name: LineageName) -> InlineMapping:
    return InlineMapping(namespace=name.namespace, name=name.name)


def _order(name: LineageName | None) -> tuple[str, str]:
    return (name.namespace, name.name) if name else ("", "")


def _default_id(events_file: Path) -> str:
    """lineage-<file stem>, slugified."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", events_file.stem.lower()).strip("-._")
    return (slug if slug.startswith("lineage") else f"lineage-{slug}")[:64].rstrip("-._")


def _check_source(source: dict[str, Any], file_name: str) -> None:
    """The source must pass the lineage schema, e.g. no empty names; else nothing is written."""
    from jsonschema import Draft202012Validator

    from techfile.validation.schema import load_schema

    errors = sorted(Draft202012Validator(load_schema("lineage")).iter_errors(source), key=lambda e: list(e.absolute_path))
    if errors:
        raise LineageError([f"{file_name}: the events give a graph techfile cannot hold: "
                            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors])

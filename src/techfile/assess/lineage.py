"""Data lineage of a dataset from the project's lineage graphs (lineage/*.yaml): which graph datasets are which techfile
dataset, the jobs and datasets upstream of it, its consumers, and column lineage along the way (EU AI Act Art. 10(2)(b))."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from techfile.project import (
    Dataset,
    LineageEdge,
    LineageField,
    LineageGraph,
    LineageInputField,
    LineageJob,
    LineageName,
    Project,
)

DATASET, JOB = "dataset", "job"
FOCUS, MAPPED, UNMAPPED = "focus", "mapped", "unmapped"

NodeKey = tuple[str, str, str]  # (DATASET or JOB, namespace, name)


@dataclass(frozen=True)
class LineageStep:
    """One edge of a graph as a table row: `job` read `input` and wrote `output`, `depth` steps from the dataset."""

    depth: int
    input: str | None
    job: str
    output: str | None
    runs: int
    last_event: str


@dataclass(frozen=True)
class ColumnStep:
    """One input field of one output field."""

    output: str
    field: str
    input: str
    input_field: str
    transformation: str


@dataclass(frozen=True)
class DiagramNode:
    key: NodeKey
    label: str
    detail: str
    role: str  # FOCUS, MAPPED or UNMAPPED for datasets, JOB for jobs


@dataclass(frozen=True)
class LineageDiagram:
    """The part of a graph around one dataset, ready to lay out: nodes and directed edges in a stable order."""

    nodes: list[DiagramNode]
    edges: list[tuple[NodeKey, NodeKey]]


@dataclass(frozen=True)
class DatasetLineage:
    """What one lineage graph says about one dataset."""

    graph: LineageGraph
    upstream: list[LineageStep]
    consumers: list[LineageStep]
    columns: list[ColumnStep]
    fields: list[LineageField]
    diagram: LineageDiagram

    @property
    def upstream_datasets(self) -> list[str]:
        return sorted({s.input for s in self.upstream if s.input})

    @property
    def jobs(self) -> list[str]:
        return sorted({s.job for s in self.upstream + self.consumers})


def dataset_for(name: LineageName, datasets: list[Dataset]) -> Dataset | None:
    """The techfile dataset an OpenLineage dataset is: the one listing it in `lineage_names`, else the one whose id is its name."""
    listed = next((d for d in datasets if name in d.lineage_names), None)
    return listed or next((d for d in datasets if d.id == name.name), None)


def graph_dataset_ids(graph: LineageGraph, datasets: list[Dataset]) -> dict[LineageName, str]:
    """Techfile dataset id of each mapped dataset of the graph: written in the graph (`dataset`), or found by name."""
    mapped: dict[LineageName, str] = {}
    for node in graph.datasets:
        found = dataset_for(node.ref, datasets)
        dataset_id = node.dataset or (found.id if found else None)
        if dataset_id:
            mapped[node.ref] = dataset_id
    return mapped


def project_lineage(project: Project, dataset: Dataset) -> list[DatasetLineage]:
    """The lineage of `dataset` in each graph of the project that has it, in graph id order."""
    found = []
    for graph in project.lineage:
        ids = graph_dataset_ids(graph, project.datasets)
        focus = {name for name, dataset_id in ids.items() if dataset_id == dataset.id}
        if focus:
            found.append(_dataset_lineage(graph, focus, ids))
    return found


def _dataset_lineage(graph: LineageGraph, focus: set[LineageName], ids: dict[LineageName, str]) -> DatasetLineage:
    depth = _upstream_depths(graph, focus)
    upstream_edges = [e for e in graph.edges if e.output in depth]
    consumer_edges = [e for e in graph.edges if e.input in focus and e not in upstream_edges]
    jobs = {job.ref: job for job in graph.jobs}

    def label(name: LineageName) -> str:
        return f"{name.name} ({name.namespace})" + (f" = dataset {ids[name]}" if name in ids else "")

    def step(edge: LineageEdge, edge_depth: int) -> LineageStep:
        job = jobs.get(edge.job)
        return LineageStep(edge_depth, label(edge.input) if edge.input else None, f"{edge.job.name} ({edge.job.namespace})",
                           label(edge.output) if edge.output else None, len(job.runs) if job else 0, _last_event(job))

    upstream = sorted((step(e, depth[e.output] + 1) for e in upstream_edges if e.output is not None),
                      key=lambda s: (s.depth, s.job, s.input or "", s.output or ""))
    consumers = sorted((step(e, 1) for e in consumer_edges), key=lambda s: (s.job, s.input or "", s.output or ""))
    columns = [ColumnStep(label(c.output), c.field, label(i.ref), i.field, _transformation(i, c.description))
               for c in sorted((c for c in graph.column_lineage if c.output in depth),
                               key=lambda c: (depth[c.output], _order(c.output), c.field))
               for i in c.inputs]
    fields = next((n.fields for n in sorted(graph.datasets, key=lambda n: _order(n.ref)) if n.ref in focus and n.fields), [])
    diagram = _diagram(focus, ids, upstream_edges + consumer_edges)
    return DatasetLineage(graph, upstream, consumers, columns, fields, diagram)


def _upstream_depths(graph: LineageGraph, focus: set[LineageName]) -> dict[LineageName, int]:
    """Each dataset upstream of `focus` with its distance in jobs (0 for the focus itself)."""
    depth = dict.fromkeys(focus, 0)
    frontier = sorted(focus, key=_order)
    while frontier:
        reached = []
        for name in frontier:
            for edge in graph.edges:
                if edge.output == name and edge.input is not None and edge.input not in depth:
                    depth[edge.input] = depth[name] + 1
                    reached.append(edge.input)
        frontier = sorted(reached, key=_order)
    return depth


def _diagram(focus: set[LineageName], ids: dict[LineageName, str], edges: list[LineageEdge]) -> LineageDiagram:
    """Nodes and edges of the given graph edges, datasets marked as the focus, mapped to a techfile dataset, or not."""
    keys: list[NodeKey] = [(DATASET, n.namespace, n.name) for n in sorted(focus, key=_order)]
    links: list[tuple[NodeKey, NodeKey]] = []
    for edge in sorted(edges, key=lambda e: (_order(e.job), _order(e.input), _order(e.output))):
        job: NodeKey = (JOB, edge.job.namespace, edge.job.name)
        ends = []
        if edge.input is not None:
            ends.append(((DATASET, edge.input.namespace, edge.input.name), job))
        if edge.output is not None:
            ends.append((job, (DATASET, edge.output.namespace, edge.output.name)))
        for link in ends:
            keys.extend(k for k in link if k not in keys)
            if link not in links:
                links.append(link)
    nodes = []
    for kind, namespace, name in keys:
        ref = LineageName(namespace, name)
        if kind == JOB:
            nodes.append(DiagramNode((kind, namespace, name), name, namespace, JOB))
        else:
            role = FOCUS if ref in focus else MAPPED if ref in ids else UNMAPPED
            detail = name if ref in ids and ids[ref] != name else namespace
            nodes.append(DiagramNode((kind, namespace, name), ids.get(ref, name), detail, role))
    return LineageDiagram(nodes, links)


def _order(name: LineageName | None) -> tuple[str, str]:
    return (name.namespace, name.name) if name else ("", "")


def _last_event(job: LineageJob | None) -> str:
    events = [event for run in job.runs for event in run.events] if job else []
    if not events:
        return ""
    last = max(events, key=lambda e: _moment(e.time))
    shown = last.time.replace("T", " ", 1)  # date and time may wrap in a narrow table cell
    return f"{shown} ({last.type})" if last.type else shown


def _moment(time: str) -> datetime:
    """An event time as a comparable UTC moment (a time without offset is taken as UTC; an unreadable one sorts first)."""
    try:
        moment = datetime.fromisoformat(time)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _transformation(field: LineageInputField, description: str | None) -> str:
    """`DIRECT/TRANSFORMATION, masking: NLP label extraction` from the facet's transformations."""
    parts = []
    for t in field.transformations:
        kind = "/".join(p for p in (t.type, t.subtype) if p) + (", masking" if t.masking else "")
        parts.append(f"{kind}: {t.description}" if t.description else kind)
    if description and not parts:
        parts.append(description)
    return "; ".join(parts)

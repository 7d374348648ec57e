"""Charts as deterministic SVG (matplotlib, imported only when a chart is drawn): model metrics by subgroup with
their thresholds, dataset composition, and lineage diagrams (laid out by grandalf, imported only when one is drawn).
A build keeps them in a store (`chart_store`) and draws the rest in worker processes (`chart_workers`)."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from techfile.assess.lineage import FOCUS, JOB, MAPPED, UNMAPPED, DiagramNode, LineageDiagram, NodeKey
from techfile.assess.metrics import ResultVerdict, judge_results
from techfile.documents.base import Chart
from techfile.project import Dataset, Metric, Model, Risk

STYLE = {
    "svg.hashsalt": "techfile",  # stable element ids
    "svg.fonttype": "none",  # text stays text, set in the shipped DejaVu Sans
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "text.parse_math": False,  # source text is text: a `$` never starts mathtext (an unknown symbol would crash)
}
BAR, NEAR, FAIL, THRESHOLD = "#3f51b5", "#f9a825", "#c62828", "#212121"
NEAR_MARGIN = 0.025  # a passing result this close to its threshold is drawn in amber


_STORE: list[tuple[Path, str]] = []  # (folder, salt) while a build keeps a chart cache (see chart_store)
_WORKERS: list[_Workers] = []  # while a build draws charts in other processes (see chart_workers)
Drawing = partial  # a module-level drawing function with its data: picklable, so that a worker process can draw it


@contextmanager
def chart_store(folder: Path, salt: str) -> Iterator[None]:
    """Within the block, keep each drawn chart in `folder` under the digest of what it draws (the drawing code, the
    data it draws, its size, `salt`: techfile's code and tool versions) and reuse it instead of drawing again."""
    _STORE.append((folder, salt))
    try:
        yield
    finally:
        _STORE.pop()


DRAWN_HERE = 16  # a worker costs about a second to start (Python, techfile, matplotlib), a chart about a tenth


class _Workers:
    """The worker processes charts are drawn in (started by the first chart that must be drawn after the first
    `drawn_here`, which this process draws itself), and the charts handed to them."""

    def __init__(self, start: Callable[[], Executor], drawn_here: int) -> None:
        self.start, self.drawn_here = start, drawn_here
        self.pool: Executor | None = None
        self.handed: dict[str, PendingChart] = {}  # by drawing key: a chart two documents embed is drawn once

    def draw(self, key: str | None, *arguments: Any) -> bytes | PendingChart:
        if key is not None and key in self.handed:
            return self.handed[key]
        if self.drawn_here > 0:
            self.drawn_here -= 1
            return _draw_kept(*arguments)
        if self.pool is None:
            self.pool = self.start()
        pending = PendingChart(self.pool.submit(_draw_kept, *arguments), arguments)
        self.handed[key or f"unkeyed-{len(self.handed)}"] = pending
        return pending


class PendingChart:
    """A chart handed to a worker process; `result()` gives its SVG, drawing it here if no worker has begun it."""

    def __init__(self, future: Future[bytes], arguments: tuple[Any, ...]) -> None:
        self.future, self.arguments = future, arguments
        self.svg: bytes | None = None

    def ready(self) -> bool:
        """Whether `result()` would return at once (drawn here, or by a worker that has finished)."""
        return self.svg is not None or (self.future.done() and not self.future.cancelled())

    def result(self) -> bytes:
        if self.svg is None:
            self.svg = _draw_kept(*self.arguments) if self.future.cancel() else self.future.result()
        return self.svg


@contextmanager
def chart_workers(start: Callable[[], Executor], drawn_here: int | None = None) -> Iterator[None]:
    """Within the block, a chart that is not in the chart store is handed to the pool `start` makes while this
    process renders on (its Chart holds a PendingChart until `draw_handed_charts`); the first `drawn_here` such charts
    are drawn here, so that a project with few charts starts no process."""
    workers = _Workers(start, DRAWN_HERE if drawn_here is None else drawn_here)
    _WORKERS.append(workers)
    try:
        yield
    finally:
        _WORKERS.pop()
        if workers.pool is not None:
            workers.pool.shutdown(wait=True, cancel_futures=True)


def draw_handed_charts() -> None:
    """Draw here every chart handed to the workers that none has begun, the last handed first (the workers take them
    from the front), and wait for the rest: after this every PendingChart's result is ready."""
    if _WORKERS:
        for pending in reversed(_WORKERS[-1].handed.values()):
            pending.result()


def _render(draw: Drawing, height: float, width: float = 7.0, bottom: float = 0.5) -> bytes | PendingChart:
    key = _drawing_key(draw, height, width, bottom) if _STORE or _WORKERS else None
    stored = _STORE[-1][0] / f"{key}.svg" if key is not None and _STORE else None
    if stored is not None:
        try:
            return stored.read_bytes()
        except OSError:
            pass
    if _WORKERS:
        return _WORKERS[-1].draw(key, draw, height, width, bottom, stored)
    return _draw_kept(draw, height, width, bottom, stored)


def _draw_kept(draw: Drawing, height: float, width: float, bottom: float, stored: Path | None) -> bytes:
    """The chart drawn, and kept at `stored` (when there is a store) for the next build."""
    svg = _draw(draw, height, width, bottom)
    if stored is not None:
        stored.parent.mkdir(parents=True, exist_ok=True)
        temporary = stored.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(svg)
        os.replace(temporary, stored)
    return svg


def _drawing_key(draw: Drawing, height: float, width: float, bottom: float) -> str | None:
    """A digest of everything a drawing uses: its function's code and constants, default arguments and the data it
    is given (by repr; None, so no reuse, when a repr is an object's address rather than its content)."""
    data = (draw.args, sorted(draw.keywords.items()))
    text = repr((_code_text(draw.func.__code__), draw.func.__defaults__, data, height, width, bottom, STYLE,
                 _STORE[-1][1] if _STORE else ""))
    if " at 0x" in text:
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _code_text(code: Any) -> str:
    consts = [_code_text(c) if hasattr(c, "co_code") else repr(c) for c in code.co_consts]
    return repr((code.co_qualname, code.co_code, consts, code.co_names))


def _draw(draw: Any, height: float, width: float, bottom: float) -> bytes:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(width, height))
        draw(figure)
        _fit_margins(figure, width, height, bottom)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "techfile"})
    return buffer.getvalue()


def _fit_margins(figure: Any, width: float, height: float, bottom: float = 0.5) -> None:
    """Margins from the longest tick label, in inches (`bottom` below the axes): one drawing pass instead of
    tight_layout's two."""
    labels = [t.get_text() for axes in figure.axes for t in axes.get_yticklabels()]
    left = min(0.6, (0.3 + 0.068 * max((len(text) for text in labels), default=4)) / width)
    rows = max(1, len(figure.axes))
    figure.subplots_adjust(left=left, right=1 - 0.15 / width, top=1 - 0.3 / height, bottom=bottom / height,
                           hspace=0.9 * rows / height)


def model_charts(model: Model) -> list[Chart]:
    """One dot-and-whisker chart per metric with per-slice results: the estimate and its 95% CI per slice, each
    threshold a labelled dashed line, a legend in the figure, the axis fitted to values, intervals and thresholds
    (around 0 for a difference, 1 for a ratio)."""
    verdicts = judge_results(model)
    charts = []
    for metric in model.metrics:
        rows = [v for v in verdicts if v.metric.id == metric.id]
        if not any(v.scope != "overall" for v in rows):
            continue
        legend_rows = -(-(3 + len(_threshold_lines(rows)) + (metric.comparison in NEUTRAL)) // 2)
        bottom = 0.55 + 0.17 * legend_rows
        svg = _render(partial(_draw_estimates, rows=rows, metric=metric), height=0.6 + bottom + 0.2 * len(rows),
                      bottom=bottom)
        thresholds = ", ".join(f"{value:g}" for value, _ in _threshold_lines(rows))
        charts.append(Chart(f"model-{model.id}-{metric.id}", svg,
                            f"{metric.name} of {model.name} by slice: estimates with 95% confidence intervals"
                            + (f"; dashed lines: thresholds {thresholds}" if thresholds else "")))
    return charts


NEUTRAL = {"difference": 0.0, "ratio": 1.0}
THRESHOLD_STYLES = ["--", ":", "-."]


def _draw_estimates(figure: Any, rows: list[ResultVerdict], metric: Metric) -> None:
    from matplotlib.lines import Line2D

    axes = figure.add_subplot(1, 1, 1)
    positions = list(range(len(rows)))
    for position, verdict in zip(positions, rows, strict=True):
        colour = FAIL if verdict.passed is False else NEAR if _near(verdict.result.value, verdict.threshold) else BAR
        if len(verdict.result.ci) == 2:
            axes.plot(verdict.result.ci, [position, position], color=colour, linewidth=1.2, solid_capstyle="butt")
            axes.plot(verdict.result.ci, [position, position], color=colour, linestyle="none", marker="|", markersize=5)
        axes.plot([verdict.result.value], [position], color=colour, marker="o", markersize=4, linestyle="none")
    handles = [Line2D([], [], color=BAR, marker="o", markersize=4, linewidth=1.2, label="estimate, 95% CI"),
               Line2D([], [], color=NEAR, marker="o", markersize=4, linewidth=1.2,
                      label=f"passes within {NEAR_MARGIN:g} of its threshold"),
               Line2D([], [], color=FAIL, marker="o", markersize=4, linewidth=1.2, label="fails its threshold")]
    lines = _threshold_lines(rows)
    for index, (value, scopes) in enumerate(lines):
        style = THRESHOLD_STYLES[index % len(THRESHOLD_STYLES)]
        axes.axvline(value, color=THRESHOLD, linestyle=style, linewidth=0.9)
        handles.append(Line2D([], [], color=THRESHOLD, linestyle=style, linewidth=0.9,
                              label=f"threshold {value:g} ({', '.join(scopes)})"))
    neutral = NEUTRAL.get(metric.comparison or "")
    if neutral is not None:
        axes.axvline(neutral, color="#9e9e9e", linewidth=0.6)
        handles.append(Line2D([], [], color="#9e9e9e", linewidth=0.6, label=f"no {metric.comparison} ({neutral:g})"))
    axes.set_xlim(*_axis_range(rows, [value for value, _ in lines], neutral))
    axes.set_yticks(positions, _slice_labels(rows))
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.grid(axis="x", color="#e0e0e0", linewidth=0.5)
    axes.set_axisbelow(True)
    axes.set_xlabel(metric.name + ("" if metric.higher_is_better else " (lower is better)"))
    axes.set_title(f"{metric.name} by slice", loc="left", fontsize=8)
    figure.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=2, frameon=False, fontsize=7)


def _threshold_lines(rows: list[ResultVerdict]) -> list[tuple[float, list[str]]]:
    """Every threshold value that applies to a shown result (both ends of a range), with the scopes it applies to."""
    scopes: dict[float, list[str]] = {}
    for verdict in rows:
        if verdict.limit is None:
            continue
        for value in (verdict.limit.low, verdict.limit.high):
            if value is not None and verdict.scope not in scopes.setdefault(value, []):
                scopes[value].append(verdict.scope)
    return sorted(scopes.items())


def _axis_range(rows: list[ResultVerdict], thresholds: list[float], neutral: float | None) -> tuple[float, float]:
    """From the lowest to the highest of values, interval ends, thresholds (and the neutral value), with a margin;
    a difference or ratio axis is symmetric about its neutral value."""
    points = [n for v in rows for n in (v.result.value, *v.result.ci)] + thresholds
    low, high = min(points), max(points)
    if neutral is not None:
        reach = max(abs(low - neutral), abs(high - neutral))
        low, high = neutral - reach, neutral + reach
    margin = _margin(low, high)
    return low - margin, high + margin


def _margin(low: float, high: float) -> float:
    """8% of the range; for a range of no width at that magnitude (every value and threshold equal), 5% of the
    magnitude (at least 0.05), so that the axis limits never coincide."""
    magnitude = max(abs(low), abs(high), 1.0)
    span = high - low
    return span * 0.08 if span > magnitude * 1e-9 else 0.05 * magnitude


def dataset_chart(dataset: Dataset) -> Chart | None:
    """Splits, labels and subgroup counts of a dataset."""
    composition = dataset.composition
    panels: list[tuple[str, list[str], list[int]]] = []
    if composition.splits:
        panels.append(("Instances per split", [s.name for s in composition.splits], [s.count for s in composition.splits]))
    if composition.labels:
        panels.append(("Instances per label", [s.name for s in composition.labels], [s.count for s in composition.labels]))
    if composition.subgroups:
        panels.append(("Instances per subgroup", [f"{s.attribute}={s.value}" for s in composition.subgroups],
                       [s.count for s in composition.subgroups]))
    if not panels:
        return None

    svg = _render(partial(_draw_composition, panels=panels), height=sum(0.9 + 0.22 * len(labels) for _, labels, _ in panels))
    return Chart(f"dataset-{dataset.id}", svg, f"{dataset.name}: composition by split, label and subgroup")


def _draw_composition(figure: Any, panels: list[tuple[str, list[str], list[int]]]) -> None:
    grid = figure.add_gridspec(len(panels), 1, height_ratios=[len(labels) + 2 for _, labels, _ in panels])
    for index, (title, labels, counts) in enumerate(panels):
        axes = figure.add_subplot(grid[index])
        axes.barh(range(len(labels)), counts, color=BAR, height=0.6)
        axes.set_yticks(list(range(len(labels))), labels)
        axes.invert_yaxis()
        axes.set_title(title, loc="left")


def _slice_labels(rows: list[ResultVerdict]) -> list[str]:
    """Slice labels in words ("Sex: female"), with the dataset added where one slice is reported on several datasets."""
    from techfile.documents.deployer import slice_label

    labels = [slice_label(v.result.slice) for v in rows]
    return [f"{label} ({v.result.dataset})" if labels.count(label) > 1 and v.result.dataset else label
            for label, v in zip(labels, rows, strict=True)]


def _near(value: float, threshold: float | None, margin: float = NEAR_MARGIN) -> bool:
    return threshold is not None and abs(value - threshold) <= margin


def risk_heatmap(risks: list[Risk]) -> Chart | None:
    """Risks counted by inherent level (rows) and residual level (columns)."""
    if not risks:
        return None
    levels = ["low", "medium", "high", "critical"]
    counts = [[sum(1 for r in risks if r.inherent_level == inherent and r.residual_level == residual) for residual in levels]
              for inherent in reversed(levels)]
    return Chart("risk-heatmap", _render(partial(_draw_heatmap, counts=counts, levels=levels), height=3.2, width=4.2),
                 "Heat map of risks: inherent level against residual level")


def _draw_heatmap(figure: Any, counts: list[list[int]], levels: list[str]) -> None:
    axes = figure.add_subplot(1, 1, 1)
    # cells as vector shapes: an image (imshow) would be a raster embedded in the SVG
    axes.pcolormesh([c - 0.5 for c in range(5)], [r - 0.5 for r in range(5)], counts, cmap="Oranges", vmin=0,
                    vmax=max(1, max(max(row) for row in counts)), edgecolors="white", linewidth=1)
    axes.set_xlim(-0.5, 3.5)
    axes.set_ylim(3.5, -0.5)
    axes.set_aspect("equal")
    for row, values in enumerate(counts):
        for column, count in enumerate(values):
            axes.text(column, row, str(count) if count else "", ha="center", va="center", fontsize=10)
    axes.set_xticks(range(4), levels)
    axes.set_yticks(range(4), list(reversed(levels)))
    axes.set_xlabel("Residual level")
    axes.set_ylabel("Inherent level")
    axes.set_title("Risks by inherent and residual level", loc="left", fontsize=8)


# --- lineage diagrams ---------------------------------------------------------------------------

# Layout units are 1/100 inch. Layers run top to bottom, one per step of the lineage, so that long chains fit a page.
NODE_WIDTH, NODE_HEIGHT, LAYER_GAP, ROW_GAP, COMPONENT_GAP = 190.0, 42.0, 34.0, 20.0, 40.0
LEGEND_ROW = 22.0
LINEAGE_STYLES = {  # role → face colour, edge colour, line style, text colour, legend
    FOCUS: (BAR, BAR, "solid", "white", "this dataset"),
    MAPPED: ("#c5cae9", BAR, "solid", "#1a237e", "other techfile dataset"),
    UNMAPPED: ("white", "#757575", "dashed", "#212121", "dataset outside techfile"),
    JOB: ("#fff3e0", "#ef6c00", "solid", "#212121", "job"),
}


def lineage_chart(name: str, diagram: LineageDiagram, alt: str) -> Chart:
    """A lineage diagram read top to bottom: datasets as rounded boxes, jobs as square ones, arrows from input to output."""
    centres, paths = _lineage_layout(diagram)
    nodes = {node.key: node for node in diagram.nodes}
    roles = [role for role in LINEAGE_STYLES if any(n.role == role for n in diagram.nodes)]
    left = min(x for x, _ in centres.values()) - NODE_WIDTH / 2 - 10
    right = max(x for x, _ in centres.values()) + NODE_WIDTH / 2 + 10
    columns = len(roles) if right - left >= 460 else 2
    top = max(y for _, y in centres.values()) + NODE_HEIGHT / 2 + 10
    bottom = min(y for _, y in centres.values()) - NODE_HEIGHT / 2 - 10 - LEGEND_ROW * -(-len(roles) // columns)

    limits = (left, right, bottom, top)
    drawing = partial(_draw_lineage, centres=centres, paths=paths, nodes=nodes, roles=roles, columns=columns, limits=limits)
    return Chart(name, _render(drawing, height=(top - bottom) / 100, width=(right - left) / 100), alt)


def _draw_lineage(figure: Any, centres: dict[NodeKey, tuple[float, float]],
                  paths: list[tuple[tuple[NodeKey, NodeKey], list[tuple[float, float]]]], nodes: dict[NodeKey, DiagramNode],
                  roles: list[str], columns: int, limits: tuple[float, float, float, float]) -> None:
    from matplotlib.patches import FancyBboxPatch, Patch

    left, right, bottom, top = limits
    axes = figure.add_axes((0, 0, 1, 1))  # the whole figure: the limits below hold the margins
    axes.set_axis_off()
    axes.set_xlim(left, right)
    axes.set_ylim(bottom, top)
    axes.set_aspect("equal")
    for (source, target), points in paths:
        _draw_arrow(axes, centres[source], centres[target], points)
    for key, (x, y) in centres.items():
        node = nodes[key]
        face, edge, line, text, _ = LINEAGE_STYLES[node.role]
        rounding = 1.0 if node.role == JOB else 10.0
        axes.add_patch(FancyBboxPatch((x - NODE_WIDTH / 2, y - NODE_HEIGHT / 2), NODE_WIDTH, NODE_HEIGHT,
                                      boxstyle=f"round,pad=0,rounding_size={rounding}", facecolor=face,
                                      edgecolor=edge, linestyle=line, linewidth=0.9, zorder=2))
        axes.text(x, y + 7, _fit(node.label, 34), ha="center", va="center", fontsize=7, color=text, zorder=3,
                  fontweight="bold" if node.role == FOCUS else "normal")
        axes.text(x, y - 9, _fit(node.detail, 44), ha="center", va="center", fontsize=5.5, color=text, zorder=3)
    handles = [Patch(facecolor=LINEAGE_STYLES[r][0], edgecolor=LINEAGE_STYLES[r][1], linestyle=LINEAGE_STYLES[r][2],
                     label=LINEAGE_STYLES[r][4]) for r in roles]
    axes.legend(handles=handles, loc="lower center", ncol=columns, frameon=False, fontsize=6)


def _lineage_layout(diagram: LineageDiagram) -> tuple[dict[NodeKey, tuple[float, float]], list[tuple[tuple[NodeKey, NodeKey], list[tuple[float, float]]]]]:
    """Node centres and edge paths (through grandalf's bend points) of a layered (Sugiyama) layout, components side by side.

    Components are built here, in the diagram's order: grandalf's own Graph collects edges in a set, whose order follows
    object ids and would make the layout vary between runs."""
    from grandalf.graphs import Edge, Vertex, graph_core
    from grandalf.layouts import SugiyamaLayout

    class NodeView:  # what grandalf reads (w, h) and writes (xy, y growing downwards)
        w, h, xy = NODE_WIDTH, NODE_HEIGHT, (0.0, 0.0)

    class EdgeView:
        points: list[tuple[float, float]] = []

        def setpath(self, points: list[tuple[float, float]]) -> None:
            self.points = list(points)

    centres: dict[NodeKey, tuple[float, float]] = {}
    paths = []
    offset = 0.0
    for keys, links in _components(diagram):
        vertices = {key: Vertex(key) for key in keys}
        for vertex in vertices.values():
            vertex.view = NodeView()
        edges = [Edge(vertices[source], vertices[target]) for source, target in links]
        for edge in edges:
            edge.view = EdgeView()
        component = graph_core(list(vertices.values()), edges)
        if edges:
            layout = SugiyamaLayout(component)
            layout.xspace, layout.yspace = ROW_GAP, LAYER_GAP
            layout.init_all(roots=[v for v in component.sV if not v.e_in()] or [component.sV[0]])
            layout.draw()
        low = min(v.view.xy[0] for v in vertices.values())
        high = max(v.view.xy[0] for v in vertices.values())
        for key, vertex in vertices.items():
            x, y = vertex.view.xy
            centres[key] = (x - low + offset, -y)
        for link, edge in zip(links, edges, strict=True):
            paths.append((link, [(x - low + offset, -y) for x, y in edge.view.points]))
        offset += high - low + NODE_WIDTH + COMPONENT_GAP
    return centres, paths


def _components(diagram: LineageDiagram) -> list[tuple[list[NodeKey], list[tuple[NodeKey, NodeKey]]]]:
    """The connected parts of a diagram, nodes and edges each in the diagram's order."""
    part = {node.key: index for index, node in enumerate(diagram.nodes)}
    for source, target in diagram.edges:
        old, new = max(part[source], part[target]), min(part[source], part[target])
        part = {key: new if index == old else index for key, index in part.items()}
    return [([n.key for n in diagram.nodes if part[n.key] == index],
             [link for link in diagram.edges if part[link[0]] == index])
            for index in sorted(set(part.values()))]


def _draw_arrow(axes: Any, source: tuple[float, float], target: tuple[float, float], points: list[tuple[float, float]]) -> None:
    """An arrow from the bottom of the source box to the top of the target box, through the layout's bend points."""
    half = NODE_HEIGHT / 2 if target[1] <= source[1] else -NODE_HEIGHT / 2
    line = [(source[0], source[1] - half), *points[1:-1], (target[0], target[1] + half)]
    if len(line) > 2:
        axes.plot([p[0] for p in line[:-1]], [p[1] for p in line[:-1]], color="#616161", linewidth=0.8, zorder=1)
    axes.annotate("", xy=line[-1], xytext=line[-2], zorder=1,
                  arrowprops={"arrowstyle": "-|>", "color": "#616161", "linewidth": 0.8, "shrinkA": 0, "shrinkB": 0,
                              "mutation_scale": 8})


def _fit(text: str, width: int) -> str:
    """`text`, or its end behind an ellipsis when it is longer than `width` (names end in their most specific part)."""
    return text if len(text) <= width else "…" + text[-(width - 1):]

"""Charts as deterministic SVG, written directly (documents/svg.py): model metrics by slice with their thresholds,
dataset composition, the risk heat map, and lineage diagrams (laid out by grandalf, imported only when one is drawn)."""

from __future__ import annotations

from techfile.assess.lineage import FOCUS, JOB, MAPPED, UNMAPPED, LineageDiagram, NodeKey
from techfile.assess.metrics import ResultVerdict, judge_results
from techfile.documents.base import Chart
from techfile.documents.svg import Canvas, middle, text_width, tick_labels, ticks
from techfile.project import Dataset, Metric, Model, Risk

BAR, NEAR, FAIL, THRESHOLD, NEUTRAL_LINE = "#3f51b5", "#f9a825", "#c62828", "#212121", "#9e9e9e"
GRID, AXIS = "#e0e0e0", "#212121"
NEAR_MARGIN = 0.025  # a passing result this close to its threshold is drawn in amber
INCH = 72.0  # charts are laid out in points
WIDTH = 7.0 * INCH
SIZE, SMALL = 8.0, 7.0  # text sizes: axes and titles, legends
TICK = 3.5


class _Axis:
    """A value axis mapped onto the points from `start` to `end`."""

    def __init__(self, low: float, high: float, start: float, end: float) -> None:
        self.low, self.high, self.start, self.end = low, high, start, end

    def at(self, value: float) -> float:
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def _label_margin(labels: list[str], size: float = SIZE) -> float:
    """Room left of the axes for the longest row label, its tick and a small gap (at most 60% of the width)."""
    return min(0.6 * WIDTH, 10 + TICK + 3 + max((text_width(text, size) for text in labels), default=20))


def _fit_width(text: str, room: float, size: float = SIZE) -> str:
    """`text`, shortened from the front to fit `room` points."""
    return _fit(text, max(4, int(room / text_width("x", size))))


def _right_edge(low: float, high: float, whole: bool = False) -> float:
    """Where the axes end: 0.15 in from the right, or further in when the last tick label needs it."""
    values = ticks(low, high, whole=whole)
    return WIDTH - max(0.15 * INCH, text_width(tick_labels(values)[-1], SIZE) / 2 + 2)


def _value_axis(canvas: Canvas, axis: _Axis, top: float, bottom: float, title: str | None = None,
                whole: bool = False, grid: bool = True) -> None:
    """The bottom spine, tick marks and their labels (and the axis title below them); with `grid`, a faint line up
    from each tick."""
    values = ticks(axis.low, axis.high, whole=whole)
    for value, label in zip(values, tick_labels(values), strict=True):
        x = axis.at(value)
        if grid:
            canvas.line([(x, top), (x, bottom)], GRID, 0.5)
        canvas.line([(x, bottom), (x, bottom + TICK)], AXIS)
        canvas.text(x, bottom + TICK + 2 + SIZE * 0.75, label, anchor="middle")
    canvas.line([(axis.start, bottom), (axis.end, bottom)], AXIS)
    if title:
        canvas.text((axis.start + axis.end) / 2, bottom + TICK + 2 + SIZE * 2.1, title, anchor="middle")


def _row_labels(canvas: Canvas, left: float, rows: list[tuple[float, str]], top: float, bottom: float) -> None:
    """The left spine with a tick and a right-aligned label per row (y, label)."""
    canvas.line([(left, top), (left, bottom)], AXIS)
    for y, label in rows:
        canvas.line([(left - TICK, y), (left, y)], AXIS)
        canvas.text(left - TICK - 3, middle(y, SIZE), _fit_width(label, left - TICK - 6), anchor="end")


def model_charts(model: Model) -> list[Chart]:
    """One dot-and-whisker chart per metric with per-slice results: the estimate and its 95% CI per slice, each
    threshold a labelled dashed line, a legend under the axes, the axis fitted to values, intervals and thresholds
    (around 0 for a difference, 1 for a ratio)."""
    verdicts = judge_results(model)
    charts = []
    for metric in model.metrics:
        rows = [v for v in verdicts if v.metric.id == metric.id]
        if not any(v.scope != "overall" for v in rows):
            continue
        thresholds = ", ".join(f"{value:g}" for value, _ in _threshold_lines(rows))
        charts.append(Chart(f"model-{model.id}-{metric.id}", estimates_svg(rows, metric),
                            f"{metric.name} of {model.name} by slice: estimates with 95% confidence intervals"
                            + (f"; dashed lines: thresholds {thresholds}" if thresholds else "")))
    return charts


NEUTRAL = {"difference": 0.0, "ratio": 1.0}
THRESHOLD_DASHES = ["4,2", "1,1.8", "6,2,1,2"]
ROW = 0.2 * INCH
LEGEND_ROW = 0.17 * INCH


def estimates_svg(rows: list[ResultVerdict], metric: Metric) -> bytes:
    """The chart of one metric's results, a row per result."""
    lines = _threshold_lines(rows)
    neutral = NEUTRAL.get(metric.comparison or "")
    legend: list[tuple[str, str | None, bool, str]] = [  # colour, dash, with a dot, text
        (BAR, None, True, "estimate, 95% CI"), (NEAR, None, True, f"passes within {NEAR_MARGIN:g} of its threshold"),
        (FAIL, None, True, "fails its threshold")]
    for index, (value, scopes) in enumerate(lines):
        legend.append((THRESHOLD, THRESHOLD_DASHES[index % len(THRESHOLD_DASHES)], False,
                       f"threshold {value:g} ({', '.join(scopes)})"))
    if neutral is not None:
        legend.append((NEUTRAL_LINE, None, False, f"no {metric.comparison} ({neutral:g})"))
    legend_rows = -(-len(legend) // 2)
    top, below = 0.3 * INCH, 0.55 * INCH + LEGEND_ROW * legend_rows
    height = top + below + 0.3 * INCH + ROW * len(rows)
    labels = _slice_labels(rows)
    left = _label_margin(labels)
    low, high = _axis_range(rows, [value for value, _ in lines], neutral)
    axis = _Axis(low, high, left, _right_edge(low, high))
    bottom = height - below
    pitch = (bottom - top) / len(rows)
    centres = [top + pitch * (index + 0.5) for index in range(len(rows))]

    canvas = Canvas(WIDTH, height)
    canvas.text(left, top - 7, f"{metric.name} by slice", size=SIZE)
    _value_axis(canvas, axis, top, bottom, metric.name + ("" if metric.higher_is_better else " (lower is better)"))
    for index, (value, _) in enumerate(lines):
        canvas.line([(axis.at(value), top), (axis.at(value), bottom)], THRESHOLD, 0.9,
                    THRESHOLD_DASHES[index % len(THRESHOLD_DASHES)])
    if neutral is not None:
        canvas.line([(axis.at(neutral), top), (axis.at(neutral), bottom)], NEUTRAL_LINE, 0.6)
    _row_labels(canvas, left, list(zip(centres, labels, strict=True)), top, bottom)
    for y, verdict in zip(centres, rows, strict=True):
        colour = FAIL if verdict.passed is False else NEAR if _near(verdict.result.value, verdict.threshold) else BAR
        if len(verdict.result.ci) == 2:
            low, high = (axis.at(end) for end in verdict.result.ci)
            canvas.line([(low, y), (high, y)], colour, 1.2)
            for end in (low, high):
                canvas.line([(end, y - 2.5), (end, y + 2.5)], colour, 1.0)
        canvas.circle(axis.at(verdict.result.value), y, 2.0, colour)
    _legend(canvas, legend, bottom + 0.55 * INCH)
    return canvas.svg()


def _legend(canvas: Canvas, entries: list[tuple[str, str | None, bool, str]], top: float) -> None:
    """The legend in two columns (filled down, then across), centred under the axes: a line sample (with a dot for
    the estimate rows) and its text per entry."""
    rows = -(-len(entries) // 2)
    columns = [entries[:rows], entries[rows:]]
    sample, gap = 16.0, 24.0
    widths = [max((sample + 5 + text_width(text, SMALL) for *_, text in column), default=0.0) for column in columns]
    room = (WIDTH - 8 - gap) / 2
    widths = [min(width, room) for width in widths]
    x = max(4.0, (WIDTH - sum(widths) - gap) / 2)
    canvas.group("legend")
    for column, width in zip(columns, widths, strict=True):
        for row, (colour, dash, dot, text) in enumerate(column):
            y = top + LEGEND_ROW * (row + 0.5)
            canvas.line([(x, y), (x + sample, y)], colour, 1.2 if dot else 0.9, dash)
            if dot:
                canvas.circle(x + sample / 2, y, 2.0, colour)
            canvas.text(x + sample + 5, middle(y, SMALL), _fit_width(text, width - sample - 5, SMALL), size=SMALL)
        x += width + gap
    canvas.end()


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
    return Chart(f"dataset-{dataset.id}", composition_svg(panels), f"{dataset.name}: composition by split, label and subgroup")


BAR_ROW = 0.22 * INCH


def composition_svg(panels: list[tuple[str, list[str], list[int]]]) -> bytes:
    """A panel of horizontal bars per (title, labels, counts), each bar with its count at its end."""
    canvas = Canvas(WIDTH, sum(0.9 * INCH + BAR_ROW * len(labels) for _, labels, _ in panels))
    left = _label_margin([label for _, labels, _ in panels for label in labels])
    y = 0.0
    for title, labels, counts in panels:
        top = y + 22
        bottom = top + BAR_ROW * len(labels)
        high = max(1.0, max(counts) * 1.15)
        axis = _Axis(0.0, high, left, _right_edge(0.0, high, whole=True))
        canvas.text(left, top - 7, title)
        _value_axis(canvas, axis, top, bottom, whole=True, grid=False)  # no line through the counts at the bars' ends
        centres = [top + BAR_ROW * (index + 0.5) for index in range(len(labels))]
        for centre, count in zip(centres, counts, strict=True):
            canvas.rect(left, centre - BAR_ROW * 0.3, axis.at(count) - left, BAR_ROW * 0.6, BAR)
            canvas.text(axis.at(count) + 3, middle(centre, SMALL), f"{count}", size=SMALL, colour="#424242")
        _row_labels(canvas, left, list(zip(centres, labels, strict=True)), top, bottom)
        y += 0.9 * INCH + BAR_ROW * len(labels)
    return canvas.svg()


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
    return Chart("risk-heatmap", heatmap_svg(counts, levels), "Heat map of risks: inherent level against residual level")


ORANGES = ["#fff5eb", "#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#a63603", "#7f2704"]
CELL = 0.6 * INCH


def heatmap_svg(counts: list[list[int]], levels: list[str]) -> bytes:
    """A square per (inherent, residual) pair shaded by its count, highest inherent level on top; the count written
    in each square that has one (white on the dark shades)."""
    canvas = Canvas(4.2 * INCH, 3.2 * INCH)
    left, top = 0.95 * INCH, 0.3 * INCH
    most = max(1, max(max(row) for row in counts))
    canvas.text(left, top - 7, "Risks by inherent and residual level")
    for row, values in enumerate(counts):
        for column, count in enumerate(values):
            x, y = left + CELL * column, top + CELL * row
            share = count / most
            canvas.rect(x + 0.5, y + 0.5, CELL - 1, CELL - 1, _shade(share))
            if count:
                canvas.text(x + CELL / 2, middle(y + CELL / 2, 10), str(count), size=10, anchor="middle",
                            colour="#ffffff" if share > 0.55 else "#212121")
    bottom, right = top + CELL * len(counts), left + CELL * len(levels)
    canvas.line([(left, top), (left, bottom), (right, bottom)], AXIS)
    for index, level in enumerate(levels):
        x, y = left + CELL * (index + 0.5), top + CELL * (index + 0.5)
        canvas.line([(x, bottom), (x, bottom + TICK)], AXIS)
        canvas.text(x, bottom + TICK + 2 + SIZE * 0.75, level, anchor="middle")
        canvas.line([(left - TICK, y), (left, y)], AXIS)
        canvas.text(left - TICK - 3, middle(y, SIZE), levels[-1 - index], anchor="end")
    canvas.text((left + right) / 2, bottom + TICK + 2 + SIZE * 2.1, "Residual level", anchor="middle")
    canvas.text(14, (top + bottom) / 2, "Inherent level", anchor="middle", rotated=True)
    return canvas.svg()


def _shade(share: float) -> str:
    """The colour `share` (0 to 1) of the way along the orange scale."""
    position = min(max(share, 0.0), 1.0) * (len(ORANGES) - 1)
    index = min(int(position), len(ORANGES) - 2)
    fraction = position - index
    low, high = (tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5)) for colour in ORANGES[index:index + 2])
    return "#" + "".join(f"{round(a + (b - a) * fraction):02x}" for a, b in zip(low, high, strict=True))


# --- lineage diagrams ---------------------------------------------------------------------------

# Layout units are 1/100 inch. Layers run top to bottom, one per step of the lineage, so that long chains fit a page.
NODE_WIDTH, NODE_HEIGHT, LAYER_GAP, ROW_GAP, COMPONENT_GAP = 190.0, 42.0, 34.0, 20.0, 40.0
LEGEND_HEIGHT = 22.0
LINEAGE_STYLES = {  # role → face colour, edge colour, dashed, text colour, legend
    FOCUS: (BAR, BAR, False, "#ffffff", "this dataset"),
    MAPPED: ("#c5cae9", BAR, False, "#1a237e", "other techfile dataset"),
    UNMAPPED: ("#ffffff", "#757575", True, "#212121", "dataset outside techfile"),
    JOB: ("#fff3e0", "#ef6c00", False, "#212121", "job"),
}
UNIT = INCH / 100


def lineage_chart(name: str, diagram: LineageDiagram, alt: str) -> Chart:
    """A lineage diagram read top to bottom: datasets as rounded boxes, jobs as square ones, arrows from input to output."""
    return Chart(name, lineage_svg(diagram), alt)


def lineage_svg(diagram: LineageDiagram) -> bytes:
    centres, paths = _lineage_layout(diagram)
    nodes = {node.key: node for node in diagram.nodes}
    roles = [role for role in LINEAGE_STYLES if any(n.role == role for n in diagram.nodes)]
    left = min(x for x, _ in centres.values()) - NODE_WIDTH / 2 - 10
    right = max(x for x, _ in centres.values()) + NODE_WIDTH / 2 + 10
    columns = len(roles) if right - left >= 460 else 2
    top = max(y for _, y in centres.values()) + NODE_HEIGHT / 2 + 10
    legend_top = min(y for _, y in centres.values()) - NODE_HEIGHT / 2 - 10
    bottom = legend_top - LEGEND_HEIGHT * -(-len(roles) // columns)

    def at(x: float, y: float) -> tuple[float, float]:
        return (x - left) * UNIT, (top - y) * UNIT

    canvas = Canvas((right - left) * UNIT, (top - bottom) * UNIT)
    for (source, target), points in paths:
        (sx, sy), (tx, ty) = centres[source], centres[target]
        half = NODE_HEIGHT / 2 if ty <= sy else -NODE_HEIGHT / 2
        line = [(sx, sy - half), *points[1:-1], (tx, ty + half)]
        canvas.arrow([at(x, y) for x, y in line], "#616161", 0.8, head=5.0)
    for key, (x, y) in centres.items():
        node = nodes[key]
        face, edge, dashed, text, _ = LINEAGE_STYLES[node.role]
        corner = at(x - NODE_WIDTH / 2, y + NODE_HEIGHT / 2)
        canvas.rect(*corner, NODE_WIDTH * UNIT, NODE_HEIGHT * UNIT, face, edge, 0.9, "3,1.5" if dashed else None,
                    rounding=(1.0 if node.role == JOB else 10.0) * UNIT)
        canvas.text(*at(x, y + 7 - 2.5), _fit(node.label, 34), size=7, anchor="middle", colour=text,
                    bold=node.role == FOCUS)
        canvas.text(*at(x, y - 9 - 2), _fit(node.detail, 44), size=5.5, anchor="middle", colour=text)
    _lineage_legend(canvas, roles, columns, (legend_top - bottom) * UNIT, canvas.height)
    return canvas.svg()


def _lineage_legend(canvas: Canvas, roles: list[str], columns: int, height: float, bottom: float) -> None:
    """A swatch and the name of each role shown, in `columns`, centred at the foot of the diagram."""
    size, swatch, gap = 6.0, 14.0, 16.0
    rows = -(-len(roles) // columns)
    width = max(swatch + 4 + text_width(LINEAGE_STYLES[role][4], size) for role in roles)
    used = min(columns, len(roles))
    x0 = max(2.0, (canvas.width - used * width - (used - 1) * gap) / 2)
    canvas.group("legend")
    for index, role in enumerate(roles):
        face, edge, dashed, _, text = LINEAGE_STYLES[role]
        row, column = divmod(index, columns)
        x = x0 + column * (width + gap)
        y = bottom - height + height / rows * (row + 0.5)
        canvas.rect(x, y - 3.5, swatch, 7, face, edge, 0.8, "2,1" if dashed else None)
        canvas.text(x + swatch + 4, middle(y, size), text, size=size)
    canvas.end()


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


def _fit(text: str, width: int) -> str:
    """`text`, or its end behind an ellipsis when it is longer than `width` (names end in their most specific part)."""
    return text if len(text) <= width else "…" + text[-(width - 1):]

"""Charts as deterministic SVG (matplotlib, imported only when a chart is drawn): model metrics by subgroup with
their thresholds, and dataset composition."""

from __future__ import annotations

import io
from typing import Any

from techfile.assess.metrics import ResultVerdict, judge_results
from techfile.documents.base import Chart
from techfile.project import Dataset, Model, Risk

STYLE = {
    "svg.hashsalt": "techfile",  # stable element ids
    "svg.fonttype": "none",  # text stays text, set in the shipped DejaVu Sans
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
BAR, NEAR, FAIL, THRESHOLD = "#3f51b5", "#f9a825", "#c62828", "#212121"
NEAR_MARGIN = 0.025  # a passing result this close to its threshold is drawn in amber


def _render(draw: Any, height: float, width: float = 7.0) -> bytes:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(width, height))
        draw(figure)
        _fit_margins(figure, width, height)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "techfile"})
    return buffer.getvalue()


def _fit_margins(figure: Any, width: float, height: float) -> None:
    """Margins from the longest tick label, in inches: one drawing pass instead of tight_layout's two."""
    labels = [t.get_text() for axes in figure.axes for t in axes.get_yticklabels()]
    left = min(0.6, (0.3 + 0.068 * max((len(text) for text in labels), default=4)) / width)
    rows = max(1, len(figure.axes))
    figure.subplots_adjust(left=left, right=1 - 0.15 / width, top=1 - 0.3 / height, bottom=0.5 / height,
                           hspace=0.9 * rows / height)


def model_charts(model: Model) -> list[Chart]:
    """One chart per metric with per-slice results: value and 95% CI per slice, the threshold marked in red."""
    verdicts = judge_results(model)
    charts = []
    for metric in model.metrics:
        rows = [v for v in verdicts if v.metric.id == metric.id]
        if not any(v.scope != "overall" for v in rows):
            continue

        def draw(figure: Any, rows: list[ResultVerdict] = rows, label: str = metric.name) -> None:
            axes = figure.add_subplot(1, 1, 1)
            values = [v.result.value for v in rows]
            colours = [FAIL if v.passed is False else NEAR if _near(v.result.value, v.threshold) else BAR for v in rows]
            axes.barh(range(len(rows)), values, color=colours, height=0.6)
            for position, verdict in enumerate(rows):
                if len(verdict.result.ci) == 2:
                    axes.plot(verdict.result.ci, [position, position], color=THRESHOLD, linewidth=0.8)
                if verdict.threshold is not None:
                    axes.plot([verdict.threshold] * 2, [position - 0.4, position + 0.4], color=FAIL, linewidth=1.4)
            axes.set_yticks(list(range(len(rows))), _slice_labels(rows))
            axes.invert_yaxis()
            lowest = min(values + [v.threshold for v in rows if v.threshold is not None])
            axes.set_xlim(max(0.0, lowest - 0.05), max(1.0, max(values) * 1.02))
            axes.set_xlabel(label)
            axes.set_title(f"{label} by slice", loc="left", fontsize=8)

        svg = _render(draw, height=0.9 + 0.22 * len(rows))
        charts.append(Chart(f"model-{model.id}-{metric.id}", svg,
                            f"{metric.name} of {model.name} by slice, with 95% confidence intervals; red marks: thresholds"))
    return charts


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

    def draw(figure: Any) -> None:
        grid = figure.add_gridspec(len(panels), 1, height_ratios=[len(labels) + 2 for _, labels, _ in panels])
        for index, (title, labels, counts) in enumerate(panels):
            axes = figure.add_subplot(grid[index])
            axes.barh(range(len(labels)), counts, color=BAR, height=0.6)
            axes.set_yticks(list(range(len(labels))), labels)
            axes.invert_yaxis()
            axes.set_title(title, loc="left")

    svg = _render(draw, height=sum(0.9 + 0.22 * len(labels) for _, labels, _ in panels))
    return Chart(f"dataset-{dataset.id}", svg, f"{dataset.name}: composition by split, label and subgroup")


def _slice_labels(rows: list[ResultVerdict]) -> list[str]:
    """Slice labels, with the dataset added where one slice is reported on several datasets."""
    labels = [v.slice_label for v in rows]
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

    def draw(figure: Any) -> None:
        axes = figure.add_subplot(1, 1, 1)
        axes.imshow(counts, cmap="Oranges", vmin=0, vmax=max(1, max(max(row) for row in counts)))
        for row, values in enumerate(counts):
            for column, count in enumerate(values):
                axes.text(column, row, str(count) if count else "", ha="center", va="center", fontsize=10)
        axes.set_xticks(range(4), levels)
        axes.set_yticks(range(4), list(reversed(levels)))
        axes.set_xlabel("Residual level")
        axes.set_ylabel("Inherent level")
        axes.set_title("Risks by inherent and residual level", loc="left", fontsize=8)

    return Chart("risk-heatmap", _render(draw, height=3.2, width=4.2), "Heat map of risks: inherent level against residual level")

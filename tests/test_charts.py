"""Charts: an axis whose values and thresholds are all equal still gets a range matplotlib can draw; charts drawn in
worker processes are those drawn in the rendering process."""

from __future__ import annotations

import multiprocessing
import threading
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from techfile.assess.metrics import Limit, ResultVerdict
from techfile.documents import charts
from techfile.documents.base import Chart
from techfile.documents.charts import (
    PendingChart,
    _axis_range,
    _draw,
    _draw_estimates,
    chart_workers,
    dataset_chart,
    draw_handed_charts,
    model_charts,
    risk_heatmap,
)
from techfile.loading import load_project
from techfile.project import Metric, MetricResult
from techfile.publish.build import build

from conftest import SAMPLE


def equal_rows(value: float, metric: Metric) -> list[ResultVerdict]:
    """Two slices whose estimate, interval ends and threshold are all `value`."""
    return [ResultVerdict(MetricResult(metric.id, value, [value, value], {"sex": sex}), metric, "subgroup",
                          Limit(low=value), "pass") for sex in ("female", "male")]


@pytest.mark.parametrize("value", [0.9, 0.0, -3.0, 250_000.0, 1e17])
@pytest.mark.parametrize("comparison", [None, "difference", "ratio"])
def test_a_range_of_no_width_is_padded_and_drawn_without_a_warning(value: float, comparison: str | None) -> None:
    metric = Metric("accuracy", "Accuracy", "Share of correct reads.", "Headline metric.", comparison=comparison)
    rows = equal_rows(value, metric)
    low, high = _axis_range(rows, [value], {"difference": 0.0, "ratio": 1.0}.get(comparison or ""))
    assert low < value < high
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = _draw(lambda figure: _draw_estimates(figure, rows, metric), 2.0, 7.0, 0.5)
    assert svg.startswith(b"<?xml")


def sample_charts() -> list[Chart]:
    """Every model and dataset chart of the sample, and its risk heat map, asked for in the order documents ask."""
    project = load_project(SAMPLE).project
    found = [chart for model in project.models for chart in model_charts(model)]
    found += [dataset_chart(dataset) for dataset in project.datasets]
    return [*(c for c in found if c is not None), risk_heatmap(project.risks)]


def test_charts_drawn_in_worker_processes_are_the_charts_drawn_here() -> None:
    """A build hands charts to spawned processes (the drawings must pickle); what they draw is byte for byte what this
    process draws, and a chart asked for twice is drawn once."""
    here = [chart.svg for chart in sample_charts()]
    with chart_workers(lambda: ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")), drawn_here=0):
        handed = sample_charts()
        again = model_charts(load_project(SAMPLE).project.models[0])[0]
        draw_handed_charts()
        assert all(isinstance(chart.svg, PendingChart) for chart in handed)
        assert again.svg is handed[0].svg
        assert [chart.drawn().svg for chart in handed] == here
    assert len(here) >= 5


def test_charts_no_worker_has_begun_are_drawn_here() -> None:
    """While the only worker is busy, the rendering process draws the handed charts itself instead of waiting."""
    busy = threading.Event()
    pool = ThreadPoolExecutor(1)
    pool.submit(busy.wait, 30)
    with chart_workers(lambda: pool, drawn_here=0):
        handed = sample_charts()
        draw_handed_charts()
        pending = [chart.svg for chart in handed if isinstance(chart.svg, PendingChart)]
        assert pending and all(p.future.cancelled() for p in pending)
        drawn = [chart.drawn().svg for chart in handed]
        busy.set()
    assert drawn == [chart.svg for chart in sample_charts()]


def test_a_project_with_few_charts_starts_no_process() -> None:
    def start() -> ProcessPoolExecutor:
        raise AssertionError("a worker process was started for a handful of charts")

    with chart_workers(start):
        drawn = sample_charts()
        draw_handed_charts()
    assert len(drawn) <= charts.DRAWN_HERE and all(isinstance(chart.svg, bytes) for chart in drawn)


def test_a_build_with_chart_workers_equals_a_build_drawing_every_chart_itself(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECHFILE_CACHE_DIR", "")  # no chart store: every chart is drawn in each build
    monkeypatch.setattr(charts, "DRAWN_HERE", 0)  # every chart handed to the worker (the sample has few)
    outputs = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs-{jobs}"
        build(SAMPLE, out, pdf=False, docx=False, xlsx=False, site=False, jobs=jobs)
        outputs[jobs] = {p.relative_to(out / "markdown").as_posix(): p.read_bytes() for p in sorted((out / "markdown").rglob("*"))
                         if p.is_file()}
    assert any(name.startswith("charts/") for name in outputs[1])
    assert outputs[1] == outputs[2]

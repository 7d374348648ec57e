"""Charts: an axis whose values and thresholds are all equal still gets a range matplotlib can draw."""

from __future__ import annotations

import warnings

import pytest

from techfile.assess.metrics import Limit, ResultVerdict
from techfile.documents.charts import _axis_range, _draw, _draw_estimates
from techfile.project import Metric, MetricResult


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

"""Charts, written as SVG by techfile itself: every value drawn lies on its axes, ticks are round and readable, an axis
whose values and thresholds are all equal still gets a range, source text stays text, and the colours stay legible."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from techfile.assess.metrics import Limit, ResultVerdict
from techfile.documents.charts import _axis_range, composition_svg, estimates_svg, heatmap_svg
from techfile.documents.svg import Canvas, text_width, tick_labels, ticks
from techfile.project import Metric, MetricResult

SVG = "{http://www.w3.org/2000/svg}"


def rows_of(values: list[tuple[float, float, float]], metric: Metric, threshold: float) -> list[ResultVerdict]:
    """A result per (value, CI low, CI high), each on its own slice, judged against `threshold`."""
    return [ResultVerdict(MetricResult(metric.id, value, [low, high], {"site": f"s{index}"}), metric, "subgroup",
                          Limit(low=threshold), "pass" if value >= threshold else "fail")
            for index, (value, low, high) in enumerate(values)]


def parsed(svg: bytes) -> ET.Element:
    assert svg.startswith(b"<?xml")
    return ET.fromstring(svg)


def canvas_size(root: ET.Element) -> tuple[float, float]:
    _, _, width, height = (float(n) for n in root.get("viewBox", "").split())
    return width, height


def texts(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}text"))


@pytest.mark.parametrize("value", [0.9, 0.0, -3.0, 250_000.0, 1e17])
@pytest.mark.parametrize("comparison", [None, "difference", "ratio"])
def test_a_range_of_no_width_is_padded_and_drawn(value: float, comparison: str | None) -> None:
    metric = Metric("accuracy", "Accuracy", "Share of correct reads.", "Headline metric.", comparison=comparison)
    rows = [ResultVerdict(MetricResult(metric.id, value, [value, value], {"sex": sex}), metric, "subgroup",
                          Limit(low=value), "pass") for sex in ("female", "male")]
    low, high = _axis_range(rows, [value], {"difference": 0.0, "ratio": 1.0}.get(comparison or ""))
    assert low < value < high
    root = parsed(estimates_svg(rows, metric))
    labels = [t.text for t in texts(root)]
    assert f"threshold {value:g} (subgroup)" in labels and "Sex: female" in labels


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, st.floats(0, 1e5), st.floats(0, 1e5)), min_size=1, max_size=12), finite)
def test_every_estimate_and_interval_lies_within_the_axes(spread: list[tuple[float, float, float]], threshold: float) -> None:
    """Dots, whiskers and threshold lines are drawn between the axes' ends, never over the labels or off the page."""
    metric = Metric("auroc", "AUROC", "Area under the curve.", "Ranking quality.")
    rows = rows_of([(v, v - below, v + above) for v, below, above in spread], metric, threshold)
    root = parsed(estimates_svg(rows, metric))
    width, _ = canvas_size(root)
    lines = [[tuple(float(n) for n in point.split(",")) for point in e.get("points", "").split()]
             for e in root.iter(f"{SVG}polyline") if e.get("stroke") == "#212121" and e.get("stroke-width") == "0.8"]
    spine = max((line for line in lines if line[0][1] == line[-1][1]), key=lambda line: line[-1][0] - line[0][0])
    left, right = spine[0][0], spine[-1][0]
    assert 0 < left < right <= width
    dots = [float(c.get("cx", "nan")) for c in root.iter(f"{SVG}circle")][:len(rows)]  # the legend's come after
    assert len(dots) == len(rows) and all(left - 0.01 <= x <= right + 0.01 for x in dots)


@settings(max_examples=300, deadline=None)
@given(finite, st.floats(1e-6, 1e7), st.booleans())
def test_ticks_are_round_evenly_spaced_within_the_range_and_told_apart(low: float, span: float, whole: bool) -> None:
    if whole:
        low = 0.0
    assume(span >= abs(low) * 1e-9)  # the axes are never narrower (charts._margin); below that floats blur the steps
    high = low + span
    values = ticks(low, high, whole=whole)
    assert 1 <= len(values) <= 7
    assert all(low - span * 1e-6 <= v <= high + span * 1e-6 for v in values)
    if len(values) > 1:
        step = (values[-1] - values[0]) / (len(values) - 1)
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert any(math.isclose(mantissa, m, rel_tol=1e-4) for m in (1, 2, 2.5, 5, 10))
        assert len(set(tick_labels(values))) == len(values)
    if whole:
        assert all(v == int(v) for v in values)
    assert len(values) >= 2 or span < 1  # a range of any width has at least two ticks (counts: from one up)


def test_source_text_is_escaped_text_and_characters_xml_forbids_are_dropped() -> None:
    canvas = Canvas(100, 50)
    payload = '</text><script>alert(1)</script>&amp;"\x00\x1b\ufffe'
    canvas.text(1, 10, payload)
    root = parsed(canvas.svg())
    assert [t.text for t in texts(root)] == ['</text><script>alert(1)</script>&amp;"']
    assert not list(root.iter(f"{SVG}script"))


def test_composition_bars_end_at_their_counts_with_whole_ticks_and_labels_inside_the_canvas() -> None:
    long = "scanner_manufacturer=" + "x" * 200
    root = parsed(composition_svg([("Instances per split", ["train", "test"], [3, 1]),
                                   ("Instances per subgroup", [long, "sex=female"], [120_000, 5])]))
    width, height = canvas_size(root)
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == "#3f51b5"]
    lengths = [float(r.get("width", "0")) for r in bars]
    assert lengths[0] == pytest.approx(3 * lengths[1], rel=0.01)
    labels = [t.text or "" for t in texts(root)]
    assert {"3", "1", "120000", "5"} <= set(labels) and "0.5" not in labels and "2.5" not in labels
    for text in texts(root):
        x, size = float(text.get("x", "0")), float(text.get("font-size", "8"))
        anchor = text.get("text-anchor", "start")
        extent = text_width(text.text or "", size)
        start = x - extent if anchor == "end" else x - extent / 2 if anchor == "middle" else x
        end = x if anchor == "end" else x + extent / 2 if anchor == "middle" else x + extent
        assert -0.5 <= start and end <= width + 0.5, text.text
        assert 0 <= float(text.get("y", "0")) <= height
    assert any((t.text or "").startswith("…") for t in texts(root))  # the long label shortened, its end kept


def test_heatmap_counts_are_legible_on_every_shade() -> None:
    """A count on a dark square is white, on a light one dark: the contrast between them stays at least 4.5:1."""
    counts = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 40]]
    root = parsed(heatmap_svg(counts, ["low", "medium", "high", "critical"]))
    cells = [r for r in root.iter(f"{SVG}rect")][1:17]  # after the white ground
    numbers = [t for t in texts(root) if re.fullmatch(r"\d+", t.text or "")]
    assert [int(t.text or "") for t in numbers] == [n for row in counts for n in row if n]
    shades = [c.get("fill", "") for c, n in zip(cells, [n for row in counts for n in row], strict=True) if n]
    for text, shade in zip(numbers, shades, strict=True):
        assert _contrast(text.get("fill", "#212121"), shade) >= 4.5, (text.text, shade)


def _contrast(first: str, second: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)

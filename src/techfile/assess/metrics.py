"""Judge each declared model result against its acceptance threshold: overall, per subgroup, per intersection.

The one place where a result's verdict is decided — pass, fail or inconclusive — read by `check`
(assess/fairness.py), the model card, the technical file and the CycloneDX and Hugging Face exports.

- A threshold is a `Limit`: a minimum, a maximum or a range (`between`, both ends included). A plain number
  is a minimum, or a maximum for a metric with `higher_is_better: false` (the meaning it always had).
- Gate `point` (the default): the value decides pass or fail; a passing value whose CI spans the threshold,
  or whose n is below the metric's `min_n` (or unknown while `min_n` is set), is inconclusive. A result may accept
  that (`inconclusive_accepted`, with the reason): it stays inconclusive, and `check` does not warn about it.
- Gate `lower_bound`: the CI's conservative side must meet the threshold, so a passing value without a CI,
  with a CI that spans the threshold or with too small an n is inconclusive, and that blocks the gate.
- A reference-group metric (`comparison: difference | ratio`) compares each slice with `reference_group`;
  the reference group itself, the overall slice and slices over other attributes are not judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from techfile.project import Metric, MetricResult, Model

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
POINT, LOWER_BOUND = "point", "lower_bound"
SCOPES = ("overall", "subgroup", "intersection")


@dataclass(frozen=True)
class Limit:
    """What a value must meet: at least `low`, at most `high`, or both (a range, ends included)."""

    low: float | None = None
    high: float | None = None

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    @property
    def two_sided(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def valid(self) -> bool:
        return not self.two_sided or self.low <= self.high  # type: ignore[operator]

    def nearest(self, value: float) -> float:
        """The bound that matters for `value`: the one it misses, else the closer one."""
        if self.low is None:
            return self.high  # type: ignore[return-value]
        if self.high is None:
            return self.low
        return self.low if abs(value - self.low) <= abs(value - self.high) else self.high

    def missed_side(self, value: float) -> str:
        return "below" if self.low is not None and value < self.low else "above"

    @property
    def noun(self) -> str:
        return "range" if self.two_sided else "threshold"

    def __str__(self) -> str:
        if self.two_sided:
            return f"[{self.low:g}, {self.high:g}]"
        return f"≥ {self.low:g}" if self.low is not None else f"≤ {self.high:g}"

    @property
    def bare(self) -> str:
        """As in a message: `0.85` for a one-sided threshold, `[0.8, 1.25]` for a range."""
        if self.two_sided:
            return str(self)
        return f"{self.low if self.low is not None else self.high:g}"


def limit_of(spec: float | dict[str, Any] | None, higher_is_better: bool = True) -> Limit | None:
    """The Limit a threshold as written means: a number, {min: x}, {max: x} or {between: [low, high]}."""
    if spec is None:
        return None
    if isinstance(spec, dict):
        if "between" in spec:
            low, high = spec["between"]
            return Limit(float(low), float(high))
        if "min" in spec:
            return Limit(low=float(spec["min"]))
        if "max" in spec:
            return Limit(high=float(spec["max"]))
        return None
    return Limit(low=float(spec)) if higher_is_better else Limit(high=float(spec))


def threshold_text(spec: float | dict[str, Any] | None) -> str | None:
    """A threshold as written, for a table: `0.9` for a plain number, `≥ 0.9`, `≤ 0.1` or `[0.8, 1.25]` for the rest."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        return f"{spec:g}"
    limit = limit_of(spec)
    return str(limit) if limit is not None else None


def acceptance_text(metric: Metric) -> str:
    """The metric's acceptance rule in one line: thresholds overall / subgroup / intersection, and what qualifies them."""
    text = " / ".join(threshold_text(t) or "—" for t in (metric.threshold, metric.subgroup_threshold, metric.intersection_threshold))
    if metric.comparison:
        text += f"; {metric.comparison} to {slice_label(metric.reference_group)}"
    if metric.min_n is not None:
        text += f"; min n {metric.min_n}"
    if metric.gate == LOWER_BOUND:
        text += "; gate: CI lower bound"
    return text


def scope_of(result: MetricResult) -> str:
    return "overall" if not result.slice else "subgroup" if len(result.slice) == 1 else "intersection"


def threshold_spec(metric: Metric, scope: str) -> float | dict[str, Any] | None:
    """The threshold as written for a scope; subgroups and intersections fall back to the broader one."""
    if scope == "intersection":
        return next((t for t in (metric.intersection_threshold, metric.subgroup_threshold, metric.threshold) if t is not None), None)
    if scope == "subgroup":
        return metric.subgroup_threshold if metric.subgroup_threshold is not None else metric.threshold
    return metric.threshold


def limit_for(metric: Metric, scope: str) -> Limit | None:
    return limit_of(threshold_spec(metric, scope), metric.higher_is_better)


def reference_for(metric: Metric, slice_: dict[str, str]) -> dict[str, str] | None:
    """The slice a reference-group metric compares `slice_` with, or None when it is not compared: the overall
    slice, a slice over an attribute without a reference value, or the reference group itself."""
    if not slice_ or any(attribute not in metric.reference_group for attribute in slice_):
        return None
    reference = {attribute: metric.reference_group[attribute] for attribute in slice_}
    return None if reference == slice_ else reference


@dataclass(frozen=True)
class ResultVerdict:
    """One result with the limit that applies to it and the verdict: pass, fail, inconclusive, or None (no limit)."""

    result: MetricResult
    metric: Metric
    scope: str  # "overall", "subgroup" or "intersection"
    limit: Limit | None
    status: str | None
    reason: str = ""  # why a result is inconclusive, or why it is not judged

    @property
    def passed(self) -> bool | None:
        """True for pass, False for fail; None when inconclusive or when no threshold applies."""
        return True if self.status == PASS else False if self.status == FAIL else None

    @property
    def inconclusive(self) -> bool:
        return self.status == INCONCLUSIVE

    @property
    def accepted(self) -> bool:
        """An inconclusive result whose uncertainty the sources accept, with a reason (point gate only)."""
        return self.inconclusive and self.metric.gate != LOWER_BOUND and bool(self.result.inconclusive_accepted)

    @property
    def blocking(self) -> bool:
        """Whether the verdict fails the gate: a fail, or an inconclusive result under the lower_bound gate."""
        return self.status == FAIL or (self.status == INCONCLUSIVE and self.metric.gate == LOWER_BOUND)

    @property
    def threshold(self) -> float | None:
        """The bound that matters for this value (for charts and one-number messages)."""
        return None if self.limit is None else self.limit.nearest(self.result.value)

    @property
    def outcome(self) -> str:
        return {PASS: "pass", FAIL: "FAIL", INCONCLUSIVE: "inconclusive"}.get(self.status or "", "no threshold")

    @property
    def slice_label(self) -> str:
        return slice_label(self.result.slice)


def slice_label(slice_: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(slice_.items())) or "overall"


def judge(result: MetricResult, metric: Metric) -> ResultVerdict:
    """The verdict on one result of `metric`."""
    scope = scope_of(result)
    if metric.comparison and reference_for(metric, result.slice) is None:
        return ResultVerdict(result, metric, scope, None, None, "not compared with the reference group")
    limit = limit_for(metric, scope)
    if limit is None or not limit.valid:
        return ResultVerdict(result, metric, scope, limit, None)
    value = result.value
    if not limit.holds(value):
        return ResultVerdict(result, metric, scope, limit, FAIL)
    reason = _inconclusive_reason(result, metric, limit)
    return ResultVerdict(result, metric, scope, limit, INCONCLUSIVE if reason else PASS, reason)


def _inconclusive_reason(result: MetricResult, metric: Metric, limit: Limit) -> str:
    if metric.min_n is not None:
        if result.n is None:
            return f"its n is not recorded (min_n {metric.min_n})"
        if result.n < metric.min_n:
            return f"n = {result.n} is below min_n {metric.min_n}"
    ci = result.ci if len(result.ci) == 2 and all(math.isfinite(b) for b in result.ci) else None
    if ci is None:
        return "it has no CI (the lower_bound gate needs one)" if metric.gate == LOWER_BOUND else ""
    if not (limit.holds(ci[0]) and limit.holds(ci[1])):
        return f"its CI [{ci[0]:g}, {ci[1]:g}] spans it"
    return ""


def judge_results(model: Model) -> list[ResultVerdict]:
    """Every result of `model` whose metric is declared, judged against its threshold."""
    metrics = {m.id: m for m in model.metrics}
    return [judge(result, metrics[result.metric]) for result in model.results if result.metric in metrics]


def gate_passes(verdicts: list[ResultVerdict]) -> bool:
    """The CI gate: no fail, and no inconclusive result under the lower_bound gate."""
    return not any(v.blocking for v in verdicts)

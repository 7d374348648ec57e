"""Judge each declared model result against its acceptance threshold: overall, per subgroup, per intersection."""

from __future__ import annotations

from dataclasses import dataclass

from techfile.project import Metric, MetricResult, Model


@dataclass(frozen=True)
class ResultVerdict:
    """One result with the threshold that applies to it and whether it meets it."""

    result: MetricResult
    metric: Metric
    scope: str  # "overall", "subgroup" or "intersection"
    threshold: float | None
    passed: bool | None  # None when no threshold applies

    @property
    def outcome(self) -> str:
        return "no threshold" if self.passed is None else "pass" if self.passed else "FAIL"

    @property
    def slice_label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.result.slice.items())) or "overall"


def scope_of(result: MetricResult) -> str:
    return "overall" if not result.slice else "subgroup" if len(result.slice) == 1 else "intersection"


def threshold_for(metric: Metric, scope: str) -> float | None:
    """The acceptance threshold for a scope; subgroups and intersections fall back to the broader one."""
    if scope == "intersection":
        return next((t for t in (metric.intersection_threshold, metric.subgroup_threshold, metric.threshold) if t is not None), None)
    if scope == "subgroup":
        return metric.subgroup_threshold if metric.subgroup_threshold is not None else metric.threshold
    return metric.threshold


def judge_results(model: Model) -> list[ResultVerdict]:
    """Every result of `model` whose metric is declared, judged against its threshold."""
    metrics = {m.id: m for m in model.metrics}
    verdicts = []
    for result in model.results:
        metric = metrics.get(result.metric)
        if metric is None:
            continue
        scope = scope_of(result)
        threshold = threshold_for(metric, scope)
        passed = None if threshold is None else (result.value >= threshold if metric.higher_is_better else result.value <= threshold)
        verdicts.append(ResultVerdict(result, metric, scope, threshold, passed))
    return verdicts

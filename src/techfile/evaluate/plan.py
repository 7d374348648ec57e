"""What one evaluation computes for a model: which metrics, with which predictions, on which slices.

Slices are the overall slice, every declared subgroup value and every combination of the values of each
declared intersection (`factors.intersections`). A reference-group metric is computed for the slices that
differ from its reference group over the reference's attributes; the reference group is computed too (it is
a declared subgroup or intersection cell) but gets no result of its own.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from techfile.assess.metrics import reference_for, slice_label
from techfile.evaluate.functions import FUNCTIONS, PREDICTION, MetricFunction
from techfile.project import Metric, Model

SliceKey = tuple[tuple[str, str], ...]


def slice_key(slice_: dict[str, str]) -> SliceKey:
    return tuple(sorted(slice_.items()))


@dataclass(frozen=True)
class SliceSpec:
    """One slice: its attribute values, and the attribute set (the MetricFrame) it belongs to."""

    slice: dict[str, str]
    frame: tuple[str, ...]  # () for overall, (sex,), (sex, age_band), …

    @property
    def key(self) -> SliceKey:
        return slice_key(self.slice)

    @property
    def label(self) -> str:
        return slice_label(self.slice)


@dataclass(frozen=True)
class MetricSpec:
    """A declared metric with its function and where its predictions come from: the prediction column
    ("prediction"), `score >= decision_threshold` (a float), or the score itself (None)."""

    metric: Metric
    function: MetricFunction
    rule: str | float | None

    @property
    def rule_text(self) -> str:
        if self.rule is None:
            return "the score"
        if self.rule == PREDICTION:
            return "the prediction column"
        return f"prediction = score >= {self.rule:g}"


@dataclass(frozen=True)
class Target:
    """One result to write: a metric on a slice, compared with `reference` for a reference-group metric."""

    spec: MetricSpec
    slice: SliceSpec
    reference: SliceSpec | None = None


@dataclass(frozen=True)
class Plan:
    metrics: list[MetricSpec]
    slices: list[SliceSpec]
    targets: list[Target]
    attributes: dict[str, list[str]]  # every declared attribute with its values (the bootstrap's strata)

    @property
    def frames(self) -> list[tuple[str, ...]]:
        return list(dict.fromkeys(s.frame for s in self.slices if s.frame))


def evaluation_plan(model: Model) -> Plan:
    """The plan for `model`: metrics with a `function`, every declared slice, the results to write."""
    settings = model.evaluation
    assert settings is not None
    specs = []
    for metric in model.metrics:
        if metric.function is None:
            continue
        function = FUNCTIONS[metric.function]
        if function.needs != PREDICTION:
            rule: str | float | None = None
        elif metric.decision_threshold is not None and settings.score is not None:
            rule = float(metric.decision_threshold)
        else:
            rule = PREDICTION
        specs.append(MetricSpec(metric, function, rule))
    attributes = {g.attribute: list(g.values) for g in model.factors.subgroups}
    slices = [SliceSpec({}, ())]
    slices += [SliceSpec({a: v}, (a,)) for a, values in attributes.items() for v in values]
    for combination in model.factors.intersections:
        frame = tuple(dict.fromkeys(combination))
        if len(frame) < 2 or any(a not in attributes for a in frame):
            continue
        for values in itertools.product(*(attributes[a] for a in frame)):
            slices.append(SliceSpec(dict(zip(frame, values, strict=True)), frame))
    slices = list({s.key: s for s in slices}.values())
    by_key = {s.key: s for s in slices}
    targets = []
    for spec in specs:
        for slice_ in slices:
            if spec.metric.comparison:
                reference = reference_for(spec.metric, slice_.slice)
                if reference is None or slice_key(reference) not in by_key:
                    continue
                targets.append(Target(spec, slice_, by_key[slice_key(reference)]))
            else:
                targets.append(Target(spec, slice_))
    return Plan(specs, slices, targets, attributes)

"""The fairness gate: every declared subgroup and intersection meets its metric's acceptance threshold, with
evidence strong enough to say so. The verdicts come from assess/metrics.py; this module only reports them."""

from __future__ import annotations

from techfile.assess.metrics import FAIL, INCONCLUSIVE, LOWER_BOUND, ResultVerdict, judge_results, limit_for, reference_for
from techfile.diagnostics import Diagnostic, finding
from techfile.project import Metric, Model, Project

FUNCTIONS_NEEDING_A_SCORE = frozenset({"auroc", "calibration_error"})


def check_fairness(project: Project) -> list[Diagnostic]:
    """A result that misses its threshold, or whose evidence is inconclusive, a declared subgroup without a
    result, and metric declarations that cannot be judged."""
    diagnostics: list[Diagnostic] = []
    for model in project.models:
        diagnostics += _declarations(model)
        diagnostics += _verdicts(model) + _missing_subgroup_results(model)
    return diagnostics


def _verdicts(model: Model) -> list[Diagnostic]:
    return [d for d in (verdict_diagnostic(model, v) for v in judge_results(model)) if d is not None]


def verdict_diagnostic(model: Model, verdict: ResultVerdict) -> Diagnostic | None:
    """The finding a verdict makes, if any: a fail, an inconclusive result, or a comparison that cannot be judged."""
    where = verdict.result.location
    if verdict.status == FAIL:
        return finding("TF801", where.path, where.line, where.col, _failed(model, verdict),
                       "Improve the model for this group, or record why the threshold changed (and who approved it) before lowering it.")
    if verdict.status == INCONCLUSIVE and not verdict.accepted:
        lower_bound = verdict.metric.gate == LOWER_BOUND
        return finding("TF806" if lower_bound else "TF805", where.path, where.line, where.col, _inconclusive(model, verdict),
                       "Evaluate on more data for this slice (a larger n narrows the CI)"
                       + ("; under `gate: lower_bound` the CI's conservative side must meet the threshold." if lower_bound
                          else ", or judge it by its CI with `gate: lower_bound`."))
    if verdict.metric.comparison and verdict.reason:
        return finding("TF810", where.path, where.line, where.col,
                       f"model {model.id!r}: {verdict.metric.id} for {verdict.slice_label} is not judged: a {verdict.metric.comparison} "
                       f"result must compare a slice over {', '.join(sorted(verdict.metric.reference_group))} with the reference "
                       f"group {_pairs(verdict.metric.reference_group)}",
                       "Remove the result, or give it a slice that differs from the reference group.")
    return None


def _failed(model: Model, verdict: ResultVerdict) -> str:
    where, limit = verdict.result.location, verdict.limit
    assert limit is not None
    return (f"model {model.id!r}: {verdict.metric.id} for {verdict.slice_label} is {verdict.result.value:g}, "
            f"{limit.missed_side(verdict.result.value)} its {verdict.scope} {limit.noun} {limit.bare} ({where.path}:{where.line})")


def _inconclusive(model: Model, verdict: ResultVerdict) -> str:
    where, limit = verdict.result.location, verdict.limit
    assert limit is not None
    return (f"model {model.id!r}: {verdict.metric.id} for {verdict.slice_label} is inconclusive: {verdict.result.value:g} "
            f"meets its {verdict.scope} {limit.noun} {limit.bare}, but {verdict.reason} ({where.path}:{where.line})")


def _missing_subgroup_results(model: Model) -> list[Diagnostic]:
    """For each metric with a subgroup threshold, every declared subgroup value needs a result (a reference-group
    metric: every value of the reference's attributes except the reference group itself)."""
    findings = []
    for metric in model.metrics:
        if metric.subgroup_threshold is None:
            continue
        reported = {tuple(r.slice.items()) for r in model.results if r.metric == metric.id and len(r.slice) == 1}
        for group in model.factors.subgroups:
            for value in group.values:
                if metric.comparison and reference_for(metric, {group.attribute: value}) is None:
                    continue
                if ((group.attribute, value),) not in reported:
                    where = model.location
                    findings.append(finding(
                        "TF802", where.path, where.line, where.col,
                        f"model {model.id!r}: {metric.id} has no result for declared subgroup {group.attribute}={value}",
                        f"Add a result with `metric: {metric.id}` and `slice: {{{group.attribute}: {value}}}`, "
                        "or remove the value from `factors.subgroups`."))
    return findings


def _declarations(model: Model) -> list[Diagnostic]:
    """Reference groups and intersections that name declared subgroups; ranges whose bounds are in order; and,
    when the model says how to read predictions, metrics that the predictions can compute."""
    declared = {g.attribute: g.values for g in model.factors.subgroups}
    findings = []
    for metric in model.metrics:
        where = metric.location
        for attribute, value in sorted(metric.reference_group.items()):
            if attribute not in declared:
                findings.append(finding(
                    "TF807", where.path, where.line, where.col,
                    f"model {model.id!r}: metric {metric.id} names reference group {attribute}={value}, but {attribute!r} is "
                    f"not a declared subgroup attribute ({', '.join(declared) or 'none declared'})",
                    "Name an attribute from `factors.subgroups`, or declare it there."))
            elif value not in declared[attribute]:
                findings.append(finding(
                    "TF807", where.path, where.line, where.col,
                    f"model {model.id!r}: metric {metric.id} names reference group {attribute}={value}, but {value!r} is not a "
                    f"declared value of {attribute} ({', '.join(declared[attribute])})",
                    "Name one of the declared values, or declare it in `factors.subgroups`."))
        for scope in ("overall", "subgroup", "intersection"):
            limit = limit_for(metric, scope)
            if limit is not None and not limit.valid:
                findings.append(finding(
                    "TF808", where.path, where.line, where.col,
                    f"model {model.id!r}: metric {metric.id} has a {scope} range {limit} whose lower bound is above its upper bound",
                    "Write the range as [low, high]."))
                break
        findings += _computable(model, metric)
    where = model.factors.location
    for attributes in model.factors.intersections:
        unknown = [a for a in attributes if a not in declared]
        if unknown:
            findings.append(finding(
                "TF809", where.path, where.line, where.col,
                f"model {model.id!r}: intersection [{', '.join(attributes)}] names {', '.join(map(repr, unknown))}, "
                f"not a declared subgroup attribute ({', '.join(declared) or 'none declared'})",
                "Intersections combine attributes declared in `factors.subgroups`."))
    return findings


def _computable(model: Model, metric: Metric) -> list[Diagnostic]:
    settings = model.evaluation
    if settings is None or metric.function is None:
        return []
    where = metric.location
    if metric.function in FUNCTIONS_NEEDING_A_SCORE and settings.score is None:
        need = "a score"
    elif metric.function not in FUNCTIONS_NEEDING_A_SCORE and settings.prediction is None and \
            (metric.decision_threshold is None or settings.score is None):
        need = "a prediction (an `evaluation.prediction` column, or a decision_threshold and an `evaluation.score` column)"
    else:
        return []
    return [finding("TF815", where.path, where.line, where.col,
                    f"model {model.id!r}: metric {metric.id} ({metric.function}) needs {need}, which `evaluation` does not map",
                    "Map the column in the model's `evaluation` section, or remove the metric's `function`.")]


def _pairs(slice_: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(slice_.items()))

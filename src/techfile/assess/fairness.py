"""The fairness gate: every declared subgroup and intersection meets its metric's acceptance threshold."""

from __future__ import annotations

from techfile.assess.metrics import judge_results
from techfile.diagnostics import Diagnostic, finding
from techfile.project import Model, Project


def check_fairness(project: Project) -> list[Diagnostic]:
    """A result that misses its threshold, or a declared subgroup without a result, fails `check`."""
    diagnostics: list[Diagnostic] = []
    for model in project.models:
        diagnostics += _missed_thresholds(model) + _missing_subgroup_results(model)
    return diagnostics


def _missed_thresholds(model: Model) -> list[Diagnostic]:
    findings = []
    for verdict in judge_results(model):
        if verdict.passed is not False:
            continue
        where = verdict.result.location
        side = "below" if verdict.metric.higher_is_better else "above"
        findings.append(finding(
            "TF801", where.path, where.line, where.col,
            f"model {model.id!r}: {verdict.metric.id} for {verdict.slice_label} is {verdict.result.value:g}, "
            f"{side} its {verdict.scope} threshold {verdict.threshold:g} ({where.path}:{where.line})",
            "Improve the model for this group, or record why the threshold changed (and who approved it) before lowering it."))
    return findings


def _missing_subgroup_results(model: Model) -> list[Diagnostic]:
    """For each metric with a subgroup threshold, every declared subgroup value needs a result."""
    findings = []
    for metric in model.metrics:
        if metric.subgroup_threshold is None:
            continue
        reported = {tuple(r.slice.items()) for r in model.results if r.metric == metric.id and len(r.slice) == 1}
        for group in model.factors.subgroups:
            for value in group.values:
                if ((group.attribute, value),) not in reported:
                    where = model.location
                    findings.append(finding(
                        "TF802", where.path, where.line, where.col,
                        f"model {model.id!r}: {metric.id} has no result for declared subgroup {group.attribute}={value}",
                        f"Add a result with `metric: {metric.id}` and `slice: {{{group.attribute}: {value}}}`, "
                        "or remove the value from `factors.subgroups`."))
    return findings

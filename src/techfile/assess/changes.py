"""What changed between two revisions of a project, in the terms a reviewer and a Notified Body care about,
and which changes may be a substantial modification (EU AI Act Art. 3(23), Art. 43(4))."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from techfile.assess.completeness import fact_present, field_fact
from techfile.assess.metrics import judge_results
from techfile.frameworks.catalogue import load_catalogue
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Project, Prose

SUBSTANTIAL = "possible substantial modification (Art. 3(23), Art. 43(4))"


@dataclass(frozen=True)
class Flag:
    """A change that may need a new conformity assessment, with the provision behind the concern."""

    what: str
    ref: str


@dataclass
class ChangeSummary:
    annex_iv_points: list[str] = field(default_factory=list)
    soa_decisions: list[str] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    thresholds: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any((self.annex_iv_points, self.soa_decisions, self.risks, self.metrics, self.thresholds, self.flags))


def _text(value: Any) -> Any:
    """A comparable form of a source value (prose compares by its text)."""
    if isinstance(value, Prose):
        return value.text.strip()
    if isinstance(value, list):
        return [_text(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: _text(getattr(value, k)) for k in value.__dataclass_fields__ if k not in ("location", "field_locations")}
    return value


def _fact_value(project: Project, fact: str) -> Any:
    if "." in fact:
        return _text(field_fact(project, fact))
    if fact in ("test_reports", "disaggregated_results", "declaration", "logging_coverage"):
        return fact_present(project, fact)
    return _text(getattr(project, fact, None))


def compare_projects(old: Project, new: Project) -> ChangeSummary:
    """The reviewer's summary of the change from `old` to `new`."""
    summary = ChangeSummary()
    if old.system and new.system:
        act = eu_ai_act()
        for point, sources in load_catalogue("annex_iv_sources").items():
            facts = sources["needs"] + sources.get("shows", [])
            if any(_fact_value(old, f) != _fact_value(new, f) for f in facts):
                summary.annex_iv_points.append(act.ref(point))
        _flag_system(old, new, summary)
    _compare_soa(old, new, summary)
    _compare_risks(old, new, summary)
    _compare_models(old, new, summary)
    return summary


def _flag_system(old: Project, new: Project, summary: ChangeSummary) -> None:
    assert old.system and new.system
    if _text(old.system.intended_purpose) != _text(new.system.intended_purpose):
        summary.flags.append(Flag("the intended purpose changed", "Art. 3(23), Art. 43(4)"))
    if _text(old.system.classification.annex_iii) != _text(new.system.classification.annex_iii):
        summary.flags.append(Flag("the Annex III classification changed", "Art. 6(2), Art. 3(23)"))
    if _text(old.system.classification.annex_i_product) != _text(new.system.classification.annex_i_product):
        summary.flags.append(Flag("the Annex I product classification changed", "Art. 6(1), Art. 3(23)"))


def _compare_soa(old: Project, new: Project, summary: ChangeSummary) -> None:
    before = {d.control: _text(d) for d in old.soa.decisions} if old.soa else {}
    after = {d.control: _text(d) for d in new.soa.decisions} if new.soa else {}
    for control in sorted(set(before) | set(after)):
        if before.get(control) != after.get(control):
            was, now = before.get(control), after.get(control)
            if was is None or now is None:
                summary.soa_decisions.append(f"{control}: decision {'added' if was is None else 'removed'}")
            else:
                changed = sorted(k for k in now if was.get(k) != now.get(k))
                summary.soa_decisions.append(f"{control}: {', '.join(changed)} changed")


def _compare_risks(old: Project, new: Project, summary: ChangeSummary) -> None:
    before, after = {r.id: r for r in old.risks}, {r.id: r for r in new.risks}
    for risk_id in sorted(set(before) - set(after)):
        summary.risks.append(f"{risk_id}: removed")
    for risk_id in sorted(set(after) - set(before)):
        risk = after[risk_id]
        summary.risks.append(f"{risk_id}: added ({risk.inherent_level} → {risk.residual_level})")
    for risk_id in sorted(set(before) & set(after)):
        was, now = before[risk_id], after[risk_id]
        if (was.inherent_level, was.residual_level) != (now.inherent_level, now.residual_level):
            summary.risks.append(f"{risk_id}: re-levelled from {was.inherent_level} → {was.residual_level} "
                                 f"to {now.inherent_level} → {now.residual_level}")


def _compare_models(old: Project, new: Project, summary: ChangeSummary) -> None:
    before = {m.id: m for m in old.models}
    for model in new.models:
        was = before.get(model.id)
        if was is not None:
            if _text(was.architecture) != _text(model.architecture) or was.model_type != model.model_type:
                summary.flags.append(Flag(f"the architecture of model {model.id!r} changed", "Art. 3(23), Annex IV point 2(b)"))
            if sorted(was.training_data) != sorted(model.training_data) or _dataset_versions(old, was.training_data) != _dataset_versions(new, model.training_data):
                summary.flags.append(Flag(f"the training data of model {model.id!r} changed", "Art. 3(23), Art. 10"))
            old_results = {(r.metric, tuple(sorted(r.slice.items())), r.dataset): r.value for r in was.results}
            for result in model.results:
                key = (result.metric, tuple(sorted(result.slice.items())), result.dataset)
                if key in old_results and old_results[key] != result.value:
                    label = (", ".join(f"{k}={v}" for k, v in key[1]) or "overall") + (f", {result.dataset}" if result.dataset else "")
                    summary.metrics.append(f"{model.id}: {result.metric} ({label}) {old_results[key]:g} → {result.value:g}")
            old_metrics = {m.id: m for m in was.metrics}
            for metric in model.metrics:
                prior = old_metrics.get(metric.id)
                limits = ("threshold", "subgroup_threshold", "intersection_threshold", "decision_threshold")
                if prior and any(getattr(prior, k) != getattr(metric, k) for k in limits):
                    summary.thresholds.append(f"{model.id}: {metric.id} thresholds changed")
        for verdict in judge_results(model):
            if verdict.passed is False and verdict.limit is not None:
                side = verdict.limit.missed_side(verdict.result.value)
                summary.flags.append(Flag(f"model {model.id!r}: {verdict.metric.id} for {verdict.slice_label} is {side} its "
                                          f"declared threshold ({verdict.result.value:g} {'<' if side == 'below' else '>'} "
                                          f"{verdict.threshold:g})", "Art. 15(1), Art. 3(23)"))


def _dataset_versions(project: Project, dataset_ids: list[str]) -> list[tuple[str, str, str | None]]:
    datasets = {d.id: d for d in project.datasets}
    return sorted((d, datasets[d].version, datasets[d].sha256) for d in dataset_ids if d in datasets)

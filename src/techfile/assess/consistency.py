"""Plain contradictions between sources, each its own code: intervals that exclude their value, results measured on
training data, logbook hashes that disagree with the dataset, risk levels that contradict the risk matrix, log
retention under the legal minimum, reviews overdue, and the SoA disagreeing with the controls."""

from __future__ import annotations

import datetime as dt
import re

from techfile.assess.classification import classify
from techfile.diagnostics import Diagnostic, finding
from techfile.project import Project, Risk

LIKELIHOODS = ("rare", "unlikely", "possible", "likely", "almost-certain")
SEVERITIES = ("negligible", "minor", "moderate", "major", "critical")
MIN_LOG_RETENTION_MONTHS = 6  # Art. 19(1) for providers, Art. 26(6) for deployers
PROFILING_USE_CASES = ("4", "4.a", "4.b", "5.b", "5.c")
_NUMBER_WORDS = {w: i for i, w in enumerate(("zero one two three four five six seven eight nine ten eleven twelve "
                                             "thirteen fourteen fifteen sixteen seventeen eighteen").split())}
_DURATION = re.compile(r"\b(\d+|" + "|".join(_NUMBER_WORDS) + r")[\s-]*(day|week|month|year)s?\b", re.IGNORECASE)
_MONTHS_PER = {"day": 12 / 365.25, "week": 12 / 52.18, "month": 1.0, "year": 12.0}


def check_consistency(project: Project, as_of: str) -> list[Diagnostic]:
    return (_result_rules(project) + _logbook_hashes(project) + _risk_matrix_rules(project) + _log_retention(project)
            + _overdue_reviews(project, as_of) + _profiling(project) + _soa_reconciled(project))


def default_level(likelihood: str, severity: str) -> str:
    """The default matrix: likelihood rank × severity rank (1-5 each); ≤4 low, ≤9 medium, ≤16 high, else critical."""
    score = (LIKELIHOODS.index(likelihood) + 1) * (SEVERITIES.index(severity) + 1)
    return "low" if score <= 4 else "medium" if score <= 9 else "high" if score <= 16 else "critical"


def matrix_level(project: Project, likelihood: str, severity: str) -> str:
    """The level the project's risk matrix (techfile.yaml `risk_matrix`) gives, or the default matrix's."""
    assert project.settings is not None
    declared = project.settings.risk_matrix
    return declared[likelihood][severity] if declared else default_level(likelihood, severity)


def _result_rules(project: Project) -> list[Diagnostic]:
    findings = []
    for model in project.models:
        trained_on = set(model.training_data)
        for result in model.results:
            where = result.location
            label = ", ".join(f"{k}={v}" for k, v in sorted(result.slice.items())) or "overall"
            if len(result.ci) == 2:
                lower, upper = result.ci
                if lower > upper:
                    findings.append(finding("TF930", where.path, where.line, where.col,
                                            f"model {model.id!r}: {result.metric} for {label} has a confidence interval "
                                            f"[{lower:g}, {upper:g}] whose lower bound is above its upper bound",
                                            "Write the interval as [lower, upper]."))
                elif not lower <= result.value <= upper:
                    findings.append(finding("TF930", where.path, where.line, where.col,
                                            f"model {model.id!r}: {result.metric} for {label} is {result.value:g}, outside "
                                            f"its own confidence interval [{lower:g}, {upper:g}]",
                                            "An interval around an estimate contains it: check the value and the interval."))
            if result.dataset and result.dataset in trained_on:
                findings.append(finding("TF931", where.path, where.line, where.col,
                                        f"model {model.id!r}: {result.metric} for {label} is measured on {result.dataset!r}, "
                                        "which the model is trained on",
                                        "Report results on held-out validation or test data (`evaluation_data`), not training data."))
    return findings


def _logbook_hashes(project: Project) -> list[Diagnostic]:
    datasets = {d.id: d for d in project.datasets}
    findings = []
    for entry in project.logbook:
        for index, use in enumerate(entry.datasets):
            dataset = datasets.get(use.dataset)
            if dataset is None or dataset.sha256 is None or use.sha256 == dataset.sha256:
                continue
            where = entry.location
            findings.append(finding("TF932", where.path, where.line, where.col,
                                    f"logbook entry {entry.id!r} records {use.dataset} with sha256 {use.sha256[:12]}…, but "
                                    f"the dataset records {dataset.sha256[:12]}… (datasets entry {index + 1})",
                                    "If the run used another version of the data, give that version its own dataset; "
                                    "otherwise correct the dataset's `sha256`. Committed logbook entries are not edited."))
    return findings


def _risk_matrix_rules(project: Project) -> list[Diagnostic]:
    findings = []
    for risk in project.risks:
        findings += _level_against_matrix(project, risk, risk.likelihood, risk.severity, risk.inherent_level, "inherent")
        if risk.residual_likelihood and risk.residual_severity:
            findings += _level_against_matrix(project, risk, risk.residual_likelihood, risk.residual_severity,
                                              risk.residual_level, "residual")
    return findings


def _level_against_matrix(project: Project, risk: Risk, likelihood: str, severity: str, level: str, which: str) -> list[Diagnostic]:
    expected = matrix_level(project, likelihood, severity)
    if expected == level:
        return []
    assert project.settings is not None
    matrix = "techfile.yaml `risk_matrix`" if project.settings.risk_matrix else "the default risk matrix"
    where = risk.location
    return [finding("TF933", where.path, where.line, where.col,
                    f"risk {risk.id!r}: {which} level {level} contradicts {likelihood} × {severity}, which is {expected} "
                    f"under {matrix}",
                    f"Set `{which}_level: {expected}`, re-assess likelihood and severity, or declare your own matrix in "
                    "techfile.yaml `risk_matrix`.")]


def retention_months(text: str) -> float | None:
    """The first duration a retention statement names, in months ("12 months", "six months", "2 years")."""
    match = _DURATION.search(text)
    if match is None:
        return None
    amount = match.group(1).lower()
    number = int(amount) if amount.isdigit() else _NUMBER_WORDS[amount]
    return number * _MONTHS_PER[match.group(2).lower()]


def _log_retention(project: Project) -> list[Diagnostic]:
    system = project.system
    assert project.settings is not None and system is not None
    if "eu-ai-act" not in project.settings.frameworks or not classify(system).high_risk:
        return []
    where = system.field_locations.get("logging", system.location)
    if not system.logging.retention:
        return [finding("TF934", where.path, where.line, where.col,
                        "the logs' retention period is not stated for a high-risk system",
                        "Add `logging.retention`, e.g. \"12 months\": at least six months (Art. 19(1), Art. 26(6)).")]
    months = retention_months(system.logging.retention)
    if months is None:
        return [finding("TF935", where.path, where.line, where.col,
                        f"the logs' retention period cannot be read from {system.logging.retention[:60]!r}",
                        "Start `logging.retention` with the period, e.g. \"12 months, then deleted\".")]
    if months < MIN_LOG_RETENTION_MONTHS:
        return [finding("TF934", where.path, where.line, where.col,
                        f"logs are kept for {system.logging.retention.split(',')[0].strip()!r}, less than the six months "
                        "a high-risk system's logs must be kept",
                        "Keep the automatically generated logs for at least six months (Art. 19(1), Art. 26(6)), longer where "
                        "other Union or national law asks.")]
    return []


def _overdue_reviews(project: Project, as_of: str) -> list[Diagnostic]:
    today = dt.date.fromisoformat(as_of)
    findings = []
    for procedure in project.procedures:
        if dt.date.fromisoformat(procedure.review_date) < today:
            where = procedure.field_locations.get("review_date", procedure.location)
            findings.append(finding("TF936", where.path, where.line, where.col,
                                    f"QMS procedure {procedure.id!r} was due for review on {procedure.review_date} "
                                    f"(assessed on {as_of})",
                                    "Review it, record the new version and approval, and set the next `review_date`."))
    return findings


def _profiling(project: Project) -> list[Diagnostic]:
    system = project.system
    assert system is not None
    facts = system.classification
    derogation = facts.derogation_art_6_3
    if not (facts.annex_iii.applies and facts.annex_iii.use_case in PROFILING_USE_CASES and derogation
            and derogation.profiling is False):
        return []
    where = system.field_locations.get("classification", system.location)
    return [finding("TF937", where.path, where.line, where.col,
                    f"`profiling: false` for an Annex III point {facts.annex_iii.use_case} system: employment, "
                    "creditworthiness and insurance-pricing systems usually evaluate people's personal aspects",
                    "Check the answer against Art. 4(4) GDPR (Art. 6(3) AI Act): a system that profiles is always high-risk.")]


def _soa_reconciled(project: Project) -> list[Diagnostic]:
    """The controls' `satisfies.iso_42001` is the record; an SoA decision's `implemented_by`, where given, must agree."""
    assert project.settings is not None
    if project.soa is None or "iso-42001" not in project.settings.frameworks:
        return []
    claimed: dict[str, set[str]] = {}
    for control in project.controls:
        if control.status != "retired":
            for item in control.satisfies.iso_42001:
                claimed.setdefault(item, set()).add(control.id)
    findings = []
    for decision in project.soa.decisions:
        if not decision.implemented_by:
            continue
        listed, claims = set(decision.implemented_by), claimed.get(decision.control, set())
        where = decision.location
        for control in sorted(listed - claims):
            findings.append(finding("TF938", where.path, where.line, where.col,
                                    f"the SoA lists {control!r} as implementing {decision.control}, but that control does not "
                                    f"claim it (`satisfies.iso_42001`)",
                                    f"Add {decision.control} to the control's `satisfies.iso_42001`, or remove it from `implemented_by`."))
        for control in sorted(claims - listed):
            findings.append(finding("TF938", where.path, where.line, where.col,
                                    f"control {control!r} claims {decision.control}, but the SoA decision does not list it in "
                                    "`implemented_by`",
                                    "List it, or leave `implemented_by` out: techfile then derives it from the controls' claims."))
    return findings

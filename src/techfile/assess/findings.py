"""assess: the findings that need the whole resolved project (classification, Annex IV completeness, the logbook chain)."""

from __future__ import annotations

import difflib

from techfile.assess.claims import check_framework_ids
from techfile.assess.classification import annex_iii_id, classify
from techfile.assess.completeness import MISSING, annex_iv_status
from techfile.assess.datasheets import check_datasheets
from techfile.assess.fairness import check_fairness
from techfile.assess.logbook import check_logbook
from techfile.assess.risks import check_risks
from techfile.assess.soa import check_soa
from techfile.diagnostics import Diagnostic, finding
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Project


def assess_project(project: Project, resolved_cleanly: bool = True) -> list[Diagnostic]:
    """Every finding about the project as a whole. The logbook is always checked; the rest needs a project
    that resolved without errors, since a partial project would give misleading findings."""
    diagnostics = check_logbook(project)
    if not resolved_cleanly or project.settings is None or project.system is None:
        return diagnostics
    diagnostics += check_framework_ids(project) + check_fairness(project) + check_soa(project) + check_risks(project)
    high_risk = "eu-ai-act" in project.settings.frameworks and classify(project.system).high_risk
    diagnostics += check_datasheets(project, high_risk)
    if "eu-ai-act" not in project.settings.frameworks:
        return diagnostics
    diagnostics += _check_classification_facts(project)
    if any(d.code in ("TF603", "TF604") for d in diagnostics):
        return diagnostics
    outcome = classify(project.system)
    wanted = project.settings.outputs.documents or outcome.required_documents
    if outcome.high_risk or "technical-file" in wanted:
        diagnostics += _annex_iv_findings(project, "TF601" if outcome.high_risk else "TF602")
    return diagnostics


def _annex_iv_findings(project: Project, code: str) -> list[Diagnostic]:
    assert project.system is not None
    where = project.system.location
    findings = []
    for point in annex_iv_status(project):
        if point.status == MISSING:
            findings.append(finding(code, where.path, 1, 1,
                                    f"{point.ref} is missing from the technical file: add {'; '.join(point.missing)}",
                                    f"{point.ref}: {point.title}. Or declare it in `not_applicable` with a justification."))
    return findings


def _check_classification_facts(project: Project) -> list[Diagnostic]:
    assert project.system is not None
    act, system = eu_ai_act(), project.system
    facts, locations = system.classification, system.field_locations
    where = locations.get("classification", system.location)
    findings = []
    if facts.annex_iii.applies and facts.annex_iii.use_case and annex_iii_id(facts.annex_iii.use_case) not in act.items:
        findings.append(finding("TF604", where.path, where.line, where.col,
                                f"Annex III has no use case {facts.annex_iii.use_case!r}",
                                "Write the area and letter, e.g. \"5.d\", or \"2\" for area 2."))
    if not facts.prohibited_practices_screening.screened:
        findings.append(finding("TF605", where.path, where.line, where.col,
                                "the Art. 5 screening for prohibited practices is not recorded as done",
                                "Screen against Art. 5(1)(a)-(h), then set `prohibited_practices_screening.screened: true`."))
    not_applicable_at = locations.get("not_applicable", system.location)
    for entry in system.not_applicable:
        if entry.point not in act.items:
            findings.append(finding("TF603", not_applicable_at.path, not_applicable_at.line, not_applicable_at.col,
                                    f"`not_applicable` names {entry.point!r}, which is not an EU AI Act point"
                                    + _close(entry.point, list(act.items)), "Use an id such as annex_iv.1.f."))
    return findings


def _close(value: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(value, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""

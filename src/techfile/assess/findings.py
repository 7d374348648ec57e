"""assess: the findings that need the whole resolved project — classification facts, the gaps of every document and
every item below its gate (one assessment, assess/grades.py), evidence validity, consistency, fairness, risks, the
logbook chain. It runs on whatever resolved: a broken source holds back only the findings that depend on it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from techfile.assess.claims import check_framework_ids
from techfile.assess.classification import HIGH_RISK, PROHIBITED, Classification, classify
from techfile.assess.consistency import check_consistency
from techfile.assess.evidence import check_evidence_validity
from techfile.assess.fairness import check_fairness
from techfile.assess.gaps import approval_findings, project_gaps, requested_documents
from techfile.assess.grades import assess
from techfile.assess.logbook import check_logbook
from techfile.assess.packs import check_packs
from techfile.assess.risks import check_risks
from techfile.assess.soa import check_soa
from techfile.diagnostics import Diagnostic, finding
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Project


@dataclass(frozen=True)
class BrokenSources:
    """Sources that did not resolve cleanly: the files, the ids and names they hold, and the files that refer to them."""

    files: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()  # ids of broken entities and every name a broken source mentions
    dependents: frozenset[str] = frozenset()  # resolved files that refer to a broken entity
    settings_or_system: bool = False

    def __bool__(self) -> bool:
        return bool(self.files)


@dataclass
class _Held:
    count: int = 0
    files: set[str] = field(default_factory=set)


def assess_project(project: Project, broken: BrokenSources | None = None, strict: bool = False) -> list[Diagnostic]:
    """Every finding about the project as a whole, except those that depend on a broken source (said once)."""
    broken = broken or BrokenSources()
    diagnostics = check_logbook(project)
    if project.settings is None or project.system is None:
        return diagnostics
    assessment = assess(project)
    own = (check_framework_ids(project) + check_fairness(project) + check_risks(project) + check_soa(project) + check_packs(project)
           + check_consistency(project, assessment.date) + check_evidence_validity(project, assessment.evidence, assessment.date))
    gaps = []
    outcome = classify(project.system)
    if "eu-ai-act" in project.settings.frameworks:
        own += _check_classification_facts(project, outcome)
    else:
        own += _out_of_scope_warning(project, outcome)
    if not any(d.code == "TF603" for d in own) and (outcome.decided or outcome.certain):
        gaps = project_gaps(project, requested_documents(project), assessment)
    held = _Held()
    for diagnostic in own:
        if diagnostic.path in broken.files or diagnostic.path in broken.dependents:
            held.count += 1
        else:
            diagnostics.append(diagnostic)
    for gap in gaps:
        if broken.settings_or_system or broken.names & set(gap.subjects):
            held.count += 1
        else:
            diagnostics.append(gap.diagnostic())
    if strict:
        diagnostics += [d for d in approval_findings(assessment) if not broken]
    if held.count:
        diagnostics.append(finding("TF939", "techfile.yaml", 1, 1,
                                   f"{held.count} finding{'s' * (held.count != 1)} that depend on the sources with errors above "
                                   "are held back until those are fixed",
                                   "Fix the errors; `check` then reports what the repaired sources still lack."))
    return diagnostics


def _check_classification_facts(project: Project, outcome: Classification) -> list[Diagnostic]:
    """The classification facts that are missing or contradict each other (TF604, TF607-TF626), the Art. 5 screening
    (TF605) and the `not_applicable` points (TF603)."""
    from techfile.assess.obligations import operator_problems

    assert project.system is not None
    act, system = eu_ai_act(), project.system
    facts, locations = system.classification, system.field_locations
    where = locations.get("classification", system.location)
    findings = [finding(p.code, p.where.path, p.where.line, p.where.col, p.message, p.hint)
                for p in outcome.problems + operator_problems(project, outcome)]
    if not facts.prohibited_practices_screening.screened:
        findings.append(finding("TF605", where.path, where.line, where.col,
                                "the Art. 5 screening for prohibited practices is not recorded as done",
                                "Screen against Art. 5(1)(a)-(h), then set `prohibited_practices_screening.screened: true`."))
    not_applicable_at = locations.get("not_applicable", system.location)
    for entry in system.not_applicable:
        if entry.framework == "eu-ai-act" and entry.point not in act.items:
            findings.append(finding("TF603", not_applicable_at.path, not_applicable_at.line, not_applicable_at.col,
                                    f"`not_applicable` names {entry.point!r}, which is not an EU AI Act point"
                                    + _close(entry.point, list(act.items)), "Use an id such as annex_iv.1.f."))
    return findings


def _out_of_scope_warning(project: Project, outcome: Classification) -> list[Diagnostic]:
    """With eu-ai-act out of scope, a warning when the classification facts still make the system high-risk or prohibited."""
    assert project.system is not None
    if outcome.risk_class not in (HIGH_RISK, PROHIBITED) or not outcome.certain:
        return []
    where = project.system.field_locations.get("classification", project.system.location)
    return [finding("TF627", where.path, where.line, where.col,
                    f"the classification facts make this system {outcome.risk_class} ({outcome.deciding_ref}), but eu-ai-act "
                    "is not in techfile.yaml `frameworks`",
                    "Add eu-ai-act to `frameworks` so its obligations and the technical file are checked, or correct the facts.")]


def _close(value: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(value, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""

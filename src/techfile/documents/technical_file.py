"""The EU AI Act technical file (Art. 11, Annex IV): every point in the Annex's order, with a completeness table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from techfile.assess.classification import classify
from techfile.assess.completeness import record_keeping_rows
from techfile.assess.declaration import declaration_points
from techfile.assess.gaps import requested_documents
from techfile.assess.grades import ItemGrade, assess, summarise
from techfile.assess.lineage import project_lineage
from techfile.assess.metrics import judge_results
from techfile.assess.monitoring import plan_elements
from techfile.assess.obligations import EuAiActReport, eu_ai_act_report
from techfile.documents.base import BuildInfo, Document, Missing
from techfile.documents.common import compose_document, document_gaps, document_id, grade_row, link, point_grades
from techfile.documents.lists import bounded_ids
from techfile.documents.render import Renderer
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Compute, Project

KIND = "technical-file"
SECTION = "EU AI Act"
# A system of more models than this shows, under Annex IV point 3, one row of verdict counts per model; each model card
# gives its results per subgroup one by one (as it always does), so the technical file does not grow with their product.
MODELS_WITH_SUBGROUP_TABLES = 10


def related_documents(project: Project) -> dict[str, object]:
    """Links from the EU AI Act documents to the others of the build."""
    return {
        "model_cards": [link(document_id(project, "model-card", m.id), m.name) for m in project.models],
        "datasheets": [link(document_id(project, "datasheet", d.id), d.name) for d in project.datasets],
        "risk_register": link(document_id(project, "risk-register"), "Risk register"),
        "qms_manual": link(document_id(project, "qms-manual"), "Quality management system manual"),
        "logbook": link(document_id(project, "logbook"), "Development logbook"),
        "declaration": link(document_id(project, "declaration-of-conformity"), "EU declaration of conformity"),
        "instructions": link(document_id(project, "instructions-for-use"), "Instructions for use"),
        "technical_file": link(document_id(project, "technical-file"), "Technical documentation"),
    }


def lineage_rows(project: Project) -> list[dict[str, object]]:
    """Annex IV point 2(d): per dataset, each lineage graph that has it, with what lies upstream."""
    return [{"dataset": dataset, "link": link(document_id(project, "datasheet", dataset.id), dataset.name),
             "graph": found.graph, "upstream": found.upstream_datasets, "jobs": found.jobs}
            for dataset in project.datasets for found in project_lineage(project, dataset)]


def classification_context(project: Project, report: EuAiActReport) -> dict[str, object]:
    """The classification section: deciding provision, Art. 5 screening, Art. 6(3) assessment, roles, dated obligations."""
    assert project.system is not None
    act, outcome, facts = eu_ai_act(), report.classification, project.system.classification
    screening, derogation = facts.prohibited_practices_screening, facts.derogation_art_6_3
    annex_i = act.item(outcome.annex_i_point) if outcome.annex_i_point else None
    rows = [("Risk class", outcome.risk_class if outcome.decided else f"undecided ({len(report.problems)} fact(s) to fix)"),
            ("Decided by", outcome.deciding_ref)]
    if outcome.route_key in ("annex-i-a", "annex-i-b"):
        rows.append(("Annex I", f"Section {outcome.annex_i_section}" + (f", {annex_i.ref.removeprefix('Annex I, ')}: "
                                                                          f"{annex_i.title}" if annex_i else "")))
    if outcome.annex_iii_points:
        rows.append(("Annex III", "; ".join(f"{act.ref(p)}: {act.title(p)}" for p in outcome.annex_iii_points)))
    if outcome.annex_iii_exclusions:
        rows.append(("Annex III exclusions", "; ".join(f"{act.ref(p)}: {act.items[p].get('exclusion')}"
                                                       for p in outcome.annex_iii_exclusions)))
    if outcome.conformity_assessment:
        rows.append(("Conformity assessment", outcome.conformity_assessment))
    if outcome.transparency:
        rows.append(("Transparency (Art. 50)", "; ".join(outcome.transparency_obligations)))
    if outcome.gpai is not None:
        rows.append(("General-purpose AI model", ("with systemic risk" if outcome.gpai.systemic_risk else "without systemic risk")
                     + f" ({outcome.gpai.ref}: {outcome.gpai.reason})"))
    screening_rows = [("Screened", "yes" if screening.screened else "no (the outcome assumes no prohibited practice)"),
                      ("Date", screening.date or Missing("screening date", "system.yaml `prohibited_practices_screening.date`")),
                      ("Practices found", "; ".join(f"{act.ref(p)}: {act.title(p)}" for p in screening.practices_found) or "none"),
                      ("Notes", screening.notes or "none recorded")]
    derogation_rows: list[tuple[str, object]] = []
    if outcome.annex_iii_points or (derogation and derogation.claimed):
        claimed = bool(derogation and derogation.claimed)
        derogation_rows.append(("Derogation claimed", "yes" if claimed else "no"))
        if claimed and derogation is not None:
            derogation_rows.append(("Conditions", "; ".join(f"{act.ref('art_6.3.' + c)}: {act.title('art_6.3.' + c)}"
                                                            for c in derogation.all_conditions) or Missing("condition")))
        profiling = outcome.profiling
        derogation_rows.append(("Profiles natural persons", "not answered" if profiling is None else "yes" if profiling else "no"))
        if derogation is not None and derogation.justification:
            derogation_rows.append(("Assessment (Art. 6(4))", derogation.justification))
    elif derogation is not None and derogation.justification:
        derogation_rows.append(("Art. 6(3)", derogation.justification))
    dates: dict[str, dict[str, str]] = {}
    for o in report.obligations:
        key = f"{o.calendar_entry}|{o.override}"
        dates.setdefault(key, {
            "date": o.applies_from.isoformat() if o.applies_from else "not set",
            "basis": o.legal_basis, "replaces": o.superseded or "-",
            "source": "project override: " + o.override if o.override else
            "secondary sources (the Official Journal text was not read)" if o.reported else "Official Journal"})
    obligations = [{"ref": o.ref, "role": o.role, "what": o.what + (f" ({o.condition})" if o.condition else ""), "when": o.when}
                   for o in report.obligations]
    return {"rows": rows, "screening": screening_rows, "derogation": derogation_rows,
            "roles": [f"{role} ({basis})" for role, basis in report.roles], "obligations": obligations,
            "dates": sorted(dates.values(), key=lambda d: d["date"]),
            "as_of": report.as_of.isoformat(), "questions": report.questions, "caveats": outcome.caveats,
            "problems": [f"{p.code}: {p.message}" for p in report.problems]}


def _as_of(project: Project, build: BuildInfo) -> dt.date:
    """The date the obligations are stated for: the build date, or techfile.yaml's date where the build has none."""
    assert project.settings is not None
    try:
        return dt.date.fromisoformat(build.date)
    except ValueError:  # e.g. the neutral date of a redline comparison
        return dt.date.fromisoformat(project.settings.document_control.date)


def technical_file_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    assert project.system is not None
    act = eu_ai_act()
    assessment = assess(project)
    points = point_grades(assessment, "annex_iv", "annex_iv_sources")
    sections = [{"item": item, "point": points.get(item.id), "heading": item.parent is None,
                 "template": f"technical-file/points/{item.id}.md.j2"} for item in act.section("annex_iv")]
    grades = assessment.framework("eu-ai-act")
    title = f"Technical documentation: {project.system.name}"
    stages = project.pipeline_stages
    models = [{"model": m, "link": link(document_id(project, "model-card", m.id), m.name), "verdicts": judge_results(m),
               "compute": m.compute or Compute()} for m in project.models]
    context = {
        "system": project.system,
        "settings": project.settings,
        "classification": classify(project.system),
        "eu_ai_act": classification_context(project, eu_ai_act_report(project, _as_of(project, build))),
        "sections": sections,
        "completeness": [grade_row(p) for p in points.values()],
        "summary": _points_summary(list(points.values())),
        "assessment_date": assessment.date,
        "requirements": grades.summary if grades else "",
        "links": related_documents(project),
        "stages": stages,
        "models": models,
        "subgroup_counts": subgroup_counts(models) if len(models) > MODELS_WITH_SUBGROUP_TABLES else [],
        "subgroup_tables": models if len(models) <= MODELS_WITH_SUBGROUP_TABLES else [],
        "datasets": [{"dataset": d, "link": link(document_id(project, "datasheet", d.id), d.name)} for d in project.datasets],
        "lineage": lineage_rows(project),
        "test_reports": [e for e in project.evidence if e.type == "test-report"],
        "risks": project.risks,
        "changes": project.changes,
        "declaration": declaration_points(project),
        "record_keeping": record_keeping_rows(project),
        "procedures": {p.id: p for p in project.procedures},
        "monitoring_plan": project.monitoring,
        "pms_elements": plan_elements(project),
        "pms_plan": link(document_id(project, "pms-plan"), "Post-market monitoring plan")
                    if "pms-plan" in requested_documents(project) else None,
    }
    return [compose_document(project, build, renderer, KIND, SECTION, title, "technical-file/technical-file.md.j2", context,
                             document_gaps(project, KIND))]


def subgroup_counts(models: list[dict[str, Any]]) -> list[dict[str, object]]:
    """Per model, its results for subgroups and intersections counted by verdict, with the failing ones named."""
    rows = []
    for m in models:
        verdicts = [v for v in m["verdicts"] if v.scope != "overall"]
        outcomes = [v.outcome for v in verdicts]
        failing = [f"{v.metric.name} ({v.slice_label})" for v in verdicts if v.outcome == "FAIL"]
        rows.append({"link": m["link"], "results": len(verdicts),
                     **{key: outcomes.count(outcome) for key, outcome in
                        (("passed", "pass"), ("failed", "FAIL"), ("inconclusive", "inconclusive"), ("open", "no threshold"))},
                     "failing": bounded_ids(failing, "the model card")})
    return rows


def _points_summary(points: list[ItemGrade]) -> str:
    return summarise(points, "Annex IV")

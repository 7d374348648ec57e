"""The EU AI Act technical file (Art. 11, Annex IV): every point in the Annex's order, with a completeness table."""

from __future__ import annotations

from techfile.assess.classification import classify
from techfile.assess.completeness import record_keeping_rows
from techfile.assess.declaration import declaration_points
from techfile.assess.grades import ItemGrade, assess, summarise
from techfile.assess.lineage import project_lineage
from techfile.assess.metrics import judge_results
from techfile.documents.base import BuildInfo, Document
from techfile.documents.common import compose_document, document_gaps, document_id, grade_row, link, point_grades
from techfile.documents.render import Renderer
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Compute, Project

KIND = "technical-file"
SECTION = "EU AI Act"


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
    context = {
        "system": project.system,
        "settings": project.settings,
        "classification": classify(project.system),
        "sections": sections,
        "completeness": [grade_row(p) for p in points.values()],
        "summary": _points_summary(list(points.values())),
        "assessment_date": assessment.date,
        "requirements": grades.summary if grades else "",
        "links": related_documents(project),
        "stages": stages,
        "models": [{"model": m, "link": link(document_id(project, "model-card", m.id), m.name),
                    "verdicts": judge_results(m), "compute": m.compute or Compute()} for m in project.models],
        "datasets": [{"dataset": d, "link": link(document_id(project, "datasheet", d.id), d.name)} for d in project.datasets],
        "lineage": lineage_rows(project),
        "test_reports": [e for e in project.evidence if e.type == "test-report"],
        "risks": project.risks,
        "changes": project.changes,
        "declaration": declaration_points(project),
        "record_keeping": record_keeping_rows(project),
        "procedures": {p.id: p for p in project.procedures},
    }
    return [compose_document(project, build, renderer, KIND, SECTION, title, "technical-file/technical-file.md.j2", context,
                             document_gaps(project, KIND))]


def _points_summary(points: list[ItemGrade]) -> str:
    return summarise(points, "Annex IV")

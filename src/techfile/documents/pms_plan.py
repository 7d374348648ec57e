"""The post-market monitoring plan (EU AI Act Art. 72(3), part of the technical documentation under Annex IV point 9):
what is collected and from where, the indicators and their thresholds, who reviews how often, what triggers
corrective action (Art. 20), how the logs feed it (Art. 12(2)(b)) and how serious incidents are reported."""

from __future__ import annotations

from techfile.assess.completeness import record_keeping_rows
from techfile.assess.gaps import requested_documents
from techfile.assess.grades import assess
from techfile.assess.incidents import reporting_route
from techfile.assess.monitoring import indicator_rules, plan_elements, review_schedule
from techfile.documents.base import BuildInfo, Document, Missing
from techfile.documents.common import compose_document, document_gaps, document_id, entity_sources, grade_row, link
from techfile.documents.render import Renderer
from techfile.project import Project

KIND = "pms-plan"
SECTION = "After the market"


def pms_plan_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    assert project.system is not None
    assessment = assess(project)
    built = requested_documents(project)
    plan = project.monitoring
    elements = plan_elements(project)
    point_9 = assessment.grade("eu-ai-act", "annex_iv.9")
    procedures = {p.id: p for p in project.procedures}
    context = {
        "system": project.system,
        "plan": plan,
        "present": {e.id: e.present for e in elements},
        "missing": {e.id: Missing(f"{e.title} ({e.ref})", f"monitoring.yaml `{e.field}`") for e in elements},
        "rules": list(indicator_rules(project).values()),
        "model_links": {m.id: link(document_id(project, "model-card", m.id), m.name) for m in project.models}
                       if "model-cards" in built else {},
        "log_rows": [r for r in record_keeping_rows(project) if r.ref == "Art. 12(2)(b)"],
        "route": reporting_route(project),
        "schedule": review_schedule(project, assessment.date),
        "procedure": procedures.get(plan.procedure) if plan and plan.procedure else None,
        "point_9": grade_row(point_9) if point_9 else None,
        "technical_file": link(document_id(project, "technical-file"), "Technical documentation")
                          if "technical-file" in built else None,
        "report": link(document_id(project, "monitoring-report"), "Post-market monitoring report")
                  if "monitoring-report" in built else None,
        "qms_manual": link(document_id(project, "qms-manual"), "QMS manual") if "qms-manual" in built else None,
        "assessment_date": assessment.date,
    }
    title = f"Post-market monitoring plan: {project.system.name}"
    sources = entity_sources(plan) if plan else ("monitoring.yaml",)
    return [compose_document(project, build, renderer, KIND, SECTION, title, "pms-plan/pms-plan.md.j2", context,
                             document_gaps(project, KIND), sources=sources)]

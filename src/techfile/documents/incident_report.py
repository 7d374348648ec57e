"""Serious-incident reports (EU AI Act Art. 73), one per incident, structured as the Commission's draft reporting
template (frameworks/post_market.yaml names the version used), with the reporting clock on the assessment date."""

from __future__ import annotations

from techfile.assess.grades import assess
from techfile.assess.incidents import AI_ACT, category_info, incident_clock
from techfile.assess.operators import registration_sections
from techfile.documents.base import BuildInfo, Document, present_or_missing
from techfile.documents.common import compose_document, document_gaps, entity_sources
from techfile.documents.render import Renderer
from techfile.frameworks.catalogue import load_catalogue
from techfile.project import Incident, Project

KIND = "incident-report"
SECTION = "After the market"


def incident_report_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    return [_incident_report(project, build, renderer, incident) for incident in project.incidents]


def _incident_report(project: Project, build: BuildInfo, renderer: Renderer, incident: Incident) -> Document:
    assert project.system is not None and project.settings is not None
    date = assess(project).date
    clock = incident_clock(project, incident, date)
    models = {m.id: m for m in project.models}
    registration = project.registration
    decision = registration_sections(project)
    where = incident.location.path
    context = {
        "incident": incident,
        "clock": clock,
        "category": category_info(incident.category),
        "settings": project.settings,
        "system": project.system,
        "template": load_catalogue("post_market")["incident_report_template"],
        "regimes": load_catalogue("post_market")["report_regimes"],
        "assessment_date": date,
        "ai_act_reports": [r for r in incident.reports if r.regime == AI_ACT],
        "other_reports": [r for r in incident.reports if r.regime != AI_ACT],
        "sectoral_missing": clock.sectoral_report_expected and clock.sectoral_report is None,
        "registration_id": (registration.eu_database_id if registration and registration.eu_database_id else None),
        "registration_reason": "; ".join(decision.reasons),
        "registration_required": decision.required,
        "models": [models[m] for m in incident.models if m in models],
        "changes": {c.id: c for c in project.changes},
        "controls": {c.id: c for c in project.controls},
        "risks": [r for r in project.risks if r.id in incident.risks],
        "description": present_or_missing(incident.description, "3.1 Nature of the incident", f"{where} `description`"),
        "causal_analysis": present_or_missing(incident.causal_analysis, "4.2 Cause investigation", f"{where} `causal_analysis`"),
        "affected": present_or_missing(incident.affected_persons, "3.2 The persons affected", f"{where} `affected_persons`"),
        "version": present_or_missing(incident.system_version, "2.2 The version involved", f"{where} `system_version`"),
        "member_states": present_or_missing(incident.member_states, "1.1 The Member States", f"{where} `member_states`"),
        "actions": present_or_missing(incident.corrective_actions, "4.1 Corrective actions", f"{where} `corrective_actions`"),
    }
    title = f"Serious-incident report {incident.id}: {incident.title}"
    return compose_document(project, build, renderer, KIND, SECTION, title, "incident-report/incident-report.md.j2",
                            context, document_gaps(project, KIND, incident.id), incident.id, entity_sources(incident))

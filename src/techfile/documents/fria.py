"""The fundamental rights impact assessment (EU AI Act Art. 27): why it is (or is not) required, each element of
Art. 27(1)(a)-(f) filled from fria.yaml and the risks, controls, model results and instructions for use it reuses, and
the notification of its results (Art. 27(3))."""

from __future__ import annotations

from techfile.assess.gaps import requested_documents
from techfile.assess.grades import assess, summarise
from techfile.assess.metrics import judge_results
from techfile.assess.operators import fria_requirement
from techfile.documents.base import BuildInfo, Document
from techfile.documents.common import compose_document, document_gaps, document_id, entity_sources, grade_row, link
from techfile.documents.render import Renderer
from techfile.project import Project

KIND = "fria"
SECTION = "After the market"


def fria_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    assert project.system is not None and project.settings is not None
    assessment = assess(project)
    points = assessment.section("article_27")
    headings = [i for i in points if any(p.parent == i.id for p in points)]  # graded from their points
    fria = project.fria
    built = requested_documents(project)
    risks = {r.id: r for r in project.risks}
    controls = {c.id: c for c in project.controls}
    evidence = {e.id: e for e in project.evidence}
    models = {m.id: m for m in project.models}
    context = {
        "system": project.system,
        "settings": project.settings,
        "fria": fria,
        "requirement": fria_requirement(project),
        "sections": [{"item": item, "heading": item.parent is None, "graded": item not in headings,
                      "template": f"fria/points/{item.id}.md.j2"} for item in points],
        "grades": [grade_row(item) for item in points if item not in headings],
        "summary": summarise([i for i in points if i not in headings], "Art. 27"),
        "assessment_date": assessment.date,
        "risks": [{"entry": entry, "risk": risks.get(entry.risk)} for entry in (fria.risks_of_harm if fria else [])],
        "models": [{"model": models[m], "verdicts": [v for v in judge_results(models[m]) if v.scope != "overall"],
                    "link": link(document_id(project, "model-card", m), models[m].name) if "model-cards" in built else None}
                   for m in (fria.subgroup_results if fria else []) if m in models],
        "controls": controls,
        "evidence": evidence,
        "ifu": _instructions(project, built),
        "risk_register": link(document_id(project, "risk-register"), "Risk register") if "risk-register" in built else None,
    }
    title = f"Fundamental rights impact assessment: {project.system.name}"
    sources = entity_sources(fria) if fria else ("fria.yaml",)
    return [compose_document(project, build, renderer, KIND, SECTION, title, "fria/fria.md.j2", context,
                             document_gaps(project, KIND), sources=sources)]


def _instructions(project: Project, built: list[str]) -> dict[str, object] | None:
    """The provider's Art. 13 information the assessment takes into account: this system's instructions for use (with
    a link when they are built) or an evidence record."""
    fria = project.fria
    if fria is None or fria.instructions_for_use is None:
        return None
    if project.system and fria.instructions_for_use == project.system.id:
        target = link(document_id(project, "instructions-for-use"), "Instructions for use") \
            if "instructions-for-use" in built else None
        return {"title": f"the instructions for use of {project.system.name} {project.system.version}", "link": target}
    record = next((e for e in project.evidence if e.id == fria.instructions_for_use), None)
    return {"title": f"evidence {record.id}: {record.title}" if record else fria.instructions_for_use, "link": None}

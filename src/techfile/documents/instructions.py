"""Instructions for use (EU AI Act Art. 13(3)(a)-(f), with (b)(i)-(vii))."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from techfile.assess.grades import assess
from techfile.assess.metrics import judge_results
from techfile.documents.base import BuildInfo, Document, Gap
from techfile.documents.common import compose_document, document_gaps, document_id, link, point_grades
from techfile.documents.deployer import entity_names, slice_label, with_plain_names
from techfile.documents.render import Renderer
from techfile.documents.technical_file import related_documents
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Project

KIND = "instructions-for-use"
SECTION = "EU AI Act"


def instructions_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    assert project.system is not None
    statuses = point_grades(assess(project), "article_13_3", "instructions_sources")
    sections = [{"item": item, "point": statuses.get(item.id), "heading": item.parent is None,
                 "template": f"instructions-for-use/points/{item.id}.md.j2"}
                for item in eu_ai_act().section("article_13_3")]
    title = f"Instructions for use: {project.system.name}"
    context = {
        "system": project.system,
        "settings": project.settings,
        "sections": sections,
        "models": [{"model": m, "link": link(document_id(project, "model-card", m.id), m.name),
                    "verdicts": judge_results(m)} for m in project.models],
        "links": related_documents(project),
    }
    gaps = document_gaps(project, KIND)
    internal = compose_document(project, build, renderer, KIND, SECTION, title, "instructions-for-use/instructions.md.j2",
                                context, gaps)
    deployer = deployer_edition(project, build, renderer, context, gaps, title)
    # The site shows the deployer edition on the instructions' page; the internal edition is a PDF and DOCX only.
    return [replace(internal, in_site=False), replace(deployer, site_name=internal.id)]


def deployer_edition(project: Project, build: BuildInfo, renderer: Renderer, context: dict[str, Any], gaps: list[Gap],
                     title: str) -> Document:
    """The same instructions for the deployer: plain names instead of ids and keys, no links into the internal
    documents, no commits, and the deployer edition's own confidentiality marking."""
    assert project.settings is not None
    names = entity_names(project)
    sections = []
    for section in context["sections"]:
        own = f"instructions-for-use/deployer/points/{section['item'].id}.md.j2"
        sections.append({**section, "template": own if renderer.has_template(own) else section["template"]})
    models = [{"model": m["model"], "groups": [
        {"metric": v.metric.name, "group": slice_label(v.result.slice), "value": v.result.value, "threshold": v.threshold,
         "outcome": v.outcome} for v in m["verdicts"] if v.scope != "overall"], "verdicts": m["verdicts"]}
        for m in context["models"]]
    confidentiality = project.settings.document_control.deployer_confidentiality or "not stated"
    deployer_context = {**context, "system": with_plain_names(project.system, names), "sections": sections, "models": models,
                        "confidentiality": confidentiality}
    document = compose_document(project, build, renderer, KIND, SECTION, f"{title} (deployer edition)",
                                "instructions-for-use/deployer.md.j2", deployer_context, gaps, entity_id="deployer")
    return replace(document, confidentiality=confidentiality)

"""Instructions for use (EU AI Act Art. 13(3)(a)-(f), with (b)(i)-(vii))."""

from __future__ import annotations

from techfile.assess.grades import assess
from techfile.assess.metrics import judge_results
from techfile.documents.base import BuildInfo, Document
from techfile.documents.common import compose_document, document_gaps, document_id, link, point_grades
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
    return [compose_document(project, build, renderer, KIND, SECTION, title, "instructions-for-use/instructions.md.j2", context,
                             document_gaps(project, KIND))]

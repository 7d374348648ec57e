"""The QMS manual: every procedure with its approval, the Art. 17(1) aspects and clauses it covers, and its body."""

from __future__ import annotations

from techfile.assess.grades import assess, summarise
from techfile.documents.base import BuildInfo, Document
from techfile.documents.common import compose_document, document_gaps, grade_row, point_grades
from techfile.documents.render import Renderer
from techfile.project import Project

KIND = "qms-manual"
SECTION = "Quality management"


def qms_manual_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    title = "Quality management system manual"
    procedures = sorted(project.procedures, key=lambda p: p.id)
    assessment = assess(project)
    aspects = list(point_grades(assessment, "article_17_1").values())
    titles = {p.id: p.title for p in procedures}
    context = {
        "procedures": procedures,
        "aspects": [dict(grade_row(a), procedures=", ".join(titles[p] for p in a.procedures) or "—") for a in aspects],
        "summary": summarise(aspects, "Art. 17(1)"),
        "assessment_date": assessment.date,
    }
    return [compose_document(project, build, renderer, KIND, SECTION, title, "qms-manual/qms-manual.md.j2", context,
                             document_gaps(project, KIND), sources=("qms",))]

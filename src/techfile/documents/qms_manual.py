"""The QMS manual: every procedure with its approval, the Art. 17(1) aspects and clauses it covers, and its body."""

from __future__ import annotations

from techfile.documents.base import BuildInfo, Document, GapRecorder
from techfile.documents.common import document_control, document_id, revisions
from techfile.documents.render import Renderer
from techfile.project import Project

KIND = "qms-manual"
SECTION = "Quality management"


def qms_manual_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    gaps = GapRecorder()
    doc_id = document_id(project, KIND)
    title = "Quality management system manual"
    procedures = sorted(project.procedures, key=lambda p: p.id)
    if not procedures:
        gaps.require(None, "QMS procedures", "qms/*.yaml")
    context = {
        "procedures": procedures,
        "aspects": sorted({a for p in procedures for a in p.art_17_aspects}),
        "revisions": revisions(project),
        "gaps": gaps.gaps,
        "doc": document_control(project, build, doc_id, title, bool(gaps.gaps)),
    }
    markdown = renderer.render("qms-manual/qms-manual.md.j2", context)
    return [Document(doc_id, KIND, title, SECTION, markdown, tuple(gaps.gaps))]

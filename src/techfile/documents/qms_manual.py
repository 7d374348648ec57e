"""The QMS manual: every procedure with its approval, the Art. 17(1) aspects and clauses it covers, and its body."""

from __future__ import annotations

from techfile.documents.base import BuildInfo, Document, GapRecorder
from techfile.documents.common import compose_document
from techfile.documents.render import Renderer
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Project

KIND = "qms-manual"
SECTION = "Quality management"


def qms_manual_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    gaps = GapRecorder()
    title = "Quality management system manual"
    procedures = sorted(project.procedures, key=lambda p: p.id)
    if not procedures:
        gaps.require(None, "QMS procedures", "qms/*.yaml")
    aspects = []
    for item in eu_ai_act().section("article_17_1"):
        letter = item.id.rsplit(".", 1)[1]
        covering = [p for p in procedures if letter in p.art_17_aspects]
        aspects.append({"ref": item.ref, "title": item.title, "procedures": [p.title for p in covering],
                        "covered": gaps.require(covering, f"{item.ref}: {item.title}",
                                                f"a procedure in qms/ listing `{letter}` in `art_17_aspects`")})
    context = {
        "procedures": procedures,
        "aspects": aspects,
    }
    return [compose_document(project, build, renderer, KIND, SECTION, title, "qms-manual/qms-manual.md.j2", context, gaps.gaps,
                             sources=("qms",))]

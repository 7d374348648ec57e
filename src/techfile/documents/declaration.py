"""The EU declaration of conformity (Art. 47, Annex V points 1-8)."""

from __future__ import annotations

from techfile.assess.declaration import declaration_points
from techfile.documents.base import BuildInfo, Document
from techfile.documents.common import compose_document, document_gaps
from techfile.documents.render import Renderer
from techfile.documents.technical_file import related_documents
from techfile.project import Project

KIND = "declaration-of-conformity"
SECTION = "EU AI Act"


def declaration_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    assert project.system is not None
    points = declaration_points(project)
    title = f"EU declaration of conformity: {project.system.name}"
    context = {
        "points": points,
        "links": related_documents(project),
    }
    return [compose_document(project, build, renderer, KIND, SECTION, title, "declaration-of-conformity/declaration.md.j2", context,
                             document_gaps(project, KIND))]

"""The development logbook: every training and evaluation run, in order."""

from __future__ import annotations

from techfile.assess.logbook import entry_sha256
from techfile.documents.base import BuildInfo, Document
from techfile.documents.common import compose_document, document_gaps
from techfile.documents.render import Renderer
from techfile.project import Project

KIND = "logbook"
SECTION = "Development"


def logbook_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    title = "Development logbook"
    context = {
        "entries": project.logbook,
        "hyperparameters": {e.id: sorted(e.hyperparameters.items()) for e in project.logbook},
        "metrics": {e.id: sorted(e.metrics.items()) for e in project.logbook},
        "entry_sha256": {e.id: entry_sha256(project, e) for e in project.logbook},
    }
    return [compose_document(project, build, renderer, KIND, SECTION, title, "logbook/logbook.md.j2", context,
                             document_gaps(project, KIND),
                             sources=("logbook",))]

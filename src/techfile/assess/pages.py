"""Which documents a build makes and their ids, known before anything is rendered (so prose can link to them)."""

from __future__ import annotations

from techfile.assess.gaps import DOCUMENT_KINDS, requested_documents
from techfile.project import Project

PER_ENTITY = {"model-cards": "model-card", "datasheets": "datasheet"}  # one document per model, per dataset


def document_id(project: Project, kind: str, entity_id: str | None = None) -> str:
    """`<project>-<kind>[-<entity>]`: stable, readable, and the file name of the PDF and Markdown."""
    assert project.settings is not None
    return "-".join(p for p in (project.settings.id, kind, entity_id) if p)


def planned_documents(project: Project, only: set[str] | None = None) -> list[str]:
    """The ids of the documents a build makes (of the kinds in `only`, when given), in site order."""
    wanted = requested_documents(project)
    ids: list[str] = []
    for kind in DOCUMENT_KINDS:
        if kind not in wanted or (only is not None and kind not in only):
            continue
        if kind == "model-cards":
            ids.extend(document_id(project, PER_ENTITY[kind], m.id) for m in project.models)
        elif kind == "datasheets":
            ids.extend(document_id(project, PER_ENTITY[kind], d.id) for d in project.datasets)
        else:
            ids.append(document_id(project, kind))
    return ids

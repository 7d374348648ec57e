"""Context shared by every document: document control, revision history, links between documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from techfile.documents.base import BuildInfo, Document, Gap
from techfile.documents.render import Renderer
from techfile.project import Project


@dataclass(frozen=True)
class DocumentControl:
    """The cover facts of one document."""

    id: str
    title: str
    version: str
    date: str
    status: str
    owner: str
    approver: str
    commit: str
    confidentiality: str


def document_id(project: Project, kind: str, entity_id: str | None = None) -> str:
    """`<project>-<kind>[-<entity>]`: stable, readable, and the file name of the PDF and Markdown."""
    assert project.settings is not None
    return "-".join(p for p in (project.settings.id, kind, entity_id) if p)


def document_control(project: Project, build: BuildInfo, doc_id: str, title: str, has_gaps: bool) -> DocumentControl:
    """Cover facts; a document with gaps, or built from uncommitted sources, is a draft whatever the sources say."""
    assert project.settings is not None
    control = project.settings.document_control
    status = "draft" if has_gaps or build.dirty else control.status
    commit = (build.commit[:12] + (" (uncommitted changes)" if build.dirty else "")) if build.commit else "not in git"
    return DocumentControl(
        id=doc_id, title=title, version=control.version, date=build.date, status=status, owner=control.owner,
        approver=control.approver, commit=commit, confidentiality=control.confidentiality or "not stated",
    )


def revisions(project: Project) -> list[dict[str, Any]]:
    """The revision history, newest first, from the `changes` sources."""
    return [
        {"version": c.version, "date": c.date, "title": c.title, "substantial": c.substantial_modification}
        for c in sorted(project.changes, key=lambda c: (c.date, c.id), reverse=True)
    ]


def link(target_id: str, title: str) -> dict[str, object]:
    """A link to another document of the build: same file name on the site (`.md`) and in the PDFs (`.pdf`).

    Document ids are made of schema-checked ids (`[a-z0-9._-]`), so the target is safe to place unescaped.
    """
    return {"href": Markup(f"{target_id}.md"), "title": title}


def compose_document(project: Project, build: BuildInfo, renderer: Renderer, kind: str, section: str, title: str,
                     template: str, context: dict[str, Any], gaps: list[Gap], entity_id: str | None = None) -> Document:
    """Add what every document shows (document control, revision history, gaps) to `context` and render it."""
    doc_id = document_id(project, kind, entity_id)
    context = {**context, "revisions": revisions(project), "gaps": gaps,
               "doc": document_control(project, build, doc_id, title, bool(gaps))}
    return Document(doc_id, kind, title, section, renderer.render(template, context), tuple(gaps))

"""Context shared by every document: document control, revision history, links between documents."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from techfile.assess.gaps import Gap, project_gaps, requested_documents
from techfile.assess.grades import APPROVED, MISSING, NO_GATE, NOT_APPLICABLE, Assessment, ItemGrade
from techfile.assess.pages import document_id
from techfile.documents.base import BuildInfo, Document
from techfile.documents.render import Renderer
from techfile.frameworks.catalogue import load_catalogue
from techfile.project import Project, Prose


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
    approved_on: str = ""  # techfile.yaml's approval date, for an approved document


def document_status(project: Project, build: BuildInfo, has_gaps: bool) -> str:
    """draft or approved. Once a project uses release tags (vX.Y.Z), only a build of a tagged commit is approved;
    before that, techfile.yaml's status counts. Gaps, warnings in the sources or uncommitted sources always make a draft."""
    assert project.settings is not None
    if has_gaps or build.dirty or build.warnings:
        return "draft"
    if build.history is not None and build.history.release_tags_in_use:
        return "approved" if build.history.release_tag else "draft"
    return project.settings.document_control.status


def document_control(project: Project, build: BuildInfo, doc_id: str, title: str, has_gaps: bool) -> DocumentControl:
    """Cover facts of one document."""
    assert project.settings is not None
    control = project.settings.document_control
    status = document_status(project, build, has_gaps)
    commit = (build.commit[:12] + (" (uncommitted changes)" if build.dirty else "")) if build.commit else "not in git"
    return DocumentControl(
        id=doc_id, title=title, version=control.version, date=build.date, status=status, owner=control.owner,
        approver=control.approver, commit=commit, confidentiality=control.confidentiality or "not stated",
        approved_on=control.date if status == "approved" else "not approved (draft)",
    )


def revisions(project: Project) -> list[dict[str, Any]]:
    """The revision history, newest first, from the `changes` sources."""
    return [
        {"version": c.version, "date": c.date, "title": c.title, "substantial": c.substantial_modification}
        for c in sorted(project.changes, key=lambda c: (c.date, c.id), reverse=True)
    ]


def entity_sources(*entities: object) -> tuple[str, ...]:
    """The source files entities come from: their YAML files and the Markdown files their prose refers to."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, Prose):
            if value.file:
                found.add(value.file)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for item in dataclasses.fields(value):
                walk(getattr(value, item.name))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for entity in entities:
        found.add(entity.location.path)  # type: ignore[attr-defined]
        walk(entity)
    return tuple(sorted(found))


def source_commits(build: BuildInfo, sources: tuple[str, ...]) -> list[dict[str, str]]:
    """The commits that touched a document's sources (and techfile.yaml), oldest first."""
    if build.history is None:
        return []
    return [{"commit": c.hash[:12], "date": c.date, "author": c.author, "subject": c.subject}
            for c in build.history.commits(tuple(sorted({*sources, "techfile.yaml"})))]


def link(target_id: str, title: str) -> dict[str, object]:
    """A link to another document of the build: same file name on the site (`.md`) and in the PDFs (`.pdf`).

    Document ids are made of schema-checked ids (`[a-z0-9._-]`), so the target is safe to place unescaped.
    """
    return {"href": Markup(f"{target_id}.md"), "title": title}


def compose_document(project: Project, build: BuildInfo, renderer: Renderer, kind: str, section: str, title: str,
                     template: str, context: dict[str, Any], gaps: list[Gap], entity_id: str | None = None,
                     sources: tuple[str, ...] = (".",)) -> Document:
    """Add what every document shows (document control, revision history, gaps) to `context` and render it.

    `sources` are the project paths the document is built from; the commits that touched them form its history.
    """
    doc_id = document_id(project, kind, entity_id)
    context = {**context, "revisions": revisions(project), "commits": source_commits(build, sources), "gaps": gaps,
               "doc": document_control(project, build, doc_id, title, bool(gaps))}
    return Document(doc_id, kind, title, section, drop_repeated_headings(renderer.render(template, context)),
                    tuple(gaps), status=context["doc"].status)


_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def drop_repeated_headings(markdown: str) -> str:
    """Drop a heading that only repeats the heading just above it at a deeper level, as when prose placed under
    "Intended purpose" starts with its own "# Intended purpose"."""
    lines = markdown.split("\n")
    kept: list[str] = []
    previous: tuple[int, str] | None = None  # the last heading, while nothing but blank lines followed it
    fence = False
    for line in lines:
        if _FENCE.match(line):
            fence = not fence
        heading = None if fence else _HEADING.match(line)
        if heading:
            depth, text = len(heading.group(1)), " ".join(heading.group(2).split()).casefold()
            if previous is not None and depth > previous[0] and text == previous[1]:
                continue
            previous = (depth, text)
        elif line.strip():
            previous = None
        kept.append(line)
    return "\n".join(kept)


def document_gaps(project: Project, kind: str, entity_id: str | None = None) -> list[Gap]:
    """The gaps this document shows: the same ones, in the same words, that `check` reports."""
    return [gap for gap in project_gaps(project, requested_documents(project)) if gap.shown_in(kind, entity_id)]


def grade_row(item: ItemGrade) -> dict[str, object]:
    """One row of a grade table: the item, its grade (MISSING in bold), the grade it must reach, and why."""
    grade = Markup("**MISSING**") if item.grade == MISSING else item.grade
    required = "—" if item.gate == NO_GATE or item.grade == NOT_APPLICABLE else item.gate
    mark = "" if item.grade in (NOT_APPLICABLE, APPROVED) or item.gate == NO_GATE else \
        (" (below)" if item.below_gate else "")
    return {"item": item, "ref": item.ref, "title": item.title, "grade": grade, "required": f"{required}{mark}",
            "basis": item.reason, "evidence": ", ".join(item.evidence) or "—",
            "controls": ", ".join(item.controls) or "—", "procedures": ", ".join(item.procedures) or "—"}


def point_grades(assessment: Assessment, section: str, sources_table: str | None = None) -> dict[str, ItemGrade]:
    """The graded points of an EU AI Act section in order, without the headings whose points carry the grades."""
    points = load_catalogue(sources_table) if sources_table else None
    return {i.id: i for i in assessment.section(section) if points is None or i.id in points}

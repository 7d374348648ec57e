"""Context shared by every document: document control and revision history (documents/control.py), links between
documents, gaps."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from markupsafe import Markup

from techfile.assess.gaps import Gap, project_gaps, requested_documents
from techfile.assess.grades import APPROVED, MISSING, NO_GATE, NOT_APPLICABLE, Assessment, ItemGrade
from techfile.assess.pages import document_id
from techfile.documents.base import BuildInfo, Document
from techfile.documents.control import document_approval, document_changes, document_control, document_revisions
from techfile.documents.render import Renderer
from techfile.frameworks.catalogue import load_catalogue
from techfile.project import Change, Project, Prose


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


def link(target_id: str, title: str) -> dict[str, object]:
    """A link to another document of the build: same file name on the site (`.md`) and in the PDFs (`.pdf`).

    Document ids are made of schema-checked ids (`[a-z0-9._-]`), so the target is safe to place unescaped.
    """
    return {"href": Markup(f"{target_id}.md"), "title": title}


def compose_document(project: Project, build: BuildInfo, renderer: Renderer, kind: str, section: str, title: str,
                     template: str, context: dict[str, Any], gaps: list[Gap], entity_id: str | None = None,
                     sources: tuple[str, ...] = (".",)) -> Document:
    """Add what every document shows (document control, revision history, approval, gaps) to `context` and render it.

    `sources` are the project paths the document is built from: the commits that changed them are its revisions, and
    the system changes that affect their entities are the changes it lists."""
    doc_id = document_id(project, kind, entity_id)
    history = document_revisions(project, build, sources)
    approval = document_approval(project, build, history)
    status = "draft" if gaps or build.dirty or build.warnings or approval.date is None else "approved"
    control = document_control(project, build, doc_id, title, status, history, approval)
    context = {**context, "revisions": history, "releases": [_release(c) for c in document_changes(project, sources)],
               "gaps": gaps, "doc": control}
    return Document(doc_id, kind, title, section, drop_repeated_headings(renderer.render(template, context)),
                    tuple(gaps), status=status, control=control)


def _release(change: Change) -> dict[str, Any]:
    return {"version": change.version, "date": change.date, "title": change.title,
            "substantial": change.substantial_modification, "approved_by": change.approved_by or "not recorded"}


_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def drop_repeated_headings(markdown: str) -> str:
    """Drop a heading that only repeats the heading just above it at a deeper level, as when prose placed under
    "Intended purpose" starts with its own "# Intended purpose"; the headings beneath the dropped one move up a level
    (until the section ends), so that no level is skipped."""
    lines = markdown.split("\n")
    kept: list[str] = []
    previous: tuple[int, str] | None = None  # the last heading, while nothing but blank lines followed it
    promoted_below: int | None = None  # the depth of the section whose deeper headings move up one level
    fence = False
    for line in lines:
        if _FENCE.match(line):
            fence = not fence
        heading = None if fence else _HEADING.match(line)
        if heading:
            depth, text = len(heading.group(1)), " ".join(heading.group(2).split()).casefold()
            if previous is not None and depth > previous[0] and text == previous[1]:
                promoted_below = previous[0]
                continue
            if promoted_below is not None and depth <= promoted_below:
                promoted_below = None
            if promoted_below is not None and depth > promoted_below + 1:
                depth -= 1
                line = "#" * depth + line[len(heading.group(1)):]
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

"""The EU database registration data sheet (EU AI Act Art. 49, Annex VIII): the section(s) the role and classification
call for, every point filled from the sources, not applicable with its reason, or marked missing."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from techfile.assess.grades import assess, summarise
from techfile.assess.registration import SheetField, registration_sheet
from techfile.documents.base import BuildInfo, Document
from techfile.documents.common import compose_document, document_gaps, entity_sources
from techfile.documents.markdown import inline
from techfile.documents.render import Renderer
from techfile.project import Project, Prose

KIND = "eu-database-registration"
SECTION = "After the market"
LONG_TEXT = 160


def registration_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    assert project.system is not None
    assessment = assess(project)
    sheet = registration_sheet(project, assessment)
    required = sheet.required_sections
    context = {
        "system": project.system,
        "decision": sheet.decision,
        "sections": [{"section": s, "points": [{"point": p, "fields": [_display(f) for f in p.fields]} for p in s.points],
                      "summary": summarise([p.item for p in s.points], s.ref)} for s in required],
        "other_sections": [s for s in sheet.sections if not s.applies],
        "registration": project.registration,
        "assessment_date": assessment.date,
    }
    title = f"EU database registration: {project.system.name}"
    sources = entity_sources(project.registration) if project.registration else ("registration.yaml",)
    return [compose_document(project, build, renderer, KIND, SECTION, title,
                             "eu-database-registration/registration.md.j2", context, document_gaps(project, KIND),
                             sources=(*sources, "techfile.yaml", "system.yaml"))]


def _display(field: SheetField) -> dict[str, Any]:
    """A field as the sheet prints it: short values inline, long text and long lists as a block, absent values as
    "not given". The source names a file and field of techfile's own tables, so it is set as code."""
    source = Markup(field.source)  # built from techfile's own fact tables, never from source text
    value = field.value
    if not field.given:
        return {"source": source, "inline": "not given", "block": None}
    if isinstance(value, dict):
        value = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in value.items())
    elif isinstance(value, list):
        items = [str(v) for v in value]
        if sum(map(len, items)) > LONG_TEXT:
            return {"source": source, "inline": None, "block": Markup("\n".join(f"- {inline(i)}" for i in items))}
        value = "; ".join(items)
    text = str(value)
    if field.prose:  # Markdown of the sources: shown as prose, under the prose rules
        return {"source": source, "inline": None, "block": Prose(text)}
    if "\n" in text.strip() or len(text) > LONG_TEXT:
        return {"source": source, "inline": None, "block": text}  # plain text: literal, as a paragraph
    return {"source": source, "inline": text, "block": None}

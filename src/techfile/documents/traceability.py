"""The traceability matrix: requirement ↔ controls ↔ evidence for every framework in scope, the reverse view per
control, and crosswalk hints labelled with their authority (suggestions, never claims)."""

from __future__ import annotations

from typing import Any

from techfile.assess.grades import assess
from techfile.documents.base import BuildInfo, Document, Table, table_text
from techfile.documents.common import compose_document, document_gaps, grade_row
from techfile.documents.render import Renderer
from techfile.frameworks.registry import claims, project_crosswalk, project_frameworks
from techfile.project import Project

KIND = "traceability"
SECTION = "Traceability"
NO_CLAIM = {"framework": "—", "item": "—", "title": "claims no framework item", "hints": "—"}


def traceability_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    frameworks = {f.id: f for f in project_frameworks(project)}
    crosswalk = project_crosswalk(project)
    assessment = assess(project)
    sections = [{"framework": g.framework, "summary": g.summary, "rows": [grade_row(i) for i in g.items]}
                for g in assessment.frameworks]
    reverse = []
    for control in project.controls:
        claimed = claims(control)
        items = []
        for framework_id, item_ids in claimed.items():
            framework = frameworks.get(framework_id)
            for item_id in item_ids:
                item = framework.item(item_id) if framework else None
                hints = [f"{h.to_framework} {h.to_item} ({h.authority})" for h in crosswalk.hints(framework_id, item_id)
                         if h.to_item not in claimed.get(h.to_framework, [])]
                items.append({"framework": framework_id, "item": item_id, "title": item.title if item else "—",
                              "hints": "; ".join(hints) or "—"})
        reverse.append({"control": control, "claims": items, "evidence": ", ".join(control.evidence) or "none"})
    context = {"sections": sections, "reverse": reverse, "assessment_date": assessment.date}
    title = "Traceability matrix"
    document = compose_document(project, build, renderer, KIND, SECTION, title, "traceability/traceability.md.j2", context,
                                document_gaps(project, KIND))
    return [document.with_tables(*traceability_tables(context))]


def traceability_tables(context: dict[str, Any]) -> list[Table]:
    """One sheet for every framework's requirements and one for the reverse view, as the Markdown shows them."""
    matrix = tuple((s["framework"].title, r["item"].id, *(table_text(r[k]) for k in
                                                          ("title", "grade", "required", "controls", "evidence", "basis")))
                   for s in context["sections"] for r in s["rows"])
    reverse = tuple((e["control"].id, table_text(e["control"].title), table_text(e["control"].status), e["evidence"],
                     i["framework"], i["item"], table_text(i["title"]), i["hints"])
                    for e in context["reverse"] for i in (e["claims"] or [NO_CLAIM]))
    return [Table("Requirements", ("Framework", "Requirement", "Title", "Grade", "Required", "Controls", "Evidence", "Basis"),
                  matrix),
            Table("Controls", ("Control", "Title", "Status", "Evidence", "Framework", "Item", "Item title",
                               "Crosswalk hints (not claims)"), reverse)]

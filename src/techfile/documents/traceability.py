"""The traceability matrix: requirement ↔ controls ↔ evidence for every framework in scope, the reverse view per
control, and crosswalk hints labelled with their authority (suggestions, never claims).

Bounded at portfolio scale: a requirement's row names a few of its controls and evidence records and counts the rest
(lists.py); the reverse view gives each control one row with the ids of everything it claims; the hints are given once
per requirement. The matrix grows with the requirements in scope plus the controls, never with their product; the
spreadsheet edition keeps every full list."""

from __future__ import annotations

from typing import Any

from techfile.assess.grades import ItemGrade, assess
from techfile.documents.base import BuildInfo, Document, Table, table_text
from techfile.documents.common import compose_document, document_gaps, grade_row
from techfile.documents.lists import SHOWN_IN_A_CELL, bounded_basis, bounded_ids
from techfile.documents.render import Renderer
from techfile.frameworks.registry import Crosswalk, CrosswalkLink, claims, project_crosswalk, project_frameworks
from techfile.project import Control, Project

KIND = "traceability"
SECTION = "Traceability"
NO_CLAIM = {"framework": "—", "item": "—", "title": "claims no framework item", "hints": "—"}
REVERSE_VIEW = "Controls and what they satisfy"


def traceability_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    frameworks = {f.id: f for f in project_frameworks(project)}
    hints = _Hints(project_crosswalk(project))
    assessment = assess(project)
    claimed = {control.id: claims(control) for control in project.controls}
    sections = [{"framework": g.framework, "summary": g.summary, "rows": [_matrix_row(i) for i in g.items]}
                for g in assessment.frameworks]
    reverse = []
    for control in project.controls:
        items = []
        for framework_id, item_ids in claimed[control.id].items():
            framework = frameworks.get(framework_id)
            for item_id in item_ids:
                item = framework.item(item_id) if framework else None
                related = [h for h in hints.of(framework_id, item_id)
                           if h.to_item not in claimed[control.id].get(h.to_framework, [])]
                items.append({"framework": framework_id, "item": item_id, "title": item.title if item else "—",
                              "hints": "; ".join(_hint_text(h) for h in related) or "—"})
        reverse.append({"control": control, "claims": items, "evidence": ", ".join(control.evidence) or "none",
                        "satisfies": _claimed_ids(claimed[control.id]) or "claims no framework item"})
    context = {"sections": sections, "reverse": reverse, "assessment_date": assessment.date, "shown": SHOWN_IN_A_CELL,
               "hints": _requirement_hints(assessment.frameworks, project.controls, claimed, hints)}
    title = "Traceability matrix"
    document = compose_document(project, build, renderer, KIND, SECTION, title, "traceability/traceability.md.j2", context,
                                document_gaps(project, KIND))
    return [document.with_tables(*traceability_tables(context))]


def _matrix_row(item: ItemGrade) -> dict[str, object]:
    """A requirement's row: its grade, and its controls and evidence named up to a few, the rest counted."""
    return dict(grade_row(item), basis=bounded_basis(item, REVERSE_VIEW), full_basis=item.reason,
                controls=bounded_ids(item.controls, REVERSE_VIEW),
                evidence=bounded_ids(item.evidence, REVERSE_VIEW), all_controls=", ".join(item.controls) or "—",
                all_evidence=", ".join(item.evidence) or "—")


def _claimed_ids(claimed: dict[str, list[str]]) -> str:
    """What a control claims, as ids grouped by framework: `eu-ai-act: art_9.1, art_9.2; soc2: CC3.2`."""
    return "; ".join(f"{framework}: {', '.join(items)}" for framework, items in claimed.items())


def _hint_text(hint: CrosswalkLink) -> str:
    return f"{hint.to_framework} {hint.to_item} ({hint.authority})"


class _Hints:
    """Crosswalk hints of each item, looked up once."""

    def __init__(self, crosswalk: Crosswalk) -> None:
        self.crosswalk = crosswalk
        self.found: dict[tuple[str, str], list[CrosswalkLink]] = {}

    def of(self, framework: str, item: str) -> list[CrosswalkLink]:
        key = (framework, item)
        if key not in self.found:
            self.found[key] = self.crosswalk.hints(framework, item)
        return self.found[key]


def _requirement_hints(frameworks: list[Any], controls: list[Control], claimed: dict[str, dict[str, list[str]]],
                       hints: _Hints) -> list[dict[str, object]]:
    """Per claimed requirement, in the matrix's order, the items of other frameworks that mappings relate to it and
    that none of the controls claiming it claims."""
    claimers: dict[tuple[str, str], list[str]] = {}
    for control in controls:
        for framework_id, item_ids in claimed[control.id].items():
            for item_id in item_ids:
                claimers.setdefault((framework_id, item_id), []).append(control.id)
    rows = []
    for grades in frameworks:
        for item in grades.items:
            by = claimers.get((grades.framework.id, item.id))
            if not by:
                continue
            covered = {(f, i) for c in by for f, items in claimed[c].items() for i in items}
            related = [h for h in hints.of(grades.framework.id, item.id) if (h.to_framework, h.to_item) not in covered]
            if related:
                rows.append({"framework": grades.framework.id, "item": item, "hints": "; ".join(map(_hint_text, related))})
    return rows


def traceability_tables(context: dict[str, Any]) -> list[Table]:
    """One sheet for every framework's requirements and one for the reverse view, with every full list."""
    matrix = tuple((s["framework"].title, r["item"].id, *(table_text(r[k]) for k in
                                                          ("title", "grade", "required", "all_controls", "all_evidence",
                                                           "full_basis")))
                   for s in context["sections"] for r in s["rows"])
    reverse = tuple((e["control"].id, table_text(e["control"].title), table_text(e["control"].status), e["evidence"],
                     i["framework"], i["item"], table_text(i["title"]), i["hints"])
                    for e in context["reverse"] for i in (e["claims"] or [NO_CLAIM]))
    return [Table("Requirements", ("Framework", "Requirement", "Title", "Grade", "Required", "Controls", "Evidence", "Basis"),
                  matrix),
            Table("Controls", ("Control", "Title", "Status", "Evidence", "Framework", "Item", "Item title",
                               "Crosswalk hints (not claims)"), reverse)]

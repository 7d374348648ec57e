"""The ISO/IEC 42001 Statement of Applicability (clause 6.1.3): all Annex A controls, decided, justified and graded."""

from __future__ import annotations

from typing import Any

from techfile.assess.grades import assess
from techfile.documents.base import BuildInfo, Document, Missing, Table, present_or_missing, table_text
from techfile.documents.common import compose_document, document_gaps, grade_row
from techfile.documents.lists import SHOWN_IN_A_CELL, bounded_ids, full_lists_in
from techfile.documents.render import Renderer
from techfile.frameworks.registry import builtin_framework
from techfile.project import Control, Project

KIND = "statement-of-applicability"
SECTION = "ISO/IEC 42001"


def soa_documents(project: Project, build: BuildInfo, renderer: Renderer) -> list[Document]:
    decisions = {d.control: d for d in project.soa.decisions} if project.soa else {}
    controls = {c.id: c for c in project.controls}
    assessment = assess(project)
    grades = assessment.framework("iso-42001")
    where = full_lists_in(project)
    rows = []
    for item in builtin_framework("iso-42001").assessable_items():
        decision = decisions.get(item.id)
        graded = grades.item(item.id) if grades else None
        row = dict(grade_row(graded), evidence=bounded_ids(graded.evidence, where),
                   all_evidence=", ".join(graded.evidence) or "—") if graded else \
            {"grade": "—", "required": "—", "basis": "", "evidence": "—", "all_evidence": "—"}
        if decision is None:
            rows.append(dict(row, item=item, decided=False, decision=Missing(f"{item.id} {item.title}: no decision", "soa.yaml")))
            continue
        implementing = [controls[c] for c in (graded.controls if graded else ()) if c in controls]
        rows.append(dict(
            row, item=item, decided=True, decision=decision,
            applicable="yes" if decision.applicable else "no",
            justification=present_or_missing(decision.justification, f"{item.id} {item.title}: justification", "soa.yaml"),
            implementing=_implementing_cell(implementing, where),
            all_implementing=", ".join(f"{c.title} ({c.id})" for c in implementing) or "—",
        ))
    gates = sorted({i.gate for i in grades.items if i.applicable}) if grades else []
    context = {"soa": project.soa, "rows": rows, "summary": grades.summary if grades else "",
               "gate": " / ".join(gates) or "none",
               "assessment_date": assessment.date,
               "applicable": sum(1 for r in rows if r.get("applicable") == "yes"),
               "excluded": sum(1 for r in rows if r.get("applicable") == "no")}
    title = "Statement of Applicability (ISO/IEC 42001)"
    document = compose_document(project, build, renderer, KIND, SECTION, title, "soa/soa.md.j2", context,
                                document_gaps(project, KIND), sources=("soa.yaml", "controls"))
    return [document.with_tables(soa_table(rows))]


def _implementing_cell(implementing: list[Control], where: str) -> str:
    """The implementing controls by title and id; by id alone, a few named and the rest counted, when there are many."""
    if len(implementing) <= SHOWN_IN_A_CELL:
        return ", ".join(f"{c.title} ({c.id})" for c in implementing) or "—"
    return bounded_ids([c.id for c in implementing], where)


def soa_table(rows: list[dict[str, Any]]) -> Table:
    """The Annex A table of the Markdown, one row per control with every full list, for the spreadsheet edition."""
    headers = ("Control", "Title", "Applicable", "Justification", "Status", "Implemented by", "Grade", "Required", "Evidence",
               "Owner", "Last review")
    cells = []
    for row in rows:
        if row["decided"]:
            values = (row["applicable"], row["justification"], row["decision"].status, row["all_implementing"], row["grade"],
                      row["required"], row["all_evidence"], row["decision"].owner, row["decision"].last_review)
        else:
            values = (row["decision"], "—", "—", "—", row["grade"], row["required"], "—", "—", "—")
        cells.append((row["item"].id, row["item"].title, *(table_text(v) for v in values)))
    return Table("Annex A controls", headers, tuple(cells))

"""Lists of entity ids in table cells, bounded: a cell names a few and counts the rest, so a summary row stays one row
however many models, risks or controls a portfolio has. The full lists live where the cell says (a per-entity table
of the same document, and the spreadsheet edition)."""

from __future__ import annotations

from collections.abc import Sequence

from techfile.assess.gaps import requested_documents
from techfile.assess.grades import APPROVED, ItemGrade
from techfile.project import Project

SHOWN_IN_A_CELL = 8  # a summary cell names all its ids up to this many
NAMED_WHEN_COUNTED = 5  # beyond that, it names this many and counts the rest


def bounded_ids(ids: Sequence[str], where: str) -> str:
    """`ids` joined, or (beyond SHOWN_IN_A_CELL) the first few of them, how many more there are and `where` they are
    all listed."""
    if not ids:
        return "—"
    if len(ids) <= SHOWN_IN_A_CELL:
        return ", ".join(ids)
    named = NAMED_WHEN_COUNTED
    return f"{', '.join(ids[:named])} and {len(ids) - named} more (all {len(ids)} in {where})"


def bounded_basis(item: ItemGrade, where: str) -> str:
    """Why an item has its grade, with the approved evidence it names bounded like any list."""
    if item.grade == APPROVED and len(item.approved_evidence) > SHOWN_IN_A_CELL:
        return f"approved evidence: {bounded_ids(item.approved_evidence, where)}"
    return item.reason


def full_lists_in(project: Project) -> str:
    """Where a bounded cell's full list of controls is: the traceability matrix's reverse view when the build makes
    it, else the spreadsheet edition."""
    return "the traceability matrix" if "traceability" in requested_documents(project) else "the spreadsheet edition"

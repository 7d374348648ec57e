"""Lists of entity ids in table cells, bounded: a cell names a few and counts the rest, so a summary row stays one row
however many models, risks or controls a portfolio has. The full lists live where the cell says (a per-entity table
of the same document, and the spreadsheet edition)."""

from __future__ import annotations

from collections.abc import Sequence

from techfile.assess.gaps import requested_documents
from techfile.project import Project

SHOWN_IN_A_CELL = 8  # ids a summary cell names before it counts the rest


def bounded_ids(ids: Sequence[str], where: str, shown: int = SHOWN_IN_A_CELL) -> str:
    """`ids` joined, or the first `shown` of them, how many more there are and `where` they are all listed."""
    if not ids:
        return "—"
    if len(ids) <= shown:
        return ", ".join(ids)
    return f"{len(ids)}: {', '.join(ids[:shown])} and {len(ids) - shown} more ({where})"


def full_lists_in(project: Project) -> str:
    """Where a bounded cell's full list of controls is: the traceability matrix's reverse view when the build makes
    it, else the spreadsheet edition."""
    return "all in the traceability matrix" if "traceability" in requested_documents(project) else \
        "all in the spreadsheet edition"

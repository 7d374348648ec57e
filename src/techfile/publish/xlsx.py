"""The spreadsheet edition (XLSX) of documents that are tables at heart: one sheet per table the document attaches
(the same rows its Markdown renders), then a document-control sheet; deterministic bytes."""

from __future__ import annotations

import datetime as dt
import io
import re
from copy import copy
from typing import Any

from techfile.documents.base import Document, Table
from techfile.documents.svg import xml_text

MAX_WIDTH = 60
SHEET_NAME_LIMIT = 31
_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name (at most 31 characters, none of []:*?/\\)."""
    base = _SHEET_UNSAFE.sub("-", name).strip("'")[:SHEET_NAME_LIMIT] or "Sheet"
    candidate, number = base, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate, number = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix, number + 1
    taken.add(candidate.lower())
    return candidate


def workbook_bytes(document: Document, control: dict[str, str], epoch: int) -> bytes:
    """The XLSX of `document`'s tables; `control` is its document control (field → value), shown on the last sheet.

    Every cell is stored as text, so a value such as `=HYPERLINK(...)` from the sources is never a formula."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    from techfile.publish.ooxml import normalised_package

    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for table in document.tables:
        _write_table(workbook.create_sheet(sheet_name(table.name, taken)), table)
    control_table = Table("Document control", ("Field", "Value"), tuple(control.items()))
    _write_table(workbook.create_sheet(sheet_name("Document control", taken)), control_table, freeze=False)
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC).replace(tzinfo=None)
    properties = workbook.properties
    properties.title, properties.creator, properties.lastModifiedBy = document.title, "techfile", "techfile"
    properties.identifier, properties.created, properties.modified = document.id, moment, moment
    buffer = io.BytesIO()
    import zipfile

    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()  # save_workbook would stamp the clock
    return normalised_package(buffer.getvalue(), epoch)


def _styles(sheet: Any, font: Any, fill: Any, alignment: Any) -> tuple[Any, Any]:
    """The header's and the body's cell style as openpyxl keeps them (indices into the workbook's style lists),
    registered once: assigning font, fill and alignment cell by cell hashes each style object again for every cell
    (most of the time an XLSX took)."""
    from openpyxl.cell.cell import Cell

    cell = Cell(sheet)
    cell.alignment = alignment
    body = copy(cell._style)
    cell.font, cell.fill = font, fill
    return copy(cell._style), body


def _write_table(sheet: Any, table: Table, freeze: bool = True) -> None:
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    widths = [len(h) for h in table.headers]
    header, body = _styles(sheet, Font(bold=True), PatternFill("solid", fgColor="DDE3EA"),
                           Alignment(wrap_text=True, vertical="top"))
    for row_number, values in enumerate((table.headers, *table.rows), start=1):
        style = header if row_number == 1 else body
        for column, value in enumerate(values, start=1):
            text = xml_text(value)  # openpyxl refuses some characters XML cannot hold, Excel the rest
            cell = sheet.cell(row=row_number, column=column)
            cell.value = text
            cell.data_type = TYPE_STRING  # never a formula, whatever the text starts with
            cell._style = copy(style)
            widths[column - 1] = max(widths[column - 1], min(MAX_WIDTH, max((len(p) for p in text.split("\n")), default=0)))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = max(8, width + 2)
    if freeze and table.rows:
        sheet.freeze_panes = "B2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.headers))}{len(table.rows) + 1}"

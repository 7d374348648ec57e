"""A reader's checks of a PDF's layout, from the character boxes pdfplumber reads: characters of different table
cells that overprint each other, characters outside the printable area, and headings stranded at a page's foot."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

CM = 72 / 2.54
MARGIN_X = 2 * CM  # the template's side margins
MARGIN_Y = 1 * CM  # header and footer sit inside the top and bottom margins, but not closer than this to the edge
BODY_TOP, BODY_BOTTOM = 2.5 * CM, 2.2 * CM  # the body's margins: header and footer lie outside them
TOLERANCE = 1.0  # points
OVERFULL = 2.0  # points a justified line may exceed the text block by (an overfull line, not yet a defect one sees)
OVERLAP = 0.6  # points in both directions before two boxes count as overprinted
HANGING = set(".,:;-\u00ad\u2010\u2013\u2014!?'\")’”")
WATERMARK_SIZE = 40
HEADING_FONT, HEADING_SIZE = "DejaVuSans-Bold", 9.5


@dataclass(frozen=True)
class Defect:
    """One layout defect: the page (1-based), what is wrong, and the text involved."""

    page: int
    kind: str
    text: str

    def __str__(self) -> str:
        return f"page {self.page}: {self.kind}: {self.text!r}"


def layout_defects(pdf_path: Path) -> list[Defect]:
    """Every overprint between table cells, every character off the printable area, every stranded heading."""
    import pdfplumber

    defects: list[Defect] = []
    with pdfplumber.open(str(pdf_path)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            page = page.filter(_not_watermark)
            defects += _outside(number, page)
            defects += _overprints(number, page)
            if number > 1:
                defects += _stranded_heading(number, page)
    return defects


def _not_watermark(item: dict) -> bool:
    """Everything but the rotated DRAFT watermark, which lies across the page by design."""
    return item.get("object_type") != "char" or (item["upright"] and item["size"] < WATERMARK_SIZE)


def _outside(number: int, page: object) -> list[Defect]:
    left, right = MARGIN_X - OVERFULL, page.width - MARGIN_X + OVERFULL  # type: ignore[attr-defined]
    top, bottom = MARGIN_Y, page.height - MARGIN_Y  # type: ignore[attr-defined]
    off = [c for c in page.chars if not c["text"].isspace()  # type: ignore[attr-defined]
           and (c["x0"] < left or c["x1"] > right + _overhang(c) or c["top"] < top or c["bottom"] > bottom)]
    return [Defect(number, "outside the printable area", "".join(c["text"] for c in line)) for line in _lines(off)]


def _overhang(char: dict) -> float:
    """Punctuation and hyphens may hang into the right margin (Typst's optical margin alignment), by part of an em."""
    return 0.6 * char["size"] if char["text"] in HANGING else 0.0


def _overprints(number: int, page: object) -> list[Defect]:
    """Characters whose boxes overlap although they stand in different cells of a ruled table, and characters that
    reach across their cell's border (where they overprint the next cell's text or rule)."""
    found: list[Defect] = []
    for table in page.find_tables():  # type: ignore[attr-defined]
        cells = [c for c in table.cells if c is not None]
        chars = [c for c in page.chars if not c["text"].isspace()]  # type: ignore[attr-defined]
        owner: dict[int, int] = {}
        for run in _runs(chars):  # a run of text belongs to the cell it starts in, however far it overflows
            first = chars[run[0]]
            x, y = (first["x0"] + first["x1"]) / 2, (first["top"] + first["bottom"]) / 2
            for cell_index, (x0, top, x1, bottom) in enumerate(cells):
                if x0 <= x <= x1 and top <= y <= bottom:
                    owner.update((index, cell_index) for index in run)
                    break
        buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
        for index in owner:
            char = chars[index]
            for bx in range(int(char["x0"] // 20), int(char["x1"] // 20) + 1):
                buckets[(bx, int(char["top"] // 20))].append(index)
        pairs: set[tuple[int, int]] = set()
        for members in buckets.values():
            for i in members:
                for j in members:
                    if i < j and owner[i] != owner[j] and _overlap(chars[i], chars[j]):
                        pairs.add((i, j))
        for i, j in sorted(pairs):
            found.append(Defect(number, "characters of two table cells overprint",
                                f"{_cell_text(chars, owner, owner[i])} / {_cell_text(chars, owner, owner[j])}"))
        for index, cell_index in sorted(owner.items()):
            x0, _, x1, _ = cells[cell_index]
            if chars[index]["x0"] < x0 - TOLERANCE or chars[index]["x1"] > x1 + TOLERANCE:
                found.append(Defect(number, "text runs across a table cell's border",
                                    _cell_text(chars, owner, cell_index)))
    return _unique(found)


def _runs(chars: list[dict]) -> list[list[int]]:
    """Indices of characters set one after the other on one baseline, in the order the page draws them."""
    runs: list[list[int]] = []
    for index, char in enumerate(chars):
        if runs:
            previous = chars[runs[-1][-1]]
            if (abs(previous["bottom"] - char["bottom"]) < 0.5 and previous["x0"] < char["x0"]
                    and char["x0"] - previous["x1"] < 0.6 * char["size"]):
                runs[-1].append(index)
                continue
        runs.append([index])
    return runs


def _overlap(a: dict, b: dict) -> bool:
    width = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
    height = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return width > OVERLAP and height > OVERLAP


def _cell_text(chars: list[dict], owner: dict[int, int], cell: int) -> str:
    return "".join(chars[i]["text"] for i in sorted(owner) if owner[i] == cell)[:60]


def _stranded_heading(number: int, page: object) -> list[Defect]:
    """A heading whose line is the last line of the page's body."""
    body = [c for c in page.chars if not c["text"].isspace()  # type: ignore[attr-defined]
            and BODY_TOP - 6 < c["top"] and c["bottom"] < page.height - BODY_BOTTOM + 6]  # type: ignore[attr-defined]
    lines = _lines(body)
    if not lines:
        return []
    last = lines[-1]
    if all(c["fontname"].split("+")[-1] == HEADING_FONT and c["size"] >= HEADING_SIZE for c in last):
        return [Defect(number, "heading is the last line of the page", "".join(c["text"] for c in last))]
    return []


def _lines(chars: list[dict]) -> list[list[dict]]:
    """Characters grouped into lines by their baseline, top to bottom, each line left to right."""
    rows: dict[int, list[dict]] = defaultdict(list)
    for char in chars:
        rows[round(char["bottom"])].append(char)
    return [sorted(rows[key], key=lambda c: c["x0"]) for key in sorted(rows)]


def _unique(defects: list[Defect]) -> list[Defect]:
    return list(dict.fromkeys(defects))

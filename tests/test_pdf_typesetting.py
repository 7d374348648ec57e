"""Typesetting rules of the PDFs, each shown on a real PDF (pandoc → Typst, read back with pdfplumber): a table too
wide for a landscape page is split into column groups that repeat the key column and lose no cell; a short table
stays on one page while a long one breaks with its header repeated; a heading that only repeats the heading above
it is dropped; the declaration's first page shows its document control once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pdf_layout import BODY_BOTTOM, BODY_TOP, HEADING_FONT, _lines, layout_defects
from techfile.publish.build import build
from techfile.publish.pdf import PdfJob, make_pdf

from conftest import SAMPLE

COVER = {"title": "Typesetting test", "docid": "acme-typesetting-test", "version": "1.0", "status": "draft",
         "date": "2026-01-01", "owner": "Owner", "approver": "Approver", "commit": "0123456789ab",
         "confidentiality": "internal", "provider": "Acme", "system": "Acme system 1.0", "lang": "en",
         "techfile": "0", "draft": "false", "layout": "full", "approved_on": ""}
WORDS = ["assessment", "documentation", "verification", "traceability", "calibration", "monitoring"]
ZWSP = "\u200b"


def pdf_of(tmp_path: Path, markdown: str) -> Path:
    """The PDF the build makes of this Markdown (the shipped template, Lua filters and fonts)."""
    source = tmp_path / "doc.md"
    source.write_text(markdown, encoding="utf-8")
    job = PdfJob("acme-typesetting-test", str(source), str(tmp_path / "doc.pdf"), 1767225600, COVER)
    make_pdf(job)
    return tmp_path / "doc.pdf"


def pipe_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + ":--|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def squeezed(text: str) -> str:
    """Text without spaces, line breaks and the break opportunities the table filter adds."""
    return re.sub(r"\s+", "", text.replace(ZWSP, ""))


def page_tables(pdf: Path) -> list[tuple[int, bool, list[list[str]]]]:
    """Every ruled table on every page: the page number, whether the page is landscape, and the cells' text."""
    import pdfplumber

    found = []
    with pdfplumber.open(str(pdf)) as document:
        for number, page in enumerate(document.pages, start=1):
            for table in page.find_tables():
                cells = [[squeezed(cell or "") for cell in row] for row in table.extract()]
                found.append((number, page.width > page.height, cells))
    return found


def page_texts(pdf: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(str(pdf)) as document:
        return [page.extract_text() or "" for page in document.pages]


def long_text_table() -> tuple[list[str], list[list[str]]]:
    """20 columns of long text; the first column tells the rows apart."""
    header = ["Key", *(f"Column {c} heading" for c in range(2, 21))]
    rows = [[f"row{r}", *(f"r{r}c{c} " + " ".join(WORDS[(r + c + i) % 6] for i in range(4)) for c in range(2, 21))]
            for r in range(1, 7)]
    return header, rows


def results_matrix() -> tuple[list[str], list[list[str]]]:
    """A results matrix with 16 metrics: Dataset and Slice together tell the rows apart."""
    header = ["Dataset", "Slice", *(f"Metric number {m} of the model" for m in range(1, 17))]
    rows = [[f"Dataset {d}", f"Sex: {sex}", *(f"0.{d}{m:02d} [0.{d}{m:02d}, 0.9{m:02d}] n={d}{m}00 ✓" for m in range(1, 17))]
            for d in (1, 2) for sex in ("female", "male", "all")]
    return header, rows


@pytest.mark.parametrize(("table", "keys"), [(long_text_table, 1), (results_matrix, 2)])
def test_a_table_too_wide_for_a_landscape_page_is_split_into_column_groups(tmp_path: Path, table: object,
                                                                            keys: int) -> None:
    header, rows = table()  # type: ignore[operator]
    pdf = pdf_of(tmp_path, "# Wide\n\n## The wide table\n\nIntroduces the table.\n\n" + pipe_table(header, rows)
                 + "\n## After the table\n\nText after it.\n")

    assert layout_defects(pdf) == []
    tables = [t for t in page_tables(pdf) if t[2][0][0] == squeezed(header[0])]  # not the approval page's table
    assert tables and all(landscape for _, landscape, _ in tables)
    cells = {cell for _, _, found in tables for row in found for cell in row}
    for (page, _, found), (next_page, _, continued) in zip(tables, tables[1:], strict=False):
        if next_page == page + 1 and continued[0] == found[0] and len(continued) > 1:  # a row broken over two pages
            cells |= {end + start for end, start in zip(found[-1], continued[1], strict=True)}
    missing = [text for row in [header, *rows] for text in row if squeezed(text) not in cells]
    assert missing == []
    key_header = [squeezed(text) for text in header[:keys]]
    assert all(found[0][:keys] == key_header for _, _, found in tables)  # every group repeats the key columns
    shown = [c for _, _, found in tables for c in found[0][keys:]]
    assert sorted(set(shown)) == sorted(squeezed(text) for text in header[keys:])  # every other heading in one group
    text = squeezed("".join(page_texts(pdf)))
    parts = re.findall(rf"Columns1[–,\d]*of{len(header)}\(part(\d)of(\d)\)", text)
    assert len(parts) == int(parts[0][1]) >= 2 and [int(p) for p, _ in parts] == list(range(1, len(parts) + 1))


def test_a_short_table_stays_on_one_page_and_a_long_one_breaks_with_its_header(tmp_path: Path) -> None:
    sections = []
    for table in range(1, 13):
        filler = "\n\n".join(f"Filler paragraph {table}.{line}: " + " ".join(WORDS * 2) for line in range(table % 5 + 1))
        rows = [[f"s{table}r{row}", f"value {row}"] for row in range(1, 9)]
        sections.append(f"## Section {table}\n\n{filler}\n\nTable {table} follows.\n\n"
                        + pipe_table([f"Short{table}", "Value"], rows))
    long_rows = [[f"long{row}", " ".join(WORDS)] for row in range(1, 81)]
    pdf = pdf_of(tmp_path, "# Tables\n\n" + "\n".join(sections) + "\n## The long table\n\n"
                 + pipe_table(["Longkey", "Value"], long_rows))
    texts = [squeezed(t) for t in page_texts(pdf)]

    def pages_with(token: str) -> set[int]:
        return {number for number, text in enumerate(texts, start=1) if re.search(re.escape(token) + r"(?!\d)", text)}

    moved = 0
    for table in range(1, 13):
        pages = set().union(*(pages_with(f"s{table}r{row}") for row in range(1, 9)))
        assert len(pages) == 1, f"short table {table} is split over pages {sorted(pages)}"
        moved += pages != pages_with(f"Table{table}follows.")
    assert moved >= 1  # at least one short table would have broken at a page's foot: it moved to the next page

    long_pages = set().union(*(pages_with(f"long{row}") for row in range(1, 81)))
    assert len(long_pages) >= 2
    assert all("LongkeyValue" in texts[number - 1] for number in long_pages)
    assert layout_defects(pdf) == []


def heading_lines(pdf: Path) -> list[str]:
    """The text of every heading line in the body, in reading order, without its number."""
    import pdfplumber

    headings = []
    with pdfplumber.open(str(pdf)) as document:
        for page in document.pages:
            body = [c for c in page.chars if not c["text"].isspace() and BODY_TOP - 6 < c["top"]
                    and c["bottom"] < page.height - BODY_BOTTOM + 6]
            for line in _lines(body):
                if all(c["fontname"].split("+")[-1] == HEADING_FONT for c in line):
                    text = re.sub(r"^[\d.]+\s*", "", "".join(c["text"] for c in line))
                    headings.append(text)
    return headings


@pytest.fixture(scope="module")
def sample_pdfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = build(SAMPLE, tmp_path_factory.mktemp("typesetting") / "build", site=False, docx=False, xlsx=False,
                only={"technical-file", "instructions-for-use", "declaration-of-conformity"}).out
    return out / "pdf"


def test_a_heading_that_repeats_the_heading_above_it_is_dropped(sample_pdfs: Path) -> None:
    # the sample's intended-purpose prose starts with its own "## Intended purpose", placed under that very heading
    assert (SAMPLE / "docs" / "intended-purpose.md").read_text(encoding="utf-8").startswith("## Intended purpose\n")
    for name in ("thoravis-cxr-technical-file.pdf", "thoravis-cxr-instructions-for-use.pdf"):
        headings = heading_lines(sample_pdfs / name)
        assert "Intendedpurpose" in headings
        repeated = [a for a, b in zip(headings, headings[1:], strict=False) if a == b]
        assert repeated == [], f"{name}: {repeated}"


def test_the_declaration_shows_its_document_control_once_on_page_one(sample_pdfs: Path) -> None:
    import pdfplumber

    pdf = sample_pdfs / "thoravis-cxr-declaration-of-conformity.pdf"
    with pdfplumber.open(str(pdf)) as document:
        assert len(document.pages) <= 2
        page = document.pages[0]
        body = page.within_bbox((0, BODY_TOP - 6, page.width, page.height - BODY_BOTTOM + 6))
        text = body.extract_text()
    words = text.split()
    version, status, date = (words[words.index(label) + 1] for label in ("Version", "Status", "Date"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", date)
    shown = {"document id": r"Document\s*ID\s*thoravis-cxr-declaration-of", "version": rf"Version\s+{re.escape(version)}\b",
             "status": rf"Status\s+{status}\b", "date": rf"Date\s+{date}\b"}
    counts = {fact: len(re.findall(pattern, text, re.IGNORECASE)) for fact, pattern in shown.items()}
    assert counts == {"document id": 1, "version": 1, "status": 1, "date": 1}


def heading_depths(markdown: str) -> list[tuple[int, str]]:
    depths, fence = [], False
    for line in markdown.split("\n"):
        if re.match(r"^\s{0,3}(`{3,}|~{3,})", line):
            fence = not fence
        found = None if fence else re.match(r"^(#{1,6})[ \t]+(.+)", line)
        if found:
            depths.append((len(found.group(1)), found.group(2)))
    return depths


def test_headings_beneath_a_dropped_heading_move_up_so_that_no_level_is_skipped() -> None:
    from techfile.documents.common import drop_repeated_headings

    markdown = ("### Intended purpose\n\n#### Intended purpose\n\ntext\n\n##### Users\n\nx\n\n###### Detail\n\n"
                "### Next\n\n#### Kept as it is\n")
    assert heading_depths(drop_repeated_headings(markdown)) == [
        (3, "Intended purpose"), (4, "Users"), (5, "Detail"), (3, "Next"), (4, "Kept as it is")]


def test_no_document_of_the_sample_skips_a_heading_level(tmp_path: Path) -> None:
    result = build(SAMPLE, tmp_path / "build", site=True, pdf=False, docx=False, xlsx=False)
    for document in result.documents:
        depths = heading_depths(document.markdown)
        for (before, _), (depth, text) in zip(depths, depths[1:], strict=False):
            assert depth <= before + 1, (document.id, text)

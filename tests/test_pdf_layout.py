"""The PDFs read as a reviewer reads them: no table cell overprints its neighbour, nothing runs off the printable area,
no heading is stranded at the foot of a page; over the sample and every `techfile init` template."""

from __future__ import annotations

from pathlib import Path

import pytest

from pdf_layout import layout_defects
from techfile.publish.build import build
from techfile.publish.pdf import PdfJob, typst_to_pdf
from techfile.scaffold import TEMPLATES, scaffold

from conftest import SAMPLE

PROJECTS = ["sample", *sorted(t for t in TEMPLATES if t != "medical")]


@pytest.fixture(scope="module", params=PROJECTS)
def project_pdfs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp(request.param)
    source = SAMPLE if request.param == "sample" else scaffold(root / "project", request.param).directory
    out = build(source, root / "build", site=False, docx=False, xlsx=False).out
    return sorted((out / "pdf").glob("*.pdf"))


def test_every_pdf_is_laid_out_cleanly(project_pdfs: list[Path]) -> None:
    assert project_pdfs
    defects = [f"{pdf.name} {defect}" for pdf in project_pdfs for defect in layout_defects(pdf)]
    assert defects == []


def _compile(tmp_path: Path, body: str) -> Path:
    source = tmp_path / "x.typ"
    source.write_text('#set page(paper: "a4", margin: 2cm)\n#set text(font: "DejaVu Serif", size: 8pt)\n'
                      "Heading test page\n" + body, encoding="utf-8")
    job = PdfJob("x", str(tmp_path / "x.md"), str(tmp_path / "x.pdf"), 1767225600, {"title": "x"})
    typst_to_pdf(job, source)
    return tmp_path / "x.pdf"


def test_the_check_sees_a_hash_running_across_its_cell(tmp_path: Path) -> None:
    pdf = _compile(tmp_path, '#table(columns: (2cm, 2cm), [e3b0c44298fc1c149afbf4c8996fb924], [next cell])\n')
    defects = layout_defects(pdf)
    assert {d.kind for d in defects} == {"text runs across a table cell's border", "characters of two table cells overprint"}
    assert any(d.text.startswith("e3b0c44298fc") for d in defects)


def test_the_check_sees_overprinted_cells_and_text_off_the_page(tmp_path: Path) -> None:
    pdf = _compile(tmp_path, '#table(columns: (1cm, 3cm), [overprinted words], [neighbour text])\n'
                             '#block(width: 30cm)[#lorem(40)]\n')
    kinds = {d.kind for d in layout_defects(pdf)}
    assert kinds == {"text runs across a table cell's border", "characters of two table cells overprint",
                     "outside the printable area"}


def test_the_check_sees_a_stranded_heading(tmp_path: Path) -> None:
    pdf = _compile(tmp_path, '#pagebreak()\n#v(23cm)\n#text(font: "DejaVu Sans", weight: "bold", size: 12pt)[Stranded]'
                             "\n#pagebreak()\nBody\n")
    assert [(d.page, d.kind) for d in layout_defects(pdf)] == [(2, "heading is the last line of the page")]

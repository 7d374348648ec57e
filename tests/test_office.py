"""The Word (DOCX) and spreadsheet (XLSX) editions: deterministic packages, every heading of the Markdown in the DOCX,
the SoA's 38 Annex A controls in the XLSX, values as text (never formulas), and nothing read that is not ours."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from techfile.frameworks.registry import builtin_framework
from techfile.publish.build import BuildResult, build
from techfile.publish.ooxml import zip_time
from techfile.publish.pdf import PANDOC_FORMAT, pandoc_path

from conftest import SAMPLE

EPOCH = 1767225600  # 2026-01-01T00:00:00Z
OFFICE_KINDS = {"statement-of-applicability", "risk-register", "traceability", "soc2-readiness", "model-cards"}


@pytest.fixture(scope="module")
def office_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(SAMPLE, tmp_path_factory.mktemp("office") / "build", site=False, pdf=False)


def markdown_headings(markdown: Path) -> list[tuple[int, str]]:
    """(level, plain text) of every heading, as pandoc reads the Markdown (escapes resolved, code spans as text)."""
    done = subprocess.run([pandoc_path(), str(markdown), "--from", PANDOC_FORMAT, "--to", "json"], capture_output=True,
                          text=True, check=True)
    headings: list[tuple[int, str]] = []

    def text(inlines: list[dict]) -> str:
        parts = []
        for node in inlines:
            kind, content = node["t"], node.get("c")
            if kind == "Str":
                parts.append(content)
            elif kind in ("Space", "SoftBreak", "LineBreak"):
                parts.append(" ")
            elif kind == "Code":
                parts.append(content[1])
            elif kind in ("Emph", "Strong", "Underline", "Strikeout", "SmallCaps"):
                parts.append(text(content))
            elif kind in ("Link", "Span"):
                parts.append(text(content[1]))
            elif kind == "Quoted":
                parts.append(text(content[1]))
        return "".join(parts)

    def walk(blocks: list[dict]) -> None:
        for block in blocks:
            if block["t"] == "Header":
                headings.append((block["c"][0], " ".join(text(block["c"][2]).split())))
            elif block["t"] in ("BlockQuote", "Div"):
                walk(block["c"] if block["t"] == "BlockQuote" else block["c"][1])

    walk(json.loads(done.stdout)["blocks"])
    return headings


def docx_headings(path: Path) -> list[tuple[int, str]]:
    import docx

    found = []
    for paragraph in docx.Document(str(path)).paragraphs:
        style = paragraph.style.name
        if style == "Title":
            found.append((1, " ".join(paragraph.text.split())))
        elif style.startswith("Heading "):
            found.append((int(style.split()[1]) + 1, " ".join(paragraph.text.split())))
    return found


def test_every_document_has_a_docx_holding_every_heading_of_its_markdown(office_build: BuildResult) -> None:
    documents = [d for d in office_build.documents if d.in_pdf]
    assert {p.name for p in (office_build.out / "docx").iterdir()} == {f"{d.id}.docx" for d in documents}
    for document in documents:
        expected = markdown_headings(office_build.out / "markdown" / f"{document.id}.md")
        assert expected and expected[0] == (1, document.title)
        assert docx_headings(office_build.out / "docx" / f"{document.id}.docx") == expected, document.id


def test_docx_header_footer_properties_and_page_come_from_the_document(office_build: BuildResult) -> None:
    import docx

    path = office_build.out / "docx" / "thoravis-cxr-statement-of-applicability.docx"
    word = docx.Document(str(path))
    section = word.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    header, footer = section.header.paragraphs[0].text, section.footer.paragraphs[0].text
    assert header.split("\t") == ["thoravis-cxr-statement-of-applicability", "Statement of Applicability (ISO/IEC 42001)", "confidential"]
    soa = next(d for d in office_build.documents if d.id == "thoravis-cxr-statement-of-applicability")
    assert soa.control is not None  # the document's own version and status (documents/control.py)
    assert f"thoravis-cxr-statement-of-applicability — version {soa.control.version} — {soa.status.upper()}" in footer
    assert "Page" in footer
    assert word.core_properties.title == "Statement of Applicability (ISO/IEC 42001)"
    assert word.core_properties.author.startswith("Jonas Feldmann")
    with zipfile.ZipFile(path) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    assert not any(b"{{" in data for name, data in parts.items() if name.endswith(".xml")), "a placeholder was left unfilled"
    table_style = re.search(rb'w:styleId="Table".*?</w:style>', parts["word/styles.xml"], re.DOTALL)
    assert table_style and b"<w:insideH " in table_style.group(0), "tables have grid lines"


def test_docx_links_point_at_sibling_docx_and_charts_are_png(office_build: BuildResult) -> None:
    path = office_build.out / "docx" / "thoravis-cxr-model-card-nodule-detector.docx"
    with zipfile.ZipFile(path) as package:
        rels = package.read("word/_rels/document.xml.rels").decode()
        media = [n for n in package.namelist() if n.startswith("word/media/")]
    targets = re.findall(r'Target="([^"]+)" TargetMode="External"', rels)
    assert targets and all(t.endswith(".docx") for t in targets), targets
    assert all((office_build.out / "docx" / t).is_file() for t in targets)
    charts = sorted((office_build.out / "markdown" / "charts").glob("model-nodule-detector-*.svg"))
    assert len(media) == len(charts) >= 1 and all(m.endswith(".png") for m in media)


def test_xlsx_soa_has_a_row_per_annex_a_control_with_the_sources_values(office_build: BuildResult) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(office_build.out / "xlsx" / "thoravis-cxr-statement-of-applicability.xlsx")
    assert workbook.sheetnames == ["Annex A controls", "Document control"]
    sheet = workbook["Annex A controls"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Control", "Title", "Applicable", "Justification")
    controls = [i.id for i in builtin_framework("iso-42001").assessable_items()]
    assert len(controls) == 38 and [r[0] for r in rows[1:]] == controls
    decisions = {d["control"]: d for d in yaml.safe_load((SAMPLE / "soa.yaml").read_text(encoding="utf-8"))["decisions"]}
    for row in rows[1:]:
        decision = decisions[row[0]]
        assert row[2] == ("yes" if decision["applicable"] else "no")
        assert row[3] == " ".join(decision["justification"].split())
        assert row[4] == decision["status"]
    control = dict(workbook["Document control"].iter_rows(min_row=2, values_only=True))
    soa = next(d for d in office_build.documents if d.id == "thoravis-cxr-statement-of-applicability")
    assert soa.control is not None
    assert control["Document id"] == soa.id and control["Version"] == soa.control.version
    assert control["Approved on"] == soa.control.approved_on and control["Documentation set version"] == "3.1"


def test_xlsx_risk_register_traceability_and_soc2_gap_list(office_build: BuildResult) -> None:
    import openpyxl

    out = office_build.out / "xlsx"
    assert sorted(p.name for p in out.iterdir()) == [f"thoravis-cxr-{k}.xlsx" for k in
                                                     ("gspr-checklist", "mdr-index", "risk-register", "soc2-readiness",
                                                      "statement-of-applicability", "traceability")]
    risks = openpyxl.load_workbook(out / "thoravis-cxr-risk-register.xlsx")
    risk_ids = sorted(yaml.safe_load(p.read_text(encoding="utf-8"))["id"] for p in (SAMPLE / "risks").glob("*.yaml"))
    register = list(risks["Risk register"].iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in register) == risk_ids
    assert len(list(risks["NIST AI RMF profile"].iter_rows(min_row=2))) == 72  # every AI RMF 1.0 subcategory
    soc2 = openpyxl.load_workbook(out / "thoravis-cxr-soc2-readiness.xlsx")
    markdown = (office_build.out / "markdown" / "thoravis-cxr-soc2-readiness.md").read_text(encoding="utf-8")
    gap_section = markdown.split("## Gap analysis", 1)[1].split("\n## ", 1)[0]
    gap_ids = [line.split("|")[1].split()[0] for line in gap_section.splitlines() if line.startswith("| ") and "Criterion" not in line]
    assert [r[0] for r in soc2["Gap list"].iter_rows(min_row=2, values_only=True)] == gap_ids
    trace = openpyxl.load_workbook(out / "thoravis-cxr-traceability.xlsx")
    requirements = list(trace["Requirements"].iter_rows(min_row=2, values_only=True))
    markdown = (office_build.out / "markdown" / "thoravis-cxr-traceability.md").read_text(encoding="utf-8")
    sections = markdown.split("## How to read this matrix", 1)[1].split("## Controls and what they satisfy", 1)[0]
    titles = [line[3:] for line in sections.splitlines() if line.startswith("## ")]
    # EU AI Act, ISO 42001, NIST, SOC 2, the MDR, ISO 13485 and ISO 14971 packs, and the sample's AI policy
    assert list(dict.fromkeys(r[0] for r in requirements)) == titles and len(titles) == 8
    table_rows = [line for line in sections.splitlines() if line.startswith("| ") and not line.startswith("| Requirement")]
    assert len(requirements) == len(table_rows)


def test_office_files_are_in_the_manifest(office_build: BuildResult) -> None:
    manifest = json.loads((office_build.out / "manifest.json").read_text(encoding="utf-8"))
    listed = {e["path"] for e in manifest["outputs"]}
    files = {p.relative_to(office_build.out).as_posix() for p in office_build.out.rglob("*") if p.suffix in (".docx", ".xlsx")}
    assert files and files <= listed


def test_two_builds_with_different_file_times_give_identical_docx_and_xlsx(project_copy: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    first = build(project_copy, tmp_path / "one", only=OFFICE_KINDS, site=False, pdf=False)
    for path in project_copy.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))  # 2001: any file time the writers might pick up differs
    second = build(project_copy, tmp_path / "two", only=OFFICE_KINDS, site=False, pdf=False)
    names = sorted(p.relative_to(first.out).as_posix() for p in first.out.rglob("*") if p.suffix in (".docx", ".xlsx"))
    assert len(names) == 4 + 2 + 4  # DOCX of SoA, risks, traceability, SOC 2 and the two model cards; four XLSX
    for name in names:
        assert (first.out / name).read_bytes() == (second.out / name).read_bytes(), name
        with zipfile.ZipFile(first.out / name) as package:
            infos = package.infolist()
            assert infos[0].filename == "[Content_Types].xml"
            assert [i.filename for i in infos[1:]] == sorted(i.filename for i in infos[1:])
            assert {i.date_time for i in infos} == {zip_time(EPOCH)}, "entry times come from the build epoch, not the clock"
            core = package.read("docProps/core.xml").decode()
        assert core.count("2026-01-01T00:00:00Z") == 2, core


def test_source_values_stay_text_in_xlsx_and_literal_in_docx(project_copy: Path, tmp_path: Path) -> None:
    import docx
    import openpyxl

    soa = project_copy / "soa.yaml"
    formula = '=HYPERLINK("http://attacker.example/x","click")'
    data = yaml.safe_load(soa.read_text(encoding="utf-8"))
    data["decisions"][0]["justification"] = f"{formula} <w:t>&amp;"  # a control character is refused by check (TF120)
    soa.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = build(project_copy, tmp_path / "out", only={"statement-of-applicability"}, site=False, pdf=False)
    sheet = openpyxl.load_workbook(result.out / "xlsx" / "thoravis-cxr-statement-of-applicability.xlsx")["Annex A controls"]
    cell = sheet.cell(row=2, column=4)
    assert cell.data_type == "s" and cell.value == f"{formula} <w:t>&amp;"
    word = docx.Document(str(result.out / "docx" / "thoravis-cxr-statement-of-applicability.docx"))
    cells = [c.text for t in word.tables for row in t.rows for c in row.cells]
    assert any(f"{formula} <w:t>&amp;" in c for c in cells)


def test_docx_embeds_no_file_that_source_prose_names(project_copy: Path, tmp_path: Path) -> None:
    import docx
    from PIL import Image, PngImagePlugin

    from techfile.publish.build import BuildFindings

    secret = tmp_path / "secret.png"
    marked = PngImagePlugin.PngInfo()
    marked.add_text("note", "not for the document")
    Image.new("RGB", (4, 4)).save(secret, pnginfo=marked)
    procedure = next((project_copy / "qms").glob("*.md"))
    text = procedure.read_text(encoding="utf-8")
    procedure.write_text(text + f"\n\n![leak]({secret.as_posix()})\n", encoding="utf-8")
    with pytest.raises(BuildFindings) as refused:  # a path out of the project is refused like an evidence path
        build(project_copy, tmp_path / "out", only={"qms-manual"}, site=False, pdf=False)
    assert [d.code for d in refused.value.diagnostics] == ["TF402"]
    shutil.copyfile(secret, project_copy / "docs" / "secret.png")  # inside the project: shown in site and PDF only
    procedure.write_text(text + "\n\n![leak](docs/secret.png)\n", encoding="utf-8")
    result = build(project_copy, tmp_path / "out", only={"qms-manual"}, site=False, pdf=False)
    path = result.out / "docx" / "thoravis-cxr-qms-manual.docx"
    with zipfile.ZipFile(path) as package:
        assert not any(b"not for the document" in package.read(n) for n in package.namelist())
    assert "[image not included in this edition: leak]" in "\n".join(p.text for p in docx.Document(str(path)).paragraphs)

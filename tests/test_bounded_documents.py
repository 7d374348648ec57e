"""The aggregate documents stay bounded at portfolio scale, and drop nothing.

On a generated project of ten times the sample (benchmarks/generate.py): no table cell of the traceability matrix, the
risk register, the Statement of Applicability or the SOC 2 readiness grows with the portfolio (a cell names at most
SHOWN_IN_A_CELL ids and counts the rest), and each of these documents has at most one row per requirement and one per
entity it lists, never one per pair: its Markdown grows with the requirements plus the entities, not with their
product. Every requirement appears in the matrix with its grade, every control in its reverse view, every risk in the
register's summary with its residual level and its detail in exactly one document; the spreadsheet edition keeps every
full list; the technical file counts each model's subgroup results (its model card gives them one by one); a register
split into detail documents shows them in the site's navigation, as PDFs and in the manifest like any document."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from techfile.assess.grades import assess
from techfile.assess.pages import RISK_DETAIL_IN_ONE_DOCUMENT, planned_documents
from techfile.documents.lists import NAMED_WHEN_COUNTED, SHOWN_IN_A_CELL
from techfile.documents.technical_file import MODELS_WITH_SUBGROUP_TABLES
from techfile.loading import load_project
from techfile.publish.build import BuildResult, build

from conftest import REPO

SCALE = 10
AGGREGATE_KINDS = {"traceability", "risk-register", "statement-of-applicability", "soc2-readiness"}
# A table cell: an id and title, a grade, a sentence of basis, crosswalk hints of one item (the catalogue's), or a list
# of at most SHOWN_IN_A_CELL ids (≤ 40 characters each) with its count and where the rest are: under this at any scale.
CELL_CHARACTERS = 800
# Rows every document has whatever the scale: document control, revision history, legends, headings.
FIXED_ROWS = 60


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    root = tmp_path_factory.mktemp("portfolio")
    project = _generator().generate(root / f"x{SCALE}", scale=SCALE, seed=3).root
    return project, build(project, root / "build", only={*AGGREGATE_KINDS, "technical-file"}, site=False, pdf=False,
                          docx=False)


def _rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("| ") and not re.match(r"\|[:\- |]+\|$", line)]


def _section(markdown: str, start: str, end: str | None = None) -> str:
    text = markdown.split(start, 1)[1]
    return text.split(end, 1)[0] if end else text


def test_no_row_grows_with_the_portfolio_and_no_document_with_a_product(portfolio: tuple[Path, BuildResult]) -> None:
    project_root, result = portfolio
    project = load_project(project_root).project
    requirements = sum(len(g.items) for g in assess(project).frameworks)
    entities = len(project.controls) + len(project.risks)
    assert result.documents
    for document in result.documents:
        if document.kind not in AGGREGATE_KINDS:
            continue
        rows = _rows(document.markdown)
        longest = max((cell for row in rows for cell in re.split(r"(?<!\\)\|", row)), key=len)
        assert len(longest) <= CELL_CHARACTERS, (document.id, longest[:200])
        assert len(rows) <= 2 * requirements + entities + FIXED_ROWS, document.id
    matrix = next(d.markdown for d in result.documents if d.kind == "traceability")
    forward = [r for r in _rows(_section(matrix, "## How to read this matrix", "## Controls and what they satisfy"))
               if not r.startswith("| Requirement |")]
    assert len(forward) == requirements  # one row per requirement however many controls claim it
    for row in forward:
        controls = re.split(r"(?<!\\)\|", row)[4].split(" (procedures:")[0].split(" and ")[0]
        assert len(controls.split(", ")) <= SHOWN_IN_A_CELL, row
    counted = re.findall(r" and (\d+) more \(all (\d+) in Controls and what they satisfy\) \|", matrix)
    assert counted and all(int(whole) - int(more) == NAMED_WHEN_COUNTED for more, whole in counted)


def test_every_requirement_control_and_risk_is_shown(portfolio: tuple[Path, BuildResult]) -> None:
    project_root, result = portfolio
    project = load_project(project_root).project
    markdown = {d.id: d.markdown.replace("\\", "") for d in result.documents}
    matrix = markdown[next(d.id for d in result.documents if d.kind == "traceability")]
    for grades in assess(project).frameworks:
        rows = _rows(_section(matrix, f"## {grades.framework.title}\n", "\n## "))
        for item in grades.items:
            row = next(r for r in rows if r.startswith(f"| {item.id} "))
            assert row.split(" | ")[1].strip("*").lower() == item.grade, row
    reverse = _section(matrix, "## Controls and what they satisfy")
    assert all(f"(`{c.id}`)" in reverse for c in project.controls)
    assert len(project.risks) > RISK_DETAIL_IN_ONE_DOCUMENT
    register_id = next(d.id for d in result.documents if d.kind == "risk-register" and d.tables)
    summary = _rows(_section(markdown[register_id], "## Overview", "\n## "))
    for risk in project.risks:
        row = next(r for r in summary if f"(`{risk.id}`)" in r)
        assert f" | {risk.residual_level} | " in row
        shown_in = [i for i, text in markdown.items() if f"| Id | {risk.id} |" in text]
        assert len(shown_in) == 1 and shown_in[0] != register_id, risk.id
        assert f"]({shown_in[0]}.md)" in row  # the summary row links the document with the risk's detail


def test_the_spreadsheet_edition_keeps_every_full_list(portfolio: tuple[Path, BuildResult]) -> None:
    import openpyxl

    project_root, result = portfolio
    project = load_project(project_root).project
    trace = openpyxl.load_workbook(result.out / "xlsx" / "thoravis-cxr-traceability.xlsx")
    controls = {(row[0], row[1]): row[5] for row in trace["Requirements"].iter_rows(min_row=2, values_only=True)}
    for grades in assess(project).frameworks:
        for item in grades.items:
            assert controls[(grades.framework.title, item.id)] == (", ".join(item.controls) or "—")
    risks = openpyxl.load_workbook(result.out / "xlsx" / "thoravis-cxr-risk-register.xlsx")
    assert sorted(r[0] for r in risks["Risk register"].iter_rows(min_row=2, values_only=True)) == \
        sorted(r.id for r in project.risks)


def test_a_split_register_is_a_document_like_any_other(tmp_path: Path) -> None:
    scale = RISK_DETAIL_IN_ONE_DOCUMENT // 13 + 1  # the sample has 13 risks
    project_root = _generator().generate(tmp_path / f"x{scale}", scale=scale, seed=1).root
    result = build(project_root, tmp_path / "build", only={"risk-register"}, docx=False, xlsx=False)
    project = load_project(project_root).project
    parts = [d.id for d in result.documents if d.kind == "risk-register" and not d.tables]
    assert parts and [i for i in planned_documents(project) if i.startswith("thoravis-cxr-risk-register")] == \
        ["thoravis-cxr-risk-register", *parts]
    manifest = {e["path"] for e in json.loads((result.out / "manifest.json").read_text(encoding="utf-8"))["outputs"]}
    navigation = (result.out / "site" / "index.html").read_text(encoding="utf-8")
    for part in parts:
        assert {f"pdf/{part}.pdf", f"markdown/{part}.md", f"site/{part}.html"} <= manifest
        assert result.pages[part] > 0
        assert f'href="{part}.html"' in navigation or f'href="{part}/"' in navigation


def test_the_technical_file_counts_each_models_subgroup_results(portfolio: tuple[Path, BuildResult]) -> None:
    project_root, result = portfolio
    project = load_project(project_root).project
    assert len(project.models) > MODELS_WITH_SUBGROUP_TABLES
    markdown = next(d.markdown for d in result.documents if d.kind == "technical-file")
    point = _section(markdown, "\n### Accuracy for the persons and groups concerned\n", "\n### ")
    rows = [r for r in _rows(point) if not r.startswith("| Model |")]
    assert len(rows) == len(project.models)
    assert all(f"](thoravis-cxr-model-card-{m.id}.md) |" in point for m in project.models)
    assert "| Slice |" not in point  # the per-subgroup tables are the model cards'

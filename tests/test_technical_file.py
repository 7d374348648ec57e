"""The technical file (Annex IV), declaration of conformity (Annex V) and instructions for use (Art. 13(3))."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

from techfile import load_project
from techfile.assess.findings import assess_project
from techfile.assess.grades import MISSING, NOT_APPLICABLE, ItemGrade, assess
from techfile.documents.base import BuildInfo
from techfile.documents.render import Renderer
from techfile.documents.technical_file import technical_file_documents
from techfile.frameworks.catalogue import load_catalogue
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Project
from techfile.publish.build import BuildResult, build

from conftest import SAMPLE, SCHEMAS, run_cli

BUILD = BuildInfo("2026-10-12", 1791763200, None, False, "test")


@pytest.fixture(scope="module")
def sample() -> Project:
    result = load_project(str(SAMPLE))
    assert result.diagnostics == []
    return result.project


def without(project: Project, fact: str) -> Project:
    """A copy of the resolved project in which `fact` (a point's first filling fact) is absent."""
    assert project.system is not None
    if fact.startswith("system."):
        name = fact.split(".")[1]
        empty = [] if isinstance(getattr(project.system, name), list) else None
        return dataclasses.replace(project, system=dataclasses.replace(project.system, **{name: empty}))
    if fact == "test_reports":
        return dataclasses.replace(project, evidence=[e for e in project.evidence if e.type != "test-report"])
    if fact == "disaggregated_results":
        models = [dataclasses.replace(m, results=[r for r in m.results if not r.slice]) for m in project.models]
        return dataclasses.replace(project, models=models)
    if fact == "declaration":
        return dataclasses.replace(project, system=dataclasses.replace(project.system, conformity=None))
    return dataclasses.replace(project, **{fact: []})


def annex_iv_status(project: Project) -> list[ItemGrade]:
    """The graded Annex IV points (without the two headings)."""
    from techfile.documents.common import point_grades

    return list(point_grades(assess(project), "annex_iv", "annex_iv_sources").values())


def test_sample_points_are_all_complete_or_justified(sample: Project) -> None:
    statuses = annex_iv_status(sample)
    assert [s.grade for s in statuses if s.grade in (MISSING,)] == []
    not_applicable = [s for s in statuses if s.grade == NOT_APPLICABLE]
    assert [s.id for s in not_applicable] == ["annex_iv.1.f"] and len(not_applicable[0].reason) > 40


def test_every_annex_iv_point_has_a_status_in_order(sample: Project) -> None:
    expected = [i.id for i in eu_ai_act().section("annex_iv") if i.id not in ("annex_iv.1", "annex_iv.2")]
    assert [s.id for s in annex_iv_status(sample)] == expected
    assert set(load_catalogue("annex_iv_sources")) == set(expected)


POINTS = [p for p in load_catalogue("annex_iv_sources") if p != "annex_iv.1.f"]


@pytest.mark.parametrize("point_id", POINTS)
def test_removing_the_fact_that_fills_a_point_makes_it_missing(sample: Project, point_id: str) -> None:
    fact = load_catalogue("annex_iv_sources")[point_id]["needs"][0]
    broken = without(sample, fact)
    status = {s.id: s for s in annex_iv_status(broken)}[point_id]
    assert status.grade == MISSING and status.missing
    ref = eu_ai_act().ref(point_id)
    findings = [d for d in assess_project(broken) if d.code == "TF601"]
    assert any(d.message.startswith(ref + " is missing") for d in findings), findings
    markdown = technical_file_documents(broken, BUILD, Renderer(SAMPLE))[0].markdown
    row = next(line for line in markdown.splitlines() if line.startswith(f"| {ref.replace('(', '(')} |"))
    assert "**MISSING**" in row


def remove_top_level_key(path: Path, key: str) -> None:
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{key}:.*?(?=^\S)", re.MULTILINE | re.DOTALL)
    assert pattern.search(text), key
    path.write_text(pattern.sub("", text, count=1), encoding="utf-8")


@pytest.mark.parametrize("key, ref", [
    ("metrics_appropriateness", "Annex IV, point 4"), ("architecture", "Annex IV, point 2(c)"),
    ("predetermined_changes", "Annex IV, point 2(f)"), ("conformity", "Annex IV, point 8"),
])
def test_check_fails_naming_the_missing_point(project_copy: Path, key: str, ref: str) -> None:
    remove_top_level_key(project_copy / "system.yaml", key)
    result = run_cli("check", str(project_copy))
    assert result.exit_code == 1
    found = re.search(rf"system\.yaml:(\d+):1: TF601 error: {re.escape(ref)} is missing from the technical file: add system\.yaml `{key}`",
                      result.output)
    assert found, result.output
    # it points at the field after which the schema places the missing one: where to add it, not line 1
    schema_order = list(json.loads((SCHEMAS / "system.schema.json").read_text())["properties"])
    lines = (project_copy / "system.yaml").read_text().splitlines()
    present = [k for k in schema_order[:schema_order.index(key)] if any(line.startswith(f"{k}:") for line in lines)]
    expected = max(next(i for i, line in enumerate(lines, 1) if line.startswith(f"{k}:")) for k in present)
    assert int(found.group(1)) == expected > 1


def test_not_high_risk_gaps_are_warnings(project_copy: Path) -> None:
    system = project_copy / "system.yaml"
    text = system.read_text(encoding="utf-8")
    text = re.sub(r"(annex_i_product:\n\s+applies:) true", r"\1 false", text)
    system.write_text(text, encoding="utf-8")
    remove_top_level_key(system, "metrics_appropriateness")
    result = run_cli("check", str(project_copy))
    assert result.exit_code == 0, result.output
    assert "TF602 warning: Annex IV, point 4 is missing" in result.output
    assert run_cli("check", str(project_copy), "--strict").exit_code == 1


@pytest.fixture(scope="module")
def eu_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(SAMPLE, tmp_path_factory.mktemp("eu") / "build", site=False,
                 only={"technical-file", "declaration-of-conformity", "instructions-for-use"})


def pdf_text(path: Path) -> str:
    import subprocess

    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())


def assert_in_order(text: str, parts: list[str]) -> None:
    position = 0
    for part in parts:
        found = text.find(part, position)
        assert found >= 0, f"{part!r} not found (in order)"
        position = found + len(part)


def test_technical_file_pdf_holds_every_annex_iv_heading_in_order(eu_build: BuildResult) -> None:
    text = pdf_text(eu_build.out / "pdf" / "thoravis-cxr-technical-file.pdf")
    body = text[text.find("Annex IV, point 1: "):]
    assert_in_order(body, [f"{item.ref}: {' '.join(item.title.split()[:4])}" for item in eu_ai_act().section("annex_iv")])
    assert "Not applicable: " in body


def test_declaration_pdf_holds_annex_v_points_1_to_8(eu_build: BuildResult) -> None:
    text = pdf_text(eu_build.out / "pdf" / "thoravis-cxr-declaration-of-conformity.pdf")
    items = eu_ai_act().section("annex_v")
    assert len(items) == 8
    assert_in_order(text[text.find("Declaration"):], [f"{i.ref}: {' '.join(i.title.split()[:3])}" for i in items])
    assert "sole responsibility of Thoravis Medical GmbH" in text and "2977" in text and "MISSING" not in text


def test_declaration_pdf_fits_two_pages_with_signature_block_and_mdr_items(eu_build: BuildResult) -> None:
    from techfile.publish.pdf import count_pages

    pdf = eu_build.out / "pdf" / "thoravis-cxr-declaration-of-conformity.pdf"
    assert count_pages(pdf) <= 2
    text = pdf_text(pdf)
    assert "Contents" not in text and "Commits to the sources" not in text and "Revision history" not in text
    assert "Where the system processes" not in text and "processes personal data (in: " in text
    system = load_project(str(SAMPLE)).project.system
    declaration, device = system.conformity.declaration, system.classification.annex_i_product.medical_device
    raw = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    squeezed = "".join(c for c in raw if not c.isspace() and unicodedata.category(c) != "Cf").replace("DRAFT", "")
    signature = squeezed[squeezed.find("SignatureSignedforandonbehalfof"):]
    assert_in_order(signature, [" ".join(part.split()).replace(" ", "") for part in [
        "Place", "Date", "Name", "Function", declaration.place, declaration.date, declaration.signatory,
        declaration.function, "Signature:____"]])
    for label, value in [("SRN", device.srn), ("Basic UDI-DI", device.basic_udi_di), ("Risk class", device.device_class),
                         ("Classification rule", device.classification_rule)]:
        assert re.search(rf"{re.escape(label)}\)?: {re.escape(value)}", text), label


def test_declaration_identifier_does_not_repeat_an_id() -> None:
    from techfile.assess.declaration import _identifier

    assert _identifier("kreditblick", "kreditblick", "2.0.0") == "kreditblick/2.0.0"
    assert _identifier("thoravis-cxr", "cxr-assist", "1.2.0") == "thoravis-cxr/cxr-assist/1.2.0"


def test_instructions_pdf_holds_art_13_3_points(eu_build: BuildResult) -> None:
    text = pdf_text(eu_build.out / "pdf" / "thoravis-cxr-instructions-for-use.pdf")
    items = eu_ai_act().section("article_13_3")
    assert len(items) == 13
    assert_in_order(text[text.find("About these instructions"):], [f"{i.ref}: {' '.join(i.title.split()[:3])}" for i in items])
    assert "MISSING" not in text


def test_documents_link_to_each_other(eu_build: BuildResult) -> None:
    markdown = (eu_build.out / "markdown" / "thoravis-cxr-technical-file.md").read_text(encoding="utf-8")
    for target in ("declaration-of-conformity", "instructions-for-use", "risk-register", "qms-manual", "logbook",
                   "model-card-nodule-detector", "datasheet-cxr-train"):
        assert f"(thoravis-cxr-{target}.md)" in markdown, target


def test_classification_decides_the_default_documents(project_copy: Path) -> None:
    from techfile.assess.classification import REQUIRED_DOCUMENTS
    from techfile.documents import requested_kinds

    settings = project_copy / "techfile.yaml"
    settings.write_text(re.sub(r"^  documents:\n(    - .*\n)+", "", settings.read_text(encoding="utf-8"), flags=re.MULTILINE),
                        encoding="utf-8")
    project = load_project(str(project_copy)).project
    assert project.settings is not None and project.settings.outputs.documents == []
    mdr = ["gspr-checklist", "mdr-index"]  # the sample has the MDR pack in scope: its documents come too
    # a high-risk system also gets the post-market documents its sources hold (monitoring plan, reviews, incidents)
    assert requested_kinds(project) == [*REQUIRED_DOCUMENTS["high-risk"], "pms-plan", "monitoring-report", "incident-reports", *mdr]
    system = project_copy / "system.yaml"
    system.write_text(re.sub(r"(annex_i_product:\n\s+applies:) true", r"\1 false", system.read_text(encoding="utf-8")),
                      encoding="utf-8")
    minimal = load_project(str(project_copy))
    assert requested_kinds(minimal.project) == REQUIRED_DOCUMENTS["minimal"] + mdr
    assert not [d for d in minimal.diagnostics if d.code in ("TF601", "TF602")]


def test_record_keeping_rows_cover_art_12(sample: Project) -> None:
    from techfile.assess.completeness import record_keeping_rows

    rows = record_keeping_rows(sample)
    assert [r.ref for r in rows] == ["Art. 12(2)(a)", "Art. 12(2)(b)", "Art. 12(2)(c)", "Art. 12(3)(a)", "Art. 12(3)(b)",
                                     "Art. 12(3)(c)", "Art. 12(3)(d)"]
    assert all(r.how for r in rows[:3]) and not any(r.applies for r in rows[3:])

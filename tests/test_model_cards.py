"""Model cards and datasheets: their sections, the fairness gate, deterministic charts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from techfile import load_project
from techfile.assess.datasheets import datasheet_answers
from techfile.frameworks.catalogue import load_catalogue
from techfile.publish.build import BuildResult, build

from conftest import SAMPLE, run_cli

MITCHELL_SECTIONS = ["Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data",
                     "Quantitative analyses", "Ethical considerations", "Caveats and recommendations"]
GEBRU_SECTIONS = [s["title"] for s in load_catalogue("datasheet_questions")["sections"]]


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(SAMPLE, tmp_path_factory.mktemp("cards") / "build", only={"model-cards", "datasheets"})


def pdf_text(path: Path) -> str:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())


def test_gebru_has_seven_sections() -> None:
    assert GEBRU_SECTIONS == ["Motivation", "Composition", "Collection process", "Preprocessing, cleaning and labelling",
                              "Uses", "Distribution", "Maintenance"]


def test_model_cards_hold_every_mitchell_section(cards: BuildResult) -> None:
    models = [d for d in cards.documents if d.kind == "model-card"]
    assert len(models) == 2
    for document in models:
        text = pdf_text(cards.out / "pdf" / f"{document.id}.pdf")
        for section in MITCHELL_SECTIONS:
            assert f"\n## {section}\n" in document.markdown, (document.id, section)
            assert re.search(rf"\d+ {re.escape(section)}", text), (document.id, section)


def test_datasheets_hold_every_gebru_section_and_art_10(cards: BuildResult) -> None:
    sheets = [d for d in cards.documents if d.kind == "datasheet"]
    assert len(sheets) == 3
    for document in sheets:
        text = pdf_text(cards.out / "pdf" / f"{document.id}.pdf")
        for section in [*GEBRU_SECTIONS, "Data governance (EU AI Act Art. 10)"]:
            assert f"\n## {section}\n" in document.markdown, (document.id, section)
            assert section in text, (document.id, section)
        for point in ["Art. 10(2)(a)", "Art. 10(2)(h)", "Art. 10(3)", "Art. 10(4)", "Art. 10(5)"]:
            assert point in text


def test_sample_datasheets_answer_every_question() -> None:
    project = load_project(str(SAMPLE)).project
    for dataset in project.datasets:
        assert [a.question for a in datasheet_answers(dataset) if a.answer is None] == []


def test_cards_link_both_ways(cards: BuildResult) -> None:
    card = (cards.out / "markdown" / "thoravis-cxr-model-card-nodule-detector.md").read_text(encoding="utf-8")
    sheet = (cards.out / "markdown" / "thoravis-cxr-datasheet-cxr-train.md").read_text(encoding="utf-8")
    assert "(thoravis-cxr-datasheet-cxr-train.md)" in card
    assert "(thoravis-cxr-model-card-nodule-detector.md)" in sheet


def test_charts_are_embedded_in_markdown_site_and_pdf(cards: BuildResult) -> None:
    charts = sorted(p.name for p in (cards.out / "markdown" / "charts").iterdir())
    assert "dataset-cxr-train.svg" in charts and "model-nodule-detector-sensitivity.svg" in charts
    assert sorted(p.name for p in (cards.out / "site" / "charts").iterdir()) == charts
    html = (cards.out / "site" / "thoravis-cxr-model-card-nodule-detector.html").read_text(encoding="utf-8")
    assert 'src="charts/model-nodule-detector-sensitivity.svg"' in html
    assert "by slice" in pdf_text(cards.out / "pdf" / "thoravis-cxr-model-card-nodule-detector.pdf")
    assert "Instances per split" in pdf_text(cards.out / "pdf" / "thoravis-cxr-datasheet-cxr-train.pdf")


def test_chart_svgs_are_byte_identical_across_builds(cards: BuildResult, tmp_path: Path) -> None:
    again = build(SAMPLE, tmp_path / "again", only={"model-cards", "datasheets"}, site=False, pdf=False)
    first = {p.name: p.read_bytes() for p in (cards.out / "markdown" / "charts").iterdir()}
    second = {p.name: p.read_bytes() for p in (again.out / "markdown" / "charts").iterdir()}
    assert first == second
    for svg in first.values():
        assert b"<dc:date>" not in svg


def set_result(project: Path, model: str, old: str, new: str) -> int:
    path = project / "models" / f"{model}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(i for i, text in enumerate(lines) if old in text)
    lines[line] = lines[line].replace(old, new)
    path.write_text("".join(lines), encoding="utf-8")
    return line + 1


def test_a_subgroup_below_its_threshold_fails_check(project_copy: Path) -> None:
    line = set_result(project_copy, "pneumothorax-classifier",
                      "{metric: specificity, value: 0.873, ci: [0.833, 0.905], slice: {chest_drain: present}",
                      "{metric: specificity, value: 0.84, ci: [0.80, 0.88], slice: {chest_drain: present}")
    result = run_cli("check", str(project_copy))
    assert result.exit_code == 1
    expected = (f"project/models/pneumothorax-classifier.yaml:{line}:5: TF801 error: model 'pneumothorax-classifier': "
                f"specificity for chest_drain=present is 0.84, below its subgroup threshold 0.85 "
                f"(models/pneumothorax-classifier.yaml:{line})")
    assert expected in result.output.replace(str(project_copy.parent) + "/", ""), result.output


def test_a_declared_subgroup_without_a_result_fails_check(project_copy: Path) -> None:
    path = project_copy / "models" / "nodule-detector.yaml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^  - \{metric: sensitivity, [^\n]*slice: \{sex: female\}[^\n]*\n", "", text, count=1, flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")
    result = run_cli("check", str(project_copy))
    assert result.exit_code == 1
    assert "TF802 error: model 'nodule-detector': sensitivity has no result for declared subgroup sex=female" in result.output


def test_unanswered_datasheet_question_is_an_error_for_high_risk_training_data(project_copy: Path) -> None:
    path = project_copy / "datasets" / "cxr-train.yaml"
    path.write_text(re.sub(r"^  funding: .*\n", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE), encoding="utf-8")
    result = run_cli("check", str(project_copy))
    assert result.exit_code == 1
    assert "TF803 error: dataset 'cxr-train': datasheet question unanswered: Motivation: Who funded its creation?" in result.output

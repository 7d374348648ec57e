"""ISO 42001 SoA, NIST AI RMF register and profile, SOC 2 readiness, traceability, custom frameworks and coverage."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from techfile import load_project
from techfile.assess.grades import assess
from techfile.publish.build import build

from conftest import SAMPLE, run_cli


def check(project: Path) -> tuple[int, str]:
    result = run_cli("check", str(project))
    return result.exit_code, result.output


def test_sample_is_clean_with_all_four_frameworks_and_a_custom_one() -> None:
    result = load_project(str(SAMPLE))
    assert result.diagnostics == []
    frameworks = {c.framework.id: c for c in assess(result.project).frameworks}
    assert list(frameworks) == ["eu-ai-act", "iso-42001", "nist-ai-rmf", "soc2", "mdr", "iso-13485", "iso-14971",
                                "thoravis-ai-policy"]
    assert frameworks["iso-42001"].count("not applicable") >= 1


def remove_decision(soa: Path, control: str) -> None:
    text = soa.read_text(encoding="utf-8")
    pattern = re.compile(rf"^  - control: {re.escape(control)}\n(?:    .*\n|      .*\n)*", re.MULTILINE)
    assert pattern.search(text)
    soa.write_text(pattern.sub("", text, count=1), encoding="utf-8")


def test_a_control_missing_from_the_soa_fails_naming_it(project_copy: Path) -> None:
    remove_decision(project_copy / "soa.yaml", "A.7.4")
    code, output = check(project_copy)
    assert code == 1 and "TF901 error: Annex A control A.7.4" in output and "missing from the Statement of Applicability" in output


def test_a_decision_without_justification_fails_naming_the_control(project_copy: Path) -> None:
    soa = project_copy / "soa.yaml"
    text = soa.read_text(encoding="utf-8")
    pattern = re.compile(r"(  - control: A\.5\.2\n    applicable: \w+\n)    justification: .*?\n(?=    \w)", re.DOTALL)
    assert pattern.search(text)
    soa.write_text(pattern.sub(r"\1", text, count=1), encoding="utf-8")
    code, output = check(project_copy)
    assert code == 1 and re.search(r"TF902 error: Annex A control A\.5\.2 is (included|excluded) without a justification", output)


def edit_risk(project: Path, risk: str, **fields: str) -> None:
    path = project / "risks" / f"{risk}.yaml"
    text = path.read_text(encoding="utf-8")
    for key, value in fields.items():
        text = re.sub(rf"^{key}: .*$", f"{key}: {value}", text, count=1, flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")


def test_residual_above_inherent_fails(project_copy: Path) -> None:
    edit_risk(project_copy, "risk-adversarial-corrupted-input", residual_level="high")
    code, output = check(project_copy)
    assert code == 1 and "TF912 error: risk 'risk-adversarial-corrupted-input': residual level high is above its inherent level medium" in output


def test_residual_lowered_without_a_control_fails(project_copy: Path) -> None:
    path = project_copy / "risks" / "risk-adversarial-corrupted-input.yaml"
    text = re.sub(r"^  controls:\n(    - .*\n)+", "  controls: []\n", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")
    code, output = check(project_copy)
    assert code == 1 and "TF913 error: risk 'risk-adversarial-corrupted-input': residual level lowered from medium to low with no control" in output


def test_high_risk_without_evidence_fails(project_copy: Path) -> None:
    path = project_copy / "risks" / "risk-automation-bias.yaml"
    text = re.sub(r"^  controls:\n(    - .*\n)+", "  controls: [ctl-impact-assessment]\n", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")
    control = project_copy / "controls" / "ctl-impact-assessment.yaml"
    control.write_text(re.sub(r"^evidence:\n(  - .*\n)+", "", control.read_text(encoding="utf-8"), flags=re.MULTILINE), encoding="utf-8")
    code, output = check(project_copy)
    assert code == 1 and "TF911 error: risk 'risk-automation-bias' has inherent level high but no evidence item" in output


def test_high_risk_without_a_control_fails(project_copy: Path) -> None:
    path = project_copy / "risks" / "risk-automation-bias.yaml"
    text = re.sub(r"^  controls:\n(    - .*\n)+", "  controls: []\n", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")
    edit_risk(project_copy, "risk-automation-bias", residual_level="high")
    code, output = check(project_copy)
    assert code == 1 and "TF911 error: risk 'risk-automation-bias' has inherent level high but no control" in output


def test_unknown_framework_ids_fail(project_copy: Path) -> None:
    edit_risk(project_copy, "risk-automation-bias", nist_ai_rmf='["MAP 9.9"]')
    control = project_copy / "controls" / "ctl-api-security.yaml"
    control.write_text(re.sub(r"^  soc2: \[", "  soc2: [CC9.9, ", control.read_text(encoding="utf-8"), flags=re.MULTILINE),
                       encoding="utf-8")
    code, output = check(project_copy)
    assert code == 1
    assert "TF606 error: risk 'risk-automation-bias' names 'MAP 9.9', which is not an item of nist-ai-rmf" in output
    assert "TF606 error: control 'ctl-api-security' names 'CC9.9', which is not an item of soc2" in output


CUSTOM = """\
framework:
  id: acme-ai-policy
  title: ACME internal AI policy
  assessable: requirement
items:
  - {id: POL-1, kind: area, title: Data}
  - {id: POL-1.1, kind: requirement, parent: POL-1, title: Data sources are approved}
  - {id: POL-1.2, kind: requirement, parent: POL-1, title: Data access is logged}
mappings:
  - {from: {framework: acme-ai-policy, item: POL-1.2}, to: {framework: soc2, item: CC6.1}, authority: derived}
"""


def test_custom_framework_in_coverage_and_matrix(project_copy: Path) -> None:
    (project_copy / "frameworks" / "acme-ai-policy.yaml").write_text(CUSTOM, encoding="utf-8")
    control = project_copy / "controls" / "ctl-training-data-access.yaml"
    control.write_text(control.read_text(encoding="utf-8").replace("satisfies:\n", "satisfies:\n  custom:\n    acme-ai-policy: [POL-1.2]\n", 1),
                       encoding="utf-8")
    payload = json.loads(run_cli("coverage", str(project_copy), "--format", "json").output)
    acme = next(f for f in payload["frameworks"] if f["framework"] == "acme-ai-policy")
    grades = {i["id"]: i["grade"] for i in acme["items"]}
    assert grades == {"POL-1.1": "missing", "POL-1.2": "evidenced"}
    assert acme["below_gate"] == ["POL-1.1"]  # custom frameworks must be described by default
    assert run_cli("check", str(project_copy)).exit_code == 1
    result = build(project_copy, project_copy / "build", only={"traceability"}, site=False, pdf=False)
    matrix = (result.out / "markdown" / "thoravis-cxr-traceability.md").read_text(encoding="utf-8")
    assert "## ACME internal AI policy" in matrix
    assert "| POL-1.1 Data sources are approved | **MISSING** | described (below) |" in matrix
    assert "| POL-1.2 Data access is logged | evidenced | described |" in matrix
    assert "soc2 CC6.1 (derived)" in matrix or "CC6.1" in matrix


def test_custom_framework_mapping_to_an_unknown_id_fails(project_copy: Path) -> None:
    (project_copy / "frameworks" / "acme-ai-policy.yaml").write_text(CUSTOM.replace("item: CC6.1", "item: CC6.99"), encoding="utf-8")
    code, output = check(project_copy)
    assert code == 1 and "TF606 error: a mapping of acme-ai-policy names 'CC6.99', which is not an item of soc2" in output


def test_coverage_text_names_missing_items() -> None:
    result = run_cli("coverage", str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert re.search(r"^ISO/IEC 42001:2023 .*: 37 of 38 items apply — \d+ approved, \d+ evidenced", result.output, re.MULTILINE)
    assert re.search(r"^NIST AI Risk Management Framework .*: 72 of 72 items apply", result.output, re.MULTILINE)


def test_sample_builds_soa_soc2_and_traceability(tmp_path: Path) -> None:
    result = build(SAMPLE, tmp_path / "out", only={"statement-of-applicability", "soc2-readiness", "traceability", "risk-register"},
                   site=False)
    text = {d.kind: d.markdown for d in result.documents}
    assert text["statement-of-applicability"].count("\n| A.") == 38
    assert "## NIST AI RMF profile" in text["risk-register"]
    assert "](charts/risk-heatmap.svg)" in text["risk-register"] and (result.out / "markdown" / "charts" / "risk-heatmap.svg").is_file()
    assert len(re.findall(r"^\| (GOVERN|MAP|MEASURE|MANAGE) \d+\.\d+ ", text["risk-register"], re.MULTILINE)) == 72
    assert "## Readiness by category" in text["soc2-readiness"]
    assert "(derived)" in text["traceability"] or "(listed)" in text["traceability"]
    pdf = subprocess.run(["pdftotext", str(result.out / "pdf" / "thoravis-cxr-statement-of-applicability.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    assert "A.10.4" in pdf


TEMPLATES = ["medical", "fraud", "credit", "gpai", "sentiment", "minimal"]


@pytest.mark.parametrize("template", TEMPLATES)
def test_each_template_inits_checks_and_builds(template: str, tmp_path: Path) -> None:
    project = tmp_path / template
    result = run_cli("init", str(project), "--template", template)
    assert result.exit_code == 0, result.output
    first = (project / "techfile.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=schemas/project.schema.json"
    assert (project / "schemas" / "risk.schema.json").is_file()
    code, output = check(project)
    assert code == 0, output
    built = run_cli("build", str(project))
    assert built.exit_code == 0, built.output


def test_init_never_overwrites(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path / "p"), "--template", "minimal").exit_code == 0
    (tmp_path / "p" / "system.yaml").write_text("# mine\n", encoding="utf-8")
    again = run_cli("init", str(tmp_path / "p"), "--template", "minimal")
    assert again.exit_code == 1 and "nothing was written" in again.output
    assert (tmp_path / "p" / "system.yaml").read_text(encoding="utf-8") == "# mine\n"


def test_fraud_template_reports_the_incident_response_gap(tmp_path: Path) -> None:
    project = tmp_path / "fraud"
    assert run_cli("init", str(project), "--template", "fraud").exit_code == 0
    result = build(project, project / "build", only={"soc2-readiness"}, site=False, pdf=False)
    report = next(d for d in result.documents if d.kind == "soc2-readiness").markdown
    gap_section = report[report.index("## Gap analysis"):report.index("## Criteria by pipeline stage")]
    reported = set(re.findall(r"^\| (\S+) .*?\| (\*\*MISSING\*\*|described) \|", gap_section, re.MULTILINE))
    payload = json.loads(run_cli("coverage", str(project), "--format", "json").output)
    soc2 = next(f for f in payload["frameworks"] if f["framework"] == "soc2")
    expected = {(i["id"], "**MISSING**" if i["grade"] == "missing" else i["grade"]) for i in soc2["items"]
                if i["grade"] in ("missing", "described")}
    assert reported == expected
    missing = {i["id"] for i in soc2["items"] if i["grade"] == "missing"}
    assert {"CC7.4", "CC7.5"} & missing
    assert "incident" in report.lower()


def test_schemas_shipped_with_init_match(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path / "m"), "--template", "minimal").exit_code == 0
    for schema in (SAMPLE.parent / "schemas").glob("*.json"):
        if schema.name in ("export.schema.json", "eu-database-export.schema.json"):  # exports: init writes the sources' schemas only
            continue
        assert (tmp_path / "m" / "schemas" / schema.name).read_bytes() == schema.read_bytes()


def test_medical_template_is_the_sample(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path / "med"), "--template", "medical").exit_code == 0
    assert (tmp_path / "med" / "frameworks" / "thoravis-ai-policy.yaml").is_file()
    assert (tmp_path / "med" / "gspr.yaml").is_file()
    assert not (tmp_path / "med" / "build").exists()
    shutil.rmtree(tmp_path / "med")

"""One assessment: every item graded once, the same grade in every output; gates, evidence validity and approvals;
consistency rules; `check` reports every gap `build` shows; `check` keeps going past broken sources."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from techfile import load_project
from techfile.assess.grades import assess
from techfile.publish.build import build

from conftest import REPO, SAMPLE, run_cli

TEMPLATES = ["medical", "fraud", "credit", "gpai", "sentiment", "minimal"]


def _project(name: str, tmp_path: Path) -> Path:
    if name == "medical":
        target = tmp_path / "medical"
        shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("build"))
        return target
    target = tmp_path / name
    assert run_cli("init", str(target), "--template", name).exit_code == 0
    return target


def _set(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _codes(project: Path, *args: str) -> list[tuple[str, str, int]]:
    result = run_cli("check", str(project), "--format", "json", *args)
    return [(d["code"], d["path"].removeprefix(f"{project.as_posix()}/"), d["line"]) for d in json.loads(result.output)["diagnostics"]]


def _diagnostics(project: Path, *args: str) -> list[dict[str, object]]:
    return json.loads(run_cli("check", str(project), "--format", "json", *args).output)["diagnostics"]


def _table_rows(markdown: str, heading: str) -> list[list[str]]:
    """The cells of every row of the tables under `heading` (up to the next heading of the same level)."""
    level = heading.split(" ", 1)[0]
    start = markdown.index(heading + "\n")
    end = markdown.find(f"\n{level} ", start + len(heading))
    body = markdown[start:end if end != -1 else None]
    rows = []
    for line in body.splitlines():
        if line.startswith("|") and not re.match(r"^\|[\s:|-]+\|$", line):
            rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows[1:] if rows else rows


# --- every output agrees ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_output_shows_the_same_grades(name: str, tmp_path: Path) -> None:
    project = _project(name, tmp_path)
    result = build(project, tmp_path / "out", pdf=False)
    coverage = json.loads(run_cli("coverage", str(project), "--format", "json").output)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    grades = {(f["framework"], i["id"]): i["grade"] for f in coverage["frameworks"] for i in f["items"]}
    assert grades, "coverage reports no items"
    assert {(f["id"], i): g for f in manifest["assessment"]["frameworks"] for i, g in f["grades"].items()} == grades
    assert [f["summary"] for f in coverage["frameworks"]] == [f["summary"] for f in manifest["assessment"]["frameworks"]]
    markdown = {d.kind: d.markdown.replace("\\", "") for d in result.documents}  # Markdown escapes in ids
    seen = 0
    if "traceability" in markdown:
        for framework in coverage["frameworks"]:
            rows = _table_rows(markdown["traceability"], f"## {framework['title']}")
            assert framework["summary"] in markdown["traceability"]
            for row in rows:
                item_id = next(i["id"] for i in framework["items"] if row[0].startswith(i["id"] + " "))
                assert row[1].strip("*").lower() == grades[(framework["framework"], item_id)], row
                seen += 1
            assert len(rows) == len(framework["items"])
    refs = {i["ref"]: (f["framework"], i["id"]) for f in coverage["frameworks"] for i in f["items"]}
    for kind, heading, ref_col, grade_col in (("technical-file", "## Completeness", 0, 2),
                                              ("qms-manual", "## Coverage of EU AI Act Art. 17(1)", 0, 3)):
        if kind in markdown and ("eu-ai-act", "annex_iv.1.a") in grades:
            for row in _table_rows(markdown[kind], heading):
                assert row[grade_col].strip("*").lower() == grades[refs[row[ref_col]]], (kind, row)
                seen += 1
    for kind, framework, heading, grade_col in (("statement-of-applicability", "iso-42001", "## Annex A controls", 5),
                                                ("soc2-readiness", "soc2", "## Criteria by pipeline stage", 1)):
        if kind in markdown:
            for row in _table_rows(markdown[kind], heading):
                assert row[grade_col].strip("*").lower() == grades[(framework, row[0].split(" ", 1)[0])], (kind, row)
                seen += 1
    if "risk-register" in markdown and "## NIST AI RMF profile" in markdown["risk-register"]:
        profile = markdown["risk-register"][markdown["risk-register"].index("## NIST AI RMF profile"):]
        rows = [r for r in re.findall(r"^\| ((?:GOVERN|MAP|MEASURE|MANAGE) [\d.]+) .*? \| (\S+) \|", profile, re.M)]
        assert len(rows) == 72
        for item_id, grade in rows:
            assert grade.strip("*").lower() == grades[("nist-ai-rmf", item_id)]
        seen += len(rows)
    assert seen > 0
    # each document's gaps and status as the manifest records them are those the document shows
    for document in result.documents:
        if not document.in_pdf:
            continue
        recorded = manifest["assessment"]["documents"][document.id]
        assert recorded["gaps"] == [g.message for g in document.gaps]
        assert f"| Status | {recorded['status']} |" in document.markdown or f"({recorded['status']}) |" in document.markdown


@pytest.mark.parametrize("name", TEMPLATES)
def test_status_board_in_the_browser_matches_the_documents(name: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from test_site import CHROMIUM, CHROMIUM_ARGS

    project = _project(name, tmp_path)
    for model in sorted((project / "models").glob("*.yaml"))[:1]:  # one document with a gap
        model.write_text(re.sub(r"^license: .*\n", "", model.read_text(), count=1, flags=re.M))
    if not (project / "models").is_dir():
        for risk in (project / "risks").glob("*.yaml"):
            risk.unlink()
    for facts in sorted(project.glob("gpai_model.yaml")):  # a general-purpose model's documentation without its licence
        facts.write_text(re.sub(r"^  licence: .*\n", "", facts.read_text(), count=1, flags=re.M))
    result = build(project, tmp_path / "out", pdf=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto((tmp_path / "out" / "site" / "index.html").as_uri())
        table = page.locator("h2#status-board ~ div table, h2#status-board ~ table").first
        rows = [[c.inner_text().strip() for c in r.locator("td").all()] for r in table.locator("tbody tr").all()]
        board_text = page.locator("article").inner_text()
        browser.close()
    documents = {d.title: d for d in result.documents if d.in_pdf}
    assert len(rows) == len(documents)
    for title, _section, status, gaps in rows:
        assert status == documents[title].status
        assert int(gaps) == len(documents[title].gaps)
    total = sum(len(d.gaps) for d in documents.values())
    assert total >= 1 and f"({total} in all)" in board_text
    assert all(d.status == "draft" for d in documents.values() if d.gaps)


# --- check reports exactly the gaps build shows -------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATES)
def test_check_reports_every_gap_the_build_shows(name: str, tmp_path: Path) -> None:
    project = _project(name, tmp_path)
    # make gaps of several kinds, where the template has the sources for them
    system = project / "system.yaml"
    system.write_text(re.sub(r"^metrics_appropriateness:.*?(?=^\S)", "", system.read_text(), count=1, flags=re.M | re.S))
    for model in sorted((project / "models").glob("*.yaml"))[:1]:
        model.write_text(re.sub(r"^license: .*\n", "", model.read_text(), count=1, flags=re.M))
    if not (project / "models").is_dir():
        for risk in (project / "risks").glob("*.yaml"):
            risk.unlink()
    for facts in sorted(project.glob("gpai_model.yaml")):  # a general-purpose model's documentation without its licence
        facts.write_text(re.sub(r"^  licence: .*\n", "", facts.read_text(), count=1, flags=re.M))
    result = build(project, tmp_path / "out", pdf=False)
    shown = {g.message for d in result.documents for g in d.gaps}
    gap_codes = {"TF601", "TF602", "TF803", "TF804", "TF901", "TF902", "TF920", "TF923", "TF950", "TF951", "TF952",
                 "TF953", "TF954", "TF955", "TF956", "TF957", "TF958", "TF959", "TF960", "TF980", "TF981", "TF982",
                 "TF990", "TF991"}
    reported = {d["message"] for d in _diagnostics(project) if d["code"] in gap_codes}
    assert shown == reported
    assert shown, "the test made no gap"


def test_qms_gaps_are_check_errors_for_a_high_risk_system(project_copy: Path) -> None:
    """The 'check passes, build finds 7 gaps' case: Art. 17(1) aspects that no procedure covers."""
    for procedure in (project_copy / "qms").glob("*.yaml"):
        text = procedure.read_text()
        procedure.write_text(re.sub(r"art_17_aspects: \[[^\]]*\]", "art_17_aspects: [a]", text))
    diagnostics = [d for d in _diagnostics(project_copy) if d["code"] == "TF601" and "QMS manual" in d["message"]]
    assert len(diagnostics) == 12
    assert all(d["path"].endswith(".yaml") and d["path"].split("/")[-2] == "qms" and d["line"] > 1 for d in diagnostics)
    result = run_cli("check", str(project_copy))
    assert result.exit_code == 1


# --- check keeps going ---------------------------------------------------------------------------------------------


def test_a_dangling_reference_does_not_hide_the_other_findings(project_copy: Path) -> None:
    _set(project_copy / "risks" / "risk-missed-finding.yaml", "    - ctl-oversight-ui", "    - ctl-oversight-iu")
    _set(project_copy / "models" / "pneumothorax-classifier.yaml", "value: 0.873", "value: 0.61")  # fairness
    soa = project_copy / "soa.yaml"
    text = soa.read_text()
    soa.write_text(re.sub(r"  - control: A\.10\.4\n(    .*\n)+", "", text, count=1))  # SoA decision removed
    system = project_copy / "system.yaml"
    system.write_text(re.sub(r"^predetermined_changes:.*?(?=^\S)", "", system.read_text(), count=1, flags=re.M | re.S))
    codes = {code for code, _, _ in _codes(project_copy)}
    assert {"TF302", "TF801", "TF901", "TF601"} <= codes


def test_findings_that_depend_on_a_broken_source_are_held_back_and_said_once(project_copy: Path) -> None:
    _set(project_copy / "controls" / "ctl-oversight-ui.yaml", "status:", "statuss:")  # the control does not validate
    diagnostics = _diagnostics(project_copy)
    held = [d for d in diagnostics if d["code"] == "TF939"]
    assert len(held) == 1
    risk_findings = [d for d in diagnostics if d["path"].endswith("risk-missed-finding.yaml") and d["code"].startswith("TF91")]
    assert risk_findings == []  # the risk treated by the broken control is not reported as untreated


# --- evidence: validity and approvals ------------------------------------------------------------------------------


def _grades(project: Path) -> dict[tuple[str, str], str]:
    coverage = json.loads(run_cli("coverage", str(project), "--format", "json").output)
    return {(f["framework"], i["id"]): i["grade"] for f in coverage["frameworks"] for i in f["items"]}


def _items_resting_on(project: Path, evidence_id: str) -> list[tuple[str, str]]:
    assessment = assess(load_project(project).project)
    return [(g.framework.id, i.id) for g in assessment.frameworks for i in g.items if i.evidence == (evidence_id,)]


def test_expired_evidence_fails_check_and_lowers_its_items_everywhere(project_copy: Path, tmp_path: Path) -> None:
    record = project_copy / "evidence" / "ev-pentest-summary.yaml"
    resting = _items_resting_on(project_copy, "ev-pentest-summary")
    assert resting, "the sample has items that only the pen test evidences"
    before = _grades(project_copy)
    _set(record, 'valid_until: "2027-06-30"', 'valid_until: "2026-10-01"')  # the sample is assessed on 2026-10-12
    codes = _codes(project_copy)
    assert ("TF404", "evidence/ev-pentest-summary.yaml", _line_of(record, "valid_until:")) in codes
    after = _grades(project_copy)
    for key in resting:
        assert before[key] in ("evidenced", "approved") and after[key] == "described", key
    result = build(project_copy, tmp_path / "out", pdf=False)
    traceability = next(d.markdown for d in result.documents if d.kind == "traceability")
    framework, item = resting[0]
    row = next(line for line in traceability.replace("\\", "").splitlines() if line.startswith(f"| {item} "))
    assert "| described |" in row


def test_evidence_within_the_warning_window_warns(project_copy: Path) -> None:
    record = project_copy / "evidence" / "ev-pentest-summary.yaml"
    _set(record, 'valid_until: "2027-06-30"', 'valid_until: "2026-10-30"')
    found = [d for d in _diagnostics(project_copy) if d["code"] == "TF405"]
    assert len(found) == 1 and "in 18 days" in found[0]["message"]
    assert run_cli("check", str(project_copy)).exit_code == 0
    assert run_cli("check", str(project_copy), "--strict").exit_code == 1
    _set(project_copy / "techfile.yaml", "document_control:", "evidence_expiry_warning_days: 10\ndocument_control:")
    assert not [d for d in _diagnostics(project_copy) if d["code"] == "TF405"]


def test_grades_follow_approval_file_and_hash(project_copy: Path) -> None:
    record = project_copy / "evidence" / "ev-pentest-summary.yaml"
    resting = _items_resting_on(project_copy, "ev-pentest-summary")
    assert {_grades(project_copy)[k] for k in resting} == {"evidenced"}
    text = record.read_text()
    record.write_text(text + 'approved_by:\n  - {name: Tom Renner, role: Information Security Officer}\napproved_on: "2026-06-30"\n')
    assert {_grades(project_copy)[k] for k in resting} == {"approved"}
    evidence_file = project_copy / "evidence" / "files" / "penetration-test-summary-2026.md"
    evidence_file.write_text(evidence_file.read_text() + "\nedited\n")  # the hash no longer matches
    assert {_grades(project_copy)[k] for k in resting} == {"described"}
    evidence_file.unlink()  # the file is gone
    assert {_grades(project_copy)[k] for k in resting} == {"described"}


def test_approval_needs_who_and_when(project_copy: Path) -> None:
    record = project_copy / "evidence" / "ev-pentest-summary.yaml"
    record.write_text(record.read_text() + 'approved_by:\n  - {name: Tom Renner}\n')
    assert {c for c, _, _ in _codes(project_copy)} >= {"TF201"}


def test_strict_reports_every_item_without_approval(project_copy: Path) -> None:
    assessment = assess(load_project(project_copy).project)
    unapproved = [i for g in assessment.frameworks for i in g.items if i.applicable and i.grade != "approved"]
    strict = [d for d in _diagnostics(project_copy, "--strict") if d["code"] == "TF921"]
    assert strict and len(strict) <= len(unapproved)
    assert not [d for d in _diagnostics(project_copy) if d["code"] == "TF921"]


# --- gates --------------------------------------------------------------------------------------------------------


def test_high_risk_default_gate_asks_for_evidence(project_copy: Path) -> None:
    """Annex IV 5 (the risk management system) must be evidenced; without its evidence it is only described."""
    _set(project_copy / "controls" / "ctl-risk-management.yaml", "evidence:", "evidence: []\nx_evidence:")
    text = (project_copy / "controls" / "ctl-risk-management.yaml").read_text()
    (project_copy / "controls" / "ctl-risk-management.yaml").write_text(re.sub(r"x_evidence:\n(  - .*\n)+", "", text))
    procedure = project_copy / "qms" / "sop-risk-management.yaml"
    ptext = procedure.read_text()
    procedure.write_text(re.sub(r"\nevidence:\n(  - .*\n)+", "\n", ptext))
    found = [d for d in _diagnostics(project_copy) if d["code"] == "TF920" and "Annex IV, point 5" in d["message"]]
    assert found and "must be evidenced" in found[0]["message"]


def test_a_declared_gate_is_enforced(project_copy: Path) -> None:
    assert not [d for d in _diagnostics(project_copy) if d["code"] == "TF920"]
    _set(project_copy / "techfile.yaml", "gates:\n", "gates:\n  soc2: approved\n")
    below = [d for d in _diagnostics(project_copy) if d["code"] == "TF920"]
    assert below and all(d["message"].startswith("soc2 ") and "must be approved" in d["message"] for d in below)
    assert run_cli("check", str(project_copy)).exit_code == 1
    _set(project_copy / "techfile.yaml", "  soc2: approved", "  soc2: none")
    assert not [d for d in _diagnostics(project_copy) if d["code"] == "TF920"]


def test_parents_take_the_lowest_applicable_point(project_copy: Path) -> None:
    grades = _grades(project_copy)
    for parent in ("art_10.2", "art_13.3", "art_14.3", "art_14.4"):
        assert grades[("eu-ai-act", parent)] != "missing"
    assert grades[("eu-ai-act", "art_12.3")] == "not applicable"
    assert grades[("eu-ai-act", "art_14.5")] == "not applicable"
    assert grades[("eu-ai-act", "art_12.3.a")] == "not applicable"


def test_special_category_points_do_not_apply_without_special_category_data(project_copy: Path) -> None:
    for dataset in (project_copy / "datasets").glob("*.yaml"):
        text = dataset.read_text()
        dataset.write_text(re.sub(r"special_categories:\n    processed: true", "special_categories:\n    processed: false", text))
    grades = _grades(project_copy)
    assert grades[("eu-ai-act", "art_10.5")] == "not applicable"
    assert grades[("eu-ai-act", "art_10.5.a")] == "not applicable"


# --- consistency rules --------------------------------------------------------------------------------------------


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def test_ci_that_excludes_its_value(project_copy: Path) -> None:
    model = project_copy / "models" / "pneumothorax-classifier.yaml"
    assert "TF930" not in {c for c, _, _ in _codes(project_copy)}
    text = model.read_text()
    row = "{metric: auroc, value: 0.974, ci: [0.964, 0.984], dataset: cxr-internal-val, n: 12000}"
    model.write_text(text.replace(row, row.replace("ci: [0.964, 0.984]", "ci: [0.985, 0.960]")))
    found = [d for d in _diagnostics(project_copy) if d["code"] == "TF930"]
    assert len(found) == 1 and "lower bound is above its upper bound" in found[0]["message"]
    model.write_text(text.replace(row, row.replace("ci: [0.964, 0.984]", "ci: [0.10, 0.20]")))
    found = [d for d in _diagnostics(project_copy) if d["code"] == "TF930"]
    assert len(found) == 1 and "outside its own confidence interval" in found[0]["message"]


def test_result_measured_on_training_data(project_copy: Path) -> None:
    model = project_copy / "models" / "nodule-detector.yaml"
    assert "TF931" not in {c for c, _, _ in _codes(project_copy)}
    text = model.read_text()
    evaluation = re.search(r"dataset: (cxr-external-test|cxr-internal-val)", text)
    assert evaluation
    model.write_text(text.replace(evaluation.group(0), "dataset: cxr-train", 1))
    found = [(c, p, line) for c, p, line in _codes(project_copy) if c == "TF931"]
    assert found == [("TF931", "models/nodule-detector.yaml", _line_of(model, "dataset: cxr-train") - 1)] or \
        (len(found) == 1 and found[0][1] == "models/nodule-detector.yaml")


def test_logbook_dataset_hash_differs_from_the_dataset(project_copy: Path) -> None:
    dataset = project_copy / "datasets" / "cxr-external-test.yaml"
    assert "TF932" not in {c for c, _, _ in _codes(project_copy)}
    text = dataset.read_text()
    recorded = re.search(r"^sha256: ([0-9a-f]{64})", text, re.M)
    assert recorded
    dataset.write_text(text.replace(recorded.group(1), "ab" * 32))
    found = {p for c, p, _ in _codes(project_copy) if c == "TF932"}
    assert found and all(p.startswith("logbook/") for p in found)


def test_inherent_level_against_the_risk_matrix(project_copy: Path) -> None:
    risk = project_copy / "risks" / "risk-automation-bias.yaml"
    assert "TF933" not in {c for c, _, _ in _codes(project_copy)}
    text = risk.read_text()
    risk.write_text(re.sub(r"^likelihood: \S+", "likelihood: almost-certain", re.sub(r"^severity: \S+", "severity: critical", text, flags=re.M), flags=re.M))
    risk.write_text(re.sub(r"^inherent_level: \S+", "inherent_level: low", risk.read_text(), flags=re.M))
    found = [d for d in _diagnostics(project_copy) if d["code"] == "TF933"]
    assert any("inherent level low contradicts almost-certain × critical, which is critical" in d["message"] for d in found)
    assert all(d["path"].endswith("risk-automation-bias.yaml") for d in found)


def test_a_declared_risk_matrix_is_used(project_copy: Path) -> None:
    levels = "{negligible: low, minor: low, moderate: low, major: low, critical: low}"
    matrix = "risk_matrix:\n" + "".join(f"  {likelihood}: {levels}\n" for likelihood in ("rare", "unlikely", "possible", "likely", "almost-certain"))
    _set(project_copy / "techfile.yaml", "document_control:", matrix + "document_control:")
    found = [d for d in _diagnostics(project_copy) if d["code"] == "TF933"]
    assert found and all("techfile.yaml `risk_matrix`" in d["message"] for d in found)


@pytest.mark.parametrize(("retention", "code"), [("3 months, then deleted", "TF934"), ("ninety days", "TF935"),
                                                 ("12 months, then deleted", None), ("two years", None)])
def test_log_retention_of_a_high_risk_system(project_copy: Path, retention: str, code: str | None) -> None:
    system = project_copy / "system.yaml"
    text = system.read_text()
    system.write_text(re.sub(r"  retention: >-\n(    .*\n)+", f"  retention: {retention}\n", text, count=1))
    found = [(c, line) for c, p, line in _codes(project_copy) if c in ("TF934", "TF935")]
    assert found == ([(code, _line_of(system, "logging:"))] if code else [])


def test_overdue_procedure_review(project_copy: Path) -> None:
    procedure = project_copy / "qms" / "sop-risk-management.yaml"
    assert "TF936" not in {c for c, _, _ in _codes(project_copy)}
    _set(procedure, 'review_date: "2027-03-11"', 'review_date: "2026-09-01"')
    assert [(c, p, line) for c, p, line in _codes(project_copy) if c == "TF936"] == \
        [("TF936", "qms/sop-risk-management.yaml", _line_of(procedure, "review_date:"))]


def test_profiling_false_for_a_credit_scoring_system(tmp_path: Path) -> None:
    project = _project("minimal", tmp_path)
    system = project / "system.yaml"
    text = system.read_text()
    text = re.sub(r"annex_iii:\n(    .*\n)+", "annex_iii:\n    applies: true\n    use_case: \"5.b\"\n", text, count=1)
    text = text.replace("  prohibited_practices_screening:", "  derogation_art_6_3:\n    claimed: false\n    profiling: false\n  prohibited_practices_screening:", 1)
    system.write_text(text)
    _set(project / "techfile.yaml", "frameworks:\n", "frameworks:\n  - eu-ai-act\n")
    assert "TF937" in {c for c, _, _ in _codes(project)}
    _set(system, "    profiling: false", "    profiling: true")
    assert "TF937" not in {c for c, _, _ in _codes(project)}


def test_soa_and_control_claims_are_reconciled(project_copy: Path) -> None:
    assert "TF938" not in {c for c, _, _ in _codes(project_copy)}
    soa = project_copy / "soa.yaml"
    _set(soa, "    implemented_by:\n      - ctl-ai-governance\n", "    implemented_by:\n      - ctl-ai-governance\n      - ctl-api-security\n")
    found = [d for d in _diagnostics(project_copy) if d["code"] == "TF938"]
    assert len(found) == 1 and "'ctl-api-security'" in found[0]["message"] and found[0]["path"].endswith("soa.yaml")


def test_findings_point_at_the_field_not_at_line_one(project_copy: Path) -> None:
    system = project_copy / "system.yaml"
    system.write_text(re.sub(r"^metrics_appropriateness:.*?(?=^\S)", "", system.read_text(), count=1, flags=re.M | re.S))
    for procedure in (project_copy / "qms").glob("*.yaml"):
        procedure.write_text(re.sub(r"art_17_aspects: \[([^\]]*)\]", lambda m: "art_17_aspects: [" + m.group(1).replace("g", "").strip(", ").replace(", ,", ",") + "]", procedure.read_text()))
    found = [d for d in _diagnostics(project_copy) if d["code"] in ("TF601", "TF920")]
    assert found
    assert all(d["line"] > 1 for d in found)


# --- the logbook ----------------------------------------------------------------------------------------------------


def test_logbook_append_chains_a_new_entry(project_copy: Path, tmp_path: Path) -> None:
    last = (project_copy / "logbook" / "lb-0006.yaml").read_text()
    new = tmp_path / "lb-0007.yaml"
    new.write_text("# a new evaluation run\n" + last.replace("id: lb-0006", "id: lb-0007").replace("sequence: 6\n", "")
                   .replace("previous_entry_sha256:", "# was: previous_entry_sha256:"))
    result = run_cli("logbook", "append", str(new), "-C", str(project_copy))
    assert result.exit_code == 0, result.output
    assert "sequence 7, chained to lb-0006" in result.output
    written = (project_copy / "logbook" / "lb-0007.yaml").read_text()
    assert written.startswith("# a new evaluation run\n") and "sequence: 7\n" in written
    assert run_cli("check", str(project_copy)).exit_code == 0
    again = run_cli("logbook", "append", str(new), "-C", str(project_copy))
    assert again.exit_code == 1 and "never overwritten" in again.output


def test_logbook_append_fills_the_chain_of_an_entry_in_place(project_copy: Path) -> None:
    last = (project_copy / "logbook" / "lb-0006.yaml").read_text()
    placed = project_copy / "logbook" / "lb-0007.yaml"
    placed.write_text(re.sub(r"previous_entry_sha256: .*\n", "", last.replace("id: lb-0006", "id: lb-0007").replace("sequence: 6", "sequence: 1")))
    assert "TF701" in {c for c, _, _ in _codes(project_copy)} or "TF702" in {c for c, _, _ in _codes(project_copy)}
    assert run_cli("logbook", "append", str(placed), "-C", str(project_copy)).exit_code == 0
    assert run_cli("check", str(project_copy)).exit_code == 0


def test_recording_the_file_hash_is_diagnosed_as_a_wrong_record(project_copy: Path) -> None:
    import hashlib

    entry = project_copy / "logbook" / "lb-0006.yaml"
    file_hash = hashlib.sha256((project_copy / "logbook" / "lb-0005.yaml").read_bytes()).hexdigest()
    text = entry.read_text()
    entry.write_text(re.sub(r"previous_entry_sha256: .*", f"previous_entry_sha256: {file_hash}", text))
    found = [d for d in _diagnostics(project_copy) if d["code"] in ("TF701", "TF704")]
    assert [d["code"] for d in found] == ["TF704"]
    assert "record " in found[0]["message"] and found[0]["path"].endswith("logbook/lb-0006.yaml")


def test_a_wrong_record_after_an_unchanged_committed_entry_is_not_called_an_edit(project_copy: Path) -> None:
    import subprocess

    new = project_copy / "logbook" / "lb-0007.yaml"
    subprocess.run(["git", "init", "-q"], cwd=project_copy, check=True)
    subprocess.run(["git", "add", "."], cwd=project_copy, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "sources"], cwd=project_copy, check=True)
    last = (project_copy / "logbook" / "lb-0006.yaml").read_text()
    new.write_text(re.sub(r"previous_entry_sha256: .*", "previous_entry_sha256: " + "ab" * 32,
                          last.replace("id: lb-0006", "id: lb-0007").replace("sequence: 6", "sequence: 7")))
    found = [d for d in _diagnostics(project_copy) if d["code"] in ("TF701", "TF704")]
    assert [d["code"] for d in found] == ["TF704"] and found[0]["path"].endswith("logbook/lb-0007.yaml")


def test_the_readme_says_what_the_chain_hashes() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "the sha256 of the previous entry's file" not in readme
    assert "techfile logbook append" in readme

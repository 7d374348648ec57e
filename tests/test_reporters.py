"""The CI reporters: SARIF 2.1.0 that validates against the official schema, and GitHub Actions annotations.

tests/fixtures/sarif-schema-2.1.0.json is `sarif-2.1.0.json` exactly as the npm package
@microsoft/sarif-multitool-linux 5.7.0 (MIT) ships it: the SARIF 2.1.0 schema, marked JSON Schema 2020-12.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from techfile import __version__
from techfile.diagnostics import Diagnostic, Severity, code_catalogue
from techfile.reporting import REPORTERS, report_github, report_sarif, rule_name

from conftest import SAMPLE, run_cli

SARIF_SCHEMA = Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json"
PROJECT = "my,proj:v1"  # a folder name with the characters GitHub's file= property must escape
UNKNOWN_CONTROL = "risks/risk-adversarial-corrupted-input.yaml"
DUPLICATE_KEY = "risks/risk-automation-bias.yaml"
ID_MISMATCH = "changes/chg-1.0.0.yaml"


@pytest.fixture(scope="module")
def sarif_validator() -> Draft202012Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def assert_valid_sarif(validator: Draft202012Validator, log: dict[str, Any]) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def broken_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The sample with an unknown control, a duplicate key and an id that does not match its file name; run from its parent."""
    project = tmp_path / PROJECT
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    edit(project / UNKNOWN_CONTROL, "    - ctl-api-security\n", "    - ctl-api-securty\n")
    edit(project / DUPLICATE_KEY, "\nseverity: major\n", "\nseverity: major\nowner: Someone else\n")
    edit(project / ID_MISMATCH, "\nid: chg-1.0.0\n", "\nid: chg-1.0.9\n")
    monkeypatch.chdir(tmp_path)
    return PROJECT


def test_reporters_are_registered() -> None:
    assert {"text", "json", "sarif", "github"} <= set(REPORTERS)


def test_sarif_of_a_broken_project_validates_and_locates_each_finding(
        broken_project: str, sarif_validator: Draft202012Validator) -> None:
    result = run_cli("check", broken_project, "--format", "sarif")
    assert result.exit_code == 1, result.output
    log = json.loads(result.output)
    assert_valid_sarif(sarif_validator, log)

    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "techfile" and driver["version"] == __version__
    assert "informationUri" not in driver

    found = {(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              r["locations"][0]["physicalLocation"]["region"]["startLine"],
              r["locations"][0]["physicalLocation"]["region"]["startColumn"]) for r in run["results"]}
    assert found == {
        ("TF501", "warning", "my%2Cproj%3Av1/changes/chg-1.0.0.yaml", 2, 5),
        ("TF302", "error", "my%2Cproj%3Av1/risks/risk-adversarial-corrupted-input.yaml", 26, 7),
        ("TF103", "error", "my%2Cproj%3Av1/risks/risk-automation-bias.yaml", 38, 1),
    }
    for r in run["results"]:
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert urlsplit(uri).scheme == "" and not uri.startswith("/"), uri
        assert unquote(uri).startswith(f"{PROJECT}/")
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]

    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["TF302"]["message"]["text"] == (
        "unknown control 'ctl-api-securty' — No control has this id. Did you mean 'ctl-api-security' or "
        "'ctl-data-sourcing' or 'ctl-ai-governance'?")
    assert by_rule["TF103"]["message"]["text"].startswith("duplicate key 'owner' (first at line 21) — ")


def test_sarif_rules_come_from_the_code_catalogue(broken_project: str) -> None:
    run = json.loads(run_cli("check", broken_project, "--format", "sarif").output)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["TF103", "TF302", "TF501"]
    catalogue = code_catalogue()
    for rule in rules:
        entry = catalogue[rule["id"]]
        assert rule["shortDescription"]["text"] == entry["meaning"]
        assert rule["help"]["text"] == entry["fix"]
        assert rule["defaultConfiguration"]["level"] == entry["severity"]
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule["name"]), rule["name"]
    assert rules[0]["name"] == "SameKeyAppearsTwiceInOneMapping"
    assert rules[2]["defaultConfiguration"]["level"] == "warning"


def test_sarif_keeps_the_diagnostics_order_and_is_deterministic(broken_project: str) -> None:
    first = run_cli("check", broken_project, "--format", "sarif").output
    assert first == run_cli("check", broken_project, "--format", "sarif").output
    text_order = [m.group(1) for m in re.finditer(r": (TF\d{3}) ", run_cli("check", broken_project).output)]
    assert [r["ruleId"] for r in json.loads(first)["runs"][0]["results"]] == text_order


def test_sarif_of_the_sample_has_no_results_and_validates(sarif_validator: Draft202012Validator) -> None:
    result = run_cli("check", str(SAMPLE), "--format", "sarif")
    assert result.exit_code == 0, result.output
    log = json.loads(result.output)
    assert_valid_sarif(sarif_validator, log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_uses_file_uris_for_absolute_paths(tmp_path: Path, sarif_validator: Draft202012Validator) -> None:
    base = tmp_path / "a project"
    diagnostic = Diagnostic("controls/ctl-x.yaml", 3, 2, "TF103", Severity.ERROR, "duplicate key 'title'")
    log = json.loads(report_sarif([diagnostic], str(base), 1))
    assert_valid_sarif(sarif_validator, log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == (base / "controls" / "ctl-x.yaml").as_uri() and "%20" in uri
    assert log["runs"][0]["results"][0]["message"]["text"] == "duplicate key 'title'"


def test_the_schema_rejects_what_is_not_sarif(sarif_validator: Draft202012Validator) -> None:
    diagnostic = Diagnostic("controls/ctl-x.yaml", 3, 2, "TF103", Severity.ERROR, "duplicate key 'title'", "Remove one.")
    log = json.loads(report_sarif([diagnostic], ".", 1))
    assert_valid_sarif(sarif_validator, log)
    log["runs"][0]["results"][0]["level"] = "fatal"
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert len(list(sarif_validator.iter_errors(log))) == 2


def test_github_annotations_of_a_broken_project(broken_project: str) -> None:
    result = run_cli("check", broken_project, "--format", "github")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        "::warning file=my%2Cproj%3Av1/changes/chg-1.0.0.yaml,line=2,col=5,title=TF501::"
        "id 'chg-1.0.9' does not match the file name 'chg-1.0.0' — Rename the file to chg-1.0.9.yaml, or change the id.",
        "::error file=my%2Cproj%3Av1/risks/risk-adversarial-corrupted-input.yaml,line=26,col=7,title=TF302::"
        "unknown control 'ctl-api-securty' — No control has this id. "
        "Did you mean 'ctl-api-security' or 'ctl-data-sourcing' or 'ctl-ai-governance'?",
        "::error file=my%2Cproj%3Av1/risks/risk-automation-bias.yaml,line=38,col=1,title=TF103::"
        "duplicate key 'owner' (first at line 21) — Remove one of the two keys; YAML would silently keep only one of them.",
        "failed: 2 errors, 1 warning in 96 source files",
    ]


def test_github_escapes_the_message_data_and_properties() -> None:
    diagnostic = Diagnostic("a,b:c/x%.yaml", 4, 9, "TF102", Severity.ERROR, "YAML syntax error: 100%\r\nbroken,", "Fix it:\nhere.")
    assert report_github([diagnostic], ".", 1).splitlines() == [
        "::error file=a%2Cb%3Ac/x%25.yaml,line=4,col=9,title=TF102::YAML syntax error: 100%25%0D%0Abroken, — Fix it:%0Ahere.",
        "failed: 1 error, 0 warnings in 1 source files",
    ]


def test_github_prints_only_the_summary_for_a_clean_project() -> None:
    result = run_cli("check", str(SAMPLE), "--format", "github")
    assert result.exit_code == 0
    assert result.output == "ok: 0 errors, 0 warnings in 96 source files\n"


def test_rule_names_are_identifiers_for_every_code() -> None:
    names = {code: rule_name(entry["meaning"]) for code, entry in code_catalogue().items()}
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]+", name) for name in names.values()), names
    assert names["TF701"] == "LogbooksHashChainIsBroken"
    assert names["TF606"] == "FrameworkItemIdThatItsCatalogueDoesNotKnow"

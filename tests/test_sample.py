"""The sample project (scenario 3) checks clean and resolves into a complete typed project."""

from __future__ import annotations

import json

from techfile import load_project
from techfile.project import Prose

from conftest import SAMPLE, run_cli


def test_check_sample_exits_zero_with_no_findings() -> None:
    result = run_cli("check", str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert "ok: 0 errors, 0 warnings" in result.output


def test_strict_check_of_the_sample_names_only_what_is_not_approved() -> None:
    """The sample records the approvals its evidence files show, and no others: --strict lists the rest."""
    result = run_cli("check", str(SAMPLE), "--strict", "--format", "json")
    codes = {d["code"] for d in json.loads(result.output)["diagnostics"]}
    assert result.exit_code == 1 and codes == {"TF921"}


def test_check_json_format() -> None:
    result = run_cli("check", str(SAMPLE), "--format", "json")
    payload = json.loads(result.output)
    assert payload["diagnostics"] == [] and payload["summary"]["errors"] == 0


def test_sample_resolves_with_the_promised_content() -> None:
    result = load_project(str(SAMPLE))
    assert result.diagnostics == []
    project = result.project
    assert project.settings is not None and project.system is not None and project.soa is not None
    assert len(project.pipeline_stages) >= 4
    assert len(project.datasets) >= 3
    assert len(project.models) >= 2
    assert len(project.risks) >= 12
    assert len(project.controls) >= 20
    assert len(project.procedures) >= 6
    assert len(project.evidence) >= 10
    assert len(project.logbook) >= 5
    assert len(project.changes) >= 3
    assert len({d.control for d in project.soa.decisions}) == 38


def test_prose_files_are_read_and_entities_are_located() -> None:
    project = load_project(str(SAMPLE)).project
    procedure = project.procedures[0]
    assert isinstance(procedure.body, Prose) and procedure.body.file and len(procedure.body.text) > 100
    assert procedure.location.path.startswith("qms/") and procedure.location.line >= 1
    assert project.entity(project.risks[0].id) is project.risks[0]
    assert [e.sequence for e in project.logbook] == sorted(e.sequence for e in project.logbook)


def test_internal_error_exits_3_without_traceback(monkeypatch) -> None:
    import techfile.loading

    def broken(path: str, strict: bool = False) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(techfile.loading, "load_project", broken)
    result = run_cli("check", str(SAMPLE))
    assert result.exit_code == 3
    assert "TF900" in result.output and "simulated bug" in result.output and "Traceback" not in result.output

"""Every bad-input case in tests/bad_inputs/ gives its exact located diagnostic and never a traceback."""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import run_cli

CASES_DIR = Path(__file__).parent / "bad_inputs"
BASE = CASES_DIR / "_base"
CASES = sorted(p for p in CASES_DIR.glob("*.yaml"))


def make_project(case: dict[str, Any], tmp_path: Path) -> Path:
    """Copy the valid base project and apply the case's edits to it."""
    project = tmp_path / "project"
    shutil.copytree(BASE, project)
    (tmp_path / "outside.txt").write_text("a file outside the project\n", encoding="utf-8")
    for relpath in case.get("remove", []):
        target = project / relpath
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    for relpath, text in case.get("write", {}).items():
        (project / relpath).parent.mkdir(parents=True, exist_ok=True)
        (project / relpath).write_text(text, encoding="utf-8")
    for relpath, data in case.get("write_base64", {}).items():
        (project / relpath).parent.mkdir(parents=True, exist_ok=True)
        (project / relpath).write_bytes(base64.b64decode(data))
    for relpath, target in case.get("symlink", {}).items():
        (project / relpath).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, project / relpath)
    return project


def test_base_project_is_clean() -> None:
    result = run_cli("check", str(BASE), "--strict")
    assert result.exit_code == 0, result.output


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case_file", CASES, ids=[p.stem for p in CASES])
def test_bad_input(case_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    make_project(case, tmp_path)
    monkeypatch.chdir(tmp_path)
    args = [a.replace("{project}", "project") for a in case.get("args", ["check", "{project}"])]
    result = run_cli(*args)
    output = result.output
    assert "Traceback" not in output
    assert result.exit_code == case.get("exit", 1), output
    expect = case.get("expect")
    if expect is None:
        return
    location = f"project/{expect['path']}:{expect['line']}:{expect['col']}: {expect['code']} "
    matching = [line for line in output.splitlines() if line.startswith(location)]
    assert matching, f"no diagnostic at {location!r} in:\n{output}"
    assert any(expect["message"] in line for line in matching), f"{expect['message']!r} not in {matching}"
    if case.get("only"):
        # TF939 is the one note that findings depending on the broken file are held back: not a repeat of it
        located = [line for line in output.splitlines() if re.match(r"^project/\S+:\d+:\d+: TF\d{3} ", line)
                   and " TF939 " not in line]
        assert located == matching, f"expected this diagnostic alone, got:\n{output}"

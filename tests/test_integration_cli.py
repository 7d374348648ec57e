"""The integration commands: each names its extra and exits 2 when the extra is missing; exports from the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE, run_cli

COMMANDS = {
    "huggingface_hub": ["export", "hf-card", "nodule-detector", str(SAMPLE)],
    "cyclonedx": ["export", "cyclonedx", str(SAMPLE)],
    "mlflow": ["import", "mlflow", "--tracking-uri", "sqlite:///nowhere.db", "--run", "abc", "--model", "nodule-detector",
               "-C", str(SAMPLE)],
    "openlineage": ["import", "openlineage", str(SAMPLE / "techfile.yaml"), "-C", str(SAMPLE)],
}
EXTRAS = {"huggingface_hub": "hf", "cyclonedx": "cyclonedx", "mlflow": "mlflow", "openlineage": "openlineage"}


@pytest.mark.parametrize("package", sorted(COMMANDS))
def test_without_the_extra_each_command_names_it_and_exits_2(package: str) -> None:
    code = (f"import sys; sys.modules[{package!r}] = None; from techfile.cli import main; "
            f"main({COMMANDS[package]!r})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"pip install 'techfile[{EXTRAS[package]}]'" in done.stderr and "Traceback" not in done.stderr


def test_export_commands_write_files(tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    assert run_cli("export", "cyclonedx", str(SAMPLE), "--out", str(bom)).exit_code == 0
    assert json.loads(bom.read_text(encoding="utf-8"))["specVersion"] == "1.6"
    exported = run_cli("export", "json", str(SAMPLE))
    assert exported.exit_code == 0 and json.loads(exported.output)["$schema"] == "urn:techfile:schema:v1:export"

"""Shared test helpers: the repository layout and running the CLI in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from techfile.cli import main

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_project"
SCHEMAS = REPO / "schemas"


def run_cli(*args: str) -> Result:
    """Run `techfile ARGS` in this process, capturing output and the exit code."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the sample project outside git, free to change."""
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(SAMPLE, copy, ignore=shutil.ignore_patterns("build"))
    return copy

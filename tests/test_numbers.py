"""Numbers at the edge of what techfile accepts, in every numeric value of every source file of the sample: `check`
never fails internally, and what it accepts renders and exports. Beyond the edge, a located TF112."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from techfile import load_project
from techfile.documents import render_documents
from techfile.documents.base import BuildInfo
from techfile.documents.render import Renderer
from techfile.sources.yaml_source import LARGEST_DECIMAL, LARGEST_INTEGER, load_yaml_source

from conftest import SAMPLE

NUMBER = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+)")


def numbers(path: Path, relpath: str) -> list[tuple[int, int, object]]:
    """(line, column, value) of every number in a source file, from the loader's own marks."""
    document, _ = load_yaml_source(path, relpath)
    assert document is not None
    found = []
    for where, mark in document.value_marks.items():
        value = document.data
        for key in where:
            value = value[key]
        if isinstance(value, int | float) and not isinstance(value, bool):
            found.append((mark.line, mark.col, value))
    return found


def with_numbers(text: str, places: list[tuple[int, int, object]], replace: dict[type, str]) -> str:
    lines = text.split("\n")
    for line, col, value in sorted(places, reverse=True):
        new = replace.get(type(value))
        if new is None:
            continue
        row = lines[line - 1]
        match = NUMBER.match(row, col - 1)
        assert match is not None, (line, col, row)
        lines[line - 1] = row[:match.start()] + new + row[match.end():]
    return "\n".join(lines)


WITH_NUMBERS = sorted(p.relative_to(SAMPLE).as_posix() for p in SAMPLE.rglob("*.yaml")
                      if "build" not in p.relative_to(SAMPLE).parts and numbers(p, p.name))
# one file of each kind that holds numbers: the last of its folder (for the logbook, the one no later entry chains to)
SOURCES = sorted({Path(p).parent.as_posix(): p for p in WITH_NUMBERS}.values())
EDGES = {
    "whole numbers at 2^53 - 1": {int: str(LARGEST_INTEGER)},
    "decimals at 1e+100": {float: f"{LARGEST_DECIMAL:.1e}"},
    "everything at minus the edge": {int: str(-LARGEST_INTEGER), float: f"{-LARGEST_DECIMAL:.1e}"},
}


def test_the_sample_has_numbers_in_many_kinds_of_source() -> None:
    kinds = {Path(p).parts[0] for p in SOURCES}
    assert "logbook/lb-0006.yaml" in SOURCES
    assert {"models", "datasets", "logbook", "pipeline"} <= kinds, kinds


@pytest.mark.parametrize("relpath", SOURCES)
@pytest.mark.parametrize("edge", EDGES)
def test_numbers_at_the_edge_never_crash_and_render(relpath: str, edge: str, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    source = project / relpath
    source.write_text(with_numbers(source.read_text(encoding="utf-8"), numbers(source, relpath), EDGES[edge]),
                      encoding="utf-8")
    loaded = load_project(project)  # raises on an internal error
    assert not [d for d in loaded.diagnostics if d.code in ("TF112", "TF900")], loaded.diagnostics
    if loaded.errors:
        return  # e.g. below a schema minimum: a finding, located, not a crash
    from techfile.integrations.cyclonedx import cyclonedx_bom
    from techfile.integrations.json_export import project_json

    info = BuildInfo(date="2026-01-01", epoch=1767225600, commit=None, dirty=False, techfile_version="test")
    documents = render_documents(loaded.project, info, Renderer(project))
    assert documents and all(d.markdown for d in documents)
    assert project_json(loaded.project) and cyclonedx_bom(loaded.project, build_date=info.date)


@pytest.mark.parametrize(("written", "message"), [
    (str(LARGEST_INTEGER + 1), "is too large: whole numbers go up to 9007199254740991"),
    (str(-LARGEST_INTEGER - 1), "is too large: whole numbers go up to 9007199254740991"),
    ("1.1e+100", "is too large: decimal numbers go up to 1e+100"),
    (".inf", "is not a finite number"),
])
def test_a_number_beyond_the_edge_is_located(written: str, message: str, tmp_path: Path) -> None:
    relpath = "models/nodule-detector.yaml"
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    source = project / relpath
    line, col, value = numbers(source, relpath)[-1]
    source.write_text(with_numbers(source.read_text(encoding="utf-8"), [(line, col, value)], {type(value): written}),
                      encoding="utf-8")
    found = [d for d in load_project(project).diagnostics if d.code == "TF112"]
    assert [(d.path, d.line, d.col) for d in found] == [(relpath, line, col)]
    assert message in found[0].message


@pytest.mark.parametrize("value", ["99999999999999999999", "253402300800", "1.7e9", "-1", "²", " 1767225600"])
def test_a_source_date_epoch_that_is_not_a_time_stops_the_build_with_a_message(value: str, tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import run_cli

    project = tmp_path / "project"
    assert run_cli("init", str(project), "--template", "minimal").exit_code == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    assert run_cli("check", str(project)).exit_code == 0  # check assesses as of the last change instead
    result = run_cli("build", str(project), "--no-pdf", "--no-site")
    assert result.exit_code == 3, result.output
    assert f"SOURCE_DATE_EPOCH={value!r} is not a time" in result.output and "Traceback" not in result.output
    assert not (project / "build").exists()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "253402300799")
    assert run_cli("build", str(project), "--no-pdf", "--no-site").exit_code == 0

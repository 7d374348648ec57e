"""benchmarks/generate.py: a project of N copies of the sample passes `techfile check`, with every copy's references
pointing at its own entities, the logbook one chain, and the same seed giving the same files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from techfile.assess.logbook import entry_sha256
from techfile.loading import load_project

from conftest import REPO, SAMPLE


def _generator():
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generated_project_checks_clean(tmp_path: Path) -> None:
    made = _generator().generate(tmp_path / "x3", scale=3, seed=7)
    sample = load_project(SAMPLE)
    loaded = load_project(made.root)
    assert [str(d) for d in loaded.errors] == []
    assert len(loaded.warnings) == len(sample.warnings)
    assert loaded.complete
    project, base = loaded.project, sample.project
    assert len(project.models) == 3 * len(base.models)
    assert len(project.datasets) == 3 * len(base.datasets)
    assert len(project.risks) == 3 * len(base.risks)
    assert len(project.controls) == 3 * len(base.controls)
    assert len(project.logbook) == 3 * len(base.logbook)
    assert made.counts["logbook"] == len(project.logbook)


def test_copies_refer_to_their_own_entities(tmp_path: Path) -> None:
    made = _generator().generate(tmp_path / "x2", scale=2, seed=1)
    project = load_project(made.root).project
    copied = {r.id: r for r in project.risks if r.id.endswith("-c2")}
    assert copied
    for risk in copied.values():
        named = [*risk.models, *risk.treatment.controls] if risk.treatment else list(risk.models)
        assert named and all(name.endswith("-c2") for name in named), risk.id
    datasets = {d.id: d for d in project.datasets}
    for entry in project.logbook[len(project.logbook) // 2:]:
        assert entry.model.endswith("-c2")
        for use in entry.datasets:
            assert use.dataset.endswith("-c2") and use.sha256 == datasets[use.dataset].sha256


def test_logbook_is_one_chain(tmp_path: Path) -> None:
    made = _generator().generate(tmp_path / "x3", scale=3, seed=0)
    project = load_project(made.root).project
    entries = project.logbook
    assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
    for previous, entry in zip(entries, entries[1:], strict=False):
        assert entry.previous_entry_sha256 == entry_sha256(project, previous)


def test_same_seed_same_files_other_seed_other_hashes(tmp_path: Path) -> None:
    generate = _generator().generate
    first = _files(generate(tmp_path / "a", scale=2, seed=5).root)
    assert first == _files(generate(tmp_path / "b", scale=2, seed=5).root)
    assert first != _files(generate(tmp_path / "c", scale=2, seed=6).root)


def test_refuses_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileExistsError):
        _generator().generate(tmp_path, scale=2)

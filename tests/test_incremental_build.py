"""Incremental builds (publish/cache.py): after each kind of change, a build into an output that an earlier build
wrote (reusing its cache) is byte-identical to a clean build into a fresh folder; a build whose inputs did not
change writes nothing; each input file is hashed again only when its size or mtime changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from techfile.publish.build import build
from techfile.publish.cache import BuildCache, FileHashes
from techfile.validation.files import sha256_of

from conftest import REPO, SAMPLE

FAST = {"pdf": False, "docx": False}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _assert_same(incremental: Path, clean: Path) -> None:
    built, fresh = _tree(incremental), _tree(clean)
    assert sorted(built) == sorted(fresh)
    different = [name for name in built if built[name] != fresh[name]]
    assert different == []


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _dataset(project: Path) -> None:
    _edit(project / "datasets" / "cxr-train.yaml", "description: >-\n", "description: >-\n  Edited for the test.\n")


def _model(project: Path) -> None:
    _edit(project / "models" / "nodule-detector.yaml", "design_choices: >-\n", "design_choices: >-\n  Edited.\n")


def _template_override(project: Path) -> None:
    override = project / "templates" / "datasheet" / "datasheet.md.j2"
    override.parent.mkdir(parents=True)
    shipped = (REPO / "doc_templates" / "datasheet" / "datasheet.md.j2").read_text(encoding="utf-8")
    override.write_text(shipped + "\nOverridden for the test.\n", encoding="utf-8")


def _evidence_file(project: Path) -> None:
    record = project / "evidence" / "ev-ai-policy.yaml"
    evidence = project / "evidence" / "files" / "ai-policy.md"
    before = sha256_of(evidence)
    evidence.write_text(evidence.read_text(encoding="utf-8") + "\nAmended for the test.\n", encoding="utf-8")
    _edit(record, before, sha256_of(evidence))


def _risk(project: Path) -> None:
    _edit(project / "risks" / "risk-automation-bias.yaml", "title: Automation bias", "title: Edited automation bias")


def _deleted_entity(project: Path) -> None:
    (project / "incidents" / "inc-2026-001.yaml").unlink()


CHANGES: dict[str, Callable[[Path], None]] = {
    "no change": lambda project: None, "one dataset": _dataset, "one model": _model, "one risk": _risk,
    "template override": _template_override, "evidence file": _evidence_file, "deleted entity": _deleted_entity,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_incremental_equals_clean(tmp_path: Path, change: str) -> None:
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    out = tmp_path / "out"
    first = build(project, out, **FAST)
    assert not first.unchanged
    CHANGES[change](project)
    again = build(project, out, **FAST)
    assert again.unchanged is (change == "no change")
    clean = build(project, tmp_path / "clean", **FAST)
    assert not clean.unchanged
    _assert_same(out, tmp_path / "clean")
    if not again.unchanged:  # an XLSX is the previous build's exactly when its tables are the same
        before = {d.id: d.tables for d in first.documents if d.tables}
        assert set(again.reused_xlsx) == {d.id for d in again.documents if d.tables and before.get(d.id) == d.tables}
        assert change != "one risk" or "thoravis-cxr-risk-register" not in again.reused_xlsx
    assert [d.id for d in again.documents] == [d.id for d in clean.documents]
    assert again.gap_count == clean.gap_count


def test_incremental_pdfs_docx_and_xlsx_equal_clean(tmp_path: Path) -> None:
    """After one dataset is edited, only the PDFs and DOCX of the documents whose Markdown changed, and the XLSX of
    those whose tables changed, are made again; the others are the previous build's, and the whole output is that
    of a clean build."""
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    out = tmp_path / "out"
    first = build(project, out)
    assert first.reused_pdfs == [] and first.reused_docx == [] and first.reused_xlsx == []
    before = _tree(out / "markdown")
    tables_before = {d.id: d.tables for d in first.documents if d.tables}
    _dataset(project)
    again = build(project, out)
    after = _tree(out / "markdown")
    editions = {d.id for d in again.documents if d.in_pdf}
    changed = {i for i in editions if before.get(f"{i}.md") != after[f"{i}.md"]}
    assert changed and changed != editions
    assert set(again.reused_pdfs) == editions - changed
    assert set(again.reused_docx) == editions - changed
    tables_after = {d.id: d.tables for d in again.documents if d.tables}
    assert sorted(tables_after) == sorted(tables_before) and len(tables_after) >= 4
    assert set(again.reused_xlsx) == {i for i in tables_after if tables_after[i] == tables_before[i]}
    build(project, tmp_path / "clean")
    _assert_same(out, tmp_path / "clean")


def test_a_tool_change_gives_the_clean_output_of_the_new_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment variable the tools read (TZ, listed among the tool facts) changes between two builds: the
    rebuild remakes every DOCX (their inputs include the tool facts) and equals a clean build under the same tools."""
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    out = tmp_path / "out"
    build(project, out)
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    again = build(project, out)
    assert not again.unchanged and again.reused_docx == [] and again.reused_xlsx == []
    build(project, tmp_path / "clean")
    _assert_same(out, tmp_path / "clean")


def _installed_copy(target: Path) -> Path:
    """A copy of this techfile (package, templates, schemas, laid out as a source checkout); returns its src/."""
    shutil.copytree(REPO / "src" / "techfile", target / "src" / "techfile", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("doc_templates", "schemas"):
        shutil.copytree(REPO / folder, target / folder)
    return target / "src"


def _build_with(source: Path, project: Path, out: Path) -> None:
    """`techfile build --no-pdf` of `project` into `out` by the techfile at `source` (in a process of its own)."""
    script = f"from techfile.publish.build import build; build({str(project)!r}, {str(out)!r}, pdf=False)"
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "PYTHONPATH": str(source)})


def test_a_techfile_upgrade_remakes_what_its_code_shapes(tmp_path: Path) -> None:
    """techfile's own code and templates change (here the DOCX filter draws charts narrower, which no Markdown
    shows): the rebuild by the new techfile remakes the DOCX and equals its clean build."""
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    out = tmp_path / "out"
    build(project, out, pdf=False)
    upgraded = _installed_copy(tmp_path / "upgraded")
    _edit(upgraded.parent / "doc_templates" / "docx" / "docx.lua", "image.attributes.width = '100%'",
          "image.attributes.width = '90%'")
    before, markdown = _tree(out / "docx"), _tree(out / "markdown")
    _build_with(upgraded, project, out)
    after = _tree(out / "docx")
    assert _tree(out / "markdown") == markdown
    assert [name for name in after if after[name] != before[name]]  # the DOCX with charts differ
    _build_with(upgraded, project, tmp_path / "clean")
    _assert_same(out, tmp_path / "clean")


def test_unchanged_build_reports_what_the_last_one_built(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    first = build(project, tmp_path / "out", **FAST)
    second = build(project, tmp_path / "out", **FAST)
    assert second.unchanged
    assert [(d.id, d.title, d.markdown, d.gaps, d.charts, d.tables) for d in second.documents] == \
        [(d.id, d.title, d.markdown, d.gaps, d.charts, d.tables) for d in first.documents]


def test_a_damaged_output_is_rebuilt(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    out = tmp_path / "out"
    build(project, out, **FAST)
    page = sorted((out / "site").rglob("*.html"))[0]
    page.write_text(page.read_text(encoding="utf-8").replace("a", "b"), encoding="utf-8")
    (out / "site" / "stray.html").write_text("stray", encoding="utf-8")
    assert not build(project, out, **FAST).unchanged
    build(project, tmp_path / "clean", **FAST)
    _assert_same(out, tmp_path / "clean")


def test_other_options_are_another_build(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    build(project, tmp_path / "out", **FAST)
    assert not build(project, tmp_path / "out", pdf=False, docx=False, xlsx=False).unchanged


def test_files_are_hashed_again_only_when_their_stamp_changes(tmp_path: Path) -> None:
    settled = tmp_path / "settled.txt"
    settled.write_text("one", encoding="utf-8")
    old = settled.stat().st_mtime_ns - 10_000_000_000
    os.utime(settled, ns=(old, old))
    hashes = FileHashes()
    first = hashes.sha256(settled)
    assert hashes.hashed == 1
    assert hashes.sha256(settled) == first and hashes.hashed == 1  # stamp unchanged: not read again
    settled.write_text("two", encoding="utf-8")  # same size, new mtime
    os.utime(settled, ns=(old + 1, old + 1))
    assert hashes.sha256(settled) != first and hashes.hashed == 2
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("new", encoding="utf-8")  # changed just now: its stamp is not trusted yet
    hashes.sha256(fresh), hashes.sha256(fresh)
    assert hashes.hashed == 4
    restored = FileHashes.from_json(hashes.to_json())
    assert restored.sha256(settled) == hashes.sha256(settled) and restored.hashed == 0


def test_cache_lives_beside_the_output(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("build"))
    build(project, tmp_path / "out", **FAST)
    cache = BuildCache.open(tmp_path / "out")
    assert cache.folder == tmp_path / ".out.cache" and cache.last_key

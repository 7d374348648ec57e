"""`techfile build` on the sample: every expected file, complete PDFs, deterministic, atomic, escaped."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from techfile import load_project
from techfile.publish.build import BuildResult, build

from conftest import SAMPLE, run_cli


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def pdf_text(path: Path) -> str:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())


def headings(markdown: str) -> list[str]:
    """Section headings of a generated Markdown document (level 2 and 3), unescaped."""
    found = re.findall(r"^#{2,3} (.+)$", markdown, re.MULTILINE)
    return [re.sub(r"\\(.)", r"\1", h).replace("`", "") for h in found]


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    return build(SAMPLE, tmp_path_factory.mktemp("sample") / "build")


def test_every_expected_file_is_built(sample_build: BuildResult) -> None:
    out = sample_build.out
    project = load_project(str(SAMPLE)).project
    expected_ids = {f"thoravis-cxr-model-card-{m.id}" for m in project.models}
    expected_ids |= {f"thoravis-cxr-datasheet-{d.id}" for d in project.datasets}
    expected_ids |= {f"thoravis-cxr-{kind}" for kind in ("risk-register", "qms-manual", "logbook", "technical-file",
                                                         "declaration-of-conformity", "instructions-for-use",
                                                         "statement-of-applicability", "soc2-readiness", "traceability",
                                                         "instructions-for-use-deployer", "gspr-checklist", "mdr-index",
                                                         "pms-plan", "monitoring-report")}
    expected_ids |= {f"thoravis-cxr-incident-report-{i.id}" for i in project.incidents}
    assert {d.id for d in sample_build.documents if d.in_pdf} == expected_ids
    for doc_id in expected_ids:
        assert (out / "markdown" / f"{doc_id}.md").is_file()
        assert (out / "pdf" / f"{doc_id}.pdf").read_bytes().startswith(b"%PDF-")
        assert (out / "docx" / f"{doc_id}.docx").is_file()
    for document in (d for d in sample_build.documents if d.in_site and d.kind != "home"):
        assert (out / "site" / f"{document.site_name or document.id}.html").is_file()
    assert (out / "site" / "index.html").is_file()
    assert (out / "site" / "search" / "search_index.json").is_file()
    assert sorted(p.name for p in out.iterdir()) == ["docx", "manifest.json", "markdown", "pdf", "site", "xlsx"]


def test_pdfs_hold_cover_fields_and_every_heading(sample_build: BuildResult) -> None:
    out = sample_build.out
    for document in (d for d in sample_build.documents if d.in_pdf):
        text = pdf_text(out / "pdf" / f"{document.id}.pdf")
        for fact in (document.id, "Version", "Status", "Owner", "Source commit", "Page 2 of"):
            assert fact in text, (document.id, fact)
        position = 0
        text = re.sub(r"-\s+", "-", text)  # a long heading may break after a hyphen
        for heading in headings(document.markdown):
            found = text.find(re.sub(r"-\s+", "-", " ".join(heading.split())), position)
            assert found >= 0, (document.id, heading)


def test_pdf_fonts_are_all_embedded(sample_build: BuildResult) -> None:
    for pdf in sorted((sample_build.out / "pdf").glob("*.pdf")):
        listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        rows = listing.splitlines()[2:]
        assert rows, pdf.name
        for row in rows:
            assert row.split()[-5] == "yes", f"{pdf.name}: font not embedded: {row}"
            assert "DejaVu" in row, f"{pdf.name}: font not shipped by techfile: {row}"


def test_pdfs_are_pdf_a_2b(sample_build: BuildResult) -> None:
    pdf = next((sample_build.out / "pdf").glob("*.pdf")).read_bytes()
    assert b"<pdfaid:part>2</pdfaid:part>" in pdf and b"<pdfaid:conformance>B</pdfaid:conformance>" in pdf


def test_manifest_lists_sources_outputs_and_tools(sample_build: BuildResult) -> None:
    manifest = json.loads((sample_build.out / "manifest.json").read_text(encoding="utf-8"))
    sources = {e["path"]: e for e in manifest["sources"]}
    assert "techfile.yaml" in sources and "system.yaml" in sources
    assert any(e["path"].startswith("evidence/files/") for e in manifest["evidence"])
    assert sources["techfile.yaml"]["sha256"] == hashlib.sha256((SAMPLE / "techfile.yaml").read_bytes()).hexdigest()
    outputs = {e["path"] for e in manifest["outputs"]}
    assert {f"pdf/{d.id}.pdf" for d in sample_build.documents if d.in_pdf} <= outputs
    assert "site/index.html" in outputs and "manifest.json" not in outputs
    assert set(manifest["tools"]) >= {"techfile", "pandoc", "typst", "mkdocs", "mkdocs-material"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", manifest["build_date"])


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    first = build(SAMPLE, tmp_path / "one")
    second = build(SAMPLE, tmp_path / "two")
    one, two = tree_digest(first.out), tree_digest(second.out)
    assert one.keys() == two.keys()
    assert [p for p in one if one[p] != two[p]] == []


def test_failed_build_leaves_previous_output_untouched(project_copy: Path) -> None:
    out = project_copy / "build"
    assert run_cli("build", str(project_copy), "--no-pdf").exit_code == 0
    before = tree_digest(out)
    template = project_copy / "templates" / "risk-register" / "risk-register.md.j2"
    template.parent.mkdir(parents=True)
    template.write_text("# {{ doc.title }}\n\n{{ risks | no_such_filter }}\n", encoding="utf-8")
    result = run_cli("build", str(project_copy), "--no-pdf")
    assert result.exit_code == 3, result.output
    assert "templates/risk-register/risk-register.md.j2:3" in result.output
    assert "Traceback" not in result.output
    assert tree_digest(out) == before
    leftovers = sorted(p.name for p in project_copy.iterdir() if p.name.startswith(".build") and p.name != ".build.cache")
    assert leftovers == []  # the build cache stays: it describes the previous output, which is untouched


def test_a_template_failing_after_pdfs_have_begun_leaves_the_previous_output_and_no_process(project_copy: Path) -> None:
    """PDFs are begun while the documents render: a template that fails late (the logbook renders after a dozen
    documents whose PDFs are under way) still fails the whole build, keeps the previous output and stops the PDF
    processes."""
    out = project_copy / "build"
    assert run_cli("build", str(project_copy), "--no-docx", "--no-xlsx", "--no-site").exit_code == 0
    before = tree_digest(out)
    template = project_copy / "templates" / "logbook" / "logbook.md.j2"
    template.parent.mkdir(parents=True)
    template.write_text("# {{ doc.title }}\n\n{{ entries | no_such_filter }}\n", encoding="utf-8")
    system = project_copy / "system.yaml"  # a new version: every PDF is made again, none reused
    system.write_text(system.read_text(encoding="utf-8").replace('\nversion: "1.2.0"', '\nversion: "1.2.1"', 1),
                      encoding="utf-8")
    result = run_cli("build", str(project_copy), "--no-docx", "--no-xlsx", "--no-site")
    assert result.exit_code == 3, result.output
    assert "templates/logbook/logbook.md.j2:3" in result.output and "Traceback" not in result.output
    assert tree_digest(out) == before
    assert sorted(p.name for p in project_copy.iterdir() if p.name.startswith(".build") and p.name != ".build.cache") == []
    assert multiprocessing.active_children() == []


def test_a_pdf_process_that_dies_fails_the_build_with_a_message_and_keeps_the_previous_output(project_copy: Path) -> None:
    """A PDF worker killed mid-build (as the kernel's OOM killer would): exit 3 with a located message and a hint,
    never an internal error or a traceback; the previous output untouched, no staging and no process left."""
    out = project_copy / "build"
    assert run_cli("build", str(project_copy), "--no-docx", "--no-xlsx", "--no-site").exit_code == 0
    before = tree_digest(out)
    system = project_copy / "system.yaml"  # a new version: every PDF is made again
    system.write_text(system.read_text(encoding="utf-8").replace('\nversion: "1.2.0"', '\nversion: "1.2.1"', 1),
                      encoding="utf-8")
    killed: list[int] = []

    def kill_the_first_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGKILL)
                killed.append(child.pid)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_the_first_worker)
    killer.start()
    result = run_cli("build", str(project_copy), "--no-docx", "--no-xlsx", "--no-site")
    killer.join()
    assert killed and result.exit_code == 3, result.output
    assert "process making the PDFs ended unexpectedly" in result.output and "TF900" not in result.output
    assert "Traceback" not in result.output
    assert tree_digest(out) == before
    assert sorted(p.name for p in project_copy.iterdir() if p.name.startswith(".build") and p.name != ".build.cache") == []
    assert multiprocessing.active_children() == []


def test_undefined_template_value_is_a_build_error(project_copy: Path) -> None:
    template = project_copy / "templates" / "logbook" / "logbook.md.j2"
    template.parent.mkdir(parents=True)
    template.write_text("# {{ doc.title }}\n\nline two\n{{ no_such_value }}\n", encoding="utf-8")
    result = run_cli("build", str(project_copy), "--no-pdf", "--no-site")
    assert result.exit_code == 3
    assert "templates/logbook/logbook.md.j2:4" in result.output and "no_such_value" in result.output
    assert not (project_copy / "build").exists()


def test_build_refuses_sources_with_errors(project_copy: Path) -> None:
    (project_copy / "risks" / "broken.yaml").write_text("id: broken\n", encoding="utf-8")
    result = run_cli("build", str(project_copy))
    assert result.exit_code == 1
    assert "TF201" in result.output and not (project_copy / "build").exists()


def test_only_and_unknown_kind(project_copy: Path) -> None:
    result = run_cli("build", str(project_copy), "--only", "logbook", "--no-site")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (project_copy / "build" / "pdf").iterdir()) == ["thoravis-cxr-logbook.pdf"]
    assert run_cli("build", str(project_copy), "--only", "nonsense").exit_code == 2


HOSTILE = 'Pipe | here\nnext line <b>bold</b> {{ x }} #panic("x")'


def test_hostile_values_appear_literally(project_copy: Path) -> None:
    path = project_copy / "risks" / "risk-missed-finding.yaml"
    if not path.exists():
        path = sorted((project_copy / "risks").glob("*.yaml"))[0]
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^title: .*$", "title: " + json.dumps(HOSTILE), text, count=1, flags=re.MULTILINE)
    text = re.sub(r"^owner: .*$", "owner: " + json.dumps(HOSTILE), text, count=1, flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")
    result = build(project_copy, project_copy / "build", only={"risk-register"})
    flat = 'Pipe | here next line <b>bold</b> {{ x }} #panic("x")'
    markdown = (result.out / "markdown" / "thoravis-cxr-risk-register.md").read_text(encoding="utf-8")
    assert flat in re.sub(r"\\(.)", r"\1", markdown)
    html = (result.out / "site" / "thoravis-cxr-risk-register.html").read_text(encoding="utf-8")
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert 'Pipe | here next line' in html and "{{ x }}" in html
    assert flat in pdf_text(result.out / "pdf" / "thoravis-cxr-risk-register.pdf")


def test_unchanged_pdfs_are_reused_and_changed_ones_rebuilt(project_copy: Path) -> None:
    out = project_copy / "build"
    first = build(project_copy, out)
    assert first.reused_pdfs == []
    second = build(project_copy, out)
    assert sorted(second.reused_pdfs) == sorted(d.id for d in first.documents if d.in_pdf)
    risk = sorted((project_copy / "risks").glob("*.yaml"))[0]
    risk.write_text(risk.read_text(encoding="utf-8").replace("title: ", "title: Revised — ", 1), encoding="utf-8")
    tampered = out / "pdf" / "thoravis-cxr-logbook.pdf"
    tampered.write_bytes(tampered.read_bytes() + b"%tampered\n")
    third = build(project_copy, out)
    assert "thoravis-cxr-risk-register" not in third.reused_pdfs
    assert "thoravis-cxr-logbook" not in third.reused_pdfs
    assert "thoravis-cxr-qms-manual" in third.reused_pdfs
    assert b"%tampered" not in (out / "pdf" / "thoravis-cxr-logbook.pdf").read_bytes()


def pdf_pages_text(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [" ".join(page.split()) for page in text.split("\f")]


def test_long_tables_repeat_their_header_on_every_page(sample_build: BuildResult) -> None:
    pages = pdf_pages_text(sample_build.out / "pdf" / "thoravis-cxr-model-card-nodule-detector.pdf")
    header = "Dataset Slice Image-level"
    with_header = [i for i, page in enumerate(pages) if header in page]
    assert len(with_header) >= 2, "the results matrix should span pages with its header repeated"
    assert with_header == list(range(with_header[0], with_header[0] + len(with_header)))


def test_sample_pdf_has_no_draft_mark_when_clean(project_copy: Path) -> None:
    result = build(project_copy, project_copy / "build", only={"qms-manual"}, site=False)
    assert not any(d.gaps for d in result.documents)
    assert "DRAFT" not in pdf_text(result.out / "pdf" / "thoravis-cxr-qms-manual.pdf")


def test_project_with_gaps_is_marked_draft(tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(Path(__file__).parent / "bad_inputs" / "_base", base)
    model = base / "models" / "model-base.yaml"
    model.write_text(model.read_text(encoding="utf-8").replace("license: proprietary\n", ""), encoding="utf-8")
    result = build(base, tmp_path / "out", only={"model-cards"}, site=False)
    assert result.gap_count > 0
    text = pdf_text(next((tmp_path / "out" / "pdf").glob("*.pdf")))
    assert "DRAFT" in text and "MISSING:" in text and "Gaps" in text


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "test@example.org", "GIT_AUTHOR_DATE": "2026-03-04T05:06:07Z",
           "GIT_COMMITTER_DATE": "2026-03-04T05:06:07Z", "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env).stdout


def test_build_date_and_commit_come_from_git_and_uncommitted_changes_mean_draft(project_copy: Path) -> None:
    git(project_copy, "init", "-q")
    git(project_copy, "add", "-A")
    git(project_copy, "commit", "-q", "-m", "sources")
    head = git(project_copy, "rev-parse", "HEAD").strip()
    clean = build(project_copy, project_copy / "build", only={"qms-manual"}, site=False)
    text = pdf_text(clean.out / "pdf" / "thoravis-cxr-qms-manual.pdf")
    assert "2026-03-04" in text and head[:12] in text and "DRAFT" not in text
    manifest = json.loads((clean.out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["git"] == {"commit": head, "uncommitted_changes": False}
    (project_copy / "risks" / sorted(p.name for p in (project_copy / "risks").iterdir())[0]).open("a").write("# edited\n")
    dirty = build(project_copy, project_copy / "build", only={"qms-manual"}, site=False)
    assert "DRAFT" in pdf_text(dirty.out / "pdf" / "thoravis-cxr-qms-manual.pdf")


def test_build_date_from_techfile_yaml_then_source_date_epoch(project_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from techfile.publish.build import build_info

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    project = load_project(str(project_copy)).project
    assert project.settings is not None
    assert build_info(project, project_copy / "build").date == project.settings.document_control.date
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert build_info(project, project_copy / "build").date == "2026-01-01"


def test_build_with_relative_paths(project_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project_copy.parent)
    result = run_cli("build", "project", "--only", "logbook")
    assert result.exit_code == 0, result.output
    assert (project_copy / "build" / "site" / "index.html").is_file()
    assert (project_copy / "build" / "pdf" / "thoravis-cxr-logbook.pdf").is_file()


def test_build_failing_in_the_site_step_leaves_previous_output(project_copy: Path) -> None:
    out = project_copy / "build"
    assert run_cli("build", str(project_copy), "--only", "logbook").exit_code == 0
    before = tree_digest(out)
    template = project_copy / "templates" / "logbook" / "logbook.md.j2"
    template.parent.mkdir(parents=True)
    template.write_text("# {{ doc.title }}\n\nSee [the annex](no-such-page.md).\n", encoding="utf-8")
    result = run_cli("build", str(project_copy), "--only", "logbook")
    assert result.exit_code == 3, result.output
    assert "no-such-page.md" in result.output and "Traceback" not in result.output
    assert tree_digest(out) == before
    assert [p.name for p in project_copy.iterdir() if p.name.startswith(".build") and p.name != ".build.cache"] == []

"""`techfile diff`: the documents of two revisions side by side, without touching the user's checkout.

A revision is read with `git archive` into a scratch folder; the working tree is read in place. Both sides are
rendered with the same build facts, so only what the sources say differs."""

from __future__ import annotations

import difflib
import io
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from techfile import __version__
from techfile.assess.changes import SUBSTANTIAL, ChangeSummary, compare_projects
from techfile.assess.grades import assess
from techfile.diagnostics import Diagnostic
from techfile.documents import render_documents
from techfile.documents.base import BuildInfo
from techfile.documents.render import Renderer, RenderError
from techfile.loading import load_project
from techfile.project import Project
from techfile.publish.output import staged_output
from techfile.sources.git import RevisionError, resolve_commit

GIT_TIMEOUT_SECONDS = 60
WORKING_TREE = "working tree"


class DiffError(Exception):
    """A revision cannot be read, or its sources do not load."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics or []


@dataclass
class DocumentDiff:
    id: str
    title: str
    status: str  # "changed", "added", "removed"
    unified: str
    old_text: str
    new_text: str


@dataclass
class DiffResult:
    old: str
    new: str
    summary: ChangeSummary
    documents: list[DocumentDiff] = field(default_factory=list)
    out: Path | None = None
    project: Project | None = None  # the newer side

    @property
    def changed(self) -> bool:
        return bool(self.documents) or not self.summary.empty


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=GIT_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DiffError(f"git failed: {err}") from None


def materialise(root: Path, revision: str, scratch: Path) -> Path:
    """The project folder as it was at `revision`, extracted into `scratch`. The revision is resolved to a commit
    hash first, so git never reads it as an option."""
    try:
        commit = resolve_commit(root, revision)
    except RevisionError as err:
        raise DiffError(str(err)) from None
    archived = _git(root, "archive", "--format=tar", commit, "--", ".")
    if archived.returncode != 0:
        raise DiffError(f"cannot read revision {revision!r}: {archived.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archived.stdout)) as archive:
        archive.extractall(scratch, filter="data")
    return scratch  # run inside a sub-folder, git archive writes paths relative to it


def _load(folder: Path, label: str) -> Project:
    result = load_project(folder)
    if not result.complete:  # findings about a complete project (an older revision may fail newer rules) are fine
        raise DiffError(f"the sources at {label} do not load; `techfile check` them first", result.errors)
    return result.project


def _render(project: Project) -> dict[str, tuple[str, str]]:
    info = BuildInfo(date="compared", epoch=0, commit=None, dirty=False, techfile_version=__version__)
    try:
        documents = render_documents(project, info, Renderer(project.root))
    except RenderError as err:
        raise DiffError(f"template {err.template}:{err.line}: {err.message}") from None
    return {d.id: (d.title, d.markdown) for d in documents if d.in_pdf}


def diff_revisions(directory: str | Path, old: str, new: str | None = None) -> DiffResult:
    """Compare the project at revision `old` with revision `new` (default: the working tree)."""
    root = Path(directory)
    scratch = Path(tempfile.mkdtemp(prefix="techfile-diff-"))
    try:
        old_project = _load(materialise(root, old, scratch / "old"), old)
        new_project = _load(materialise(root, new, scratch / "new"), new) if new else _load(root, WORKING_TREE)
        assess(old_project, assess(new_project).date)  # both sides judged on one date: only the sources differ
        before, after = _render(old_project), _render(new_project)
        summary = compare_projects(old_project, new_project)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    documents = []
    for doc_id in sorted(set(before) | set(after)):
        title = (after.get(doc_id) or before[doc_id])[0]
        old_text, new_text = before.get(doc_id, ("", ""))[1], after.get(doc_id, ("", ""))[1]
        if old_text == new_text:
            continue
        status = "added" if doc_id not in before else "removed" if doc_id not in after else "changed"
        unified = "".join(difflib.unified_diff(old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                               fromfile=f"{old}/{doc_id}.md", tofile=f"{new or WORKING_TREE}/{doc_id}.md", n=2))
        documents.append(DocumentDiff(doc_id, title, status, unified, old_text, new_text))
    return DiffResult(old, new or WORKING_TREE, summary, documents, project=new_project)


def summary_markdown(result: DiffResult) -> str:
    """The reviewer's summary, led by possible substantial modifications."""
    s = result.summary
    lines = [f"# Changes from {result.old} to {result.new}", ""]
    if s.flags:
        lines += [f"## {SUBSTANTIAL[0].upper()}{SUBSTANTIAL[1:]}", ""] + [f"- **{f.what}** ({f.ref})" for f in s.flags] + [""]
    sections = [("Annex IV points changed", s.annex_iv_points), ("SoA decisions changed", s.soa_decisions),
                ("Risks", s.risks), ("Metrics moved", s.metrics), ("Thresholds changed", s.thresholds)]
    for title, items in sections:
        if items:
            lines += [f"## {title}", ""] + [f"- {item}" for item in items] + [""]
    lines += ["## Documents", ""]
    lines += [f"- {d.title} (`{d.id}`): {d.status}" for d in result.documents] or ["- No document changed."]
    return "\n".join(lines) + "\n"


def redline_markdown(result: DiffResult) -> str:
    """The summary and every document's redline as one Markdown document (the source of the redline PDF)."""
    parts = [summary_markdown(result).replace("# Changes from", "## Changes from", 1)]
    for document in result.documents:
        parts.append(f"## {document.title}: {document.status}\n\n```diff\n{document.unified}```\n")
    return f"# Changes from {result.old} to {result.new}\n\n" + "\n".join(parts)


def write_redlines(result: DiffResult, out: Path, pdf: bool = False) -> None:
    """OUT/summary.md, and per changed document a Markdown redline and a side-by-side HTML page; with `pdf`,
    OUT/redline.pdf holding the summary and every redline. Written atomically."""
    with staged_output(out) as staging:
        (staging / "summary.md").write_text(summary_markdown(result), encoding="utf-8")
        html = difflib.HtmlDiff(wrapcolumn=100)
        for document in result.documents:
            (staging / f"{document.id}.md").write_text(
                f"# {document.title}: {document.status}\n\n```diff\n{document.unified}```\n", encoding="utf-8")
            page = html.make_file(document.old_text.splitlines(), document.new_text.splitlines(), result.old, result.new,
                                  context=True, numlines=2)
            (staging / f"{document.id}.html").write_text(page, encoding="utf-8")
        if pdf:
            _write_redline_pdf(result, staging)
    result.out = out


def _write_redline_pdf(result: DiffResult, staging: Path) -> None:
    from techfile.publish.build import BuildFailure, build_info
    from techfile.publish.pdf import PdfError, PdfJob, make_pdf

    project = result.project
    assert project is not None and project.settings is not None and project.system is not None
    info = build_info(project, staging)
    markdown = staging / ".redline.md"
    markdown.write_text(redline_markdown(result), encoding="utf-8")
    control = project.settings.document_control
    cover = {"title": f"Changes from {result.old} to {result.new}", "docid": f"{project.settings.id}-redline",
             "version": control.version, "status": "draft", "date": info.date, "owner": control.owner,
             "approver": control.approver, "commit": info.commit[:12] if info.commit else "not in git",
             "confidentiality": control.confidentiality or "not stated", "provider": project.settings.provider.name,
             "system": f"{project.system.name} {project.system.version}", "lang": control.language,
             "techfile": __version__, "draft": "false"}
    try:
        make_pdf(PdfJob(cover["docid"], str(markdown), str(staging / "redline.pdf"), info.epoch, cover))
    except PdfError as err:
        raise BuildFailure(str(err)) from None
    finally:
        markdown.unlink(missing_ok=True)


"""`techfile build`: load → validate → resolve → render → publish (Markdown, site, PDFs, manifest), atomically."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from techfile import __version__
from techfile.assess.grades import assess
from techfile.assess.pages import planned_documents
from techfile.diagnostics import Diagnostic
from techfile.documents import render_documents, unavailable_kinds
from techfile.documents.base import BuildInfo, Document
from techfile.documents.render import Renderer, RenderError
from techfile.loading import load_project
from techfile.project import Project
from techfile.publish.cache import BuildCache, digest_of, from_plain, input_digests, to_plain, tool_facts
from techfile.publish.manifest import assessment_record, evidence_files, source_and_evidence_paths, write_manifest
from techfile.publish.output import OutputBusy, logo_name, sibling_names, staged_output, write_charts, write_images, write_logo
from techfile.publish.pdf import PdfError, PdfJob, count_pages, embedded_charts, job_key, make_pdf, worker_init
from techfile.publish.site import DOWNLOADS, SiteError, build_site
from techfile.source_date import SourceDateError, source_date_epoch
from techfile.sources.git import git_history, git_state

if TYPE_CHECKING:
    from techfile.publish.signing import SigningKey
from techfile.validation.files import sha256_of
from techfile.validation.prose import ProseImage

PDF_TIMEOUT_SECONDS = 180
Progress = Callable[[str], None]


class BuildFindings(Exception):
    """The sources do not load, validate or resolve: nothing is built. (Gaps and other findings do not stop a build:
    they make its documents drafts.)"""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problem(s) in the sources")
        self.diagnostics = diagnostics


class BuildFailure(Exception):
    """A template, pandoc, Typst or MkDocs failed; the previous output is untouched."""


@dataclass
class BuildResult:
    """What a build produced."""

    out: Path
    documents: list[Document]
    pages: dict[str, int] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    reused_pdfs: list[str] = field(default_factory=list)
    reused_docx: list[str] = field(default_factory=list)  # documents whose DOCX was the previous build's
    reused_xlsx: list[str] = field(default_factory=list)  # documents whose XLSX was the previous build's
    signed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    unchanged: bool = False  # the inputs and the output were those of the last build: nothing was rebuilt

    @property
    def gap_count(self) -> int:
        return sum(len(d.gaps) for d in self.documents)


def build_info(project: Project, out: Path) -> BuildInfo:
    """The build's date and commit: SOURCE_DATE_EPOCH, else the last commit touching the sources, else techfile.yaml's date."""
    assert project.settings is not None
    state = git_state(project.root, _own_paths(project.root, out))
    try:
        from_environment = source_date_epoch()
    except SourceDateError as err:
        raise BuildFailure(str(err)) from None
    if from_environment is not None:
        epoch = from_environment
    elif state.last_change_epoch is not None:
        epoch = state.last_change_epoch
    else:
        day = dt.date.fromisoformat(project.settings.document_control.date)
        epoch = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
    date = dt.datetime.fromtimestamp(epoch, tz=dt.UTC).date().isoformat()
    return BuildInfo(date=date, epoch=epoch, commit=state.commit, dirty=state.dirty, techfile_version=__version__,
                     history=git_history(project.root, _own_paths(project.root, out)))


def _own_paths(root: Path, out: Path) -> tuple[str, ...]:
    """The output folder and the lock and staging folders beside it, relative to the project (git ignores them when
    it decides whether the sources have uncommitted changes)."""
    root, parent = root.resolve(), out.parent.resolve()
    if not parent.is_relative_to(root):
        return ()
    prefix = "" if parent == root else parent.relative_to(root).as_posix() + "/"
    return (prefix + out.name, *(prefix + pattern for pattern in sibling_names(out)))


def build(path: str | Path, out: str | Path | None = None, only: set[str] | None = None, site: bool = True,
          pdf: bool = True, jobs: int | None = None, progress: Progress | None = None, docx: bool = True,
          xlsx: bool = True, sign: SigningKey | None = None) -> BuildResult:
    """Build the project at `path` into `out` (default `path/build`); raise BuildFindings or BuildFailure.

    With `sign`, every PDF whose status is approved is signed (PAdES); a key unusable on the build date raises
    SigningProblem before anything is written."""
    started = time.perf_counter()
    say = progress or (lambda message: None)
    loaded = load_project(path)
    if not loaded.complete:  # the sources themselves are broken; gaps and other findings only make drafts
        raise BuildFindings(loaded.errors)
    project = loaded.project
    assert project.settings is not None
    out_dir = Path(out) if out is not None else project.root / "build"
    info = replace(build_info(project, out_dir), warnings=bool(loaded.diagnostics))
    assess(project, info.date)  # the documents are assessed on the build date (the same date `check` uses)
    if sign is not None:
        from techfile.publish.signing import check_usable

        check_usable(sign, info.epoch)
    cache = BuildCache.open(out_dir)
    tools = tool_facts(cache.hashes)
    sources, evidence = source_and_evidence_paths(project.root, loaded.source_files, loaded.referenced_files,
                                                  evidence_files(project))
    inputs = input_digests(project.root, [*sources, *evidence], cache.hashes)  # what the build reads, nothing else
    key = digest_of({"tools": tools, "inputs": inputs, "info": repr(info),
                     "options": {"only": sorted(only) if only is not None else None, "site": site, "pdf": pdf,
                                 "docx": docx, "xlsx": xlsx,
                                 "sign": [sign.subject, sign.fingerprint] if sign is not None else None},
                     "diagnostics": [repr(d) for d in loaded.diagnostics]})
    if cache.last_key == key and cache.output_intact(out_dir):
        say("nothing changed since the last build: the output is up to date")
        cache.save()
        return _unchanged(cache, out_dir, loaded.warnings, started)
    draft = bool(loaded.diagnostics) or info.dirty  # and, per document, its own gaps (see cover_facts)
    reused_pdfs: list[str] = []
    with _staged(out_dir) as staging:
        markdown_dir = staging / "markdown"
        markdown_dir.mkdir()
        write_logo(project.root, project.settings.branding.logo, markdown_dir)
        renderer = Renderer(project.root)
        # each PDF is begun in the background as soon as its document is rendered and written
        feed = _Feed()
        editions = _PreviousEditions(out_dir)
        pdfs = _Background(_publish_pdfs, project, feed, staging, editions, info, draft, jobs, reused_pdfs, sign)
        writer = _MarkdownWriter(markdown_dir, renderer, feed.put if pdf else None)
        say(f"rendering documents ({info.date}, commit {info.commit[:12] if info.commit else 'none'})"
            + (", making their PDFs" if pdf else ""))
        if pdf:
            pdfs.start()
        try:
            documents = _rendered(project, info, renderer, only, writer.write)
            feed.close()
        except BaseException:
            feed.abandon()
            pdfs.finish()
            raise
        images = list(renderer.policy.images.values())
        result = BuildResult(out_dir, documents, unavailable=unavailable_kinds(project), warnings=loaded.warnings,
                             reused_pdfs=reused_pdfs)
        pandoc_version = _pandoc_version() if docx else None
        docxs = _Background(_publish_docx, project, documents, staging, editions, info, draft, jobs, digest_of(tools),
                            pandoc_version, result.reused_docx)
        # in the background: the PDF pool's processes (begun while rendering) and DOCX's pandoc processes work while
        # this one makes the XLSX and the site
        if docx:
            say(f"making DOCX ({sum(d.in_pdf for d in documents)} documents)")
            docxs.start()
        xlsx_inputs: dict[str, str] = {}
        try:
            if xlsx:
                xlsx_inputs = _publish_xlsx(project, documents, staging, editions, info, draft, digest_of(tools),
                                            result.reused_xlsx)
            planned = _planned_editions(documents, staging, pdf, docx, xlsx)
            if site:
                say(f"building the site ({len(documents)} pages)")
                omitted = set(planned_documents(project)) - {d.site_name or d.id for d in documents if d.in_site}
                _publish_site(project, documents, staging, info, images, omitted, planned)
        finally:
            pdfs.finish()
            docxs.finish()
        docx_inputs = docxs.outcome() if docx else {}
        if pdf:
            result.pages, pdf_inputs, signed = pdfs.outcome()
            result.signed = sorted(signed)
            pandoc_version = _pandoc_version()
        else:
            pdf_inputs, signed = {}, {}
        if site:
            _copy_downloads(project, documents, staging, info, images, planned)
        write_manifest(staging / "manifest.json", project.root, staging, info, pandoc_version, project.settings.id,
                       pdf_inputs, sources, evidence, assessment_record(assess(project), documents), signed, docx_inputs,
                       xlsx_inputs)
    cache.record(out_dir, key, _summary(result, docx_inputs))
    result.seconds = time.perf_counter() - started
    return result


def _rendered(project: Project, info: BuildInfo, renderer: Renderer, only: set[str] | None,
              rendered: Callable[[Document], None]) -> list[Document]:
    """`render_documents`, template errors as BuildFailure."""
    try:
        return render_documents(project, info, renderer, only, rendered)
    except RenderError as err:
        raise BuildFailure(f"template {err.template}:{err.line}: {err.message}") from None


class _Feed:
    """Documents handed by the rendering thread to a background edition as they are written: iterating ends when
    the feed is closed, and raises _FeedAbandoned when rendering failed."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[Document | None] = queue.SimpleQueue()
        self.abandoned = False

    def put(self, document: Document) -> None:
        self.queue.put(document)

    def close(self) -> None:
        self.queue.put(None)

    def abandon(self) -> None:
        self.abandoned = True
        self.queue.put(None)

    def __iter__(self) -> Iterator[Document]:
        while (document := self.queue.get()) is not None:
            yield document
        if self.abandoned:
            raise _FeedAbandoned


class _FeedAbandoned(Exception):
    """Rendering failed: the documents fed so far are not to be published."""


class _MarkdownWriter:
    """Writes each rendered document into markdown/ (its Markdown, its charts, the project images prose has shown so
    far) and passes it on to `written`."""

    def __init__(self, folder: Path, renderer: Renderer, written: Callable[[Document], None] | None) -> None:
        self.folder, self.renderer, self.written = folder, renderer, written
        self.images: set[str] = set()

    def write(self, document: Document) -> None:
        images = [i for name, i in sorted(self.renderer.policy.images.items()) if name not in self.images]
        write_images(images, self.folder)
        self.images.update(i.name for i in images)
        if document.in_pdf:
            (self.folder / f"{document.id}.md").write_text(document.markdown, encoding="utf-8")
        write_charts(document, self.folder)
        if self.written is not None:
            self.written(document)


def _summary(result: BuildResult, docx: Iterable[str]) -> dict[str, object]:
    """What a later build that finds nothing changed reports (as plain data)."""
    return {"documents": to_plain(result.documents), "pages": result.pages, "unavailable": result.unavailable,
            "signed": result.signed, "docx": sorted(docx)}


def _unchanged(cache: BuildCache, out_dir: Path, warnings: list[Diagnostic], started: float) -> BuildResult:
    """The result of a build whose inputs and output are exactly those of the last build: nothing was written."""
    summary = cache.last_summary
    documents = [from_plain(Document, item) for item in summary.get("documents", [])]  # as `_summary` wrote them
    result = BuildResult(out_dir, documents, pages=dict(summary.get("pages", {})),
                         unavailable=list(summary.get("unavailable", [])), warnings=warnings,
                         reused_pdfs=sorted(summary.get("pages", {})), reused_docx=list(summary.get("docx", [])),
                         signed=list(summary.get("signed", [])),
                         unchanged=True)
    result.seconds = time.perf_counter() - started
    return result


@contextmanager
def _staged(out_dir: Path) -> Iterator[Path]:
    """`staged_output`, with a busy output folder reported as a build failure."""
    try:
        with staged_output(out_dir) as staging:
            yield staging
    except OutputBusy as busy:
        raise BuildFailure(str(busy)) from None


class _Background:
    """A function run in a thread of its own, so that the site and the other editions are made meanwhile; its result
    (or its exception, re-raised) is taken in the building thread."""

    def __init__(self, function: Callable[..., Any], *arguments: object) -> None:
        self.function, self.arguments = function, arguments
        self.thread: threading.Thread | None = None
        self.value: Any = None
        self.error: BaseException | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=f"techfile-{self.function.__name__}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.value = self.function(*self.arguments)
        except BaseException as err:  # noqa: BLE001 - re-raised in the building thread by outcome()
            self.error = err

    def finish(self) -> None:
        if self.thread is not None:
            self.thread.join()

    def outcome(self) -> Any:
        self.finish()
        if self.error is not None:
            raise self.error
        return self.value


def _planned_editions(documents: list[Document], staging: Path, pdf: bool, docx: bool, xlsx: bool) -> dict[str, list[Path]]:
    """Document id → the PDF, DOCX and XLSX this build makes of it (in that order), before they all exist."""
    planned = {}
    for document in documents:
        made = [("pdf", pdf and document.in_pdf), ("docx", docx and document.in_pdf), ("xlsx", xlsx and bool(document.tables))]
        planned[document.id] = [staging / folder / f"{document.id}.{folder}" for folder, wanted in made if wanted]
    return planned


def _copy_downloads(project: Project, documents: list[Document], staging: Path, info: BuildInfo,
                    images: list[ProseImage], planned: dict[str, list[Path]]) -> None:
    """Put each edition into the site's downloads/ (the site was built with a stand-in while the PDFs were made); if
    the editions made are not those planned, build the site again with the ones there are."""
    if planned != _editions(documents, staging):
        shutil.rmtree(staging / "site", ignore_errors=True)
        omitted = set(planned_documents(project)) - {d.site_name or d.id for d in documents if d.in_site}
        _publish_site(project, documents, staging, info, images, omitted, _editions(documents, staging), stand_ins=False)
        return
    for document in (d for d in documents if d.in_site):
        for path in planned[document.id]:
            shutil.copyfile(path, staging / "site" / DOWNLOADS / path.name)


def _publish_site(project: Project, documents: list[Document], staging: Path, info: BuildInfo,
                  images: list[ProseImage], omitted: set[str], editions: dict[str, list[Path]], stand_ins: bool = True) -> None:
    assert project.settings is not None
    work = staging / ".site-work"
    try:
        build_site(project.settings.title, documents, work, staging / "site", info.epoch,
                   project.settings.branding.primary_color, editions, images, omitted, stand_ins)
    except SiteError as err:
        raise BuildFailure(str(err)) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _publish_docx(project: Project, documents: list[Document], staging: Path, editions: _PreviousEditions,
                  info: BuildInfo, draft: bool, jobs: int | None, tools: str, pandoc_version: str,
                  reused: list[str]) -> dict[str, str]:
    """A DOCX of every document that has a PDF edition, into docx/: the previous build's when its inputs are unchanged,
    else made by pandoc (with PNG renders of the charts it embeds). Returns each DOCX's input digest."""
    from concurrent.futures import ThreadPoolExecutor

    from techfile.publish.docx import (
        DocxError,
        DocxJob,
        docx_key,
        docx_toolchain,
        make_docx,
        reference_document,
        render_chart_pngs,
    )

    work = staging / ".docx-work"
    (staging / "docx").mkdir()
    reference = str(reference_document(project.root))
    previous = editions.reusable("docx")
    toolchain = docx_toolchain(Path(reference), tools, pandoc_version)
    keys: dict[str, str] = {}
    remade: list[DocxJob] = []
    for document in (d for d in documents if d.in_pdf):
        job = DocxJob(document.id, str(staging / "markdown" / f"{document.id}.md"),
                      str(staging / "docx" / f"{document.id}.docx"), str(work / "charts"), reference, info.epoch,
                      cover_facts(project, document, info, draft))
        keys[document.id] = docx_key(job, toolchain)
        if previous.get(document.id) == keys[document.id]:
            shutil.copyfile(editions.path("docx", document.id), job.docx_path)
            reused.append(document.id)
        else:
            remade.append(job)
    try:
        charts = {Path(c).stem for job in remade for c in embedded_charts(Path(job.markdown_path))}
        render_chart_pngs(staging / "markdown" / "charts", work / "charts", charts)
        workers = max(1, min(jobs or os.cpu_count() or 1, len(remade) or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:  # each job is a pandoc process
            list(pool.map(make_docx, remade))
    except DocxError as err:
        raise BuildFailure(str(err)) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return keys


def _publish_xlsx(project: Project, documents: list[Document], staging: Path, editions: _PreviousEditions,
                  info: BuildInfo, draft: bool, tools: str, reused: list[str]) -> dict[str, str]:
    """An XLSX of every document that attaches tables (SoA, risk register, traceability, SOC 2), into xlsx/: the
    previous build's when its inputs (tables, document control, date, techfile and tool versions) are unchanged.
    Returns each XLSX's input digest."""
    from techfile.publish.xlsx import workbook_bytes

    keys: dict[str, str] = {}
    previous = editions.reusable("xlsx")
    if any(d.tables for d in documents):
        (staging / "xlsx").mkdir()
    for document in (d for d in documents if d.tables):
        control = document_control_fields(cover_facts(project, document, info, draft))
        keys[document.id] = digest_of({"tables": to_plain(document.tables), "control": control, "epoch": info.epoch,
                                       "tools": tools})
        path = staging / "xlsx" / f"{document.id}.xlsx"
        if previous.get(document.id) == keys[document.id]:
            shutil.copyfile(editions.path("xlsx", document.id), path)
            reused.append(document.id)
        else:
            path.write_bytes(workbook_bytes(document, control, info.epoch))
    return keys


def document_control_fields(cover: dict[str, str]) -> dict[str, str]:
    """The cover facts as labelled document-control fields (for editions without a cover page)."""
    labels = {"docid": "Document id", "title": "Title", "version": "Version", "date": "Date", "status": "Status",
              "owner": "Owner", "approver": "Approver", "approved_on": "Approved on", "reviewer": "Reviewer",
              "reviewed_on": "Reviewed on", "confidentiality": "Confidentiality", "set_version": "Documentation set version",
              "commit": "Built from commit",
              "system": "System", "provider": "Provider", "techfile": "Generated by techfile"}
    return {label: cover[key] for key, label in labels.items() if key in cover}


def _editions(documents: list[Document], staging: Path) -> dict[str, list[Path]]:
    """Document id → the PDF, DOCX and XLSX this build made of it, in that order."""
    found = {}
    for document in documents:
        files = [staging / folder / f"{document.id}.{folder}" for folder in ("pdf", "docx", "xlsx")]
        found[document.id] = [f for f in files if f.is_file()]
    return found


COMPACT_KINDS = {"declaration-of-conformity"}  # PDFs without cover page and contents: the facts head the first page


def cover_facts(project: Project, document: Document, info: BuildInfo, draft: bool) -> dict[str, str]:
    """The strings the PDF cover, approval page, header and footer show (passed to Typst as inputs, never as markup):
    the document's own control facts (documents/control.py), a draft wherever the build is one."""
    assert project.settings is not None and project.system is not None and document.control is not None
    control = document.control
    status = "draft" if draft else document.status
    approved_on = control.approved_on if status == document.status else "not approved (draft)"
    return {
        "title": document.title, "docid": document.id, "version": control.version, "status": status,
        "date": control.date, "owner": control.owner, "approver": control.approver, "commit": control.commit,
        "confidentiality": document.confidentiality or control.confidentiality,
        "provider": project.settings.provider.name,
        "system": f"{project.system.name} {project.system.version}",
        "lang": typst_language(project.settings.document_control.language),
        "techfile": info.techfile_version, "draft": "true" if status == "draft" else "false",
        "layout": "compact" if document.kind in COMPACT_KINDS else "full",
        "approved_on": approved_on, "reviewer": control.reviewer, "reviewed_on": control.reviewed_on,
        "set_version": control.set_version, "built_on": control.built_on, **_logo_facts(project),
    }


def _logo_facts(project: Project) -> dict[str, str]:
    """The cover's logo: its place beside the Markdown, and its digest (a changed logo makes a changed PDF)."""
    assert project.settings is not None
    logo = project.settings.branding.logo
    if not logo:
        return {}
    return {"logo": logo_name(logo), "logo_sha256": sha256_of((project.root / logo).resolve())}


def typst_language(tag: str) -> str:
    """The ISO 639 language of a BCP 47 tag (`fr-BE` → `fr`), the form Typst accepts; English when there is none."""
    primary = tag.split("-")[0].lower()
    return primary if primary.isascii() and primary.isalpha() and 2 <= len(primary) <= 3 else "en"


class _PreviousEditions:
    """The PDF, DOCX and XLSX files the previous build left in the output folder, with the input digests and sha256
    its manifest lists for them (the manifest read once, for every edition)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        try:
            manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
            self.inputs = {edition: manifest.get(f"{edition}_inputs", {}) for edition in ("pdf", "docx", "xlsx")}
            self.outputs = {e["path"]: e["sha256"] for e in manifest.get("outputs", [])}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.inputs, self.outputs = {}, {}

    def reusable(self, edition: str) -> dict[str, str]:
        """Document id → input digest of the previous `edition` files still exactly as that build wrote them (their
        sha256 is the one its manifest lists)."""
        inputs = self.inputs.get(edition, {})
        if not isinstance(inputs, dict):
            return {}
        return {document_id: key for document_id, key in inputs.items()
                if (path := self.path(edition, document_id)).is_file()
                and self.outputs.get(f"{edition}/{path.name}") == sha256_of(path)}

    def path(self, edition: str, document_id: str) -> Path:
        return self.out_dir / edition / f"{document_id}.{edition}"


def _publish_pdfs(project: Project, documents: Iterable[Document], staging: Path, editions: _PreviousEditions,
                  info: BuildInfo, draft: bool, jobs: int | None, reused: list[str], sign: SigningKey | None = None,
                  ) -> tuple[dict[str, int], dict[str, str], dict[str, dict[str, str]]]:
    """Make each document's PDF as the document arrives (its Markdown written), reusing the previous build's PDF when
    its inputs are unchanged; with `sign`, sign each approved one. Returns the page counts, the input digests and the
    signed PDFs (path → signer)."""
    pdf_dir = staging / "pdf"
    pdf_dir.mkdir()
    previous = editions.reusable("pdf")
    keys: dict[str, str] = {}
    pages: dict[str, int] = {}
    work: list[PdfJob] = []
    signed: dict[str, dict[str, str]] = {}
    with _worker_pool(jobs) as pool:  # its processes start with the first PDF to make
        made: dict[str, Future[int]] = {}
        try:
            for document in (d for d in documents if d.in_pdf):
                cover = cover_facts(project, document, info, draft)
                signing = sign is not None and cover["status"] == "approved"
                job = PdfJob(document.id, str(staging / "markdown" / f"{document.id}.md"),
                             str(pdf_dir / f"{document.id}.pdf"), info.epoch, cover,
                             sign.fingerprint if signing and sign else "")
                keys[document.id] = job_key(job)
                if signing and sign:
                    signed[f"pdf/{document.id}.pdf"] = {"signer": sign.subject, "certificate_sha256": sign.fingerprint}
                if previous.get(document.id) == keys[document.id]:
                    shutil.copyfile(editions.path("pdf", document.id), job.pdf_path)
                    pages[document.id] = count_pages(Path(job.pdf_path))
                    reused.append(document.id)
                else:
                    work.append(job)
                    made[document.id] = pool.submit(make_pdf, job)
            pages.update(_pdf_pages(pool, made))
        except BrokenProcessPool:
            raise BuildFailure("a process making the PDFs ended unexpectedly (killed, or out of memory); "
                               "try again, or with fewer --jobs") from None
        finally:
            for future in made.values():  # after a failure: the PDFs not yet begun are not made
                future.cancel()
    if sign is not None:
        from techfile.publish.signing import SigningFailed, sign_pdf

        for job in (j for j in work if j.signed_by):
            try:
                sign_pdf(Path(job.pdf_path), sign, info.epoch, f"Approved: {job.cover['title']}, version {job.cover['version']}")
            except SigningFailed as err:
                raise BuildFailure(str(err)) from None
    return dict(sorted(pages.items())), keys, signed


def _pdf_pages(pool: ProcessPoolExecutor, made: dict[str, Future[int]]) -> dict[str, int]:
    """The page count of each PDF the pool makes; a PDF that fails or takes too long is a BuildFailure."""
    pages: dict[str, int] = {}
    try:
        for document_id, future in made.items():
            pages[document_id] = future.result(timeout=PDF_TIMEOUT_SECONDS)
    except PdfError as err:
        raise BuildFailure(str(err)) from None
    except FutureTimeout:
        for process in getattr(pool, "_processes", {}).values():
            process.kill()
        raise BuildFailure(f"a PDF did not finish within {PDF_TIMEOUT_SECONDS} s") from None
    return pages


def _worker_pool(jobs: int | None) -> ProcessPoolExecutor:
    """Up to `jobs` processes (default: one per core) that die with this build, each started when work waits."""
    workers = max(1, jobs or os.cpu_count() or 1)
    # spawn, not fork: a process that already runs threads (a server, an MLflow client) can deadlock a forked child
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=worker_init, initargs=(os.getpid(),))


def _pandoc_version() -> str:
    import pypandoc

    return pypandoc.get_pandoc_version()

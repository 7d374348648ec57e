"""load → validate → resolve: from a project folder to the typed project and its diagnostics."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from techfile.assess.findings import BrokenSources, assess_project
from techfile.assess.logbook import file_stamp, remember_content
from techfile.diagnostics import Diagnostic, Severity, finding, sort_diagnostics
from techfile.project import Project
from techfile.resolve import resolve_project
from techfile.sources.discovery import SourceFile, discover_sources
from techfile.sources.kinds import PROJECT_FILE
from techfile.sources.yaml_source import SourceDocument, load_yaml_source
from techfile.validation import files, lint, references
from techfile.validation.renderable import check_renderable
from techfile.validation.schema import check_schema
from techfile.validation.templates import check_templates

SCHEMA_VERSIONS = ("1",)


@dataclass(frozen=True)
class LoadResult:
    """The resolved project (complete only when there are no errors) and every finding, sorted."""

    project: Project
    diagnostics: list[Diagnostic]
    source_files: tuple[str, ...] = ()
    complete: bool = False  # every source loaded, validated and resolved (assessment findings, and evidence whose
    # file is missing or changed, may remain: the assessment stops counting such evidence)
    referenced_files: tuple[str, ...] = ()  # the paths the sources name (prose, evidence, logo), as written

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]


def load_project(path: str | Path, strict: bool = False, jobs: int | None = None) -> LoadResult:
    """Load, validate and resolve the project in folder `path`, reporting all problems in one pass (with `strict`,
    also every item whose evidence is not approved). `jobs`: processes that read and validate the sources (None:
    all cores from PARALLEL_FROM_FILES sources on, if set, else one); the result is the same for any number."""
    with _rare_collections():
        return _load_project(Path(path), strict, jobs)


@contextmanager
def _rare_collections() -> Iterator[None]:
    """Loading makes hundreds of thousands of objects that all stay alive; the cycle collector, run at its usual
    rate, walks them again and again and frees nothing (a quarter of `check` at 50x the sample): run it rarely."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 50)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _load_project(root: Path, strict: bool, jobs: int | None) -> LoadResult:
    diagnostics: list[Diagnostic] = []
    if not (root / PROJECT_FILE).is_file():
        diagnostics.append(finding("TF001", PROJECT_FILE, 1, 1,
                                      f"no {PROJECT_FILE} in {root.as_posix()!r}: not a techfile project",
                                      "Point techfile at a project folder, or create one with `techfile init`."))
        return LoadResult(resolve_project(root, [])[0], diagnostics)

    found, missing = discover_sources(root)
    for kind in missing:
        diagnostics.append(finding("TF003", kind.location, 1, 1, f"missing {kind.label} file {kind.location}",
                                      f"Create {kind.location}; its schema is schemas/{kind.schema_file} (`techfile schema`)."))
    loaded, schema_findings = _load_documents(root, found, diagnostics, jobs)
    loaded_paths = {source.relpath for source, _ in loaded}
    unreadable = {s.path.stem: s.kind.name for s in found if s.relpath not in loaded_paths}
    if _refuses_schema_version(loaded, diagnostics):
        return LoadResult(resolve_project(root, [])[0], sort_diagnostics(diagnostics), tuple(s.relpath for s in found))

    valid: list[tuple[str, SourceDocument]] = []
    for (source, document), findings in zip(loaded, schema_findings, strict=True):
        diagnostics.extend(findings)
        if not findings:
            valid.append((source.kind.name, document))

    documents = [(source.kind.name, document) for source, document in loaded]
    referenced: list[str] = []
    index, duplicate_ids = references.index_entities(documents)
    diagnostics.extend(duplicate_ids)
    for source, document in loaded:
        diagnostics.extend(references.check_references(source.kind.name, document, index, unreadable))
        diagnostics.extend(files.check_file_references(source.kind.name, document, root))
        referenced.extend(files.referenced_files(source.kind.name, document))
        diagnostics.extend(lint.check_file_names(source.kind.name, source.kind.folder, document))
    diagnostics.extend(lint.check_unused_evidence(documents, index))

    project, resolve_findings = resolve_project(root, valid)
    diagnostics.extend(resolve_findings)
    complete = not any(_breaks(d) for d in diagnostics)
    broken = _broken_sources(found, loaded, valid, diagnostics)
    diagnostics.extend(assess_project(project, broken, strict))
    unrenderable = check_renderable(root, documents, project) + check_templates(root)  # would fail the build
    diagnostics.extend(unrenderable)
    complete = complete and not any(d.severity is Severity.ERROR for d in unrenderable)
    return LoadResult(project, sort_diagnostics(diagnostics), tuple(s.relpath for s in found), complete,
                      referenced_files=tuple(dict.fromkeys(referenced)))


# Problems with an evidence record's file: the record itself is sound, and the assessment stops counting it.
_EVIDENCE_FILE_CODES = ("TF401", "TF402", "TF403")


def _breaks(diagnostic: Diagnostic) -> bool:
    """An error after which a source is not what it says (it did not load, validate or resolve); a missing or
    changed evidence file is not one: the evidence then simply does not count."""
    return diagnostic.severity is Severity.ERROR and not (
        diagnostic.code in _EVIDENCE_FILE_CODES and diagnostic.path.startswith("evidence/"))


def _broken_sources(found: list[SourceFile], loaded: list[tuple[SourceFile, SourceDocument]],
                    valid: list[tuple[str, SourceDocument]], diagnostics: list[Diagnostic]) -> BrokenSources:
    """The sources the assessment cannot trust, what they name, and the resolved files that refer to them."""
    loaded_paths = {source.relpath for source, _ in loaded}
    failing = {d.path for d in diagnostics if _breaks(d)}
    failing |= {s.relpath for s in found if s.relpath not in loaded_paths}
    if not failing:
        return BrokenSources()
    valid_paths = {document.relpath for _, document in valid}
    names: set[str] = {Path(path).stem for path in failing}
    for source, document in loaded:
        if source.relpath in failing:
            names |= _strings(document.data)
    broken_ids = {document.data.get("id") for source, document in loaded if source.relpath in failing and
                  source.relpath not in valid_paths and isinstance(document.data.get("id"), str)}
    broken_ids |= {Path(path).stem for path in failing}
    dependents = {source.relpath for source, document in loaded
                  if source.relpath not in failing and broken_ids & _strings(document.data)}
    kinds = {source.kind.name for source in found if source.relpath in failing}
    return BrokenSources(frozenset(failing), frozenset(n for n in names if isinstance(n, str)), frozenset(dependents),
                         bool(kinds & {"project", "system"}))


def _strings(value: object) -> set[str]:
    """Every short string in a source's data: the ids and names it mentions."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if len(item) <= 80:
                found.add(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


# From this many sources on, `check` would read and validate them on all cores by default. None: on the 2 shared cores
# it was measured on, a forked worker did not pay even at 50x the sample (3,526 sources: no faster, often slower, as
# both processes compete with the machine's other work and the documents must be sent back), so `jobs` decides.
PARALLEL_FROM_FILES: int | None = None

SourceResult = tuple[tuple[int, int, int] | None, SourceDocument | None, list[Diagnostic], list[Diagnostic]]


def _load_documents(root: Path, found: list[SourceFile], diagnostics: list[Diagnostic], jobs: int | None
                    ) -> tuple[list[tuple[SourceFile, SourceDocument]], list[list[Diagnostic]]]:
    """Read and validate each source, in parallel when it pays: the documents that loaded, each with its schema
    findings; loading findings go to `diagnostics`, in the order of `found` whichever process read each file."""
    resolved_root = root.resolve()
    if jobs is None:
        jobs = _cores() if PARALLEL_FROM_FILES is not None and len(found) >= PARALLEL_FROM_FILES else 1
    results = _load_in_parallel(resolved_root, found, jobs) if jobs > 1 and len(found) > 1 else \
        [_load_source(resolved_root, source) for source in found]
    loaded, schema_findings = [], []
    for source, (stamp, document, findings, schema) in zip(found, results, strict=True):
        diagnostics.extend(findings)
        if document is not None:
            if stamp is not None:
                remember_content(source.path, stamp, document.data)
            loaded.append((source, document))
            schema_findings.append(schema)
    return loaded, schema_findings


def _load_source(resolved_root: Path, source: SourceFile) -> SourceResult:
    """One source read and validated: the logbook entry's file stamp taken before reading (None for other kinds),
    the document (None when it did not load), the loading findings and the schema findings."""
    if not source.path.resolve().is_relative_to(resolved_root):
        return None, None, [finding("TF402", source.relpath, 1, 1,
                                    "source file is a symlink that points outside the project folder",
                                    "Keep source files inside the project; copy the file instead of linking it.")], []
    if not source.path.is_file():
        return None, None, [finding("TF401", source.relpath, 1, 1, "source file is a symlink to a file that does not exist",
                                    "Remove the broken link, or restore the file it points to.")], []
    stamp = file_stamp(source.path) if source.kind.name == "logbook_entry" else None
    document, findings = load_yaml_source(source.path, source.relpath)
    return stamp, document, findings, check_schema(source.kind, document) if document is not None else []


def _load_sources(resolved_root: Path, sources: list[SourceFile]) -> list[SourceResult]:
    return [_load_source(resolved_root, source) for source in sources]


def _load_in_parallel(resolved_root: Path, found: list[SourceFile], jobs: int) -> list[SourceResult]:
    """The sources split into `jobs` runs in order: this process reads the first while forked workers read the
    others, and the results are joined in order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():  # a spawned worker would import techfile anew
        return _load_sources(resolved_root, found)
    size = -(-len(found) // jobs)
    runs = [found[start:start + size] for start in range(0, len(found), size)]
    with ProcessPoolExecutor(len(runs) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
        pending = [pool.submit(_load_sources, resolved_root, run) for run in runs[1:]]
        results = _load_sources(resolved_root, runs[0])
        for future in pending:
            results.extend(future.result())
    return results


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _refuses_schema_version(loaded: list[tuple[SourceFile, SourceDocument]], diagnostics: list[Diagnostic]) -> bool:
    """An unknown schema_version stops the run: the other files may follow another source model."""
    for source, document in loaded:
        if source.kind.name != "project" or "schema_version" not in document.data:
            continue
        version = document.data["schema_version"]
        if str(version) not in SCHEMA_VERSIONS:
            known = ", ".join(f'"{v}"' for v in SCHEMA_VERSIONS)
            diagnostics.append(document.finding(
                "TF002", ("schema_version",), f"unknown schema_version {version!r}; this techfile reads {known}",
                'Write `schema_version: "1"` (quoted), or upgrade techfile if the project was made by a newer one.'))
            return True
    return False

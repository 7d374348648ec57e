"""load → validate → resolve: from a project folder to the typed project and its diagnostics."""

from __future__ import annotations

import gc
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


def load_project(path: str | Path, strict: bool = False) -> LoadResult:
    """Load, validate and resolve the project in folder `path`, reporting all problems in one pass (with `strict`,
    also every item whose evidence is not approved)."""
    with _rare_collections():
        return _load_project(Path(path), strict)


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


def _load_project(root: Path, strict: bool) -> LoadResult:
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
    loaded = _load_documents(root, found, diagnostics)
    loaded_paths = {source.relpath for source, _ in loaded}
    unreadable = {s.path.stem: s.kind.name for s in found if s.relpath not in loaded_paths}
    if _refuses_schema_version(loaded, diagnostics):
        return LoadResult(resolve_project(root, [])[0], sort_diagnostics(diagnostics), tuple(s.relpath for s in found))

    valid: list[tuple[str, SourceDocument]] = []
    for source, document in loaded:
        schema_findings = check_schema(source.kind, document)
        diagnostics.extend(schema_findings)
        if not schema_findings:
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


def _load_documents(root: Path, found: list[SourceFile], diagnostics: list[Diagnostic]) -> list[tuple[SourceFile, SourceDocument]]:
    loaded = []
    resolved_root = root.resolve()
    for source in found:
        if not source.path.resolve().is_relative_to(resolved_root):
            diagnostics.append(finding("TF402", source.relpath, 1, 1,
                                       "source file is a symlink that points outside the project folder",
                                       "Keep source files inside the project; copy the file instead of linking it."))
            continue
        if not source.path.is_file():
            diagnostics.append(finding("TF401", source.relpath, 1, 1, "source file is a symlink to a file that does not exist",
                                       "Remove the broken link, or restore the file it points to."))
            continue
        stamp = file_stamp(source.path) if source.kind.name == "logbook_entry" else None
        document, findings = load_yaml_source(source.path, source.relpath)
        diagnostics.extend(findings)
        if stamp is not None and document is not None:
            remember_content(source.path, stamp, document.data)
        if document is not None:
            loaded.append((source, document))
    return loaded


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

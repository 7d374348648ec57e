"""The build manifest: sha256 and size of every source, evidence and output file, and the tool versions.

Sources are the files techfile reads to make the documents: the YAML sources (frameworks and lineage included),
the files they name (prose, the logo), and the project's templates. Evidence is the files the evidence records name.
Nothing else in the project folder is listed or read."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from techfile.documents.base import BuildInfo, Document
from techfile.validation.files import resolve_inside, sha256_of

if TYPE_CHECKING:
    from techfile.assess.grades import Assessment
    from techfile.project import Project

MANIFEST_VERSION = 2
SKIPPED_DIRS = {".git", ".venv", "__pycache__", ".techfile"}
TEMPLATES_DIR = "templates"


def file_entries(root: Path, skip: set[Path] | None = None) -> list[dict[str, Any]]:
    """path (relative, posix), sha256 and bytes of each file under `root`, sorted by path."""
    skip = {p.resolve() for p in (skip or set())}
    entries = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        if not path.is_file() or path.is_symlink() or any(path.resolve().is_relative_to(s) for s in skip):
            continue
        entries.append({"path": relative.as_posix(), "sha256": sha256_of(path), "bytes": path.stat().st_size})
    return entries


def project_path(root: Path, reference: str) -> str | None:
    """The project-relative posix path of the file `reference` names, or None if it names none inside the project."""
    resolved, _, _ = resolve_inside(root, reference)
    if resolved is None:
        return None
    return resolved.relative_to(root.resolve()).as_posix()


def template_files(root: Path) -> list[str]:
    """The files under the project's templates/ folder that stay inside the project (hidden files left out)."""
    folder = root / TEMPLATES_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        inside = project_path(root, relative.as_posix())
        if inside is not None:
            found.append(inside)
    return found


def evidence_files(project: Project) -> list[str]:
    """The files the evidence records name: each record's file and, where it has one, its signature file."""
    return [path for item in project.evidence for path in (item.file, item.signature) if path]


def source_and_evidence_paths(root: Path, source_files: Iterable[str], referenced: Iterable[str],
                              evidence: Iterable[str]) -> tuple[list[str], list[str]]:
    """(sources, evidence) as sorted project-relative paths: the YAML sources, the files they name and the templates;
    and the evidence files. A file that is both is listed as evidence only."""
    evidence_paths = {p for p in (project_path(root, e) for e in evidence) if p is not None}
    sources = {p for p in (project_path(root, s) for s in (*source_files, *referenced)) if p is not None}
    sources |= set(template_files(root))
    return sorted(sources - evidence_paths), sorted(evidence_paths)


def hashed(root: Path, paths: Iterable[str]) -> list[dict[str, Any]]:
    """path, sha256 and bytes of each project file in `paths` (read in blocks, whatever their size)."""
    return [{"path": path, "sha256": sha256_of(root / path), "bytes": (root / path).stat().st_size} for path in paths]


def tool_versions(pandoc_version: str | None) -> dict[str, str]:
    """The versions of every tool that shaped the outputs."""
    versions = {"pandoc": pandoc_version or "not used"}
    for package in ("techfile", "typst", "mkdocs", "mkdocs-material", "Jinja2", "PyYAML", "jsonschema", "openpyxl"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


def assessment_record(assessment: Assessment, documents: list[Document]) -> dict[str, Any]:
    """The assessment as the manifest records it: each framework's sentence and counts, every item's grade, and each
    document's status and gaps — the same facts the documents show."""
    from techfile.assess.grades import GRADES, NOT_APPLICABLE

    return {
        "date": assessment.date,
        "frameworks": [{"id": g.framework.id, "summary": g.summary,
                        "counts": {grade: g.count(grade) for grade in (*reversed(GRADES), NOT_APPLICABLE)},
                        "grades": {i.id: i.grade for i in g.items}} for g in assessment.frameworks],
        "documents": {d.id: {"status": d.status, "gaps": [gap.message for gap in d.gaps]} for d in documents if d.in_pdf},
    }


def write_manifest(path: Path, project_root: Path, out_tree: Path, build: BuildInfo, pandoc_version: str | None,
                   project_id: str, pdf_inputs: dict[str, str], sources: list[str], evidence: list[str],
                   assessment: dict[str, Any] | None = None, signed_pdfs: dict[str, dict[str, str]] | None = None,
                   docx_inputs: dict[str, str] | None = None, xlsx_inputs: dict[str, str] | None = None) -> None:
    """Write manifest.json: the sources and evidence files (project-relative paths), everything in `out_tree` (but
    the manifest), each PDF's, DOCX's and XLSX's input digest, which lets the next build reuse an edition whose inputs did not
    change, the assessment, and the signed PDFs."""
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "project": project_id,
        "build_date": build.date,
        "source_date_epoch": build.epoch,
        "git": {"commit": build.commit, "uncommitted_changes": build.dirty},
        "tools": tool_versions(pandoc_version),
        "sources": hashed(project_root, sources),
        "evidence": hashed(project_root, evidence),
        "outputs": [e for e in file_entries(out_tree) if e["path"] != path.name],
        "pdf_inputs": dict(sorted(pdf_inputs.items())),
        "docx_inputs": dict(sorted((docx_inputs or {}).items())),
        "xlsx_inputs": dict(sorted((xlsx_inputs or {}).items())),
        "assessment": assessment or {},
    }
    if signed_pdfs:
        manifest["signed_pdfs"] = dict(sorted(signed_pdfs.items()))
        manifest["tools"]["pyHanko"] = metadata.version("pyHanko")
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")

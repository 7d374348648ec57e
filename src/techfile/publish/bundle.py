"""The submission bundle: one deterministic zip of the PDFs, the evidence, the sources, the manifest and their
SHA256SUMS, and the check that a received bundle is still exactly what was built."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import zipfile

    from techfile.documents.base import Document
    from techfile.project import Project

SUMS_NAME = "SHA256SUMS"
MANIFEST_NAME = "manifest.json"
INDEX_NAME = "index.md"
REQUIRED_NAMES = (MANIFEST_NAME, INDEX_NAME, SUMS_NAME)
COMPRESS_LEVEL = 9
FILE_MODE = 0o100644
ZIP_EPOCH_MIN = (1980, 1, 1, 0, 0, 0)
ZIP_EPOCH_MAX = (2107, 12, 31, 23, 59, 58)
TEXT_LIMIT = 64 << 20  # manifest.json and SHA256SUMS are read whole; anything larger is not ours
_UNLISTABLE = set("\n\r\\")


class BundleError(Exception):
    """The bundle cannot be made or read: the message says which file and why."""


@dataclass(frozen=True)
class BundleResult:
    """What `make_bundle` wrote."""

    zip_path: Path
    entries: tuple[str, ...]
    sha256: str
    bytes: int
    documents: tuple[str, ...]
    evidence: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.entries)


@dataclass
class VerifyResult:
    """What `verify_bundle` found: `ok` when every file matches SHA256SUMS and the manifest."""

    zip_path: Path
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- making -----------------------------------------------------------------------------------


def make_bundle(project_dir: str | Path, zip_path: str | Path, build_dir: str | Path | None = None) -> BundleResult:
    """Build the project's PDFs (into `build_dir`, else a temporary folder) and write the submission zip atomically.

    Raises BuildFindings / BuildFailure from the build, BundleError for everything about the bundle itself."""
    from techfile.publish.build import build

    root = Path(project_dir)
    target = Path(zip_path)
    if target.is_dir():
        raise BundleError(f"{target.as_posix()} is a folder; give the path of the .zip file to write")
    with tempfile.TemporaryDirectory(prefix="techfile-bundle-") as scratch:
        out = Path(build_dir) if build_dir is not None else Path(scratch) / "build"
        result = build(root, out, site=False, pdf=True)
        project = _load_built_project(root)
        manifest_bytes = (result.out / MANIFEST_NAME).read_bytes()
        manifest = json.loads(manifest_bytes)
        pdfs = [d for d in result.documents if d.in_pdf]
        files: dict[str, bytes] = {MANIFEST_NAME: manifest_bytes}
        for document in pdfs:
            files[f"pdf/{document.id}.pdf"] = (result.out / "pdf" / f"{document.id}.pdf").read_bytes()
        listed = {e["path"]: e["sha256"] for e in manifest["sources"]}
        evidence = _evidence_files(project, listed)
        files.update({f"evidence/{path}": data for path, data in evidence.items()})
        files.update({f"sources/{path}": data for path, data in _source_files(root, manifest, target).items()})
        files[INDEX_NAME] = index_markdown(project, manifest, pdfs).encode("utf-8")
        files[SUMS_NAME] = sha256sums(files).encode("utf-8")
        written = _write_zip(target, files, int(manifest["source_date_epoch"]))
    return BundleResult(target, tuple(sorted(files)), written[0], written[1], tuple(d.id for d in pdfs),
                        tuple(sorted(evidence)))


def _load_built_project(root: Path) -> Project:
    from techfile.loading import load_project

    loaded = load_project(root)
    if loaded.errors:
        raise BundleError(f"the sources changed while the bundle was built: {loaded.errors[0].message}; run it again")
    return loaded.project


def _evidence_files(project: Project, manifest_sources: dict[str, str]) -> dict[str, bytes]:
    """Project-relative path → content of every file an evidence record names, checked against the manifest."""
    from techfile.validation.files import resolve_inside

    files: dict[str, bytes] = {}
    for item in project.evidence:
        if item.file is None:
            continue
        resolved, _, reason = resolve_inside(project.root, item.file)
        if resolved is None:
            raise BundleError(f"evidence {item.id}: {reason}")
        relative = _as_written(item.file)
        data = resolved.read_bytes()
        expected = manifest_sources.get(relative)
        if expected is not None and hashlib.sha256(data).hexdigest() != expected:
            raise BundleError(f"evidence file {relative!r} changed while the bundle was built; run it again")
        files[relative] = data
    return files


def _source_files(root: Path, manifest: dict[str, Any], target: Path) -> dict[str, bytes]:
    """The manifest's sources, minus the project's build folder and the bundle itself, each checked against its hash."""
    target_resolved = target.resolve()
    files: dict[str, bytes] = {}
    for entry in manifest["sources"]:
        path = PurePosixPath(entry["path"])
        if path.parts[0] == "build" or (root / path).resolve() == target_resolved:
            continue
        try:
            data = (root / path).read_bytes()
        except OSError as err:
            raise BundleError(f"source {path.as_posix()!r} cannot be read: {err.strerror}") from None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise BundleError(f"source {path.as_posix()!r} changed while the bundle was built; run it again")
        files[path.as_posix()] = data
    return files


def index_markdown(project: Project, manifest: dict[str, Any], documents: list[Document]) -> str:
    """index.md: what the bundle is, from which commit, and one line per document and evidence item."""
    from techfile.documents.markdown import cell, inline

    assert project.settings is not None and project.system is not None
    git = manifest.get("git") or {}
    commit = git.get("commit") or "not in git"
    if git.get("commit") and git.get("uncommitted_changes"):
        commit += " (with uncommitted changes)"
    lines = [
        f"# Submission bundle: {inline(project.settings.title)}",
        "",
        f"- Project: {inline(project.settings.id)}",
        f"- Provider: {inline(project.settings.provider.name)}",
        f"- System: {inline(project.system.name)} {inline(project.system.version)}",
        f"- Document version: {inline(project.settings.document_control.version)}",
        f"- Build date: {manifest['build_date']}",
        f"- Git commit: {commit}",
        f"- techfile: {inline(manifest.get('tools', {}).get('techfile', 'unknown'))}",
        "",
        "## Documents",
        "",
        "| Document | Title | File |",
        "|---|---|---|",
    ]
    lines += [f"| {cell(d.id)} | {cell(d.title)} | pdf/{cell(d.id)}.pdf |" for d in documents]
    lines += ["", "## Evidence", "", "| Evidence | Title | Type | Collected | sha256 | File |", "|---|---|---|---|---|---|"]
    for item in project.evidence:
        where = f"evidence/{_as_written(item.file)}" if item.file else item.url
        lines.append(f"| {cell(item.id)} | {cell(item.title)} | {cell(item.type)} | {cell(item.collected)} "
                     f"| {cell(item.sha256)} | {cell(where)} |")
    lines += ["", "## Checking this bundle", "",
              f"Unzip it and run `sha256sum -c {SUMS_NAME}`, or run `techfile verify` on the zip.",
              f"`{MANIFEST_NAME}` records the sha256 of every source and output of the build; "
              "`sources/` holds the files the documents were built from.", ""]
    return "\n".join(lines)


def _as_written(reference: str) -> str:
    """A project-relative path as the sources write it, in posix form ("./a//b" → "a/b")."""
    import posixpath

    return posixpath.normpath(reference.replace("\\", "/"))


def sha256sums(files: dict[str, bytes]) -> str:
    """SHA256SUMS in `sha256sum -c` format: every file but SHA256SUMS itself, sorted by path."""
    lines = []
    for name in sorted(files):
        if name == SUMS_NAME:
            continue
        if _UNLISTABLE & set(name):
            raise BundleError(f"file name {name!r} has a line break or backslash and cannot be listed in {SUMS_NAME}")
        lines.append(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n")
    return "".join(lines)


def _zip_date_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    import datetime as dt

    stamp = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    moment = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    return min(max(moment, ZIP_EPOCH_MIN), ZIP_EPOCH_MAX)


def _write_zip(target: Path, files: dict[str, bytes], epoch: int) -> tuple[str, int]:
    """Write `files` as a deterministic zip to a temporary file beside `target`, then swap it in; (sha256, bytes)."""
    import zipfile

    date_time = _zip_date_time(epoch)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    except OSError as err:
        raise BundleError(f"cannot write {target.as_posix()}: {err.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            with zipfile.ZipFile(stream, "w") as archive:
                for name in sorted(files):
                    info = zipfile.ZipInfo(name, date_time)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.create_system = 3
                    info.external_attr = FILE_MODE << 16
                    archive.writestr(info, files[name], compresslevel=COMPRESS_LEVEL)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise BundleError(f"cannot write {target.as_posix()}: {err.strerror}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    data = target.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


# --- verifying --------------------------------------------------------------------------------


def verify_bundle(zip_path: str | Path) -> VerifyResult:
    """Check every file in the bundle against SHA256SUMS, and the PDFs, evidence and sources against the manifest.

    Raises BundleError when the file is missing, unreadable or not a zip."""
    import zipfile

    path = Path(zip_path)
    result = VerifyResult(path)
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleError(f"{path.as_posix()}: no such file") from None
    except IsADirectoryError:
        raise BundleError(f"{path.as_posix()}: is a folder, not a zip file") from None
    except OSError as err:
        raise BundleError(f"{path.as_posix()}: cannot be read: {err.strerror}") from None
    except (zipfile.BadZipFile, ValueError, EOFError) as err:
        raise BundleError(f"{path.as_posix()}: not a zip file, or a damaged one ({err})") from None
    with archive:
        _check_bundle(archive, result)
    return result


def _check_bundle(archive: zipfile.ZipFile, result: VerifyResult) -> None:
    problems = result.problems
    names = [n for n in archive.namelist() if not n.endswith("/")]
    problems += [f"{name}: appears {count} times in the bundle" for name, count in sorted(Counter(names).items())
                 if count > 1]
    present = set(names)
    actual = {name: _entry_sha256(archive, name, problems) for name in sorted(present)}
    result.checked = len(actual)

    listed = _read_sums(archive, problems) if SUMS_NAME in present else {}
    problems += [f"{name}: missing from the bundle" for name in REQUIRED_NAMES
                 if name not in present and name not in listed]
    for name, expected in sorted(listed.items()):
        if name not in present:
            problems.append(f"{name}: listed in {SUMS_NAME} but missing from the bundle")
        elif actual[name] is not None and actual[name] != expected:
            problems.append(f"{name}: sha256 is {actual[name]}, {SUMS_NAME} says {expected}")
    if SUMS_NAME in present:
        problems += [f"{name}: in the bundle but not listed in {SUMS_NAME}" for name in sorted(present - set(listed))
                     if name != SUMS_NAME]

    manifest = _read_manifest(archive, problems) if MANIFEST_NAME in present else None
    if manifest is not None:
        _check_against_manifest(manifest, present | set(listed), actual, problems)


def _entry_sha256(archive: zipfile.ZipFile, name: str, problems: list[str]) -> str | None:
    import zipfile
    import zlib

    digest = hashlib.sha256()
    try:
        with archive.open(name) as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) as err:
        problems.append(f"{name}: cannot be read from the bundle ({err})")
        return None
    return digest.hexdigest()


def _read_text(archive: zipfile.ZipFile, name: str, problems: list[str]) -> str | None:
    import zipfile
    import zlib

    try:
        with archive.open(name) as stream:
            data = stream.read(TEXT_LIMIT + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError):
        return None  # already reported by _entry_sha256
    if len(data) > TEXT_LIMIT:
        problems.append(f"{name}: larger than {TEXT_LIMIT >> 20} MiB; not a techfile {name}")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"{name}: not UTF-8 text")
        return None


def _read_sums(archive: zipfile.ZipFile, problems: list[str]) -> dict[str, str]:
    """Path → sha256 from SHA256SUMS (`<hex>  <path>` or `<hex> *<path>`); malformed lines are problems."""
    import re

    text = _read_text(archive, SUMS_NAME, problems)
    if text is None:
        return {}
    listed: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line)
        if match is None:
            problems.append(f"{SUMS_NAME}: line {number} is not '<sha256>  <path>'")
            continue
        name = match.group(2)
        if name in listed:
            problems.append(f"{SUMS_NAME}: {name} is listed twice")
        listed[name] = match.group(1).lower()
    return listed


def _read_manifest(archive: zipfile.ZipFile, problems: list[str]) -> dict[str, Any] | None:
    text = _read_text(archive, MANIFEST_NAME, problems)
    if text is None:
        return None
    try:
        manifest = json.loads(text)
        outputs = {e["path"]: e["sha256"] for e in manifest["outputs"]}
        sources = {e["path"]: e["sha256"] for e in manifest["sources"]}
    except (ValueError, TypeError, KeyError):
        problems.append(f"{MANIFEST_NAME}: not a techfile build manifest")
        return None
    return {"outputs": outputs, "sources": sources}


def _check_against_manifest(manifest: dict[str, dict[str, str]], known: set[str], actual: dict[str, str | None],
                            problems: list[str]) -> None:
    """pdf/ entries against the manifest's outputs, evidence/ and sources/ entries against its sources; PDFs the
    manifest lists must be in the bundle (`known`: present or already reported missing)."""
    for name in sorted(actual):
        folder, _, rest = name.partition("/")
        table = {"pdf": manifest["outputs"], "evidence": manifest["sources"], "sources": manifest["sources"]}.get(folder)
        key = name if folder == "pdf" else rest
        if table is None or key not in table or actual[name] is None:
            continue
        if actual[name] != table[key]:
            where = "outputs" if folder == "pdf" else "sources"
            problems.append(f"{name}: sha256 is {actual[name]}, the manifest's {where} say {table[key]}")
    for key in sorted(manifest["outputs"]):
        if key.startswith("pdf/") and key.endswith(".pdf") and key not in known:
            problems.append(f"{key}: in the manifest's outputs but missing from the bundle")

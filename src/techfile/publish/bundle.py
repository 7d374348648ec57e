"""The submission bundle: one deterministic zip of the PDFs, the evidence, the sources, the manifest and their
SHA256SUMS, optionally signed (SHA256SUMS.p7s). `techfile verify` (publish/verify.py) checks a received one.

Every file is streamed into the zip in blocks, so memory stays bounded whatever the size of the evidence; each is
hashed as it is written and must still match the hash the build recorded in the manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import TYPE_CHECKING, Any

from techfile.validation.files import MAX_NAME_BYTES

if TYPE_CHECKING:
    import zipfile

    from techfile.documents.base import Document
    from techfile.project import Project
    from techfile.publish.signing import SigningKey

SUMS_NAME = "SHA256SUMS"
SIGNATURE_NAME = "SHA256SUMS.p7s"
MANIFEST_NAME = "manifest.json"
INDEX_NAME = "index.md"
REQUIRED_NAMES = (MANIFEST_NAME, INDEX_NAME, SUMS_NAME)
FILE_MODE = 0o100644
ZIP_EPOCH_MIN = (1980, 1, 1, 0, 0, 0)
ZIP_EPOCH_MAX = (2107, 12, 31, 23, 59, 58)
BLOCK = 1 << 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_ON_WINDOWS = re.compile(r'[<>:"|?*]')
_DEVICE_NAME = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?", re.IGNORECASE)


class BundleError(Exception):
    """The bundle cannot be made or read: the message says which file and why."""


class UnsafeName(BundleError):
    """A file of the project has a name that cannot go into a bundle safely: the project must rename it."""


@dataclass(frozen=True)
class BundleResult:
    """What `make_bundle` wrote."""

    zip_path: Path
    entries: tuple[str, ...]
    sha256: str
    bytes: int
    documents: tuple[str, ...]
    evidence: tuple[str, ...]
    sums_sha256: str = ""
    signed_by: str | None = None

    @property
    def count(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class Entry:
    """One file of the bundle: streamed from `path`, or held in memory (`data`); `sha256` is what it must hash to."""

    name: str
    sha256: str
    size: int
    path: Path | None = None
    data: bytes | None = None


def in_memory(name: str, data: bytes) -> Entry:
    return Entry(name, hashlib.sha256(data).hexdigest(), len(data), data=data)


# --- names ------------------------------------------------------------------------------------


def unsafe_entry_name(name: str) -> str | None:
    """Why `name` is not safe to extract on every system (it would land outside the folder, be refused by Windows,
    or cannot be listed in SHA256SUMS), or None."""
    if not name:
        return "the name is empty"
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return "the name is absolute"
    control = _CONTROL.search(name)
    if control is not None:
        return f"the name holds the control character U+{ord(control.group()):04X}"
    if "\\" in name:
        return "the name holds a backslash (a folder separator on Windows)"
    for part in name.split("/"):
        if part == "..":
            return "the name climbs out of the folder it is extracted into (..)"
        if part in ("", "."):
            return "the name has an empty or '.' folder part"
        if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
            return f"a part of the name is longer than {MAX_NAME_BYTES} bytes"
        if _NOT_ON_WINDOWS.search(part) or part.endswith((" ", ".")) or _DEVICE_NAME.fullmatch(part):
            return f"Windows cannot create a file named {part!r}"
    return None


def folded(name: str) -> str:
    """The form in which two names are the same file on Windows and macOS (case and Unicode normalisation ignored)."""
    return unicodedata.normalize("NFC", name).casefold()


def check_names(names: Iterable[str]) -> None:
    """Refuse a bundle with a name that is unsafe, or two names that are one file on a case-insensitive system."""
    seen: dict[str, str] = {}
    for name in names:
        reason = unsafe_entry_name(name)
        if reason is not None:
            raise UnsafeName(f"{name!r} cannot go into the bundle: {reason}; rename the file in the project")
        other = seen.setdefault(folded(name), name)
        if other != name:
            raise UnsafeName(f"{other!r} and {name!r} would be one file on Windows and macOS (they differ only in "
                              "case or Unicode form); rename one of them")


# --- making -----------------------------------------------------------------------------------


def make_bundle(project_dir: str | Path, zip_path: str | Path, build_dir: str | Path | None = None,
                signer: SigningKey | None = None) -> BundleResult:
    """Build the project's PDFs (into `build_dir`, else a temporary folder) and write the submission zip atomically;
    with `signer` (from `signing.load_signing_key`), add SHA256SUMS.p7s, a detached CMS signature of SHA256SUMS.

    Raises BuildFindings / BuildFailure from the build, BundleError for everything about the bundle itself."""
    from techfile.publish.build import build

    root = Path(project_dir)
    target = Path(zip_path)
    if target.is_dir():
        raise BundleError(f"{target.as_posix()} is a folder; give the path of the .zip file to write")
    with tempfile.TemporaryDirectory(prefix="techfile-bundle-") as scratch:
        out = Path(build_dir) if build_dir is not None else Path(scratch) / "build"
        result = build(root, out, site=False, pdf=True, docx=False, xlsx=False)  # the bundle holds the PDFs
        project = _load_built_project(root)
        manifest_bytes = (result.out / MANIFEST_NAME).read_bytes()
        manifest = json.loads(manifest_bytes)
        pdfs = [d for d in result.documents if d.in_pdf]
        entries = [in_memory(MANIFEST_NAME, manifest_bytes), *_build_entries(root, result.out, manifest, pdfs)]
        entries.append(in_memory(INDEX_NAME, index_markdown(project, manifest, pdfs).encode("utf-8")))
        check_names(e.name for e in entries)
        _refuse_overwriting_an_input(target, entries)
        sums = sha256sums(entries).encode("utf-8")
        entries.append(in_memory(SUMS_NAME, sums))
        if signer is not None:
            from techfile.publish.signature import sign

            signing_time = dt.datetime.fromtimestamp(int(manifest["source_date_epoch"]), tz=dt.UTC)
            entries.append(in_memory(SIGNATURE_NAME, sign(signer, sums, signing_time)))
        written = _write_zip(target, entries, int(manifest["source_date_epoch"]))
    return BundleResult(target, tuple(sorted(e.name for e in entries)), written[0], written[1], tuple(d.id for d in pdfs),
                        tuple(e["path"] for e in manifest["evidence"]), hashlib.sha256(sums).hexdigest(),
                        signer.subject if signer is not None else None)


def _build_entries(root: Path, out: Path, manifest: dict[str, Any], pdfs: list[Document]) -> list[Entry]:
    """The PDFs, the evidence files and the sources, each once, with the size and sha256 the manifest records."""
    outputs = {e["path"]: e for e in manifest["outputs"]}
    entries = []
    for document in pdfs:
        recorded = outputs[f"pdf/{document.id}.pdf"]
        entries.append(Entry(recorded["path"], recorded["sha256"], recorded["bytes"], out / recorded["path"]))
    for folder in ("evidence", "sources"):
        entries += [Entry(f"{folder}/{e['path']}", e["sha256"], e["bytes"], root / e["path"]) for e in manifest[folder]]
    return entries


def _refuse_overwriting_an_input(target: Path, entries: list[Entry]) -> None:
    resolved = target.resolve()
    for entry in entries:
        if entry.path is not None and entry.path.resolve() == resolved:
            raise BundleError(f"the bundle would replace {entry.name.partition('/')[2]!r}, which goes into it; "
                              "write it elsewhere with --out")


def _load_built_project(root: Path) -> Project:
    from techfile.loading import load_project

    loaded = load_project(root)
    if loaded.errors:
        raise BundleError(f"the sources changed while the bundle was built: {loaded.errors[0].message}; run it again")
    return loaded.project


def index_markdown(project: Project, manifest: dict[str, Any], documents: list[Document]) -> str:
    """index.md: what the bundle is, from which commit, and one line per document and evidence item."""
    from techfile.documents.markdown import cell, inline
    from techfile.publish.manifest import project_path

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
        inside = project_path(project.root, item.file) if item.file else None
        where = f"evidence/{inside}" if inside else f"{item.file} (missing: not in the bundle)" if item.file else item.url
        lines.append(f"| {cell(item.id)} | {cell(item.title)} | {cell(item.type)} | {cell(item.collected)} "
                     f"| {cell(item.sha256)} | {cell(where)} |")
    lines += ["", "## Checking this bundle", "",
              f"Unzip it and run `sha256sum -c {SUMS_NAME}`, or run `techfile verify` on the zip.",
              f"`{MANIFEST_NAME}` records the sha256 of every source, evidence file and output of the build; "
              "`sources/` holds the files the documents were built from, `evidence/` the evidence files.",
              f"If the bundle holds `{SIGNATURE_NAME}`, a CMS signature of `{SUMS_NAME}`, check it against the "
              "sender's certificate with `techfile verify --expect-cert CERT`; or compare the sha256 of "
              f"`{SUMS_NAME}` with the one the sender published (`techfile verify --expect-sums SHA256`).", ""]
    return "\n".join(lines)


def sha256sums(entries: Iterable[Entry]) -> str:
    """SHA256SUMS in `sha256sum -c` format: every entry but SHA256SUMS and its signature, sorted by name."""
    lines = []
    for entry in sorted(entries, key=lambda e: e.name):
        if entry.name in (SUMS_NAME, SIGNATURE_NAME):
            continue
        if unsafe_entry_name(entry.name) is not None:
            raise BundleError(f"file name {entry.name!r} cannot be listed in {SUMS_NAME}")
        lines.append(f"{entry.sha256}  {entry.name}\n")
    return "".join(lines)


def _zip_date_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    stamp = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    moment = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    return min(max(moment, ZIP_EPOCH_MIN), ZIP_EPOCH_MAX)


def _write_zip(target: Path, entries: list[Entry], epoch: int) -> tuple[str, int]:
    """Write the entries as a deterministic zip to a temporary file beside `target`, then swap it in; (sha256, bytes).
    One process at a time writes a given target; what a killed one left beside it is removed first."""
    import zipfile

    from techfile.publish.output import STAGING_TAG, OutputBusy, output_lock, remove_leftovers

    date_time = _zip_date_time(epoch)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with output_lock(target):
            remove_leftovers(target)
            handle, temporary = tempfile.mkstemp(prefix=f".{target.name}{STAGING_TAG}", dir=target.parent)
            try:
                with os.fdopen(handle, "wb") as stream:
                    with zipfile.ZipFile(stream, "w") as archive:
                        for entry in sorted(entries, key=lambda e: e.name):
                            _write_entry(archive, entry, date_time)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.chmod(temporary, 0o644)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
    except OutputBusy as busy:
        raise BundleError(str(busy)) from None
    except OSError as err:
        raise BundleError(f"cannot write {target.as_posix()}: {err.strerror or err}") from None
    digest = hashlib.sha256()
    with target.open("rb") as stream:
        for block in iter(lambda: stream.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest(), target.stat().st_size


def _blocks(entry: Entry) -> Iterator[bytes]:
    """The entry's content in blocks of at most BLOCK bytes."""
    if entry.data is not None:
        yield entry.data
        return
    assert entry.path is not None
    try:
        with entry.path.open("rb") as source:
            yield from iter(lambda: source.read(BLOCK), b"")
    except OSError as err:
        raise BundleError(f"{entry.name} cannot be read: {err.strerror or err}") from None


def _write_entry(archive: zipfile.ZipFile, entry: Entry, date_time: tuple[int, int, int, int, int, int]) -> None:
    """Stream one entry into the zip, hashing it on the way; it must hash to what the manifest recorded."""
    import zipfile

    info = zipfile.ZipInfo(entry.name, date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = FILE_MODE << 16
    info.file_size = entry.size  # decides, before writing, whether the entry needs zip64 sizes
    digest = hashlib.sha256()
    try:
        with archive.open(info, "w") as sink:
            for block in _blocks(entry):
                digest.update(block)
                sink.write(block)
    except RuntimeError:  # zipfile: the file grew past the size it had when the build hashed it
        raise BundleError(f"{entry.name} changed while the bundle was built; run it again") from None
    if digest.hexdigest() != entry.sha256:
        raise BundleError(f"{entry.name} changed while the bundle was built; run it again")

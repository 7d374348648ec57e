"""File references stay inside the project, exist, and match their recorded sha256."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from techfile.diagnostics import Diagnostic
from techfile.sources.yaml_source import SourceDocument
from techfile.validation.annotations import annotated_places, find_values

_SHA256 = re.compile(r"[0-9a-f]{64}")


def resolve_inside(root: Path, reference: str) -> tuple[Path | None, str, str]:
    """Resolve a project-relative path; return the path or (None, code, reason)."""
    if PurePosixPath(reference).is_absolute() or PureWindowsPath(reference).is_absolute() or PureWindowsPath(reference).drive:
        return None, "TF402", f"path {reference!r} is absolute"
    if ".." in PurePosixPath(reference.replace("\\", "/")).parts:
        return None, "TF402", f"path {reference!r} leaves the project folder"
    candidate = root / reference
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root.resolve()):
        return None, "TF402", f"path {reference!r} points outside the project folder (through a symlink)"
    if not resolved.exists():
        return None, "TF401", f"file {reference!r} does not exist"
    if not resolved.is_file():
        return None, "TF401", f"{reference!r} is not a file"
    return resolved, "", ""


def check_file_references(kind: str, document: SourceDocument, root: Path) -> list[Diagnostic]:
    """Every annotated file path in `document` names a file inside the project; evidence hashes match."""
    diagnostics: list[Diagnostic] = []
    for place in annotated_places(kind):
        if not place.is_path:
            continue
        for path, value in find_values(document.data, place.pattern):
            if not isinstance(value, str):
                continue
            resolved, code, reason = resolve_inside(root, value)
            if resolved is None:
                hint = ("Paths are relative to the project folder; copy the file into the project."
                        if code == "TF402" else "Check the spelling; paths are relative to the project folder.")
                diagnostics.append(document.finding(code, path, reason, hint))
            elif kind == "evidence" and path == ("file",):
                diagnostics.extend(_check_sha256(document, resolved))
    return diagnostics


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_sha256(document: SourceDocument, file: Path) -> list[Diagnostic]:
    recorded = document.data.get("sha256")
    if not isinstance(recorded, str) or not _SHA256.fullmatch(recorded):
        return []  # a malformed hash is the schema's finding
    actual = sha256_of(file)
    if actual == recorded:
        return []
    return [document.finding("TF403", ("sha256",),
                f"evidence file {document.data['file']!r} no longer matches its recorded sha256",
                f"Recorded {recorded[:12]}…, the file now has {actual}. If it changed on purpose, record the new hash.")]



"""File references stay inside the project, exist, and match their recorded sha256."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from techfile.diagnostics import Diagnostic
from techfile.sources.yaml_source import SourceDocument
from techfile.validation.annotations import annotated_places, find_values

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME_BYTES = 255  # the longest file or folder name that Linux, macOS and Windows file systems all accept


def unusable_path(reference: str) -> str | None:
    """Why `reference` cannot name a file on any file system (a NUL, a control character, an over-long name), or None."""
    control = _CONTROL.search(reference)
    if control is not None:
        what = "a NUL character" if control.group() == "\0" else f"the control character U+{ord(control.group()):04X}"
        return f"path {_shortened(reference)} holds {what}"
    for part in PurePosixPath(reference.replace("\\", "/")).parts:
        if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
            return f"path {_shortened(reference)} has a name longer than {MAX_NAME_BYTES} bytes"
    return None


def _shortened(reference: str) -> str:
    return repr(reference) if len(reference) <= 60 else repr(reference[:40]) + f"… ({len(reference)} characters)"


def resolve_inside(root: Path, reference: str) -> tuple[Path | None, str, str]:
    """Resolve a project-relative path; return the path or (None, code, reason)."""
    unusable = unusable_path(reference)
    if unusable is not None:
        return None, "TF410", unusable
    if PurePosixPath(reference).is_absolute() or PureWindowsPath(reference).is_absolute() or PureWindowsPath(reference).drive:
        return None, "TF402", f"path {reference!r} is absolute"
    if ".." in PurePosixPath(reference.replace("\\", "/")).parts:
        return None, "TF402", f"path {reference!r} leaves the project folder"
    candidate = root / reference
    try:
        resolved = candidate.resolve()
        if not resolved.is_relative_to(root.resolve()):
            return None, "TF402", f"path {reference!r} points outside the project folder (through a symlink)"
        if not resolved.exists():
            return None, "TF401", f"file {reference!r} does not exist"
        if not resolved.is_file():
            return None, "TF401", f"{reference!r} is not a file"
    except (OSError, ValueError) as err:  # a path the operating system refuses (too long in total, a loop of links)
        return None, "TF410", f"path {_shortened(reference)} cannot be used: {getattr(err, 'strerror', None) or err}"
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
                hint = {"TF402": "Paths are relative to the project folder; copy the file into the project.",
                        "TF410": "Rename the file with a shorter name in plain characters, and write that path."}.get(
                            code, "Check the spelling; paths are relative to the project folder.")
                diagnostics.append(document.finding(code, path, reason, hint))
            elif kind == "evidence" and path == ("file",):
                diagnostics.extend(_check_sha256(document, resolved))
            elif kind == "project" and path == ("branding", "logo"):
                diagnostics.extend(_check_logo(document, path, resolved))
    return diagnostics


LOGO_TYPES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def _check_logo(document: SourceDocument, path: tuple[str | int, ...], resolved: Path) -> list[Diagnostic]:
    """The logo is a PNG or JPEG file that decodes (it is printed on every PDF cover)."""
    from techfile.validation.prose import image_problem

    kind = LOGO_TYPES.get(resolved.suffix.lower())
    problem = f"has the extension {resolved.suffix or '(none)'!r}" if kind is None else image_problem(resolved, kind)
    if problem is None:
        return []
    return [document.finding("TF406", path, f"the logo {document.data['branding']['logo']!r} {problem}",
                             "Use a PNG or JPEG file (.png, .jpg) of at most 20 MB.")]


def referenced_files(kind: str, document: SourceDocument) -> list[str]:
    """The file paths `document` names (prose files, evidence files, the logo), as written."""
    return [value for place in annotated_places(kind) if place.is_path
            for _, value in find_values(document.data, place.pattern) if isinstance(value, str)]


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



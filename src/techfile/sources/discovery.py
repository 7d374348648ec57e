"""Find a project's source files by kind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from techfile.sources.kinds import SOURCE_KINDS, SourceKind

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SourceFile:
    """A source file found in the project, with its kind and project-relative path."""

    kind: SourceKind
    path: Path
    relpath: str


def discover_sources(root: Path) -> tuple[list[SourceFile], list[SourceKind]]:
    """Return the project's source files in a stable order, and the required kinds that have no file."""
    found: list[SourceFile] = []
    missing: list[SourceKind] = []
    for kind in SOURCE_KINDS:
        location = root / kind.location
        if kind.folder:
            if location.is_dir():
                files = sorted(p for p in location.iterdir()
                               if p.suffix.lower() in YAML_SUFFIXES and (p.is_file() or p.is_symlink()))
                found.extend(SourceFile(kind, p, p.relative_to(root).as_posix()) for p in files)
        elif location.is_file():
            found.append(SourceFile(kind, location, kind.location))
        elif kind.required:
            missing.append(kind)
    return found, missing

"""Where the files that ship with techfile (schemas, document templates) live, and techfile's own cache folder."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def shipped_dir(name: str) -> Path:
    """The shipped folder `name`: inside the installed package, or at the top of a source checkout."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"techfile installation is incomplete: folder {name!r} not found")


def schemas_dir() -> Path:
    return shipped_dir("schemas")


def doc_templates_dir() -> Path:
    return shipped_dir("doc_templates")


def user_cache_dir(name: str) -> Path | None:
    """Folder `name` of techfile's cache for this user (parsed catalogues, drawn charts): TECHFILE_CACHE_DIR, else
    techfile/ in the user's cache folder; None when TECHFILE_CACHE_DIR is set empty (keep nothing). It lies outside
    every project, so a project cannot bring cache entries of its own."""
    chosen = os.environ.get("TECHFILE_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) / name if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache").as_posix()
    return Path(base) / "techfile" / name

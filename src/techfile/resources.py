"""Where the files that ship with techfile (schemas, document templates) live."""

from __future__ import annotations

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

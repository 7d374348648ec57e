"""techfile: compile an AI system's compliance sources into documents."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["__version__", "load_project"]

if TYPE_CHECKING:
    from techfile.loading import LoadResult


def load_project(path: str) -> LoadResult:
    """Load, validate and resolve a project folder: the typed project and its diagnostics."""
    from techfile.loading import load_project as _load

    return _load(path)

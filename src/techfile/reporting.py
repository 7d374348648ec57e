"""Reporters: the same diagnostics as text for people or JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import PurePath

from techfile.diagnostics import Diagnostic, Severity


def display_path(base: str, relpath: str) -> str:
    """The path as the user can open it from where they ran the command."""
    return PurePath(base, relpath).as_posix() if base not in ("", ".") else relpath


def summary_line(diagnostics: list[Diagnostic], files_checked: int) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    verdict = "ok" if not diagnostics else "failed" if errors else "ok with warnings"
    return f"{verdict}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} in {files_checked} source files"


def report_text(diagnostics: list[Diagnostic], base: str, files_checked: int) -> str:
    lines = []
    for d in diagnostics:
        lines.append(f"{display_path(base, d.path)}:{d.line}:{d.col}: {d.code} {d.severity.value}: {d.message}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    lines.append(summary_line(diagnostics, files_checked))
    return "\n".join(lines)


def report_json(diagnostics: list[Diagnostic], base: str, files_checked: int) -> str:
    items = [dict(d.as_dict(), path=display_path(base, d.path)) for d in diagnostics]
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    payload = {
        "diagnostics": items,
        "summary": {"errors": errors, "warnings": len(diagnostics) - errors, "files": files_checked},
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)


REPORTERS: dict[str, Callable[[list[Diagnostic], str, int], str]] = {"text": report_text, "json": report_json}

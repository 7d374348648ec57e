"""Reporters: the same diagnostics as text for people or JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import PurePath
from typing import TYPE_CHECKING

from techfile.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from techfile.assess.classification import Classification
    from techfile.assess.coverage import FrameworkCoverage


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


def report_classification(outcome: Classification, output_format: str) -> str:
    """The classification as readable steps, or as JSON."""
    if output_format == "json":
        return json.dumps(asdict(outcome) | {"required_documents": outcome.required_documents}, indent=2, ensure_ascii=False)
    lines = [f"EU AI Act risk class: {outcome.risk_class.upper()} (decided by {outcome.deciding_ref})", "", "Reasoning:"]
    for number, step in enumerate(outcome.steps, start=1):
        marker = " <- decides" if step.decisive else ""
        lines += [f"  {number}. {step.question} [{step.ref}]{marker}", f"     {step.answer}"]
    if outcome.conformity_assessment:
        lines += ["", "Conformity assessment:", f"  {outcome.conformity_assessment}"]
    if outcome.obligations:
        lines += ["", "Obligations:"] + [f"  - {o.ref}: {o.what}" for o in outcome.obligations]
    if outcome.required_documents:
        lines += ["", "Documents required: " + ", ".join(outcome.required_documents)]
    if outcome.dates:
        lines += ["", "Applies from:"] + [f"  - {date}: {what}" if date else f"  - note: {what}" for date, what in outcome.dates]
    if outcome.caveats:
        lines += ["", "Caveats:"] + [f"  - {c}" for c in outcome.caveats]
    return "\n".join(lines)


def report_coverage(coverages: list[FrameworkCoverage], output_format: str) -> str:
    """Per framework: counts by status, the percentage covered, and the items missing or partial."""
    summaries = [{
        "framework": c.framework.id, "title": c.framework.title,
        "counts": {status: c.count(status) for status in ("covered", "partial", "missing", "not applicable", "out of scope")},
        "in_scope": c.in_scope, "percent_covered": c.percent_covered,
        "missing": [r.item.id for r in c.items if r.status == "missing"],
        "partial": [r.item.id for r in c.items if r.status == "partial"],
    } for c in coverages]
    if output_format == "json":
        return json.dumps({"frameworks": summaries}, indent=2, ensure_ascii=False)
    lines = []
    for s in summaries:
        counts = s["counts"]
        lines.append(f"{s['framework']}: {s['percent_covered']}% covered — {counts['covered']} covered, {counts['partial']} partial, "
                     f"{counts['missing']} missing of {s['in_scope']} in scope"
                     + (f" ({counts['not applicable']} not applicable)" if counts["not applicable"] else ""))
        if s["missing"]:
            lines.append("  missing: " + ", ".join(s["missing"]))
        if s["partial"]:
            lines.append("  partial: " + ", ".join(s["partial"]))
    return "\n".join(lines) if lines else "no framework in scope"

"""Reporters: the same diagnostics as text for people, or as JSON, SARIF or GitHub workflow commands for tools."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from techfile import __version__
from techfile.diagnostics import Diagnostic, Severity, code_catalogue

if TYPE_CHECKING:
    from techfile.assess.classification import Classification
    from techfile.assess.grades import Assessment


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


def full_message(diagnostic: Diagnostic) -> str:
    """The message with its hint, for formats that have one text field."""
    return f"{diagnostic.message} — {diagnostic.hint}" if diagnostic.hint else diagnostic.message


def artifact_uri(base: str, relpath: str) -> str:
    """The display path as a URI reference: relative paths stay relative, absolute ones become file: URIs."""
    path = PurePath(display_path(base, relpath))
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def rule_name(meaning: str) -> str:
    """A SARIF rule name from a code's meaning: its first clause in PascalCase, e.g. `SameKeyAppearsTwiceInOneMapping`."""
    clause = re.sub(r"\([^)]*\)", "", meaning).split(":")[0]
    words = re.findall(r"[A-Za-z0-9]+", clause.replace("'", ""))
    if len(words) > 1 and words[0].lower() in ("a", "an", "the"):
        words = words[1:]
    return "".join(word[:1].upper() + word[1:] for word in words)


def sarif_rule(code: str) -> dict[str, Any]:
    """The SARIF reportingDescriptor of one diagnostic code, from the code catalogue."""
    entry = code_catalogue().get(code)
    if entry is None:
        return {"id": code}
    return {
        "id": code,
        "name": rule_name(entry["meaning"]),
        "shortDescription": {"text": entry["meaning"]},
        "help": {"text": entry["fix"]},
        "defaultConfiguration": {"level": Severity(entry["severity"]).value},
    }


def sarif_result(diagnostic: Diagnostic, base: str, rule_index: int) -> dict[str, Any]:
    """One SARIF result: rule, level, message and where."""
    location: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(base, diagnostic.path)}}
    if diagnostic.line >= 1:
        location["region"] = {"startLine": diagnostic.line} | ({"startColumn": diagnostic.col} if diagnostic.col >= 1 else {})
    return {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": diagnostic.severity.value,
        "message": {"text": full_message(diagnostic)},
        "locations": [{"physicalLocation": location}],
    }


def report_sarif(diagnostics: list[Diagnostic], base: str, files_checked: int) -> str:
    """SARIF 2.1.0 for code scanning: one run, a rule per code that occurs, a result per diagnostic in order."""
    codes = sorted({d.code for d in diagnostics})
    rule_index = {code: index for index, code in enumerate(codes)}
    run = {
        "tool": {"driver": {"name": "techfile", "version": __version__, "rules": [sarif_rule(code) for code in codes]}},
        "columnKind": "unicodeCodePoints",
        "results": [sarif_result(d, base, rule_index[d.code]) for d in diagnostics],
    }
    return json.dumps({"version": "2.1.0", "runs": [run]}, indent=2, ensure_ascii=False)


def escape_workflow_data(text: str) -> str:
    """Escape a workflow command's message as the GitHub Actions runner reads it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_workflow_property(text: str) -> str:
    """Escape a workflow command's property value (`file=`, `title=`): the data escapes plus `:` and `,`."""
    return escape_workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def report_github(diagnostics: list[Diagnostic], base: str, files_checked: int) -> str:
    """GitHub Actions workflow commands: one `::error` or `::warning` annotation per diagnostic, then the summary."""
    lines = []
    for d in diagnostics:
        properties = {"file": display_path(base, d.path), "line": d.line, "col": d.col, "title": d.code}
        shown = ",".join(f"{key}={escape_workflow_property(str(value))}" for key, value in properties.items()
                         if value not in (0, ""))
        lines.append(f"::{d.severity.value} {shown}::{escape_workflow_data(full_message(d))}")
    lines.append(summary_line(diagnostics, files_checked))
    return "\n".join(lines)


REPORTERS: dict[str, Callable[[list[Diagnostic], str, int], str]] = {
    "text": report_text, "json": report_json, "sarif": report_sarif, "github": report_github,
}


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


def report_coverage(assessment: Assessment, output_format: str) -> str:
    """Per framework: the one summary sentence, counts by grade, the items below their gate, and (JSON) every item."""
    from techfile.assess.grades import GRADES, NOT_APPLICABLE

    summaries = [{
        "framework": g.framework.id, "title": g.framework.title, "summary": g.summary,
        "counts": {grade: g.count(grade) for grade in (*reversed(GRADES), NOT_APPLICABLE)},
        "applicable": g.applicable,
        "below_gate": [i.id for i in g.below_gate],
        "items": [{"id": i.id, "ref": i.ref, "grade": i.grade, "gate": i.gate, "reason": i.reason,
                   "controls": list(i.controls), "procedures": list(i.procedures), "evidence": list(i.evidence)}
                  for i in g.items],
    } for g in assessment.frameworks]
    if output_format == "json":
        return json.dumps({"assessed_on": assessment.date, "frameworks": summaries}, indent=2, ensure_ascii=False)
    lines = [f"assessed on {assessment.date}"]
    for s in summaries:
        lines.append(s["summary"])
        if s["below_gate"]:
            lines.append("  below the required grade: " + ", ".join(s["below_gate"]))
        missing = [i["id"] for i in s["items"] if i["grade"] == "missing" and i["id"] not in s["below_gate"]]
        if missing:
            lines.append("  missing: " + ", ".join(missing))
    return "\n".join(lines) if summaries else "no framework in scope"

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
    from techfile.assess.grades import Assessment
    from techfile.assess.obligations import EuAiActReport, Obligation


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


def report_classification(report: EuAiActReport, output_format: str, base: str = ".",
                          annex_iv_gaps: list[tuple[str, str]] | None = None) -> str:
    """The classification as readable steps with the roles and the dated obligations, or as JSON."""
    if output_format == "json":
        return json.dumps(classification_payload(report, base, annex_iv_gaps or []), indent=2, ensure_ascii=False)
    from techfile.frameworks.eu_ai_act import calendar

    outcome = report.classification
    lines = [f"{display_path(base, p.where.path)}:{p.where.line}:{p.where.col}: {p.code} "
             f"{code_catalogue()[p.code]['severity']}: {p.message}\n    hint: {p.hint}" for p in report.problems]
    amending = calendar().acts["reg_2026_1744"]
    lines += ["" if lines else None, f"EU AI Act risk class: {outcome.headline}",  # type: ignore[list-item]
              f"As of {report.as_of}: Regulation (EU) 2024/1689 as amended by {amending['title'].split(' amending')[0]} "
              f"(in force {amending['entry_into_force']}, reported by secondary sources; Official Journal text not read). "
              f"Calendar checked on {report.calendar_verified_on}.", "", "Reasoning:"]
    lines = [line for line in lines if line is not None]
    for number, step in enumerate(outcome.steps, start=1):
        marker = " <- decides" if step.decisive else ""
        lines += [f"  {number}. {step.question} [{step.ref}]{marker}", f"     {step.answer}"]
    lines += ["", "Roles: " + ("; ".join(f"{role} ({basis})" for role, basis in report.roles) or "none stated")]
    if outcome.conformity_assessment:
        lines += ["", "Conformity assessment:", f"  {outcome.conformity_assessment}"]
    heading = f"Obligations on {report.as_of}:" if report.decided else \
        f"Obligations on {report.as_of}, provisional until the facts above are fixed:"
    lines += ["", heading if report.obligations else "Obligations: none for these roles and this class."]
    for heading, group in _obligation_groups(report):
        lines.append(f"  {heading}")
        lines += [f"    - {o.ref} [{o.role}]: {o.what}" + (f" ({o.condition})" if o.condition else "") for o in group]
    if outcome.required_documents:
        lines += ["", "Documents required: " + ", ".join(outcome.required_documents)]
    if report.questions:
        lines += ["", "Questions to answer:"] + [f"  - {q}" for q in report.questions]
    if outcome.caveats:
        lines += ["", "Caveats:"] + [f"  - {c}" for c in outcome.caveats]
    if annex_iv_gaps:
        lines += ["", f"Annex IV gaps (what the class requires and the sources lack; `techfile check` reports them as TF601): "
                      f"{len(annex_iv_gaps)}"] + [f"  - {ref}: add {missing}" for ref, missing in annex_iv_gaps]
    return "\n".join(lines)


def _obligation_groups(report: EuAiActReport) -> list[tuple[str, list[Obligation]]]:
    """Obligations grouped by when they apply and on what basis, earliest first."""
    groups: dict[tuple[str, str], list[Obligation]] = {}
    for obligation in report.obligations:
        groups.setdefault((obligation.applies_from.isoformat() if obligation.applies_from else "9999", _when(obligation)),
                          []).append(obligation)
    return [(heading, group) for (_, heading), group in sorted(groups.items())]


def _when(obligation: Obligation) -> str:
    status = {"applies": "In force since", "applies from": "Applies from", "conditional": "Applies from",
              "deferred": "Deferred (Art. 111(2)), otherwise from"}[obligation.status]
    date = obligation.applies_from.isoformat() if obligation.applies_from else "(no date)"
    basis = obligation.legal_basis + ("; reported by secondary sources, the Official Journal text was not read"
                                      if obligation.reported else "")
    superseded = f"; replaces {obligation.superseded}" if obligation.superseded else ""
    override = f"; {obligation.override}" if obligation.override else ""
    return f"{status} {date} — {basis}{superseded}{override}:"


def classification_payload(report: EuAiActReport, base: str = ".", annex_iv_gaps: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The classification report as plain data, for `classify --format json`."""
    outcome = report.classification
    payload = asdict(outcome)
    payload.pop("problems")
    payload |= {
        "headline": outcome.headline, "decided": outcome.decided, "required_documents": outcome.required_documents,
        "transparency_obligations": outcome.transparency_obligations, "as_of": report.as_of.isoformat(),
        "roles": [{"role": role, "basis": basis} for role, basis in report.roles],
        "obligations": [{**asdict(o), "applies_from": o.applies_from.isoformat() if o.applies_from else None,
                         "items": list(o.items)} for o in report.obligations],
        "problems": [{"code": p.code, "severity": code_catalogue()[p.code]["severity"], "message": p.message, "hint": p.hint,
                      "path": display_path(base, p.where.path), "line": p.where.line, "col": p.where.col}
                     for p in report.problems],
        "questions": report.questions,
        "calendar_verified_on": report.calendar_verified_on.isoformat() if report.calendar_verified_on else None,
        "annex_iv_gaps": [{"ref": ref, "missing": missing} for ref, missing in annex_iv_gaps or []],
    }
    return payload


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

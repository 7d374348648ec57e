"""How `techfile evaluate` reports: a summary with the gate's findings (text), a terminal table (rich), or JSON."""

from __future__ import annotations

import json
from typing import Any

from techfile.assess.fairness import verdict_diagnostic
from techfile.evaluate.run import EvaluatedResult, Evaluation
from techfile.project import Model


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _ci(result: EvaluatedResult) -> str:
    ci = result.verdict.result.ci
    return f"[{ci[0]:.4g}, {ci[1]:.4g}]" if len(ci) == 2 else "—"


def _where(result: EvaluatedResult) -> str:
    location = result.verdict.result.location
    return f"{location.path}:{location.line}" if location.path and location.line else "not written"


def report_text(evaluation: Evaluation, model: Model) -> str:
    """The summary, every finding of the gate as `path:line:col: CODE severity: message`, and the gate's outcome."""
    counts = {action: sum(1 for r in evaluation.results if r.action == action)
              for action in ("added", "replaced", "unchanged", "conflict", "not written")}
    lines = [f"evaluated model {evaluation.model!r} on {evaluation.dataset}: {evaluation.rows} rows of {evaluation.predictions} "
             f"(sha256 {evaluation.predictions_sha256[:12]}…), {len(evaluation.results)} results",
             "  " + ", ".join(f"{n} {action}" for action, n in counts.items() if n or action in ("added", "conflict"))]
    if evaluation.entry_id:
        verb = "appended to the logbook, chained" if evaluation.entry_written else "already in the logbook"
        lines.append(f"  logbook entry {evaluation.entry_id}: {verb}")
    if evaluation.evidence_id:
        lines.append(f"  predictions kept as evidence {evaluation.evidence_id}")
    for result in evaluation.conflicts:
        lines.append(f"  conflict, kept: {result.verdict.metric.id} ({result.verdict.slice_label}): computed "
                     f"{result.verdict.result.value:g}; {result.note} (replace it with --replace)")
    for note in evaluation.skipped:
        lines.append(f"  not computed: {note}")
    for result in evaluation.results:
        if result.note.startswith("no CI"):
            lines.append(f"  {result.verdict.metric.id} ({result.verdict.slice_label}): {result.note}")
    for result in evaluation.results:
        diagnostic = verdict_diagnostic(model, result.verdict)
        if diagnostic is None:
            continue
        path = diagnostic.path or evaluation.predictions
        lines.append(f"{path}:{diagnostic.line}:{diagnostic.col}: {diagnostic.code} {diagnostic.severity.value}: {diagnostic.message}")
        if diagnostic.hint:
            lines.append(f"    hint: {diagnostic.hint}")
    failed = sum(1 for r in evaluation.results if r.verdict.blocking)
    inconclusive = sum(1 for r in evaluation.results if r.verdict.inconclusive)
    lines.append(f"gate: {'passed' if evaluation.passed else 'FAILED'} ({failed} blocking, {inconclusive} inconclusive, "
                 f"{sum(1 for r in evaluation.results if r.verdict.passed)} pass)")
    return "\n".join(lines)


def report_table(evaluation: Evaluation) -> str:
    """Every result as a terminal table: metric, slice, n, value, CI, threshold, gate, verdict, where it is written."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{evaluation.model} on {evaluation.dataset} ({evaluation.rows} rows)", title_justify="left")
    for column, justify in (("Metric", "left"), ("Slice", "left"), ("n", "right"), ("Value", "right"), ("CI", "left"),
                            ("Threshold", "left"), ("Gate", "left"), ("Verdict", "left"), ("Written", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    styles = {"pass": "green", "FAIL": "bold red", "inconclusive": "yellow"}
    for result in evaluation.results:
        verdict = result.verdict
        outcome = verdict.outcome
        table.add_row(verdict.metric.id, verdict.slice_label, str(verdict.result.n), _number(verdict.result.value), _ci(result),
                      str(verdict.limit) if verdict.limit else "—", verdict.metric.gate,
                      f"[{styles[outcome]}]{outcome}[/]" if outcome in styles else outcome,
                      result.action + (f", line {result.verdict.result.location.line}"
                                       if result.action != "not written" and result.verdict.result.location.line else ""))
    console = Console(width=160, record=True, force_terminal=False, color_system=None)
    with console.capture() as captured:
        console.print(table)
    return captured.get().rstrip("\n")


def report_json(evaluation: Evaluation) -> str:
    """The evaluation for CI: every result with its verdict, and the gate."""
    document: dict[str, Any] = {
        "model": evaluation.model, "dataset": evaluation.dataset, "predictions": evaluation.predictions,
        "predictions_sha256": evaluation.predictions_sha256, "rows": evaluation.rows, "method": evaluation.method,
        "logbook_entry": evaluation.entry_id, "logbook_entry_written": evaluation.entry_written,
        "model_written": evaluation.model_written, "evidence": evaluation.evidence_id, "passed": evaluation.passed,
        "results": [{
            "metric": r.verdict.metric.id, "slice": r.verdict.result.slice, "scope": r.verdict.scope,
            "value": r.verdict.result.value, "ci": r.verdict.result.ci or None, "n": r.verdict.result.n,
            "threshold": str(r.verdict.limit) if r.verdict.limit else None, "gate": r.verdict.metric.gate,
            "verdict": r.verdict.status or "no threshold", "reason": r.verdict.reason or None, "blocking": r.verdict.blocking,
            "action": r.action, "note": r.note or None,
            "location": _where(r) if r.action != "not written" else None,
        } for r in evaluation.results],
        "not_computed": evaluation.skipped,
    }
    return json.dumps(document, indent=2, ensure_ascii=False)

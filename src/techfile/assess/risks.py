"""Risk-register rules: serious risks are treated and evidenced; residual levels are earned by controls."""

from __future__ import annotations

from techfile.diagnostics import Diagnostic, finding
from techfile.project import Project

LEVELS = ("low", "medium", "high", "critical")


def check_risks(project: Project) -> list[Diagnostic]:
    controls = {c.id: c for c in project.controls}
    findings = []
    for risk in project.risks:
        where = risk.location
        treating = [controls[c] for c in risk.treatment.controls if c in controls]
        inherent, residual = LEVELS.index(risk.inherent_level), LEVELS.index(risk.residual_level)
        if inherent >= LEVELS.index("high"):
            evidence = [e for c in treating for e in c.evidence]
            if not treating or not evidence:
                lacking = "control" if not treating else "evidence item"
                findings.append(finding("TF911", where.path, where.line, where.col,
                                        f"risk {risk.id!r} has inherent level {risk.inherent_level} but no {lacking}",
                                        "A high or critical risk needs at least one treating control with evidence."))
        if residual > inherent:
            findings.append(finding("TF912", where.path, where.line, where.col,
                                    f"risk {risk.id!r}: residual level {risk.residual_level} is above its inherent level {risk.inherent_level}",
                                    "Treatment cannot raise a risk: re-assess the inherent level or the residual one."))
        elif residual < inherent and not treating:
            findings.append(finding("TF913", where.path, where.line, where.col,
                                    f"risk {risk.id!r}: residual level lowered from {risk.inherent_level} to {risk.residual_level} with no control",
                                    "Name the controls that reduce the risk in `treatment.controls`, or keep the residual level."))
    return findings

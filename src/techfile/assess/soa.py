"""The Statement of Applicability (ISO/IEC 42001 6.1.3): every Annex A control decided, each decision justified."""

from __future__ import annotations

from collections import Counter

from techfile.diagnostics import Diagnostic, finding
from techfile.frameworks.registry import builtin_framework
from techfile.project import Project


def check_soa(project: Project) -> list[Diagnostic]:
    assert project.settings is not None
    if "iso-42001" not in project.settings.frameworks:
        return []
    controls = builtin_framework("iso-42001").assessable_items()
    if project.soa is None:
        return [finding("TF901", "soa.yaml", 1, 1, "ISO/IEC 42001 is in scope but the project has no soa.yaml",
                        f"Create soa.yaml with a decision for each of the {len(controls)} Annex A controls.")]
    soa, findings = project.soa, []
    decided = Counter(d.control for d in soa.decisions)
    for control in controls:
        if decided[control.id] == 0:
            findings.append(finding("TF901", soa.location.path, soa.location.line, soa.location.col,
                                    f"Annex A control {control.id} ({control.title}) is missing from the Statement of Applicability",
                                    "Add a decision: applicable or not, with the justification."))
    for decision in soa.decisions:
        where = decision.location
        if decided[decision.control] > 1:
            findings.append(finding("TF904", where.path, where.line, where.col,
                                    f"Annex A control {decision.control} is decided more than once", "Keep one decision per control."))
        if not (decision.justification or "").strip():
            verb = "included" if decision.applicable else "excluded"
            findings.append(finding("TF902", where.path, where.line, where.col,
                                    f"Annex A control {decision.control} is {verb} without a justification",
                                    "Say why the control is needed (or not), e.g. with the risk or requirement behind it."))
        elif decision.applicable and not decision.implemented_by:
            findings.append(finding("TF903", where.path, where.line, where.col,
                                    f"Annex A control {decision.control} is applicable but no control implements it (a gap)",
                                    "List the implementing controls in `implemented_by`, or plan one."))
    return findings

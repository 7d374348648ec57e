"""The Statement of Applicability (ISO/IEC 42001 6.1.3) decides each Annex A control once. Missing decisions and
justifications are gaps of the SoA (assess/gaps.py); the grades come from the controls (assess/grades.py)."""

from __future__ import annotations

from collections import Counter

from techfile.diagnostics import Diagnostic, finding
from techfile.project import Project


def check_soa(project: Project) -> list[Diagnostic]:
    """An Annex A control decided more than once (TF904)."""
    if project.soa is None:
        return []
    decided = Counter(d.control for d in project.soa.decisions)
    return [finding("TF904", d.location.path, d.location.line, d.location.col,
                    f"Annex A control {d.control} is decided more than once", "Keep one decision per control.")
            for d in project.soa.decisions if decided[d.control] > 1]

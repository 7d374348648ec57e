"""Every framework item a source names exists in that framework's catalogue."""

from __future__ import annotations

import difflib

from techfile.diagnostics import Diagnostic, finding
from techfile.frameworks.registry import BUILTIN, PROCEDURE_FIELDS, builtin_framework, claims, custom_framework, procedure_claims
from techfile.project import Location, Project


def check_framework_ids(project: Project) -> list[Diagnostic]:
    """Controls' claims, risks' NIST subcategories, procedures' NIST subcategories and ISO 13485/14971 clauses, SoA
    controls, GSPR checklist requirements, not-applicable clauses of the packs, Art. 5 findings and custom mappings."""
    assert project.settings is not None
    known = {f: builtin_framework(f).ids for f in BUILTIN}
    selected = set(project.settings.frameworks)
    known.update({f.framework.id: custom_framework(f).ids for f in project.frameworks if f.framework.id not in selected})
    findings: list[Diagnostic] = []

    def verify(framework: str, item: str, where: Location, subject: str) -> None:
        if framework not in known:
            findings.append(finding("TF606", where.path, where.line, where.col,
                                    f"{subject} names framework {framework!r}, which is neither built in nor in frameworks/"
                                    + _close(framework, list(known)), "Add its catalogue under frameworks/, or fix the id."))
        elif item not in known[framework]:
            findings.append(finding("TF606", where.path, where.line, where.col,
                                    f"{subject} names {item!r}, which is not an item of {framework}" + _close(item, list(known[framework])),
                                    "Use the id exactly as the framework numbers it."))

    for control in project.controls:
        for framework, items in claims(control).items():
            for item in items:
                verify(framework, item, control.location, f"control {control.id!r}")
    for risk in project.risks:
        for item in risk.nist_ai_rmf:
            verify("nist-ai-rmf", item, risk.location, f"risk {risk.id!r}")
    for procedure in project.procedures:
        for framework, items in procedure_claims(procedure).items():
            where = procedure.field_locations.get(PROCEDURE_FIELDS[framework], procedure.location)
            for item in items:
                verify(framework, item, where, f"procedure {procedure.id!r}")
    if project.soa:
        for decision in project.soa.decisions:
            verify("iso-42001", decision.control, decision.location, "the Statement of Applicability")
    if project.gspr:
        for decision in project.gspr.decisions:
            verify("mdr", decision.requirement, decision.location, "the GSPR checklist")
    if project.system:
        not_applicable_at = project.system.field_locations.get("not_applicable", project.system.location)
        for entry in project.system.not_applicable:
            if entry.framework != "eu-ai-act":
                verify(entry.framework, entry.point, not_applicable_at, "`not_applicable`")
        where = project.system.field_locations.get("classification", project.system.location)
        for item in project.system.classification.prohibited_practices_screening.practices_found:
            verify("eu-ai-act", item, where, "the Art. 5 screening")
    for framework in project.frameworks:
        for mapping in framework.mappings:
            for end in (mapping.from_, mapping.to):
                verify(end.framework, end.item, mapping.location, f"a mapping of {framework.framework.id}")
    return findings


def _close(value: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(value, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""

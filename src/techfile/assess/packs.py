"""The framework packs (mdr, iso-13485, iso-14971) and the GSPR checklist: the findings that need the whole project.
The grades come from assess/grades.py and the checklist's gaps (undecided requirements, exclusions without a
justification) from assess/gaps.py; here are the plain mistakes in using them."""

from __future__ import annotations

from collections import Counter

from techfile.assess.gaps import MDR_DOCUMENTS
from techfile.diagnostics import Diagnostic, finding
from techfile.frameworks.registry import PACKS, PROCEDURE_FIELDS, Framework, builtin_framework, claims, procedure_claims
from techfile.project import Location, Project


def check_packs(project: Project) -> list[Diagnostic]:
    """Duplicate GSPR decisions (TF983), standards the checklist names but system.yaml does not list (TF984), MDR
    documents without `mdr` in scope (TF985), a project framework that takes a selected pack's id (TF986), claims of a
    pack's headings (TF987) and a gspr.yaml that nothing reads (TF988)."""
    assert project.settings is not None
    return (_duplicate_decisions(project) + _unlisted_standards(project) + _documents_without_mdr(project)
            + _clashing_frameworks(project) + _heading_claims(project) + _unread_checklist(project))


def _duplicate_decisions(project: Project) -> list[Diagnostic]:
    if project.gspr is None:
        return []
    decided = Counter(d.requirement for d in project.gspr.decisions)
    return [finding("TF983", d.location.path, d.location.line, d.location.col,
                    f"MDR {d.requirement} is decided more than once in the GSPR checklist",
                    "Keep one decision per requirement; the first one counts.")
            for d in project.gspr.decisions if decided[d.requirement] > 1]


def _unlisted_standards(project: Project) -> list[Diagnostic]:
    """A standard the checklist applies is one the technical documentation lists (system.yaml `standards_applied`)."""
    if project.gspr is None or project.system is None:
        return []
    listed = {s.reference for s in project.system.standards_applied}
    findings = []
    for decision in project.gspr.decisions:
        where = decision.field_locations.get("standards", decision.location)
        for standard in decision.standards:
            if standard not in listed:
                findings.append(finding("TF984", where.path, where.line, where.col,
                                        f"the GSPR checklist applies {standard!r} to {decision.requirement}, but system.yaml "
                                        "`standards_applied` does not list it",
                                        "Write the reference exactly as in system.yaml `standards_applied`, or add the "
                                        "standard there with its kind and extent."))
    return findings


def _documents_without_mdr(project: Project) -> list[Diagnostic]:
    assert project.settings is not None
    if "mdr" in project.settings.frameworks:
        return []
    where = project.settings.field_locations.get("outputs", project.settings.location)
    return [finding("TF985", where.path, where.line, where.col,
                    f"techfile.yaml asks for the {kind} document, but `mdr` is not in `frameworks`",
                    "Add mdr to `frameworks`, or remove the document from `outputs.documents`.")
            for kind in MDR_DOCUMENTS if kind in project.settings.outputs.documents]


def _clashing_frameworks(project: Project) -> list[Diagnostic]:
    assert project.settings is not None
    return [finding("TF986", f.location.path, f.location.line, f.location.col,
                    f"frameworks/ declares {f.framework.id!r}, the id of techfile's framework pack that techfile.yaml "
                    "selects; this catalogue is not used",
                    f"Use the pack: claim its items under `satisfies.{f.framework.id.replace('-', '_')}` and delete this file; "
                    "or give your catalogue another id.")
            for f in project.frameworks if f.framework.id in PACKS and f.framework.id in project.settings.frameworks]


def _heading_claims(project: Project) -> list[Diagnostic]:
    """A claim of a pack item that is not graded (a heading, or an Annex II/III section) counts for nothing."""
    assert project.settings is not None
    found: list[Diagnostic] = []
    own = {f.framework.id for f in project.frameworks} - set(project.settings.frameworks)  # a project's own catalogue

    def check(framework: str, item: str, where: Location, subject: str) -> None:
        if framework in own:
            return
        pack = builtin_framework(framework)
        catalogue_item = pack.item(item)
        if catalogue_item is None or catalogue_item.kind == pack.assessable:
            return
        below = [i.id for i in pack.assessable_items() if _under(pack, i.id, item)]
        hint = (f"Name the {pack.assessable}s it meets instead: {', '.join(below[:4])}{' …' if len(below) > 4 else ''}."
                if below else f"Only {pack.assessable}s are graded; name those it meets.")
        found.append(finding("TF987", where.path, where.line, where.col,
                             f"{subject} names {framework} {item!r}, a {catalogue_item.kind}, which is not graded", hint))

    for control in project.controls:
        for framework, items in claims(control).items():
            for item in items if framework in PACKS else ():
                check(framework, item, control.location, f"control {control.id!r}")
    for procedure in project.procedures:
        for framework, items in procedure_claims(procedure).items():
            where = procedure.field_locations.get(PROCEDURE_FIELDS[framework], procedure.location)
            for item in items if framework in PACKS else ():
                check(framework, item, where, f"procedure {procedure.id!r}")
    return found


def _under(pack: Framework, item_id: str, ancestor: str) -> bool:
    """Whether `item_id` sits below `ancestor` in the pack's tree of parents."""
    current = pack.item(item_id)
    while current is not None and current.parent:
        if current.parent == ancestor:
            return True
        current = pack.item(current.parent)
    return False


def _unread_checklist(project: Project) -> list[Diagnostic]:
    assert project.settings is not None
    if project.gspr is None or "mdr" in project.settings.frameworks:
        return []
    where = project.gspr.location
    return [finding("TF988", where.path, where.line, where.col,
                    "gspr.yaml is not read: `mdr` is not in techfile.yaml `frameworks`",
                    "Add mdr to `frameworks` to grade the GSPR checklist, or remove gspr.yaml.")]

"""The framework packs (mdr, iso-13485, iso-14971, gpai) and the GSPR checklist: the findings that need the whole project.
The grades come from assess/grades.py and the checklist's gaps (undecided requirements, exclusions without a
justification) from assess/gaps.py; here are the plain mistakes in using them."""

from __future__ import annotations

from collections import Counter

from techfile.assess.gaps import MDR_DOCUMENTS
from techfile.diagnostics import Diagnostic, finding
from techfile.frameworks.gpai import GPAI_DOCUMENTS
from techfile.frameworks.registry import (
    PACKS,
    PROCEDURE_FIELDS,
    Framework,
    builtin_framework,
    claims,
    gpai_in_scope,
    procedure_claims,
)
from techfile.project import Location, Project


def check_packs(project: Project) -> list[Diagnostic]:
    """Duplicate GSPR decisions (TF983), standards the checklist names but system.yaml does not list (TF984), MDR
    documents without `mdr` in scope (TF985), a project framework that takes a selected pack's id (TF986), claims of a
    pack's headings (TF987), a gspr.yaml that nothing reads (TF988), GPAI documents without a general-purpose model
    (TF992), a gpai_model.yaml that nothing reads (TF993) and training compute stated twice, differently (TF994)."""
    assert project.settings is not None
    return (_duplicate_decisions(project) + _unlisted_standards(project) + _documents_without_mdr(project)
            + _clashing_frameworks(project) + _heading_claims(project) + _unread_checklist(project)
            + _documents_without_gpai(project) + _unread_gpai_model(project) + _compute_disagrees(project))


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


def _documents_without_gpai(project: Project) -> list[Diagnostic]:
    assert project.settings is not None
    if gpai_in_scope(project):
        return []
    where = project.settings.field_locations.get("outputs", project.settings.location)
    return [finding("TF992", where.path, where.line, where.col,
                    f"techfile.yaml asks for the {kind} document, but the project provides no general-purpose AI model",
                    "State the model in system.yaml `classification.gpai_model` (and the role gpai-model-provider), or "
                    "remove the document from `outputs.documents`.")
            for kind in GPAI_DOCUMENTS if kind in project.settings.outputs.documents]


def _unread_gpai_model(project: Project) -> list[Diagnostic]:
    if project.gpai_model is None or gpai_in_scope(project):
        return []
    where = project.gpai_model.location
    return [finding("TF993", where.path, where.line, where.col,
                    "gpai_model.yaml is not read: system.yaml `classification.gpai_model` does not say the project provides "
                    "a general-purpose AI model",
                    "Add `classification.gpai_model` to system.yaml (with the role gpai-model-provider), or remove gpai_model.yaml.")]


def _compute_disagrees(project: Project) -> list[Diagnostic]:
    """The training compute of Annex XI 2(d) is the figure the systemic-risk presumption is decided on (Art. 51(2))."""
    if project.gpai_model is None or project.system is None or project.system.classification.gpai_model is None:
        return []
    development = project.gpai_model.development
    documented = development.compute.flops if development and development.compute else None
    stated = project.system.classification.gpai_model.training_compute_flops
    try:
        classified = float(stated) if stated is not None else None
    except ValueError:
        return []  # reported by the classification (TF624)
    if documented is None or classified is None or abs(documented - classified) <= 1e-9 * max(documented, classified):
        return []
    assert development is not None and development.compute is not None
    where = development.compute.field_locations.get("flops", project.gpai_model.location)
    return [finding("TF994", where.path, where.line, where.col,
                    f"gpai_model.yaml documents {documented:.3g} FLOPs of training compute, but system.yaml "
                    f"`classification.gpai_model.training_compute_flops` states {classified:.3g}",
                    "State the same figure in both: the classification decides the Art. 51(2) presumption on it.")]

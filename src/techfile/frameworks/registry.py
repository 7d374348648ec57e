"""Every framework in one shape: the built-in catalogues, the EU AI Act, and a project's own frameworks;
which items a control claims; and the crosswalk between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from techfile.frameworks.catalogue import load_catalogue
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import CatalogueItem, Control, CustomFramework, Procedure, Project

# Built-in framework id → (catalogue file, key under a control's `satisfies`), in report order. The last four are
# framework packs: catalogues in the custom-framework format (schemas/framework.schema.json) that ship with techfile.
BUILTIN = {
    "eu-ai-act": ("eu_ai_act", "eu_ai_act"),
    "iso-42001": ("iso_42001", "iso_42001"),
    "nist-ai-rmf": ("nist_ai_rmf", "nist_ai_rmf"),
    "soc2": ("soc2", "soc2"),
    "mdr": ("mdr", "mdr"),
    "iso-13485": ("iso_13485", "iso_13485"),
    "iso-14971": ("iso_14971", "iso_14971"),
    "gpai": ("gpai", "gpai"),
}
PACKS = ("mdr", "iso-13485", "iso-14971", "gpai")
# Pack id → the QMS procedure field that lists its items (procedures describe those items, as controls do).
PROCEDURE_FIELDS = {"nist-ai-rmf": "nist_ai_rmf", "iso-13485": "iso_13485_clauses", "iso-14971": "iso_14971_clauses"}
AUTHORITIES = ("official", "listed", "institutional", "community", "derived")


@dataclass(frozen=True)
class Framework:
    """A framework's items in order; `assessable` names the kind of item that coverage counts."""

    id: str
    title: str
    assessable: str
    items: tuple[CatalogueItem, ...]
    builtin: bool = True

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(item.id for item in self.items)

    def item(self, item_id: str) -> CatalogueItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    def assessable_items(self) -> list[CatalogueItem]:
        return [i for i in self.items if i.kind == self.assessable]


@dataclass(frozen=True)
class CrosswalkLink:
    """One mapping between items of two frameworks, with how far it can be relied on."""

    from_framework: str
    from_item: str
    to_framework: str
    to_item: str
    authority: str
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class Crosswalk:
    links: tuple[CrosswalkLink, ...] = field(default_factory=tuple)

    def hints(self, framework: str, item: str) -> list[CrosswalkLink]:
        """The links that touch an item, oriented away from it."""
        found = []
        for link in self.links:
            if (link.from_framework, link.from_item) == (framework, item):
                found.append(link)
            elif (link.to_framework, link.to_item) == (framework, item):
                found.append(CrosswalkLink(link.to_framework, link.to_item, link.from_framework, link.from_item,
                                           link.authority, link.source, link.note))
        return sorted(set(found), key=lambda link: (AUTHORITIES.index(link.authority), link.to_framework, link.to_item))


@cache
def builtin_framework(framework_id: str) -> Framework:
    """A built-in framework from its catalogue (the EU AI Act from its own richer catalogue)."""
    if framework_id == "eu-ai-act":
        act = eu_ai_act()
        documentable = {i.id for i in act.items.values() if i.documentable}
        items = tuple(CatalogueItem(i.id, "requirement" if i.id in documentable else "provision", i.title, None, i.parent)
                      for i in act.items.values())
        return Framework("eu-ai-act", act.data["regulation"]["title"], "requirement", items)
    data = load_catalogue(BUILTIN[framework_id][0])
    items = tuple(CatalogueItem(str(i["id"]), i["kind"], i["title"], i.get("summary"),
                                str(i["parent"]) if i.get("parent") is not None else None, i.get("category"))
                  for i in data["items"])
    return Framework(framework_id, data["framework"]["title"], data["framework"]["assessable"], items)


def custom_framework(source: CustomFramework) -> Framework:
    info = source.framework
    return Framework(info.id, info.title, info.assessable, tuple(source.items), builtin=False)


def gpai_in_scope(project: Project) -> bool:
    """Whether the project provides a general-purpose AI model: system.yaml `classification.gpai_model` says so, or
    techfile.yaml names the `gpai` pack."""
    assert project.settings is not None
    facts = project.system.classification.gpai_model if project.system else None
    return facts is not None or "gpai" in project.settings.frameworks


def selected_frameworks(project: Project) -> list[str]:
    """The built-in frameworks in scope, in report order: those techfile.yaml names, and `gpai` when the project
    provides a general-purpose AI model."""
    assert project.settings is not None
    return [f for f in BUILTIN if f in project.settings.frameworks or (f == "gpai" and gpai_in_scope(project))]


def project_frameworks(project: Project) -> list[Framework]:
    """The frameworks in scope: the built-ins techfile.yaml names (and `gpai` for a general-purpose model's provider),
    then the project's own (one that takes the id of a selected pack is reported by `check`, TF986, and left out)."""
    assert project.settings is not None
    builtins = [builtin_framework(f) for f in selected_frameworks(project)]
    taken = {f.id for f in builtins}
    return builtins + [custom_framework(f) for f in project.frameworks if f.framework.id not in taken]


def claims(control: Control) -> dict[str, list[str]]:
    """Framework id → the item ids a control claims to satisfy (claims under `custom` with a pack's id count for it)."""
    satisfied = control.satisfies
    found = {framework: list(getattr(satisfied, key)) for framework, (_, key) in BUILTIN.items() if getattr(satisfied, key)}
    for framework, items in satisfied.custom.items():
        if items:
            found[framework] = list(dict.fromkeys(found.get(framework, []) + list(items)))
    return found


def procedure_claims(procedure: Procedure) -> dict[str, list[str]]:
    """Framework id → the item ids a QMS procedure lists (NIST AI RMF subcategories, ISO 13485 and 14971 clauses)."""
    return {framework: list(getattr(procedure, name)) for framework, name in PROCEDURE_FIELDS.items() if getattr(procedure, name)}


@cache
def pack_links(framework_id: str) -> tuple[CrosswalkLink, ...]:
    """The mappings a framework pack's catalogue declares."""
    data = load_catalogue(BUILTIN[framework_id][0])
    return tuple(CrosswalkLink(m["from"]["framework"], str(m["from"]["item"]), m["to"]["framework"], str(m["to"]["item"]),
                               m["authority"], m.get("source", ""), m.get("note", "")) for m in data.get("mappings", []))


@cache
def _builtin_links() -> tuple[CrosswalkLink, ...]:
    data = load_catalogue("crosswalks")
    return tuple(CrosswalkLink(m["from"]["framework"], str(m["from"]["item"]), m["to"]["framework"], str(m["to"]["item"]),
                               m["authority"], m.get("source", "")) for m in data.get("mappings", []))


def project_crosswalk(project: Project) -> Crosswalk:
    """The built-in crosswalk, the mappings of the packs in scope, and those the project's own frameworks declare."""
    assert project.settings is not None
    selected = selected_frameworks(project)
    packs = tuple(link for f in PACKS if f in selected for link in pack_links(f))
    custom = tuple(CrosswalkLink(m.from_.framework, m.from_.item, m.to.framework, m.to.item, m.authority, m.source or "",
                                 m.note or "") for f in project.frameworks for m in f.mappings)
    return Crosswalk(_builtin_links() + packs + custom)

"""The EU database registration data (Annex VIII), point by point and field by field from the sources, for the
registration data sheet and `techfile export eu-database`. Each point takes its grade from the one assessment; a
field the sources do not give is marked missing, never filled in."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from techfile.assess.completeness import fact_source, field_fact
from techfile.assess.grades import MISSING, NOT_APPLICABLE, Assessment, ItemGrade
from techfile.assess.operators import RegistrationDecision, registration_sections
from techfile.frameworks.catalogue import load_catalogue
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Project, Prose

FILLED, MISSING_STATUS, NOT_APPLICABLE_STATUS = "filled", "missing", "not applicable"


@dataclass(frozen=True)
class SheetField:
    """One source fact of a point: where it is written and its value (None when the sources do not give it)."""

    fact: str
    source: str
    value: Any
    prose: bool = False  # the value is Markdown prose of the sources (else plain text)

    @property
    def given(self) -> bool:
        return self.value not in (None, "", [], {})


@dataclass(frozen=True)
class SheetPoint:
    item: ItemGrade
    number: str
    fields: tuple[SheetField, ...]

    @property
    def status(self) -> str:
        if self.item.grade == NOT_APPLICABLE:
            return NOT_APPLICABLE_STATUS
        return MISSING_STATUS if self.item.grade == MISSING else FILLED


@dataclass(frozen=True)
class SheetSection:
    id: str  # "a", "b", "c"
    ref: str
    title: str
    article: str
    applies: bool
    points: tuple[SheetPoint, ...]


@dataclass(frozen=True)
class RegistrationSheet:
    """The registration decision and every section's points (`applies` marks the sections to register)."""

    decision: RegistrationDecision
    sections: tuple[SheetSection, ...]

    @property
    def required_sections(self) -> list[SheetSection]:
        return [s for s in self.sections if s.applies]


def plain(value: Any) -> Any:
    """A source value as plain JSON data: dataclasses as objects (without locations and absent values), prose as text."""
    if isinstance(value, Prose):
        return value.text
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found = {}
        for item in dataclasses.fields(value):
            if item.name in ("location", "field_locations"):
                continue
            converted = plain(getattr(value, item.name))
            if converted not in (None, [], {}):
                found[item.name.rstrip("_")] = converted
        return found
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _fact_value(project: Project, fact: str) -> Any:
    assert project.settings is not None and project.system is not None
    if fact == "declaration":  # the EU declaration of conformity techfile builds, when Annex V is complete
        from techfile.assess.completeness import fact_present

        if not fact_present(project, fact):
            return None
        issued = plain(project.system.conformity.declaration) if project.system.conformity else {}
        return {"document": f"{project.settings.id}-declaration-of-conformity", **issued}
    if fact == "system.software":
        return [f"{c.name} {c.version}: {c.role}" for c in project.system.software]
    if fact == "system.classification.derogation_art_6_3.condition":
        condition = field_fact(project, fact)
        act = eu_ai_act()
        return f"{act.ref(f'art_6.3.{condition}')}: {act.title(f'art_6.3.{condition}')}" if condition else None
    return plain(field_fact(project, fact))


def _is_prose(project: Project, fact: str) -> bool:
    return fact not in ("declaration", "system.software", "system.classification.derogation_art_6_3.condition") and \
        isinstance(field_fact(project, fact), Prose)


def registration_sheet(project: Project, assessment: Assessment) -> RegistrationSheet:
    act = eu_ai_act()
    table = load_catalogue("registration_sources")
    articles = load_catalogue("post_market")["registration_sections"]
    decision = registration_sections(project)
    grades = {i.id: i for i in assessment.section("annex_viii")}
    sections = []
    for letter in ("a", "b", "c"):
        heading = act.items[f"annex_viii.{letter}"]
        points = []
        for item_id, entry in table.items():
            if not item_id.startswith(f"annex_viii.{letter}.") or item_id not in grades:
                continue
            facts = [*entry.get("needs", []), *entry.get("shows", [])]
            fields = tuple(SheetField(f, fact_source(project, f), _fact_value(project, f), _is_prose(project, f))
                           for f in facts)
            points.append(SheetPoint(grades[item_id], item_id.rsplit(".", 1)[1], fields))
        sections.append(SheetSection(letter, heading.ref, heading.title, articles[letter]["article"],
                                     letter in decision.sections, tuple(points)))
    return RegistrationSheet(decision, tuple(sections))

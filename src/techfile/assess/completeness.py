"""The source facts that fill a document's points (Annex IV, Art. 13(3)), read from the data tables
(frameworks/*_sources.yaml): whether each is present, where it is written and what to add. Grading is in grades.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from techfile.assess.declaration import declaration_points
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Location, Project

# Where each collection-level fact lives in a project, for messages that tell the user what to add.
_COLLECTION_SOURCES = {
    "pipeline_stages": "pipeline/*.yaml",
    "datasets": "datasets/*.yaml",
    "models": "models/*.yaml",
    "risks": "risks/*.yaml",
    "changes": "changes/*.yaml",
    "test_reports": "evidence/*.yaml with `type: test-report`",
    "disaggregated_results": "models/*.yaml `results` with a `slice` per subgroup",
    "logging_coverage": "system.yaml `logging.coverage` for each Art. 12(2) point (and 12(3) for remote biometric identification)",
    "declaration": "system.yaml `conformity` and `standards_applied` (the declaration of conformity, Annex V)",
}


# The source file of each root of a dotted fact (`system.intended_purpose`, `fria.notification`...).
FACT_FILES = {"system": "system.yaml", "settings": "techfile.yaml", "fria": "fria.yaml", "monitoring": "monitoring.yaml",
              "registration": "registration.yaml", "gpai_model": "gpai_model.yaml"}
# Roots whose facts sit in nested sections: a fact is located at the deepest section of its path that is written.
NESTED_ROOTS = ("gpai_model",)


def _fact_root(project: Project, root: str) -> Any:
    return project.settings if root == "settings" else getattr(project, root, None)


def field_fact(project: Project, fact: str) -> Any:
    """The value of a `<root>.<path>` fact (roots: FACT_FILES), None where any step is absent."""
    root, path = fact.split(".", 1)
    value: Any = _fact_root(project, root)
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
    return value


def fact_present(project: Project, fact: str) -> bool:
    """Whether the sources hold `fact` (see annex_iv_sources.yaml for the vocabulary)."""
    if "." in fact:
        return field_fact(project, fact) not in (None, "", [], {})
    if fact == "test_reports":
        return any(e.type == "test-report" for e in project.evidence)
    if fact == "logging_coverage":
        return all(row.how for row in record_keeping_rows(project) if row.applies)
    if fact == "disaggregated_results":
        return bool(project.models) and all(any(r.slice for r in m.results) for m in project.models)
    if fact == "declaration":
        return not any(p.missing for p in declaration_points(project))
    return bool(getattr(project, fact))


@dataclass(frozen=True)
class RecordKeepingRow:
    """One Art. 12 point: whether it applies to this system and how the logs serve it."""

    ref: str
    title: str
    applies: bool
    how: str | None

    @property
    def statement(self) -> str | None:
        """What the technical file says for this point."""
        return self.how if self.applies else "Not applicable: applies only to remote biometric identification (Annex III, point 1(a))."


def record_keeping_rows(project: Project) -> list[RecordKeepingRow]:
    """Art. 12(2)(a)-(c) always; 12(3)(a)-(d) only for remote biometric identification (Annex III point 1(a))."""
    assert project.system is not None
    facts = project.system.classification.annex_iii
    biometric = bool(facts.applies and "1.a" in facts.all_use_cases)
    covered = {c.point: c.how for c in project.system.logging.coverage}
    return [RecordKeepingRow(item.ref, item.title, biometric or item.id.startswith("art_12.2"), covered.get(item.id))
            for item in eu_ai_act().section("article_12")]


def fact_source(project: Project, fact: str) -> str:
    """Where the user writes `fact`."""
    root, _, path = fact.partition(".")
    if path and root in FACT_FILES:
        return f"{FACT_FILES[root]} `{path}`"
    return _COLLECTION_SOURCES.get(fact, fact)


def fact_location(project: Project, fact: str) -> Location | None:
    """Where `fact` is written, or where to write it: its field, the entities of its collection, or the file that holds it."""
    if fact.startswith("system.") and project.system:
        return _field_or_neighbour(project.system.field_locations, "system", fact.split(".")[1], project.system.location)
    if fact.startswith("settings.") and project.settings:
        return project.settings.field_locations.get(fact.split(".")[1], project.settings.location)
    root, _, path = fact.partition(".")
    if path and root in FACT_FILES:
        entity = _fact_root(project, root)
        if entity is None:
            return Location(FACT_FILES[root])
        if root in NESTED_ROOTS:
            return _nested_location(entity, path.split("."))
        return entity.field_locations.get(path.split(".")[0], entity.location)
    if fact == "declaration" and project.system:
        return _field_or_neighbour(project.system.field_locations, "system", "conformity", project.system.location)
    collection = {"test_reports": "evidence", "disaggregated_results": "models"}.get(fact, fact)
    entities = getattr(project, collection, None)
    if isinstance(entities, list) and entities:
        return getattr(entities[0], "location", None)
    return project.system.location if project.system else None


def _nested_location(entity: Any, names: list[str]) -> Location:
    """The key of the deepest written section along `names` (the field itself where it is written)."""
    found: Location = entity.location
    current = entity
    for name in names:
        locations = getattr(current, "field_locations", None)
        if not isinstance(locations, dict) or name not in locations:
            break
        found = locations[name]
        current = getattr(current, name, None)
    return found


def _field_or_neighbour(locations: dict[str, Location], kind: str, name: str, fallback: Location) -> Location:
    """Where field `name` is written; where absent, the field written just before the place the schema gives it,
    which is where to add it."""
    if name in locations:
        return locations[name]
    from techfile.validation.schema import load_schema

    order = list(load_schema(kind).get("properties", {}))
    earlier = order[:order.index(name)] if name in order else order
    present = [locations[key] for key in earlier if key in locations]
    return max(present, key=lambda where: where.line) if present else fallback

"""Completeness of a document's points (Annex IV, Art. 13(3)): each complete, not applicable with its justification,
or missing, and the source that fills it. Which facts fill which point is data (frameworks/*_sources.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from techfile.assess.declaration import declaration_points
from techfile.frameworks.catalogue import load_catalogue
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.project import Location, Project

COMPLETE, NOT_APPLICABLE, MISSING = "complete", "not applicable", "missing"

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


@dataclass(frozen=True)
class PointStatus:
    """One point: status, the facts still missing, the justification when not applicable, the filling source."""

    id: str
    ref: str
    title: str
    status: str
    missing: tuple[str, ...] = ()
    justification: str = ""
    source: Location | None = None


def field_fact(project: Project, fact: str) -> Any:
    """The value of a `system.<path>` or `settings.<path>` fact, None where any step is absent."""
    root, path = fact.split(".", 1)
    value: Any = project.system if root == "system" else project.settings
    for name in path.split("."):
        value = getattr(value, name, None)
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
        return all(p.status == COMPLETE for p in declaration_points(project))
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
    biometric = bool(facts.applies and facts.use_case == "1.a")
    covered = {c.point: c.how for c in project.system.logging.coverage}
    return [RecordKeepingRow(item.ref, item.title, biometric or item.id.startswith("art_12.2"), covered.get(item.id))
            for item in eu_ai_act().section("article_12")]


def fact_source(project: Project, fact: str) -> str:
    """Where the user writes `fact`."""
    if fact.startswith("system."):
        return f"system.yaml `{fact.removeprefix('system.')}`"
    if fact.startswith("settings."):
        return f"techfile.yaml `{fact.removeprefix('settings.')}`"
    return _COLLECTION_SOURCES.get(fact, fact)


def _location(project: Project, fact: str) -> Location | None:
    if fact.startswith("system.") and project.system:
        return project.system.field_locations.get(fact.split(".")[1], project.system.location)
    if fact.startswith("settings.") and project.settings:
        return project.settings.field_locations.get(fact.split(".")[1], project.settings.location)
    if fact == "declaration" and project.system:
        return project.system.field_locations.get("conformity", project.system.location)
    collection = {"test_reports": "evidence", "disaggregated_results": "models"}.get(fact, fact)
    entities = getattr(project, collection, None)
    if isinstance(entities, list) and entities:
        return getattr(entities[0], "location", None)
    return project.system.location if project.system else None


def annex_iv_status(project: Project) -> list[PointStatus]:
    """Every Annex IV point that carries content (lettered sub-points, and points 3-9), in the Annex's order."""
    return point_status(project, "annex_iv", "annex_iv_sources")


def instructions_status(project: Project) -> list[PointStatus]:
    """Every Art. 13(3) point the instructions for use must hold, in the Article's order."""
    return point_status(project, "article_13_3", "instructions_sources")


def point_status(project: Project, section: str, sources_name: str) -> list[PointStatus]:
    """The status of each point of a catalogue section that the sources table covers (headings are skipped)."""
    assert project.system is not None
    sources = load_catalogue(sources_name)
    not_applicable = {n.point: n.justification for n in project.system.not_applicable}
    statuses = []
    for item in eu_ai_act().section(section):
        if item.id not in sources:
            continue  # a heading: its lettered points carry the status
        needs = sources[item.id]["needs"]
        first_present = next((f for f in needs if fact_present(project, f)), None)
        source = _location(project, first_present) if first_present else None
        if item.id in not_applicable:
            statuses.append(PointStatus(item.id, item.ref, item.title, NOT_APPLICABLE, (), not_applicable[item.id],
                                        project.system.field_locations.get("not_applicable")))
            continue
        missing = tuple(fact_source(project, f) for f in needs if not fact_present(project, f))
        statuses.append(PointStatus(item.id, item.ref, item.title, MISSING if missing else COMPLETE, missing, "", source))
    return statuses

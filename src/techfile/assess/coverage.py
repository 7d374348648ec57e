"""Coverage per framework: each assessable item covered, partial, missing, not applicable or out of scope."""

from __future__ import annotations

from dataclasses import dataclass

from techfile.frameworks.registry import Framework, claims, project_frameworks
from techfile.project import CatalogueItem, Control, Project

COVERED, PARTIAL, MISSING, NOT_APPLICABLE, OUT_OF_SCOPE = "covered", "partial", "missing", "not applicable", "out of scope"
WORKING = ("implemented", "operating")


@dataclass(frozen=True)
class ItemCoverage:
    """One item: its status, the controls that claim it, and their evidence."""

    item: CatalogueItem
    status: str
    controls: tuple[Control, ...] = ()
    reason: str = ""

    @property
    def evidence(self) -> list[str]:
        return sorted({e for c in self.controls for e in c.evidence})


@dataclass(frozen=True)
class FrameworkCoverage:
    framework: Framework
    items: tuple[ItemCoverage, ...]

    def count(self, status: str) -> int:
        return sum(i.status == status for i in self.items)

    @property
    def in_scope(self) -> int:
        return sum(i.status in (COVERED, PARTIAL, MISSING) for i in self.items)

    @property
    def percent_covered(self) -> float:
        return round(100.0 * self.count(COVERED) / self.in_scope, 1) if self.in_scope else 100.0

    @property
    def gaps(self) -> list[ItemCoverage]:
        return [i for i in self.items if i.status in (PARTIAL, MISSING)]


def item_status(controls: list[Control]) -> str:
    """Covered: a working control with evidence claims it; partial: claimed but not yet working or evidenced."""
    live = [c for c in controls if c.status != "retired"]
    if any(c.status in WORKING and c.evidence for c in live):
        return COVERED
    return PARTIAL if live else MISSING


def framework_coverage(project: Project, framework: Framework) -> FrameworkCoverage:
    assert project.settings is not None
    claimed: dict[str, list[Control]] = {}
    for control in project.controls:
        for item in claims(control).get(framework.id, []):
            claimed.setdefault(item, []).append(control)
    excluded = _not_applicable(project, framework)
    categories = {"security", *project.settings.soc2_categories}
    rows = []
    for item in framework.assessable_items():
        controls = tuple(claimed.get(item.id, []))
        if framework.id == "soc2" and item.category not in categories:
            rows.append(ItemCoverage(item, OUT_OF_SCOPE, controls, f"category {item.category} not in scope"))
        elif item.id in excluded:
            rows.append(ItemCoverage(item, NOT_APPLICABLE, controls, excluded[item.id]))
        else:
            rows.append(ItemCoverage(item, item_status(list(controls)), controls))
    return FrameworkCoverage(framework, tuple(rows))


def _not_applicable(project: Project, framework: Framework) -> dict[str, str]:
    """Items the project excludes: ISO 42001 controls excluded in the SoA, EU AI Act points declared not applicable."""
    if framework.id == "iso-42001" and project.soa:
        return {d.control: d.justification for d in project.soa.decisions if not d.applicable}
    if framework.id == "eu-ai-act" and project.system:
        return {n.point: n.justification for n in project.system.not_applicable}
    return {}


def project_coverage(project: Project) -> list[FrameworkCoverage]:
    return [framework_coverage(project, framework) for framework in project_frameworks(project)]

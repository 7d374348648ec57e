"""Serious incidents: which reporting route applies (the AI Act's own, or a sectoral regime under Art. 73(9)-(10)),
when each report is due (Art. 73(2)-(4)) and where each incident stands on the assessment date (never the clock)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from techfile.frameworks.catalogue import load_catalogue
from techfile.project import Incident, IncidentReport, Project

AI_ACT = "ai-act"
# Where an incident's AI Act report stands.
REPORTED, LATE, OVERDUE, DUE_SOON, DUE, NOT_REQUIRED = "reported", "reported late", "overdue", "due soon", "due", "not required"


@cache
def _data() -> dict[str, Any]:
    return load_catalogue("post_market")  # type: ignore[no-any-return]


def category_info(category: str) -> dict[str, Any]:
    """The Art. 3(49) point of a seriousness category, its title and its reporting period."""
    return dict(_data()["serious_incident_categories"][category])


@dataclass(frozen=True)
class ReportingRoute:
    """How the project's serious incidents are reported under the AI Act."""

    provision: str | None  # "art_73.10", "art_73.9", or None for Art. 73(1)-(4) alone
    ref: str
    basis: str
    reportable: tuple[str, ...] | None = None  # the categories reported under the AI Act; None: all of them
    authority: str = "the market surveillance authority of each Member State where the incident occurred (Art. 73(1))"
    sectoral_regime: str | None = None  # the `reports[].regime` of the sectoral report, e.g. mdr

    def ai_act_report(self, category: str) -> bool:
        return self.reportable is None or category in self.reportable


def reporting_route(project: Project) -> ReportingRoute:
    """Art. 73(10) for medical devices (from the Annex I point of the classification), Art. 73(9) where
    monitoring.yaml declares equivalent sectoral reporting, else the AI Act's own route."""
    from techfile.assess.operators import operator_facts
    from techfile.frameworks.eu_ai_act import eu_ai_act

    assert project.system is not None
    routes = _data()["sectoral_routes"]
    mdr = routes["art_73.10"]
    point = operator_facts(project).annex_i_point
    if point in mdr["annex_i_points"]:
        return ReportingRoute("art_73.10", mdr["ref"], f"{mdr['title']}: the system falls under {eu_ai_act().ref(point)}, "
                              f"{eu_ai_act().title(point)}", tuple(mdr["reportable"]), mdr["authority"], mdr["sectoral_regime"])
    declared = project.monitoring.sectoral_reporting if project.monitoring else None
    if declared is not None and project.system.classification.annex_iii.applies:
        equivalent = routes["art_73.9"]
        return ReportingRoute("art_73.9", equivalent["ref"], f"{equivalent['title']}: {declared.legislation} "
                              "(monitoring.yaml `sectoral_reporting`)", tuple(equivalent["reportable"]),
                              equivalent["authority"], "other")
    return ReportingRoute(None, "Art. 73(1)", "the AI Act's own reporting (no sectoral regime applies)")


@dataclass(frozen=True)
class IncidentClock:
    """An incident's AI Act reporting deadline and where it stands on `as_of`."""

    incident: Incident
    route: ReportingRoute
    as_of: dt.date
    required: bool
    deadline: dt.date | None = None
    days: int | None = None
    deadline_ref: str = ""
    first_report: IncidentReport | None = None
    sectoral_report: IncidentReport | None = None

    @property
    def state(self) -> str:
        if not self.required or self.deadline is None:
            return NOT_REQUIRED
        if self.first_report is not None:
            return REPORTED if dt.date.fromisoformat(self.first_report.date) <= self.deadline else LATE
        left = self.days_left or 0
        if left < 0:
            return OVERDUE
        return DUE_SOON if left * 24 <= _data()["warning_hours"] else DUE

    @property
    def days_left(self) -> int | None:
        return (self.deadline - self.as_of).days if self.deadline else None

    @property
    def sectoral_report_expected(self) -> bool:
        """A sectoral route carries the incidents the AI Act leaves to it (e.g. MDR vigilance)."""
        return self.route.sectoral_regime is not None and not self.route.ai_act_report(self.incident.category)

    @property
    def rule(self) -> str:
        """The deadline in words, e.g. "15 days after awareness on 2026-09-01 (Art. 73(2))"."""
        if not self.required:
            return (f"{self.route.ref} limits reports under the AI Act to Art. 3(49)(c) incidents, and this one is "
                    f"{category_info(self.incident.category)['ref']}")
        return f"{self.days} days after awareness on {self.incident.aware_on} ({self.deadline_ref})"


def incident_clock(project: Project, incident: Incident, as_of: str) -> IncidentClock:
    """The reporting deadline of `incident`: the shortest period that applies to its category (10 days for a death,
    2 days for critical infrastructure or a widespread infringement, else 15), counted from the awareness date."""
    route = reporting_route(project)
    today = dt.date.fromisoformat(as_of)
    sectoral = next((r for r in sorted(incident.reports, key=lambda r: r.date) if r.regime != AI_ACT), None)
    if not route.ai_act_report(incident.category):
        return IncidentClock(incident, route, today, False, sectoral_report=sectoral)
    info = category_info(incident.category)
    days, ref = int(info["days"]), str(info["deadline_ref"])
    widespread = _data()["widespread_infringement"]
    if incident.widespread_infringement and widespread["days"] < days:
        days, ref = int(widespread["days"]), str(widespread["deadline_ref"])
    deadline = dt.date.fromisoformat(incident.aware_on) + dt.timedelta(days=days)
    reports = sorted((r for r in incident.reports if r.regime == AI_ACT), key=lambda r: r.date)
    return IncidentClock(incident, route, today, True, deadline, days, ref, reports[0] if reports else None, sectoral)

"""The one assessment: every item of every framework in scope gets one grade, with the reasons, sources and evidence
behind it. Documents, `coverage`, the status board, the manifest and `check` read these grades; none re-derives them.

Grades, lowest first: missing · described (the sources say how it is met) · evidenced (at least one current
evidence record whose file matches its hash) · approved (that evidence carries an approval). `not applicable`
stands apart, always with its justification or the rule that excludes the item.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

from techfile.assess.classification import classify
from techfile.assess.completeness import fact_location, fact_present, fact_source, record_keeping_rows
from techfile.assess.declaration import declaration_points
from techfile.assess.evidence import EvidenceState, assessment_date, evidence_states
from techfile.frameworks.catalogue import load_catalogue
from techfile.frameworks.eu_ai_act import eu_ai_act
from techfile.frameworks.gpai import point_ref, point_sources, under
from techfile.frameworks.registry import (
    PROCEDURE_FIELDS,
    Framework,
    builtin_framework,
    claims,
    project_frameworks,
    selected_frameworks,
)
from techfile.project import CatalogueItem, Control, GsprDecision, Location, Procedure, Project

MISSING, DESCRIBED, EVIDENCED, APPROVED = "missing", "described", "evidenced", "approved"
NOT_APPLICABLE = "not applicable"
GRADES = (MISSING, DESCRIBED, EVIDENCED, APPROVED)
NO_GATE = "none"
WORKING = ("implemented", "operating")

# The EU AI Act sections whose items are graded, besides the documentable requirements, and what describes them.
EU_SECTIONS = {"annex_iv": "facts", "annex_v": "declaration", "article_12": "logging", "article_13_3": "facts",
               "article_17_1": "procedures", "article_27": "facts", "annex_viii": "facts"}
FACT_TABLES = {"annex_iv": "annex_iv_sources", "article_13_3": "instructions_sources", "article_27": "fria_sources",
               "annex_viii": "registration_sources"}
# Sections graded from their sources table alone (its keys, in order), wherever the catalogue keeps the items.
TABLE_SECTIONS = ("article_27", "annex_viii")


@dataclass(frozen=True)
class ItemGrade:
    """One framework item: its grade, why, the gate it must reach, and what stands behind it."""

    framework: str
    id: str
    ref: str
    title: str
    grade: str
    reason: str
    gate: str = NO_GATE
    parent: str | None = None
    section: str = ""
    controls: tuple[str, ...] = ()
    procedures: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # current evidence behind the item
    approved_evidence: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # the source facts to add, for an item missing its description
    location: Location | None = None  # where to write what is missing, or the source that fills it

    @property
    def applicable(self) -> bool:
        return self.grade != NOT_APPLICABLE

    @property
    def below_gate(self) -> bool:
        return self.applicable and self.gate != NO_GATE and GRADES.index(self.grade) < GRADES.index(self.gate)

    @property
    def label(self) -> str:
        """How the item is named in messages: its reference and title."""
        return f"{self.ref} ({self.title})" if self.ref != self.title else self.ref


@dataclass(frozen=True)
class FrameworkGrades:
    """A framework's items in catalogue order, each graded."""

    framework: Framework
    items: tuple[ItemGrade, ...]

    def count(self, grade: str) -> int:
        return sum(i.grade == grade for i in self.items)

    @property
    def applicable(self) -> int:
        return sum(i.applicable for i in self.items)

    def at_least(self, grade: str) -> int:
        return sum(i.applicable and GRADES.index(i.grade) >= GRADES.index(grade) for i in self.items)

    @property
    def below_gate(self) -> list[ItemGrade]:
        return [i for i in self.items if i.below_gate]

    @property
    def summary(self) -> str:
        """The one sentence every output uses for this framework."""
        return summarise(list(self.items), self.framework.title)

    def item(self, item_id: str) -> ItemGrade | None:
        return next((i for i in self.items if i.id == item_id), None)


def summarise(items: list[ItemGrade], subject: str = "") -> str:
    """The one sentence every output uses for a set of graded items: how many apply, by grade, and how many fall
    below the grade required."""
    counts = ", ".join(f"{sum(i.grade == g for i in items)} {g}" for g in reversed(GRADES))
    applicable = sum(i.applicable for i in items)
    na = len(items) - applicable
    below = sum(i.below_gate for i in items)
    gated = any(i.gate != NO_GATE for i in items if i.applicable)
    return ((f"{subject}: " if subject else "") + f"{applicable} of {len(items)} items apply — {counts}"
            + (f"; {na} not applicable" if na else "") + (f"; {below} below the required grade" if gated else "") + ".")


@dataclass(frozen=True)
class Assessment:
    """The grades of every framework in scope on one date, and the state of every evidence record."""

    date: str
    frameworks: tuple[FrameworkGrades, ...]
    evidence: dict[str, EvidenceState] = field(default_factory=dict)

    def framework(self, framework_id: str) -> FrameworkGrades | None:
        return next((f for f in self.frameworks if f.framework.id == framework_id), None)

    def grade(self, framework_id: str, item_id: str) -> ItemGrade | None:
        grades = self.framework(framework_id)
        return grades.item(item_id) if grades else None

    def section(self, name: str) -> list[ItemGrade]:
        """The graded EU AI Act items of one catalogue section (e.g. annex_iv), in order."""
        grades = self.framework("eu-ai-act")
        return [i for i in grades.items if i.section == name] if grades else []


_ASSESSMENTS: list[tuple[Project, str, Assessment]] = []


def assess(project: Project, as_of: str | None = None) -> Assessment:
    """The project's assessment on `as_of`, computed once per project and date. Without `as_of`: the date the project
    was first assessed on (a build or a diff fixes it up front), else its assessment date."""
    for known, known_date, assessment in reversed(_ASSESSMENTS):
        if known is project and as_of in (None, known_date):
            return assessment
    date = as_of or assessment_date(project)
    assessment = _assess(project, date)
    _ASSESSMENTS.append((project, date, assessment))
    del _ASSESSMENTS[:-8]
    return assessment


def _assess(project: Project, date: str) -> Assessment:
    assert project.settings is not None
    states = evidence_states(project, date)
    grader = _Grader(project, states, date)
    return Assessment(date, tuple(grader.framework(f) for f in project_frameworks(project)), states)


# --- applicability ------------------------------------------------------------------------------------------------


def _conditions(project: Project) -> dict[str, bool]:
    """The facts the applicability rules (frameworks/applicability.yaml) test."""
    from techfile.assess.post_market import post_market_conditions

    system = project.system
    assert system is not None
    facts = system.classification
    return {
        **post_market_conditions(project),
        "high_risk": classify(system).high_risk,
        "remote_biometric_identification": bool(facts.annex_iii.applies and "1.a" in facts.annex_iii.all_use_cases),
        "special_category_data": any(d.data_governance and d.data_governance.special_categories
                                     and d.data_governance.special_categories.processed for d in project.datasets),
        "annex_i_product": bool(facts.annex_i_product.applies),
        "trains_models": bool(project.models),
        **_gpai_conditions(project),
    }


def _gpai_conditions(project: Project) -> dict[str, bool]:
    """Whether the general-purpose model has systemic risk (Art. 51), and whether Art. 53(1)(a)-(b) bind its provider:
    Art. 53(2) frees an open-source model without systemic risk from them."""
    assert project.system is not None
    facts = project.system.classification.gpai_model
    outcome = classify(project.system).gpai
    systemic = bool(outcome and outcome.systemic_risk)
    return {"gpai_systemic_risk": systemic,
            "gpai_documentation_required": systemic or not (facts is not None and facts.open_source is True)}


@cache
def _rules() -> tuple[dict[str, object], ...]:
    return tuple(load_catalogue("applicability")["rules"])


def _rule_exclusion(framework_id: str, item_id: str, conditions: dict[str, bool]) -> str | None:
    """The reason a rule excludes the item (or one of its parents) for this system, if one does."""
    for rule in _rules():
        if rule["framework"] != framework_id or conditions.get(str(rule["unless"]), True):
            continue
        if any(item_id == p or item_id.startswith(f"{p}.") for p in rule["items"]):  # type: ignore[attr-defined]
            return str(rule["reason"])
    return None


# --- grading ------------------------------------------------------------------------------------------------------


def _lowest(grades: list[str]) -> str:
    return min(grades, key=GRADES.index)


class _Grader:
    """Grades the items of one project; holds the lookups every framework needs."""

    def __init__(self, project: Project, states: dict[str, EvidenceState], date: str) -> None:
        assert project.settings is not None and project.system is not None
        self.project, self.states, self.date = project, states, date
        self.conditions = _conditions(project)
        self.role_exclusions: dict[str, str] | None = None  # EU AI Act items that bind none of the project's roles
        self.high_risk = self.conditions["high_risk"]
        self.procedures = {p.id: p for p in project.procedures}
        self.gspr: dict[str, GsprDecision] = {}
        for decision in project.gspr.decisions if project.gspr else []:
            self.gspr.setdefault(decision.requirement, decision)  # a second decision is reported by check (TF983)
        self.gpai: dict[str, ItemGrade] | None = None
        self.claimed: dict[tuple[str, str], list[Control]] = {}
        for control in project.controls:
            if control.status == "retired":
                continue
            for framework, items in claims(control).items():
                for item in items:
                    self.claimed.setdefault((framework, item), []).append(control)

    # evidence ------------------------------------------------------------------------------------------------

    def _current(self, evidence_ids: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        current = sorted({e for e in evidence_ids if e in self.states and self.states[e].current})
        return tuple(current), tuple(e for e in current if self.states[e].approved)

    def _control_evidence(self, controls: list[Control]) -> list[str]:
        """Evidence of the controls that are working; a planned control's evidence shows intent, not operation."""
        return [e for c in controls if c.status in WORKING for e in c.evidence]

    def _grade(self, described: bool, evidence_ids: list[str], not_described: str) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
        """(grade, reason, current evidence, approved evidence) from whether the item is described and its evidence."""
        current, approved = self._current(evidence_ids)
        if not described:
            return MISSING, not_described, current, approved
        if approved:
            return APPROVED, f"approved evidence: {', '.join(approved)}", current, approved
        if current:
            return EVIDENCED, "current evidence; none of it records an approval", current, approved
        stale = sorted({e for e in evidence_ids if e in self.states})
        why = "; ".join(f"{e} {self.states[e].problem}" for e in stale)
        return DESCRIBED, ("no current evidence" + (f" ({why})" if why else " stands behind it")), current, approved

    # gates ---------------------------------------------------------------------------------------------------

    def gate(self, framework_id: str, item_id: str, section: str) -> str:
        """The grade an item must reach: techfile.yaml `gates`, else the default for the framework."""
        assert self.project.settings is not None
        declared = self.project.settings.gates.get(framework_id)
        if declared:
            return declared
        if framework_id == "gpai" and self.conditions["gpai_systemic_risk"] and point_sources(item_id).get("evidence_expected"):
            return EVIDENCED
        if framework_id != "eu-ai-act":
            defaults = load_catalogue("applicability")["default_gates"]
            return str(defaults.get(framework_id, defaults["custom"]))
        if not self.high_risk:
            return NO_GATE
        return EVIDENCED if self._expects_evidence(item_id, section) else DESCRIBED

    def _expects_evidence(self, item_id: str, section: str) -> bool:
        """High-risk default: Art. 9-17 requirements and the Annex IV points whose text asks for records are evidenced."""
        if section in FACT_TABLES:
            return bool(load_catalogue(FACT_TABLES[section]).get(item_id, {}).get("evidence_expected"))
        article = item_id.removeprefix("art_").split(".", 1)[0]
        return section in ("requirements", "article_12", "article_17_1") and article.isdigit() and 9 <= int(article) <= 17

    # frameworks ----------------------------------------------------------------------------------------------

    def framework(self, framework: Framework) -> FrameworkGrades:
        if framework.id == "eu-ai-act":
            leaves = self._eu_items()
        elif framework.id == "mdr":
            leaves = [self._gspr_item(framework, item) for item in framework.assessable_items()]
        elif framework.id == "gpai":
            leaves = list(self._gpai_grades(framework).values())
        else:
            leaves = [self._claimed_item(framework, item.id, item.title, item.id, item.category) for item in framework.assessable_items()]
        return FrameworkGrades(framework, tuple(self._with_parents(leaves)))

    def _claimed_item(self, framework: Framework, item_id: str, title: str, ref: str, category: str | None,
                      section: str = "", parent: str | None = None) -> ItemGrade:
        """An item met by controls (and, for the NIST AI RMF, QMS procedures) that claim it."""
        assert self.project.settings is not None
        gate = self.gate(framework.id, item_id, section)
        excluded = self._excluded(framework, item_id, category)
        controls = self.claimed.get((framework.id, item_id), [])
        listed_in = PROCEDURE_FIELDS.get(framework.id)
        procedures = [p for p in self.project.procedures if listed_in and item_id in getattr(p, listed_in)]
        if excluded:
            return ItemGrade(framework.id, item_id, ref, title, NOT_APPLICABLE, excluded, gate, parent, section,
                             tuple(c.id for c in controls))
        evidence = self._control_evidence(controls) + [e for p in procedures for e in p.evidence]
        describers = [c.id for c in controls] + [p.id for p in procedures]
        grade, reason, current, approved = self._grade(bool(describers), evidence, "no control claims it")
        if describers and grade == DESCRIBED and not any(c.status in WORKING for c in controls) and controls:
            reason = "claimed only by controls that are not yet working (" + ", ".join(c.id for c in controls) + ")"
        location = controls[0].location if controls else self._decision_location(framework.id, item_id)
        return ItemGrade(framework.id, item_id, ref, title, grade, reason, gate, parent, section,
                         tuple(c.id for c in controls), tuple(p.id for p in procedures), current, approved, (), location)

    def _excluded(self, framework: Framework, item_id: str, category: str | None) -> str | None:
        """Why the item does not apply to this project, if it does not."""
        assert self.project.settings is not None and self.project.system is not None
        if framework.id == "soc2":
            categories = {"security", *self.project.settings.soc2_categories}
            if category not in categories:
                return f"category {category} is not in the SOC 2 scope (techfile.yaml `soc2_categories`)"
        if framework.id == "iso-42001" and self.project.soa:
            for decision in self.project.soa.decisions:
                if decision.control == item_id and not decision.applicable:
                    return f"excluded in the Statement of Applicability: {decision.justification or 'no justification given'}"
        for entry in self.project.system.not_applicable:
            if entry.framework == framework.id and entry.point == item_id:
                return entry.justification
        if framework.id == "eu-ai-act":
            return (_rule_exclusion(framework.id, item_id, self.conditions) or self._eu_exclusions().get(item_id))
        return _rule_exclusion(framework.id, item_id, self.conditions)

    def _eu_exclusions(self) -> dict[str, str]:
        """EU AI Act items that do not bind this project, from the obligation rules (assess/obligations.py): the
        obligation binds none of its roles, or its class, route or conditions leave it out."""
        if self.role_exclusions is None:
            from techfile.assess.obligations import applicabilities, obligation_rules, role_exclusions

            rules = obligation_rules()
            requirements = [i.id for i in builtin_framework("eu-ai-act").items if i.kind == "requirement"]
            excluded = dict(role_exclusions(self.project))
            as_of = dt.date.fromisoformat(self.date)
            for item_id, found in applicabilities(self.project, requirements, as_of).items():
                if found.status == "does not apply" and rules.rule_for(item_id) is not None:
                    excluded.setdefault(item_id, found.reason)
            self.role_exclusions = excluded
        return self.role_exclusions

    def _gspr_item(self, framework: Framework, item: CatalogueItem) -> ItemGrade:
        """An MDR Annex I requirement: decided in gspr.yaml; described by the standards, common specifications or other
        solutions its decision names, or by controls that claim it; evidenced by the decision's evidence and by the
        evidence of the working controls that claim it."""
        gate = self.gate(framework.id, item.id, "")
        decision = self.gspr.get(item.id)
        controls = self.claimed.get((framework.id, item.id), [])
        checklist = self.project.gspr
        location = decision.location if decision else (controls[0].location if controls else
                                                       checklist.location if checklist else Location("gspr.yaml"))
        if decision is not None and not decision.applicable:
            reason = f"not applicable (gspr.yaml): {decision.justification or 'no justification given'}"
            return ItemGrade(framework.id, item.id, item.id, item.title, NOT_APPLICABLE, reason, gate, item.parent, "",
                             tuple(c.id for c in controls), location=location)
        evidence = (list(decision.evidence) if decision else []) + self._control_evidence(controls)
        if decision is None:
            not_described = "no decision in gspr.yaml" + ("" if controls else " and no control claims it")
        else:
            not_described = "gspr.yaml names no standard, common specification or solution for it, and no control claims it"
        grade, reason, current, approved = self._grade(bool(decision and decision.means) or bool(controls), evidence,
                                                       not_described)
        return ItemGrade(framework.id, item.id, item.id, item.title, grade, reason, gate, item.parent, "",
                         tuple(c.id for c in controls), (), current, approved, (), location)

    def _gpai_grades(self, framework: Framework) -> dict[str, ItemGrade]:
        """Every point of the gpai pack, in catalogue order; a point that rests on others (`from`) is graded after them."""
        if self.gpai is None:
            points = framework.assessable_items()
            graded: dict[str, ItemGrade] = {}
            for item in sorted(points, key=lambda i: bool(point_sources(i.id).get("from"))):
                graded[item.id] = self._gpai_item(framework, item, graded)
            self.gpai = {item.id: graded[item.id] for item in points}
        return self.gpai

    def _gpai_item(self, framework: Framework, item: CatalogueItem, graded: dict[str, ItemGrade]) -> ItemGrade:
        """A point of the gpai pack: described by the facts of gpai_model.yaml (and techfile.yaml) that fill it, or by
        the points it rests on; evidenced by the records gpai_model.yaml lists and the evidence of the working controls
        that claim it (`satisfies.gpai`)."""
        sources = point_sources(item.id)
        gate = self.gate(framework.id, item.id, "")
        base = ItemGrade(framework.id, item.id, point_ref(item.id), item.title, MISSING, "", gate, item.parent)
        controls = self.claimed.get((framework.id, item.id), [])
        excluded = self._excluded(framework, item.id, None)
        needs: list[str] = sources.get("needs", [])
        if excluded:
            return _replace(base, grade=NOT_APPLICABLE, reason=excluded, controls=tuple(c.id for c in controls),
                            location=self._not_applicable_location(item.id))
        absent = [f for f in needs if not fact_present(self.project, f)]
        missing = tuple(fact_source(self.project, f) for f in absent)
        location = fact_location(self.project, (absent or needs)[0]) if needs else None
        evidence = self._control_evidence(controls) + self._fact_evidence(sources.get("evidence_from", []))
        grade, reason, current, approved = self._grade(not missing, evidence, f"add {'; '.join(missing)}")
        rests_on = [g for g in graded.values() if under(g.id, sources.get("from", [])) and g.applicable]
        if grade != MISSING and rests_on:
            lowest = _lowest([grade, *(g.grade for g in rests_on)])
            if lowest != grade:
                weakest = [g.ref for g in rests_on if g.grade == lowest]
                shown = ", ".join(weakest[:3]) + (f" and {len(weakest) - 3} more" if len(weakest) > 3 else "")
                grade, reason = lowest, f"no better than the points it rests on: {shown} {lowest}"
                missing = tuple(m for g in rests_on if g.grade == MISSING for m in g.missing)
                location = next(g.location for g in rests_on if g.grade == lowest)
        return _replace(base, grade=grade, reason=reason, controls=tuple(c.id for c in controls), evidence=current,
                        approved_evidence=approved, missing=missing, location=location or self.project.settings.location)

    def _decision_location(self, framework_id: str, item_id: str) -> Location | None:
        if framework_id == "iso-42001" and self.project.soa:
            found = next((d for d in self.project.soa.decisions if d.control == item_id), None)
            return found.location if found else self.project.soa.location
        return None

    def _eu_items(self) -> list[ItemGrade]:
        """Annex IV, the declaration (Annex V), every other documentable requirement of the catalogue (Art. 4, 9-15,
        26, 27, 49, 72, 86…), Art. 12's logging points, Art. 13(3) and Art. 17(1), in that order."""
        act = eu_ai_act()
        framework = next(f for f in project_frameworks(self.project) if f.id == "eu-ai-act")
        found: list[ItemGrade] = []
        for section in ("annex_iv", "annex_v"):
            found += [self._eu_item(framework, item.id, item.ref, item.title, section, item.parent) for item in act.section(section)]
        in_sections = {i.id for s in EU_SECTIONS for i in act.section(s)}
        in_sections |= {i for s in TABLE_SECTIONS for i in load_catalogue(FACT_TABLES[s])}  # graded from their sources
        documentable = [i for i in framework.items if i.kind == "requirement" and i.id not in in_sections]
        found += [self._eu_requirement(framework, i.id, i.title, act.ref(i.id)) for i in documentable]
        for section in ("article_12", "article_13_3", "article_17_1"):
            found += [self._eu_item(framework, item.id, item.ref, item.title, section, item.parent) for item in act.section(section)]
        for section in TABLE_SECTIONS:
            items = [act.items[i] for i in load_catalogue(FACT_TABLES[section]) if i in act.items]
            found += [self._eu_item(framework, item.id, item.ref, item.title, section, item.parent) for item in items]
        return found

    def _eu_requirement(self, framework: Framework, item_id: str, title: str, ref: str) -> ItemGrade:
        """A documentable requirement, met by the controls that claim it; Art. 53(1) and 55(1) of a general-purpose
        model's provider take the grade of the same point of the gpai pack, which grades them from gpai_model.yaml."""
        claimed = self._claimed_item(framework, item_id, title, ref, None, "requirements")
        pack = None
        if claimed.applicable and "gpai" in selected_frameworks(self.project):
            pack = self._gpai_grades(builtin_framework("gpai")).get(item_id)
        if pack is None:
            return claimed
        return _replace(claimed, grade=pack.grade, reason=f"as the gpai pack grades {pack.ref}: {pack.reason}",
                        controls=tuple(dict.fromkeys(claimed.controls + pack.controls)), evidence=pack.evidence,
                        approved_evidence=pack.approved_evidence, missing=pack.missing, location=pack.location)

    def _eu_item(self, framework: Framework, item_id: str, ref: str, title: str, section: str, parent: str | None) -> ItemGrade:
        """A point of a document the EU AI Act prescribes: described by the source facts (or procedures, or the log
        coverage) that fill it, evidenced by the controls that claim it and the evidence its facts carry."""
        gate = self.gate(framework.id, item_id, section)
        base = ItemGrade(framework.id, item_id, ref, title, MISSING, "", gate, parent, section)
        excluded = self._excluded(framework, item_id, None)
        if excluded:
            return _replace(base, grade=NOT_APPLICABLE, reason=excluded, location=self._not_applicable_location(item_id))
        controls = self.claimed.get((framework.id, item_id), [])
        evidence = self._control_evidence(controls)
        kind = EU_SECTIONS[section]
        procedures: list[Procedure] = []
        missing: tuple[str, ...] = ()
        location: Location | None = None
        if kind == "facts":
            table = load_catalogue(FACT_TABLES[section])
            if item_id not in table or table[item_id].get("heading"):
                return base  # a heading: graded from its points
            needs = table[item_id]["needs"]
            missing = tuple(fact_source(self.project, f) for f in needs if not fact_present(self.project, f))
            absent = [f for f in needs if not fact_present(self.project, f)]
            location = fact_location(self.project, (absent or needs)[0])
            evidence += self._fact_evidence(table[item_id].get("evidence_from", []))
            not_described = f"add {'; '.join(missing)}"
        elif kind == "procedures":
            letter = item_id.rsplit(".", 1)[1]
            procedures = [p for p in sorted(self.project.procedures, key=lambda p: p.id) if letter in p.art_17_aspects]
            evidence += [e for p in procedures for e in p.evidence]
            missing = () if procedures else (f"a procedure in qms/ listing `{letter}` in `art_17_aspects`",)
            location = (procedures[0].location if procedures else self._procedure_location())
            not_described = f"add {missing[0]}" if missing else ""
        elif kind == "logging":
            row = next((r for r in record_keeping_rows(self.project) if r.ref == ref), None)
            missing = () if row and row.how else (f"system.yaml `logging.coverage` entry for {item_id}",)
            location = self.project.system.field_locations.get("logging") if self.project.system else None
            not_described = f"add {missing[0]}" if missing else ""
        else:  # the declaration
            point = next(p for p in declaration_points(self.project) if p.id == item_id)
            missing = (point.missing,) if point.missing else ()
            location = self.project.system.field_locations.get("conformity") if self.project.system else None
            not_described = f"add {point.missing}" if point.missing else ""
        grade, reason, current, approved = self._grade(not missing, evidence, not_described)
        return _replace(base, grade=grade, reason=reason, controls=tuple(c.id for c in controls),
                        procedures=tuple(p.id for p in procedures), evidence=current, approved_evidence=approved,
                        missing=missing, location=location)

    def _fact_evidence(self, collections: list[str]) -> list[str]:
        """Evidence carried by the entities that fill a point (sources tables: `evidence_from`)."""
        project, found = self.project, []
        assert project.system is not None
        for name in collections:
            if name == "test_reports":
                found += [e.id for e in project.evidence if e.type == "test-report"]
            elif name in ("models", "datasets"):
                found += [e for entity in getattr(project, name) for e in entity.evidence]
            elif name == "system":
                found += list(project.system.evidence)
            elif name in ("fria", "monitoring", "registration", "gpai_model"):
                entity = getattr(project, name)
                found += list(entity.evidence) if entity else []
            elif name in ("risk_management", "post_market_monitoring"):
                facts = getattr(project.system, name)
                procedure = self.procedures.get(facts.procedure) if facts and facts.procedure else None
                found += list(procedure.evidence) if procedure else []
        return found

    def _not_applicable_location(self, item_id: str) -> Location | None:
        system = self.project.system
        return system.field_locations.get("not_applicable") if system else None

    def _procedure_location(self) -> Location | None:
        """Where to add an Art. 17(1) aspect: the `art_17_aspects` of the first procedure, if there is one."""
        procedures = sorted(self.project.procedures, key=lambda p: p.id)
        if procedures:
            return procedures[0].field_locations.get("art_17_aspects", procedures[0].location)
        return None

    # parents -------------------------------------------------------------------------------------------------

    def _with_parents(self, items: list[ItemGrade]) -> list[ItemGrade]:
        """Grade each parent from its applicable children (the lowest of them): a parent is met only as far as
        all of its points are, and does not apply when none of them does."""
        by_id = {i.id: i for i in items}
        children: dict[str, list[str]] = {}
        for item in items:
            parent = item.parent if item.parent in by_id else _prefix_parent(item.id, by_id)
            if parent:
                children.setdefault(parent, []).append(item.id)
        resolved: dict[str, ItemGrade] = {}

        def resolve(item_id: str) -> ItemGrade:
            if item_id in resolved:
                return resolved[item_id]
            item = by_id[item_id]
            kids = [resolve(k) for k in children.get(item_id, [])]
            if kids and item.applicable:
                applicable = [k for k in kids if k.applicable]
                if not applicable:
                    item = _replace(item, grade=NOT_APPLICABLE, reason="none of its points applies")
                else:
                    lowest = _lowest([k.grade for k in applicable])
                    weakest = [k.ref for k in applicable if k.grade == lowest]
                    gate = max((k.gate for k in applicable), key=lambda g: -1 if g == NO_GATE else GRADES.index(g))
                    item = _replace(item, grade=lowest, reason=f"lowest of its points: {', '.join(weakest)} {lowest}", gate=gate,
                                    missing=tuple(m for k in applicable if k.grade == MISSING for m in k.missing),
                                    location=item.location or next((k.location for k in applicable if k.grade == lowest), None))
            elif kids and not item.applicable:
                for kid in kids:
                    resolved[kid.id] = _replace(kid, grade=NOT_APPLICABLE, reason=item.reason, missing=()) \
                        if kid.applicable else kid
            resolved[item_id] = item
            return item

        return [resolve(i.id) for i in items]


def _prefix_parent(item_id: str, by_id: dict[str, ItemGrade]) -> str | None:
    """The nearest item whose id is a dotted prefix of this one (art_10.2 for art_10.2.f)."""
    parts = item_id.split(".")
    for end in range(len(parts) - 1, 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in by_id:
            return candidate
    return None


def _replace(item: ItemGrade, **changes: object) -> ItemGrade:
    from dataclasses import replace

    return replace(item, **changes)  # type: ignore[arg-type]

"""Who the project is for the system and what follows for the obligations after the market: whether a fundamental
rights impact assessment is required (Art. 27(1)) and which section of Annex VIII the EU database registration takes
(Art. 49). Both read the roles, the classification and the obligations through `operator_facts`, which asks the
obligation rules of assess/obligations.py (class × role × conditions), so the decision is the one `classify` shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from techfile.assess.classification import ANNEX_III, HIGH_RISK, area, classify
from techfile.project import Project

# The obligation rules (eu_ai_act_obligations.yaml) behind each decision.
FRIA_RULE = "art_27"
REGISTRATION_RULES = {"art_49.1": "a", "art_49.2": "b", "art_49.3": "c"}
SECURE_SECTION_RULE = "art_49.4"


@dataclass(frozen=True)
class Held:
    """An obligation the project holds: its reference, why it holds it, and whether a condition is still open."""

    ref: str
    reason: str
    conditional: bool = False
    deferred: bool = False


@dataclass(frozen=True)
class OperatorFacts:
    """The roles, the classification and the post-market obligations the decisions read."""

    roles: tuple[str, ...]
    deployer_kind: str | None
    risk_class: str
    route: str  # "Art. 6(1)", "Art. 6(2)", "Art. 6(3)", ...
    route_key: str  # annex-i-a, annex-i-b, annex-iii, art-6-3, none
    annex_iii_points: tuple[str, ...]  # annex_iii.N.x
    annex_i_point: str | None
    held: dict[str, Held] = field(default_factory=dict)  # obligation rule id → how it is held
    why_not: dict[str, str] = field(default_factory=dict)  # obligation rule id → why the project does not hold it

    @property
    def high_risk(self) -> bool:
        return self.risk_class == HIGH_RISK

    @property
    def annex_iii_areas(self) -> set[int]:
        return {area(p) for p in self.annex_iii_points}


_FACTS: list[tuple[Project, OperatorFacts]] = []


def operator_facts(project: Project) -> OperatorFacts:
    """The project's roles (techfile.yaml `role`, with Art. 25), its classification and the obligations it holds."""
    from techfile.assess.obligations import CONDITIONAL, DEFERRED, applicabilities, effective_roles, obligations

    for known, facts in _FACTS:
        if known is project:
            return facts
    assert project.settings is not None and project.system is not None
    outcome = classify(project.system)
    # Whether an obligation is held does not depend on the date (only whether it applies yet): any date will do.
    when = dt.date.fromisoformat(project.settings.document_control.date)
    held = {o.id: Held(o.ref, o.reason + (f"; {o.condition}" if o.condition else ""), o.status == CONDITIONAL,
                       o.status == DEFERRED) for o in obligations(project, when)}
    not_held = applicabilities(project, [f"{rule}.1" if rule == FRIA_RULE else rule for rule in (FRIA_RULE, *REGISTRATION_RULES)],
                               when)
    why_not = {item.removesuffix(".1") if item.startswith(FRIA_RULE) else item: found.reason
               for item, found in not_held.items() if not found.applies}
    deployer = project.settings.eu_ai_act.deployer
    facts = OperatorFacts(tuple(r for r, _ in effective_roles(project.settings, outcome)),
                          deployer.kind if deployer else None, outcome.risk_class, outcome.route, outcome.route_key,
                          tuple(outcome.annex_iii_points), outcome.annex_i_point, held, why_not)
    _FACTS.append((project, facts))
    del _FACTS[:-8]
    return facts


@dataclass(frozen=True)
class Decision:
    """A yes/no decision with the provision and reasoning behind it."""

    applies: bool
    reason: str
    ref: str


def fria_requirement(project: Project) -> Decision:
    """Whether Art. 27(1) requires the project to perform a fundamental rights impact assessment before first use."""
    facts = operator_facts(project)
    ref = "Art. 27(1)"
    held = facts.held.get(FRIA_RULE)
    if held is None:
        return Decision(False, facts.why_not.get(FRIA_RULE, "the obligation does not bind this project"), ref)
    if held.conditional:
        return Decision(False, f"it may be required: {held.reason}", ref)
    if held.deferred:
        return Decision(False, f"not yet: {held.reason}", ref)
    return Decision(True, held.reason, ref)


@dataclass(frozen=True)
class RegistrationDecision:
    """Which sections of Annex VIII the registration takes, why, and whether it is the public part of the database."""

    sections: tuple[str, ...]
    reasons: tuple[str, ...]
    public: bool = True

    @property
    def required(self) -> bool:
        return bool(self.sections)


def registration_sections(project: Project) -> RegistrationDecision:
    """Annex VIII Section A (provider of an Annex III high-risk system, Art. 49(1)), B (provider relying on the
    Art. 6(3) derogation, Art. 49(2)) and C (public-authority deployer, Art. 49(3)), as role and class decide."""
    facts = operator_facts(project)
    sections, reasons = [], []
    for rule, letter in REGISTRATION_RULES.items():
        held = facts.held.get(rule)
        if held is not None and not held.deferred:
            sections.append(letter)
            reasons.append(f"Section {letter.upper()} ({held.ref}): {held.reason}")
    secure = facts.held.get(SECURE_SECTION_RULE)
    if sections and secure is not None:
        reasons.append(("possibly " if secure.conditional else "") + "the secure non-public section with the limited data "
                       f"of {secure.ref}: {secure.reason}")
    if not sections:
        if facts.high_risk and facts.route_key != ANNEX_III and not facts.annex_iii_points:
            reasons.append("Art. 49(1) registers Annex III systems; this one is high-risk as an Annex I product "
                           f"({facts.route}), which is not registered in the EU database")
        elif facts.annex_iii_areas == {2}:
            reasons.append("Annex III point 2 (critical infrastructure) systems are registered at national level, not in "
                           "the EU database (Art. 49(5))")
        else:
            reasons.append("no registration under Art. 49 binds the project: "
                           + "; ".join(f"{eu_ref}: {facts.why_not[rule]}" for rule, eu_ref in
                                       (("art_49.1", "Art. 49(1)"), ("art_49.3", "Art. 49(3)")) if rule in facts.why_not))
    public = secure is None or secure.conditional
    return RegistrationDecision(tuple(sections), tuple(reasons), public)

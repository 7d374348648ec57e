"""Who the project is for the system (provider, deployer, what kind of deployer) and what follows for the obligations
after the market: whether a fundamental rights impact assessment is required (Art. 27(1)) and which section of
Annex VIII the EU database registration takes (Art. 49).

`operator_facts` is the one place that reads the role and the classification for these decisions; when techfile.yaml
states operator roles of its own, only it changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from techfile.assess.classification import HIGH_RISK, classify
from techfile.project import Project

PROVIDER_ROLES = ("provider", "authorised-representative", "product-manufacturer")
PUBLIC_AUTHORITY_KINDS = ("public-authority", "union-institution")
PUBLIC_SERVICE_KINDS = ("body-governed-by-public-law", "private-entity-providing-public-services")
FRIA_USE_CASES = {"5.b": "creditworthiness assessment and credit scoring", "5.c": "risk assessment and pricing in life and health insurance"}
# Annex III points whose registration goes to the secure non-public section with limited data (Art. 49(4)): law
# enforcement (6) and migration, asylum and border control (7). Biometric systems (1) go there too when used in those
# areas, which the sources do not record; the reasoning says so.
NON_PUBLIC_AREAS = ("6", "7")


@dataclass(frozen=True)
class OperatorFacts:
    """The role and classification facts the post-market decisions read."""

    provider: bool
    deployer: bool
    deployer_kind: str | None
    risk_class: str
    route: str  # "Art. 6(1)", "Art. 6(2)", "Art. 6(3)", "Art. 5", "Art. 50", ""
    annex_iii_use: str | None  # as written in system.yaml, e.g. "5.b"

    @property
    def high_risk(self) -> bool:
        return self.risk_class == HIGH_RISK

    @property
    def annex_iii_area(self) -> str | None:
        return self.annex_iii_use.partition(".")[0] if self.annex_iii_use else None

    @property
    def annex_iii_high_risk(self) -> bool:
        """High-risk through an Annex III use (Art. 6(2)), rather than as an Annex I product."""
        return self.high_risk and self.route == "Art. 6(2)"


def operator_facts(project: Project) -> OperatorFacts:
    """The project's role (techfile.yaml `role`, `deployer`) and its EU AI Act classification."""
    assert project.settings is not None and project.system is not None
    settings, outcome = project.settings, classify(project.system)
    use = project.system.classification.annex_iii
    deployer = settings.deployer
    return OperatorFacts(
        provider=settings.role in PROVIDER_ROLES,
        deployer=settings.role == "deployer" or deployer is not None,
        deployer_kind=deployer.kind if deployer else None,
        risk_class=outcome.risk_class,
        route=outcome.route,
        annex_iii_use=use.use_case if use.applies else None,
    )


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
    if not facts.deployer:
        return Decision(False, "the project does not deploy the system (techfile.yaml `role` is not deployer and "
                               "there is no `deployer`); Art. 27(1) binds deployers", ref)
    if not facts.annex_iii_high_risk:
        return Decision(False, "Art. 27(1) covers high-risk systems of Art. 6(2) (Annex III); the classification does "
                               f"not make this system one (risk class {facts.risk_class}"
                               + (f", {facts.route}" if facts.route else "") + ")", ref)
    if facts.annex_iii_area == "2":
        return Decision(False, "Art. 27(1) leaves out Annex III point 2 (critical infrastructure)", ref)
    if facts.annex_iii_use in FRIA_USE_CASES:
        point = facts.annex_iii_use.replace(".", "(") + ")"
        return Decision(True, f"the project deploys an Annex III point {point} system "
                              f"({FRIA_USE_CASES[facts.annex_iii_use]})", ref)
    if facts.deployer_kind in (*PUBLIC_AUTHORITY_KINDS, *PUBLIC_SERVICE_KINDS):
        return Decision(True, f"the deployer is a {facts.deployer_kind.replace('-', ' ')} and deploys an Annex III "
                              "high-risk system", ref)
    return Decision(False, "the deployer is neither a body governed by public law nor a private entity providing public "
                           "services, and the system is not an Annex III point 5(b) or 5(c) system", ref)


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
    sections: list[str] = []
    reasons: list[str] = []
    if facts.annex_iii_use is None:
        reason = ("Art. 49(1) registers Annex III systems; this one is high-risk as an Annex I product (Art. 6(1)), "
                  "which is not registered in the EU database") if facts.high_risk else \
                 "Art. 49 registers Annex III systems; system.yaml names no Annex III use"
        return RegistrationDecision((), (reason,))
    if facts.annex_iii_area == "2":
        return RegistrationDecision((), ("Annex III point 2 (critical infrastructure) systems are registered at national "
                                         "level, not in the EU database (Art. 49(5))",))
    if facts.provider and facts.annex_iii_high_risk:
        sections.append("a")
        reasons.append("Section A: the provider registers itself and its Annex III high-risk system (Art. 49(1))")
    elif facts.provider and facts.route == "Art. 6(3)":
        sections.append("b")
        reasons.append("Section B: the provider concluded under Art. 6(3) that its Annex III system is not high-risk "
                       "(Art. 49(2))")
    if facts.deployer and facts.annex_iii_high_risk and facts.deployer_kind in PUBLIC_AUTHORITY_KINDS:
        sections.append("c")
        reasons.append("Section C: a deployer that is a public authority or Union body registers its use (Art. 49(3))")
    if not sections:
        reasons.append("no Art. 49 registration applies to the project's role (techfile.yaml `role`, `deployer`) and "
                       "classification")
    public = facts.annex_iii_area not in NON_PUBLIC_AREAS
    if not public and sections:
        reasons.append("Annex III points 6 and 7 go into the secure non-public section, with the limited data of "
                       "Art. 49(4)")
    elif facts.annex_iii_area == "1" and sections:
        reasons.append("a biometric system used for law enforcement, migration, asylum or border control goes into the "
                       "secure non-public section (Art. 49(4)); the sources do not say so, so the public data is shown")
    return RegistrationDecision(tuple(sections), tuple(reasons), public)

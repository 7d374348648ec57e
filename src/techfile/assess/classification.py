"""EU AI Act risk classification: from the system's classification facts to a risk class, with the reasoning."""

from __future__ import annotations

from dataclasses import dataclass, field

from techfile.frameworks.eu_ai_act import EuAiAct, eu_ai_act
from techfile.project import Classification as ClassificationFacts
from techfile.project import System

PROHIBITED, HIGH_RISK, TRANSPARENCY, MINIMAL = "prohibited", "high-risk", "transparency", "minimal"

# Documents (techfile.yaml `outputs.documents` kinds) each class requires.
REQUIRED_DOCUMENTS = {
    HIGH_RISK: ["technical-file", "declaration-of-conformity", "instructions-for-use", "qms-manual", "logbook",
                "risk-register", "model-cards", "datasheets"],
    TRANSPARENCY: ["model-cards", "datasheets", "risk-register"],
    MINIMAL: ["model-cards", "datasheets", "risk-register"],
    PROHIBITED: [],
}


@dataclass(frozen=True)
class Step:
    """One question of the classification, its answer from the sources, and the provision that decides it."""

    question: str
    answer: str
    ref: str
    decisive: bool = False


@dataclass(frozen=True)
class Obligation:
    ref: str
    what: str


@dataclass(frozen=True)
class Classification:
    """The outcome: risk class, the deciding provision, the steps that led there, and what follows."""

    risk_class: str
    deciding_ref: str
    route: str  # "Art. 6(1)", "Art. 6(2)", "Art. 5", "Art. 50", ""
    steps: list[Step]
    obligations: list[Obligation] = field(default_factory=list)
    conformity_assessment: str = ""
    transparency_obligations: list[str] = field(default_factory=list)
    dates: list[tuple[str, str]] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)

    @property
    def high_risk(self) -> bool:
        return self.risk_class == HIGH_RISK

    @property
    def required_documents(self) -> list[str]:
        return REQUIRED_DOCUMENTS[self.risk_class]


def annex_iii_id(use_case: str) -> str:
    """The catalogue id of an Annex III use case written as in the sources: "5.d" → annex_iii.5.d, "2" → annex_iii.2.use."""
    area, _, letter = use_case.partition(".")
    return f"annex_iii.{area}.{letter or 'use'}"


def classify(system: System) -> Classification:
    """Decide the EU AI Act risk class of `system` step by step (Art. 5, 6(1), 6(2)-(3), 50)."""
    act = eu_ai_act()
    facts = system.classification
    steps: list[Step] = []
    caveats: list[str] = []
    transparency = _transparency(facts, act)

    screening = facts.prohibited_practices_screening
    if not screening.screened:
        caveats.append("The Art. 5 screening for prohibited practices has not been done; the outcome assumes none applies.")
    if screening.practices_found:
        names = [f"{act.ref(p)} ({act.title(p)})" for p in screening.practices_found]
        steps.append(Step("Does the system use a prohibited practice?", "Yes: " + "; ".join(names),
                          act.ref(screening.practices_found[0]), decisive=True))
        return _outcome(PROHIBITED, act.ref(screening.practices_found[0]), "Art. 5", steps, caveats, transparency, act)
    steps.append(Step("Does the system use a prohibited practice?",
                      "No; the screening found none." if screening.screened else "Not screened; assumed no.", "Art. 5(1)"))

    product = facts.annex_i_product
    if product.applies and product.third_party_assessment:
        answer = (f"Yes. Product: {(product.product or 'not described').rstrip('.')}. "
                  f"Legislation: {(product.legislation or 'not named').rstrip('.')}. A third-party conformity assessment is required.")
        steps.append(Step("Is it a product, or a safety component of a product, covered by Annex I legislation "
                          "that requires a third-party conformity assessment?", answer, "Art. 6(1)", decisive=True))
        return _outcome(HIGH_RISK, "Art. 6(1)", "Art. 6(1)", steps, caveats, transparency, act, system)
    steps.append(Step("Is it a product, or a safety component of a product, covered by Annex I legislation that requires "
                      "a third-party conformity assessment?",
                      "Covered by Annex I legislation, but no third-party assessment is required." if product.applies else "No.",
                      "Art. 6(1)"))

    use = facts.annex_iii
    if use.applies and use.use_case:
        use_id = annex_iii_id(use.use_case)
        steps.append(Step("Is it used in an area listed in Annex III?",
                          f"Yes: {act.ref(use_id)}, {act.title(use_id)}.", "Art. 6(2)"))
        derogation = facts.derogation_art_6_3
        if derogation and derogation.claimed:
            if derogation.profiling:
                steps.append(Step("Does the Art. 6(3) derogation apply?",
                                  "No: the system profiles natural persons, so it is always high-risk.",
                                  "Art. 6(3), third subparagraph", decisive=True))
                return _outcome(HIGH_RISK, "Art. 6(3), third subparagraph", "Art. 6(2)", steps, caveats, transparency, act, system)
            condition = f"art_6.3.{derogation.condition}" if derogation.condition else "art_6.3"
            steps.append(Step("Does the Art. 6(3) derogation apply?",
                              f"Yes: {act.title(condition)} ({derogation.justification or 'no justification recorded'}).",
                              act.ref(condition), decisive=True))
            caveats.append("Document the Art. 6(3) assessment before placing on the market and register the system "
                           "(Art. 6(4), Art. 49(2)); a market-surveillance authority may ask for it.")
            return _outcome(TRANSPARENCY if transparency else MINIMAL, act.ref(condition), "Art. 6(3)", steps, caveats,
                            transparency, act)
        steps.append(Step("Does the Art. 6(3) derogation apply?", "Not claimed.", "Art. 6(3)", decisive=True))
        return _outcome(HIGH_RISK, "Art. 6(2)", "Art. 6(2)", steps, caveats, transparency, act, system)
    steps.append(Step("Is it used in an area listed in Annex III?", "No.", "Art. 6(2)"))

    if transparency:
        steps.append(Step("Does it trigger transparency obligations?", "Yes: " + "; ".join(transparency), "Art. 50",
                          decisive=True))
        return _outcome(TRANSPARENCY, "Art. 50", "Art. 50", steps, caveats, transparency, act)
    steps.append(Step("Does it trigger transparency obligations?", "No.", "Art. 50", decisive=True))
    return _outcome(MINIMAL, "Art. 50", "", steps, caveats, transparency, act)


def _transparency(facts: ClassificationFacts, act: EuAiAct) -> list[str]:
    flags = facts.transparency_art_50
    if flags is None:
        return []
    triggered = [
        ("art_50.1", flags.interacts_with_persons), ("art_50.2", flags.synthetic_content),
        ("art_50.3", flags.emotion_recognition_or_biometric_categorisation), ("art_50.4", flags.deep_fake),
    ]
    return [f"{act.ref(item)}: {act.title(item)}" for item, on in triggered if on]


def _outcome(risk_class: str, deciding_ref: str, route: str, steps: list[Step], caveats: list[str],
             transparency: list[str], act: EuAiAct, system: System | None = None) -> Classification:
    obligations: list[Obligation] = []
    assessment = ""
    if risk_class == PROHIBITED:
        obligations.append(Obligation("Art. 5", "The system may not be placed on the market, put into service or used in the Union."))
    elif risk_class == HIGH_RISK and system is not None:
        obligations += [Obligation(ref, what) for ref, what in act.high_risk_obligations()]
        assessment = _assessment_route(system, route)
    if transparency:
        obligations.append(Obligation("Art. 50", "Inform the persons concerned as Art. 50 requires: " + "; ".join(transparency)))
    return Classification(risk_class, deciding_ref, route, steps, obligations, assessment, transparency,
                          act.application_dates(risk_class, route), caveats)


def _assessment_route(system: System, route: str) -> str:
    """Which conformity assessment procedure applies (Art. 43)."""
    facts = system.classification
    if route == "Art. 6(1)":
        body = facts.annex_i_product.notified_body
        named = f" ({body.name}, number {body.number})" if body else ""
        return ("The conformity assessment procedure of the Annex I legislation, carried out by its Notified Body"
                f"{named}, which also covers the AI Act requirements (Art. 43(3)).")
    use = facts.annex_iii.use_case or ""
    if use.startswith("1"):
        return ("Biometrics (Annex III point 1): internal control (Annex VI) where harmonised standards are applied in full, "
                "otherwise a Notified Body assesses the quality management system and technical documentation (Annex VII) (Art. 43(1)).")
    return "Internal control (Annex VI), with no Notified Body involved (Art. 43(2))."

"""EU AI Act risk class: from the system's classification facts to a class, with the reasoning — the one place the class
is decided. Facts that are missing or contradict each other are problems with a code and a place, never a silent
default: the class is only decided when every fact it depends on is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from techfile.frameworks.eu_ai_act import EuAiAct, Item, eu_ai_act
from techfile.project import Classification as ClassificationFacts
from techfile.project import Location, System

PROHIBITED, HIGH_RISK, TRANSPARENCY, MINIMAL = "prohibited", "high-risk", "transparency", "minimal"
# Routes: which provision made the system high-risk (or took an Annex III system out of it).
ANNEX_I_A, ANNEX_I_B, ANNEX_III, DEROGATED, NO_ROUTE = "annex-i-a", "annex-i-b", "annex-iii", "art-6-3", "none"
GPAI_SYSTEMIC_FLOPS = 1e25  # Art. 51(2)

# Documents (techfile.yaml `outputs.documents` kinds) each class requires.
REQUIRED_DOCUMENTS = {
    HIGH_RISK: ["technical-file", "declaration-of-conformity", "instructions-for-use", "qms-manual", "logbook",
                "risk-register", "model-cards", "datasheets"],
    TRANSPARENCY: ["model-cards", "datasheets", "risk-register"],
    MINIMAL: ["model-cards", "datasheets", "risk-register"],
    PROHIBITED: [],
}
# Art. 50 facts → the paragraph they trigger.
ART_50_FLAGS = (("interacts_with_persons", "art_50.1"), ("synthetic_content", "art_50.2"),
                ("emotion_recognition_or_biometric_categorisation", "art_50.3"), ("deep_fake", "art_50.4"))


@dataclass(frozen=True)
class Step:
    """One question of the classification, its answer from the sources, and the provision that decides it."""

    question: str
    answer: str
    ref: str
    decisive: bool = False
    topic: str = ""  # art5, annex_i, exclusion, annex_iii, derogation, art50, gpai


@dataclass(frozen=True)
class FactProblem:
    """A classification fact that is missing or contradicts another: `code` (TF6xx), message, hint and where."""

    code: str
    message: str
    hint: str
    where: Location


@dataclass(frozen=True)
class GpaiOutcome:
    """The general-purpose AI model the project provides: with or without systemic risk, and why."""

    systemic_risk: bool
    ref: str
    reason: str


@dataclass(frozen=True)
class Classification:
    """The outcome: risk class, the deciding provision, the steps that led there, and the facts later stages read."""

    risk_class: str
    deciding_ref: str
    route: str  # the legal route as cited: "Art. 5", "Art. 6(1)", "Art. 6(2)", "Art. 6(3)", "Art. 50", ""
    route_key: str  # annex-i-a, annex-i-b, annex-iii, art-6-3, none
    steps: list[Step]
    conformity_assessment: str = ""
    transparency: list[str] = field(default_factory=list)  # Art. 50 item ids that apply
    caveats: list[str] = field(default_factory=list)
    problems: list[FactProblem] = field(default_factory=list)
    practices: list[str] = field(default_factory=list)  # Art. 5 item ids found
    annex_i_point: str | None = None  # annex_i.N
    annex_i_section: str | None = None
    annex_iii_points: list[str] = field(default_factory=list)  # annex_iii.N.x
    annex_iii_exclusions: list[str] = field(default_factory=list)
    derogation_conditions: list[str] = field(default_factory=list)  # art_6.3.x applied
    profiling: bool | None = None
    calendar_route: str = ""  # the route whose dates apply (the earlier one when Annex I and Annex III both apply)
    gpai: GpaiOutcome | None = None
    certain: bool = True  # with problems: whether the missing facts can only confirm this class, not lower it

    @property
    def high_risk(self) -> bool:
        return self.risk_class == HIGH_RISK

    @property
    def decided(self) -> bool:
        return not any(is_error(p) for p in self.problems)

    @property
    def required_documents(self) -> list[str]:
        return REQUIRED_DOCUMENTS[self.risk_class]

    @property
    def transparency_obligations(self) -> list[str]:
        act = eu_ai_act()
        return [f"{act.ref(i)}: {act.title(i)}" for i in self.transparency]

    @property
    def headline(self) -> str:
        """The class and the provision that decides it, as one line."""
        if not self.decided:
            known = f"; the facts given make it at least {self.risk_class.upper()} ({self.deciding_ref})" \
                if self.certain and self.risk_class in (PROHIBITED, HIGH_RISK) else ""
            return f"UNDECIDED: {sum(is_error(p) for p in self.problems)} classification fact(s) to fix{known}"
        also = ""
        if self.transparency and self.risk_class in (HIGH_RISK, PROHIBITED):
            also = "; transparency obligations of " + ", ".join(eu_ai_act().ref(i) for i in self.transparency) + " too"
        if self.gpai is not None:
            also += "; general-purpose AI model " + ("with" if self.gpai.systemic_risk else "without") + \
                f" systemic risk ({self.gpai.ref})"
        return f"{self.risk_class.upper()} (decided by {self.deciding_ref}{also})"


def is_error(problem: FactProblem) -> bool:
    return _severities().get(problem.code, "error") == "error"


@cache
def _severities() -> dict[str, str]:
    from techfile.diagnostics import code_catalogue

    return {code: entry["severity"] for code, entry in code_catalogue().items()}


def annex_iii_id(use_case: str) -> str:
    """The catalogue id of an Annex III use case written as in the sources: "5.d" → annex_iii.5.d, "2" → annex_iii.2.use."""
    area, _, letter = use_case.partition(".")
    return f"annex_iii.{area}.{letter or 'use'}"


def area(point_id: str) -> int:
    """The Annex III area (1-8) of a use-case id."""
    return int(point_id.split(".")[1])


class _Facts:
    """Locations of the classification facts, for problems that name the place to fix."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.facts = system.classification
        self.root = system.field_locations.get("classification", system.location)

    def at(self, block: str, key: str | None = None) -> Location:
        """Where `classification.<block>.<key>` is written, else its block, else `classification`."""
        record = getattr(self.facts, block, None)
        block_at = self.facts.field_locations.get(block, self.root)
        if record is None or key is None:
            return block_at
        return getattr(record, "field_locations", {}).get(key, block_at)


def classify(system: System) -> Classification:
    """Decide the EU AI Act risk class of `system` step by step: Art. 5, Art. 6(1) with Annex I, Art. 6(2)-(3) with
    Annex III, Art. 50, and the general-purpose model facts (Art. 51)."""
    return _Classifier(system).run()


class _Classifier:
    def __init__(self, system: System) -> None:
        self.act: EuAiAct = eu_ai_act()
        self.system = system
        self.facts: ClassificationFacts = system.classification
        self.where = _Facts(system)
        self.steps: list[Step] = []
        self.caveats: list[str] = []
        self.problems: list[FactProblem] = []

    def problem(self, code: str, where: Location, message: str, hint: str) -> None:
        self.problems.append(FactProblem(code, message, hint, where))

    # --- the decision ------------------------------------------------------------------------------------------

    def run(self) -> Classification:
        practices = self.prohibited_practices()
        annex_i = self.annex_i()
        points, exclusions = self.annex_iii()
        profiling = self.profiling(points)
        conditions = self.derogation(points, annex_i is not None, profiling)
        transparency = self.transparency(points)
        gpai = self.gpai()
        point, section = (annex_i or (None, None))
        common = {"caveats": self.caveats, "problems": self.problems, "practices": practices, "annex_iii_points": points,
                  "annex_iii_exclusions": exclusions, "profiling": profiling, "transparency": transparency, "gpai": gpai,
                  "annex_i_point": point.id if point else None, "annex_i_section": section}
        claimed = self._derogation_claimed()

        if practices:
            return self._outcome(PROHIBITED, "art5", "Art. 5", "none", common)
        if annex_i is not None:
            route = ANNEX_I_B if section == "B" else ANNEX_I_A
            calendar_route = ANNEX_III if points and not conditions and route == ANNEX_I_A else route
            if calendar_route != route:
                self.caveats.append(f"It is also listed in {self._points_ref(points)}: the Annex III date (Art. 6(2)) "
                                    "comes first, so the high-risk obligations are dated from it.")
            return self._outcome(HIGH_RISK, "annex_i", "Art. 6(1)", route, common, self._assessment(route, points),
                                 calendar_route=calendar_route)
        if points and not conditions:
            certain = not claimed or profiling is True
            topic = "derogation" if claimed and profiling else "annex_iii"
            return self._outcome(HIGH_RISK, topic, "Art. 6(2)", ANNEX_III, common, self._assessment(ANNEX_III, points),
                                 calendar_route=ANNEX_III, certain=certain)
        if points and conditions:
            common["derogation_conditions"] = conditions
            if transparency:
                return self._outcome(TRANSPARENCY, "art50", "Art. 6(3)", DEROGATED, common, calendar_route=ANNEX_III)
            return self._outcome(MINIMAL, "derogation", "Art. 6(3)", DEROGATED, common, calendar_route=ANNEX_III)
        if self.facts.annex_iii.applies and not points:  # TF607/TF604: Annex III applies, the point is unknown
            self.steps.append(Step("Is it used in an area listed in Annex III?", "Yes, but the point is not named.",
                                   "Art. 6(2)", topic="annex_iii_unnamed"))
            return self._outcome(HIGH_RISK, "annex_iii_unnamed", "Art. 6(2)", ANNEX_III, common,
                                 calendar_route=ANNEX_III, certain=not claimed)
        if transparency:
            return self._outcome(TRANSPARENCY, "art50", "Art. 50", NO_ROUTE, common)
        negative = [s.topic for s in self.steps if s.topic in ("exclusion", "annex_i") and s.decisive]
        return self._outcome(MINIMAL, negative[0] if negative else "", "", NO_ROUTE, common)

    def _outcome(self, risk_class: str, topic: str, route: str, route_key: str, common: dict[str, object],
                 assessment: str = "", calendar_route: str = "", certain: bool = True) -> Classification:
        """The classification, with the step of `topic` marked as the one that decides and cited in the headline."""
        steps = [Step(s.question, s.answer, s.ref, s.topic == topic and bool(topic), s.topic) for s in self.steps]
        refs = list(dict.fromkeys(s.ref for s in steps if s.decisive))
        deciding = ", ".join(refs) if refs else "Art. 5, Art. 6 and Art. 50: none applies"
        return Classification(risk_class, deciding, route, route_key, steps, assessment, calendar_route=calendar_route,
                              certain=certain, **common)  # type: ignore[arg-type]

    # --- Art. 5 ------------------------------------------------------------------------------------------------

    def prohibited_practices(self) -> list[str]:
        screening = self.facts.prohibited_practices_screening
        question = "Does the system use a prohibited practice?"
        found = []
        for practice in screening.practices_found:
            if practice not in self.act.items:
                continue  # reported by the framework-id check (TF606)
            top = ".".join(practice.split(".")[:3])
            found.append(top)
        found = list(dict.fromkeys(found))
        if found:
            parts = []
            for practice in found:
                item = self.act.items[practice]
                when = " (applies from 2026-12-02; reported)" if item.get("calendar") == "apply.prohibitions_2026" else ""
                parts.append(f"{item.ref} ({item.title}){when}")
            self.steps.append(Step(question, "Yes: " + "; ".join(parts), ", ".join(self.act.ref(f) for f in found), topic="art5"))
            return found
        if not screening.screened:
            self.caveats.append("The Art. 5 screening for prohibited practices has not been done; the outcome assumes none applies.")
        self.steps.append(Step(question, "No; the screening found none." if screening.screened else "Not screened; assumed no.",
                               "Art. 5(1)", topic="art5"))
        return []

    # --- Art. 6(1), Annex I --------------------------------------------------------------------------------------

    def annex_i(self) -> tuple[Item | None, str | None] | None:
        """The Annex I point and section when Art. 6(1) makes the system high-risk; None otherwise."""
        product = self.facts.annex_i_product
        question = ("Is it a product, or a safety component of a product, covered by an Annex I act that requires a "
                    "third-party conformity assessment?")
        if not product.applies:
            self.steps.append(Step(question, "No Annex I product.", "Art. 6(1)", topic="annex_i"))
            return None
        point, section = self._annex_i_point(product)
        described = self._describe_product(product, point, section)
        if product.kind == "safety-component" and product.safety_function is None:
            self.problem("TF613", self.where.at("annex_i_product", "kind"),
                         "`annex_i_product.kind` is safety-component but `safety_function` is not answered",
                         "Say whether the component fulfils a safety function or its failure endangers health or safety "
                         "(Art. 3(14), Art. 6(1a)-(1c)): `safety_function: true` or `false`.")
            return None
        if product.kind == "safety-component" and product.safety_function is False:
            self.steps.append(Step(question, f"{described} The component fulfils no safety function and its failure would "
                                   "not endanger health or safety, so it is no safety component (Art. 3(14); Art. 6(1a)-(1c) "
                                   "as amended, reported).", "Art. 6(1)(a)", decisive=True, topic="annex_i"))
            return None
        if product.third_party_assessment is None:
            self.problem("TF610", self.where.at("annex_i_product"),
                         "`annex_i_product.applies` is true but `third_party_assessment` is not answered",
                         "Say whether the Annex I act requires a third-party conformity assessment of the product "
                         "(Art. 6(1)(b)): `third_party_assessment: true` or `false`.")
            return None
        if product.third_party_assessment is False:
            self.steps.append(Step(question, f"{described} The Annex I act requires no third-party conformity assessment, "
                                   "so Art. 6(1)(b) is not met.", "Art. 6(1)(b)", decisive=True, topic="annex_i"))
            return None
        if point is None and section is None:
            return (None, None)  # TF611 already reported; Art. 6(1) is met whatever the act
        limit = " Section B: of the AI Act only Art. 6(1), 102-109 and 112 apply (Art. 2(2))." if section == "B" else ""
        self.steps.append(Step(question, f"Yes. {described} A third-party conformity assessment is required.{limit}",
                               f"Art. 6(1), {self._annex_i_ref(point, section)}", topic="annex_i"))
        return point, section

    def _annex_i_point(self, product: object) -> tuple[Item | None, str | None]:
        """The Annex I point of the product's act and its section, checking `section` against it."""
        assert hasattr(product, "act")
        named = product.act  # type: ignore[attr-defined]
        stated = product.section  # type: ignore[attr-defined]
        point: Item | None = None
        if named:
            candidates = self.act.annex_i_acts_in(named) or ([self.act.annex_i_act(named)] if self.act.annex_i_act(named) else [])
            if not candidates:
                self.problem("TF611", self.where.at("annex_i_product", "act"),
                             f"`annex_i_product.act` {named!r} is not an act listed in Annex I",
                             "Write the number of an Annex I act, e.g. \"2017/745\" (medical devices) or \"2014/33\" (lifts).")
                return None, stated
            point = candidates[0]
        else:
            found = self.act.annex_i_acts_in(product.legislation or "")  # type: ignore[attr-defined]
            if len(found) == 1:
                point = found[0]
            elif not stated:
                self.problem("TF611", self.where.at("annex_i_product"),
                             "`annex_i_product.applies` is true but the Annex I act is not named",
                             "Add `act:` with the act's number as Annex I lists it, e.g. \"2017/745\", or `section: A` or `B`.")
                return None, None
        if point is not None and point.get("replaced_by"):
            replaced = self.act.items[point.get("replaced_by")]
            self.caveats.append(f"{point.ref} ({point.get('instrument')}) is reported deleted by {point.get('deleted_by')}; "
                                f"the product now falls under {replaced.ref} ({replaced.get('instrument')}), Section "
                                f"{replaced.get('section')} (secondary sources; the Official Journal text was not read).")
            point = replaced
        section = point.get("section") if point is not None else stated
        if point is not None and stated and stated != section:
            if point.reported:
                self.caveats.append(f"You state Section {stated}; the amended Annex I reportedly lists {point.ref} in "
                                    f"Section {section}. Section {stated} is used, as you state.")
                section = stated
            else:
                self.problem("TF612", self.where.at("annex_i_product", "section"),
                             f"`annex_i_product.section` is {stated} but {point.ref} ({point.get('instrument')}) is in Section {section}",
                             f"Write `section: {section}`, or name the act the product falls under.")
        return point, section

    def _describe_product(self, product: object, point: Item | None, section: str | None) -> str:
        what = (getattr(product, "product", None) or "not described").rstrip(".")
        kind = {"product": " (the AI system is the product)", "safety-component": " (a safety component)"}.get(
            getattr(product, "kind", None) or "", "")
        act = f"{point.title}, {point.ref}, Section {section}" if point else \
            (getattr(product, "legislation", None) or "act not named").rstrip(".")
        return f"Product: {what}{kind}. Legislation: {act}."

    @staticmethod
    def _annex_i_ref(point: Item | None, section: str | None) -> str:
        if point is None:
            return f"Annex I, Section {section}"
        return f"Annex I, Section {section}, point {point.ref.rsplit(' ', 1)[-1]} ({point.get('instrument')})"

    # --- Art. 6(2), Annex III, and the Art. 6(3) derogation -------------------------------------------------------

    def annex_iii(self) -> tuple[list[str], list[str]]:
        """The Annex III points that apply and the exclusions relied on (catalogue ids)."""
        use = self.facts.annex_iii
        question = "Is it used in an area listed in Annex III?"
        written = use.all_use_cases
        points = []
        for case in written:
            point = annex_iii_id(case)
            if point not in self.act.items:
                self.problem("TF604", self.where.at("annex_iii", "use_cases" if case in use.use_cases else "use_case"),
                             f"Annex III has no use case {case!r}", "Write the area and letter, e.g. \"5.d\", or \"2\" for area 2.")
            else:
                points.append(point)
        exclusions = []
        for case in use.exclusions:
            point = annex_iii_id(case)
            item = self.act.items.get(point)
            where = self.where.at("annex_iii", "exclusions")
            if item is None:
                self.problem("TF604", where, f"Annex III has no use case {case!r}", "Write the area and letter, e.g. \"5.b\".")
            elif not item.get("exclusion"):
                with_exclusions = ", ".join(f'"{i.id.removeprefix("annex_iii.")}"' for i in self.act.section("annex_iii")
                                            if i.get("exclusion"))
                self.problem("TF609", where, f"`annex_iii.exclusions` names {case!r}, but {item.ref} has no exclusion",
                             f"Only these Annex III points carry an exclusion: {with_exclusions}.")
            elif point in points:
                self.problem("TF608", where, f"{item.ref} is both listed as applying and as excluded",
                             "Keep it in `use_cases` if the use falls under the point, or in `exclusions` if its exclusion applies.")
            else:
                exclusions.append(point)
        if use.applies and not written:
            self.problem("TF607", self.where.at("annex_iii", "applies"),
                         "`annex_iii.applies` is true but no Annex III use case is named",
                         "Name the point and letter in `use_case` (e.g. \"4.a\") or several in `use_cases`.")
        if not use.applies and written:
            self.problem("TF608", self.where.at("annex_iii", "applies"),
                         f"`annex_iii.applies` is false but use cases are named ({', '.join(written)})",
                         "Set `applies: true` if they apply; if an exclusion takes the system out, list it under `exclusions`.")
            points = []
        for point in exclusions:
            item = self.act.items[point]
            self.steps.append(Step(f"Does an Annex III exclusion take it out of {item.ref}?",
                                   f"Yes: {item.ref} excludes {item.get('exclusion')[0].lower() + item.get('exclusion')[1:]}.",
                                   f"{item.ref} (exclusion)", decisive=True, topic="exclusion"))
        if points and use.applies:
            answer = "Yes: " + "; ".join(f"{self.act.ref(p)}, {self.act.title(p)}" for p in points) + "."
            self.steps.append(Step(question, answer, f"Art. 6(2), {self._points_ref(points)}", topic="annex_iii"))
            return points, exclusions
        if not use.applies:
            self.steps.append(Step(question, "No." if not exclusions else "No: excluded as above.", "Art. 6(2)", topic="annex_iii"))
        return [], exclusions

    def profiling(self, points: list[str]) -> bool | None:
        """Whether the Annex III system profiles natural persons (Art. 6(3), third subparagraph)."""
        if not points:
            return None
        implied = [p for p in points if self.act.items[p].get("profiling")]
        derogation = self.facts.derogation_art_6_3
        stated = derogation.profiling if derogation else None
        if implied and stated is False:
            self.problem("TF617", self.where.at("derogation_art_6_3", "profiling"),
                         f"`derogation_art_6_3.profiling` is false, but {self.act.ref(implied[0])} is profiling by definition",
                         "Set `profiling: true`: such a system is always high-risk (Art. 6(3), third subparagraph).")
        return True if implied else stated

    def _derogation_claimed(self) -> bool:
        derogation = self.facts.derogation_art_6_3
        return bool(derogation and derogation.claimed)

    def derogation(self, points: list[str], annex_i_high_risk: bool, profiling: bool | None) -> list[str]:
        """The Art. 6(3) conditions that take the Annex III system out of high-risk; [] when it stays high-risk."""
        derogation = self.facts.derogation_art_6_3
        question = "Does the Art. 6(3) derogation apply?"
        if not points and not self._derogation_claimed():
            return []
        if not self._derogation_claimed():
            answer = "Not claimed."
            if profiling is not None:
                answer += " It profiles natural persons." if profiling else " It does not profile natural persons."
            self.steps.append(Step(question, answer, "Art. 6(3)", topic="derogation"))
            return []
        assert derogation is not None
        if not points or annex_i_high_risk:
            why = "it is high-risk under Art. 6(1)" if annex_i_high_risk else "no Annex III use case applies"
            self.problem("TF616", self.where.at("derogation_art_6_3", "claimed"),
                         f"the Art. 6(3) derogation is claimed, but {why}",
                         "Art. 6(3) only takes Annex III systems out of high-risk: set `claimed: false`.")
            return []
        conditions = [f"art_6.3.{c}" for c in derogation.all_conditions]
        if not conditions:
            self.problem("TF614", self.where.at("derogation_art_6_3", "claimed"),
                         "the Art. 6(3) derogation is claimed without a condition",
                         "Name the condition(s) relied on in `condition` (a, b, c or d) or `conditions`.")
        if profiling is None:
            self.problem("TF615", self.where.at("derogation_art_6_3", "claimed"),
                         "the Art. 6(3) derogation is claimed but `profiling` is not answered",
                         "Say whether the system profiles natural persons (`profiling: true` or `false`); if it does, it "
                         "stays high-risk (Art. 6(3), third subparagraph).")
        if not conditions or profiling is None:
            return []
        if profiling:
            self.steps.append(Step(question, "No: the system profiles natural persons, so it is always high-risk.",
                                   "Art. 6(3), third subparagraph", topic="derogation"))
            return []
        reason = derogation.justification or "no justification recorded"
        titles = "; ".join(self.act.title(c) for c in conditions)
        self.steps.append(Step(question, f"Yes: {titles} ({reason}). It does not profile natural persons.",
                               ", ".join(self.act.ref(c) for c in conditions), topic="derogation"))
        self.caveats.append("Document the Art. 6(3) assessment before placing on the market and register the system "
                            "(Art. 6(4), Art. 49(2)); a market-surveillance authority may ask for it.")
        return conditions

    # --- Art. 50 -------------------------------------------------------------------------------------------------

    def transparency(self, points: list[str]) -> list[str]:
        flags = self.facts.transparency_art_50
        question = "Does it trigger transparency obligations?"
        biometric = [p for p in points if p in ("annex_iii.1.b", "annex_iii.1.c")]
        if flags is None:
            triggered = ["art_50.3"] if biometric else []
            if biometric:
                self.steps.append(Step(question, f"Yes: {self.act.ref(biometric[0])} is emotion recognition or biometric "
                                       "categorisation, so Art. 50(3) applies.", "Art. 50(3)", topic="art50"))
            elif self._would_be_minimal(points):
                self.problem("TF618", self.where.root,
                             "the Art. 50 transparency facts are not recorded, so the system cannot be classed as minimal-risk",
                             "Add `transparency_art_50` with interacts_with_persons, synthetic_content, "
                             "emotion_recognition_or_biometric_categorisation and deep_fake (true or false).")
            else:
                self.problem("TF619", self.where.root,
                             "the Art. 50 transparency facts are not recorded; the obligations listed may be incomplete",
                             "Add `transparency_art_50` with its four answers (true or false).")
                self.caveats.append("The Art. 50 transparency facts are not recorded; transparency obligations are not listed.")
            return triggered
        triggered = [item for name, item in ART_50_FLAGS if getattr(flags, name)]
        if biometric and "art_50.3" not in triggered:
            self.problem("TF620", self.where.at("transparency_art_50", "emotion_recognition_or_biometric_categorisation"),
                         f"{self.act.ref(biometric[0])} is emotion recognition or biometric categorisation, but "
                         "`emotion_recognition_or_biometric_categorisation` is false",
                         "Set it to true: Art. 50(3) applies to deployers of such systems.")
            triggered.append("art_50.3")
        ordered = [item for _, item in ART_50_FLAGS if item in triggered]
        answer = "Yes: " + "; ".join(f"{self.act.ref(i)}: {self.act.title(i)}" for i in ordered) if ordered else "No."
        self.steps.append(Step(question, answer, self._refs(ordered) if ordered else "Art. 50", topic="art50"))
        return ordered

    def _would_be_minimal(self, points: list[str]) -> bool:
        """True when nothing else makes the system prohibited or high-risk (so Art. 50 decides the class)."""
        if self.facts.prohibited_practices_screening.practices_found:
            return False
        product = self.facts.annex_i_product
        if product.applies and product.third_party_assessment is not False and product.safety_function is not False:
            return False
        return not points or self._derogation_claimed()

    # --- general-purpose AI models (Art. 51) ------------------------------------------------------------------------

    def gpai(self) -> GpaiOutcome | None:
        model = self.facts.gpai_model
        if model is None:
            return None
        question = "Does the general-purpose AI model provided have systemic risk?"
        flops = _flops(model.training_compute_flops)
        if model.training_compute_flops is not None and flops is None:
            self.problem("TF624", self.where.at("gpai_model", "training_compute_flops"),
                         f"`gpai_model.training_compute_flops` {model.training_compute_flops!r} is not a number",
                         "Write the cumulative training compute in floating-point operations, e.g. 3.0e+24.")
        if model.designated_by_commission:
            outcome = GpaiOutcome(True, "Art. 51(1)(b)", "designated by the Commission")
        elif flops is not None and flops > GPAI_SYSTEMIC_FLOPS and not model.presumption_rebutted:
            if model.systemic_risk is False:
                self.problem("TF623", self.where.at("gpai_model", "systemic_risk"),
                             f"`gpai_model.systemic_risk` is false, but {flops:.2g} FLOPs exceed the 10^25 presumption of Art. 51(2)",
                             "Set `systemic_risk: true`, or `presumption_rebutted: true` if the Commission accepted your "
                             "arguments under Art. 52(2)-(3).")
                return None
            outcome = GpaiOutcome(True, "Art. 51(2)", f"{flops:.2g} FLOPs of training compute exceed 10^25 (presumed)")
        elif model.systemic_risk is True:
            outcome = GpaiOutcome(True, "Art. 51(1)(a)", "high-impact capabilities, as stated")
        elif model.systemic_risk is False or (flops is not None and (flops <= GPAI_SYSTEMIC_FLOPS or model.presumption_rebutted)):
            reason = "no high-impact capabilities, as stated" if model.systemic_risk is False else \
                f"{flops:.2g} FLOPs of training compute" + (" (presumption rebutted)" if model.presumption_rebutted else "")
            outcome = GpaiOutcome(False, "Art. 51(1)", reason)
        else:
            self.problem("TF624", self.where.at("gpai_model"),
                         "`gpai_model` does not say whether the model has systemic risk",
                         "Add `systemic_risk: true` or `false`, or `training_compute_flops` (Art. 51(2)).")
            return None
        answer = ("Yes, with systemic risk: " if outcome.systemic_risk else "No systemic risk: ") + outcome.reason + "."
        self.steps.append(Step(question, answer, outcome.ref, topic="gpai"))
        return outcome

    # --- wording ---------------------------------------------------------------------------------------------------

    def _points_ref(self, points: list[str]) -> str:
        refs = [self.act.ref(p).removeprefix("Annex III, point ") for p in points]
        return ("Annex III, point " if len(refs) == 1 else "Annex III, points ") + ", ".join(refs)

    def _refs(self, items: list[str]) -> str:
        return ", ".join(self.act.ref(i) for i in items)

    def _minimal_ref(self, exclusions: list[str]) -> str:
        decisive = [s for s in self.steps if s.decisive]
        if exclusions:
            return ", ".join(f"{self.act.ref(e)} (exclusion)" for e in exclusions)
        if decisive:
            return decisive[-1].ref
        return "Art. 5, Art. 6 and Art. 50: none applies"

    def _assessment(self, route: str, points: list[str]) -> str:
        """Which conformity assessment procedure applies (Art. 43)."""
        if route == ANNEX_I_B:
            return ("The conformity assessment of the Annex I Section B act; the AI Act's own procedure (Art. 43) does not "
                    "apply to the product directly (Art. 2(2)).")
        if route == ANNEX_I_A:
            body = self.facts.annex_i_product.notified_body
            named = f" ({body.name}, number {body.number})" if body else ""
            return ("The conformity assessment procedure of the Annex I legislation, carried out by its Notified Body"
                    f"{named}, which also covers the AI Act requirements (Art. 43(3)).")
        if any(area(p) == 1 for p in points):
            return ("Biometrics (Annex III point 1): internal control (Annex VI) where harmonised standards are applied in full, "
                    "otherwise a Notified Body assesses the quality management system and technical documentation (Annex VII) (Art. 43(1)).")
        return "Internal control (Annex VI), with no Notified Body involved (Art. 43(2))."


def _flops(value: float | str | None) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except ValueError:
        return None

"""What the EU AI Act asks of this project: the obligations that follow from the system's class × the operator's roles,
each with the date it applies from (the regulatory calendar, Art. 111 transitional rules, project overrides).

The API other stages read:
- `obligations(project, as_of)`: every obligation that applies to the project, with its date, basis and status;
- `item_applicability(project, item_id, as_of)`: whether one EU AI Act catalogue item applies, and why;
- `eu_ai_act_report(project, as_of)`: the classification with roles, obligations and open questions, for `classify`
  and the technical file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from techfile.assess.classification import (
    ANNEX_I_A,
    ANNEX_III,
    HIGH_RISK,
    PROHIBITED,
    Classification,
    FactProblem,
    area,
    classify,
    is_error,
)
from techfile.frameworks.eu_ai_act import CalendarEntry, ObligationRule, calendar, eu_ai_act, obligation_rules
from techfile.project import Project, ProjectSettings

ROLES = ("provider", "deployer", "importer", "distributor", "authorised-representative", "product-manufacturer",
         "gpai-model-provider")
APPLIES, APPLIES_FROM, CONDITIONAL, DEFERRED = "applies", "applies from", "conditional", "deferred"
PUBLIC_KINDS = ("public-authority", "union-institution")
FRIA_KINDS = (*PUBLIC_KINDS, "body-governed-by-public-law", "private-entity-providing-public-services")


@dataclass(frozen=True)
class Obligation:
    """One obligation of the project: which rule, for which role, from when, on what legal basis, and its status on
    the `as_of` date (applies / applies from / conditional / deferred)."""

    id: str
    ref: str
    what: str
    role: str
    applies_from: dt.date | None
    legal_basis: str
    status: str
    items: tuple[str, ...] = ()
    role_basis: str = "stated in techfile.yaml"
    reason: str = ""
    condition: str = ""
    calendar_entry: str = ""
    reported: bool = False
    superseded: str = ""
    override: str = ""

    @property
    def in_force(self) -> bool:
        return self.status == APPLIES

    @property
    def when(self) -> str:
        """The status and date as one phrase, e.g. "applies from 2028-08-02"."""
        if self.status == DEFERRED:
            return "deferred (Art. 111)"
        date = self.applies_from.isoformat() if self.applies_from else "date not set"
        if self.status == APPLIES:
            return f"applies since {date}"
        if self.status == CONDITIONAL:
            return f"conditional, from {date}"
        return f"applies from {date}"


@dataclass(frozen=True)
class Applicability:
    """Whether one EU AI Act catalogue item applies to the project's class and roles, and why."""

    item: str
    status: str  # "applies", "does not apply", "conditional"
    reason: str
    obligation: Obligation | None = None

    @property
    def applies(self) -> bool:
        return self.status != "does not apply"


@dataclass(frozen=True)
class EuAiActReport:
    """The classification, the roles, the obligations on `as_of`, and the questions the sources leave open."""

    classification: Classification
    as_of: dt.date
    roles: list[tuple[str, str]]
    obligations: list[Obligation]
    problems: list[FactProblem]
    questions: list[str] = field(default_factory=list)
    calendar_verified_on: dt.date | None = None

    @property
    def decided(self) -> bool:
        """No error among the classification and operator facts: the class and the obligations are settled."""
        return not any(is_error(p) for p in self.problems)


def default_as_of(project: Project) -> dt.date:
    """The build date (SOURCE_DATE_EPOCH, the last commit, or techfile.yaml's date): never the clock."""
    from techfile.publish.build import build_info

    return dt.date.fromisoformat(build_info(project, project.root / "build").date)


def effective_roles(settings: ProjectSettings, outcome: Classification) -> list[tuple[str, str]]:
    """The roles the project holds, with the basis of each: as stated, or as provider under Art. 25(1) or 25(3)."""
    roles = {role: "stated in techfile.yaml" for role in settings.roles if role in ROLES}
    chain = settings.eu_ai_act.value_chain
    if outcome.high_risk and "provider" not in roles:
        if "product-manufacturer" in roles and outcome.route_key == ANNEX_I_A:
            roles["provider"] = "Art. 25(3): manufacturer of the Annex I Section A product the system is placed with"
        elif chain is not None:
            cases = [letter for letter, on in (("a", chain.own_name_or_trademark), ("b", chain.substantial_modification),
                                               ("c", chain.changed_intended_purpose)) if on]
            if cases:
                roles["provider"] = "Art. 25(1)(" + ")(".join(cases) + "): you became the provider"
    return list(roles.items())


class _Conditions:
    """The conditions obligation rules name, each True, False or None (the sources do not say), with the reason."""

    def __init__(self, project: Project, outcome: Classification) -> None:
        assert project.settings is not None and project.system is not None
        self.settings, self.system, self.outcome = project.settings, project.system, outcome
        self.points = outcome.annex_iii_points
        self.areas = {area(p) for p in self.points}
        self.deployer = self.settings.eu_ai_act.deployer

    def check(self, name: str) -> tuple[bool | None, str]:
        return getattr(self, name)()

    def annex_i_section_a(self) -> tuple[bool | None, str]:
        return self.outcome.route_key == ANNEX_I_A, "an Annex I Section A product"

    def annex_iii_1a(self) -> tuple[bool | None, str]:
        return "annex_iii.1.a" in self.points, "remote biometric identification (Annex III, point 1(a))"

    def annex_iii_point_1(self) -> tuple[bool | None, str]:
        return 1 in self.areas, "biometrics (Annex III, point 1)"

    def annex_iii_points_2_8(self) -> tuple[bool | None, str]:
        return bool(self.areas - {1}), "Annex III points 2-8"

    def annex_iii_point_2(self) -> tuple[bool | None, str]:
        return 2 in self.areas, "critical infrastructure (Annex III, point 2)"

    def annex_iii_beyond_point_2(self) -> tuple[bool | None, str]:
        return bool(self.areas - {2}), "an Annex III area other than point 2"

    def annex_iii_secure_section(self) -> tuple[bool | None, str]:
        if self.areas & {6, 7}:
            return True, "law enforcement, migration, asylum or border control (Annex III, points 6-7)"
        return (None, "") if 1 in self.areas else (False, "")

    def _kind(self) -> str | None:
        return self.deployer.kind if self.deployer else None

    def fria_deployer(self) -> tuple[bool | None, str]:
        credit_or_insurance = [p for p in self.points if p in ("annex_iii.5.b", "annex_iii.5.c")]
        if credit_or_insurance:
            return True, f"a deployer of {eu_ai_act().ref(credit_or_insurance[0])} (Art. 27(1))"
        if not self.areas - {2}:
            return False, ""
        kind = self._kind()
        if kind is None:
            return None, ""
        named = {"public-authority": "a public authority", "union-institution": "a Union institution, body, office or agency",
                 "body-governed-by-public-law": "a body governed by public law",
                 "private-entity-providing-public-services": "a private entity providing public services"}
        return (True, f"{named[kind]} (Art. 27(1))") if kind in FRIA_KINDS else (False, "")

    def public_authority_deployer(self) -> tuple[bool | None, str]:
        kind = self._kind()
        if kind is None:
            return None, ""
        return kind in PUBLIC_KINDS, "a public authority or Union body as deployer"

    def workplace_use(self) -> tuple[bool | None, str]:
        use = self.deployer.workplace_use if self.deployer else None
        return use, "used at the workplace by an employer"

    def post_remote_biometric_identification(self) -> tuple[bool | None, str]:
        return (None, "") if "annex_iii.1.a" in self.points else (False, "")

    def third_country_provider(self) -> tuple[bool | None, str]:
        established = self.settings.eu_ai_act.established_in_union
        if established is None and self.settings.provider.authorised_representative is not None:
            return True, "a provider established outside the Union (it names an authorised representative)"
        return (None if established is None else not established), "a provider established outside the Union"

    def _art_50(self, item: str) -> tuple[bool | None, str]:
        return item in self.outcome.transparency, eu_ai_act().title(item).lower()

    def art_50_1(self) -> tuple[bool | None, str]:
        return self._art_50("art_50.1")

    def art_50_2(self) -> tuple[bool | None, str]:
        return self._art_50("art_50.2")

    def art_50_3(self) -> tuple[bool | None, str]:
        return self._art_50("art_50.3")

    def art_50_4(self) -> tuple[bool | None, str]:
        return self._art_50("art_50.4")

    def value_chain_provider(self) -> tuple[bool | None, str]:
        roles = dict(effective_roles(self.settings, self.outcome))
        basis = roles.get("provider", "")
        return basis.startswith("Art. 25(1)"), basis

    def successor_provider(self) -> tuple[bool | None, str]:
        return None, ""

    def third_party_suppliers(self) -> tuple[bool | None, str]:
        return None, ""

    def gpai_systemic(self) -> tuple[bool | None, str]:
        gpai = self.outcome.gpai
        if gpai is None:
            return None, ""
        return gpai.systemic_risk, f"a general-purpose model with systemic risk ({gpai.ref})"

    def gpai_not_exempt(self) -> tuple[bool | None, str]:
        model = self.system.classification.gpai_model
        gpai = self.outcome.gpai
        if gpai is not None and gpai.systemic_risk:
            return True, "a model with systemic risk (no open-source exemption, Art. 53(2))"
        if model is not None and model.open_source:
            return False, "open-source model with public weights (Art. 53(2))"
        return True, "not released as open source with public weights (Art. 53(2))"


def _calendar_entry(rule: ObligationRule, outcome: Classification, practice: str | None = None) -> str:
    rules = obligation_rules()
    if rule.calendar == "per-practice":
        item = eu_ai_act().item(practice or "")
        return item.get("calendar", "apply.chapters_i_ii") if item else "apply.chapters_i_ii"
    if rule.calendar in rules.calendars:
        return rules.calendars[rule.calendar][outcome.calendar_route or outcome.route_key]
    return rule.calendar


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


class _Dates:
    """The date each obligation applies from: the calendar, then Art. 111 for systems already on the market, then the
    project's overrides."""

    def __init__(self, project: Project, as_of: dt.date) -> None:
        assert project.settings is not None and project.system is not None
        self.as_of = as_of
        self.overrides = {o.entry: o for o in project.settings.eu_ai_act.calendar_overrides}
        self.transitional = project.system.classification.transitional_art_111
        self.gpai_model = project.system.classification.gpai_model
        self.questions: list[str] = []

    def resolve(self, rule: ObligationRule, entry_id: str) -> dict[str, object]:
        cal = calendar()
        entry = cal.entry(entry_id)
        first = _date(self.transitional.first_placed_on_market) if self.transitional else None
        condition, status = "", ""
        if rule.transitional == "art_111_2" and entry.date is not None:
            entry, condition, status = self._art_111_2(entry, first)
        elif rule.transitional == "art_111_4" and first is not None and first < dt.date(2026, 8, 2):
            entry = cal.entry("transition.art_50_2_legacy")
            condition = f"Art. 111(4): placed on the market on {first}, before 2026-08-02"
        elif rule.transitional == "art_111_3" and self.gpai_model is not None:
            placed = _date(self.gpai_model.placed_on_market)
            if placed is not None and placed < dt.date(2025, 8, 2):
                entry = cal.entry("transition.gpai_legacy")
                condition = f"Art. 111(3): model placed on the market on {placed}, before 2025-08-02"
        if self.transitional and self.transitional.annex_x_component and first is not None and first < dt.date(2027, 8, 2):
            entry = cal.entry("transition.large_scale_it")
            condition = f"Art. 111(1): component of an Annex X large-scale IT system placed on the market on {first}"
        return self._with_override(entry, condition, status)

    def _art_111_2(self, entry: CalendarEntry, first: dt.date | None) -> tuple[CalendarEntry, str, str]:
        assert entry.date is not None
        if first is None:
            question = (f"Was a unit of this type and model placed on the market or put into service before {entry.date}? "
                        "If so, Art. 111(2) applies the high-risk obligations only once its design changes significantly: "
                        "state `classification.transitional_art_111.first_placed_on_market` in system.yaml.")
            if question not in self.questions:
                self.questions.append(question)
            return entry, "", ""
        if first >= entry.date:
            return entry, "", ""
        facts = self.transitional
        assert facts is not None
        placed = f"Art. 111(2): first placed on the market on {first}, before {entry.date}"
        if facts.intended_for_public_authorities:
            return (calendar().entry("transition.high_risk_legacy_public_authorities"),
                    f"{placed}; intended for public authorities, so due by 2030-08-02 at the latest", "")
        if facts.significant_design_change:
            return entry, f"{placed}; its design has changed significantly since, so the obligations apply", ""
        if facts.significant_design_change is None:
            question = (f"Has the design of this system changed significantly since {entry.date}? Art. 111(2) applies the "
                        "high-risk obligations to it only then: state `transitional_art_111.significant_design_change`.")
            if question not in self.questions:
                self.questions.append(question)
        return entry, f"{placed}: the obligations apply only once its design changes significantly", DEFERRED

    def _with_override(self, entry: CalendarEntry, condition: str, status: str) -> dict[str, object]:
        cal = calendar()
        superseded = cal.superseded(entry)
        result: dict[str, object] = {
            "applies_from": entry.date, "legal_basis": entry.basis, "calendar_entry": entry.id, "reported": entry.reported,
            "superseded": f"{superseded.date} under {superseded.basis} (superseded)" if superseded and superseded.date else "",
            "condition": condition, "status": status, "override": ""}
        override = self.overrides.get(entry.id)
        if override is not None:
            result |= {"applies_from": _date(override.date), "reported": False,
                       "override": f"project override in techfile.yaml: {override.justification} "
                                   f"(calendar: {entry.date} under {entry.basis})",
                       "legal_basis": f"project override ({entry.basis})"}
        return result


def _rule_matches(rule: ObligationRule, outcome: Classification, role: str) -> bool:
    if role not in rule.roles or outcome.risk_class not in rule.classes:
        return False
    if rule.routes and outcome.route_key not in rule.routes:
        return False
    limits = obligation_rules().route_limits.get(outcome.route_key)
    return limits is None or rule.id in limits


def _status(applies_from: dt.date | None, as_of: dt.date, conditional: bool, status: str) -> str:
    if status == DEFERRED:
        return DEFERRED
    if conditional:
        return CONDITIONAL
    return APPLIES if applies_from is not None and as_of >= applies_from else APPLIES_FROM


def _evaluate(project: Project, outcome: Classification, as_of: dt.date) -> tuple[list[Obligation], list[str], dict[str, str]]:
    """The obligations of the project, the open questions, and for each rule that did not apply, why not."""
    assert project.settings is not None
    roles = effective_roles(project.settings, outcome)
    conditions = _Conditions(project, outcome)
    dates = _Dates(project, as_of)
    rules = obligation_rules()
    found: list[Obligation] = []
    why_not: dict[str, str] = {}
    for rule in rules.rules:
        holders = [(r, basis) for r, basis in roles if _rule_matches(rule, outcome, r)]
        if not holders:
            why_not[rule.id] = _why_not(rule, outcome, [r for r, _ in roles])
            continue
        results = [(name, *conditions.check(name)) for name in rule.when]
        failed = [name for name, value, _ in results if value is False]
        if failed:
            why_not[rule.id] = f"it depends on the question \"{rules.conditions[failed[0]]}\", and the answer is no"
            continue
        unknown = [rules.conditions[name] for name, value, _ in results if value is None]
        met = [text for _, value, text in results if value and text]
        practices = outcome.practices if rule.calendar == "per-practice" else [None]
        for role, basis in holders:
            for practice in practices:
                entry_id = _calendar_entry(rule, outcome, practice)
                dated = dates.resolve(rule, entry_id)
                ref = eu_ai_act().ref(practice) if practice else rule.ref
                reason = f"{role} of a {outcome.risk_class} system ({outcome.deciding_ref})" + \
                    (f"; {'; '.join(met)}" if met else "")
                condition = "; ".join(filter(None, [str(dated["condition"]), *unknown]))
                applies_from = dated["applies_from"]
                assert applies_from is None or isinstance(applies_from, dt.date)
                found.append(Obligation(
                    rule.id, ref, rule.what, role, applies_from, str(dated["legal_basis"]),
                    _status(applies_from, as_of, bool(unknown), str(dated["status"])), rule.items, basis, reason, condition,
                    str(dated["calendar_entry"]), bool(dated["reported"]), str(dated["superseded"]), str(dated["override"])))
    return found, dates.questions, why_not


def _why_not(rule: ObligationRule, outcome: Classification, roles: list[str]) -> str:
    limits = obligation_rules().route_limits.get(outcome.route_key)
    if limits is not None and rule.id not in limits:
        return "Art. 2(2): for Annex I Section B products only Art. 6(1), 102-109 and 112 apply"
    if not set(rule.roles) & set(roles):
        return f"it binds {' or '.join(rule.roles)}, and the project's roles are {', '.join(roles) or 'none'}"
    if outcome.risk_class not in rule.classes:
        return f"it applies to {' or '.join(rule.classes)} systems; this one is {outcome.risk_class}"
    return f"it applies on another route ({', '.join(rule.routes)}); this system's is {outcome.route_key}"


def obligations(project: Project, as_of: dt.date | None = None) -> list[Obligation]:
    """Every EU AI Act obligation of the project on `as_of` (default: the build date), in catalogue order."""
    assert project.system is not None
    when = as_of or default_as_of(project)
    return _evaluate(project, classify(project.system), when)[0]


def item_applicability(project: Project, item_id: str, as_of: dt.date | None = None) -> Applicability:
    """Whether an EU AI Act catalogue item applies to this project's class and roles, with the reason."""
    assert project.system is not None
    outcome = classify(project.system)
    when = as_of or default_as_of(project)
    found, _, why_not = _evaluate(project, outcome, when)
    return applicability(found, why_not, item_id)


def applicabilities(project: Project, item_ids: list[str], as_of: dt.date | None = None) -> dict[str, Applicability]:
    """`item_applicability` for many items at once (one evaluation of the rules)."""
    assert project.system is not None
    outcome = classify(project.system)
    found, _, why_not = _evaluate(project, outcome, as_of or default_as_of(project))
    return {item: applicability(found, why_not, item) for item in item_ids}


def applicability(found: list[Obligation], why_not: dict[str, str], item_id: str) -> Applicability:
    rule = obligation_rules().rule_for(item_id)
    if rule is None:
        return Applicability(item_id, "does not apply",
                             "a classification rule, definition or duty of the Commission, Member States or authorities, "
                             "not an operator obligation")
    held = next((o for o in found if o.id == rule.id), None)
    if held is None:
        return Applicability(item_id, "does not apply", f"{rule.ref}: {why_not.get(rule.id, 'not applicable')}")
    status = "conditional" if held.status == CONDITIONAL else "applies"
    why = held.reason + (f"; {held.condition}" if held.condition else "") + f"; {held.when}"
    return Applicability(item_id, status, why, held)


def role_exclusions(project: Project) -> dict[str, str]:
    """The EU AI Act catalogue items whose obligation fits the system's class and route but binds none of the
    project's roles, with the reason: the requirement-status model does not count them as missing."""
    assert project.settings is not None and project.system is not None
    outcome = classify(project.system)
    roles = [role for role, _ in effective_roles(project.settings, outcome)]
    rules = obligation_rules()
    excluded: dict[str, str] = {}
    for item_id in eu_ai_act().items:
        rule = rules.rule_for(item_id)
        if rule is None or outcome.risk_class not in rule.classes or (rule.routes and outcome.route_key not in rule.routes):
            continue
        if not any(_rule_matches(rule, outcome, role) for role in roles):
            excluded[item_id] = f"{rule.ref} binds the {' or '.join(rule.roles)}; this project's role is {', '.join(roles) or 'none'}"
    return excluded


def operator_problems(project: Project, outcome: Classification) -> list[FactProblem]:
    """techfile.yaml facts about the operator that are missing or contradict the system facts."""
    assert project.settings is not None and project.system is not None
    settings, system = project.settings, project.system
    role_at = settings.field_locations.get("role", settings.location)
    eu_at = settings.field_locations.get("eu_ai_act", role_at)
    problems = []
    roles = settings.roles
    gpai_at = system.classification.field_locations.get("gpai_model", system.field_locations.get("classification", system.location))
    if "gpai-model-provider" in roles and system.classification.gpai_model is None:
        problems.append(FactProblem("TF621", "the role gpai-model-provider is stated, but system.yaml has no `classification.gpai_model` facts",
                                    "Add `gpai_model` with `systemic_risk` (or `training_compute_flops`) so Art. 53 and 55 can be decided.",
                                    role_at))
    if system.classification.gpai_model is not None and "gpai-model-provider" not in roles:
        problems.append(FactProblem("TF622", "`classification.gpai_model` describes a general-purpose model you provide, but "
                                    "techfile.yaml `role` does not include gpai-model-provider",
                                    "Add gpai-model-provider to `role`, or remove `gpai_model` if you do not provide the model.",
                                    gpai_at))
    deployer = settings.eu_ai_act.deployer
    if "deployer" in roles and outcome.risk_class == HIGH_RISK and outcome.route_key == ANNEX_III and \
            (deployer is None or deployer.kind is None):
        problems.append(FactProblem("TF625", "the deployer of an Annex III high-risk system does not say what kind of body it is",
                                    "Add `eu_ai_act.deployer.kind` (public-authority, union-institution, body-governed-by-public-law, "
                                    "private-entity-providing-public-services or private): it decides Art. 26(8), 27 and 49(3).",
                                    eu_at if deployer is None else deployer.location))
    known = calendar().entries
    for override in settings.eu_ai_act.calendar_overrides:
        if override.entry not in known:
            problems.append(FactProblem("TF626", f"`calendar_overrides` names {override.entry!r}, which is no EU AI Act calendar entry",
                                        "Use an entry id of eu_ai_act_calendar.yaml, e.g. apply.high_risk_annex_iii.",
                                        override.location))
        elif _date(override.date) is None:
            problems.append(FactProblem("TF626", f"`calendar_overrides` gives {override.date!r} for {override.entry}, which is no date",
                                        "Write the date as YYYY-MM-DD.", override.location))
    return problems


def eu_ai_act_report(project: Project, as_of: dt.date | None = None) -> EuAiActReport:
    """Everything `classify` prints: the class, the roles, the obligations on `as_of`, the problems and open questions."""
    assert project.settings is not None and project.system is not None
    outcome = classify(project.system)
    when = as_of or default_as_of(project)
    found, questions, _ = _evaluate(project, outcome, when)
    cal = calendar()
    verified = min(e.verified_on for e in cal.entries.values())
    if outcome.risk_class == PROHIBITED:
        found = [o for o in found if o.id in ("art_5", "art_53.1.ab", "art_53.1.cd", "art_53.3", "art_52.1", "art_55.1")]
    return EuAiActReport(outcome, when, effective_roles(project.settings, outcome), found,
                         outcome.problems + operator_problems(project, outcome), questions, verified)



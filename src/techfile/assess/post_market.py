"""After the market, as one assessment: the facts the applicability rules read (FRIA required, which Annex VIII
section), the documents a project gets by default, and the gaps of the FRIA, the monitoring plan and report and the
incident reports, including the reporting clocks that `check` gates (all dated on the assessment date)."""

from __future__ import annotations

from techfile.assess.gaps import Gap
from techfile.assess.grades import Assessment
from techfile.assess.incidents import DUE_SOON, OVERDUE, incident_clock
from techfile.assess.monitoring import figure_results, indicator_rules, plan_elements, review_schedule
from techfile.assess.operators import fria_requirement, operator_facts, registration_sections
from techfile.project import Incident, Project

# The documents of this stage; they only make sense with the EU AI Act in scope.
EU_ONLY_DOCUMENTS = ("fria", "pms-plan", "monitoring-report", "incident-reports", "eu-database-registration")
NOTIFIED_BODY_PROCEDURES = ("annex-vii-notified-body", "sectoral-legislation")


def post_market_conditions(project: Project) -> dict[str, bool]:
    """The conditions of the applicability rules (frameworks/applicability.yaml) for Art. 27 and Annex VIII."""
    assert project.settings is not None and project.system is not None
    registration = registration_sections(project)
    conformity = project.system.conformity
    product = project.system.classification.annex_i_product
    return {
        "fria_required": fria_requirement(project).applies,
        "registration_section_a": "a" in registration.sections,
        "registration_section_b": "b" in registration.sections,
        "registration_section_c": "c" in registration.sections,
        "registration_public": registration.public,
        "notified_body_certificate": bool((conformity and conformity.procedure in NOTIFIED_BODY_PROCEDURES)
                                          or (product.applies and product.third_party_assessment)),
        "registration_information_url": bool(project.registration and project.registration.information_url),
        "provider_outside_union": project.settings.eu_ai_act.established_in_union is not True,
    }


def post_market_documents(project: Project) -> list[str]:
    """The documents of this stage a project gets when techfile.yaml names none: a required FRIA and registration, and
    for a high-risk system the monitoring plan, its report and the incident reports its sources hold (Art. 72-73)."""
    high_risk = operator_facts(project).high_risk
    found = []
    if fria_requirement(project).applies:
        found.append("fria")
    if high_risk and project.monitoring:
        found.append("pms-plan")
    if high_risk and project.monitoring_reviews:
        found.append("monitoring-report")
    if high_risk and project.incidents:
        found.append("incident-reports")
    if registration_sections(project).required:
        found.append("eu-database-registration")
    return found


def post_market_gaps(project: Project, requested: list[str], assessment: Assessment) -> list[Gap]:
    """The gaps and clock findings of this stage (only with the EU AI Act in scope)."""
    assert project.settings is not None
    if "eu-ai-act" not in project.settings.frameworks:
        return []
    high_risk = operator_facts(project).high_risk
    return (_fria_gaps(project, requested, assessment.date) + _incident_gaps(project, requested, assessment.date, high_risk)
            + _monitoring_gaps(project, requested, assessment.date, high_risk))


def _shown(requested: list[str], output: str, kind: str, entity_id: str | None = None) -> tuple[tuple[str, str | None], ...]:
    return ((kind, entity_id),) if output in requested else ()


# --- FRIA -----------------------------------------------------------------------------------------------------------


def _fria_gaps(project: Project, requested: list[str], as_of: str) -> list[Gap]:
    assert project.settings is not None
    gaps = []
    shown = _shown(requested, "fria", "fria")
    requirement = fria_requirement(project)
    if requirement.applies and project.fria is None:
        deployer = project.settings.eu_ai_act.deployer
        first_use = deployer.first_use if deployer else None
        if first_use is None:
            when = "before the system's first use (techfile.yaml `eu_ai_act.deployer.first_use` gives no date)"
        elif first_use >= as_of:
            when = f"before the system's first use on {first_use}"
        else:
            when = f"before first use, which techfile.yaml dates {first_use}, already past"
        where = project.settings.field_locations.get("eu_ai_act", project.settings.location)
        gaps.append(Gap("Fundamental rights impact assessment", f"a fundamental rights impact assessment is required "
                        f"{when} ({requirement.ref}: {requirement.reason}), and the project has no fria.yaml",
                        "Perform the assessment and record it in fria.yaml (schema fria.schema.json), then notify the "
                        "market surveillance authority of its results (Art. 27(3)).", "TF953", where, shown,
                        ("fria",)))
    fria = project.fria
    if fria is not None:
        for change in project.changes:
            if change.substantial_modification and change.date > fria.performed_on:
                where = fria.field_locations.get("performed_on", fria.location)
                gaps.append(Gap(f"Art. 27(2): update after {change.id}",
                                f"the fundamental rights impact assessment of {fria.performed_on} predates change "
                                f"{change.id!r} of {change.date}, recorded as a substantial modification: review whether "
                                "its elements changed and update it (Art. 27(2))",
                                "Update the assessment and its `performed_on` date, or record why its elements did not "
                                "change.", "TF954", where, shown, (fria.id, change.id)))
    return gaps


# --- incidents ------------------------------------------------------------------------------------------------------


def _incident_gaps(project: Project, requested: list[str], as_of: str, high_risk: bool) -> list[Gap]:
    gaps = []
    for incident in project.incidents:
        shown = _shown(requested, "incident-reports", "incident-report", incident.id)
        clock = incident_clock(project, incident, as_of)
        where = incident.field_locations.get("reports", incident.field_locations.get("aware_on", incident.location))
        authority = clock.route.authority
        if high_risk and clock.state == OVERDUE:
            gaps.append(Gap("Report under Art. 73", f"incident {incident.id!r}: the report under {clock.deadline_ref} was "
                            f"due on {clock.deadline}, {clock.days} days after awareness on {incident.aware_on}, and no "
                            f"report is recorded (assessed on {as_of})",
                            f"Report it to {authority} now and record it under `reports` (authority, date, reference); an "
                            "incomplete initial report may come first (Art. 73(5)).", "TF950", where, shown, (incident.id,)))
        elif high_risk and clock.state == DUE_SOON:
            left = clock.days_left
            gaps.append(Gap("Report under Art. 73", f"incident {incident.id!r}: the report under {clock.deadline_ref} is "
                            f"due on {clock.deadline}, {clock.days} days after awareness on {incident.aware_on}, in "
                            f"{left} day{'s' * (left != 1)}, and no report is recorded",
                            f"Report it to {authority} and record it under `reports`.", "TF951", where, shown,
                            (incident.id,)))
        if "incident-reports" in requested:
            gaps += _incident_facts(incident, shown, clock.sectoral_report_expected and clock.sectoral_report is None,
                                    clock.route.basis)
    return gaps


# The facts every incident report shows (section numbers of the Commission's draft template).
INCIDENT_FACTS = (
    ("description", "3.1 Nature of the incident: what went wrong and its effects"),
    ("causal_analysis", "4.2 Cause investigation: the causal analysis"),
    ("affected_persons", "3.2 The persons affected"),
    ("system_version", "2.2 The version of the AI system involved"),
    ("member_states", "1.1 The Member States where it occurred"),
    ("corrective_actions", "4.1 Corrective actions"),
)


def _incident_facts(incident: Incident, shown: tuple[tuple[str, str | None], ...], sectoral_missing: bool,
                    route: str) -> list[Gap]:
    gaps = []
    for name, label in INCIDENT_FACTS:
        if getattr(incident, name) in (None, "", []):
            where = incident.field_locations.get("title", incident.location)
            gaps.append(Gap(label, f"incident {incident.id!r}: the incident report lacks {label[4:].lower()}",
                            f"Add `{name}` to {incident.location.path}.", "TF958", where, shown, (incident.id,)))
    if sectoral_missing:
        where = incident.field_locations.get("reports", incident.field_locations.get("category", incident.location))
        gaps.append(Gap("1.3.5 Sectoral report", f"incident {incident.id!r}: the sectoral report is not recorded ({route})",
                        "Record the report made under the sectoral legislation in `reports` with its `regime` "
                        "(e.g. mdr), authority, date and reference.", "TF958", where, shown, (incident.id,)))
    return gaps


# --- monitoring -----------------------------------------------------------------------------------------------------


def _monitoring_gaps(project: Project, requested: list[str], as_of: str, high_risk: bool) -> list[Gap]:
    gaps = []
    plan_shown = _shown(requested, "pms-plan", "pms-plan")
    report_shown = _shown(requested, "monitoring-report", "monitoring-report")
    code = "TF956" if high_risk else "TF957"
    subject = project.monitoring.id if project.monitoring else "monitoring"  # a broken monitoring.yaml holds these back
    if "pms-plan" in requested:
        for element in plan_elements(project):
            if not element.present:
                gaps.append(Gap(element.title, f"the post-market monitoring plan lacks: {element.title.lower()} "
                                f"({element.ref})", f"Add `{element.field}` to monitoring.yaml.", code, element.location,
                                plan_shown, (subject,)))
        for rule in indicator_rules(project).values():
            if rule.threshold is None:
                gaps.append(Gap(f"Indicator {rule.indicator.id}: threshold", f"the post-market monitoring plan's indicator "
                                f"{rule.indicator.id!r} has no threshold ({rule.basis})",
                                "Give the indicator a `threshold`, or declare one for the model's metric.", code,
                                rule.indicator.location, plan_shown, (subject,)))
    schedule = review_schedule(project, as_of)
    if schedule is not None and schedule.overdue:
        plan = project.monitoring
        assert plan is not None
        where = plan.field_locations.get("review_frequency", plan.location)
        days = schedule.overdue_days
        gaps.append(Gap("Monitoring review", f"the post-market monitoring review was due on {schedule.next_due} "
                        f"({schedule.frequency}, counted from {schedule.since_what} on {schedule.since}) and none is "
                        f"recorded since: {days} day{'s' * (days != 1)} overdue (assessed on {as_of})",
                        "Hold the review and record it in monitoring/ (date, figures, verdict, actions).", "TF952", where,
                        report_shown + plan_shown, (subject,)))
    for result in figure_results(project):
        if result.passed is False and result.review.verdict == "within-limits":
            rule = result.rule
            assert rule is not None
            relation = "below" if rule.higher_is_better else "above"
            gaps.append(Gap(f"{result.review.id}: {result.figure.indicator}", f"review {result.review.id!r} records the "
                            f"verdict within-limits, but indicator {result.figure.indicator!r} is {result.figure.value:g}, "
                            f"{relation} its threshold {rule.threshold:g}",
                            "Correct the figure or the verdict (action-required), and record the actions decided.",
                            "TF959", result.figure.location, report_shown, (result.review.id,)))
    return gaps


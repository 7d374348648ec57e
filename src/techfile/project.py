"""The resolved project: one typed value built once from the validated sources, read by every document."""

from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

Scalar = str | int | float | bool
T = TypeVar("T", bound=type)


def record(cls: T) -> T:
    """A frozen dataclass whose __init__ is generated once and whose equality, hash, repr and refusal to be changed
    are shared functions reading its fields: Python 3.11 compiles every method a dataclass generates on its own, and
    the model's ~140 classes are imported by every `check`."""
    documented = cls.__dict__.get("__doc__")
    cls.__doc__ = documented or "-"  # else dataclasses derives one from the signature of an __init__ not yet there
    cls = dataclass(init=False, eq=False, repr=False)(cls)
    cls.__doc__ = documented
    names = tuple(f.name for f in fields(cls))
    values = attrgetter(*names) if len(names) > 1 else (lambda r: (getattr(r, names[0]),)) if names else (lambda r: ())
    cls.__record_values__ = staticmethod(values)
    cls.__record_names__ = names
    cls.__init__ = _initialiser(cls)
    cls.__eq__, cls.__hash__, cls.__repr__ = _record_eq, _record_hash, _record_repr
    cls.__setattr__, cls.__delattr__ = _record_setattr, _record_delattr
    return cls


def _initialiser(cls: type) -> Any:
    """The __init__ a frozen dataclass would have: each field a parameter, with its default or default factory."""
    namespace: dict[str, Any] = {"_set": object.__setattr__, "_FACTORY": _FACTORY}
    parameters, body = ["self"], []
    for item in fields(cls):
        if item.default is not MISSING:
            namespace[f"_default_{item.name}"] = item.default
            parameters.append(f"{item.name}=_default_{item.name}")
            body.append(f"_set(self, {item.name!r}, {item.name})")
        elif item.default_factory is not MISSING:
            namespace[f"_factory_{item.name}"] = item.default_factory
            parameters.append(f"{item.name}=_FACTORY")
            body.append(f"_set(self, {item.name!r}, _factory_{item.name}() if {item.name} is _FACTORY else {item.name})")
        else:
            parameters.append(item.name)
            body.append(f"_set(self, {item.name!r}, {item.name})")
    source = f"def __init__({', '.join(parameters)}):\n    " + ("\n    ".join(body) or "pass") + "\n"
    exec(source, namespace)  # noqa: S102 - the source is built from the class's own field names
    function = namespace["__init__"]
    function.__qualname__ = f"{cls.__qualname__}.__init__"
    return function


_FACTORY = object()  # stands for "no value given" where a field's default comes from a factory


def _record_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _record_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _record_eq(self: Any, other: Any) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return self.__record_values__(self) == self.__record_values__(other)


def _record_hash(self: Any) -> int:
    return hash(self.__record_values__(self))


def _record_repr(self: Any) -> str:
    values = ", ".join(f"{name}={value!r}" for name, value in zip(self.__record_names__, self.__record_values__(self),
                                                                   strict=True))
    return f"{self.__class__.__qualname__}({values})"


@record
class Location:
    """Where an entity or value is written: project-relative path, 1-based line and column."""

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@record
class Prose:
    """Markdown text, written inline or kept in a `.md` file of the project (`file` names it)."""

    text: str
    file: str | None = None


# --- project settings (techfile.yaml) ---------------------------------------------------------


@record
class AuthorisedRepresentative:
    name: str
    address: str


@record
class Provider:
    name: str
    address: str
    contact: str
    registration_number: str | None = None
    authorised_representative: AuthorisedRepresentative | None = None


@record
class Outputs:
    site: bool = True
    pdf: bool = True
    documents: list[str] = field(default_factory=list)


@record
class DocumentControl:
    owner: str
    approver: str
    version: str
    date: str
    status: str
    confidentiality: str | None = None
    language: str = "en"
    deployer_confidentiality: str | None = None
    reviewer: str | None = None
    reviewed_on: str | None = None


@record
class Branding:
    name: str | None = None
    logo: str | None = None
    primary_color: str | None = None


@record
class DeployerFacts:
    """EU AI Act facts about a deployer: what kind of body it is (Art. 26(8), 27(1), 49(3)) and workplace use (Art. 26(7))."""

    kind: str | None = None
    workplace_use: bool | None = None
    name: str | None = None
    address: str | None = None
    contact: str | None = None
    first_use: str | None = None
    location: Location = Location("techfile.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class ValueChain:
    """The Art. 25(1) cases in which a distributor, importer, deployer or third party becomes the provider."""

    own_name_or_trademark: bool = False
    substantial_modification: bool = False
    changed_intended_purpose: bool = False


@record
class CalendarOverride:
    """A project's own date for an EU AI Act calendar entry, with the reason (e.g. a transitional case)."""

    entry: str
    date: str
    justification: str
    location: Location = Location("techfile.yaml")


@record
class EuAiActSettings:
    """techfile.yaml `eu_ai_act`: the facts about the operator that decide which EU AI Act obligations apply."""

    deployer: DeployerFacts | None = None
    value_chain: ValueChain | None = None
    established_in_union: bool | None = None
    calendar_overrides: list[CalendarOverride] = field(default_factory=list)
    location: Location = Location("techfile.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class ProjectSettings:
    schema_version: str
    id: str
    title: str
    provider: Provider
    frameworks: list[str]
    document_control: DocumentControl
    role: str | list[str] = "provider"
    soc2_categories: list[str] = field(default_factory=list)
    outputs: Outputs = field(default_factory=Outputs)
    branding: Branding = field(default_factory=Branding)
    gates: dict[str, str] = field(default_factory=dict)
    risk_matrix: dict[str, dict[str, str]] = field(default_factory=dict)
    evidence_expiry_warning_days: int = 30
    eu_ai_act: EuAiActSettings = field(default_factory=EuAiActSettings)
    location: Location = Location("techfile.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)

    @property
    def roles(self) -> list[str]:
        """The operator roles techfile.yaml states (`role`, one or a list)."""
        return [self.role] if isinstance(self.role, str) else list(dict.fromkeys(self.role))


# --- system -----------------------------------------------------------------------------------


@record
class PreviousVersion:
    version: str
    relation: str
    date: str | None = None


@record
class NamedDescription:
    name: str
    description: str


@record
class UserGroup:
    role: str
    description: str
    required_competence: str | None = None


@record
class MarketForm:
    form: str
    description: str


@record
class SoftwareComponent:
    name: str
    version: str
    role: str
    update_requirements: str | None = None


@record
class Interaction:
    with_: str
    description: str


@record
class NotifiedBody:
    name: str
    number: str


@record
class MedicalDevice:
    """What the MDR's own declaration of conformity names (MDR Annex IV): the manufacturer's single registration
    number, the Basic UDI-DI, the risk class and the classification rule that gives it."""

    srn: str | None = None
    basic_udi_di: str | None = None
    device_class: str | None = None
    classification_rule: str | None = None


@record
class AnnexIProduct:
    """Art. 6(1): the system is, or is a safety component of, a product under an Annex I act."""

    applies: bool
    legislation: str | None = None
    product: str | None = None
    third_party_assessment: bool | None = None
    notified_body: NotifiedBody | None = None
    act: str | None = None
    section: str | None = None
    kind: str | None = None
    safety_function: bool | None = None
    medical_device: MedicalDevice | None = None
    location: Location = Location("system.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class AnnexIIIUse:
    """Art. 6(2): the Annex III use cases that apply, and the Annex III exclusions that take the system out."""

    applies: bool
    use_case: str | None = None
    rationale: str | None = None
    use_cases: list[str] = field(default_factory=list)
    exclusions: list[str] = field(default_factory=list)
    location: Location = Location("system.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)

    @property
    def all_use_cases(self) -> list[str]:
        """`use_case` and `use_cases` together, in order, without repeats."""
        return list(dict.fromkeys(([self.use_case] if self.use_case else []) + list(self.use_cases)))


@record
class ProhibitedPracticesScreening:
    screened: bool
    practices_found: list[str]
    date: str | None = None
    notes: str | None = None
    location: Location = Location("system.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class Derogation:
    claimed: bool
    condition: str | None = None
    profiling: bool | None = None
    justification: str | None = None
    conditions: list[str] = field(default_factory=list)
    location: Location = Location("system.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)

    @property
    def all_conditions(self) -> list[str]:
        return list(dict.fromkeys(([self.condition] if self.condition else []) + list(self.conditions)))


@record
class TransparencyFacts:
    interacts_with_persons: bool
    synthetic_content: bool
    emotion_recognition_or_biometric_categorisation: bool
    deep_fake: bool
    notes: str | None = None
    location: Location = Location("system.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class GpaiModel:
    """A general-purpose AI model the project provides (Art. 51-55), and whether it has systemic risk."""

    systemic_risk: bool | None = None
    training_compute_flops: float | str | None = None
    designated_by_commission: bool | None = None
    presumption_rebutted: bool | None = None
    open_source: bool | None = None
    placed_on_market: str | None = None
    location: Location = Location("system.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class TransitionalFacts:
    """Art. 111: when the first unit of this type and model was placed on the market, and what changed since."""

    first_placed_on_market: str | None = None
    significant_design_change: bool | None = None
    intended_for_public_authorities: bool | None = None
    annex_x_component: bool | None = None
    location: Location = Location("system.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class Classification:
    """The facts from which the EU AI Act risk class is decided."""

    annex_i_product: AnnexIProduct
    annex_iii: AnnexIIIUse
    prohibited_practices_screening: ProhibitedPracticesScreening
    derogation_art_6_3: Derogation | None = None
    transparency_art_50: TransparencyFacts | None = None
    general_purpose_model: bool | None = None
    gpai_model: GpaiModel | None = None
    transitional_art_111: TransitionalFacts | None = None
    location: Location = Location("system.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class HumanOversight:
    measures: Prose
    stop_or_override: Prose
    interface_tools: Prose | None = None
    competence_and_training: Prose | None = None
    automation_bias: Prose | None = None


@record
class Performance:
    accuracy: Prose
    robustness: Prose
    cybersecurity: Prose


@record
class LoggingCoverage:
    point: str
    how: str


@record
class Logging:
    capabilities: Prose
    events: list[str] = field(default_factory=list)
    retention: str | None = None
    coverage: list[LoggingCoverage] = field(default_factory=list)


@record
class PostMarketMonitoring:
    plan: Prose
    procedure: str | None = None


@record
class StandardApplied:
    reference: str
    title: str
    kind: str
    extent: str
    notes: str | None = None


@record
class RiskManagementSystem:
    description: Prose
    procedure: str | None = None


@record
class Declaration:
    place: str
    date: str
    signatory: str
    function: str
    on_behalf_of: str | None = None


@record
class Conformity:
    """How conformity is assessed (Art. 43) and declared (Art. 47, Annex V)."""

    procedure: str
    description: str | None = None
    certificate: str | None = None
    declaration: Declaration | None = None


@record
class NotApplicable:
    point: str
    justification: str
    framework: str = "eu-ai-act"


@record
class System:
    id: str
    name: str
    version: str
    intended_purpose: Prose
    deployers: list[NamedDescription]
    users: list[UserGroup]
    placing_on_market: list[MarketForm]
    hardware: Prose
    software: list[SoftwareComponent]
    user_interface: Prose
    instructions_for_use: Prose
    classification: Classification
    human_oversight: HumanOversight
    performance: Performance
    logging: Logging
    post_market_monitoring: PostMarketMonitoring
    type: str | None = None
    previous_versions: list[PreviousVersion] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    product_illustrations: list[str] = field(default_factory=list)
    input_data_specification: Prose | None = None
    expected_lifetime: str | None = None
    predetermined_changes: Prose | None = None
    development_methods: Prose | None = None
    design_specifications: Prose | None = None
    architecture: Prose | None = None
    capabilities_and_limitations: Prose | None = None
    unintended_outcomes: Prose | None = None
    foreseeable_misuse: Prose | None = None
    output_explanation: Prose | None = None
    output_interpretation: Prose | None = None
    maintenance: Prose | None = None
    metrics_appropriateness: Prose | None = None
    risk_management: RiskManagementSystem | None = None
    conformity: Conformity | None = None
    not_applicable: list[NotApplicable] = field(default_factory=list)
    standards_applied: list[StandardApplied] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    location: Location = Location("system.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


# --- pipeline, data, models -------------------------------------------------------------------


@record
class Person:
    role: str
    team: str | None = None


@record
class PipelineStage:
    id: str
    name: str
    order: int
    stage: str
    description: Prose
    systems: list[str] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    location: Location = Location("")


@record
class Count:
    name: str
    count: int


@record
class SubgroupCount:
    attribute: str
    value: str
    count: int


@record
class Motivation:
    purpose: Prose
    creators: str
    funding: str | None = None
    notes: Prose | None = None


@record
class Composition:
    instances: Prose
    count: int
    splits: list[Count] = field(default_factory=list)
    labels: list[Count] = field(default_factory=list)
    subgroups: list[SubgroupCount] = field(default_factory=list)
    missing_information: Prose | None = None
    errors_and_noise: Prose | None = None
    confidential_data: Prose | None = None
    sensitive_attributes: Prose | None = None


@record
class Collection:
    mechanism: Prose
    sampling: Prose
    timeframe: str
    collectors: str | None = None
    consent: Prose | None = None
    ethical_review: Prose | None = None


@record
class Preprocessing:
    cleaning: Prose
    labelling: Prose
    raw_data_retained: bool | None = None
    tools: list[str] = field(default_factory=list)


@record
class Uses:
    intended_uses: Prose
    unsuitable_uses: Prose
    prior_uses: Prose | None = None


@record
class Distribution:
    distributed: bool
    license: str | None = None
    access: Prose | None = None


@record
class Maintenance:
    maintainer: str
    update_policy: Prose
    retention: str | None = None
    contact: str | None = None


@record
class SpecialCategories:
    processed: bool
    necessity: Prose | None = None
    safeguards: Prose | None = None


@record
class DataGovernance:
    """EU AI Act Art. 10(2)-(5) facts about a dataset."""

    design_choices: Prose | None = None
    provenance: Prose | None = None
    preparation: Prose | None = None
    assumptions: Prose | None = None
    availability_and_suitability: Prose | None = None
    bias_examination: Prose | None = None
    bias_mitigation: Prose | None = None
    gaps: Prose | None = None
    representativeness: Prose | None = None
    setting: Prose | None = None
    special_categories: SpecialCategories | None = None


@record
class PersonalData:
    contains: bool
    categories: list[str] = field(default_factory=list)
    legal_basis: str | None = None
    pseudonymisation: Prose | None = None


@record
class LineageName:
    """A dataset or job as OpenLineage names it."""

    namespace: str
    name: str


@record
class Dataset:
    id: str
    name: str
    version: str
    role: str
    description: Prose
    motivation: Motivation
    composition: Composition
    collection: Collection
    preprocessing: Preprocessing
    uses: Uses
    distribution: Distribution
    maintenance: Maintenance
    sha256: str | None = None
    data_governance: DataGovernance | None = None
    personal_data: PersonalData | None = None
    lineage_names: list[LineageName] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    location: Location = Location("")


@record
class Compute:
    hardware: str | None = None
    training_hours: float | None = None
    energy_kwh: float | None = None
    emissions_kg_co2e: float | None = None


@record
class IntendedUse:
    primary_uses: Prose
    primary_users: Prose
    out_of_scope: Prose


@record
class SubgroupDeclaration:
    attribute: str
    values: list[str]


@record
class Factors:
    relevant: Prose
    evaluation_factors: Prose
    subgroups: list[SubgroupDeclaration] = field(default_factory=list)
    intersections: list[list[str]] = field(default_factory=list)
    location: Location = Location("")


# An acceptance threshold as written: a number (a minimum, or a maximum when lower is better) or a mapping
# {min: x}, {max: x} or {between: [low, high]}. assess/metrics.py reads it as a Limit.
ThresholdSpec = float | dict[str, Any]


@record
class Metric:
    id: str
    name: str
    description: str
    rationale: str
    higher_is_better: bool = True
    decision_threshold: float | None = None
    threshold: ThresholdSpec | None = None
    subgroup_threshold: ThresholdSpec | None = None
    intersection_threshold: ThresholdSpec | None = None
    function: str | None = None
    comparison: str | None = None  # "difference" or "ratio" against reference_group
    reference_group: dict[str, str] = field(default_factory=dict)
    min_n: int | None = None
    gate: str = "point"  # or "lower_bound"
    location: Location = Location("")


@record
class MetricResult:
    metric: str
    value: float
    ci: list[float] = field(default_factory=list)
    slice: dict[str, str] = field(default_factory=dict)
    dataset: str | None = None
    n: int | None = None
    method: str | None = None
    predictions_sha256: str | None = None
    logbook: str | None = None
    inconclusive_accepted: str | None = None
    location: Location = Location("")


@record
class BootstrapSettings:
    resamples: int = 1000
    seed: int = 0
    confidence: float = 0.95
    score_bins: int = 1024


@record
class EvaluationSettings:
    """How `techfile evaluate` reads a predictions file: its columns, the positive label, the bootstrap."""

    label: str
    prediction: str | None = None
    score: str | None = None
    positive_label: str | int | bool = 1
    attributes: dict[str, str] = field(default_factory=dict)
    calibration_bins: int = 10
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)
    location: Location = Location("")


@record
class Model:
    id: str
    name: str
    version: str
    date: str
    task: str
    owner: str
    developers: str
    model_type: str
    architecture: Prose
    intended_use: IntendedUse
    factors: Factors
    metrics: list[Metric]
    training_data: list[str]
    evaluation_data: list[str]
    results: list[MetricResult]
    ethical_considerations: Prose
    caveats: Prose
    license: str | None = None
    base_model: str | None = None
    design_choices: Prose | None = None
    hyperparameters: dict[str, Scalar] = field(default_factory=dict)
    compute: Compute | None = None
    evidence: list[str] = field(default_factory=list)
    logbook: list[str] = field(default_factory=list)
    evaluation: EvaluationSettings | None = None
    location: Location = Location("")


# --- risks, controls, QMS, evidence -----------------------------------------------------------


@record
class Treatment:
    strategy: str
    controls: list[str]
    notes: Prose | None = None


@record
class Risk:
    id: str
    title: str
    hazard: Prose
    stakeholders: list[str]
    likelihood: str
    severity: str
    inherent_level: str
    treatment: Treatment
    residual_level: str
    owner: str
    status: str
    harm: Prose | None = None
    source: str | None = None
    pipeline_stages: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    residual_likelihood: str | None = None
    residual_severity: str | None = None
    nist_ai_rmf: list[str] = field(default_factory=list)
    art_9_step: str | None = None
    last_review: str | None = None
    location: Location = Location("")


@record
class FrameworkClaims:
    """The framework items a control claims to satisfy."""

    eu_ai_act: list[str] = field(default_factory=list)
    iso_42001: list[str] = field(default_factory=list)
    nist_ai_rmf: list[str] = field(default_factory=list)
    soc2: list[str] = field(default_factory=list)
    mdr: list[str] = field(default_factory=list)
    iso_13485: list[str] = field(default_factory=list)
    iso_14971: list[str] = field(default_factory=list)
    gpai: list[str] = field(default_factory=list)
    custom: dict[str, list[str]] = field(default_factory=dict)


@record
class Control:
    id: str
    title: str
    description: Prose
    owner: str
    status: str
    type: str | None = None
    frequency: str | None = None
    evidence: list[str] = field(default_factory=list)
    pipeline_stages: list[str] = field(default_factory=list)
    satisfies: FrameworkClaims = field(default_factory=FrameworkClaims)
    location: Location = Location("")


@record
class Procedure:
    id: str
    title: str
    version: str
    owner: str
    review_date: str
    status: str
    art_17_aspects: list[str]
    body: Prose
    approved_by: str | None = None
    approval_date: str | None = None
    iso_13485_clauses: list[str] = field(default_factory=list)
    iso_14971_clauses: list[str] = field(default_factory=list)
    iso_42001_clauses: list[str] = field(default_factory=list)
    nist_ai_rmf: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    location: Location = Location("")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class Approver:
    """Who approved a document, in what role."""

    name: str
    role: str


@record
class Evidence:
    id: str
    title: str
    type: str
    collected: str
    owner: str
    file: str | None = None
    url: str | None = None
    sha256: str | None = None
    valid_until: str | None = None
    description: str | None = None
    document_id: str | None = None
    revision: str | None = None
    approved_by: list[Approver] = field(default_factory=list)
    approved_on: str | None = None
    signature: str | None = None
    location: Location = Location("")
    field_locations: dict[str, Location] = field(default_factory=dict)


# --- logbook, SoA, changes --------------------------------------------------------------------


@record
class DatasetUse:
    dataset: str
    sha256: str
    split: str | None = None


@record
class CodeVersion:
    repository: str
    commit: str
    tag: str | None = None


@record
class RunEnvironment:
    hardware: str | None = None
    os: str | None = None
    packages: dict[str, str] = field(default_factory=dict)


@record
class LogbookEntry:
    id: str
    sequence: int
    run_type: str
    model: str
    started: str
    ended: str
    performed_by: str
    datasets: list[DatasetUse]
    code_version: CodeVersion
    metrics: dict[str, float]
    hyperparameters: dict[str, Scalar] = field(default_factory=dict)
    environment: RunEnvironment | None = None
    notes: Prose | None = None
    previous_entry_sha256: str | None = None
    location: Location = Location("")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class SoaDecision:
    control: str
    applicable: bool
    status: str
    justification: str | None = None
    implemented_by: list[str] = field(default_factory=list)
    owner: str | None = None
    last_review: str | None = None
    location: Location = Location("")


@record
class StatementOfApplicability:
    id: str
    version: str
    owner: str
    date: str
    decisions: list[SoaDecision]
    approved_by: str | None = None
    location: Location = Location("soa.yaml")


@record
class GsprDecision:
    """One MDR Annex I requirement in the GSPR checklist: applies or not, why, and how conformity is shown."""

    requirement: str
    applicable: bool
    justification: str | None = None
    standards: list[str] = field(default_factory=list)
    common_specifications: list[str] = field(default_factory=list)
    solutions: Prose | None = None
    evidence: list[str] = field(default_factory=list)
    location: Location = Location("")
    field_locations: dict[str, Location] = field(default_factory=dict)

    @property
    def means(self) -> bool:
        """The decision names how the requirement is met: a standard, a common specification or another solution."""
        return bool(self.standards or self.common_specifications or (self.solutions and self.solutions.text.strip()))


@record
class GsprChecklist:
    """gspr.yaml: the decisions on MDR Annex I general safety and performance requirements."""

    id: str
    version: str
    owner: str
    date: str
    decisions: list[GsprDecision]
    approved_by: str | None = None
    location: Location = Location("gspr.yaml")


@record
class Change:
    id: str
    version: str
    date: str
    title: str
    description: Prose
    rationale: Prose
    substantial_modification: bool
    assessment: Prose
    affects: list[str] = field(default_factory=list)
    approved_by: str | None = None
    predetermined: bool | None = None
    location: Location = Location("")


# --- lineage (imported from OpenLineage) ----------------------------------------------------


@record
class LineageField:
    name: str
    type: str | None = None
    description: str | None = None


@record
class LineageDataset:
    """A dataset of a lineage graph; `dataset` is the techfile dataset it is, when the import mapped it."""

    namespace: str
    name: str
    dataset: str | None = None
    fields: list[LineageField] = field(default_factory=list)

    @property
    def ref(self) -> LineageName:
        return LineageName(self.namespace, self.name)


@record
class LineageEvent:
    time: str
    type: str | None = None


@record
class LineageRun:
    run_id: str
    events: list[LineageEvent]


@record
class LineageJob:
    namespace: str
    name: str
    runs: list[LineageRun]

    @property
    def ref(self) -> LineageName:
        return LineageName(self.namespace, self.name)


@record
class LineageEdge:
    """One step: `job` read `input` and wrote `output` (one of the two may be absent)."""

    job: LineageName
    input: LineageName | None = None
    output: LineageName | None = None


@record
class LineageTransformation:
    type: str
    subtype: str | None = None
    description: str | None = None
    masking: bool | None = None


@record
class LineageInputField:
    namespace: str
    name: str
    field: str
    transformations: list[LineageTransformation] = field(default_factory=list)

    @property
    def ref(self) -> LineageName:
        return LineageName(self.namespace, self.name)


@record
class ColumnLineage:
    """An output field and the input fields it is computed from."""

    output: LineageName
    field: str
    inputs: list[LineageInputField]
    description: str | None = None


@record
class LineageGraph:
    """A lineage graph imported from OpenLineage run events (lineage/*.yaml)."""

    id: str
    title: str
    imported_from: str
    imported_on: str
    datasets: list[LineageDataset]
    jobs: list[LineageJob]
    edges: list[LineageEdge]
    producers: list[str] = field(default_factory=list)
    column_lineage: list[ColumnLineage] = field(default_factory=list)
    location: Location = Location("")


# --- custom frameworks ----------------------------------------------------------------------


@record
class FrameworkInfo:
    id: str
    title: str
    assessable: str
    version: str | None = None
    publisher: str | None = None
    description: str | None = None


@record
class CatalogueItem:
    id: str
    kind: str
    title: str
    summary: str | None = None
    parent: str | None = None
    category: str | None = None


@record
class ItemReference:
    framework: str
    item: str


@record
class Mapping:
    from_: ItemReference
    to: ItemReference
    authority: str
    source: str | None = None
    note: str | None = None
    location: Location = Location("")


@record
class CustomFramework:
    """A project's own framework catalogue (frameworks/*.yaml), in the built-in catalogues' format."""

    framework: FrameworkInfo
    items: list[CatalogueItem]
    mappings: list[Mapping] = field(default_factory=list)
    location: Location = Location("")


# --- after the market: FRIA, post-market monitoring, serious incidents, registration -----------------------------


@record
class PersonCategory:
    """A category of natural persons or a group likely to be affected (Art. 27(1)(c))."""

    category: str
    description: Prose
    vulnerable: bool | None = None


@record
class RiskOfHarm:
    """A specific risk of harm to affected persons (Art. 27(1)(d)), described in the risk register."""

    risk: str
    persons: list[str]
    rights: list[str] = field(default_factory=list)
    notes: Prose | None = None
    location: Location = Location("")


@record
class OversightImplementation:
    implementation: Prose
    controls: list[str] = field(default_factory=list)


@record
class MaterialisationMeasures:
    measures: Prose
    controls: list[str] = field(default_factory=list)


@record
class DpiaSummary:
    summary: Prose
    evidence: str | None = None


@record
class Notification:
    authority: str
    date: str
    reference: str | None = None
    evidence: str | None = None


@record
class Fria:
    """The deployer's fundamental rights impact assessment (fria.yaml, Art. 27)."""

    id: str
    system_version: str
    performed_on: str
    performed_by: str
    title: str | None = None
    approved_by: str | None = None
    approved_on: str | None = None
    deployer_processes: Prose | None = None
    period_of_use: str | None = None
    frequency_of_use: str | None = None
    affected_persons: list[PersonCategory] = field(default_factory=list)
    risks_of_harm: list[RiskOfHarm] = field(default_factory=list)
    instructions_for_use: str | None = None
    subgroup_results: list[str] = field(default_factory=list)
    human_oversight: OversightImplementation | None = None
    materialisation_measures: MaterialisationMeasures | None = None
    internal_governance: Prose | None = None
    complaint_mechanism: Prose | None = None
    findings_summary: Prose | None = None
    dpia: DpiaSummary | None = None
    notification: Notification | None = None
    evidence: list[str] = field(default_factory=list)
    location: Location = Location("fria.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class CollectedData:
    name: str
    description: Prose


@record
class MonitoringSource:
    name: str
    provided_by: str
    description: Prose


@record
class Indicator:
    """A monitoring indicator with its threshold, which may follow a model's declared metric."""

    id: str
    name: str
    description: Prose
    model: str | None = None
    metric: str | None = None
    threshold: float | None = None
    higher_is_better: bool | None = None
    unit: str | None = None
    location: Location = Location("")


@record
class ActionTrigger:
    trigger: str
    action: str
    indicator: str | None = None


@record
class SectoralReporting:
    legislation: str
    justification: Prose


@record
class MonitoringPlan:
    """The post-market monitoring plan (monitoring.yaml, Art. 72)."""

    id: str
    title: str
    version: str
    date: str
    owner: str
    approved_by: str | None = None
    procedure: str | None = None
    data_collected: list[CollectedData] = field(default_factory=list)
    sources: list[MonitoringSource] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    review_frequency: str | None = None
    reviewer: str | None = None
    corrective_action_triggers: list[ActionTrigger] = field(default_factory=list)
    logging: Prose | None = None
    interaction_with_other_systems: Prose | None = None
    sectoral_integration: Prose | None = None
    sectoral_reporting: SectoralReporting | None = None
    evidence: list[str] = field(default_factory=list)
    location: Location = Location("monitoring.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class Period:
    start: str
    end: str


@record
class Figure:
    indicator: str
    value: float
    n: int | None = None
    ci: list[float] = field(default_factory=list)
    notes: str | None = None
    location: Location = Location("")


@record
class ReviewAction:
    action: str
    status: str
    owner: str | None = None
    due: str | None = None
    change: str | None = None


@record
class MonitoringReview:
    """One review under the monitoring plan (monitoring/*.yaml)."""

    id: str
    date: str
    period: Period
    reviewed_by: str
    verdict: str
    figures: list[Figure] = field(default_factory=list)
    findings: Prose | None = None
    actions: list[ReviewAction] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    location: Location = Location("")


@record
class AffectedPersons:
    description: Prose
    count: int | None = None


@record
class CorrectiveAction:
    action: str
    status: str
    date: str | None = None
    change: str | None = None
    control: str | None = None


@record
class IncidentReport:
    """A report made about a serious incident: under the AI Act (Art. 73) or a sectoral regime."""

    kind: str
    authority: str
    date: str
    regime: str = "ai-act"
    reference: str | None = None
    legislation: str | None = None


@record
class Incident:
    """A serious incident (incidents/*.yaml, Art. 3(49), Art. 73)."""

    id: str
    title: str
    aware_on: str
    category: str
    status: str
    occurred_on: str | None = None
    causal_link_on: str | None = None
    widespread_infringement: bool = False
    member_states: list[str] = field(default_factory=list)
    system_version: str | None = None
    models: list[str] = field(default_factory=list)
    affected_persons: AffectedPersons | None = None
    deployer: str | None = None
    initial_reporter: str | None = None
    description: Prose | None = None
    causal_analysis: Prose | None = None
    investigation: Prose | None = None
    risk_assessment_review: Prose | None = None
    risks: list[str] = field(default_factory=list)
    corrective_actions: list[CorrectiveAction] = field(default_factory=list)
    reports: list[IncidentReport] = field(default_factory=list)
    comments: Prose | None = None
    evidence: list[str] = field(default_factory=list)
    location: Location = Location("")
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class Certificate:
    type: str
    number: str
    expires: str
    notified_body: str
    copy: str | None = None


@record
class Registration:
    """What the EU database registration needs beyond the other sources (registration.yaml, Art. 49, Annex VIII)."""

    id: str
    status: str
    eu_database_id: str | None = None
    submitted_by: str | dict[str, str] | None = None
    operating_logic: Prose | None = None
    member_states: list[str] = field(default_factory=list)
    certificate: Certificate | None = None
    declaration_copy: str | None = None
    instructions_for_use_url: str | None = None
    information_url: str | None = None
    provider_entry_url: str | None = None
    evidence: list[str] = field(default_factory=list)
    location: Location = Location("registration.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


# --- general-purpose AI model (gpai_model.yaml) ------------------------------------------------


@record
class SoftwareVersion:
    name: str
    version: str


@record
class GpaiDescription:
    """The general description of the model (Annex XI, Section 1, point 1; Annex XII, point 1)."""

    tasks: Prose | None = None
    integration_targets: Prose | None = None
    acceptable_use: Prose | None = None
    release_date: str | None = None
    distribution: list[str] = field(default_factory=list)
    architecture: Prose | None = None
    parameters: int | None = None
    input_modalities: list[str] = field(default_factory=list)
    output_modalities: list[str] = field(default_factory=list)
    input_format: str | None = None
    output_format: str | None = None
    licence: str | None = None
    interaction: Prose | None = None
    software: list[SoftwareVersion] = field(default_factory=list)
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class GpaiDesign:
    methodology: Prose | None = None
    design_choices: Prose | None = None
    optimisation: Prose | None = None
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class GpaiData:
    type: Prose | None = None
    provenance: Prose | None = None
    curation: Prose | None = None
    size: str | None = None
    scope: Prose | None = None
    selection: Prose | None = None
    unsuitable_sources: Prose | None = None
    biases: Prose | None = None
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class GpaiCompute:
    flops: float | None = None
    training_time: str | None = None
    hardware: str | None = None
    details: Prose | None = None
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class GpaiEnergy:
    kwh: float | None = None
    method: str | None = None
    basis: Prose | None = None
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class GpaiDevelopment:
    """The model's elements and how it was developed (Annex XI, Section 1, point 2; Annex XII, point 2)."""

    integration_means: Prose | None = None
    context_window: int | None = None
    max_output: int | None = None
    design: GpaiDesign | None = None
    data: GpaiData | None = None
    compute: GpaiCompute | None = None
    energy: GpaiEnergy | None = None
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class GpaiSystemicRisk:
    """What a provider of a model with systemic risk adds (Annex XI, Section 2; Art. 55(1))."""

    evaluation: Prose | None = None
    adversarial_testing: Prose | None = None
    adaptations: Prose | None = None
    system_architecture: Prose | None = None
    risk_assessment: Prose | None = None
    risk_mitigation: Prose | None = None
    incident_tracking: Prose | None = None
    cybersecurity: Prose | None = None
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class CopyrightPolicy:
    """The policy to comply with Union copyright law (Art. 53(1)(c))."""

    owner: str
    adopted_on: str
    policy: Prose
    rights_reservations: Prose | None = None
    lawful_access: Prose | None = None
    infringing_outputs: Prose | None = None
    complaints: Prose | None = None
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class NamedDataset:
    name: str
    url: str | None = None
    modality: str | None = None


@record
class SourceUse:
    """One kind of data source of the training-content summary: whether it was used, and what it was."""

    used: bool
    description: Prose
    modalities: list[str] = field(default_factory=list)
    datasets: list[NamedDataset] = field(default_factory=list)


@record
class Crawler:
    name: str
    purpose: str
    behaviour: str


@record
class CollectionPeriod:
    start: str
    end: str


@record
class CrawledData:
    used: bool
    description: Prose
    crawlers: list[Crawler] = field(default_factory=list)
    period: CollectionPeriod | None = None
    domains: list[str] = field(default_factory=list)
    domains_rule: str | None = None


@record
class TrainingModality:
    modality: str
    size: str
    content_types: Prose


@record
class TrainingSummary:
    """The public summary of training content (Art. 53(1)(d)) in the sections of the AI Office template."""

    template: str
    published_at: str | None = None
    model_names: list[str] = field(default_factory=list)
    dependencies: Prose | None = None
    placed_on_market: str | None = None
    modalities: list[TrainingModality] = field(default_factory=list)
    latest_collection: str | None = None
    languages: Prose | None = None
    other_characteristics: Prose | None = None
    public_datasets: SourceUse | None = None
    licensed_datasets: SourceUse | None = None
    private_datasets: SourceUse | None = None
    crawled_data: CrawledData | None = None
    user_data: SourceUse | None = None
    synthetic_data: SourceUse | None = None
    other_sources: SourceUse | None = None
    rights_reservations: Prose | None = None
    illegal_content: Prose | None = None
    other_information: Prose | None = None
    field_locations: dict[str, Location] = field(default_factory=dict)


@record
class GpaiModelFacts:
    """The general-purpose AI model the project provides (gpai_model.yaml, Art. 53 and 55, Annexes XI and XII)."""

    id: str
    name: str
    version: str
    owner: str
    approved_by: str | None = None
    approved_on: str | None = None
    model: str | None = None
    description: GpaiDescription | None = None
    development: GpaiDevelopment | None = None
    systemic_risk: GpaiSystemicRisk | None = None
    copyright_policy: CopyrightPolicy | None = None
    training_summary: TrainingSummary | None = None
    evidence: list[str] = field(default_factory=list)
    location: Location = Location("gpai_model.yaml")
    field_locations: dict[str, Location] = field(default_factory=dict)


# --- the project ------------------------------------------------------------------------------

Entity = (System | PipelineStage | Dataset | Model | Risk | Control | Procedure | Evidence | LogbookEntry
          | StatementOfApplicability | GsprChecklist | Change | LineageGraph | Fria | MonitoringPlan | MonitoringReview
          | Incident | Registration | GpaiModelFacts)


@record
class Project:
    """Everything the sources say, resolved and typed; lists are in a stable order."""

    root: Path
    settings: ProjectSettings | None
    system: System | None
    pipeline_stages: list[PipelineStage]
    datasets: list[Dataset]
    models: list[Model]
    risks: list[Risk]
    controls: list[Control]
    procedures: list[Procedure]
    evidence: list[Evidence]
    logbook: list[LogbookEntry]
    soa: StatementOfApplicability | None
    changes: list[Change]
    frameworks: list[CustomFramework] = field(default_factory=list)
    lineage: list[LineageGraph] = field(default_factory=list)
    gspr: GsprChecklist | None = None
    fria: Fria | None = None
    monitoring: MonitoringPlan | None = None
    monitoring_reviews: list[MonitoringReview] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    registration: Registration | None = None
    gpai_model: GpaiModelFacts | None = None

    def entities(self) -> list[Entity]:
        """Every entity with an id, in source order."""
        singles: list[Entity] = [e for e in (self.system, self.soa, self.gspr, self.fria, self.monitoring, self.registration,
                                                      self.gpai_model)
                                 if e is not None]
        groups: list[list[Entity]] = [self.pipeline_stages, self.datasets, self.models, self.risks, self.controls,
                                      self.procedures, self.evidence, self.logbook, self.changes, self.lineage,
                                      self.monitoring_reviews, self.incidents]
        return singles + [e for group in groups for e in group]

    def entity(self, entity_id: str) -> Entity | None:
        """The entity with this id, if any."""
        return next((e for e in self.entities() if e.id == entity_id), None)

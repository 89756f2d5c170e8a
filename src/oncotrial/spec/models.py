"""The trial spec: a protocol as typed, validated data (pydantic v2).

One YAML document describes a trial once: identity, arms and their regimens, allocation ratio,
stratification, eligibility, assessment schedule, endpoints with censoring rules, the statistical
design and the planned analyses, and the conventions profile. Every other layer reads this model;
no user types the same assumption twice.

Unknown keys are errors (``extra="forbid"``) so a typo such as ``ratoi: 2`` is reported with its
YAML path and line instead of being silently ignored. Cross-field rules (an analysis that names an
endpoint that does not exist, a rule that uses an undeclared attribute...) are checked in
:meth:`TrialSpec._cross_checks`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oncotrial.conventions import CONF_TYPES, PROFILES, TIES


class SpecModel(BaseModel):
    """Base of all spec models: immutable, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- identity


class Identity(SpecModel):
    id: str = Field(min_length=1, description="Short trial identifier, e.g. PALMIRA")
    title: str = Field(min_length=1)
    phase: Literal["I", "I/II", "II", "II/III", "III"]
    registry_id: str | None = Field(None, description="e.g. NCT03809988")
    sponsor: str | None = None
    population: str = Field(min_length=1, description="One-paragraph population summary")
    sources: list[str] = Field(default_factory=list, description="Documents the spec encodes")


# --------------------------------------------------------------------------- arms


class Schedule(SpecModel):
    """When an agent is given within a cycle.

    ``days`` are cycle days (1-based) on which the agent is taken; ``frequency`` says how often on
    such a day (QD once daily, BID/Q12H twice daily). ``first_cycle_days`` overrides ``days`` in
    cycle 1 (fulvestrant's loading dose on days 1 and 15). ``every_cycles`` gives a drug every k-th
    cycle only.
    """

    frequency: Literal["QD", "BID", "Q12H", "ONCE", "Q3W", "Q4W"] = "QD"
    days: list[int] = Field(min_length=1)
    first_cycle_days: list[int] | None = None
    every_cycles: int = Field(1, ge=1)
    continuous: bool = False

    @field_validator("days", "first_cycle_days", mode="before")
    @classmethod
    def _day_ranges(cls, value: Any) -> Any:
        """Accept ``"1-21"`` or ``"1,15"`` as well as a list of days."""
        return parse_day_list(value) if isinstance(value, str) else value

    @field_validator("days", "first_cycle_days")
    @classmethod
    def _positive_days(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(d < 1 for d in value):
            raise ValueError("cycle days are 1-based and must be >= 1")
        if value is not None and len(set(value)) != len(value):
            raise ValueError("cycle days must not repeat")
        return value


def parse_day_list(text: str) -> list[int]:
    """``"1-21"`` -> [1..21]; ``"1,15"`` -> [1, 15]; ``"1-7,15"`` mixes both."""
    days: list[int] = []
    for piece in text.replace(" ", "").split(","):
        if not piece:
            continue
        first, _, last = piece.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"days: {text!r} is not a day list; write e.g. '1-21' or '1,15'")
        lo, hi = int(first), int(last or first)
        if hi < lo:
            raise ValueError(f"days: range {piece!r} runs backwards")
        days.extend(range(lo, hi + 1))
    return days


class Agent(SpecModel):
    """One drug of a regimen, e.g. palbociclib 125 mg PO QD days 1-21 of 28-day cycles."""

    agent: str = Field(min_length=1)
    dose: float = Field(gt=0)
    unit: Literal["mg", "mg/kg", "mg/m2", "ug", "IU"]
    route: Literal["PO", "IV", "IM", "SC"]
    schedule: Schedule
    text: str = Field(min_length=1, description="The schedule as the protocol words it")
    dose_levels: list[float] = Field(
        default_factory=list, description="Allowed levels, starting dose first (reductions follow)"
    )
    optional: bool = Field(False, description="Given to some subjects only (e.g. GnRH agonist)")
    condition: str | None = None


class Arm(SpecModel):
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_+\- ]*$", description="Short arm code")
    label: str = Field(min_length=1)
    ratio: int = Field(ge=1, description="Allocation weight, e.g. 2 for the 2 of a 2:1 ratio")
    regimen: list[Agent] = Field(min_length=1)
    choice: str | None = Field(
        None, description="How alternative agents are chosen, e.g. ET per previous therapy"
    )


class Treatment(SpecModel):
    cycle_days: int = Field(gt=0, description="Cycle length in days")
    start: Literal["randomization", "registration"] = "randomization"
    until: str = Field(min_length=1, description="When treatment stops")


# --------------------------------------------------------------------------- strata and subjects


class StratificationFactor(SpecModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    levels: list[str] = Field(min_length=2)

    @field_validator("levels")
    @classmethod
    def _unique_levels(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"levels must be unique, got {value}")
        return value


AttributeType = Literal["number", "integer", "boolean", "category", "date", "text"]


class SubjectAttribute(SpecModel):
    """A piece of subject data that eligibility rules and subgroups may use."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: AttributeType
    levels: list[str] | None = None
    unit: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _levels_for_categories(self) -> SubjectAttribute:
        if self.type == "category" and not self.levels:
            raise ValueError(f"attribute {self.name!r} is a category and needs 'levels'")
        if self.type != "category" and self.levels is not None:
            raise ValueError(f"attribute {self.name!r} has levels but type {self.type!r}")
        return self


class Criterion(SpecModel):
    """One eligibility criterion: protocol text plus a machine-checkable rule.

    The rule is an expression of the safe rule language (docs/ELIGIBILITY.md). An inclusion
    criterion is met when its rule is true; an exclusion criterion applies when its rule is true.
    """

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    text: str = Field(min_length=1)
    rule: str = Field(min_length=1)


class Eligibility(SpecModel):
    inclusion: list[Criterion] = Field(min_length=1)
    exclusion: list[Criterion] = Field(default_factory=list)


# --------------------------------------------------------------------------- schedule


class Period(SpecModel):
    """A stretch of a recurring assessment.

    Exactly one of ``every_weeks``, ``every_days`` or ``every_cycles`` gives the interval. A
    period ends at ``until_months`` / ``until_weeks`` (time since the schedule's origin) or
    ``until_cycle`` (last cycle included); the next period continues from the last visit of this
    one. ``cycle_day`` places cycle-based visits (e.g. day 14 of the cycle).
    """

    every_weeks: float | None = Field(None, gt=0)
    every_days: int | None = Field(None, gt=0)
    every_cycles: int | None = Field(None, gt=0)
    cycle_day: int = Field(1, ge=1)
    until_months: float | None = Field(None, gt=0)
    until_weeks: float | None = Field(None, gt=0)
    until_cycle: int | None = Field(None, ge=1)
    window_days: int = Field(0, ge=0, description="Allowed deviation either side, in days")

    @model_validator(mode="after")
    def _one_interval(self) -> Period:
        given = [self.every_weeks, self.every_days, self.every_cycles]
        if sum(x is not None for x in given) != 1:
            raise ValueError("give exactly one of every_weeks, every_days, every_cycles")
        if self.every_cycles is None and self.until_cycle is not None:
            raise ValueError("until_cycle only applies to cycle-based periods (every_cycles)")
        if self.every_cycles is not None and (self.until_months or self.until_weeks):
            raise ValueError("cycle-based periods end with until_cycle, not until_months/weeks")
        return self


class Assessment(SpecModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["tumour", "safety", "lab", "imaging", "biomarker", "pro"]
    description: str = Field(min_length=1)
    baseline: bool = True
    baseline_window_days: int = Field(28, ge=0, description="Baseline within this many days")
    condition: str | None = Field(None, description="Who gets it, e.g. bone lesions at baseline")
    periods: list[Period] = Field(default_factory=list)
    extra_study_days: list[int] = Field(
        default_factory=list, description="One-off visits on these study days"
    )


# --------------------------------------------------------------------------- endpoints


CensoringSituation = Literal[
    "no_baseline_assessment",
    "no_adequate_post_baseline",
    "new_anticancer_therapy",
    "event_after_missed_assessments",
    "progression",
    "death",
    "treatment_discontinued",
    "chemotherapy",
    "no_event",
]
CensoringDate = Literal[
    "origin",
    "last_adequate_assessment",
    "last_adequate_before_therapy",
    "last_adequate_before_gap",
    "progression",
    "death",
    "chemotherapy",
    "last_known_alive",
]


class CensoringRule(SpecModel):
    """One row of a censoring table: in this situation, event or censored, at which date.

    ``situation`` and ``date`` are the guideline's words; ``when`` and ``at`` are the same
    as codes that ``oncotrial derive`` evaluates (docs/DERIVATIONS.md, "Censoring"). A rule
    without codes is documentation only and cannot be used to derive a dataset.
    """

    id: str
    situation: str
    outcome: Literal["event", "censored"]
    date: str
    when: CensoringSituation | None = None
    at: CensoringDate | None = None


class CensoringRules(SpecModel):
    """A named set of censoring rules; ``rules`` in priority order (first match wins)."""

    name: str
    source: str
    rules: list[CensoringRule] = Field(min_length=1)


EndpointType = Literal["time-to-event", "binary", "safety", "continuous"]


class Endpoint(SpecModel):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    name: str
    role: Literal["primary", "secondary", "exploratory"]
    type: EndpointType
    definition: str
    origin: str | None = Field(None, description="Time zero for time-to-event endpoints")
    events: list[str] = Field(default_factory=list)
    assessed_by: Literal["investigator", "central", "not applicable"] = "investigator"
    response_criteria: str | None = Field(None, description="e.g. RECIST 1.1")
    confirmation_weeks: float | None = Field(None, description="Confirmation interval, if any")
    min_sd_weeks: float | None = Field(None, description="Minimum stable disease duration")
    responses: list[str] = Field(default_factory=list, description="Best responses that count")
    population: str = "ITT"
    censoring: str | CensoringRules | None = None
    grading: str | None = Field(None, description="e.g. CTCAE v5.0")

    @model_validator(mode="after")
    def _tte_needs_origin(self) -> Endpoint:
        if self.type == "time-to-event" and not self.origin:
            raise ValueError(f"time-to-event endpoint {self.id!r} needs an 'origin'")
        return self


# --------------------------------------------------------------------------- design and analyses


class DesignBlock(SpecModel):
    """The statistical design (filled by the design calculators, issue #4).

    ``type`` names the calculator; its parameters are kept as given (extra keys allowed here and
    only here) and validated by that calculator. ``published`` records numbers a source document
    states, so a design check can compare them with what the calculator gives.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Literal[
        "two-arm-survival",
        "single-arm-survival",
        "group-sequential-survival",
        "simon-two-stage",
        "single-stage-binomial",
        "dose-escalation",
    ]
    summary: str = Field(min_length=1)
    published: dict[str, Any] = Field(default_factory=dict)
    computed: dict[str, Any] = Field(
        default_factory=dict,
        description="What the design calculator gives for this block (events, patients), "
        "recorded so the spec reads on its own; a test keeps it equal to the calculator",
    )


class Population(SpecModel):
    name: str
    definition: str


class SubgroupLevel(SpecModel):
    label: str
    rule: str


class Subgroup(SpecModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    levels: list[SubgroupLevel] = Field(min_length=2)


class PrimaryAnalysis(SpecModel):
    endpoint: str
    test: Literal[
        "log-rank", "stratified log-rank", "exact binomial", "one-sample log-rank", "Cox Wald"
    ]
    stratified_by: list[str] = Field(default_factory=list)
    sides: Literal[1, 2] = 2
    alpha: float = Field(gt=0, lt=1)
    effect_measure: str = Field("hazard ratio (Cox)", description="How the effect is estimated")


class Analyses(SpecModel):
    primary: PrimaryAnalysis
    populations: list[Population] = Field(min_length=1)
    subgroups: list[Subgroup] = Field(default_factory=list)
    landmarks_months: list[float] = Field(default_factory=list)
    interim: str | None = Field(
        None, description="Interim analyses in words (formal plan in design)"
    )


class ConventionsSpec(SpecModel):
    profile: Literal["sas", "r"] = "r"
    conf_type: str | None = None
    ties: str | None = None
    conf_level: float = Field(0.95, gt=0, lt=1)

    @field_validator("conf_type")
    @classmethod
    def _conf_type(cls, value: str | None) -> str | None:
        if value is not None and value not in CONF_TYPES:
            raise ValueError(f"conf_type must be one of {', '.join(CONF_TYPES)}")
        return value

    @field_validator("ties")
    @classmethod
    def _ties(cls, value: str | None) -> str | None:
        if value is not None and value not in TIES:
            raise ValueError(f"ties must be one of {', '.join(TIES)}")
        return value


class Derivation(SpecModel):
    """Derivation settings the protocol fixes (all optional; docs/SPEC.md, "derivation")."""

    teae_window_days: int = Field(
        30, ge=0, description="Treatment-emergent: onset up to last dose + this many days"
    )
    sd_min_days: int = Field(
        42, ge=0, description="RECIST 1.1 SD minimum duration from the reference date (days)"
    )
    confirmation_days: int = Field(
        28, ge=1, description="CR/PR confirmation interval when an endpoint gives none"
    )
    missed_assessments: int = Field(
        2, ge=1, description="Missed scheduled tumour assessments before an event is censored"
    )
    starting_dose: Literal["protocol", "first"] = Field(
        "protocol",
        description="Reference dose of RDI and dose reductions: the regimen's dose (protocol) "
        "or each subject's first administered dose (first)",
    )
    planned_period: Literal["schedule", "elapsed"] = Field(
        "schedule",
        description="Planned dose over the scheduled dosing days between first and last dose "
        "(schedule) or over the elapsed time (elapsed)",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Partial-date imputation and AE grouping, as in a `derive --options` file "
        "(date_imputation, treatment_emergent; checked by oncotrial.derive.options)",
    )


# --------------------------------------------------------------------------- multi-part trials


class DoseEscalation(SpecModel):
    """Phase I dose finding (e.g. the 3+3 of ACCRU-BR-1801)."""

    agent: str
    unit: str
    dose_levels: list[float] = Field(min_length=1)
    starting_level: int = Field(1, ge=1, description="1-based index into dose_levels")
    backbone: str | None = Field(None, description="Fixed companion treatment")
    dlt_window_days: int = Field(gt=0)
    design: DesignBlock


class Cohort(SpecModel):
    """An independently powered part of a trial (ACCRU-BR-1801 has two phase II cohorts)."""

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    label: str
    definition: str
    entry_rule: str | None = Field(None, description="Rule on subject attributes")
    design: DesignBlock


# --------------------------------------------------------------------------- the trial


class TrialSpec(SpecModel):
    """A whole trial. See docs/SPEC.md for every field."""

    spec_version: Literal[1] = 1
    trial: Identity
    arms: list[Arm] = Field(min_length=1)
    treatment: Treatment
    stratification: list[StratificationFactor] = Field(default_factory=list)
    subject_attributes: list[SubjectAttribute] = Field(min_length=1)
    eligibility: Eligibility
    assessments: list[Assessment] = Field(min_length=1)
    endpoints: list[Endpoint] = Field(min_length=1)
    design: DesignBlock | None = None
    dose_escalation: DoseEscalation | None = None
    cohorts: list[Cohort] = Field(default_factory=list)
    analyses: Analyses
    conventions: ConventionsSpec = Field(default_factory=ConventionsSpec)
    derivation: Derivation = Field(default_factory=Derivation)
    assumptions: list[str] = Field(
        default_factory=list,
        description="What this spec assumes that its source documents do not state",
    )

    # ---- convenient views

    @property
    def ratio(self) -> dict[str, int]:
        return {arm.name: arm.ratio for arm in self.arms}

    @property
    def ratio_text(self) -> str:
        return ":".join(str(arm.ratio) for arm in self.arms)

    def arm(self, name: str) -> Arm:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(name)

    def endpoint(self, endpoint_id: str) -> Endpoint:
        for endpoint in self.endpoints:
            if endpoint.id == endpoint_id:
                return endpoint
        raise KeyError(endpoint_id)

    def attribute(self, name: str) -> SubjectAttribute:
        for attribute in self.subject_attributes:
            if attribute.name == name:
                return attribute
        raise KeyError(name)

    @property
    def criteria(self) -> list[tuple[str, Criterion]]:
        """All criteria in protocol order, each with its kind (inclusion/exclusion)."""
        return [("inclusion", c) for c in self.eligibility.inclusion] + [
            ("exclusion", c) for c in self.eligibility.exclusion
        ]

    # ---- cross-field checks

    @model_validator(mode="after")
    def _cross_checks(self) -> TrialSpec:
        _unique("arms", [a.name for a in self.arms], "name")
        _unique("stratification", [s.name for s in self.stratification], "name")
        _unique("subject_attributes", [a.name for a in self.subject_attributes], "name")
        _unique("endpoints", [e.id for e in self.endpoints], "id")
        _unique("assessments", [a.name for a in self.assessments], "name")
        _unique("eligibility", [c.id for _, c in self.criteria], "id")
        endpoint_ids = [e.id for e in self.endpoints]
        if self.analyses.primary.endpoint not in endpoint_ids:
            raise ValueError(
                f"analyses.primary.endpoint: {self.analyses.primary.endpoint!r} is not an "
                f"endpoint; valid: {', '.join(endpoint_ids)}"
            )
        factors = [s.name for s in self.stratification]
        for i, name in enumerate(self.analyses.primary.stratified_by):
            if name not in factors:
                raise ValueError(
                    f"analyses.primary.stratified_by[{i}]: {name!r} is not a stratification "
                    f"factor; valid: {', '.join(factors) or '(none declared)'}"
                )
        _check_censoring_names(self.endpoints)
        primaries = [e.id for e in self.endpoints if e.role == "primary"]
        if not primaries:
            raise ValueError("endpoints: no endpoint has role 'primary'")
        if self.design is None and not self.cohorts:
            raise ValueError("a trial needs a 'design' block, or 'cohorts' each with a design")
        return self


def _check_censoring_names(endpoints: list[Endpoint]) -> None:
    from oncotrial.spec.censoring import censoring_presets

    presets = censoring_presets()
    for i, endpoint in enumerate(endpoints):
        if isinstance(endpoint.censoring, str) and endpoint.censoring not in presets:
            raise ValueError(
                f"endpoints[{i}].censoring: unknown rule set {endpoint.censoring!r}; shipped "
                f"rule sets are {', '.join(presets)} (or give the rules inline)"
            )


def _unique(where: str, values: list[str], key: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ValueError(f"{where}[{i}].{key}: {value!r} is used twice; {key}s must be unique")
        seen.add(value)


PROFILE_NAMES = PROFILES

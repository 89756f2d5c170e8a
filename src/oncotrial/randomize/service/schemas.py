"""Request and response bodies of the JSON API (pydantic models; they make the OpenAPI schema).

Requests forbid unknown fields, so a misspelt field is named in the 422 answer instead of
being ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SUBJECT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
SITE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$"
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$"


def _no_control_characters(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters (e.g. NUL)")
    return value


Text = Annotated[str, AfterValidator(_no_control_characters)]
"""Free text stored in the database: no NUL or other control characters (PostgreSQL refuses
NUL in text)."""

AnswerValue = Text | int | float | bool | None


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RandomizationRequest(Request):
    subject_id: str = Field(
        pattern=SUBJECT_ID_PATTERN,
        description="Subject identifier, unique in the trial (letters, digits, _ . -; <= 64)",
        examples=["S01-001"],
    )
    site: str = Field(pattern=SITE_CODE_PATTERN, description="Site code", examples=["S01"])
    strata: dict[Text, Text] = Field(
        description='Level of every stratification factor, e.g. {"visceral_involvement": "yes"}',
    )
    eligibility: dict[Text, AnswerValue] | None = Field(
        None,
        description="Optional answers {subject attribute: value}; when given, the spec's "
        "eligibility criteria are checked and an ineligible subject is refused (422)",
    )


class AssignmentOut(BaseModel):
    """A randomized subject as the requesting user may see it (no list positions)."""

    subject_id: str
    site: str
    strata: dict[str, str]
    stratum: str
    arm: str | None = Field(description="Arm code (null while blinded for this user)")
    arm_label: str | None
    randomization_number: int
    randomized_at: str
    randomized_by: str
    unblinded: bool = False


class SubjectList(BaseModel):
    subjects: list[AssignmentOut]


class UnblindRequest(Request):
    reason: Text = Field(min_length=3, max_length=2000, description="Why the arm is needed")


class SiteIn(Request):
    code: str = Field(pattern=SITE_CODE_PATTERN)
    name: Text = Field(min_length=1, max_length=200)


class SiteOut(BaseModel):
    code: str
    name: str


class UserIn(Request):
    username: str = Field(pattern=USERNAME_PATTERN)
    role: Literal["admin", "statistician", "site"]
    site: str | None = Field(None, description="Site code; required for (only for) role site")
    password: Text | None = Field(None, min_length=8, max_length=200)


class UserOut(BaseModel):
    username: str
    role: str
    site: str | None
    active: bool


class TokenIn(Request):
    label: Text = Field("", max_length=200)
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class TokenOut(BaseModel):
    token: str = Field(description="Shown once; only its SHA-256 is stored")
    username: str
    label: str
    expires_at: str | None


class LoginIn(Request):
    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=200)


class AuditOut(BaseModel):
    seq: int
    ts: str
    actor: str
    action: str
    entity: str
    old: object | None
    new: object | None
    reason: str | None
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    records: list[AuditOut]
    next_after: int | None


class FactorOut(BaseModel):
    name: str
    label: str
    levels: list[str]


class ArmOut(BaseModel):
    code: str
    label: str
    ratio: int


class TrialOut(BaseModel):
    spec_id: str
    title: str
    scheme: str | None = Field(description="Allocation algorithm (admin and statistician only)")
    blinded: bool
    arms: list[ArmOut]
    factors: list[FactorOut]
    eligibility_attributes: list[str]


class ListSlotOut(BaseModel):
    stratumn: int
    stratum: str
    position: int
    block: int | None
    block_size: int | None
    arm: str
    subject_id: str | None


class AllocationListOut(BaseModel):
    params: dict[str, object]
    fingerprint: str
    slots: list[ListSlotOut]


class MeOut(BaseModel):
    username: str
    role: str
    site: str | None


class ErrorBody(BaseModel):
    type: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody

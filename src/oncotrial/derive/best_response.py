"""RECIST 1.1 best overall response (BOR), with and without confirmation, and clinical benefit.

Method: Eisenhauer EA et al., RECIST 1.1, Eur J Cancer 2009;45:228-247, section 4.4.3
("Best overall response: all time points", Table 3) and section 4.6.1 ("Confirmation").

Input: the time-point responses of :func:`oncotrial.derive.recist.timepoint_responses`, or an
RS-like frame of investigator-reported responses with columns

=======  ===============================================================================
USUBJID  subject identifier
ADT      assessment date
AVALC    overall time-point response: CR, PR, SD, NON-CR/NON-PD, PD or NE
TRTSDT   optional reference date (start of treatment / randomization) when
         ``reference_dates`` is not given
=======  ===============================================================================

Rules applied to the time points after the reference date, up to and including the first
PD (later assessments are ignored: BOR is the best response "until disease progression"):

* Without confirmation: CR, else PR, else SD (or NON-CR/NON-PD) observed at least
  ``min_sd_days`` after the reference date, else PD if a PD was observed, else NE
  (section 4.4.3 and its examples).
* With confirmation (section 4.6.1, Table 3): a CR needs a CR at least ``confirmation_days``
  later with only CR or NE in between; a PR needs a CR or PR at least ``confirmation_days``
  later with only CR, PR or NE in between; at most ``max_ne_between`` NE may lie between.
  An unconfirmed CR/PR counts as SD when it meets the SD minimum duration (Table 3 rows
  "SD provided minimum criteria for SD duration met"). Table 3 footnote (a): a PR (or SD)
  after a CR means disease reappeared; ``cr_followed_by_pr`` chooses between reading the
  earlier CR as PR ("pr": the guideline's "original CR should be changed to PR") or the later
  PR as PD ("pd"). An SD after a CR is read as PD (Table 3 row "CR | SD").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from oncotrial.derive._columns import (
    bad_cell,
    code_cells,
    date_cells,
    is_missing,
    require_columns,
    text_cells,
)
from oncotrial.derive.recist import RecistTimepoints
from oncotrial.errors import DataError, InputError
from oncotrial.results import Result

RESPONSES = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")
RESPONSE_SYNONYMS = {
    "NON-CR/NON-PD": "NON-CR/NON-PD",
    "NON CR/NON PD": "NON-CR/NON-PD",
    "NONCR/NONPD": "NON-CR/NON-PD",
    "NON-CR / NON-PD": "NON-CR/NON-PD",
    "NOT EVALUABLE": "NE",
    "NOT EVALUATED": "NE",
}
SD_LIKE = ("SD", "NON-CR/NON-PD")


@dataclass(frozen=True)
class Timepoint(Result):
    """One time-point response as used for BOR: ``response`` after the footnote (a) reading."""

    adt: dt.date
    day: int  # days after the reference date
    reported: str
    response: str


@dataclass(frozen=True)
class SubjectBestResponse(Result):
    """One subject's best overall response, the time points it used and why."""

    usubjid: str
    bor: str
    bor_date: dt.date | None  # first time point giving the BOR (the response, SD or PD date)
    confirmed: bool  # BOR CR/PR confirmed (always False without confirmation)
    reference_date: dt.date
    timepoints: tuple[Timepoint, ...]
    trace: str


@dataclass(frozen=True)
class BestOverallResponse(Result):
    """Best overall response of every subject (``to_frame()``: one row per subject)."""

    subjects: tuple[SubjectBestResponse, ...]
    confirm: bool
    confirmation_days: int
    min_sd_days: int
    max_ne_between: int
    cr_followed_by_pr: str
    source: str  # "lesions" or "reported"
    guideline: str = "RECIST 1.1 section 4.4.3 (Table 3) and 4.6.1"

    def to_frame(self) -> pd.DataFrame:
        rows = [
            {
                "USUBJID": s.usubjid,
                "BOR": s.bor,
                "BORDT": s.bor_date,
                "CONFIRMED": s.confirmed,
                "REFDT": s.reference_date,
                "TRACE": s.trace,
            }
            for s in self.subjects
        ]
        return pd.DataFrame(
            rows, columns=["USUBJID", "BOR", "BORDT", "CONFIRMED", "REFDT", "TRACE"]
        )

    def summary(self) -> str:
        mode = (
            f"confirmed (>= {self.confirmation_days} days, <= {self.max_ne_between} NE between)"
            if self.confirm
            else "unconfirmed"
        )
        lines = [f"RECIST 1.1 best overall response, {mode}, SD >= {self.min_sd_days} days"]
        for s in self.subjects:
            lines.append(f"  {s.usubjid}: {s.bor:<14} {s.trace}")
        return "\n".join(lines)

    def subject(self, usubjid: str) -> SubjectBestResponse:
        for s in self.subjects:
            if s.usubjid == usubjid:
                return s
        raise InputError(f"subject {usubjid!r} is not in this result", usubjid=usubjid)


@dataclass(frozen=True)
class SubjectClinicalBenefit(Result):
    usubjid: str
    benefit: bool
    bor: str
    trace: str


@dataclass(frozen=True)
class ClinicalBenefit(Result):
    """Clinical benefit (CR or PR, or SD lasting at least ``cbr_days``) per subject."""

    subjects: tuple[SubjectClinicalBenefit, ...]
    cbr_days: int
    n_benefit: int
    n_subjects: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [s.to_dict() for s in self.subjects], columns=["usubjid", "benefit", "bor", "trace"]
        )


# --------------------------------------------------------------------------- inputs


def _check_parameters(
    confirmation_days: int, min_sd_days: int, max_ne_between: int, cr_followed_by_pr: str
) -> None:
    for name, value in (
        ("confirmation_days", confirmation_days),
        ("min_sd_days", min_sd_days),
        ("max_ne_between", max_ne_between),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(
                f"{name} = {value!r} is invalid; use an integer >= 0",
                argument=name,
                value=str(value),
            )
    if cr_followed_by_pr not in ("pr", "pd"):
        raise InputError(
            f"cr_followed_by_pr = {cr_followed_by_pr!r} is invalid; use 'pr' "
            "(the CR is read as PR) or 'pd' (the PR is read as PD)",
            argument="cr_followed_by_pr",
            value=str(cr_followed_by_pr),
            valid=["pr", "pd"],
        )


def _reference_lookup(
    reference_dates: Mapping[str, Any] | pd.Series | None,
) -> dict[str, dt.date] | None:
    if reference_dates is None:
        return None
    items = reference_dates.items()
    out: dict[str, dt.date] = {}
    for key, value in items:
        try:
            out[str(key)] = pd.Timestamp(value).date()
        except (ValueError, TypeError):
            raise InputError(
                f"reference_dates[{key!r}] = {value!r} is not a date",
                argument="reference_dates",
                usubjid=str(key),
                value=str(value),
            ) from None
    return out


def _from_frame(
    rs: pd.DataFrame, dataset: str
) -> tuple[dict[str, list[tuple[dt.date, str]]], dict[str, dt.date]]:
    require_columns(rs, ("USUBJID", "ADT", "AVALC"), dataset)
    rs = rs.reset_index(drop=True)
    subjects = text_cells(rs, "USUBJID", dataset)
    dates = date_cells(rs, "ADT", dataset)
    values = code_cells(rs, "AVALC", dataset, RESPONSES, synonyms=RESPONSE_SYNONYMS)
    points: dict[str, list[tuple[dt.date, str]]] = {}
    seen: dict[tuple[str, dt.date], int] = {}
    for i, (s, d, v) in enumerate(zip(subjects, dates, values, strict=True)):
        if (s, d) in seen:
            raise bad_cell(
                dataset,
                "ADT",
                i,
                d.isoformat(),
                f"repeats row {seen[(s, d)] + 1} for subject {s!r}; one overall "
                "response per assessment date",
            )
        seen[(s, d)] = i
        points.setdefault(s, []).append((d, v))
    refs: dict[str, dt.date] = {}
    if "TRTSDT" in rs.columns:
        for i, (s, value) in enumerate(zip(subjects, rs["TRTSDT"].tolist(), strict=True)):
            if is_missing(value):
                continue
            try:
                date = pd.Timestamp(value).date()
            except (ValueError, TypeError):
                raise bad_cell(dataset, "TRTSDT", i, value, "is not a date") from None
            if refs.setdefault(s, date) != date:
                raise bad_cell(
                    dataset,
                    "TRTSDT",
                    i,
                    value,
                    f"differs from {refs[s].isoformat()} on an earlier row of {s!r}",
                )
    return points, refs


# --------------------------------------------------------------------------- rules


def _footnote_a(
    points: list[Timepoint], cr_followed_by_pr: str
) -> tuple[list[Timepoint], list[str]]:
    """Table 3 footnote (a): a PR or SD after a CR. Returns the re-read points and notes."""
    notes: list[str] = []
    pts = list(points)

    def previous_evaluable(i: int) -> str | None:
        for p in reversed(pts[:i]):
            if p.response != "NE":
                return p.response
        return None

    if cr_followed_by_pr == "pr":
        following: str | None = None
        for i in range(len(pts) - 1, -1, -1):
            p = pts[i]
            if p.response == "CR" and following == "PR":
                pts[i] = Timepoint(p.adt, p.day, p.reported, "PR")
                notes.append(
                    f"CR on {p.adt} read as PR because a PR follows it (Table 3 footnote a)"
                )
            if pts[i].response != "NE":
                following = pts[i].response
    for i, p in enumerate(pts):
        before = previous_evaluable(i)
        if before == "CR" and p.response in ("PR", "SD"):
            pts[i] = Timepoint(p.adt, p.day, p.reported, "PD")
            notes.append(
                f"{p.response} on {p.adt} after a CR read as PD: disease reappeared "
                f"(Table 3 {'footnote a' if p.response == 'PR' else 'row CR | SD'})"
            )
            pts = pts[: i + 1]
            break
    return pts, notes


def _confirmation(
    points: list[Timepoint],
    first: tuple[str, ...],
    second: tuple[str, ...],
    between: tuple[str, ...],
    confirmation_days: int,
    max_ne: int,
) -> tuple[Timepoint, Timepoint, int] | None:
    """The first pair (i, j) with i in ``first``, j in ``second`` >= confirmation_days later."""
    for i, p in enumerate(points):
        if p.response not in first:
            continue
        n_ne = 0
        for q in points[i + 1 :]:
            gap = (q.adt - p.adt).days
            if q.response in second and gap >= confirmation_days:
                return p, q, n_ne
            if q.response == "NE":
                n_ne += 1
                if n_ne > max_ne:
                    break
            elif q.response not in between:
                break
    return None


def _sd_like(points: list[Timepoint], accepted: tuple[str, ...], min_days: int) -> Timepoint | None:
    for p in points:
        if p.response in accepted and p.day >= min_days:
            return p
    return None


def _sd_label(points: list[Timepoint], non_target_only: bool | None) -> str:
    """NON-CR/NON-PD for non-target-only disease (Table 2 footnote a), else SD.

    ``non_target_only`` is known for lesion-derived responses; for reported responses it is
    inferred: a NON-CR/NON-PD time point and no SD or PR.
    """
    if non_target_only is None:
        kinds = {p.reported for p in points}
        non_target_only = "NON-CR/NON-PD" in kinds and not kinds & {"SD", "PR"}
    return "NON-CR/NON-PD" if non_target_only else "SD"


def _describe_short_sd(points: list[Timepoint], min_sd_days: int) -> str:
    short = [p for p in points if p.response in ("CR", "PR", *SD_LIKE)]
    if not short:
        return "no CR, PR or SD"
    last = short[-1]
    return (
        f"{last.response} on {last.adt} is day {last.day} after reference (< {min_sd_days}): "
        "SD minimum duration not met"
    )


def _best_one(
    subject: str,
    raw: list[tuple[dt.date, str]],
    reference: dt.date,
    confirm: bool,
    confirmation_days: int,
    min_sd_days: int,
    max_ne: int,
    cr_followed_by_pr: str,
    non_target_only: bool | None,
) -> SubjectBestResponse:
    raw = sorted(raw)
    notes: list[str] = []
    before = [d for d, _ in raw if d <= reference]
    if before:
        notes.append(f"{len(before)} assessment(s) on or before reference {reference} ignored")
    points = [Timepoint(d, (d - reference).days, v, v) for d, v in raw if d > reference]
    first_pd = next((i for i, p in enumerate(points) if p.response == "PD"), None)
    if first_pd is not None and first_pd < len(points) - 1:
        notes.append(
            f"{len(points) - first_pd - 1} assessment(s) after PD on {points[first_pd].adt} ignored"
        )
        points = points[: first_pd + 1]
    if confirm:
        points, extra = _footnote_a(points, cr_followed_by_pr)
        notes.extend(extra)

    def done(bor: str, at: Timepoint | None, confirmed: bool, why: str) -> SubjectBestResponse:
        trace = "; ".join([why, *notes])
        return SubjectBestResponse(
            subject, bor, None if at is None else at.adt, confirmed, reference, tuple(points), trace
        )

    if not points:
        return done("NE", None, False, "no assessment after the reference date -> NE")
    if confirm:
        cr = _confirmation(points, ("CR",), ("CR",), ("CR",), confirmation_days, max_ne)
        if cr is not None:
            p, q, n_ne = cr
            return done("CR", p, True, _confirmed_text(p, q, n_ne, confirmation_days, max_ne))
        pr = _confirmation(
            points, ("PR", "CR"), ("PR", "CR"), ("PR", "CR"), confirmation_days, max_ne
        )
        if pr is not None:
            p, q, n_ne = pr
            return done(
                "PR", p, True, _confirmed_text(p, q, n_ne, confirmation_days, max_ne, label="PR")
            )
        responders = [p for p in points if p.response in ("CR", "PR")]
        if responders:
            notes.insert(0, f"{responders[0].response} on {responders[0].adt} not confirmed")
        accepted: tuple[str, ...] = ("CR", "PR", *SD_LIKE)
    else:
        for best in ("CR", "PR"):
            hit = next((p for p in points if p.response == best), None)
            if hit is not None:
                return done(
                    best,
                    hit,
                    False,
                    f"best response {best} on {hit.adt} (no confirmation required)",
                )
        accepted = SD_LIKE
    sd = _sd_like(points, accepted, min_sd_days)
    if sd is not None:
        label = _sd_label(points, non_target_only)
        counted = "" if sd.response in SD_LIKE else f" (unconfirmed {sd.response} counts as SD)"
        return done(
            label,
            sd,
            False,
            f"{sd.response} on {sd.adt} is day {sd.day} after "
            f"reference {reference} (>= {min_sd_days}){counted} -> {label}",
        )
    short = _describe_short_sd(points, min_sd_days)
    if points[-1].response == "PD":
        pd_point = points[-1]
        return done("PD", pd_point, False, f"{short}; PD on {pd_point.adt} -> PD")
    return done("NE", None, False, f"{short}; no PD -> NE")


def _confirmed_text(
    p: Timepoint, q: Timepoint, n_ne: int, days: int, max_ne: int, label: str | None = None
) -> str:
    gap = (q.adt - p.adt).days
    text = f"{p.response} on {p.adt} confirmed by {q.response} on {q.adt} ({gap} days >= {days})"
    if n_ne:
        text += f", {n_ne} NE between (<= {max_ne} allowed)"
    if label is not None and (p.response != label or q.response != label):
        text += f" -> {label}"
    return text


# --------------------------------------------------------------------------- public API


def best_overall_response(
    assessments: RecistTimepoints | pd.DataFrame,
    *,
    confirm: bool = False,
    confirmation_days: int = 28,
    min_sd_days: int = 42,
    max_ne_between: int = 1,
    cr_followed_by_pr: Literal["pr", "pd"] = "pr",
    reference_dates: Mapping[str, Any] | pd.Series | None = None,
    dataset: str = "RS",
) -> BestOverallResponse:
    """Best overall response per subject (RECIST 1.1 section 4.4.3, Table 3, section 4.6.1).

    ``assessments`` is either the result of :func:`~oncotrial.derive.recist.timepoint_responses`
    (reference date: the baseline scan unless ``reference_dates`` is given) or an RS-like frame
    (USUBJID, ADT, AVALC; reference date from ``reference_dates`` or a TRTSDT column). The SD
    minimum duration is counted from the reference date and is inclusive (day >= min_sd_days).
    """
    _check_parameters(confirmation_days, min_sd_days, max_ne_between, cr_followed_by_pr)
    refs = _reference_lookup(reference_dates)
    if isinstance(assessments, RecistTimepoints):
        source = "lesions"
        points: dict[str, list[tuple[dt.date, str]]] = {
            b.usubjid: [] for b in assessments.baselines
        }
        for r in assessments.responses:
            points[r.usubjid].append((r.adt, r.overall_response))
        frame_refs = {b.usubjid: b.adt for b in assessments.baselines}
        nt_only: dict[str, bool | None] = {
            b.usubjid: not b.target_disease for b in assessments.baselines
        }
    elif isinstance(assessments, pd.DataFrame):
        source = "reported"
        points, frame_refs = _from_frame(assessments, dataset)
        nt_only = {}
    else:
        raise InputError(
            "assessments must be a RecistTimepoints result or a DataFrame with "
            f"USUBJID, ADT, AVALC; got {type(assessments).__name__}",
            argument="assessments",
        )
    subjects = []
    for subject, raw in points.items():
        reference = (refs or {}).get(subject, frame_refs.get(subject))
        if reference is None:
            raise DataError(
                f"{dataset}: subject {subject!r} has no reference date; pass "
                "reference_dates or a TRTSDT column",
                dataset=dataset,
                usubjid=subject,
                column="TRTSDT",
            )
        subjects.append(
            _best_one(
                subject,
                raw,
                reference,
                confirm,
                confirmation_days,
                min_sd_days,
                max_ne_between,
                cr_followed_by_pr,
                nt_only.get(subject),
            )
        )
    return BestOverallResponse(
        tuple(subjects),
        confirm,
        confirmation_days,
        min_sd_days,
        max_ne_between,
        cr_followed_by_pr,
        source,
    )


def clinical_benefit(bor: BestOverallResponse, *, cbr_days: int = 168) -> ClinicalBenefit:
    """Clinical benefit: BOR CR or PR, or a CR/PR/SD/NON-CR/NON-PD time point at least
    ``cbr_days`` (default 24 weeks) after the reference date, before any PD.

    "SD lasting >= 24 weeks" is read as disease control documented at an assessment on or
    after day ``cbr_days``, the same rule as the RECIST 1.1 SD minimum duration (section
    4.6.3 measures SD duration from the start of treatment).
    """
    if isinstance(cbr_days, bool) or not isinstance(cbr_days, int) or cbr_days < 0:
        raise InputError(
            f"cbr_days = {cbr_days!r} is invalid; use an integer >= 0",
            argument="cbr_days",
            value=str(cbr_days),
        )
    out = []
    for s in bor.subjects:
        if s.bor in ("CR", "PR"):
            out.append(SubjectClinicalBenefit(s.usubjid, True, s.bor, f"BOR {s.bor} -> benefit"))
            continue
        hit = next(
            (p for p in s.timepoints if p.response in ("CR", "PR", *SD_LIKE) and p.day >= cbr_days),
            None,
        )
        if hit is not None:
            out.append(
                SubjectClinicalBenefit(
                    s.usubjid,
                    True,
                    s.bor,
                    f"{hit.response} on {hit.adt} is day {hit.day} (>= {cbr_days}) -> benefit",
                )
            )
        else:
            out.append(
                SubjectClinicalBenefit(
                    s.usubjid,
                    False,
                    s.bor,
                    f"BOR {s.bor}; no CR/PR/SD on or after day {cbr_days} before PD -> no benefit",
                )
            )
    n = sum(s.benefit for s in out)
    return ClinicalBenefit(tuple(out), cbr_days, n, len(out))

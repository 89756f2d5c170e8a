"""ADAE: treatment-emergent adverse events, maximum grades per subject, and safety tables.

Method (ICH E9 / E3 section 12.2 for the summaries; CDISC ADaM Occurrence Data Structure for
the variables; CTCAE v5.0 grades as collected in AETOXGR):

* **Treatment-emergent** (``TRTEMFL``): onset ``ASTDT`` on or after the first dose ``TRTSDT``
  and on or before the last dose ``TRTEDT`` + ``window_days`` (both ends inclusive). A
  subject still on treatment (TRTEDT empty) has no upper limit. A subject never dosed
  (TRTSDT empty) has no treatment-emergent AE. Choices, each named in the trace:

  - an AE with **no onset date** is flagged treatment-emergent (the conservative choice:
    it cannot be shown to precede treatment; ICH E9 R1 and FDA safety-reporting practice
    count unknown-onset events rather than drop them);
  - an AE that starts **before the first dose and worsens** on treatment (admiral
    ``derive_var_trtemfl`` with ``group_var``): the records of one AE are grouped (AEGRPID,
    or the same AEDECOD, or not at all: :class:`~oncotrial.derive.options.DerivationOptions`);
    in a group with a record starting before the first dose, the first record starting in
    the window [first dose, last dose + ``window_days``] whose grade is higher than the grade
    at first dose (that of the last record starting before it) is treatment-emergent, and so
    is every later record of the group starting in the window; the other records are not.
    A record alone (no group) that starts before the first dose is not flagged.

* **Partial dates** (when the options impute AESTDTC/AEENDTC; admiral ADAE template):
  ASTDT is imputed no earlier than the first dose when the known parts allow a date on or
  after it (``min_dates = TRTSDT``); AENDT (default ``last``) no earlier than ASTDT and no
  later than the death date and the data cutoff (``max_dates = DTHDT, DCUTDT``). ASTDTF and
  AENDTF name the highest part imputed (D, M, Y; :mod:`oncotrial.derive.dates`).

* **Per subject** (treatment-emergent AEs only): maximum AETOXGR per preferred term
  (AEDECOD) and per system organ class (AEBODSYS); any serious (AESER = Y), related
  (AEREL = Y), leading to discontinuation (AEACN = ``DRUG WITHDRAWN``), to dose reduction
  (``DOSE REDUCED``) or to interruption (``DRUG INTERRUPTED``).

* **Tables** (:func:`teae_overview`, :func:`ae_term_table`): subjects counted once per row at
  their maximum grade; percentages are 100 x n / N with N the subjects of the arm in the
  safety set (ADSL ``SAFFL = Y``, or TRTSDT present when ADSL has no SAFFL). No rounding is
  applied here; reports round.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from oncotrial.derive._columns import (
    bad_cell,
    code_cells,
    decimal_cells,
    is_missing,
    require_columns,
    text_cells,
)
from oncotrial.derive.dates import Imputed
from oncotrial.derive.imputation import impute_cell, partial_values
from oncotrial.derive.options import DerivationOptions
from oncotrial.derive.populations import (
    SubjectTrace,
    TracedData,
    TreatedSubject,
    optional_dates,
    read_subjects,
    unknown_subject,
)
from oncotrial.errors import InputError
from oncotrial.results import Result

REQUIRED = (
    "USUBJID",
    "AEDECOD",
    "AEBODSYS",
    "AETOXGR",
    "AESTDTC",
    "AEENDTC",
    "AESER",
    "AEREL",
    "AEACN",
)
#: CDISC controlled terminology for AEACN (codelist C66767); empty is allowed.
AEACN_VALUES = (
    "DRUG WITHDRAWN",
    "DOSE REDUCED",
    "DRUG INTERRUPTED",
    "DOSE NOT CHANGED",
    "DOSE INCREASED",
    "DOSE RATE REDUCED",
    "NOT APPLICABLE",
    "UNKNOWN",
    "",
)
_ACTION_FLAGS = {
    "AEDISCFL": ("DRUG WITHDRAWN", "leading to discontinuation"),
    "AEREDFL": ("DOSE REDUCED", "leading to dose reduction"),
    "AEINTFL": ("DRUG INTERRUPTED", "leading to interruption"),
}


# --------------------------------------------------------------------------- the TEAE rule


def treatment_emergent(
    onset: dt.date | None,
    first_dose: dt.date | None,
    last_dose: dt.date | None,
    window_days: int,
) -> tuple[str, str]:
    """(``Y``/``N``, reason) for one AE under the rule in the module docstring."""
    if first_dose is None:
        return "N", "subject never dosed (TRTSDT empty): no AE is treatment-emergent"
    if onset is None:
        return "Y", (
            f"onset date missing: counted as treatment-emergent (conservative choice; "
            f"first dose {first_dose.isoformat()})"
        )
    if onset < first_dose:
        return "N", (
            f"onset {onset.isoformat()} is before first dose {first_dose.isoformat()} "
            f"(worsening of a pre-treatment AE is not assessed)"
        )
    if last_dose is None:
        return "Y", (
            f"onset {onset.isoformat()} is on/after first dose {first_dose.isoformat()}; "
            f"treatment ongoing (TRTEDT empty), so no upper limit"
        )
    limit = last_dose + dt.timedelta(days=window_days)
    if onset <= limit:
        return "Y", (
            f"onset {onset.isoformat()} is between first dose {first_dose.isoformat()} and "
            f"last dose {last_dose.isoformat()} + {window_days} days = {limit.isoformat()} "
            f"(inclusive)"
        )
    return "N", (
        f"onset {onset.isoformat()} is after last dose {last_dose.isoformat()} + "
        f"{window_days} days = {limit.isoformat()}"
    )


def study_day(date: dt.date | None, reference: dt.date | None) -> int | None:
    """CDISC study day: ``date - reference + 1`` on/after the reference, ``date - reference``
    before it (there is no day 0)."""
    if date is None or reference is None:
        return None
    delta = (date - reference).days
    return delta + 1 if delta >= 0 else delta


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Adae(TracedData):
    """ADAE records (``data``) with the trace of every derived flag and maximum grade."""

    data: pd.DataFrame
    traces: tuple[SubjectTrace, ...]
    window_days: int
    arm_column: str = "ARMCD"

    def by_term(self) -> pd.DataFrame:
        """Maximum grade per subject and preferred term (treatment-emergent AEs)."""
        return max_grade_by(self.data, "AEDECOD", arm_column=self.arm_column)

    def by_soc(self) -> pd.DataFrame:
        """Maximum grade per subject and system organ class (treatment-emergent AEs)."""
        return max_grade_by(self.data, "AEBODSYS", arm_column=self.arm_column)

    def summary(self) -> str:
        n = len(self.data)
        teae = int((self.data["TRTEMFL"] == "Y").sum())
        subjects = self.data.loc[self.data["TRTEMFL"] == "Y", "USUBJID"].nunique()
        return (
            f"ADAE: {n} adverse events, {teae} treatment-emergent (window: last dose + "
            f"{self.window_days} days) in {subjects} subjects"
        )


@dataclass(frozen=True)
class SafetyTable(Result):
    """A subject-count table by arm: ``data`` columns as documented by the function."""

    data: pd.DataFrame
    population: str
    arm_column: str
    denominators: dict[str, int]

    def to_frame(self) -> pd.DataFrame:
        return self.data.copy()

    def summary(self) -> str:
        bign = ", ".join(f"{arm} N={n}" for arm, n in self.denominators.items())
        return f"{self.population} ({bign})\n{self.data.to_string(index=False)}"


# --------------------------------------------------------------------------- ADAE


def derive_adae(
    ae: pd.DataFrame,
    adsl: pd.DataFrame,
    *,
    window_days: int,
    arm_column: str = "ARMCD",
    dataset: str = "AE",
    adsl_name: str = "ADSL",
    options: DerivationOptions | None = None,
    cutoff: dt.date | None = None,
) -> Adae:
    """ADAE from an AE-like frame and an ADSL-like frame (USUBJID, arm, TRTSDT, TRTEDT;
    DTHDT when partial AE end dates are imputed).

    ``window_days`` (>= 0) is the number of days after the last dose during which a new AE
    is still treatment-emergent (the spec's safety window). ``options`` sets the imputation
    of partial AESTDTC/AEENDTC (read with their partial values, see
    :func:`oncotrial.derive.contracts.conform`) and the grouping of AE records;
    ``cutoff`` (the data cut) caps imputed end dates. See the module docstring.
    """
    options = options or DerivationOptions()
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 0:
        raise InputError(
            f"window_days: {window_days!r} is not valid; give a whole number of days >= 0",
            argument="window_days",
            value=repr(window_days),
        )
    subjects = read_subjects(adsl, arm_column=arm_column, dataset=adsl_name)
    require_columns(ae, REQUIRED, dataset)
    ae = ae.reset_index(drop=True)
    ids = text_cells(ae, "USUBJID", dataset)
    for i, usubjid in enumerate(ids):
        if usubjid not in subjects:
            raise unknown_subject(dataset, i, usubjid, subjects, adsl_name)
    decod = text_cells(ae, "AEDECOD", dataset)
    soc = text_cells(ae, "AEBODSYS", dataset)
    grades = _grades(ae, dataset)
    starts = optional_dates(ae, "AESTDTC", dataset)
    ends = optional_dates(ae, "AEENDTC", dataset)
    seqs = _sequence_numbers(ae, ids, dataset)
    keys = [f"AESEQ {seq} {term}" for seq, term in zip(seqs, decod, strict=True)]
    dates = _impute_ae_dates(ae, ids, keys, subjects, adsl, starts, ends, options, cutoff, dataset)
    yes_no = {"YES": "Y", "NO": "N"}
    serious = code_cells(ae, "AESER", dataset, ("Y", "N"), synonyms=yes_no)
    related = code_cells(ae, "AEREL", dataset, ("Y", "N"), synonyms=yes_no)
    action = code_cells(ae, "AEACN", dataset, AEACN_VALUES, missing="")
    terms = list(decod)
    if "AETERM" in ae.columns:
        terms = [
            t if is_missing(v) else str(v).strip() for t, v in zip(decod, ae["AETERM"], strict=True)
        ]

    for i in range(len(ids)):
        if starts[i] is not None and ends[i] is not None and ends[i] < starts[i]:  # type: ignore[operator]
            shown = ae["AEENDTC"].iloc[i] if dates.end_texts[i] is None else dates.end_texts[i]
            raise bad_cell(
                dataset,
                "AEENDTC",
                i,
                shown,
                f"is before AESTDTC {starts[i].isoformat()}",  # type: ignore[union-attr]
            )
    groups = _group_keys(ae, decod, options.group_by)
    emergent = _emergence(ids, starts, grades, seqs, groups, subjects, window_days)

    records = []
    traces: list[SubjectTrace] = list(dates.traces)
    for i, usubjid in enumerate(ids):
        subject = subjects[usubjid]
        flag, why = emergent[i]
        key = keys[i]
        traces.append(SubjectTrace(usubjid, "ADAE", "TRTEMFL", key, flag, why))
        action_flags = {}
        for variable, (code, words) in _ACTION_FLAGS.items():
            action_flags[variable] = "Y" if action[i] == code else "N"
            if action[i] == code:
                traces.append(
                    SubjectTrace(usubjid, "ADAE", variable, key, "Y", f"AEACN = {code}: {words}")
                )
        records.append(
            {
                "USUBJID": usubjid,
                "AESEQ": seqs[i],
                arm_column: subject.arm,
                "AETERM": terms[i],
                "AEDECOD": decod[i],
                "AEBODSYS": soc[i],
                "AETOXGR": grades[i],
                "ASTDT": starts[i],
                "AENDT": ends[i],
                "ASTDY": study_day(starts[i], subject.trtsdt),
                "AEONGO": "Y" if ends[i] is None else "N",
                "TRTEMFL": flag,
                "AESER": serious[i],
                "AEREL": related[i],
                "AEACN": action[i],
                **action_flags,
                "AEGRPID": groups[i] if options.group_by == "AEGRPID" else None,
                "ASTDTF": dates.start_flags[i],
                "AENDTF": dates.end_flags[i],
            }
        )
    columns = [
        "USUBJID", "AESEQ", arm_column, "AETERM", "AEDECOD", "AEBODSYS", "AETOXGR", "ASTDT",
        "AENDT", "ASTDY", "AEONGO", "TRTEMFL", "AESER", "AEREL", "AEACN", *_ACTION_FLAGS,
    ]  # fmt: skip
    # optional columns only when they carry something, so that a trial without AE groups
    # or date imputation gets the same ADAE as before they existed
    if any(r["AEGRPID"] is not None for r in records):
        columns.insert(columns.index("AETERM"), "AEGRPID")
    if options.rule("AE", "AESTDTC") is not None:
        columns.insert(columns.index("AENDT"), "ASTDTF")
    if options.rule("AE", "AEENDTC") is not None:
        columns.insert(columns.index("ASTDY"), "AENDTF")
    data = pd.DataFrame(records, columns=columns)
    for column in ("AESEQ", "AETOXGR", "ASTDY"):
        data[column] = data[column].astype("Int64")
    for column in ("AEGRPID", "ASTDTF", "AENDTF"):
        if column in data.columns:  # text with None, as every text column of a dataset
            data[column] = pd.Series(
                [None if is_missing(v) else v for v in data[column]], index=data.index, dtype=object
            )
    data = data.sort_values(["USUBJID", "AESEQ"], kind="stable").reset_index(drop=True)
    traces.extend(_max_grade_traces(data, "AEDECOD", "MAXGRPT", "preferred term"))
    traces.extend(_max_grade_traces(data, "AEBODSYS", "MAXGRSOC", "system organ class"))
    return Adae(data, tuple(traces), window_days, arm_column)


@dataclass(frozen=True)
class _AeDates:
    """What the imputation of AESTDTC/AEENDTC did, row by row."""

    start_flags: list[str | None]
    end_flags: list[str | None]
    end_texts: list[str | None]  # partial AEENDTC as written (for error messages)
    traces: list[SubjectTrace]


def _impute_ae_dates(
    ae: pd.DataFrame,
    ids: list[str],
    keys: list[str],
    subjects: dict[str, TreatedSubject],
    adsl: pd.DataFrame,
    starts: list[dt.date | None],
    ends: list[dt.date | None],
    options: DerivationOptions,
    cutoff: dt.date | None,
    dataset: str,
) -> _AeDates:
    """Impute the partial AESTDTC/AEENDTC in ``starts``/``ends`` (in place): onset not before
    the first dose, end not before the onset nor after death or the data cut."""
    n = len(ids)
    out = _AeDates([None] * n, [None] * n, partial_values(ae, "AEENDTC"), [])
    start_rule, end_rule = options.rule("AE", "AESTDTC"), options.rule("AE", "AEENDTC")
    if start_rule is not None:
        for i, text in enumerate(partial_values(ae, "AESTDTC")):
            if text is None:
                continue
            first = subjects[ids[i]].trtsdt
            result = impute_cell(
                start_rule, text, dataset, i, min_dates=[("first dose TRTSDT", first)]
            )
            starts[i], out.start_flags[i] = result.date, result.flag
            out.traces.append(_date_trace(ids[i], keys[i], "ASTDT", "AESTDTC", result, "ASTDTF"))
    if end_rule is not None:
        deaths = _death_dates(adsl)
        for i, text in enumerate(out.end_texts):
            if text is None:
                continue
            result = impute_cell(
                end_rule,
                text,
                dataset,
                i,
                min_dates=[("onset ASTDT", starts[i])],
                max_dates=[("death DTHDT", deaths.get(ids[i])), ("data cutoff DCUTDT", cutoff)],
            )
            ends[i], out.end_flags[i] = result.date, result.flag
            out.traces.append(_date_trace(ids[i], keys[i], "AENDT", "AEENDTC", result, "AENDTF"))
    return out


def _date_trace(
    usubjid: str, key: str, variable: str, column: str, result: Imputed, flag: str
) -> SubjectTrace:
    value = result.date.isoformat() if result.date else ""
    text = f"{column} {result.reason} ({flag} = {result.flag or 'empty'})"
    return SubjectTrace(usubjid, "ADAE", variable, key, value, text)


def _death_dates(adsl: pd.DataFrame) -> dict[str, dt.date]:
    if "DTHDT" not in adsl.columns:
        return {}
    frame = adsl.reset_index(drop=True)
    dates = optional_dates(frame, "DTHDT", "ADSL")
    return {str(u).strip(): d for u, d in zip(frame["USUBJID"], dates, strict=True) if d}


def _group_keys(ae: pd.DataFrame, decod: list[str], group_by: str) -> list[str | None]:
    """The AE each record belongs to (None: a record alone)."""
    if group_by == "AEDECOD":
        return [d.upper() for d in decod]
    if group_by == "none" or "AEGRPID" not in ae.columns:
        return [None] * len(decod)
    return [None if is_missing(v) else str(v).strip() for v in ae["AEGRPID"]]


def _emergence(
    ids: list[str],
    starts: list[dt.date | None],
    grades: list[int],
    seqs: list[int],
    groups: list[str | None],
    subjects: dict[str, TreatedSubject],
    window_days: int,
) -> list[tuple[str, str]]:
    """TRTEMFL and its reason for every record (module docstring)."""
    out = [
        treatment_emergent(starts[i], subjects[u].trtsdt, subjects[u].trtedt, window_days)
        for i, u in enumerate(ids)
    ]
    members: dict[tuple[str, str], list[int]] = {}
    for i, (usubjid, group) in enumerate(zip(ids, groups, strict=True)):
        if group is not None:
            members.setdefault((usubjid, group), []).append(i)
    for (usubjid, group), rows in members.items():
        first = subjects[usubjid].trtsdt
        dated = sorted(
            (r for r in rows if starts[r] is not None), key=lambda r: (starts[r], seqs[r])
        )
        before = [r for r in dated if first is not None and starts[r] < first]  # type: ignore[operator]
        if not before:
            continue
        ref = before[-1]
        at_start = (
            f"grade {grades[ref]} at first dose {first} (AESEQ {seqs[ref]}, onset {starts[ref]})"
        )
        worse: int | None = None
        for r in dated:
            if r in before:
                out[r] = (
                    "N",
                    (
                        f"onset {starts[r]} is before first dose {first}: pre-treatment record of "
                        f"AE group {group!r}"
                    ),
                )
                continue
            in_window, window = out[r]
            if in_window == "N":
                out[r] = ("N", f"{window}; AE group {group!r} started before first dose")
            elif worse is not None:
                out[r] = (
                    "Y",
                    (
                        f"AE group {group!r} worsened on treatment at AESEQ {seqs[worse]}; "
                        f"this later record is in the window ({window})"
                    ),
                )
            elif grades[r] > grades[ref]:
                worse = r
                out[r] = (
                    "Y",
                    (
                        f"worsening: grade {grades[r]} > {at_start} of AE group {group!r}, "
                        f"which started before treatment; {window}"
                    ),
                )
            else:
                out[r] = (
                    "N",
                    (
                        f"AE group {group!r} started before first dose; grade {grades[r]} is not "
                        f"higher than the {at_start}: not worsened"
                    ),
                )
    return out


def _grades(ae: pd.DataFrame, dataset: str) -> list[int]:
    out = []
    for i, value in enumerate(decimal_cells(ae, "AETOXGR", dataset)):
        if value is None or value != value.to_integral_value() or not 1 <= value <= 5:
            raise bad_cell(
                dataset, "AETOXGR", i, ae["AETOXGR"].iloc[i], "is not a CTCAE grade; valid: 1-5"
            )
        out.append(int(value))
    return out


def _sequence_numbers(ae: pd.DataFrame, ids: list[str], dataset: str) -> list[int]:
    """AESEQ as given (whole numbers, unique per subject), else 1, 2, ... per subject in row
    order."""
    if "AESEQ" not in ae.columns:
        counter: dict[str, int] = {}
        out = []
        for usubjid in ids:
            counter[usubjid] = counter.get(usubjid, 0) + 1
            out.append(counter[usubjid])
        return out
    seen: dict[tuple[str, int], int] = {}
    out = []
    for i, value in enumerate(decimal_cells(ae, "AESEQ", dataset)):
        if value is None or value != value.to_integral_value() or value < 1:
            raise bad_cell(dataset, "AESEQ", i, ae["AESEQ"].iloc[i], "is not a whole number >= 1")
        key = (ids[i], int(value))
        if key in seen:
            raise bad_cell(
                dataset,
                "AESEQ",
                i,
                ae["AESEQ"].iloc[i],
                f"repeats row {seen[key] + 1} for subject {ids[i]!r}; unique per subject",
            )
        seen[key] = i
        out.append(int(value))
    return out


def _max_grade_traces(data: pd.DataFrame, by: str, variable: str, words: str) -> list[SubjectTrace]:
    teae = data[data["TRTEMFL"] == "Y"]
    out = []
    for (usubjid, level), group in teae.groupby(["USUBJID", by], sort=True):
        top = int(group["AETOXGR"].max())
        events = ", ".join(
            f"AESEQ {int(s)} grade {int(g)}"
            for s, g in zip(group["AESEQ"], group["AETOXGR"], strict=True)
        )
        out.append(
            SubjectTrace(
                str(usubjid),
                "ADAE",
                variable,
                str(level),
                str(top),
                f"maximum grade over the treatment-emergent AEs of {words} {level}: {events}",
            )
        )
    return out


# --------------------------------------------------------------------------- per subject


def _teae(adae: pd.DataFrame) -> pd.DataFrame:
    require_columns(adae, ("USUBJID", "TRTEMFL", "AETOXGR"), "ADAE")
    return adae[adae["TRTEMFL"] == "Y"]


def max_grade_by(adae: pd.DataFrame, by: str, *, arm_column: str = "ARMCD") -> pd.DataFrame:
    """Maximum AETOXGR of treatment-emergent AEs per subject and ``by`` (AEDECOD, AEBODSYS).

    Columns: USUBJID, the arm (when ADAE has it), ``by``, MAXGR, NEVENTS.
    """
    teae = _teae(adae)
    require_columns(adae, (by,), "ADAE")
    keys = ["USUBJID", arm_column, by] if arm_column in adae.columns else ["USUBJID", by]
    grouped = teae.groupby(keys, sort=True)["AETOXGR"]
    out = pd.concat([grouped.max().rename("MAXGR"), grouped.size().rename("NEVENTS")], axis=1)
    out = out.reset_index()
    out["MAXGR"] = out["MAXGR"].astype("Int64")
    return out


def subject_flags(
    adae: pd.DataFrame, adsl: pd.DataFrame, *, arm_column: str = "ARMCD"
) -> pd.DataFrame:
    """One row per ADSL subject: TEAEFL, MAXGR, SERFL, RELFL, DISCFL, REDFL, INTFL.

    Each flag is ``Y`` when the subject has at least one treatment-emergent AE with that
    property; MAXGR is the highest grade of any TEAE (empty without TEAE).
    """
    subjects = read_subjects(adsl, arm_column=arm_column)
    teae = _teae(adae)
    out = []
    for usubjid, subject in subjects.items():
        rows = teae[teae["USUBJID"] == usubjid]
        out.append(
            {
                "USUBJID": usubjid,
                arm_column: subject.arm,
                "TEAEFL": _yn(len(rows) > 0),
                "MAXGR": None if rows.empty else int(rows["AETOXGR"].max()),
                "SERFL": _yn((rows["AESER"] == "Y").any()),
                "RELFL": _yn((rows["AEREL"] == "Y").any()),
                "DISCFL": _yn((rows["AEACN"] == "DRUG WITHDRAWN").any()),
                "REDFL": _yn((rows["AEACN"] == "DOSE REDUCED").any()),
                "INTFL": _yn((rows["AEACN"] == "DRUG INTERRUPTED").any()),
            }
        )
    frame = pd.DataFrame(out)
    frame["MAXGR"] = frame["MAXGR"].astype("Int64")
    return frame


def _yn(value: object) -> str:
    return "Y" if bool(value) else "N"


# --------------------------------------------------------------------------- tables


def safety_population(
    adsl: pd.DataFrame, *, arm_column: str = "ARMCD", population_flag: str = "SAFFL"
) -> tuple[dict[str, TreatedSubject], str]:
    """The subjects of the safety set and the set's description.

    ``population_flag = Y`` when ADSL has that column, else every subject with a TRTSDT.
    """
    subjects = read_subjects(adsl, arm_column=arm_column)
    if population_flag in adsl.columns:
        flags = code_cells(
            adsl.reset_index(drop=True), population_flag, "ADSL", ("Y", "N"), missing="N"
        )
        kept = {s.usubjid: s for s in subjects.values() if flags[s.row] == "Y"}
        return kept, f"{population_flag} = Y"
    kept = {k: s for k, s in subjects.items() if s.trtsdt is not None}
    return kept, "subjects with a first dose (TRTSDT present)"


def _denominators(subjects: dict[str, TreatedSubject]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in subjects.values():
        out[s.arm] = out.get(s.arm, 0) + 1
    return dict(sorted(out.items()))


def _pct(n: int, total: int) -> float:
    return 100.0 * n / total if total else float("nan")


def teae_overview(
    adae: pd.DataFrame,
    adsl: pd.DataFrame,
    *,
    arm_column: str = "ARMCD",
    population_flag: str = "SAFFL",
) -> SafetyTable:
    """Subjects with at least one TEAE of each kind, by arm.

    Rows (CATEGORY): any TEAE; grade >= 3; grade 4; grade 5 (at least one TEAE of that
    grade); serious; related; leading to discontinuation / dose reduction / interruption.
    Columns: CATEGORY, the arm, BIGN (safety-set subjects of the arm), N, PCT (= 100 N/BIGN).
    """
    population, words = safety_population(
        adsl, arm_column=arm_column, population_flag=population_flag
    )
    teae = _teae(adae)
    teae = teae[teae["USUBJID"].isin(population)]
    arms = {k: s.arm for k, s in population.items()}
    categories = [
        ("Any TEAE", pd.Series(True, index=teae.index)),
        ("Grade >= 3", teae["AETOXGR"] >= 3),
        ("Grade 4", teae["AETOXGR"] == 4),
        ("Grade 5", teae["AETOXGR"] == 5),
        ("Serious", teae["AESER"] == "Y"),
        ("Related", teae["AEREL"] == "Y"),
        ("Leading to discontinuation", teae["AEACN"] == "DRUG WITHDRAWN"),
        ("Leading to dose reduction", teae["AEACN"] == "DOSE REDUCED"),
        ("Leading to interruption", teae["AEACN"] == "DRUG INTERRUPTED"),
    ]
    bign = _denominators(population)
    rows = []
    for name, mask in categories:
        hit = set(teae.loc[mask.astype(bool), "USUBJID"])
        for arm, total in bign.items():
            n = sum(1 for u in hit if arms[u] == arm)
            rows.append(
                {"CATEGORY": name, arm_column: arm, "BIGN": total, "N": n, "PCT": _pct(n, total)}
            )
    return SafetyTable(pd.DataFrame(rows), words, arm_column, bign)


def ae_term_table(
    adae: pd.DataFrame,
    adsl: pd.DataFrame,
    *,
    by: str = "AEDECOD",
    arm_column: str = "ARMCD",
    population_flag: str = "SAFFL",
) -> SafetyTable:
    """Subjects by their maximum grade per term (``by`` = AEDECOD or AEBODSYS) and arm.

    Columns: ``by``, the arm, BIGN, N_ANY (subjects with the term at any grade), N_G1..N_G5
    (subjects whose maximum grade for the term is k, so N_G1 + ... + N_G5 = N_ANY), N_G3PLUS,
    PCT_ANY, PCT_G3PLUS. Terms are ordered by N_ANY over all arms (descending), then name.
    """
    population, words = safety_population(
        adsl, arm_column=arm_column, population_flag=population_flag
    )
    bign = _denominators(population)
    per_subject = max_grade_by(adae, by, arm_column="__none__")
    per_subject = per_subject[per_subject["USUBJID"].isin(population)]
    per_subject = per_subject.assign(ARM=[population[u].arm for u in per_subject["USUBJID"]])
    totals = per_subject.groupby(by)["USUBJID"].nunique()
    order = sorted(totals.index, key=lambda t: (-int(totals[t]), str(t)))
    rows = []
    for term in order:
        sub = per_subject[per_subject[by] == term]
        for arm, total in bign.items():
            grades = sub.loc[sub["ARM"] == arm, "MAXGR"].astype(int).tolist()
            row: dict[str, object] = {by: term, arm_column: arm, "BIGN": total}
            row["N_ANY"] = len(grades)
            for g in range(1, 6):
                row[f"N_G{g}"] = grades.count(g)
            row["N_G3PLUS"] = sum(1 for g in grades if g >= 3)
            row["PCT_ANY"] = _pct(len(grades), total)
            row["PCT_G3PLUS"] = _pct(int(row["N_G3PLUS"]), total)  # type: ignore[call-overload]
            rows.append(row)
    columns = [by, arm_column, "BIGN", "N_ANY", *(f"N_G{g}" for g in range(1, 6)), "N_G3PLUS",
               "PCT_ANY", "PCT_G3PLUS"]  # fmt: skip
    return SafetyTable(pd.DataFrame(rows, columns=columns), words, arm_column, bign)


__all__ = [
    "AEACN_VALUES",
    "Adae",
    "SafetyTable",
    "ae_term_table",
    "derive_adae",
    "max_grade_by",
    "safety_population",
    "study_day",
    "subject_flags",
    "teae_overview",
    "treatment_emergent",
]

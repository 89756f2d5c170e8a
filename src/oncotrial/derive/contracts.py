"""Column contracts of the raw (SDTM-like) domains and analysis (ADaM-like) datasets.

Source of truth in words: ``docs/DATA_MODEL.md``; this module is the same contract as data.
:func:`conform` checks a frame against its contract and returns it typed (see the table
"Types after reading" in DATA_MODEL.md). Every bad cell raises :class:`DataError` naming the
dataset, the 1-based row, the column, the value and what is valid.

Names follow CDISC SDTM IG 3.4 and ADaM IG 1.3, simplified as DATA_MODEL.md lists.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from oncotrial.derive._columns import bad_cell, is_missing, require_columns
from oncotrial.derive.dates import Level, needs, parse_partial
from oncotrial.errors import DataError

ColumnType = Literal["text", "code", "date", "integer", "number"]

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T[0-9:.]*)?$")
_PARTIAL = re.compile(r"^\d{4}(-\d{2})?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
#: a date column read with imputation allowed keeps its partial values (as written) in this
#: companion column until they are imputed (oncotrial.derive.imputation); None elsewhere
PARTIAL_SUFFIX = "__PARTIAL"


def partial_column(column: str) -> str:
    """The companion column holding the partial values of date column ``column``."""
    return column + PARTIAL_SUFFIX


@dataclass(frozen=True)
class Column:
    """One column: name, type, whether the column must exist and whether cells may be empty.

    ``allowed`` lists the codes of a ``code`` column (compared case-insensitively, stored in
    the spelling given here); ``None`` means the caller supplies them (e.g. spec arm names).
    ``minimum``/``maximum`` bound numbers and integers (inclusive).
    """

    name: str
    type: ColumnType
    required: bool = True
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    label: str = ""


@dataclass(frozen=True)
class Contract:
    """The columns of one dataset; ``key`` names the columns that identify a row."""

    name: str
    kind: Literal["raw", "analysis"]
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    extra_columns: bool = True  # other columns are kept as read
    notes: str = ""
    # checks across the columns of a row after typing (e.g. MI results per test); raises
    # DataError naming dataset, row, column and value
    check: Callable[[pd.DataFrame, str], None] | None = field(
        default=None, compare=False, repr=False
    )
    _by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self._by_name[name]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: ColumnType = "text", **kw: Any) -> Column:
    return Column(name, type_, **kw)


def _id(name: str = "USUBJID") -> Column:
    return Column(name, "text", nullable=False, label="Unique subject identifier")


YN = ("Y", "N")
RESPONSE_CODES = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")
DS_CATEGORIES = ("END OF TREATMENT", "END OF STUDY")
DS_REASONS = (
    "PROGRESSIVE DISEASE",
    "ADVERSE EVENT",
    "DEATH",
    "WITHDRAWAL BY SUBJECT",
    "PHYSICIAN DECISION",
    "LOST TO FOLLOW-UP",
    "OTHER",
    "ONGOING",
)
LAB_TESTS = ("NEUT", "WBC", "LYM", "PLAT", "HGB", "ALT", "AST", "GGT", "ALP", "BILI", "CREAT")
CM_SUBCATEGORIES = (
    "CHEMOTHERAPY",
    "ENDOCRINE THERAPY",
    "TARGETED THERAPY",
    "IMMUNOTHERAPY",
    "RADIOTHERAPY",
    "OTHER",
)

MI_TESTS = ("ER", "PGR", "HER2", "HER2ISH", "KI67")


def _mi_results(frame: pd.DataFrame, dataset: str) -> None:
    # the result syntax of each MI test lives with the IHC rules that read it
    from oncotrial.derive.ihc import check_results

    check_results(frame, dataset)


RAW: dict[str, Contract] = {
    "DM": Contract(
        "DM",
        "raw",
        (
            _c("STUDYID", nullable=False),
            _id(),
            _c("SITEID"),
            _c("ARMCD", "code"),
            _c("ARM"),
            _c("ACTARMCD", "code"),
            _c("RANDDT", "date"),
            _c("RFSTDTC", "date"),
            _c("RFENDTC", "date"),
            _c("DTHDTC", "date"),
            _c("AGE", "integer", minimum=0, maximum=130),
            _c("SEX", "code", allowed=("F", "M", "U")),
        ),
        key=("USUBJID",),
    ),
    "SC": Contract(
        "SC",
        "raw",
        (_id(), _c("SCTESTCD", "code", nullable=False), _c("SCORRES")),
        key=("USUBJID", "SCTESTCD"),
    ),
    "DS": Contract(
        "DS",
        "raw",
        (
            _id(),
            _c("DSSCAT", "code", nullable=False, allowed=DS_CATEGORIES),
            _c("DSDECOD", "code", nullable=False, allowed=DS_REASONS),
            _c("DSSTDTC", "date", nullable=False),
        ),
        key=("USUBJID", "DSSCAT"),
    ),
    "EX": Contract(
        "EX",
        "raw",
        (
            _id(),
            _c("EXTRT", "code", nullable=False),
            _c("EXDOSE", "number", nullable=False, minimum=0),
            _c("EXDOSU"),
            _c("EXSTDTC", "date", nullable=False),
            _c("EXENDTC", "date", nullable=False),
            _c("EXADJ", "code", allowed=("DOSE REDUCED", "DOSE INTERRUPTED"), required=False),
        ),
    ),
    "TR": Contract(
        "TR",
        "raw",
        (
            _id(),
            _c("VISIT", required=False),
            _c("TRDTC", "date", nullable=False),
            _c("TRLNKID", nullable=False),
            _c("TRGRPID", "code", nullable=False, allowed=("TARGET", "NON-TARGET", "NEW")),
            _c("TRTESTCD", "code", nullable=False, allowed=("LDIAM", "LPERP", "TUMSTATE")),
            _c("TRSTRESN", "number", minimum=0),
            _c("TRSTRESC", required=False),
            _c("NODFL", "code", allowed=YN, required=False),
        ),
    ),
    "RS": Contract(
        "RS",
        "raw",
        (
            _id(),
            _c("RSDTC", "date", nullable=False),
            _c("RSTESTCD", "code", nullable=False, allowed=("OVRLRESP",)),
            _c("RSSTRESC", "code", nullable=False, allowed=RESPONSE_CODES),
        ),
        key=("USUBJID", "RSDTC"),
    ),
    "AE": Contract(
        "AE",
        "raw",
        (
            _id(),
            _c("AETERM", nullable=False),
            _c("AEDECOD", nullable=False),
            _c("AEBODSYS", nullable=False),
            _c("AETOXGR", "integer", nullable=False, minimum=1, maximum=5),
            # records of one AE whose grade changed (SDTM IG 3.4 section 4.2.6 --GRPID);
            # an AE that starts before the first dose and worsens on treatment is then
            # treatment-emergent from the worsening record on (DERIVATIONS.md)
            _c("AEGRPID", required=False),
            _c("AESTDTC", "date", nullable=False),
            _c("AEENDTC", "date"),
            _c("AESER", "code", allowed=YN),
            _c("AEREL", "code", allowed=YN),
            _c(
                "AEACN",
                "code",
                allowed=("DRUG WITHDRAWN", "DOSE REDUCED", "DRUG INTERRUPTED", "DOSE NOT CHANGED"),
            ),
        ),
    ),
    "LB": Contract(
        "LB",
        "raw",
        (
            _id(),
            _c("LBTESTCD", "code", nullable=False, allowed=LAB_TESTS),
            _c("LBDTC", "date", nullable=False),
            _c("LBSTRESN", "number"),
            _c("LBSTRESU"),
            _c("LBSTNRLO", "number"),
            _c("LBSTNRHI", "number"),
            _c("LBBLFL", "code", allowed=YN),
        ),
    ),
    "GF": Contract(
        "GF",
        "raw",
        (
            _id(),
            _c("GFGENSYM", nullable=False),
            _c("GFSTRESC", "code", nullable=False, allowed=("MUTATED", "NOT DETECTED")),
            _c("GFSPEC", "code", nullable=False, allowed=("TISSUE", "CTDNA")),
            _c("VISIT", nullable=False),
            _c("GFDTC", "date", nullable=False),
        ),
    ),
    "MI": Contract(
        "MI",
        "raw",
        (
            _id(),
            _c("MITESTCD", "code", nullable=False, allowed=MI_TESTS),
            _c("MISTRESC"),
            _c("MISTRESN", "number", minimum=0, maximum=100),
            _c("MISPEC", "code", nullable=False, allowed=("TISSUE",)),
            _c("VISIT", nullable=False),
            _c("MIDTC", "date", nullable=False),
        ),
        key=("USUBJID", "MITESTCD", "MISPEC", "VISIT", "MIDTC"),
        notes="immunohistochemistry (optional): IHC flags of ADSL (oncotrial.derive.ihc)",
        check=_mi_results,
    ),
    "CM": Contract(
        "CM",
        "raw",
        (
            _id(),
            _c("CMTRT", nullable=False),
            _c("CMCAT", "code", nullable=False, allowed=("ANTICANCER THERAPY",)),
            _c("CMSCAT", "code", nullable=False, allowed=CM_SUBCATEGORIES),
            _c("CMSTDTC", "date", nullable=False),
        ),
    ),
}

REQUIRED_DOMAINS = ("DM", "DS", "EX", "TR", "AE")
OPTIONAL_DOMAINS = ("SC", "RS", "LB", "GF", "CM", "MI")

_DCUT = _c("DCUTDT", "date")
_STUDY = _c("STUDYID", nullable=False)

ADAM: dict[str, Contract] = {
    "ADSL": Contract(
        "ADSL",
        "analysis",
        (
            _STUDY,
            _id(),
            _c("SITEID"),
            _c("ARMCD"),
            _c("ARM"),
            _c("TRT01P"),
            _c("TRT01A"),
            _c("RANDDT", "date"),
            _c("TRTSDT", "date"),
            _c("TRTEDT", "date"),
            _c("DTHDT", "date"),
            _c("DTHFL", "code", allowed=YN),
            _c("AGE", "integer", minimum=0),
            _c("SEX", "code", allowed=("F", "M", "U")),
            _c("ITTFL", "code", nullable=False, allowed=YN),
            _c("SAFFL", "code", nullable=False, allowed=YN),
            _c("MEASFL", "code", allowed=YN),
            _c("EOTSTT"),
            _c("DCTREAS"),
            _c("EOSSTT"),
            _c("DCSREAS"),
            _c("LSTALVDT", "date"),
            _DCUT,
        ),
        key=("USUBJID",),
        notes="plus the spec's subject attributes under their spec names, biomarker flags "
        "and IHC flags",
    ),
    "ADTTE": Contract(
        "ADTTE",
        "analysis",
        (
            _STUDY,
            _id(),
            _c("ARMCD"),
            _c("PARAMCD", "code", nullable=False, allowed=("PFS", "OS", "DOR", "TTR", "CFI")),
            _c("PARAM", nullable=False),
            _c("STARTDT", "date", nullable=False),
            _c("ADT", "date", nullable=False),
            _c("AVAL", "number", nullable=False, minimum=0),
            _c("AVALU", "code", allowed=("DAYS",)),
            _c("CNSR", "integer", nullable=False, minimum=0),
            _c("EVNTDESC"),
            _c("CNSDTDSC"),
            _c("SRCRULE"),
            _c("RULESET"),
            _DCUT,
        ),
        key=("USUBJID", "PARAMCD"),
        notes="plus the stratification factors under their spec names",
    ),
    "ADRS": Contract(
        "ADRS",
        "analysis",
        (
            _STUDY,
            _id(),
            _c("ARMCD"),
            _c("PARAMCD", "code", nullable=False, allowed=("OVR", "BOR", "BORU", "ORR", "CBR")),
            _c("PARAM", nullable=False),
            _c("ADT", "date"),
            _c("AVALC", nullable=False),
            _c("VISIT", required=False),
            _DCUT,
        ),
        key=("USUBJID", "PARAMCD", "ADT"),
    ),
    "ADTR": Contract(
        "ADTR",
        "analysis",
        (
            _STUDY,
            _id(),
            _c("ARMCD"),
            _c("PARAMCD", "code", nullable=False, allowed=("SUMDIAM",)),
            _c("PARAM", nullable=False),
            _c("VISIT", required=False),
            _c("ADT", "date", nullable=False),
            _c("AVAL", "number", minimum=0),
            _c("AVALU", "code", allowed=("mm",)),
            _c("BASE", "number", nullable=False, minimum=0),
            _c("CHG", "number"),
            _c("PCHG", "number", minimum=-100),
            _c("NADIR", "number", minimum=0),
            _c("ABLFL", "code", allowed=("Y",)),
            _DCUT,
        ),
        key=("USUBJID", "PARAMCD", "ADT"),
    ),
    "ADAE": Contract(
        "ADAE",
        "analysis",
        (
            _STUDY,
            _id(),
            _c("AESEQ", "integer", nullable=False, minimum=1),
            _c("ARMCD"),
            _c("AEDECOD"),
            _c("AEBODSYS"),
            _c("AETOXGR", "integer", minimum=1, maximum=5),
            _c("ASTDT", "date"),
            _c("AENDT", "date"),
            _c("TRTEMFL", "code", allowed=YN),
            _c("AESER", "code", allowed=YN),
            _c("AEREL", "code", allowed=YN),
            _c("AEACN"),
            _DCUT,
        ),
        key=("USUBJID", "AESEQ"),
    ),
    "ADLB": Contract(
        "ADLB",
        "analysis",
        (
            _STUDY,
            _id(),
            _c("LBTESTCD", nullable=False),
            _c("ADT", "date", nullable=False),
            _c("AVAL", "number"),
            _c("AVALU"),
            _c("ANRLO", "number"),
            _c("ANRHI", "number"),
            _c("ATOXGR", "integer", minimum=0, maximum=5),
            _c("BTOXGR", "integer", minimum=0, maximum=5),
            _c("ATOXDSC"),
            _DCUT,
        ),
    ),
    "ADEX": Contract(
        "ADEX",
        "analysis",
        (
            _STUDY,
            _id(),
            _c("EXTRT", nullable=False),
            _c(
                "PARAMCD",
                "code",
                nullable=False,
                allowed=("TRTDURD", "CUMDOSE", "PLANDOSE", "RDI", "DOSERED", "DOSEINT"),
            ),
            _c("AVAL", "number"),
            _c("AVALC"),
            _DCUT,
        ),
        key=("USUBJID", "EXTRT", "PARAMCD"),
    ),
}

CONTRACTS: dict[str, Contract] = {**RAW, **ADAM}


# --------------------------------------------------------------------------- cell parsers


def parse_date(value: Any) -> dt.date | None:
    """A full calendar date from ISO text, a date, a datetime or a Timestamp.

    Raises ValueError with the reason (partial date, impossible date, not a date).
    """
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if not isinstance(value, str):
        raise ValueError("is not a date (use ISO 8601 YYYY-MM-DD, e.g. 2024-03-15)")
    text = value.strip()
    match = _DATE.match(text)
    if match is None:
        if _PARTIAL.match(text):
            raise ValueError(
                "is a partial date; full dates YYYY-MM-DD are required (no imputation is set "
                "for this column: see date_imputation in docs/DERIVATIONS.md, 'Partial dates')"
            )
        raise ValueError("is not a date (use ISO 8601 YYYY-MM-DD, e.g. 2024-03-15)")
    year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"is not a calendar date ({exc})") from None


def _parse_number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("is not a number")
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    elif isinstance(value, str):
        number = float(value.strip())
    else:
        raise ValueError("is not a number")
    if not math.isfinite(number):
        raise ValueError("is not a finite number")
    return number


def _parse_integer(value: Any) -> int:
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.match(text):
            return int(text)
        raise ValueError("is not an integer")
    number = _parse_number(value)
    if number != int(number):
        raise ValueError("is not an integer")
    return int(number)


def _text(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


# --------------------------------------------------------------------------- conform


def conform(
    df: pd.DataFrame,
    contract: Contract,
    *,
    dataset: str | None = None,
    allowed: Mapping[str, Sequence[str]] | None = None,
    partial: Mapping[str, Level] | None = None,
) -> pd.DataFrame:
    """``df`` checked against ``contract`` and typed; a bad cell raises :class:`DataError`.

    ``dataset`` names the data in messages (default: the contract name; the reader passes
    the file path). ``allowed`` supplies or overrides the codes of ``code`` columns (e.g.
    ``{"ARMCD": ["PAL_ET", "ET"]}``). Optional columns that are absent are added empty.
    ``partial`` (date column -> highest imputation level) lets those columns hold partial
    dates: such a cell is NaT in the column and its text is kept in
    :func:`partial_column` (at level ``Y`` an empty cell is kept there as ``""``).
    Rows are reported 1-based in the order given.
    """
    name = dataset or contract.name
    required = [c.name for c in contract.columns if c.required]
    require_columns(df, required, name)
    df = df.reset_index(drop=True)
    out = df.copy()
    for column in contract.columns:
        codes = (allowed or {}).get(column.name, column.allowed)
        if column.name not in df.columns:
            out[column.name] = _empty(column.type, len(df))
            continue
        level = (partial or {}).get(column.name)
        if level is not None and column.type == "date":
            out[column.name], out[partial_column(column.name)] = _partial_dates(
                df[column.name].tolist(), column, level, name
            )
            continue
        out[column.name] = _conform_column(df[column.name].tolist(), column, codes, name)
    if contract.check is not None:
        contract.check(out, name)
    return out


def _empty(type_: ColumnType, n: int) -> pd.Series:
    if type_ == "date":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    if type_ == "integer":
        return pd.Series(pd.NA, index=range(n), dtype="Int64")
    if type_ == "number":
        return pd.Series(np.nan, index=range(n), dtype="float64")
    return pd.Series([None] * n, index=range(n), dtype=object)


def _conform_column(
    values: list[Any],
    column: Column,
    codes: Sequence[str] | None,
    dataset: str,
    *,
    first_row: int = 0,
) -> pd.Series:
    parsed: list[Any] = []
    canonical = {c.upper(): c for c in codes} if codes is not None else None
    for i, value in enumerate(values, start=first_row):
        if is_missing(value):
            if not column.nullable:
                raise bad_cell(
                    dataset, column.name, i, value, f"is missing; {column.name} is required"
                )
            parsed.append(None)
            continue
        try:
            parsed.append(_parse_cell(value, column, canonical))
        except ValueError as exc:
            valid = _valid_text(column, codes)
            raise bad_cell(
                dataset, column.name, i, value, f"{exc}; valid: {valid}", valid=valid
            ) from None
    return _typed(parsed, column.type)


def _partial_dates(
    values: list[Any], column: Column, level: Level, dataset: str
) -> tuple[pd.Series, pd.Series]:
    """A date column whose partial values are allowed up to ``level`` (see conform)."""
    dates: list[Any] = []
    texts: list[str | None] = []
    for i, value in enumerate(values):
        if is_missing(value) and level == "Y":
            dates.append(None)
            texts.append("")
            continue
        if is_missing(value) or not isinstance(value, str) or _DATE.match(value.strip()):
            dates.extend(_conform_column([value], column, None, dataset, first_row=i).tolist())
            texts.append(None)
            continue
        try:
            value_date = parse_partial(value)
            if not needs(value_date.missing, level):
                raise ValueError(
                    f"is a partial date ({value_date.describe()}); the imputation of "
                    f"{column.name} goes up to {level}, not {value_date.missing}"
                )
        except ValueError as exc:
            valid = f"a full date YYYY-MM-DD or a partial date imputable at level {level}"
            raise bad_cell(dataset, column.name, i, value, f"{exc}; valid: {valid}") from None
        dates.append(None)
        texts.append(value.strip())
    return _typed(dates, "date"), pd.Series(texts, dtype=object)


def _parse_cell(value: Any, column: Column, canonical: dict[str, str] | None) -> Any:
    if column.type == "date":
        return parse_date(value)
    if column.type in ("integer", "number"):
        number: float = _parse_integer(value) if column.type == "integer" else _parse_number(value)
        if column.minimum is not None and number < column.minimum:
            raise ValueError(f"is below {column.minimum:g}")
        if column.maximum is not None and number > column.maximum:
            raise ValueError(f"is above {column.maximum:g}")
        return number
    text = _text(value)
    if column.type == "code" and canonical is not None:
        code = " ".join(text.upper().split())
        if code not in canonical:
            raise ValueError("is not a valid code")
        return canonical[code]
    return text


def _valid_text(column: Column, codes: Sequence[str] | None) -> str:
    if column.type == "date":
        return "a full ISO 8601 date YYYY-MM-DD"
    if column.type in ("integer", "number"):
        bounds = [
            f">= {column.minimum:g}" if column.minimum is not None else "",
            f"<= {column.maximum:g}" if column.maximum is not None else "",
        ]
        rng = " and ".join(b for b in bounds if b)
        return f"an {column.type}" + (f" {rng}" if rng else "")
    if codes is not None:
        return ", ".join(codes)
    return "text"


def _typed(values: list[Any], type_: ColumnType) -> pd.Series:
    if type_ == "date":
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)), dtype="datetime64[ns]")
    if type_ == "integer":
        return pd.Series(values, dtype="Int64")
    if type_ == "number":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    return pd.Series(values, dtype=object)


def check_unique(df: pd.DataFrame, contract: Contract, dataset: str | None = None) -> None:
    """Raise :class:`DataError` at the first row whose key repeats an earlier row."""
    if not contract.key or df.empty:
        return
    name = dataset or contract.name
    keys = pd.Series(
        ["|".join(map(str, row)) for row in df[list(contract.key)].itertuples(index=False)],
        index=df.index,
        dtype=object,
    )
    duplicated = keys.duplicated()
    if duplicated.any():
        i = int(np.flatnonzero(duplicated.to_numpy())[0])
        first = int(np.flatnonzero((keys == keys.iloc[i]).to_numpy())[0])
        shown = dict(zip(contract.key, df.loc[i, list(contract.key)].astype(str), strict=True))
        raise DataError(
            f"{name}: row {i + 1} repeats the key {shown} "
            f"of row {first + 1}; one row per {', '.join(contract.key)}",
            dataset=name,
            row=i + 1,
            column=contract.key[-1],
            value=str(keys.iloc[i]),
        )

"""Subject-level immunohistochemistry (IHC) flags from an MI-like frame (subgroups, covariates).

The raw domain is SDTM's MI (microscopic findings) simplified as docs/DATA_MODEL.md states:
USUBJID, MITESTCD (``ER``, ``PGR``, ``KI67``: percent of stained tumour cells; ``HER2``: IHC
score ``0``, ``1+``, ``2+``, ``3+``; ``HER2ISH``: ``AMPLIFIED`` / ``NOT AMPLIFIED``), MISTRESC,
MISTRESN (the percent as a number), MISPEC (``TISSUE``), VISIT, MIDTC.

Rules are data (``ihc_rules.yaml``, each with its guideline source; :func:`load_ihc_rules`):

* ``ERPOSFL`` ER >= 1%, ``ERLOWFL`` ER 1-10% ("ER Low Positive"), ``PGRPOSFL`` PgR >= 1%:
  ASCO/CAP 2020 (Allison KH et al. J Clin Oncol 2020;38:1346-1366).
* ``HER2NEGFL`` / ``HER2LOWFL``: ASCO/CAP 2018 (Wolff AC et al. J Clin Oncol
  2018;36:2105-2122), affirmed 2023 (J Clin Oncol 2023;41:3867-3872): IHC 0 and 1+ are
  negative, 2+ needs ISH (not amplified: negative; amplified: positive), 3+ is positive;
  HER2-low is 1+ or 2+ without amplification. IHC 2+ without an ISH result of the same
  sample is equivocal: both HER2 flags are then empty.
* ``KI67HIFL`` Ki-67 >= 20% (St Gallen 2013, Goldhirsch A et al. Ann Oncol 2013;24:2206-2223),
  threshold configurable (``ki67_threshold``; IKWG 2021 would use 30%).

Each test is read per subject at one visit (default ``BASELINE``). When there are several
evaluable samples there, the most recent one dated on or before randomization (ADSL RANDDT)
is used; samples after randomization are not (the trace says so); for a subject never
randomized the most recent sample is used. The ISH result paired with an IHC score is the
one of the same sample (same visit and MIDTC). Flags are ``Y``, ``N`` or empty (None): an
untested subject falls out of a subgroup or Cox model using the flag. Every flag carries a
trace naming the value, the MI row, the threshold and the source.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from oncotrial.derive._columns import bad_cell, fmt, is_missing, require_columns, to_decimal
from oncotrial.derive.populations import SubjectTrace, TracedData, parse_date
from oncotrial.errors import DataError, InputError, SpecError

PERCENT_TESTS = ("ER", "PGR", "KI67")
TESTS = (*PERCENT_TESTS, "HER2", "HER2ISH")
HER2_SCORES = ("0", "1+", "2+", "3+")
ISH_RESULTS = ("AMPLIFIED", "NOT AMPLIFIED")
ISH_SYNONYMS = {
    "POSITIVE": "AMPLIFIED",
    "NEGATIVE": "NOT AMPLIFIED",
    "NON-AMPLIFIED": "NOT AMPLIFIED",
    "NONAMPLIFIED": "NOT AMPLIFIED",
    "NOT-AMPLIFIED": "NOT AMPLIFIED",
}
SPECIMENS = ("TISSUE",)
REQUIRED = ("USUBJID", "MITESTCD", "MISTRESC", "MISTRESN", "MISPEC", "VISIT", "MIDTC")
NONE, ANY = "NONE", "ANY"
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*%?$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_HUNDRED = Decimal(100)


# --------------------------------------------------------------------------- raw results


@dataclass(frozen=True)
class MiResult:
    """One MI row read: ``value`` (percent tests) or ``code`` (HER2 score, ISH result)."""

    row: int  # 0-based
    usubjid: str
    test: str
    visit: str
    date: dt.date
    specimen: str
    value: Decimal | None = None
    code: str | None = None

    @property
    def evaluable(self) -> bool:
        return self.value is not None or self.code is not None

    def shown(self) -> str:
        return f"{fmt(self.value)}%" if self.value is not None else str(self.code)

    def where(self, dataset: str) -> str:
        return f"{dataset} row {self.row + 1}: {self.specimen}, {self.visit}, {self.date}"


def _decimal(value: Any) -> Decimal:
    """A cell as an exact Decimal (numpy scalars through their Python value)."""
    return to_decimal(value.item() if hasattr(value, "item") else value)


def _visit(text: Any) -> str:
    return " ".join(str(text).strip().upper().split())


def _code(value: Any) -> str:
    return " ".join(str(value).strip().upper().split())


def _percent(frame: pd.DataFrame, i: int, test: str, dataset: str) -> Decimal | None:
    """ER/PGR/KI67: MISTRESN, else MISTRESC read as a percent; both given must agree."""
    text, number = frame["MISTRESC"].iloc[i], frame["MISTRESN"].iloc[i]
    from_text: Decimal | None = None
    if not is_missing(text):
        match = _PERCENT.match(str(text).strip())
        if match is None:
            raise bad_cell(
                dataset,
                "MISTRESC",
                i,
                text,
                f"is not a percent for {test}; valid: a number 0-100, optionally with %",
            )
        from_text = Decimal(match.group(1))
    from_number: Decimal | None = None
    if not is_missing(number):
        try:
            from_number = _decimal(number)
        except (InvalidOperation, ValueError, TypeError):
            raise bad_cell(dataset, "MISTRESN", i, number, "is not a number") from None
    value = from_number if from_number is not None else from_text
    if value is not None and not Decimal(0) <= value <= _HUNDRED:
        column = "MISTRESN" if from_number is not None else "MISTRESC"
        raise bad_cell(
            dataset, column, i, number if from_number is not None else text,
            f"is not a percent for {test}; valid: 0-100",
        )  # fmt: skip
    if from_text is not None and from_number is not None and from_text != from_number:
        raise bad_cell(
            dataset,
            "MISTRESN",
            i,
            number,
            f"disagrees with MISTRESC {str(text).strip()!r} of the same row ({test})",
        )
    return value


def _her2(frame: pd.DataFrame, i: int, dataset: str) -> str | None:
    """HER2 IHC score; MISTRESN, when given, must be the score's number."""
    text, number = frame["MISTRESC"].iloc[i], frame["MISTRESN"].iloc[i]
    if is_missing(text):
        if not is_missing(number):
            raise bad_cell(
                dataset, "MISTRESN", i, number,
                "is given without a HER2 score in MISTRESC; valid: MISTRESC 0, 1+, 2+, 3+",
            )  # fmt: skip
        return None
    score = "".join(str(text).split()).upper()
    if score not in HER2_SCORES:
        raise bad_cell(
            dataset, "MISTRESC", i, text,
            f"is not a HER2 IHC score; valid: {', '.join(HER2_SCORES)}", valid=list(HER2_SCORES),
        )  # fmt: skip
    if not is_missing(number):
        try:
            agrees = _decimal(number) == Decimal(score[0])
        except (InvalidOperation, ValueError, TypeError):
            agrees = False
        if not agrees:
            raise bad_cell(
                dataset, "MISTRESN", i, number,
                f"disagrees with the HER2 score {score} in MISTRESC; valid: {score[0]} or empty",
            )  # fmt: skip
    return score


def _ish(frame: pd.DataFrame, i: int, dataset: str) -> str | None:
    """HER2 ISH call (MISTRESN, e.g. a HER2/CEP17 ratio, is kept as read and not used)."""
    text = frame["MISTRESC"].iloc[i]
    if is_missing(text):
        return None
    code = _code(text)
    code = ISH_SYNONYMS.get(code, code)
    if code not in ISH_RESULTS:
        raise bad_cell(
            dataset, "MISTRESC", i, text,
            f"is not an ISH result; valid: {', '.join(ISH_RESULTS)}", valid=list(ISH_RESULTS),
        )  # fmt: skip
    return code


def read_results(mi: pd.DataFrame, dataset: str = "MI") -> list[MiResult]:
    """Every MI row read and checked (:class:`DataError` names dataset, row, column, value).

    Two evaluable rows for one subject, test, visit and date are an error: which is right
    cannot be decided.
    """
    require_columns(mi, REQUIRED, dataset)
    frame = mi.reset_index(drop=True)
    out: list[MiResult] = []
    seen: dict[tuple[str, str, str, dt.date], int] = {}
    for i in range(len(frame)):
        usubjid = frame["USUBJID"].iloc[i]
        if is_missing(usubjid):
            raise bad_cell(dataset, "USUBJID", i, usubjid, "is missing; every row needs a subject")
        test = _code(frame["MITESTCD"].iloc[i]) if not is_missing(frame["MITESTCD"].iloc[i]) else ""
        if test not in TESTS:
            raise bad_cell(
                dataset, "MITESTCD", i, frame["MITESTCD"].iloc[i],
                f"is not valid; valid: {', '.join(TESTS)}", valid=list(TESTS),
            )  # fmt: skip
        spec = frame["MISPEC"].iloc[i]
        if is_missing(spec) or _code(spec) not in SPECIMENS:
            raise bad_cell(
                dataset, "MISPEC", i, spec, f"is not valid; valid: {', '.join(SPECIMENS)}"
            )
        visit = frame["VISIT"].iloc[i]
        if is_missing(visit):
            raise bad_cell(dataset, "VISIT", i, visit, "is missing; every row needs a visit")
        date = parse_date(frame["MIDTC"].iloc[i], dataset, "MIDTC", i)
        if date is None:
            raise bad_cell(dataset, "MIDTC", i, frame["MIDTC"].iloc[i], "is missing")
        value: Decimal | None = None
        code: str | None = None
        if test in PERCENT_TESTS:
            value = _percent(frame, i, test, dataset)
        elif test == "HER2":
            code = _her2(frame, i, dataset)
        else:
            code = _ish(frame, i, dataset)
        result = MiResult(i, str(usubjid).strip(), test, _visit(visit), date, _code(spec),
                          value, code)  # fmt: skip
        key = (result.usubjid, test, result.visit, date)
        if result.evaluable and key in seen:
            raise DataError(
                f"{dataset}: row {i + 1} repeats the {test} result of row {seen[key] + 1} "
                f"(subject {result.usubjid}, {result.visit}, {date}); one evaluable result "
                "per subject, test, visit and date",
                dataset=dataset,
                row=i + 1,
                column="MITESTCD",
                value=test,
            )
        if result.evaluable:
            seen[key] = i
        out.append(result)
    return out


def check_results(mi: pd.DataFrame, dataset: str) -> None:
    """The MI contract's row check (per-test result syntax); raises :class:`DataError`."""
    read_results(mi, dataset)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Her2Category:
    """One row of the HER2 table: IHC score and ISH result (or NONE / ANY) -> category."""

    ihc: str
    ish: str
    category: str
    why: str

    def matches(self, ihc: str, ish: str) -> bool:
        return self.ihc in (ANY, ihc) and self.ish in (ANY, ish)


@dataclass(frozen=True)
class IhcRule:
    """One flag: a percent rule (``at_least``, or ``low``..``high`` inclusive) on ``test``,
    or, for HER2, the categories that make it ``Y`` and ``N`` (other categories: empty)."""

    name: str
    label: str
    test: str
    cite: str
    at_least: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    yes: tuple[str, ...] = ()
    no: tuple[str, ...] = ()
    chosen_by_user: bool = False

    def describe(self) -> str:
        if self.at_least is not None:
            return f"{self.test} >= {fmt(self.at_least)}%"
        if self.low is not None:
            return f"{fmt(self.low)}% <= {self.test} <= {fmt(self.high)}%"
        return f"HER2 category in {list(self.yes)} (Y), {list(self.no)} (N), else empty"


@dataclass(frozen=True)
class IhcRules:
    """The flags, the HER2 category table and the ADSL value columns (``ihc_rules.yaml``)."""

    version: str
    flags: tuple[IhcRule, ...]
    her2: tuple[Her2Category, ...]
    value_columns: dict[str, str] = field(default_factory=dict)

    def her2_category(self, ihc: str, ish: str) -> Her2Category:
        return next(row for row in self.her2 if row.matches(ihc, ish))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "flags": {r.name: {"rule": r.describe(), "source": r.cite} for r in self.flags},
            "value_columns": dict(self.value_columns),
        }


def _number(raw: Any, where: str) -> Decimal:
    try:
        return to_decimal(raw)
    except (InvalidOperation, ValueError, TypeError):
        raise SpecError(f"{where}: {raw!r} is not a number", field=where) from None


def _rule(entry: dict[str, Any], sources: dict[str, Any], categories: set[str]) -> IhcRule:
    name = str(entry.get("name", ""))
    where = f"ihc rules: flag {name or '?'}"
    if not _NAME.match(name):
        raise SpecError(f"{where}: name must be a column name (letters, digits, _)", field="name")
    test = str(entry.get("test", "")).upper()
    if test not in ("ER", "PGR", "KI67", "HER2"):
        raise SpecError(f"{where}: test {test!r} not valid; valid: ER, PGR, KI67, HER2")
    source = sources.get(str(entry.get("source")))
    if not isinstance(source, dict) or "cite" not in source:
        raise SpecError(f"{where}: source {entry.get('source')!r} is not among {list(sources)}")
    base = IhcRule(name, str(entry.get("label", name)), test, " ".join(str(source["cite"]).split()))
    if test == "HER2":
        yes, no = tuple(entry.get("Y", ())), tuple(entry.get("N", ()))
        unknown = sorted(set(yes + no) - categories)
        if not yes or unknown or set(yes) & set(no):
            raise SpecError(
                f"{where}: Y {list(yes)} / N {list(no)} must be disjoint, Y non-empty, from "
                f"the categories {sorted(categories)}"
            )
        return replace(base, yes=yes, no=no)
    if "at_least" in entry and "from" not in entry and "to" not in entry:
        return replace(base, at_least=_number(entry["at_least"], where))
    if "from" in entry and "to" in entry and "at_least" not in entry:
        low, high = _number(entry["from"], where), _number(entry["to"], where)
        if not low <= high:
            raise SpecError(f"{where}: from {low} is above to {high}")
        return replace(base, low=low, high=high)
    raise SpecError(f"{where}: give either at_least, or from and to (percent)")


def _her2_table(rows: Sequence[dict[str, Any]]) -> tuple[Her2Category, ...]:
    table = tuple(
        Her2Category(str(r["ihc"]), str(r["ish"]), str(r["category"]), str(r["why"])) for r in rows
    )
    for ihc in (*HER2_SCORES, NONE):
        for ish in (*ISH_RESULTS, NONE):
            if (ihc, ish) != (NONE, NONE) and not any(r.matches(ihc, ish) for r in table):
                raise SpecError(f"ihc rules: her2_categories has no row for IHC {ihc}, ISH {ish}")
    return table


def load_ihc_rules(
    path: str | Path | None = None, *, ki67_threshold: float | None = None
) -> IhcRules:
    """The IHC rules of ``path`` (default: the shipped ``ihc_rules.yaml``).

    ``ki67_threshold`` replaces the percent threshold of every Ki-67 ``at_least`` flag (the
    trace then says the threshold was chosen by the user and names the default's source).
    """
    if path is None:
        rules = _shipped()
    else:
        try:
            raw = yaml.safe_load(Path(path).read_text("utf-8"))
        except OSError as exc:
            raise InputError(f"ihc rules {path}: cannot read ({exc})", argument="path") from None
        rules = _parse(raw)
    if ki67_threshold is None:
        return rules
    threshold = to_decimal(ki67_threshold) if not isinstance(ki67_threshold, bool) else None
    if threshold is None or not Decimal(0) < threshold <= _HUNDRED:
        raise InputError(
            f"ki67_threshold {ki67_threshold!r} is not a percent in (0, 100]",
            argument="ki67_threshold",
            value=ki67_threshold,
        )
    flags = tuple(
        replace(r, at_least=threshold, chosen_by_user=True)
        if r.test == "KI67" and r.at_least is not None
        else r
        for r in rules.flags
    )
    return replace(rules, flags=flags)


@cache
def _shipped() -> IhcRules:
    text = (resources.files("oncotrial.derive") / "ihc_rules.yaml").read_text("utf-8")
    return _parse(yaml.safe_load(text))


def _parse(raw: Any) -> IhcRules:
    if not isinstance(raw, dict) or not {"flags", "sources", "her2_categories"} <= set(raw):
        raise SpecError("ihc rules: a mapping with sources, flags and her2_categories is needed")
    her2 = _her2_table(raw["her2_categories"])
    categories = {r.category for r in her2}
    flags = tuple(_rule(dict(e), raw["sources"], categories) for e in raw["flags"])
    names = [f.name for f in flags]
    if len(set(names)) != len(names):
        raise SpecError(f"ihc rules: flag names repeat: {names}")
    values = {str(k).upper(): str(v) for k, v in (raw.get("value_columns") or {}).items()}
    bad = sorted(set(values) - set(TESTS)) + [v for v in values.values() if not _NAME.match(v)]
    if bad or set(values.values()) & set(names):
        raise SpecError(f"ihc rules: value_columns {values} must map tests {TESTS} to new names")
    return IhcRules(str(raw.get("version", "")), flags, her2, values)


# --------------------------------------------------------------------------- derivation


@dataclass(frozen=True)
class IhcFlags(TracedData):
    """One row per subject: a column per flag (``Y``, ``N`` or None) and the values read."""

    data: pd.DataFrame
    rules: IhcRules
    visit: str
    traces: tuple[SubjectTrace, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.settings(), "counts": self.counts().to_dict(orient="records")}

    def settings(self) -> dict[str, Any]:
        """What the derivation log records: rules version, visit, each flag's rule and source."""
        return {
            **self.rules.to_dict(),
            "visit": self.visit,
            "selection": "most recent evaluable sample at the visit dated on or before RANDDT",
        }

    def counts(self) -> pd.DataFrame:
        """Per flag: subjects Y, N and empty."""
        rows = []
        for rule in self.rules.flags:
            column = self.data[rule.name]
            rows.append(
                {
                    "FLAG": rule.name,
                    "Y": int((column == "Y").sum()),
                    "N": int((column == "N").sum()),
                    "EMPTY": int(column.isna().sum()),
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        return (
            f"IHC flags of {len(self.data)} subjects at {self.visit} ({self.rules.version})\n"
            f"{self.counts().to_string(index=False)}"
        )


@dataclass(frozen=True)
class _Pick:
    """The result used for one test of one subject, or None with the reason."""

    result: MiResult | None
    text: str


def _randomization(adsl: pd.DataFrame) -> dict[str, dt.date | None]:
    if "RANDDT" not in adsl.columns:
        return {str(s).strip(): None for s in adsl["USUBJID"]}
    out: dict[str, dt.date | None] = {}
    for i, (subject, value) in enumerate(zip(adsl["USUBJID"], adsl["RANDDT"], strict=True)):
        out[str(subject).strip()] = parse_date(value, "ADSL", "RANDDT", i)
    return out


def _pick(
    results: list[MiResult], test: str, visit: str, randdt: dt.date | None, dataset: str
) -> _Pick:
    """Most recent evaluable result at ``visit`` dated on or before ``randdt`` (any date when
    the subject was not randomized)."""
    evaluable = [r for r in results if r.evaluable]
    blank = len(results) - len(evaluable)
    usable = [r for r in evaluable if randdt is None or r.date <= randdt]
    late = [r for r in evaluable if r not in usable]
    notes = []
    if blank:
        notes.append(f"{blank} row(s) without a result")
    if late:
        rows = ", ".join(f"row {r.row + 1} {r.date}" for r in late)
        notes.append(f"not used, dated after randomization {randdt}: {dataset} {rows}")
    if not usable:
        extra = f" ({'; '.join(notes)})" if notes else ""
        return _Pick(None, f"no evaluable {test} result at {visit}{extra}")
    chosen = max(usable, key=lambda r: r.date)
    if len(usable) > 1:
        scope = "on or before randomization" if randdt is not None else "(not randomized)"
        notes.insert(0, f"most recent of {len(usable)} samples {scope}")
    detail = f"; {'; '.join(notes)}" if notes else ""
    return _Pick(chosen, f"{test} {chosen.shown()} ({chosen.where(dataset)}{detail})")


def _percent_flag(rule: IhcRule, pick: _Pick) -> tuple[str | None, str]:
    source = rule.cite
    if rule.chosen_by_user:
        source = f"threshold chosen by the user; the default 20% is from {rule.cite}"
    if pick.result is None or pick.result.value is None:
        return None, f"{pick.text}: {rule.label} not assessable. Source: {source}"
    value = pick.result.value
    if rule.at_least is not None:
        yes = value >= rule.at_least
        how = f"{'>=' if yes else 'below'} the threshold {fmt(rule.at_least)}%"
    else:
        assert rule.low is not None and rule.high is not None
        yes = rule.low <= value <= rule.high
        how = f"{'within' if yes else 'outside'} {fmt(rule.low)}-{fmt(rule.high)}%"
    verdict = rule.label if yes else f"not {rule.label}"
    return ("Y" if yes else "N"), f"{pick.text} is {how}: {verdict}. Source: {source}"


def _her2_status(
    rules: IhcRules, ihc: _Pick, ish: _Pick, dataset: str
) -> tuple[Her2Category | None, str]:
    if ihc.result is None and ish.result is None:
        return None, f"{ihc.text}; no ISH result either"
    ihc_code = ihc.result.code if ihc.result is not None else NONE
    ish_code = ish.result.code if ish.result is not None else NONE
    assert ihc_code is not None and ish_code is not None
    row = rules.her2_category(ihc_code, ish_code)
    if ihc.result is None:
        text = f"{ihc.text}; HER2 ISH {ish.text.removeprefix('HER2ISH ')}"
    elif ish.result is None:
        text = f"HER2 IHC {ihc.text.removeprefix('HER2 ')}, no ISH result of the same sample"
    else:
        text = (
            f"HER2 IHC {ihc.text.removeprefix('HER2 ')} with ISH {ish_code} ({dataset} row "
            f"{ish.result.row + 1}, same sample)"
        )
    return row, f"{text}: {row.why} (category {row.category})"


def _her2_flag(rule: IhcRule, status: tuple[Her2Category | None, str]) -> tuple[str | None, str]:
    row, text = status
    if row is None:
        return None, f"{text}: {rule.label} not assessable. Source: {rule.cite}"
    if row.category in rule.yes:
        return "Y", f"{text}: {rule.label}. Source: {rule.cite}"
    if row.category in rule.no:
        return "N", f"{text}: not {rule.label}. Source: {rule.cite}"
    return None, f"{text}: {rule.label} unknown, flag empty. Source: {rule.cite}"


def derive_ihc_flags(
    mi: pd.DataFrame,
    adsl: pd.DataFrame,
    *,
    rules: IhcRules | None = None,
    visit: str = "BASELINE",
    dataset: str = "MI",
) -> IhcFlags:
    """IHC flags (default rules: :func:`load_ihc_rules`) of every ADSL subject at ``visit``.

    ``adsl`` needs USUBJID; its RANDDT (when present) bounds the samples used. An MI subject
    not in ``adsl`` is a :class:`DataError`.
    """
    rules = rules or load_ihc_rules()
    require_columns(adsl, ["USUBJID"], "ADSL")
    wanted = _visit(visit)
    if not wanted:
        raise InputError("visit: give a visit name such as BASELINE", argument="visit")
    randomized = _randomization(adsl)
    results = read_results(mi, dataset)
    table: dict[tuple[str, str], list[MiResult]] = {}
    for r in results:
        if r.usubjid not in randomized:
            raise bad_cell(dataset, "USUBJID", r.row, r.usubjid, "is not a subject of ADSL")
        if r.visit == wanted:
            table.setdefault((r.usubjid, r.test), []).append(r)
    rows: list[dict[str, Any]] = []
    traces: list[SubjectTrace] = []
    for usubjid, randdt in randomized.items():
        picks = {
            t: _pick(table.get((usubjid, t), []), t, wanted, randdt, dataset)
            for t in (*PERCENT_TESTS, "HER2")
        }
        picks["HER2ISH"] = _paired_ish(table.get((usubjid, "HER2ISH"), []), picks["HER2"],
                                       wanted, randdt, dataset)  # fmt: skip
        status = _her2_status(rules, picks["HER2"], picks["HER2ISH"], dataset)
        row: dict[str, Any] = {"USUBJID": usubjid}
        for rule in rules.flags:
            if rule.test == "HER2":
                value, text = _her2_flag(rule, status)
            else:
                value, text = _percent_flag(rule, picks[rule.test])
            row[rule.name] = value
            traces.append(SubjectTrace(usubjid, "ADSL", rule.name, "", value or "", text))
        for test, column in rules.value_columns.items():
            chosen = picks[test].result if test in picks else None
            if test == "HER2":
                row[column] = None if chosen is None else chosen.code
            else:
                row[column] = (
                    None if chosen is None or chosen.value is None else float(chosen.value)
                )
        rows.append(row)
    return IhcFlags(_frame(rows, rules), rules, wanted, tuple(traces))


def _paired_ish(
    results: list[MiResult], ihc: _Pick, visit: str, randdt: dt.date | None, dataset: str
) -> _Pick:
    """The ISH of the IHC sample (same date); without an IHC score, the ISH chosen alone."""
    if ihc.result is None:
        return _pick(results, "HER2ISH", visit, randdt, dataset)
    same = [r for r in results if r.evaluable and r.date == ihc.result.date]
    if not same:
        return _Pick(None, f"no ISH result of the {ihc.result.date} sample")
    return _Pick(same[0], f"HER2ISH {same[0].shown()} ({same[0].where(dataset)})")


def _frame(rows: list[dict[str, Any]], rules: IhcRules) -> pd.DataFrame:
    names = [r.name for r in rules.flags]
    columns = ["USUBJID", *names, *rules.value_columns.values()]
    data = pd.DataFrame(rows, columns=columns)
    for column in [*names, rules.value_columns.get("HER2", "")]:
        if column in data.columns:
            data[column] = data[column].astype(object).where(data[column].notna(), None)
    for test, column in rules.value_columns.items():
        if test != "HER2":
            data[column] = data[column].astype("float64")
    return data

"""Subject-level biomarker flags from a GF-like genomic findings frame (subgroups, covariates).

Rules (each flag configurable by :class:`BiomarkerFlag`):

* The **status** of a gene at a visit over a set of specimens is ``MUTATED`` when any
  evaluable result there is ``MUTATED`` (tissue or ctDNA: a mutation found in either counts),
  ``NOT DETECTED`` when there are evaluable results and all are ``NOT DETECTED``, and *not
  tested* when there is no evaluable result (a row with an empty GFSTRESC is not evaluable).
* A **baseline** flag (``ESR1MBL``: ESR1 mutated at baseline) is ``Y`` / ``N`` for
  ``MUTATED`` / ``NOT DETECTED`` at the baseline visit, empty when not tested.
* An **acquired** flag (``ESR1ACQ``: ESR1 not detected at baseline, detected at month 3) is
  ``Y`` when the status is ``NOT DETECTED`` at the baseline visit and ``MUTATED`` at the
  later visit, ``N`` when ``NOT DETECTED`` at both, and empty when either visit was not
  tested or the gene was already mutated at baseline (acquisition is then not defined). Both
  visits are read on the same specimens (default ctDNA: serial liquid biopsy, as in PADA-1,
  Bidard FC et al. Lancet Oncol 2022;23:1367-1377), so that sensitivities are comparable.

Empty flags are ``None`` (an empty cell): such subjects fall out of a subgroup or Cox model
that uses the flag rather than being counted as wild type.

Column contract (DATA_MODEL.md, GF): USUBJID, GFGENSYM (gene), GFSTRESC (``MUTATED`` /
``NOT DETECTED``), GFSPEC (``TISSUE`` / ``CTDNA``), VISIT (``BASELINE``, ``MONTH 3``, ...),
optional GFDTC (shown in traces).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from oncotrial.derive._columns import bad_cell, code_cells, require_columns, text_cells
from oncotrial.derive.populations import SubjectTrace, TracedData, optional_dates
from oncotrial.errors import InputError

REQUIRED = ("USUBJID", "GFGENSYM", "GFSTRESC", "GFSPEC", "VISIT")
RESULTS = ("MUTATED", "NOT DETECTED", "")
SPECIMENS = ("TISSUE", "CTDNA")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class BiomarkerFlag:
    """One subject-level flag: ``kind`` ``baseline`` or ``acquired`` for ``gene``."""

    name: str
    gene: str
    kind: Literal["baseline", "acquired"]
    specimens: tuple[str, ...] = SPECIMENS
    baseline_visit: str = "BASELINE"
    later_visit: str | None = None  # acquired flags only

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise InputError(
                f"BiomarkerFlag name {self.name!r} is not a column name (letters, digits, _)"
            )
        if self.kind not in ("baseline", "acquired"):
            raise InputError(
                f"BiomarkerFlag {self.name}: kind {self.kind!r} is not valid; "
                f"valid: 'baseline', 'acquired'"
            )
        if self.kind == "acquired" and not self.later_visit:
            raise InputError(f"BiomarkerFlag {self.name}: an acquired flag needs later_visit")
        bad = [s for s in self.specimens if s not in SPECIMENS]
        if bad or not self.specimens:
            raise InputError(
                f"BiomarkerFlag {self.name}: specimens {list(self.specimens)} not valid; "
                f"valid: a non-empty subset of {list(SPECIMENS)}"
            )


def default_flags(
    genes: Sequence[str] = ("ESR1", "PIK3CA"),
    *,
    baseline_visit: str = "BASELINE",
    later_visit: str = "MONTH 3",
    acquired_specimens: Sequence[str] = ("CTDNA",),
) -> tuple[BiomarkerFlag, ...]:
    """``{GENE}MBL`` (mutated at baseline, tissue or ctDNA) and ``{GENE}ACQ`` (acquired
    between ``baseline_visit`` and ``later_visit`` in ``acquired_specimens``) per gene."""
    out = []
    for gene in genes:
        g = gene.strip().upper()
        out.append(BiomarkerFlag(f"{g}MBL", g, "baseline", SPECIMENS, _visit(baseline_visit)))
        out.append(
            BiomarkerFlag(
                f"{g}ACQ",
                g,
                "acquired",
                tuple(acquired_specimens),
                _visit(baseline_visit),
                _visit(later_visit),
            )
        )
    return tuple(out)


def _visit(text: str) -> str:
    return " ".join(str(text).strip().upper().split())


@dataclass(frozen=True)
class BiomarkerFlags(TracedData):
    """One row per subject with a column per flag (``Y``, ``N`` or None), with traces."""

    data: pd.DataFrame
    flags: tuple[BiomarkerFlag, ...]
    traces: tuple[SubjectTrace, ...]

    def counts(self) -> pd.DataFrame:
        """Per flag: number of subjects Y, N and not tested."""
        rows = []
        for f in self.flags:
            column = self.data[f.name]
            rows.append(
                {
                    "FLAG": f.name,
                    "Y": int((column == "Y").sum()),
                    "N": int((column == "N").sum()),
                    "NOT_TESTED": int(column.isna().sum()),
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        return (
            f"Biomarker flags of {len(self.data)} subjects\n{self.counts().to_string(index=False)}"
        )


@dataclass(frozen=True)
class _Result:
    row: int
    specimen: str
    value: str
    date: str


def derive_biomarker_flags(
    gf: pd.DataFrame,
    subjects: Iterable[str],
    *,
    flags: Sequence[BiomarkerFlag] | None = None,
    dataset: str = "GF",
) -> BiomarkerFlags:
    """Flags (default :func:`default_flags`) for every subject in ``subjects`` (USUBJIDs,
    e.g. ``adsl["USUBJID"]``); a GF subject not among them is a DataError."""
    flags = tuple(default_flags() if flags is None else flags)
    names = [f.name for f in flags]
    if len(set(names)) != len(names):
        raise InputError(f"flags: names repeat: {names}")
    ids_wanted = [str(s).strip() for s in subjects]
    known = set(ids_wanted)
    require_columns(gf, REQUIRED, dataset)
    gf = gf.reset_index(drop=True)
    ids = text_cells(gf, "USUBJID", dataset)
    genes = [g.upper() for g in text_cells(gf, "GFGENSYM", dataset)]
    results = code_cells(
        gf, "GFSTRESC", dataset, RESULTS, synonyms={"NOT MUTATED": "NOT DETECTED"}, missing=""
    )
    specimens = code_cells(gf, "GFSPEC", dataset, SPECIMENS, synonyms={"CT DNA": "CTDNA"})
    visits = [_visit(v) for v in text_cells(gf, "VISIT", dataset)]
    dates = optional_dates(gf, "GFDTC", dataset) if "GFDTC" in gf.columns else [None] * len(gf)
    table: dict[tuple[str, str, str], list[_Result]] = {}
    for i, usubjid in enumerate(ids):
        if usubjid not in known:
            raise bad_cell(dataset, "USUBJID", i, usubjid, "is not a subject of ADSL")
        date = dates[i]
        table.setdefault((usubjid, genes[i], visits[i]), []).append(
            _Result(i, specimens[i], results[i], "" if date is None else f" {date.isoformat()}")
        )
    rows = []
    traces = []
    for usubjid in ids_wanted:
        row: dict[str, str | None] = {"USUBJID": usubjid}
        for flag in flags:
            value, text = _evaluate(flag, table, usubjid, dataset)
            row[flag.name] = value
            traces.append(SubjectTrace(usubjid, "ADSL", flag.name, "", value or "", text))
        rows.append(row)
    data = pd.DataFrame(rows, columns=["USUBJID", *names], dtype=object)
    data[names] = data[names].astype(object).where(data[names].notna(), None)
    return BiomarkerFlags(data, flags, tuple(traces))


def _status(
    table: dict[tuple[str, str, str], list[_Result]],
    usubjid: str,
    gene: str,
    visit: str,
    specimens: tuple[str, ...],
    dataset: str,
) -> tuple[str | None, str]:
    """(MUTATED / NOT DETECTED / None, description with rows) of one gene at one visit."""
    found = [r for r in table.get((usubjid, gene, visit), []) if r.specimen in specimens]
    evaluable = [r for r in found if r.value]
    where = f"{gene} at {visit} ({'/'.join(specimens)})"
    if not evaluable:
        extra = f": {len(found)} row(s) without a result" if found else ""
        return None, f"{where} not tested{extra}"
    listed = ", ".join(
        f"{dataset} row {r.row + 1} {r.specimen}{r.date} {r.value}" for r in evaluable
    )
    if any(r.value == "MUTATED" for r in evaluable):
        return "MUTATED", f"{where} mutated ({listed})"
    return "NOT DETECTED", f"{where} not detected ({listed})"


def _evaluate(
    flag: BiomarkerFlag,
    table: dict[tuple[str, str, str], list[_Result]],
    usubjid: str,
    dataset: str,
) -> tuple[str | None, str]:
    gene = flag.gene.upper()
    base, base_text = _status(
        table, usubjid, gene, _visit(flag.baseline_visit), flag.specimens, dataset
    )
    if flag.kind == "baseline":
        value = {"MUTATED": "Y", "NOT DETECTED": "N", None: None}[base]
        return value, base_text
    assert flag.later_visit is not None
    if base is None:
        return None, f"{base_text}: acquisition not assessable"
    if base == "MUTATED":
        return None, f"{base_text}: already mutated, acquisition not defined"
    later, later_text = _status(
        table, usubjid, gene, _visit(flag.later_visit), flag.specimens, dataset
    )
    if later is None:
        return None, f"{base_text}; {later_text}: acquisition not assessable"
    value = "Y" if later == "MUTATED" else "N"
    return value, f"{base_text}; {later_text}"

"""ADTR: the sum of target-lesion diameters at each assessment (PARAMCD ``SUMDIAM``).

Taken from the RECIST 1.1 time-point results already derived for ADRS
(:func:`oncotrial.derive.recist.timepoint_responses`; nothing is measured again), so ADTR and
ADRS can never disagree. Definitions (RECIST 1.1, Eisenhauer et al. Eur J Cancer 2009;45:228-247,
section 4.3.1; ADaM names as in the CDISC ADaM IG 1.3 BDS and the ADTR examples of the
CDISC oncology therapeutic-area user guide):

* one row per assessment of each subject with target lesions at baseline; the baseline
  assessment has ``ABLFL = Y``;
* ``AVAL``: sum of diameters in mm (longest diameter of non-nodal targets plus short axis
  of nodal targets, "too small to measure" counted as 5 mm); empty when a target lesion was
  not measured at that assessment (RECIST 1.1 section 4.4.2: the sum is then unknown);
* ``BASE``: the baseline sum; ``CHG = AVAL - BASE`` (mm);
  ``PCHG = 100 x (AVAL - BASE) / BASE`` (%), computed exactly (decimal) by the RECIST module;
* ``NADIR``: the smallest complete sum before this assessment, baseline included (the
  reference of the RECIST 1.1 progression rule); empty on the baseline row.

The report's waterfall plot takes the minimum post-baseline ``PCHG`` of each subject.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

import pandas as pd

from oncotrial.derive._columns import is_missing, to_decimal
from oncotrial.derive.recist import RecistTimepoints, TimepointResponse

PARAMCD = "SUMDIAM"
PARAM = "Sum of Diameters of Target Lesions (mm)"
COLUMNS = ("USUBJID", "ARMCD", "PARAMCD", "PARAM", "VISIT", "ADT", "AVAL", "AVALU", "BASE",
           "CHG", "PCHG", "NADIR", "ABLFL")  # fmt: skip


def derive_adtr(
    recist: RecistTimepoints | None,
    adsl: pd.DataFrame,
    *,
    visits: Mapping[tuple[str, dt.date], str | None] | None = None,
) -> pd.DataFrame:
    """The ADTR frame from RECIST time-point results, for the subjects of ``adsl``.

    ``visits`` maps (USUBJID, date) to the visit label of the baseline assessment (the
    post-baseline labels are in the results). ``recist`` None (no lesion data, e.g. responses
    read from RS) gives an empty frame with the ADTR columns.
    """
    arms = dict(zip(adsl["USUBJID"], adsl["ARMCD"], strict=True))
    rows: list[dict[str, object]] = []
    if recist is not None:
        by_subject: dict[str, list[TimepointResponse]] = {}
        for response in recist.responses:
            by_subject.setdefault(response.usubjid, []).append(response)
        for base in recist.baselines:
            if not base.target_disease or base.usubjid not in arms:
                continue
            assert base.baseline_sum is not None  # target disease has a baseline sum
            arm = arms[base.usubjid]
            label = (visits or {}).get((base.usubjid, base.adt))
            rows.append(
                _row(base.usubjid, arm, label, base.adt, base.baseline_sum, base.baseline_sum)
                | {"CHG": 0.0, "PCHG": 0.0, "ABLFL": "Y"}
            )
            for r in sorted(by_subject.get(base.usubjid, []), key=lambda x: x.adt):
                row = _row(base.usubjid, arm, r.visit, r.adt, r.sum_diameters, base.baseline_sum)
                row["NADIR"] = r.nadir
                if r.sum_diameters is not None:
                    row["CHG"] = float(_chg(r.sum_diameters, base.baseline_sum))
                    row["PCHG"] = r.pchg_baseline
                rows.append(row)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["ADT"] = pd.to_datetime(frame["ADT"].astype(object)).astype("datetime64[ns]")
    for column in ("AVAL", "BASE", "CHG", "PCHG", "NADIR"):
        frame[column] = frame[column].astype("float64")
    for column in ("VISIT", "ABLFL"):
        frame[column] = pd.Series(
            [None if is_missing(v) else v for v in frame[column]], index=frame.index, dtype=object
        )
    return frame


def _chg(value: float, base: float) -> Decimal:
    return to_decimal(value) - to_decimal(base)


def _row(
    usubjid: str, arm: object, visit: str | None, adt: object, aval: float | None, base: float
) -> dict[str, object]:
    return {
        "USUBJID": usubjid,
        "ARMCD": arm,
        "PARAMCD": PARAMCD,
        "PARAM": PARAM,
        "VISIT": visit,
        "ADT": adt,
        "AVAL": aval,
        "AVALU": "mm",
        "BASE": base,
        "CHG": None,
        "PCHG": None,
        "NADIR": None,
        "ABLFL": None,
    }

"""CONSORT flow counts from the analysis data (CONSORT 2010, Schulz et al., BMJ 2010, Figure 1).

* **Assessed for eligibility**: every ADSL subject (DM holds one row per subject screened).
* **Excluded, with reasons**: subjects not randomized (ITTFL = N). Their reason is the first
  eligibility criterion they fail in protocol order, found by screening their ADSL subject
  attributes against the spec's criteria (:func:`oncotrial.screening.screen`, the same rules
  as ``oncotrial spec screen``); a subject who fails none is "Eligible, not randomized" and
  one whose data leave a criterion undecided "Eligibility undecided (missing data)".
* **Per arm** (ARMCD of the randomized): allocated; not treated (no TRTSDT) with the
  end-of-study reason DCSREAS (or "Reason not recorded"); discontinued treatment
  (EOTSTT = DISCONTINUED) by DCTREAS; analysed in the intention-to-treat set (everyone
  randomized, as ITT requires).

:class:`oncotrial.report.figures.consort.ConsortCounts` checks on construction that each
arm's boxes add up to those allocated and the arms to those randomized.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from oncotrial.derive._columns import require_columns
from oncotrial.report.adam import AdamData
from oncotrial.report.figures.consort import ArmFlow, ConsortCounts
from oncotrial.screening import ELIGIBLE, screen
from oncotrial.spec import TrialSpec

ADSL_COLUMNS = ("USUBJID", "ARMCD", "ITTFL", "TRTSDT", "EOTSTT", "DCTREAS", "DCSREAS")


def _reason(text: object, fallback: str) -> str:
    if text is None or (isinstance(text, float) and pd.isna(text)) or not str(text).strip():
        return fallback
    return str(text).strip().capitalize()


def exclusion_reasons(spec: TrialSpec, adam: AdamData) -> dict[str, int]:
    """Subjects not randomized, counted under their first failed criterion."""
    adsl = adam["ADSL"]
    out_ids = set(adsl.loc[adsl["ITTFL"] != "Y", "USUBJID"])
    if not out_ids:
        return {}
    attributes = adam.attributes[adam.attributes["USUBJID"].isin(out_ids)]
    result = screen(spec.eligibility, spec.subject_attributes, attributes, id_column="USUBJID")
    texts = {c.id: c.text for c in result.criteria}
    reasons: Counter[str] = Counter()
    for row in result.subjects.to_dict(orient="records"):
        if row["first_failed"]:
            cid = str(row["first_failed"])
            kind = "Met exclusion" if cid.startswith("E") else "Did not meet inclusion"
            reasons[f"{kind} {cid}: {texts[cid]}"] += 1
        elif row["verdict"] == ELIGIBLE:
            reasons["Eligible, not randomized"] += 1
        else:
            reasons["Eligibility undecided (missing data)"] += 1
    missing = len(out_ids) - sum(reasons.values())
    if missing:
        reasons["No screening data"] += missing
    return dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def consort_counts(spec: TrialSpec, adam: AdamData) -> ConsortCounts:
    """The CONSORT boxes of the trial, arms in spec order (labels as in the spec)."""
    adsl = adam["ADSL"]
    require_columns(adsl, ADSL_COLUMNS, "ADSL")
    randomized = adsl[adsl["ITTFL"] == "Y"]
    arms = []
    for arm in spec.arms:
        rows = randomized[randomized["ARMCD"] == arm.name]
        untreated = rows[rows["TRTSDT"].isna()]
        treated = rows[rows["TRTSDT"].notna()]
        stopped = treated[treated["EOTSTT"] == "DISCONTINUED"]
        arms.append(
            ArmFlow(
                arm.label,
                len(rows),
                not_treated=dict(
                    Counter(_reason(r, "Reason not recorded") for r in untreated["DCSREAS"])
                ),
                discontinued=dict(
                    Counter(_reason(r, "Reason not recorded") for r in stopped["DCTREAS"])
                ),
            )
        )
    return ConsortCounts(
        assessed=len(adsl),
        excluded=exclusion_reasons(spec, adam),
        arms=tuple(arms),
        analysis_set="intention-to-treat",
    )

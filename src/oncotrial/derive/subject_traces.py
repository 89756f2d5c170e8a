"""Per-subject trace sentences written from finished datasets (for ``derive explain``).

The derivations trace each value as they derive it; two summaries are only known once a
dataset is complete, and are written here from the dataset itself (nothing re-derived):

* ADTR: each assessment's sum of diameters with its change from baseline and the nadir it
  was compared with, and the best (minimum) post-baseline percent change, the value the
  waterfall plot shows;
* ADAE: the subject's treatment-emergent AEs in one line (count, maximum grade and the AE
  that carries it, any grade >= 3, serious, related, leading to discontinuation), the
  subject-level flags the safety tables count. Only for the safety population.
"""

from __future__ import annotations

import pandas as pd

from oncotrial.derive._columns import fmt, is_missing


def adtr_traces(adtr: pd.DataFrame) -> dict[str, list[str]]:
    """USUBJID -> ``ADTR ...`` sentences, one per assessment plus the best change."""
    out: dict[str, list[str]] = {}
    best: dict[str, tuple[float, str, int]] = {}  # subject -> (PCHG, date, n post-baseline)
    for r in adtr.to_dict(orient="records"):
        subject = str(r["USUBJID"])
        lines = out.setdefault(subject, [])
        day = pd.Timestamp(r["ADT"]).date().isoformat()
        head = f"SUMDIAM [{day}]"
        if r["ABLFL"] == "Y":
            lines.append(f"{head} = {fmt(r['AVAL'])} mm: baseline sum of diameters (ABLFL = Y)")
            continue
        if is_missing(r["AVAL"]):
            lines.append(
                f"{head} = (empty): a target lesion was not measured, so the sum is "
                "unknown (RECIST 1.1 section 4.4.2)"
            )
            continue
        pchg = float(r["PCHG"])
        lines.append(
            f"{head} = {fmt(r['AVAL'])} mm: CHG {fmt(r['CHG'])} mm, PCHG {pchg:+.1f}% from "
            f"baseline {fmt(r['BASE'])} mm; nadir before this assessment {fmt(r['NADIR'])} mm"
        )
        seen = best.get(subject)
        n = 1 + (seen[2] if seen else 0)
        best[subject] = (pchg, day, n) if seen is None or pchg < seen[0] else (*seen[:2], n)
    for subject, lines in out.items():
        if subject not in best:
            lines.append("best PCHG = (empty): no post-baseline sum of diameters")
            continue
        pchg, day, n = best[subject]
        lines.append(
            f"best PCHG = {pchg:+.1f}%: minimum over {n} post-baseline sum(s), on {day} "
            "(the waterfall value)"
        )
    return {s: [f"ADTR {line}" for line in lines] for s, lines in out.items()}


def teae_traces(adae: pd.DataFrame, adsl: pd.DataFrame) -> dict[str, list[str]]:
    """USUBJID -> one ``ADAE TEAE ...`` sentence per subject of the safety population."""
    out: dict[str, list[str]] = {}
    safety = adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"]
    by_subject = {str(s): g for s, g in adae.groupby("USUBJID", sort=False)}
    for usubjid in safety:
        group = by_subject.get(str(usubjid))
        n_all = 0 if group is None else len(group)
        teae = None if group is None else group.loc[group["TRTEMFL"] == "Y"]
        if teae is None or teae.empty:
            out[str(usubjid)] = [
                f"ADAE TEAE = none: {n_all} AE(s) recorded, none treatment-emergent"
            ]
            continue
        grades = [int(g) for g in teae["AETOXGR"] if not is_missing(g)]
        top = max(grades) if grades else None
        carrier = (teae.loc[teae["AETOXGR"] == top] if top is not None else teae).iloc[0]
        severe = _seqs(teae, teae["AETOXGR"].fillna(0) >= 3)
        flags = {
            "grade >= 3": severe,
            "serious": _seqs(teae, teae["AESER"] == "Y"),
            "related": _seqs(teae, teae["AEREL"] == "Y"),
            "leading to discontinuation": _seqs(
                teae,
                teae["AEDISCFL"] == "Y"
                if "AEDISCFL" in teae
                else teae["AEACN"] == "DRUG WITHDRAWN",
            ),
        }
        parts = [
            f"{name}: {'Y (' + ', '.join(seqs) + ')' if seqs else 'N'}"
            for name, seqs in flags.items()
        ]
        grade_text = "no grade" if top is None else f"maximum grade {top}"
        out[str(usubjid)] = [
            f"ADAE TEAE = {len(teae)}: {len(teae)} treatment-emergent of {n_all} AE(s); "
            f"{grade_text} (AESEQ {carrier['AESEQ']} {carrier['AEDECOD']}); " + "; ".join(parts)
        ]
    return out


def _seqs(frame: pd.DataFrame, mask: pd.Series) -> list[str]:
    return [f"AESEQ {int(s)}" for s in frame.loc[mask.fillna(False).astype(bool), "AESEQ"]]

"""ADSL, the subject-level analysis dataset (core variables).

CDISC ADaM IG 1.3 section 3.2 names: TRT01P/TRT01A (planned/actual treatment), RANDDT,
TRTSDT/TRTEDT (first/last dose), DTHDT/DTHFL, ITTFL/SAFFL, EOTSTT/DCTREAS (end of
treatment status and reason), EOSSTT/DCSREAS (end of study), LSTALVDT (last date known
alive), DCUTDT. Subject attributes come from SC (one row per subject and attribute) read
with their spec types. Definitions are in docs/DERIVATIONS.md, "ADSL".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.derive._columns import bad_cell
from oncotrial.derive.contracts import parse_date
from oncotrial.spec.models import SubjectAttribute, TrialSpec

TRUE_WORDS = {"TRUE": True, "YES": True, "Y": True, "1": True}
FALSE_WORDS = {"FALSE": False, "NO": False, "N": False, "0": False}
NOT_DISCONTINUED = ("ONGOING",)


def _date(value: Any) -> dt.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def arm_labels(spec: TrialSpec) -> dict[str, str]:
    return {arm.name: arm.label for arm in spec.arms}


def _status(ds: pd.DataFrame, category: str) -> dict[str, tuple[str, str | None]]:
    """USUBJID -> (status, reason) from the DS record of ``category``."""
    out: dict[str, tuple[str, str | None]] = {}
    rows = ds.loc[ds["DSSCAT"] == category]
    for subject, decod in zip(rows["USUBJID"], rows["DSDECOD"], strict=True):
        if decod in NOT_DISCONTINUED:
            out[str(subject)] = ("ONGOING", None)
        else:
            out[str(subject)] = ("DISCONTINUED", str(decod))
    return out


def _last_dose(ex: pd.DataFrame) -> dict[str, dt.date]:
    given = ex.loc[ex["EXDOSE"] > 0]
    if given.empty:
        return {}
    latest = given.groupby("USUBJID")["EXENDTC"].max()
    return {str(k): pd.Timestamp(v).date() for k, v in latest.items()}


def derive_adsl_core(
    frames: dict[str, pd.DataFrame],
    spec: TrialSpec,
    *,
    cutoff: dt.date | None,
    contacts: dict[str, dt.date],
    measurable: dict[str, bool] | None = None,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Core ADSL from the cut raw ``frames`` and the *uncut* last contact dates.

    Returns the frame and a trace per subject (why LSTALVDT, TRTEDT, the flags).
    ``measurable`` (USUBJID -> target disease at the RECIST baseline) sets MEASFL.
    """
    dm = frames["DM"]
    labels = arm_labels(spec)
    last_dose = _last_dose(frames["EX"])
    eot = _status(frames["DS"], "END OF TREATMENT")
    eos = _status(frames["DS"], "END OF STUDY")
    rows: list[dict[str, Any]] = []
    traces: dict[str, list[str]] = {}
    for rec in dm.to_dict(orient="records"):
        subject = str(rec["USUBJID"])
        trace: list[str] = []
        randdt, trtsdt = _date(rec["RANDDT"]), _date(rec["RFSTDTC"])
        dthdt = _date(rec["DTHDTC"])
        trtedt = _date(rec["RFENDTC"])
        if trtsdt is not None and trtedt is None:
            trtedt = last_dose.get(subject)
            if trtedt is not None:
                trace.append(
                    f"TRTEDT {trtedt} = end of the last EX period with a dose > 0 "
                    "(RFENDTC empty: treatment ongoing at the cut)"
                )
        if trtsdt is None:
            trtedt = None
        lstalv: dt.date | None
        if dthdt is not None:
            lstalv = dthdt
            trace.append(f"LSTALVDT = DTHDT {dthdt}")
        else:
            contact = contacts.get(subject)
            lstalv = contact if cutoff is None or contact is None else min(contact, cutoff)
            if contact is not None and cutoff is not None and contact > cutoff:
                trace.append(
                    f"LSTALVDT = cutoff {cutoff}: a record on {contact} shows the "
                    "subject alive on the cutoff day"
                )
            else:
                trace.append(f"LSTALVDT {lstalv} = latest dated record of the subject")
        armcd, actarm = rec["ARMCD"], rec["ACTARMCD"]
        eot_status, eot_reason = eot.get(subject, ("ONGOING" if trtsdt else None, None))
        eos_status, eos_reason = eos.get(subject, ("ONGOING" if randdt else None, None))
        if dthdt is not None:
            eos_status, eos_reason = "DISCONTINUED", "DEATH"
        measfl = None if measurable is None else ("Y" if measurable.get(subject) else "N")
        rows.append(
            {
                "STUDYID": rec["STUDYID"],
                "USUBJID": subject,
                "SITEID": rec["SITEID"],
                "ARMCD": armcd,
                "ARM": rec["ARM"] if rec["ARM"] else labels.get(armcd) if armcd else None,
                "ACTARMCD": actarm,
                "TRT01P": labels.get(armcd) if armcd else None,
                "TRT01A": labels.get(actarm) if actarm and trtsdt else None,
                "RANDDT": randdt,
                "TRTSDT": trtsdt,
                "TRTEDT": trtedt,
                "DTHDT": dthdt,
                "DTHFL": "Y" if dthdt else "N",
                "AGE": rec["AGE"],
                "SEX": rec["SEX"],
                "ITTFL": "Y" if randdt is not None and armcd else "N",
                "SAFFL": "Y" if trtsdt is not None else "N",
                "MEASFL": measfl,
                "EOTSTT": eot_status,
                "DCTREAS": eot_reason,
                "EOSSTT": eos_status,
                "DCSREAS": eos_reason,
                "LSTALVDT": lstalv,
                "DCUTDT": cutoff,
            }
        )
        traces[subject] = trace
    frame = pd.DataFrame(rows)
    for column in ("RANDDT", "TRTSDT", "TRTEDT", "DTHDT", "LSTALVDT", "DCUTDT"):
        frame[column] = pd.to_datetime(frame[column].astype(object)).astype("datetime64[ns]")
    frame["AGE"] = frame["AGE"].astype("Int64")
    attributes = subject_attributes(frames.get("SC"), spec)
    frame = frame.merge(attributes, on="USUBJID", how="left") if not attributes.empty else frame
    for attribute in spec.subject_attributes:
        if attribute.name not in frame.columns:
            frame[attribute.name] = _empty_attribute(attribute, len(frame))
    return frame, traces


# --------------------------------------------------------------------------- attributes


def _empty_attribute(attribute: SubjectAttribute, n: int) -> pd.Series:
    kind = {"number": "float64", "integer": "Int64", "boolean": "boolean"}
    if attribute.type == "date":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    return pd.Series([None] * n, dtype=kind.get(attribute.type, object))


def read_attribute(value: str, attribute: SubjectAttribute) -> Any:
    """One SC value (text) read with its spec type; ValueError says what is valid."""
    text = value.strip()
    if attribute.type == "number":
        number = float(text)
        if not np.isfinite(number):
            raise ValueError("is not a finite number")
        return number
    if attribute.type == "integer":
        if not text.lstrip("+-").isdigit():
            raise ValueError("is not an integer")
        return int(text)
    if attribute.type == "boolean":
        word = text.upper()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("is not a boolean; valid: true, false")
    if attribute.type == "category":
        levels = attribute.levels or []
        for level in levels:
            if level.lower() == text.lower():
                return level
        raise ValueError(f"is not a level of {attribute.name}; valid: {', '.join(levels)}")
    if attribute.type == "date":
        return parse_date(text)
    return text


def subject_attributes(sc: pd.DataFrame | None, spec: TrialSpec) -> pd.DataFrame:
    """SC in wide form: one row per subject, one typed column per spec attribute."""
    if sc is None or sc.empty:
        return pd.DataFrame(columns=["USUBJID"])
    specs = {a.name: a for a in spec.subject_attributes}
    values: dict[str, dict[str, Any]] = {}
    for i, (subject, name, raw) in enumerate(
        zip(sc["USUBJID"], sc["SCTESTCD"], sc["SCORRES"], strict=True)
    ):
        if raw is None or (isinstance(raw, float) and np.isnan(raw)) or str(raw).strip() == "":
            continue
        try:
            value = read_attribute(str(raw), specs[name])
        except ValueError as exc:
            raise bad_cell(
                "SC", "SCORRES", i, raw, f"({name}, type {specs[name].type}) {exc}"
            ) from None
        values.setdefault(str(subject), {})[name] = value
    wide = pd.DataFrame.from_dict(values, orient="index")
    wide.index.name = "USUBJID"
    wide = wide.reset_index()
    for name in wide.columns[1:]:
        attribute = specs[name]
        if attribute.type == "integer":
            wide[name] = wide[name].astype("Int64")
        elif attribute.type == "number":
            wide[name] = wide[name].astype("float64")
        elif attribute.type == "boolean":
            wide[name] = wide[name].astype("boolean")
        elif attribute.type == "date":
            wide[name] = pd.to_datetime(wide[name].astype(object)).astype("datetime64[ns]")
        else:
            wide[name] = wide[name].astype(object)
    return wide

"""Write ``src/oncotrial/data/examples/palmira_interim_pfs.csv``: an interim snapshot of the
PALMIRA-LIKE DEMO DATA, for event prediction ("when will PALMIRA reach 127 events?").

The demo data (``scripts/make_palmira_like.py``, simulated patients, NOT the PALMIRA trial)
hold no calendar dates. Their generator draws each patient's enrolment month uniformly over
36 months; this script replays the generator's random stream (same seed, same draws in the
same order) to recover those enrolment months, checks that the replay reproduces the shipped
``AVAL``/``CNSR`` exactly, and then puts the trial on a HYPOTHETICAL calendar:

* month 0 = 2019-11-01 (an assumed first-patient date); ``RANDDT`` = month 0 + floor(enrolment
  month x 30.4375) days;
* the PFS event or censoring day is ``RANDDT + AVAL - 1`` (ADaM: ``AVAL = ADT - STARTDT + 1``);
* interim data cut-off ``CUTOFF`` (2021-11-01, month 24): only patients randomized by then
  are kept; a patient whose event happened by the cut-off has ``STATUS`` ``event``; one censored
  in the full data before the cut-off dropped out (the full data's administrative censoring is
  at month 42, after the cut-off), ``STATUS`` ``censored``; everyone else is ``ongoing`` with
  ``ADT`` = the cut-off (last contact).

The full data then tell when the 127th event "really" happens (``TRUE_127`` in the output
message), which the prediction from the snapshot can be compared with (docs/SIMULATION.md).

Run from the repository root: ``python scripts/make_palmira_interim.py``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src/oncotrial/data/examples/palmira_interim_pfs.csv"
MONTH0 = dt.date(2019, 11, 1)
CUTOFF = dt.date(2021, 11, 1)


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "make_palmira_like", ROOT / "scripts/make_palmira_like.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def enrolment_months() -> np.ndarray:
    """Replay ``make_palmira_like.make`` draw by draw and return its ``enrolled`` months."""
    g = _generator()
    rng = np.random.default_rng(g.SEED)
    n = g.N_EXPERIMENTAL + g.N_CONTROL
    arm = g.shuffled(rng, {"Palbociclib + ET": g.N_EXPERIMENTAL, "ET": g.N_CONTROL})
    g.shuffled(rng, {"aromatase_inhibitor": g.N_AI, "fulvestrant": n - g.N_AI})
    g.shuffled(rng, {"yes": g.N_VISCERAL, "no": n - g.N_VISCERAL})
    rng.normal(58.0, 11.0, n)
    rng.random(n)
    rng.random(n)
    median = np.array([g.MEDIAN_MONTHS[a] for a in arm])
    rng.exponential(median / np.log(2.0))
    enrolled = rng.uniform(0.0, g.ACCRUAL_MONTHS, n)
    shipped = pd.read_csv(g.OUT)
    remade = g.make()
    assert remade[["USUBJID", "ARM", "AVAL", "CNSR"]].equals(
        shipped[["USUBJID", "ARM", "AVAL", "CNSR"]]
    )
    assert np.array_equal(remade["ARM"].to_numpy(), arm)
    return enrolled


def make() -> tuple[pd.DataFrame, dt.date]:
    """The interim snapshot and the date of the 127th event in the full data."""
    full = pd.read_csv(_generator().OUT)
    months = enrolment_months()
    entry = [MONTH0 + dt.timedelta(days=int(np.floor(m * 30.4375))) for m in months]
    end = [e + dt.timedelta(days=int(a) - 1) for e, a in zip(entry, full["AVAL"], strict=True)]
    event = full["CNSR"].to_numpy() == 0
    true_127 = sorted(d for d, ev in zip(end, event, strict=True) if ev)[126]
    rows = []
    for i in range(len(full)):
        if entry[i] > CUTOFF:
            continue
        if end[i] <= CUTOFF:
            status, adt = ("event" if event[i] else "censored"), end[i]
        else:
            status, adt = "ongoing", CUTOFF
        rows.append(
            {
                "USUBJID": full["USUBJID"].iloc[i],
                "ARM": full["ARM"].iloc[i],
                "RANDDT": entry[i].isoformat(),
                "STATUS": status,
                "ADT": adt.isoformat(),
            }
        )
    frame = pd.DataFrame(rows).sort_values(["RANDDT", "USUBJID"], kind="stable")
    return frame.reset_index(drop=True), true_127


def main() -> None:
    frame, true_127 = make()
    frame.to_csv(OUT, index=False, lineterminator="\n")
    counts = frame["STATUS"].value_counts().to_dict()
    print(f"wrote {len(frame)} patients to {OUT} ({counts}); TRUE_127 = {true_127}")


if __name__ == "__main__":
    main()

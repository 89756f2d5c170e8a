"""Write a synthetic trial's raw domains and truth with the derivation's own writer.

Files go through :func:`oncotrial.derive.datasets.write_dataset` (engineer 5's IO: CSV with
ISO dates and shortest number text, Parquet, SAS transport v8 ``xpt`` or v5 ``xpt5``), so the
generator and ``oncotrial derive`` share one file contract. The truth table is always
``truth.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from oncotrial.derive.datasets import FORMATS, SUFFIX, check_format, write_dataset

if TYPE_CHECKING:
    from oncotrial.synth.trial import SyntheticTrial

__all__ = ["FORMATS", "write_trial"]


def write_trial(trial: SyntheticTrial, out_dir: str | Path, fmt: str = "csv") -> list[Path]:
    """Write ``<domain><suffix>`` per raw domain and ``truth.csv``; return the paths written."""
    chosen = check_format(fmt)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for code, frame in trial.domains.items():
        path = out / f"{code}{SUFFIX[chosen]}"
        write_dataset(frame, path, chosen, name=code.upper())
        written.append(path)
    truth = out / "truth.csv"
    write_dataset(trial.truth, truth, "csv", name="TRUTH")
    written.append(truth)
    return written

"""``derive_trial``: raw trial data to every analysis dataset, a derivation log and traces.

Order: read every raw domain through its contract -> apply the data cut -> ADSL core ->
RECIST responses (ADRS) -> analysis sets, biomarker and IHC flags into ADSL -> ADTTE -> ADAE,
ADLB, ADEX. Every dataset gets STUDYID and DCUTDT, is checked against its contract, and all
files are written at once (:func:`oncotrial.derive.datasets.write_outputs`). The log records
the inputs with their sha256, the spec, the rule sets, the cutoff, what the cut changed,
counts and warnings; ``traces`` keep, per subject, the sentence behind each derived value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from oncotrial import __version__
from oncotrial.derive import biomarkers, exposure, ihc, labs, populations, safety
from oncotrial.derive._columns import is_missing
from oncotrial.derive.adrs import Responses, ResponseSettings, derive_adrs, derive_responses
from oncotrial.derive.adsl import derive_adsl_core
from oncotrial.derive.adtr import derive_adtr
from oncotrial.derive.adtte import Adtte, derive_adtte
from oncotrial.derive.contracts import ADAM, conform
from oncotrial.derive.datacut import DataCut, apply_cutoff, last_contact
from oncotrial.derive.datasets import (
    FORMATS,
    LOG_NAME,
    RawData,
    check_format,
    read_raw,
    write_outputs,
)
from oncotrial.derive.imputation import RawImputation, impute_domains
from oncotrial.derive.options import DerivationOptions, load_options
from oncotrial.derive.subject_traces import adtr_traces, teae_traces
from oncotrial.errors import DataError, InputError
from oncotrial.results import Result, jsonable
from oncotrial.spec import TrialSpec, example_path, load_spec

DATASETS = ("ADSL", "ADTTE", "ADRS", "ADTR", "ADAE", "ADLB", "ADEX")
TRACES_NAME = "traces.json"


@dataclass(frozen=True)
class TrialDerivation(Result):
    """The analysis datasets of one trial, the derivation log and per-subject traces."""

    datasets: dict[str, pd.DataFrame] = field(repr=False)
    log: dict[str, Any]
    traces: dict[str, list[str]] = field(repr=False)
    responses: Responses | None = field(default=None, repr=False)
    adtte: Adtte | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return dict(jsonable(self.log))

    def summary(self) -> str:
        counts = self.log["counts"]
        cut = self.log["cutoff"] or "none"
        lines = [f"Derived {self.log['trial']} (data cut: {cut})"]
        for name in DATASETS:
            if name in counts["rows"]:
                lines.append(f"  {name}: {counts['rows'][name]} rows")
        for paramcd, c in counts.get("events", {}).items():
            lines.append(f"  {paramcd}: {c['events']} events, {c['censored']} censored")
        lines.extend(f"  warning: {w}" for w in self.log["warnings"])
        return "\n".join(lines)


def _spec_of(spec: TrialSpec | str | Path) -> tuple[TrialSpec, dict[str, Any]]:
    if isinstance(spec, TrialSpec):
        return spec, {"trial": spec.trial.id}
    loaded = load_spec(spec)
    path = Path(spec)
    if not path.is_file():
        path = example_path(str(spec))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return loaded, {"path": str(path), "sha256": digest}


def allowed_codes(spec: TrialSpec) -> dict[str, dict[str, list[str]]]:
    """Codes of the raw domains that come from the spec (arms, attributes, agents)."""
    arms = [a.name for a in spec.arms]
    agents = sorted({agent.agent for arm in spec.arms for agent in arm.regimen})
    return {
        "DM": {"ARMCD": arms, "ACTARMCD": arms},
        "SC": {"SCTESTCD": [a.name for a in spec.subject_attributes]},
        "EX": {"EXTRT": agents},
    }


def _parse_cutoff(cutoff: dt.date | str | None) -> dt.date | None:
    if cutoff is None or isinstance(cutoff, dt.date):
        return cutoff
    try:
        return dt.date.fromisoformat(str(cutoff).strip())
    except ValueError:
        raise InputError(
            f"cutoff {cutoff!r} is not a date; use ISO 8601 YYYY-MM-DD",
            argument="cutoff",
            value=str(cutoff),
        ) from None


def _check_subjects(frames: dict[str, pd.DataFrame]) -> None:
    known = set(frames["DM"]["USUBJID"])
    for domain, frame in frames.items():
        if domain == "DM":
            continue
        unknown = ~frame["USUBJID"].isin(known)
        if unknown.any():
            i = int(unknown.to_numpy().nonzero()[0][0])
            raise DataError(
                f"{domain}: row {i + 1}: USUBJID {frame['USUBJID'].iloc[i]!r} is not a subject "
                "of DM",
                dataset=domain,
                row=i + 1,
                column="USUBJID",
                value=str(frame["USUBJID"].iloc[i]),
            )


@dataclass(frozen=True)
class RawTrial:
    """A trial's raw domains read through their contracts, with the spec they are read by."""

    spec: TrialSpec
    spec_info: dict[str, Any]
    raw: RawData
    warnings: tuple[str, ...]
    options: DerivationOptions = field(default_factory=DerivationOptions)


Options = DerivationOptions | str | Path | Mapping[str, object] | None


def read_trial(
    spec: TrialSpec | str | Path, raw_dir: str | Path, *, options: Options = None
) -> RawTrial:
    """Read and check every raw domain of ``raw_dir`` (codes from the spec, subjects in DM).

    ``options`` (:func:`oncotrial.derive.options.load_options`: a YAML file, a mapping or
    :class:`DerivationOptions`; default: the spec's ``derivation.options``, else all off) says
    which date columns may hold partial dates and how they are imputed, and how AE records
    are grouped. Options given here replace the spec's whole."""
    spec, spec_info = _spec_of(spec)
    chosen = load_options(options if options is not None else spec.derivation.options or None)
    partial = {d: chosen.levels(d) for d in {r.domain for r in chosen.date_rules}}
    raw = read_raw(raw_dir, allowed=allowed_codes(spec), partial=partial)
    _check_subjects(raw.frames)
    warnings = [f"optional domain {d} absent: derivations using it skipped" for d in raw.absent]
    studies = sorted(set(raw.frames["DM"]["STUDYID"]))
    if studies != [spec.trial.id]:
        warnings.append(f"DM STUDYID {studies} differs from the spec's trial.id {spec.trial.id!r}")
    return RawTrial(spec, spec_info, raw, tuple(warnings), chosen)


@dataclass(frozen=True)
class Efficacy:
    """The cut data with ADSL, the responses and ADTTE: what event counts need."""

    cut: DataCut
    adsl: pd.DataFrame
    responses: Responses
    adtte: Adtte
    traces: dict[str, list[str]]
    pathology: ihc.IhcFlags | None = None  # IHC flags (optional MI domain)
    imputation: RawImputation | None = None  # partial dates imputed outside AE


def derive_efficacy(trial: RawTrial, cutoff: dt.date | None) -> Efficacy:
    """Data cut, imputation of partial dates (AE excepted, imputed with ADAE), ADSL (with
    analysis sets and biomarker flags), responses and ADTTE."""
    cut = apply_cutoff(trial.raw.frames, cutoff)
    with file_terms(trial.raw, cut):
        imputation = impute_domains(cut.frames, trial.options, cutoff, file_row=cut.file_row)
        cut = dataclasses.replace(cut, frames=imputation.frames)
        return _efficacy(trial, cut, cutoff, imputation)


def _efficacy(
    trial: RawTrial, cut: DataCut, cutoff: dt.date | None, imputation: RawImputation
) -> Efficacy:
    spec, frames_in = trial.spec, trial.raw.frames
    frames = cut.frames
    traces: dict[str, list[str]] = {}
    _add_traces(traces, imputation.traces())
    adsl, adsl_traces = derive_adsl_core(
        frames, spec, cutoff=cutoff, contacts=last_contact(frames_in)
    )
    _add_traces(traces, {s: [f"ADSL {t}" for t in lines] for s, lines in adsl_traces.items()})
    sets = populations.analysis_sets(frames["DM"], frames["EX"], frames["TR"])
    flags = ["ITTFL", "SAFFL", "MEASFL"]
    order = list(adsl.columns)
    adsl = adsl.drop(columns=flags).merge(sets.data[["USUBJID", *flags]], on="USUBJID")
    adsl = adsl[order]
    _add_subject_traces(traces, sets.traces)
    if "GF" in frames:
        markers = biomarkers.derive_biomarker_flags(frames["GF"], adsl["USUBJID"])
        adsl = adsl.merge(markers.data, on="USUBJID", how="left")
        _add_subject_traces(traces, markers.traces)
    pathology = None
    if "MI" in frames:
        pathology = ihc.derive_ihc_flags(frames["MI"], adsl)
        adsl = adsl.merge(pathology.data, on="USUBJID", how="left")
        _add_subject_traces(traces, pathology.traces)

    settings = ResponseSettings.from_spec(spec)
    responses = derive_responses(frames, adsl, settings)
    _add_traces(traces, {s: [f"ADRS {x}" for x in v] for s, v in responses.ovr_traces.items()})
    for label, bor in (("BOR", responses.confirmed), ("BORU", responses.unconfirmed)):
        for s in bor.subjects if bor else ():
            traces.setdefault(s.usubjid, []).append(f"ADRS {label} = {s.bor}: {s.trace}")
    for b in responses.benefit.subjects if responses.benefit else ():
        traces.setdefault(b.usubjid, []).append(
            f"ADRS CBR = {'Y' if b.benefit else 'N'}: {b.trace}"
        )
    adtte = derive_adtte(spec, adsl, responses, frames)
    for o in adtte.outcomes:
        traces.setdefault(o.usubjid, []).append(f"ADTTE {o.trace}")
    return Efficacy(cut, adsl, responses, adtte, traces, pathology, imputation)


def derive_datasets(
    spec: TrialSpec | str | Path,
    raw_dir: str | Path,
    *,
    cutoff: dt.date | str | None = None,
    options: Options = None,
) -> TrialDerivation:
    """Every analysis dataset of the trial in ``raw_dir`` (nothing written); ``options``
    as :func:`read_trial`."""
    cut_date = _parse_cutoff(cutoff)
    trial = read_trial(spec, raw_dir, options=options)
    eff = derive_efficacy(trial, cut_date)
    with file_terms(trial.raw, eff.cut):
        return _finish_all(trial, eff, cut_date, list(trial.warnings))


def _finish_all(
    trial: RawTrial, eff: Efficacy, cut_date: dt.date | None, warnings: list[str]
) -> TrialDerivation:
    """ADRS, ADTR, ADAE, ADLB, ADEX on top of the efficacy part; every dataset finished."""
    spec, raw = trial.spec, trial.raw
    cut, adsl, responses, adtte, traces = eff.cut, eff.adsl, eff.responses, eff.adtte, eff.traces
    frames = cut.frames
    settings = responses.settings
    adrs = derive_adrs(responses, adsl)
    warnings.extend(adtte.warnings)

    adtr = derive_adtr(responses.recist, adsl, visits=responses.visits)
    _add_traces(traces, adtr_traces(adtr))
    datasets: dict[str, pd.DataFrame] = {
        "ADSL": adsl,
        "ADTTE": adtte.frame,
        "ADRS": adrs,
        "ADTR": adtr,
    }
    window = spec.derivation.teae_window_days
    adae = safety.derive_adae(
        frames["AE"], adsl, window_days=window, options=trial.options, cutoff=cut_date
    )
    datasets["ADAE"] = adae.to_frame()
    _add_subject_traces(traces, adae.traces)
    _add_traces(traces, teae_traces(datasets["ADAE"], adsl))
    if "LB" in frames:
        adlb = labs.derive_adlb(frames["LB"], adsl, window_days=window)
        datasets["ADLB"] = adlb.to_frame()
        _add_subject_traces(traces, adlb.traces)
    adex = exposure.derive_adex(
        frames["EX"],
        adsl,
        plans=exposure.dose_plans(spec),
        starting_dose=spec.derivation.starting_dose,
        planned_period=spec.derivation.planned_period,
        arm_column="ACTARMCD",
    )
    datasets["ADEX"] = adex.to_frame()
    _add_subject_traces(traces, adex.traces)

    datasets = {name: _finish(name, frame, adsl, cut_date) for name, frame in datasets.items()}
    log = _log(spec, trial.spec_info, raw, cut, settings, adtte, datasets, warnings)
    if eff.pathology is not None:
        log["settings"]["ihc"] = eff.pathology.settings()
    log["settings"]["options"] = _options_log(trial.options, eff.imputation, datasets["ADAE"])
    return TrialDerivation(datasets, log, traces, responses, adtte)


def _options_log(
    options: DerivationOptions, imputation: RawImputation | None, adae: pd.DataFrame
) -> dict[str, Any]:
    """The derivation options and how many dates each imputed column got, by flag."""
    counts = dict(imputation.counts()) if imputation is not None else {}
    for column, flag in (("AESTDTC", "ASTDTF"), ("AEENDTC", "AENDTF")):
        if flag in adae.columns:
            flags = adae[flag].dropna().value_counts()
            counts[f"AE.{column}"] = {str(k): int(v) for k, v in sorted(flags.items())}
    return {**options.to_dict(), "imputed": counts}


@contextmanager
def file_terms(raw: RawData, cut: DataCut) -> Iterator[None]:
    """Re-raise a :class:`DataError` of a derivation in the terms of the raw file: the
    dataset named with its file and the row of the file, even when the data cut removed
    rows before it (the derivations see the cut frames)."""
    try:
        yield
    except DataError as error:
        raise _in_file_terms(error, raw, cut) from None


def _in_file_terms(error: DataError, raw: RawData, cut: DataCut) -> DataError:
    named = str(error.details.get("dataset", ""))
    domain = named.split(" ")[0]
    row = error.details.get("row")
    if domain not in raw.files or named != domain:
        return error
    file_name = Path(raw.files[domain]["path"]).name
    message = f"{domain} ({file_name})" + error.message.removeprefix(domain)
    details = {**error.details, "dataset": f"{domain} ({file_name})"}
    if isinstance(row, int) and cut.file_row(domain, row) != row:
        details["row"] = cut.file_row(domain, row)
        message = message.replace(f"row {row}:", f"row {details['row']}:", 1)
        message += f" (row {row} of the data cut at {cut.cutoff})"
    return DataError(message, **details)


def _add_traces(traces: dict[str, list[str]], new: dict[str, list[str]]) -> None:
    for subject, lines in new.items():
        traces.setdefault(subject, []).extend(lines)


def _add_subject_traces(traces: dict[str, list[str]], items: Sequence[Any]) -> None:
    for t in items:
        key = f" [{t.key}]" if t.key else ""
        traces.setdefault(t.usubjid, []).append(
            f"{t.dataset} {t.variable}{key} = {t.value or '(empty)'}: {t.text}"
        )


def _finish(
    name: str, frame: pd.DataFrame, adsl: pd.DataFrame, cutoff: dt.date | None
) -> pd.DataFrame:
    """Add STUDYID, ARMCD and DCUTDT where absent, put keys first, check the contract."""
    frame = frame.copy()
    if "ARMCD" not in frame.columns:
        frame = frame.merge(adsl[["USUBJID", "ARMCD"]], on="USUBJID", how="left")
    if "STUDYID" not in frame.columns:
        frame = frame.merge(adsl[["USUBJID", "STUDYID"]], on="USUBJID", how="left")
    frame["DCUTDT"] = pd.Series(
        pd.Timestamp(cutoff) if cutoff else pd.NaT, index=frame.index, dtype="datetime64[ns]"
    )
    first = ["STUDYID", "USUBJID"]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    checked = conform(frame, ADAM[name], dataset=f"{name} (derived)")
    return normalize_types(checked)


def normalize_types(frame: pd.DataFrame) -> pd.DataFrame:
    """One representation per kind of column in every written dataset.

    The contract columns are typed by :func:`conform` (dates ``datetime64[ns]``, text
    ``object`` with None). Extra columns follow the same rule: a column of ``datetime.date``
    objects (what the safety derivations return) becomes ``datetime64[ns]`` with NaT, so that
    every format writes it as a date (CSV ISO text, Parquet date, SAS ``DATE9.``); pandas
    ``string`` columns become ``object`` with None.
    """
    out = frame.copy()
    for name in out.columns:
        series = out[name]
        if isinstance(series.dtype, pd.StringDtype):
            out[name] = pd.Series(
                [None if pd.isna(v) else str(v) for v in series], index=out.index, dtype=object
            )
        elif series.dtype == object and _all_dates(series):
            out[name] = pd.to_datetime(series.astype(object)).astype("datetime64[ns]")
    return out


def _all_dates(series: pd.Series) -> bool:
    values = [v for v in series if not is_missing(v)]
    return bool(values) and all(isinstance(v, dt.date) for v in values)


def _counts(datasets: dict[str, pd.DataFrame]) -> dict[str, Any]:
    adsl = datasets["ADSL"]
    out: dict[str, Any] = {
        "rows": {name: len(frame) for name, frame in datasets.items()},
        "subjects": {
            "screened": len(adsl),
            "ITT": int((adsl["ITTFL"] == "Y").sum()),
            "safety": int((adsl["SAFFL"] == "Y").sum()),
            "measurable": int((adsl["MEASFL"] == "Y").sum()),
        },
    }
    adtte = datasets["ADTTE"]
    events: dict[str, Any] = {}
    for paramcd, group in adtte.groupby("PARAMCD", sort=False):
        events[str(paramcd)] = {
            "events": int((group["CNSR"] == 0).sum()),
            "censored": int((group["CNSR"] > 0).sum()),
            "by_rule": {str(k): int(v) for k, v in group["SRCRULE"].value_counts().items()},
            "by_arm": {str(arm): int((g["CNSR"] == 0).sum()) for arm, g in group.groupby("ARMCD")},
        }
    out["events"] = events
    return out


def _log(
    spec: TrialSpec,
    spec_info: dict[str, Any],
    raw: RawData,
    cut: DataCut,
    settings: ResponseSettings,
    adtte: Adtte,
    datasets: dict[str, pd.DataFrame],
    warnings: list[str],
) -> dict[str, Any]:
    return {
        "oncotrial_version": __version__,
        "trial": spec.trial.id,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "spec": spec_info,
        "inputs": raw.files,
        "absent_domains": list(raw.absent),
        "ignored_files": list(raw.ignored),
        "cutoff": None if cut.cutoff is None else cut.cutoff.isoformat(),
        "data_cut": cut.to_dict(),
        "settings": {
            "derivation": spec.derivation.model_dump(),
            "responses": jsonable(settings),
        },
        "endpoints": [
            {
                "paramcd": p.paramcd,
                "origin": p.origin,
                "declared_in_spec": p.declared,
                "rule_set": None if p.rules is None else p.rules.model_dump(),
            }
            for p in adtte.plans
        ],
        "counts": _counts(datasets),
        "warnings": warnings,
    }


def derive_trial(
    spec: TrialSpec | str | Path,
    raw_dir: str | Path,
    out_dir: str | Path,
    *,
    cutoff: dt.date | str | None = None,
    formats: str | Sequence[str] = ("csv",),
    options: Options = None,
) -> TrialDerivation:
    """Derive every analysis dataset and write them to ``out_dir`` in ``formats``
    (csv, parquet, xpt = SAS transport v8, xpt5 = v5) with ``derivation_log.json`` and
    ``traces.json``. All files appear together or not at all."""
    chosen = [formats] if isinstance(formats, str) else list(formats)
    for fmt in chosen:
        check_format(fmt)
    if not chosen or ("xpt" in chosen and "xpt5" in chosen):
        raise InputError(
            f"formats {chosen}: give one or more of {', '.join(FORMATS)} (xpt and xpt5 share "
            "the .xpt suffix; choose one)",
            argument="formats",
            value=chosen,
        )
    result = derive_datasets(spec, raw_dir, cutoff=cutoff, options=options)
    log = dict(result.log)
    log["formats"] = chosen
    log["outputs"] = [f"{n.lower()}{_suffix(f)}" for f in chosen for n in result.datasets]
    name_maps = write_outputs(
        out_dir,
        result.datasets,
        chosen,
        texts_fn=lambda maps: {
            LOG_NAME: json.dumps(jsonable({**log, "xpt5_names": maps}), indent=2) + "\n",
            TRACES_NAME: json.dumps(result.traces, indent=1) + "\n",
        },
    )
    log["xpt5_names"] = name_maps
    return TrialDerivation(result.datasets, log, result.traces, result.responses, result.adtte)


def _suffix(fmt: str) -> str:
    from oncotrial.derive.datasets import SUFFIX

    return SUFFIX[fmt]

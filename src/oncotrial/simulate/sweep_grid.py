"""A grid of scenarios: a base trial and axes of true parameters, read from YAML.

Grid YAML (example: ``src/oncotrial/simulate/examples/palmira_grid.yaml``)::

    name: PALMIRA operating characteristics
    base:
      spec: palmira            # a spec path (relative to this file) or a shipped example name
      cohort: null             # optional cohort id
      assume: {median_control: 3.6, accrual_months: 36}   # as scenario_from_spec's assume
    axes:                      # every combination is one grid point (first axis slowest)
      hazard_ratio: [0.5, 0.59, 0.7, 1.0]
      accrual_rate: [4, 5.5, 8]
      median_control: [3.6, 4.9]
    n_sim: 10000
    seed: 20240501

Instead of ``spec``, ``base`` may give a scenario directly: ``scenario: {n, allocation:
[experimental, control], accrual_rate | accrual_months, median_control, hazard_ratio,
events, alpha, sides, test, dropout_hazard}`` (one analysis at ``events`` events).

Axes change the TRUE parameters of the simulated trial; the design (analysis times in events,
bounds, test) stays as planned -- a sweep shows how the planned design behaves when the truth
differs from the planning assumptions. Axes (time unit of the base scenario, months for
spec-based scenarios), applied in this order:

* ``n``: number of patients (the accrual rate is kept);
* ``median_control``: exponential control arm with this median; the experimental arm keeps
  the base hazard ratio (the base must have proportional hazards);
* ``hazard_ratio``: experimental hazards = control hazards x this ratio;
* ``accrual_rate``: one constant entry rate (patients per time unit);
* ``accrual_months``: uniform accrual of the ``n`` patients over this duration;
* ``dropout_hazard``: exponential dropout hazard per time unit.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from oncotrial.design.effect import PiecewiseExponential, hazard_from_median
from oncotrial.errors import InputError, OncotrialError, SpecError, describe_value
from oncotrial.simulate import (
    Accrual,
    AnalysisPlan,
    Randomization,
    Scenario,
    Statistic,
    scenario_from_spec,
)


def _base_hr(scenario: Scenario) -> float:
    """The constant hazard ratio of a proportional-hazards scenario."""
    c, e = scenario.control, scenario.experimental
    ratios = {round(he / hc, 12) for hc, he in zip(c.hazards, e.hazards, strict=True) if hc > 0}
    if c.starts != e.starts or len(ratios) != 1:
        raise InputError(
            "axis median_control needs a base scenario with proportional hazards (one hazard "
            "ratio); add a hazard_ratio axis or use a proportional base",
            argument="axes.median_control",
        )
    return ratios.pop()


def _median_control(s: Scenario, v: float) -> Scenario:
    hr = _base_hr(s)
    control = PiecewiseExponential.exponential(hazard_from_median(v, "median_control"))
    return dataclasses.replace(s, control=control, experimental=control.scaled(hr))


def _hazard_ratio(s: Scenario, v: float) -> Scenario:
    if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
        raise InputError(f"hazard_ratio = {describe_value(v)} is invalid; use a number > 0")
    return dataclasses.replace(s, experimental=s.control.scaled(float(v)))


AXES: dict[str, Callable[[Scenario, Any], Scenario]] = {
    "n": lambda s, v: dataclasses.replace(s, n=v),
    "median_control": _median_control,
    "hazard_ratio": _hazard_ratio,
    "accrual_rate": lambda s, v: dataclasses.replace(
        s, accrual=Accrual((0.0,), (v,), s.accrual.entry)
    ),
    "accrual_months": lambda s, v: dataclasses.replace(
        s, accrual=Accrual.uniform(v, s.n, s.accrual.entry)
    ),
    "dropout_hazard": lambda s, v: dataclasses.replace(s, dropout_hazard=v),
}


@dataclass(frozen=True)
class Grid:
    """A base scenario, axes of values, and the simulation size and master seed."""

    base: Scenario
    axes: tuple[tuple[str, tuple[Any, ...]], ...]
    n_sim: int
    seed: int
    name: str = "sweep"

    def __post_init__(self) -> None:
        if not self.axes:
            raise SpecError("axes: give at least one axis", field="axes", valid=list(AXES))
        for name, values in self.axes:
            if name not in AXES:
                raise SpecError(
                    f"axes.{name}: unknown axis; valid axes are {', '.join(AXES)}",
                    field=f"axes.{name}",
                    value=name,
                    valid=list(AXES),
                )
            if not values:
                raise SpecError(f"axes.{name}: give at least one value", field=f"axes.{name}")
        _int(self.n_sim, "n_sim", 1)
        _int(self.seed, "seed", 0)

    @property
    def points(self) -> list[dict[str, Any]]:
        """Parameters of every grid point, in grid-index order (first axis slowest)."""
        names = [n for n, _ in self.axes]
        return [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(v for _, v in self.axes))
        ]

    def scenario(self, params: Mapping[str, Any]) -> Scenario:
        """The base scenario with the axes' values applied (in the module's order)."""
        s = self.base
        for name, apply in AXES.items():
            if name in params:
                try:
                    s = apply(s, params[name])
                except OncotrialError as exc:
                    raise SpecError(
                        f"axes.{name} = {describe_value(params[name])}: {exc.message}",
                        field=f"axes.{name}",
                        value=describe_value(params[name]),
                    ) from None
        label = ", ".join(f"{k}={v}" for k, v in params.items())
        return dataclasses.replace(s, name=f"{self.base.name} [{label}]")


def _int(value: Any, field: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(
            f"{field} = {describe_value(value)} is invalid; use an integer >= {minimum}",
            field=field,
            value=describe_value(value),
        )
    return value


_SCENARIO_KEYS = (
    "n", "allocation", "accrual_rate", "accrual_months", "median_control", "hazard_ratio",
    "events", "alpha", "sides", "test", "dropout_hazard", "name",
)  # fmt: skip


def scenario_from_mapping(block: Mapping[str, Any], where: str = "base.scenario") -> Scenario:
    """A fixed-design scenario from the compact mapping of the module docstring."""
    unknown = sorted(set(block) - set(_SCENARIO_KEYS))
    if unknown:
        raise SpecError(
            f"{where}: unknown key(s) {unknown}; valid keys are {', '.join(_SCENARIO_KEYS)}",
            field=where,
            value=unknown,
            valid=list(_SCENARIO_KEYS),
        )
    missing = [k for k in ("n", "median_control", "hazard_ratio", "events") if k not in block]
    if ("accrual_rate" in block) == ("accrual_months" in block):
        missing.append("accrual_rate or accrual_months (one of them)")
    if missing:
        raise SpecError(f"{where}: missing {', '.join(missing)}", field=where, value=missing)
    try:
        n = int(block["n"])
        control = PiecewiseExponential.exponential(hazard_from_median(block["median_control"]))
        accrual = (
            Accrual((0.0,), (float(block["accrual_rate"]),))
            if "accrual_rate" in block
            else Accrual.uniform(float(block["accrual_months"]), n)
        )
        allocation = tuple(block.get("allocation", (1, 1)))
        return Scenario(
            n=n,
            accrual=accrual,
            control=control,
            experimental=control.scaled(float(block["hazard_ratio"])),
            plan=AnalysisPlan.fixed(
                int(block["events"]),
                alpha=float(block.get("alpha", 0.05)),
                sides=int(block.get("sides", 2)),
            ),
            allocation=(int(allocation[0]), int(allocation[1])),
            test=Statistic(str(block.get("test", "logrank"))),
            randomization=Randomization("simple"),
            dropout_hazard=float(block.get("dropout_hazard", 0.0)),
            name=str(block.get("name", "scenario")),
        )
    except OncotrialError as exc:
        raise SpecError(f"{where}: {exc.message}", field=where, **exc.details) from None
    except (TypeError, ValueError, IndexError) as exc:
        raise SpecError(f"{where}: invalid value ({exc})", field=where) from None


def _base(block: Any, folder: Path) -> Scenario:
    if not isinstance(block, Mapping):
        raise SpecError("base: give a mapping with spec or scenario", field="base")
    if ("spec" in block) == ("scenario" in block):
        raise SpecError("base: give exactly one of spec or scenario", field="base")
    if "scenario" in block:
        return scenario_from_mapping(block["scenario"])
    spec = str(block["spec"])
    path = folder / spec
    source: str | Path = path if path.is_file() else spec  # else a shipped example name
    scenario = scenario_from_spec(source, cohort=block.get("cohort"), assume=block.get("assume"))
    if not isinstance(scenario, Scenario):
        raise SpecError(
            f"base.spec: {spec!r} has a single-arm design; sweeps vary two-arm "
            "time-to-event designs (simulate a single-arm design with 'oncotrial simulate')",
            field="base.spec",
            value=spec,
        )
    return scenario


def grid_from_mapping(doc: Mapping[str, Any], folder: Path | None = None) -> Grid:
    """A :class:`Grid` from a parsed grid document (relative spec paths from ``folder``)."""
    if not isinstance(doc, Mapping):
        raise SpecError("grid: the document must be a mapping", field="grid")
    unknown = sorted(set(doc) - {"name", "base", "axes", "n_sim", "seed"})
    if unknown:
        raise SpecError(
            f"grid: unknown key(s) {unknown}; valid: name, base, axes, n_sim, seed",
            field="grid",
            value=unknown,
        )
    axes = doc.get("axes")
    if not isinstance(axes, Mapping):
        raise SpecError("axes: give a mapping axis -> list of values", field="axes")
    pairs: list[tuple[str, tuple[Any, ...]]] = []
    for name, values in axes.items():
        if not isinstance(values, Sequence) or isinstance(values, str):
            values = [values]
        pairs.append((str(name), tuple(values)))
    for key in ("n_sim", "seed"):
        if key not in doc:
            raise SpecError(f"grid: {key} is required", field=key)
    return Grid(
        base=_base(doc.get("base"), folder or Path.cwd()),
        axes=tuple(pairs),
        n_sim=doc["n_sim"],
        seed=doc["seed"],
        name=str(doc.get("name", "sweep")),
    )


def load_grid(path: str | Path) -> Grid:
    """Read a grid YAML file (module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: grid file not found", file=str(path))
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: invalid YAML ({exc})", file=str(path)) from None
    return grid_from_mapping(doc, path.parent)

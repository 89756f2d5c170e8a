"""oncotrial.simulate engine: statistics equal the statistics core on the same simulated
trials, reproducibility across chunking and workers, randomization, validation, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from oncotrial.cli import main
from oncotrial.errors import InputError, SpecError
from oncotrial.simulate import (
    Accrual,
    AnalysisPlan,
    Look,
    PiecewiseExponential,
    Randomization,
    Scenario,
    Statistic,
    StratumFactor,
    block_seed,
    scenario_from_spec,
    simulate,
    simulate_block,
)
from oncotrial.simulate.engine import analysis_cuts, draw_patients, set_code, sort_look
from oncotrial.simulate.single_arm import SingleArmScenario
from oncotrial.simulate.spec import scenario_from_block
from oncotrial.spec import load_spec
from oncotrial.stats.cox import cox
from oncotrial.stats.km import kaplan_meier
from oncotrial.stats.logrank import logrank

LN2 = math.log(2.0)


def _scenario(test: Statistic | None = None, **kw: object) -> Scenario:
    base: dict[str, object] = dict(
        n=120,
        accrual=Accrual((0.0, 6.0), (8.0, 16.0)),
        control=PiecewiseExponential((0.0, 3.0), (LN2 / 8, LN2 / 10)),
        experimental=PiecewiseExponential((0.0, 3.0), (LN2 / 8, 0.6 * LN2 / 10)),
        plan=AnalysisPlan((Look(events=40), Look(events=80)), (2.8, 1.97), (0.0, 1.97), 1, 0.025),
        allocation=(2, 1),
        test=test or Statistic("logrank"),
        strata=(
            StratumFactor("visceral", ("yes", "no"), (0.4, 0.6), (1.5, 1.0)),
            StratumFactor("prior", ("ai", "fulv", "none"), (0.5, 0.3, 0.2)),
        ),
        randomization=Randomization("blocks", (3, 6)),
        dropout_hazard=0.01,
    )
    base.update(kw)
    return Scenario(**base)  # type: ignore[arg-type]


def _looks(sc: Scenario, seed: int, n_rep: int) -> list:
    """The analysed data of each look, rebuilt with the engine's own steps."""
    rng = np.random.Generator(np.random.PCG64(block_seed(seed, 0)))
    pts = draw_patients(sc, rng, n_rep)
    cal = np.where(pts.event, pts.entry + pts.time, np.inf)
    cuts, _ = analysis_cuts(sc, pts, cal)
    set_code(sc, pts)
    return [sort_look(sc, pts, cal, cuts[:, j]) for j in range(cuts.shape[1])], pts


CASES = [
    Statistic("logrank"),
    Statistic("stratified-logrank"),
    Statistic("fh", rho=0.0, gamma=1.0),
    Statistic("fh", rho=1.0, gamma=0.5, stratified=True),
    Statistic("cox-wald"),
    Statistic("cox-wald", stratified=True),
]


@pytest.mark.parametrize("test", CASES, ids=lambda t: t.label)
def test_engine_statistic_equals_statistics_core(test: Statistic) -> None:
    sc = _scenario(test)
    n_rep = 40
    rec = simulate_block(sc, block_seed(11, 0), n_rep)
    looks, _ = _looks(sc, 11, n_rep)
    assert looks[0].stratum is not None or not test.stratified
    for j, lk in enumerate(looks):
        for row in range(0, n_rep, 7):
            keep = lk.time[row] >= 0
            t, e, a = lk.time[row][keep], lk.event[row][keep], lk.arm[row][keep]
            strata = lk.stratum[row][keep] if test.stratified else None
            if test.kind == "cox-wald":
                # oncotrial.stats.cox stops as R coxph does (relative change of the log
                # likelihood < 1e-9): its estimate is within ~1e-9 of the root the engine
                # reaches to 1e-12, and its SE comes from the last iterate's information
                fit = cox(t, e, {"arm": a}, strata=strata, ties="breslow")
                expected_z, tol = fit.terms[0].z, 1e-7
                assert rec.log_hr[row, j] == pytest.approx(fit.terms[0].coef, abs=tol)
            else:
                res = logrank(t, e, a, strata=strata, rho=test.rho, gamma=test.gamma)
                expected_z, tol = res.z, 1e-10
            assert -rec.z[row, j] == pytest.approx(expected_z, abs=tol)
            assert rec.events[row, j] == int(e.sum())
            for arm in (0, 1):
                km = kaplan_meier(t[a == arm], e[a == arm])
                got = rec.median[row, j, arm]
                assert (np.isnan(got) and np.isnan(km.median)) or got == pytest.approx(
                    km.median, abs=1e-10
                )


FAST_CASES = {
    "two looks, strata, dropout, piecewise": {},
    "n > 255, calendar looks during accrual": dict(
        n=300,
        strata=(),
        plan=AnalysisPlan((Look(time=12.0), Look(time=40.0)), (2.8, 1.97), (0.0, 1.97), 1, 0.025),
        randomization=Randomization("simple"),
    ),
    "regular entry, fixed pattern (rpact's model)": dict(
        n=198,
        strata=(),
        dropout_hazard=0.0,
        accrual=Accrual.uniform(24.0, 198, entry="regular"),
        control=PiecewiseExponential.exponential(LN2 / 6),
        experimental=PiecewiseExponential.exponential(0.59 * LN2 / 6),
        plan=AnalysisPlan.fixed(127),
        randomization=Randomization("fixed"),
    ),
}


@pytest.mark.parametrize("case", list(FAST_CASES))
def test_logrank_only_path_equals_statistics_core(case: str) -> None:
    """estimates=False takes the suffix-count log-rank (statistics.logrank_sorted)."""
    sc = _scenario(Statistic("logrank"), **FAST_CASES[case])
    n_rep = 40
    fast = simulate_block(sc, block_seed(12, 0), n_rep, estimates=False)
    full = simulate_block(sc, block_seed(12, 0), n_rep, estimates=True)
    np.testing.assert_allclose(fast.z, full.z, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fast.events, full.events)
    np.testing.assert_array_equal(fast.enrolled, full.enrolled)
    assert fast.log_hr is None and fast.median is None
    looks, _ = _looks(sc, 12, n_rep)
    for j, lk in enumerate(looks):
        for row in range(0, n_rep, 3):
            keep = lk.time[row] >= 0
            t, e, a = lk.time[row][keep], lk.event[row][keep], lk.arm[row][keep]
            assert fast.enrolled[row, j] == keep.sum()
            assert -fast.z[row, j] == pytest.approx(logrank(t, e, a).z, abs=1e-10)
            assert fast.events[row, j] == int(e.sum())


def test_dask_chunks_are_even_across_workers() -> None:
    from oncotrial.simulate.runner import blocks_per_chunk

    # 100 blocks of 1000 on 2 workers: 8 tasks of 13 blocks (not 5 of 20: a 3-2 split)
    assert blocks_per_chunk(100, 1000, None, 2) == 13
    assert blocks_per_chunk(100, 1000, 5_000, 2) == 5  # an explicit chunk size wins
    assert blocks_per_chunk(100, 1000, None, 0) == 20  # in process: 20,000 trials
    assert blocks_per_chunk(10_000, 1000, None, 2) == 100  # capped at 100,000 trials


def test_cut_is_the_kth_event_and_censors_at_it() -> None:
    sc = _scenario(Statistic("logrank"))
    rec = simulate_block(sc, block_seed(5, 0), 30)
    looks, pts = _looks(sc, 5, 30)
    cal = np.where(pts.event, pts.entry + pts.time, np.inf)
    for j, target in enumerate((40, 80)):
        assert np.all(rec.events[:, j] == target)
        assert np.allclose(rec.cut[:, j], np.sort(cal, axis=1)[:, target - 1])
        # every observed time ends by the cut
        lk = looks[j]
        for row in range(30):
            keep = lk.time[row] >= 0
            entry = np.sort(pts.entry[row])[: keep.sum()]
            assert np.max(lk.time[row][keep]) <= rec.cut[row, j] - entry.min() + 1e-9


def test_same_seed_same_trials_whatever_chunking_and_workers() -> None:
    from distributed import Client, LocalCluster

    sc = _scenario(
        Statistic("stratified-logrank"), n=60, plan=AnalysisPlan.fixed(30, alpha=0.05, sides=2)
    )
    a = simulate(sc, 7_777, seed=42, chunk_size=1)
    b = simulate(sc, 7_777, seed=42, chunk_size=5_000)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        c = simulate(sc, 7_777, seed=42, chunk_size=2_000, client=client)
    for other in (b, c):
        assert other.records is not None and a.records is not None
        for name in ("z", "cut", "events", "enrolled", "log_hr", "median", "reached"):
            np.testing.assert_array_equal(getattr(a.records, name), getattr(other.records, name))
        assert other.power == a.power
    assert c.workers == 2
    d = simulate(sc, 7_777, seed=43)
    assert not np.array_equal(a.records.z, d.records.z)  # type: ignore[union-attr]


def test_permuted_blocks_balance_within_strata() -> None:
    sc = _scenario(Statistic("logrank"), randomization=Randomization("blocks", (3, 6)))
    rng = np.random.Generator(np.random.PCG64(block_seed(3, 0)))
    pts = draw_patients(sc, rng, 200)
    for s in range(sc.n_strata):
        mine = pts.stratum == s
        n_s = mine.sum(axis=1)
        n_exp = (mine & (pts.arm == 1)).sum(axis=1)
        # complete blocks are exactly 2:1; only the last (partial) block can be off
        assert np.all(np.abs(n_exp - 2 * n_s / 3) <= 6 * 2 / 3)
        # every prefix too (blocks are filled in entry order)
        prefix_exp = np.cumsum(mine & (pts.arm == 1), axis=1)
        prefix_n = np.cumsum(mine, axis=1)
        assert np.all(np.abs(prefix_exp - 2 * prefix_n / 3) <= 4)
    assert abs(pts.arm.mean() - 2 / 3) < 0.01


def test_fixed_pattern_and_regular_entry_are_rpacts() -> None:
    sc = _scenario(
        Statistic("logrank"),
        n=7,
        strata=(),
        dropout_hazard=0.0,
        accrual=Accrual.uniform(14.0, 7, entry="regular"),
        randomization=Randomization("fixed"),
        plan=AnalysisPlan.fixed(5),
    )
    pts = draw_patients(sc, np.random.default_rng(1), 2)
    np.testing.assert_array_equal(pts.arm[0], [1, 1, 0, 1, 1, 0, 1])
    np.testing.assert_allclose(pts.entry[1], [2, 4, 6, 8, 10, 12, 14])


def test_piecewise_event_times_follow_the_hazards() -> None:
    model = PiecewiseExponential((0.0, 2.0, 5.0), (0.1, 0.0, 0.4))
    from oncotrial.simulate.engine import inverse_cumulative_hazard

    h = np.array([0.0, 0.1, 0.19, 0.2000001, 1.4])
    t = inverse_cumulative_hazard(model, h)
    np.testing.assert_allclose(t, [0.0, 1.0, 1.9, 5.0 + 1e-7 / 0.4, 5.0 + 1.2 / 0.4], rtol=1e-9)
    np.testing.assert_allclose(model.cumulative_hazard(t), h, rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n": 0}, "n"),
        ({"allocation": (2, 0)}, "allocation[1]"),
        ({"randomization": Randomization("blocks", (4,))}, "randomization.block_sizes[0]"),
        ({"dropout_hazard": -1.0}, "dropout_hazard"),
        ({"strata": (), "test": Statistic("stratified-logrank")}, "test"),
    ],
)
def test_scenario_errors_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        _scenario(**kwargs)
    assert info.value.details["field"] == field
    assert field in info.value.message


def test_component_errors_name_the_field() -> None:
    with pytest.raises(InputError, match=r"strata\[v\]\.prevalences"):
        StratumFactor("v", ("a", "b"), (0.5, 0.6))
    with pytest.raises(InputError, match=r"accrual\.rates"):
        Accrual((0.0, 2.0), (1.0,))
    with pytest.raises(InputError, match=r"test\.kind"):
        Statistic("wilcoxon")
    with pytest.raises(InputError, match=r"plan\.looks"):
        AnalysisPlan((Look(events=50), Look(events=40)), (3, 2), (0, 2))
    with pytest.raises(InputError, match="n_sim"):
        simulate(_scenario(Statistic("logrank")), 0, seed=1)


def test_spec_scenarios_and_the_single_arm_spec() -> None:
    pal = scenario_from_spec("palmira")
    assert pal.n == 198 and pal.allocation == (2, 1)
    assert pal.plan.looks == (Look(events=127),)
    assert pal.test.kind == "stratified-logrank" and pal.n_strata == 4
    assert any("median 6" in a for a in pal.assumptions)
    er_pos = scenario_from_spec("accru_br_1801", cohort="ER_POS")
    assert [lk.events for lk in er_pos.plan.looks] == [29, 58]
    assert er_pos.plan.lower[0] == 0.0 and math.isinf(er_pos.plan.efficacy[0])
    with pytest.raises(SpecError, match="cohort"):
        scenario_from_spec("accru_br_1801")
    abema = scenario_from_spec("abemaciclib_rechallenge")
    assert isinstance(abema, SingleArmScenario)
    assert (abema.n, abema.landmark, abema.transform) == (59, 12.0, "loglog")
    assert (abema.median0, abema.median1, abema.formula_variance) == (3.0, 5.0, "null")
    timed = scenario_from_spec("accru_br_1801", cohort="ER_POS", assume={"look_times": [6, 14]})
    assert [lk.time for lk in timed.plan.looks] == [6.0, 14.0]
    assert timed.plan.efficacy == er_pos.plan.efficacy
    with pytest.raises(SpecError, match="one calendar time per look"):
        scenario_from_spec("accru_br_1801", cohort="ER_POS", assume={"look_times": [6]})
    spec = load_spec("abemaciclib_rechallenge")
    block = {**spec.design.model_dump(), "method": "one_sample_logrank"}  # type: ignore[union-attr]
    with pytest.raises(SpecError, match="km_landmark") as info:
        scenario_from_block(spec, block, "design", "x", {})
    assert info.value.details["field"] == "design.method"


def test_cli_simulate_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "accru_br_1801", "--n-sim", "1500", "--seed", "7", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["where"] for s in doc["simulations"]] == ["cohorts[0].design", "cohorts[1].design"]
    res = doc["simulations"][0]["result"]
    assert res["n_sim"] == 1500 and res["seed"] == 7
    assert 0.5 < res["power"] < 1 and len(res["by_look"]) == 2


def test_cli_calendar_looks(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "accru_br_1801", "--cohort", "ER_POS", "--n-sim", "800", "--seed", "3"]
    code = main([*args, "--look-time", "6", "--look-time", "14", "--json"])
    assert code == 0
    res = json.loads(capsys.readouterr().out)["simulations"][0]["result"]
    looks = res["by_look"]
    assert [row["target_time"] for row in looks] == [6.0, 14.0]
    assert [row["mean_time"] for row in looks] == [6.0, 14.0]
    assert looks[0]["mean_events"] < looks[1]["mean_events"]
    assert main([*args, "--look-time", "6", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "SpecError"

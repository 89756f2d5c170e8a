"""The shipped example specs encode the seed documents faithfully (shared/seeds/)."""

from __future__ import annotations

import pytest

from oncotrial.spec import EXAMPLES, load_spec


@pytest.fixture(scope="module")
def palmira():
    return load_spec("palmira")


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_loads(name):
    spec = load_spec(name)
    assert spec.endpoints and spec.arms


def test_palmira_arms_and_ratio(palmira):
    # Seed 002: "randomly assigned (2:1 ratio) to either palbociclib rechallenge plus
    # second-line ET (fulvestrant or letrozole) or second-line ET alone"
    assert palmira.ratio == {"PAL_ET": 2, "ET": 1}
    pal = palmira.arm("PAL_ET")
    palbo = next(a for a in pal.regimen if a.agent == "palbociclib")
    assert palbo.dose_levels == [125, 100, 75]
    assert palbo.schedule.days == list(range(1, 22))  # 3 weeks on, 1 off
    assert palmira.treatment.cycle_days == 28
    fulv = next(a for a in pal.regimen if a.agent == "fulvestrant")
    assert (fulv.dose, fulv.unit, fulv.route) == (500, "mg", "IM")
    assert fulv.schedule.first_cycle_days == [1, 15]
    letrozole = next(a for a in palmira.arm("ET").regimen if a.agent == "letrozole")
    assert (letrozole.dose, letrozole.route, letrozole.schedule.continuous) == (2.5, "PO", True)
    assert "palbociclib" not in {a.agent for a in palmira.arm("ET").regimen}


def test_palmira_strata(palmira):
    # "stratified according to previous ET (fulvestrant v aromatase inhibitor) and the
    # presence of visceral involvement (yes v no)"
    strata = {s.name: set(s.levels) for s in palmira.stratification}
    assert strata == {
        "prior_et": {"aromatase_inhibitor", "fulvestrant"},
        "visceral_involvement": {"yes", "no"},
    }
    assert palmira.analyses.primary.stratified_by == ["prior_et", "visceral_involvement"]


def test_palmira_schedule(palmira):
    # "every 8 weeks up to 12 months ... Thereafter every 12 weeks"; bone scans every 24 weeks;
    # labs day 1 of every cycle for six cycles then every two cycles; CBC day 14 of cycles 1-2
    tumour = next(a for a in palmira.assessments if a.name == "tumour")
    assert [(p.every_weeks, p.until_months) for p in tumour.periods] == [(8, 12), (12, None)]
    bone = next(a for a in palmira.assessments if a.name == "bone_scan")
    assert bone.periods[0].every_weeks == 24
    safety = next(a for a in palmira.assessments if a.name == "safety")
    assert [(p.every_cycles, p.until_cycle) for p in safety.periods] == [(1, 6), (2, None)]
    cbc = next(a for a in palmira.assessments if a.name == "cbc_day14")
    assert (cbc.periods[0].cycle_day, cbc.periods[0].until_cycle) == (14, 2)


def test_palmira_endpoints(palmira):
    ids = {e.id: e for e in palmira.endpoints}
    assert set(ids) == {"PFS", "ORR", "DOR", "TTR", "CBR", "OS", "SAFETY"}
    assert ids["PFS"].role == "primary" and ids["PFS"].origin == "randomization"
    assert ids["OS"].origin == "first dose"  # "time from the first dose of study treatment"
    assert ids["CBR"].min_sd_weeks == 24 and ids["CBR"].responses == ["CR", "PR", "SD"]
    assert ids["ORR"].responses == ["CR", "PR"]
    assert ids["SAFETY"].grading == "CTCAE v5.0"


def test_palmira_design_and_analyses(palmira):
    # ASCO abstract: "2-sided log-rank test (alpha = 0.05) had an 80% power to detect a hazard
    # ratio <= 0.59"; 198 patients
    design = palmira.design.model_extra
    assert (design["hazard_ratio"], design["alpha"], design["sides"], design["power"]) == (
        0.59,
        0.05,
        2,
        0.80,
    )
    assert design["n"] == 198 and design["allocation_ratio"] == 2
    assert palmira.analyses.landmarks_months == [6, 12]
    labels = [s.label for s in palmira.analyses.subgroups]
    assert labels == [
        "Age",
        "Endocrine therapy",
        "ECOG performance status",
        "Metastatic sites",
        "Visceral involvement",
        "Duration of first-line palbociclib",
    ]  # Figure 3


def test_palmira_eligibility_covers_key_criteria(palmira):
    rules = {c.id: c.rule for _, c in palmira.criteria}
    assert "sd_duration_weeks >= 24" in rules["I5"]
    assert "7 <= days_between(last_palbociclib_date, screening_date) <= 56" in rules["I6"]
    exclusion_text = " ".join(c.text for c in palmira.eligibility.exclusion).lower()
    for phrase in ("visceral crisis", "chemotherapy", "cdk4/6", "fulvestrant and letrozole", "cns"):
        assert phrase in exclusion_text


def test_abemaciclib_rechallenge():
    spec = load_spec("abemaciclib_rechallenge")
    assert len(spec.arms) == 1 and spec.stratification == []
    abema = spec.arms[0].regimen[0]
    assert (abema.agent, abema.dose, abema.schedule.frequency) == ("abemaciclib", 150, "Q12H")
    assert abema.schedule.days == list(range(1, 29))
    d = spec.design.model_extra
    assert (d["median_control_months"], d["median_experimental_months"]) == (3.0, 5.0)
    assert (d["alpha"], d["sides"], d["power"]) == (0.05, 2, 0.80)
    assert (d["accrual_months"], d["follow_up_months"]) == (24, 12)
    assert spec.design.published["n_evaluable"] == 59 and spec.design.published["n_planned"] == 65
    assert {e.id for e in spec.endpoints} == {"PFS", "ORR", "CBR", "CFI", "OS", "SAFETY"}
    assert len(spec.analyses.subgroups) == 9  # ESR1 ... disease-free interval


def test_accru_br_1801():
    spec = load_spec("accru_br_1801")
    assert spec.trial.phase == "I/II"
    assert spec.ratio == {"ABEMA_TDM1": 1, "TDM1": 1}
    assert [s.name for s in spec.stratification] == ["liver_metastases"]
    de = spec.dose_escalation
    assert de.dose_levels == [50, 100, 150] and de.design.model_extra["rule"] == "3+3"
    cohorts = {c.id: c.design for c in spec.cohorts}
    er_pos, er_neg = cohorts["ER_POS"], cohorts["ER_NEG"]
    assert (er_pos.model_extra["alpha"], er_pos.model_extra["power"]) == (0.10, 0.90)
    assert (er_neg.model_extra["alpha"], er_neg.model_extra["power"]) == (0.10, 0.85)
    assert (
        er_pos.model_extra["median_control_weeks"],
        er_pos.model_extra["median_experimental_weeks"],
    ) == (12, 24)
    assert (
        er_neg.model_extra["median_control_weeks"],
        er_neg.model_extra["median_experimental_weeks"],
    ) == (6, 12)
    assert (er_pos.published["n"], er_pos.published["futility_events"]) == (64, 58)
    assert (er_neg.published["n"], er_neg.published["futility_events"]) == (50, 48)
    assert spec.analyses.primary.test == "stratified log-rank"
    assert spec.analyses.primary.sides == 1

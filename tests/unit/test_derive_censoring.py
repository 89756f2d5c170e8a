"""Censoring rules: one hand-worked case per rule of each shipped rule set.

Each case states the situation, the expected date and rule, worked by hand from the FDA 2018
guidance table (Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics,
Appendix) as encoded in censoring_rules.yaml. PALMIRA's tumour schedule: every 8 weeks
(56 days, window +/- 7 days) from randomization up to 12 months, then every 12 weeks.
"""

from __future__ import annotations

import datetime as dt

import pytest

from oncotrial.derive.adtte import SubjectFacts, apply_rules, missed_visits, scheduled_visits
from oncotrial.errors import SpecError
from oncotrial.spec import example_path, load_spec
from oncotrial.spec.censoring import censoring_presets
from oncotrial.spec.models import CensoringRule, CensoringRules

D = dt.date
RAND = D(2024, 1, 1)
FDA = censoring_presets()["fda-2018"]
SPEC = load_spec(example_path("palmira"))
SCHEDULE = scheduled_visits(SPEC, RAND, 800)


def facts(**kw: object) -> SubjectFacts:
    base: dict[str, object] = {"usubjid": "S", "origin": RAND, "scheduled": SCHEDULE}
    base.update(kw)
    return SubjectFacts(**base)  # type: ignore[arg-type]


def test_schedule_is_every_8_weeks_then_12_weeks_with_7_day_windows() -> None:
    # 56-day visits: 2024-02-26, 2024-04-22, ...; after 12 months (365.25 days) every 84 days
    assert SCHEDULE[0] == (D(2024, 2, 26), 7)
    assert SCHEDULE[1] == (D(2024, 4, 22), 7)
    days = [(d - RAND).days for d, _ in SCHEDULE]
    assert days[:7] == [56, 112, 168, 224, 280, 336, 420]


def test_r1_no_baseline_assessment_censored_at_randomization() -> None:
    out = apply_rules(facts(baseline_assessed=False, death=D(2024, 3, 1)), FDA)
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("R1", 1, RAND, 0)


def test_r2_no_adequate_post_baseline_and_no_death_censored_at_randomization() -> None:
    out = apply_rules(facts(assessments=((D(2024, 2, 26), "NE"),)), FDA)
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("R2", 2, RAND, 0)


def test_r2_does_not_apply_when_the_subject_died() -> None:
    # death on day 40 with no assessment: no visit was missed (first window opens day 49) -> R6
    out = apply_rules(facts(death=D(2024, 2, 10)), FDA)
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("R6", 0, D(2024, 2, 10), 40)


def test_r3_new_therapy_censored_at_last_adequate_assessment_on_or_before_it() -> None:
    # SD 02-26, SD 04-22, new therapy 04-22 (same day: the scan counts), PD 06-17
    f = facts(
        assessments=((D(2024, 2, 26), "SD"), (D(2024, 4, 22), "SD"), (D(2024, 6, 17), "PD")),
        new_therapy=D(2024, 4, 22),
    )
    out = apply_rules(f, FDA)
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("R3", 3, D(2024, 4, 22), 112)
    assert out.cnsdtdsc == "date of the last adequate tumour assessment before the new therapy"


def test_r3_not_applied_when_therapy_starts_on_or_after_progression() -> None:
    f = facts(
        assessments=((D(2024, 2, 26), "SD"), (D(2024, 4, 22), "PD")), new_therapy=D(2024, 4, 22)
    )
    out = apply_rules(f, FDA)
    assert (out.rule_id, out.cnsr, out.adt) == ("R5", 0, D(2024, 4, 22))


def test_r3_without_adequate_assessment_before_therapy_censors_at_randomization() -> None:
    out = apply_rules(facts(new_therapy=D(2024, 2, 1), death=D(2024, 5, 1)), FDA)
    assert (out.rule_id, out.adt, out.aval) == ("R3", RAND, 0)


def test_r4_progression_after_two_missed_assessments() -> None:
    # last adequate 02-26 (day 56); visits day 112 (04-22 +/-7) and 168 (06-17 +/-7) missed;
    # PD 08-12 (day 224) -> censored 02-26
    f = facts(assessments=((D(2024, 2, 26), "SD"), (D(2024, 8, 12), "PD")))
    out = apply_rules(f, FDA)
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("R4", 4, D(2024, 2, 26), 56)
    assert missed_visits(f, D(2024, 2, 26), D(2024, 8, 12)) == [D(2024, 4, 22), D(2024, 6, 17)]


def test_one_missed_assessment_is_still_an_event() -> None:
    # PD 06-17 after last adequate 02-26: only the 04-22 visit was missed -> R5 event
    f = facts(assessments=((D(2024, 2, 26), "SD"), (D(2024, 6, 17), "PD")))
    out = apply_rules(f, FDA)
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("R5", 0, D(2024, 6, 17), 168)


def test_missed_window_boundary() -> None:
    # Visit 06-17 (+/- 7: 06-10..06-24). Death on 06-24: window not over -> 1 missed -> R6;
    # death on 06-25: window over -> 2 missed -> R4.
    f = facts(assessments=((D(2024, 2, 26), "SD"),), death=D(2024, 6, 24))
    assert apply_rules(f, FDA).rule_id == "R6"
    f = facts(assessments=((D(2024, 2, 26), "SD"),), death=D(2024, 6, 25))
    out = apply_rules(f, FDA)
    assert (out.rule_id, out.adt) == ("R4", D(2024, 2, 26))


def test_ne_assessment_is_not_adequate() -> None:
    # NE on 04-22 does not count: last adequate stays 02-26, so 04-22 and 06-17 are missed
    f = facts(assessments=((D(2024, 2, 26), "SD"), (D(2024, 4, 22), "NE"), (D(2024, 8, 12), "PD")))
    out = apply_rules(f, FDA)
    assert (out.rule_id, out.adt) == ("R4", D(2024, 2, 26))


def test_r5_progression_event_at_first_pd_assessment() -> None:
    f = facts(
        assessments=((D(2024, 2, 26), "PR"), (D(2024, 4, 22), "PD"), (D(2024, 6, 17), "PD")),
        death=D(2024, 7, 1),
    )
    out = apply_rules(f, FDA)
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("R5", 0, D(2024, 4, 22), 112)
    assert out.evntdesc == "DISEASE PROGRESSION" and out.cnsdtdsc is None


def test_r6_death_between_adequate_assessments() -> None:
    f = facts(assessments=((D(2024, 2, 26), "SD"),), death=D(2024, 3, 20))
    out = apply_rules(f, FDA)
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("R6", 0, D(2024, 3, 20), 79)


def test_r7_treatment_discontinued_without_progression() -> None:
    f = facts(
        assessments=((D(2024, 2, 26), "SD"), (D(2024, 4, 22), "SD")),
        discontinued="ADVERSE EVENT",
    )
    out = apply_rules(f, FDA)
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("R7", 5, D(2024, 4, 22), 112)


def test_r8_no_progression_no_death() -> None:
    f = facts(assessments=((D(2024, 2, 26), "SD"), (D(2024, 4, 22), "PR"), (D(2024, 6, 17), "NE")))
    out = apply_rules(f, FDA)
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("R8", 6, D(2024, 4, 22), 112)


def test_events_regardless_counts_progression_after_missed_assessments_and_new_therapy() -> None:
    rules = censoring_presets()["events-regardless"]
    f = facts(
        assessments=((D(2024, 2, 26), "SD"), (D(2024, 8, 12), "PD")), new_therapy=D(2024, 5, 1)
    )
    out = apply_rules(f, rules)
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("S2", 0, D(2024, 8, 12), 224)


def test_os_last_known_alive() -> None:
    rules = censoring_presets()["last-known-alive"]
    alive = apply_rules(facts(last_known_alive=D(2024, 9, 1)), rules, "OS")
    assert (alive.rule_id, alive.cnsr, alive.adt, alive.aval) == ("O2", 1, D(2024, 9, 1), 244)
    dead = apply_rules(facts(death=D(2024, 5, 5), last_known_alive=D(2024, 5, 5)), rules, "OS")
    assert (dead.rule_id, dead.cnsr, dead.adt, dead.aval) == ("O1", 0, D(2024, 5, 5), 125)


def test_cfi_chemotherapy_or_death() -> None:
    rules = censoring_presets()["chemotherapy-free-interval"]
    chemo = facts(chemotherapy=D(2024, 4, 1), death=D(2024, 6, 1), last_known_alive=D(2024, 6, 1))
    out = apply_rules(chemo, rules, "CFI")
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("C1", 0, D(2024, 4, 1), 91)
    assert out.evntdesc == "START OF CHEMOTHERAPY"
    out = apply_rules(facts(last_known_alive=D(2024, 3, 1)), rules, "CFI")
    assert (out.rule_id, out.cnsr, out.adt, out.aval) == ("C3", 1, D(2024, 3, 1), 60)


def test_progression_recorded_after_death_is_ignored() -> None:
    f = facts(assessments=((D(2024, 2, 26), "SD"), (D(2024, 4, 22), "PD")), death=D(2024, 4, 1))
    out = apply_rules(f, FDA)
    assert (out.rule_id, out.adt) == ("R6", D(2024, 4, 1))


def test_trace_names_rule_dates_and_arithmetic() -> None:
    f = facts(assessments=((D(2024, 2, 26), "SD"), (D(2024, 8, 12), "PD")))
    trace = apply_rules(f, FDA).trace
    assert "fda-2018 R4" in trace
    assert "2024-04-22, 2024-06-17 (2 >= 2)" in trace
    assert "AVAL = 2024-02-26 - 2024-01-01 = 56 days" in trace


def test_rule_without_code_is_a_spec_error() -> None:
    rules = CensoringRules(
        name="custom",
        source="test",
        rules=[CensoringRule(id="X1", situation="words only", outcome="censored", date="x")],
    )
    with pytest.raises(SpecError, match="X1"):
        apply_rules(facts(), rules)


def test_rule_set_without_fallback_is_a_spec_error() -> None:
    rules = CensoringRules(
        name="custom",
        source="test",
        rules=[
            CensoringRule(
                id="X1", situation="death", outcome="event", date="d", when="death", at="death"
            )
        ],
    )
    with pytest.raises(SpecError, match="no rule applies"):
        apply_rules(facts(), rules)

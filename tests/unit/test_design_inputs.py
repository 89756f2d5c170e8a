"""The argument checks shared by the design calculators (oncotrial.design._tte_inputs)."""

from __future__ import annotations

import numpy as np
import pytest

from oncotrial.design import _tte_inputs as check
from oncotrial.errors import InputError


def test_one_of_names_the_choices_and_folds_case_only_when_asked() -> None:
    assert check.one_of("OF", ("of", "pocock", "hsd"), "spending", fold_case=True) == "of"
    with pytest.raises(InputError) as err:
        check.one_of("OF", ("of", "pocock", "hsd"), "spending")
    assert err.value.message == "spending = 'OF' is invalid; use one of of, pocock, hsd"
    assert err.value.details["argument"] == "spending"
    with pytest.raises(InputError) as err:
        check.one_of("x", ("multiply", "divide"), "inflation")
    assert err.value.message == "inflation = 'x' is invalid; use 'multiply' or 'divide'"


def test_test_levels_checks_power_against_the_one_sided_alpha() -> None:
    assert check.test_levels(0.05, "2", 0.8) == (0.05, 2, 0.8)
    # one-sided alpha of a two-sided 0.05 test is 0.025: power 0.03 is allowed, 0.02 is not
    assert check.test_levels(0.05, 2, 0.03)[2] == 0.03
    with pytest.raises(InputError, match=r"power = 0\.02"):
        check.test_levels(0.05, 2, 0.02)
    with pytest.raises(InputError, match="sides = 3"):
        check.test_levels(0.05, 3, 0.8)


@pytest.mark.parametrize("value", [True, 2.0, "3", -1, None])
def test_whole_number_rejects_bools_floats_strings_and_small_values(value: object) -> None:
    with pytest.raises(InputError, match="whole number >= 0"):
        check.whole_number(value, "n")


def test_whole_number_accepts_numpy_integers_as_int() -> None:
    got = check.whole_number(np.int64(7), "n", 1)
    assert got == 7 and type(got) is int


@pytest.mark.parametrize("value", [1.0, -0.1, float("nan"), "a"])
def test_fraction_below_one_rejects_values_outside_0_to_1(value: object) -> None:
    with pytest.raises(InputError) as err:
        check.fraction_below_one(value, "dropout")
    assert err.value.details["argument"] == "dropout"


def test_fraction_below_one_accepts_0_and_just_below_1() -> None:
    assert check.fraction_below_one(0, "dropout") == 0.0
    assert check.fraction_below_one(0.999, "dropout") == 0.999

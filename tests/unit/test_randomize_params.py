"""Arms, ratio, factors, strata: parsing and the errors users see."""

from __future__ import annotations

import pytest

from oncotrial.errors import InputError
from oncotrial.randomize import ArmRatio, Factor, parse_factor, parse_ratio, strata, stratum_index


def test_parse_ratio():
    assert parse_ratio("2:1") == (2, 1)
    assert parse_ratio(" 1 : 2 : 3 ", 3) == (1, 2, 3)


@pytest.mark.parametrize("text", ["2:0", "2:-1", "a:1", "2:", "1.5:1"])
def test_bad_ratio_names_argument_and_value(text):
    with pytest.raises(InputError) as err:
        parse_ratio(text)
    assert err.value.details["argument"] == "ratio" and err.value.details["value"] == text
    assert "positive integers" in err.value.message


def test_ratio_arity():
    with pytest.raises(InputError, match=r"has 3 part.*2 arms"):
        parse_ratio("1:1:1", 2)
    with pytest.raises(InputError, match=r"ratio: 0 in \[2, 0\]"):
        ArmRatio(("A", "B"), (2, 0))
    with pytest.raises(InputError, match="one positive integer per arm"):
        ArmRatio(("A", "B"), (1,))
    with pytest.raises(InputError, match="at least 2 arms"):
        ArmRatio(("A",), (1,))
    with pytest.raises(InputError, match="'A' appears twice"):
        ArmRatio(("A", "A"), (1, 1))


def test_arm_ratio_properties():
    arms = ArmRatio(("A", "B", "C"), (2, 3, 4))
    assert arms.total == 9 and arms.lcm == 12 and arms.label == "2:3:4"
    with pytest.raises(InputError, match=r"arm 'D' is not one of the arms \['A', 'B', 'C'\]"):
        arms.index("D")


def test_parse_factor_and_errors():
    assert parse_factor("visceral=yes,no") == Factor("visceral", ("yes", "no"))
    assert parse_factor(" liver = yes , no ") == Factor("liver", ("yes", "no"))
    with pytest.raises(InputError, match="factor 'visceral': no levels given"):
        parse_factor("visceral=")
    with pytest.raises(InputError, match="expected NAME=LEVEL1,LEVEL2"):
        parse_factor("visceral")
    with pytest.raises(InputError, match="empty level"):
        parse_factor("visceral=yes,,no")
    with pytest.raises(InputError, match="levels: 'yes' appears twice"):
        parse_factor("visceral=yes,yes")
    with pytest.raises(InputError, match="no levels given"):
        Factor("visceral", ())


@pytest.mark.parametrize("name", ["a,b", 'a"b', "a|b", " a", "a\nb", ""])
def test_names_that_would_break_the_canonical_csv_are_rejected(name):
    with pytest.raises(InputError, match="name"):
        ArmRatio((name, "B"), (1, 1))
    with pytest.raises(InputError, match="name"):
        Factor("f", (name, "x"))


def test_equals_sign_allowed_in_levels_not_in_factor_names():
    assert Factor("age", ("<65", ">=65")).levels == ("<65", ">=65")
    with pytest.raises(InputError, match="factor name: name 'a=b' contains"):
        Factor("a=b", ("x",))


def test_strata_cross_product_order_and_index():
    factors = (Factor("a", ("1", "2", "3")), Factor("b", ("x", "y")))
    labels = [s.label for s in strata(factors)]
    assert labels == ["a=1|b=x", "a=1|b=y", "a=2|b=x", "a=2|b=y", "a=3|b=x", "a=3|b=y"]
    for s in strata(factors):
        assert stratum_index(factors, dict(s.levels)) == s.index


def test_unknown_level_and_unknown_factor():
    factors = (Factor("liver", ("yes", "no")),)
    with pytest.raises(InputError) as err:
        stratum_index(factors, {"liver": "unknown"})
    assert err.value.details == {
        "argument": "liver",
        "value": "'unknown'",
        "expected": ["yes", "no"],
    }
    with pytest.raises(InputError, match="unknown factor 'bone'"):
        stratum_index(factors, {"liver": "yes", "bone": "no"})

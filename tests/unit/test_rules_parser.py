"""The rule language parser: what it accepts, what it rejects (with position), name/type checks."""

from __future__ import annotations

import datetime as dt

import pytest

from oncotrial.errors import SpecError
from oncotrial.spec.rules import (
    BoolOp,
    Call,
    Compare,
    Literal,
    Name,
    Not,
    RuleSyntaxError,
    RuleTypeError,
    parse_rule,
)

ATTRIBUTES = [
    {"name": "age", "type": "number", "unit": "years"},
    {"name": "ecog", "type": "integer"},
    {"name": "visceral_crisis", "type": "boolean"},
    {"name": "adjuvant_palbociclib", "type": "boolean"},
    {"name": "prior_et", "type": "category", "levels": ["aromatase_inhibitor", "fulvestrant"]},
    {"name": "last_palbociclib_date", "type": "date"},
    {"name": "screening_date", "type": "date"},
    {"name": "histology", "type": "text"},
]


# --------------------------------------------------------------------------- accepted


def test_simple_comparison_tree():
    rule = parse_rule("age >= 18")
    assert rule.tree == Compare(0, 9, (Name(0, 3, "age"), Literal(7, 9, 18)), (">=",))
    assert rule.names == ("age",)


def test_precedence_not_binds_tighter_than_and_than_or():
    tree = parse_rule("not a or b and c").tree
    assert isinstance(tree, BoolOp) and tree.op == "or"
    left, right = tree.operands
    assert isinstance(left, Not) and left.operand == Name(4, 5, "a")
    assert isinstance(right, BoolOp) and right.op == "and"
    assert [n.name for n in right.operands if isinstance(n, Name)] == ["b", "c"]


def test_parentheses_override_precedence():
    tree = parse_rule("(a or b) and c").tree
    assert isinstance(tree, BoolOp) and tree.op == "and"
    assert isinstance(tree.operands[0], BoolOp) and tree.operands[0].op == "or"


def test_flat_and_chain_has_all_operands():
    tree = parse_rule("a and b and c and d").tree
    assert isinstance(tree, BoolOp) and len(tree.operands) == 4


def test_chained_comparison_keeps_both_operators():
    tree = parse_rule("7 <= days_between(last_palbociclib_date, screening_date) <= 56").tree
    assert isinstance(tree, Compare)
    assert tree.ops == ("<=", "<=")
    assert isinstance(tree.operands[1], Call) and tree.operands[1].function == "days_between"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("x == 'a b'", "a b"),
        ('x == "CR"', "CR"),
        ("x == 2.5", 2.5),
        ("x == -3", -3),
        ("x == 1e3", 1000.0),
        ("x == .5", 0.5),
        ("x == true", True),
        ("x == False", False),
    ],
)
def test_literals(text, value):
    tree = parse_rule(text).tree
    assert isinstance(tree, Compare)
    literal = tree.operands[1]
    assert isinstance(literal, Literal) and literal.value == value
    assert type(literal.value) is type(value)


def test_in_and_not_in_lists():
    tree = parse_rule("prior_et not in ['fulvestrant', 'x'] ").tree
    assert isinstance(tree, Compare) and tree.ops == ("not in",)
    assert [i.value for i in tree.operands[1].items] == ["fulvestrant", "x"]  # type: ignore[attr-defined]
    assert parse_rule("ecog in []").tree.operands[1].items == ()  # type: ignore[attr-defined]


def test_date_constant_is_parsed_to_a_date():
    tree = parse_rule("screening_date >= date('2019-04-10')").tree
    assert isinstance(tree, Compare)
    assert tree.operands[1] == Literal(18, 36, dt.date(2019, 4, 10))


def test_multiline_rule_from_yaml_folded_text():
    text = "(setting == 'a'\n  and x)\nor (setting == 'b'\n  and y)"
    rule = parse_rule(text)
    assert rule.names == ("setting", "x", "y")
    assert str(rule) == "(setting == 'a' and x) or (setting == 'b' and y)"


def test_names_in_order_of_first_appearance_without_duplicates():
    rule = parse_rule("b or a and is_missing(c) or count_true(a, d, b) >= 2")
    assert rule.names == ("b", "a", "c", "d")


# --------------------------------------------------------------------------- rejected


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("__import__('os')", 1, "unknown function '__import__'"),
        ("__import__('os').system('ls')", 17, "attribute access"),  # tokens first
        ("age.real > 1", 4, "attribute access"),
        ("a.b", 2, "attribute access"),
        ("x[0] == 1", 2, "subscripts are not allowed"),
        ("lambda: 1", 1, "Python keyword 'lambda'"),
        ("f'{age}' == '1'", 1, "string prefixes"),
        ("rb'x' == 'x'", 1, "string prefixes"),
        ("(y := 1)", 4, "assignment (':=')"),
        ("age = 18", 5, "single '='"),
        ("age + 1 > 18", 5, "arithmetic"),
        ("age * 2 > 18", 5, "arithmetic"),
        ("a && b", 3, "use 'and'"),
        ("!a", 1, "use 'not'"),
        ("x == None", 6, "is_missing"),
        ("x is None", 3, "'is' is not allowed"),
        ("[x for x in y]", 4, "Python keyword 'for'"),
        ("1 if a else 2", 3, "Python keyword 'if'"),
        ("age >= 18 and", 14, "expected a value"),
        ("", 1, "the rule is empty"),
        ("   ", 4, "the rule is empty"),
        ("'open", 1, "string is not closed"),
        ("(age >= 18", 11, "expected ')'"),
        ("age >= 18)", 10, "unexpected ')'"),
        ("age 18", 5, "unexpected '18'"),
        ("foo(age)", 1, "unknown function 'foo'"),
        ("eval('1')", 1, "unknown function 'eval'"),
        ("a < b > c", 7, "cannot chain '<' with '>'"),
        ("a == b == c", 8, "cannot chain '==' with '=='"),
        ("x in y", 6, "[list]"),
        ("x in [y]", 7, "list items must be constants"),
        ("x in (1, 2)", 6, "[list]"),
        ("(1, 2) == x", 3, "tuples are not allowed"),
        ("() == x", 2, "empty parentheses"),
        ("{1: 2}", 1, "sets and dicts"),
        ("days_between(a)", 1, "takes 2 arguments, got 1"),
        ("is_missing(1)", 12, "takes an attribute name"),
        ("count_true() > 1", 1, "at least one condition"),
        ("x > date('2019-02-30')", 10, "not a valid YYYY-MM-DD date"),
        ("x > date(y)", 10, "string constant"),
        ("x == 1_000", 6, "malformed number"),
        ("x == 12abc", 6, "malformed number"),
        ("age ≥ 18", 5, "unexpected character"),
        ("- x > 1", 1, "'-' must be followed by a number"),
        ("a; b", 2, "';' is not allowed"),
        ("18", 1, "18 is not a condition"),
        ("a or 'x'", 6, "'x' is not a condition"),
        ("not [1]", 5, "[1] is not a condition"),
        ("days_between(a, b)", 1, "days_between(a, b) is not a condition"),
        ("count_true(a, 1) > 0", 15, "1 is not a condition"),
    ],
)
def test_rejected_with_position(text, column, fragment):
    with pytest.raises(RuleSyntaxError) as info:
        parse_rule(text, where="eligibility.inclusion[0].rule")
    error = info.value
    assert isinstance(error, SpecError)
    assert fragment in error.problem
    assert error.column == column
    assert error.message.startswith(f"eligibility.inclusion[0].rule, column {column}: ")
    assert "allowed:" in error.message  # says what is allowed
    assert error.details["rule"] == text
    caret_line = error.message.splitlines()[2]
    assert caret_line == "    " + " " * (column - 1) + "^"


def test_error_position_in_multiline_rule_gives_line_and_column():
    with pytest.raises(RuleSyntaxError) as info:
        parse_rule("a and\n  b.c")
    assert (info.value.line, info.value.column) == (2, 4)
    assert "line 2, column 4" in info.value.message
    assert info.value.message.splitlines()[1] == "      b.c"


def test_non_string_rule_is_a_spec_error():
    with pytest.raises(SpecError, match="a rule must be a string"):
        parse_rule(18)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- names and types


@pytest.mark.parametrize(
    "text",
    [
        "age >= 18",
        "ecog <= 1",
        "visceral_crisis",
        "not visceral_crisis and age > 18",
        "visceral_crisis == true",
        "prior_et == 'fulvestrant'",
        "prior_et in ['fulvestrant', 'aromatase_inhibitor']",
        "histology == 'ductal'",
        "adjuvant_palbociclib or 7 <= days_between(last_palbociclib_date, screening_date) <= 56",
        "months_between(last_palbociclib_date, date('2020-01-01')) < 3",
        "screening_date >= date('2019-04-10')",
        "last_palbociclib_date < screening_date",
        "is_missing(age) or age >= 18",
        "count_true(visceral_crisis, age > 70, prior_et == 'fulvestrant') >= 2",
        "true",
    ],
)
def test_well_typed_rules_pass_the_check(text):
    parse_rule(text).check_names(ATTRIBUTES)


class _Attr:  # duck-typed attribute, like the spec's pydantic model
    def __init__(self, name, type, levels=None):
        self.name, self.type, self.levels, self.unit = name, type, levels, None


def test_check_accepts_objects_with_attributes():
    parse_rule("prior_et == 'x'").check_names([_Attr("prior_et", "category", ["x", "y"])])


def test_unknown_attribute_names_it_and_the_known_ones():
    with pytest.raises(RuleTypeError) as info:
        parse_rule("age >= 18 and viseral_crisis").check_names(
            ATTRIBUTES, where="eligibility.exclusion[2].rule"
        )
    error = info.value
    assert error.problem == "unknown attribute 'viseral_crisis'"
    assert error.column == 15
    assert error.message.startswith("eligibility.exclusion[2].rule, column 15:")
    assert "visceral_crisis" in error.message and "screening_date" in error.message


@pytest.mark.parametrize(
    ("text", "column", "fragments"),
    [
        (
            "prior_et == 'letrozole'",
            13,
            ["'letrozole' is not a level of prior_et", "'aromatase_inhibitor', 'fulvestrant'"],
        ),
        ("prior_et in ['fulvestrant', 'tamoxifen']", 29, ["'tamoxifen' is not a level"]),
        ("'AI' != prior_et", 1, ["'AI' is not a level"]),
        (
            "screening_date > 5",
            18,
            ["cannot compare screening_date (date) with 5 (number)", "date('YYYY-MM-DD')"],
        ),
        ("screening_date == '2019-01-01'", 19, ["cannot compare screening_date (date)"]),
        ("age == 'old'", 8, ["cannot compare age (number) with 'old' (string)"]),
        ("visceral_crisis == 1", 20, ["cannot compare visceral_crisis (boolean)"]),
        ("prior_et < 'fulvestrant'", 12, ["'<' needs two numbers or two dates"]),
        ("visceral_crisis >= true", 20, ["'>=' needs two numbers or two dates"]),
        ("age", 1, ["age (number) is not a condition", "age >= ..."]),
        ("prior_et and age > 1", 1, ["prior_et (category) is not a condition"]),
        ("not ecog", 5, ["ecog (integer) is not a condition"]),
        ("days_between(age, screening_date) > 1", 14, ["days_between() needs dates"]),
        ("count_true(age, visceral_crisis) >= 1", 12, ["age (number) is not a condition"]),
        ("is_missing(agee)", 12, ["unknown attribute 'agee'"]),
    ],
)
def test_type_errors(text, column, fragments):
    with pytest.raises(RuleTypeError) as info:
        parse_rule(text).check_names(ATTRIBUTES)
    assert info.value.column == column
    for fragment in fragments:
        assert fragment in info.value.message


def test_attribute_with_an_invalid_type_is_a_spec_error():
    with pytest.raises(SpecError, match="is not one of number, integer, boolean"):
        parse_rule("x").check_names([{"name": "x", "type": "bool"}])

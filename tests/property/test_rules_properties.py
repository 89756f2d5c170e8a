"""Property tests of the rule language: Kleene logic, soundness under missing data, safety."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrial.spec.rules import FUNCTIONS, Call, Not, RuleSyntaxError, parse_rule

NAMES = ("a", "b", "c", "d")
TRUTH = st.sampled_from([True, False, None])

formulas = st.recursive(
    st.sampled_from((*NAMES, "true", "false")).map(lambda n: ("atom", n)),
    lambda sub: st.one_of(
        sub.map(lambda f: ("not", f)),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(sub, min_size=2, max_size=4)),
    ),
    max_leaves=12,
)


def render(formula) -> str:
    kind = formula[0]
    if kind == "atom":
        return formula[1]
    if kind == "not":
        return f"not ({render(formula[1])})"
    return "(" + f" {kind} ".join(render(f) for f in formula[1]) + ")"


def kleene_minmax(formula, values) -> float:
    """Reference Kleene logic as min/max on F=0 < U=1/2 < T=1 (Kleene 1952, §64)."""
    kind = formula[0]
    if kind == "atom":
        name = formula[1]
        if name in ("true", "false"):
            return 1.0 if name == "true" else 0.0
        v = values[name]
        return 0.5 if v is None else float(v)
    if kind == "not":
        return 1.0 - kleene_minmax(formula[1], values)
    parts = [kleene_minmax(f, values) for f in formula[1]]
    return min(parts) if kind == "and" else max(parts)


def classical(formula, values) -> bool:
    kind = formula[0]
    if kind == "atom":
        return formula[1] == "true" if formula[1] in ("true", "false") else values[formula[1]]
    if kind == "not":
        return not classical(formula[1], values)
    parts = [classical(f, values) for f in formula[1]]
    return all(parts) if kind == "and" else any(parts)


assignments = st.fixed_dictionaries({n: TRUTH for n in NAMES})


@settings(max_examples=300, deadline=None)
@given(formulas, assignments)
def test_evaluation_is_kleene_logic(formula, values):
    outcome = parse_rule(render(formula)).evaluate(values)
    expected = {1.0: True, 0.0: False, 0.5: None}[kleene_minmax(formula, values)]
    assert outcome.value is expected
    assert (outcome.value is None) == outcome.reason.startswith("cannot tell")
    assert set(outcome.missing) <= {n for n, v in values.items() if v is None}


@settings(max_examples=200, deadline=None)
@given(formulas, assignments)
def test_a_decided_value_holds_for_every_completion_of_the_missing_data(formula, values):
    outcome = parse_rule(render(formula)).evaluate(values)
    missing = [n for n, v in values.items() if v is None]
    results = set()
    for fill in itertools.product([True, False], repeat=len(missing)):
        results.add(classical(formula, {**values, **dict(zip(missing, fill, strict=True))}))
    if outcome.value is not None:
        assert results == {outcome.value}
    if not missing:
        assert outcome.value is not None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(TRUTH, min_size=1, max_size=5),
    st.integers(0, 6),
    st.sampled_from(["<", "<=", "==", "!=", ">", ">="]),
)
def test_count_true_is_exact_under_missing_data(values, k, op):
    names = [f"x{i}" for i in range(len(values))]
    rule = parse_rule(f"count_true({', '.join(names)}) {op} {k}")
    record = {n: v for n, v in zip(names, values, strict=True) if v is not None}
    compare = {
        "<": int.__lt__,
        "<=": int.__le__,
        "==": int.__eq__,
        "!=": int.__ne__,
        ">": int.__gt__,
        ">=": int.__ge__,
    }[op]
    missing = [n for n, v in zip(names, values, strict=True) if v is None]
    results = set()
    for fill in itertools.product([True, False], repeat=len(missing)):
        full = {**record, **dict(zip(missing, fill, strict=True))}
        results.add(compare(sum(full[n] for n in names), k))
    expected = results.pop() if len(results) == 1 else None
    assert rule.evaluate(record).value is expected


@settings(max_examples=200, deadline=None)
@given(
    st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)),
    st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)),
    st.integers(-400, 400),
)
def test_date_differences(a, b, threshold):
    record = {"a": a, "b": b}
    days = (b - a).days
    assert parse_rule(f"days_between(a, b) >= {threshold}").evaluate(record).value is (
        days >= threshold
    )
    assert parse_rule(f"7 <= days_between(a, b) <= {threshold}").evaluate(record).value is (
        7 <= days <= threshold
    )
    months = threshold / 10
    assert parse_rule(f"months_between(a, b) < {months}").evaluate(record).value is (
        days / 30.4375 < months
    )


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_arbitrary_text_parses_or_raises_rule_syntax_error_only(text):
    try:
        rule = parse_rule(text)
    except RuleSyntaxError as error:
        assert 1 <= error.column <= len(text) + 1
        assert 1 <= error.line <= text.count("\n") + 1
    else:
        assert isinstance(rule.names, tuple)


python_like = st.lists(
    st.sampled_from(
        [
            "a",
            "b",
            "1",
            "'s'",
            "(",
            ")",
            "[",
            "]",
            ",",
            ".",
            "==",
            "<",
            "and",
            "or",
            "not",
            "in",
            "__import__",
            "lambda",
            ":",
            "=",
            "+",
            "days_between",
            "is_missing",
            "count_true",
            "x.y",
            "f'",
            " ",
        ]
    ),
    max_size=12,
).map(" ".join)


@settings(max_examples=500, deadline=None)
@given(python_like)
def test_token_soup_never_escapes_the_grammar(text):
    try:
        rule = parse_rule(text)
    except RuleSyntaxError:
        return
    # whatever parsed only reads plain names and calls only the listed functions
    assert all(name.isidentifier() for name in rule.names)
    assert _called(rule.tree) <= set(FUNCTIONS)
    rule.evaluate({})  # evaluating an accepted rule on empty data never raises


def _called(node) -> set[str]:
    found = {node.function} if isinstance(node, Call) else set()
    for child in getattr(node, "operands", ()) or getattr(node, "args", ()) or ():
        found |= _called(child)
    if isinstance(node, Not):
        found |= _called(node.operand)
    return found

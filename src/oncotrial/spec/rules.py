"""The eligibility rule language: a small, safe expression language with three-valued logic.

A rule such as ``age >= 18`` or ``setting == 'adjuvant' or 7 <= days_between(last_dose_date,
screening_date) <= 56`` is turned into a tree by a hand-written tokenizer and
recursive-descent parser (no ``eval``, ``exec``, ``compile`` or ``ast`` of user text: the
language is defined here, not borrowed from Python, so nothing outside the grammar below
can ever run).

Grammar (EBNF; keywords are case-sensitive; ``True``/``False`` are accepted for
``true``/``false``)::

    rule       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand [ ("==" | "!=") operand
                          | ("<" | "<=") operand (("<" | "<=") operand)*
                          | (">" | ">=") operand ((">" | ">=") operand)*
                          | ("in" | "not" "in") list ]
    operand    := NUMBER | "-" NUMBER | STRING | "true" | "false" | NAME | call | list
                | "(" or_expr ")"
    call       := FUNCTION "(" [or_expr ("," or_expr)*] ")"
    list       := "[" [literal ("," literal)*] "]"

Functions: ``days_between(a, b)`` (``b - a`` in days), ``weeks_between`` (days / 7),
``months_between`` (days / 30.4375, the mean Gregorian month), ``years_between``
(days / 365.25), ``is_missing(name)``, ``count_true(c1, c2, ...)`` and ``date('YYYY-MM-DD')``.

Evaluation follows Kleene's strong three-valued logic (Kleene 1952, *Introduction to
Metamathematics*, §64), the logic SQL uses for NULL: a missing value makes a comparison
*unknown* (``None``); ``False and unknown = False``, ``True or unknown = True``,
``not unknown = unknown``. ``count_true`` is exact under missing data: it yields the range
of possible counts and a comparison on it is decided when every possible count agrees.
The user guide is ``docs/ELIGIBILITY.md``.
"""

from __future__ import annotations

import datetime as dt
import keyword
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oncotrial.errors import DataError, SpecError, describe_value

__all__ = [
    "ATTRIBUTE_TYPES",
    "FUNCTIONS",
    "Rule",
    "RuleError",
    "RuleOutcome",
    "RuleSyntaxError",
    "RuleTypeError",
    "attribute_view",
    "parse_rule",
]

ATTRIBUTE_TYPES = ("number", "integer", "boolean", "category", "date", "text")

FUNCTIONS: dict[str, str] = {
    "days_between": "days_between(date_a, date_b): days from date_a to date_b (b - a)",
    "weeks_between": "weeks_between(date_a, date_b): days / 7",
    "months_between": "months_between(date_a, date_b): days / 30.4375",
    "years_between": "years_between(date_a, date_b): days / 365.25",
    "is_missing": "is_missing(name): true when the value of attribute `name` is missing",
    "count_true": "count_true(c1, c2, ...): how many of the conditions are true",
    "date": "date('YYYY-MM-DD'): a date constant",
}

_DAYS_PER_UNIT = {
    "days_between": 1.0,
    "weeks_between": 7.0,
    "months_between": 30.4375,
    "years_between": 365.25,
}

ALLOWED = (
    "allowed: attribute names, numbers, 'strings', true/false, [lists of constants], "
    "comparisons (== != < <= > >= in, not in; chains like 7 <= x <= 56), and/or/not, "
    "parentheses, and the functions " + ", ".join(f"{name}()" for name in FUNCTIONS)
)


# --------------------------------------------------------------------------- errors


class RuleError(SpecError):
    """A rule is not valid (syntax, unknown attribute or type mismatch)."""

    def __init__(
        self, problem: str, text: str, position: int, where: str = "rule", hint: str = ""
    ) -> None:
        line = text.count("\n", 0, position) + 1
        line_start = text.rfind("\n", 0, position) + 1
        column = position - line_start + 1
        line_text = text.split("\n")[line - 1]
        at = f"column {column}" if "\n" not in text else f"line {line}, column {column}"
        message = f"{where}, {at}: {problem}\n    {line_text}\n    {' ' * (column - 1)}^" + (
            f"\n{hint}" if hint else ""
        )
        super().__init__(
            message,
            location=where,
            rule=text,
            line=line,
            column=column,
            problem=problem,
            expected=hint,
        )
        self.problem = problem
        self.text = text
        self.position = position
        self.line = line
        self.column = column


class RuleSyntaxError(RuleError):
    """The rule text is not in the rule language (see the module grammar)."""

    def __init__(self, problem: str, text: str, position: int, where: str = "rule") -> None:
        super().__init__(problem, text, position, where, hint=ALLOWED)


class RuleTypeError(RuleError):
    """The rule names an unknown attribute or compares values of incompatible types."""


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Token:
    kind: str  # NUMBER STRING NAME OP END
    value: Any
    start: int
    end: int


_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", ",", "-")
_FORBIDDEN = {
    ".": "attribute access ('.') is not allowed",
    ":": "':' is not allowed (no walrus, slices, lambdas or dicts)",
    "=": "single '=' is not allowed; compare with '=='",
    "&": "'&' is not allowed; use 'and'",
    "|": "'|' is not allowed; use 'or'",
    "!": "'!' is not allowed; use 'not' or '!='",
    "~": "'~' is not allowed; use 'not'",
    "+": "arithmetic is not allowed; use days_between()/months_between() for date differences",
    "*": "arithmetic is not allowed",
    "/": "arithmetic is not allowed",
    "%": "arithmetic is not allowed",
    "@": "'@' is not allowed",
    "{": "sets and dicts are not allowed; use a [list]",
    "}": "sets and dicts are not allowed; use a [list]",
    "\\": "backslashes are not allowed",
    "`": "backquotes are not allowed; quote strings with ' or \"",
    "#": "comments are not allowed inside a rule",
    ";": "';' is not allowed; a rule is one expression",
}
_RESERVED = {
    "None": "None is not a value; test for missing data with is_missing(name)",
    "null": "null is not a value; test for missing data with is_missing(name)",
    "is": "'is' is not allowed; use == or is_missing(name)",
}
_DIGITS = frozenset(string.digits)
_NAME_START = frozenset(string.ascii_letters + "_")
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "True", "False"}


def _tokenize(text: str, where: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            m = _NUMBER.match(text, i)
            assert m is not None
            raw = m.group()
            value: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
            if m.end() < n and (text[m.end()] in _NAME_START or text[m.end()] in _DIGITS):
                raise RuleSyntaxError(f"malformed number {text[i : m.end() + 1]!r}", text, i, where)
            tokens.append(_Token("NUMBER", value, i, m.end()))
            i = m.end()
            continue
        if ch in "'\"":
            close = text.find(ch, i + 1)
            if close < 0:
                raise RuleSyntaxError("string is not closed", text, i, where)
            tokens.append(_Token("STRING", text[i + 1 : close], i, close + 1))
            i = close + 1
            continue
        if ch in _NAME_START:
            m = _NAME.match(text, i)
            assert m is not None
            word = m.group()
            if m.end() < n and text[m.end()] in "'\"":
                raise RuleSyntaxError(
                    f"string prefixes such as {word}'...' (f-strings, raw or byte strings) "
                    "are not allowed",
                    text,
                    i,
                    where,
                )
            if word in _RESERVED:
                raise RuleSyntaxError(_RESERVED[word], text, i, where)
            if word not in _KEYWORDS and keyword.iskeyword(word):
                raise RuleSyntaxError(
                    f"Python keyword {word!r} is not part of the rule language", text, i, where
                )
            tokens.append(_Token("NAME", word, i, m.end()))
            i = m.end()
            continue
        if not ch.isascii() or not ch.isprintable():
            raise RuleSyntaxError(f"unexpected character {ch!r}", text, i, where)
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(_Token("OP", op, i, i + len(op)))
            i += len(op)
            continue
        if text.startswith(":=", i):
            raise RuleSyntaxError("assignment (':=') is not allowed", text, i, where)
        raise RuleSyntaxError(_FORBIDDEN.get(ch, f"unexpected character {ch!r}"), text, i, where)
    tokens.append(_Token("END", None, n, n))
    return tokens


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Node:
    """A node of the rule tree; ``start``/``end`` locate it in the rule text."""

    start: int
    end: int


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Literal(Node):
    value: float | int | str | bool | dt.date


@dataclass(frozen=True)
class ListLiteral(Node):
    items: tuple[Literal, ...]


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Compare(Node):
    operands: tuple[Node, ...]
    ops: tuple[str, ...]  # "==", "!=", "<", "<=", ">", ">=", "in", "not in"


_ORDER_UP = {"<", "<="}
_ORDER_DOWN = {">", ">="}
_COMPARE_OPS = {"==", "!=", "<", "<=", ">", ">="}


class _Parser:
    """Recursive-descent parser over the token list (grammar in the module docstring)."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.tokens = _tokenize(text, where)
        self.i = 0

    # helpers ------------------------------------------------------------
    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def _peek(self, offset: int = 1) -> _Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def _is(self, kind: str, value: Any = None) -> bool:
        return self.tok.kind == kind and (value is None or self.tok.value == value)

    def _advance(self) -> _Token:
        token = self.tok
        self.i += 1
        return token

    def _fail(self, problem: str, token: _Token | None = None) -> RuleSyntaxError:
        token = token or self.tok
        return RuleSyntaxError(problem, self.text, token.start, self.where)

    def _describe(self, token: _Token) -> str:
        if token.kind == "END":
            return "end of rule"
        return repr(self.text[token.start : token.end])

    def _expect(self, value: str, context: str) -> _Token:
        if not self._is("OP", value):
            raise self._fail(f"expected {value!r} {context}, found {self._describe(self.tok)}")
        return self._advance()

    # grammar ------------------------------------------------------------
    def parse(self) -> Node:
        if self.tok.kind == "END":
            raise self._fail("the rule is empty")
        node = self._or()
        self._check_conditions(node)
        if self.tok.kind != "END":
            token = self.tok
            problem = f"unexpected {self._describe(token)}"
            if token.kind == "OP" and token.value == "[":
                problem += "; subscripts are not allowed"
            elif token.kind == "OP" and token.value == "(":
                problem += "; only the listed functions can be called"
            else:
                problem += "; expected 'and', 'or', a comparison operator or the end of the rule"
            raise self._fail(problem)
        return node

    def _check_conditions(self, node: Node, condition: bool = True) -> None:
        """Constants and numeric functions can never be conditions, whatever the attributes."""
        if condition:
            numeric = isinstance(node, Call) and node.function != "is_missing"
            constant = isinstance(node, ListLiteral) or (
                isinstance(node, Literal) and not isinstance(node.value, bool)
            )
            if numeric or constant:
                raise RuleSyntaxError(
                    f"{' '.join(self.text[node.start : node.end].split())} is not a condition "
                    "(true/false); compare it, e.g. with >= or ==",
                    self.text,
                    node.start,
                    self.where,
                )
        if isinstance(node, BoolOp):
            for operand in node.operands:
                self._check_conditions(operand)
        elif isinstance(node, Not):
            self._check_conditions(node.operand)
        elif isinstance(node, Compare):
            for operand in node.operands:
                self._check_conditions(operand, condition=False)
        elif isinstance(node, Call):
            for arg in node.args:
                self._check_conditions(arg, condition=node.function == "count_true")

    def _or(self) -> Node:
        return self._bool_chain("or", self._and)

    def _and(self) -> Node:
        return self._bool_chain("and", self._not)

    def _bool_chain(self, op: str, sub: Any) -> Node:
        first = sub()
        operands = [first]
        while self._is("NAME", op):
            self._advance()
            operands.append(sub())
        if len(operands) == 1:
            return first
        return BoolOp(first.start, operands[-1].end, op, tuple(operands))

    def _not(self) -> Node:
        if self._is("NAME", "not"):
            token = self._advance()
            operand = self._not()
            return Not(token.start, operand.end, operand)
        return self._comparison()

    def _comparison_op(self) -> str | None:
        if self.tok.kind == "OP" and self.tok.value in _COMPARE_OPS:
            return str(self.tok.value)
        if self._is("NAME", "in"):
            return "in"
        if self._is("NAME", "not") and self._peek().kind == "NAME" and self._peek().value == "in":
            return "not in"
        return None

    def _comparison(self) -> Node:
        first = self._operand()
        operands: list[Node] = [first]
        ops: list[str] = []
        while (op := self._comparison_op()) is not None:
            op_token = self.tok
            self._advance()
            if op == "not in":
                self._advance()
            if ops:
                previous = ops[-1]
                same_direction = (previous in _ORDER_UP and op in _ORDER_UP) or (
                    previous in _ORDER_DOWN and op in _ORDER_DOWN
                )
                if not same_direction:
                    raise self._fail(
                        f"cannot chain {previous!r} with {op!r}; only chains in one direction "
                        "such as 7 <= x <= 56 are allowed, combine the rest with 'and'",
                        op_token,
                    )
            if op in ("in", "not in"):
                if not self._is("OP", "["):
                    raise self._fail(f"{op!r} must be followed by a [list] of constants")
                operands.append(self._list())
            else:
                operands.append(self._operand())
            ops.append(op)
        if not ops:
            return first
        return Compare(first.start, operands[-1].end, tuple(operands), tuple(ops))

    def _operand(self) -> Node:
        token = self.tok
        if token.kind == "NUMBER":
            self._advance()
            return Literal(token.start, token.end, token.value)
        if token.kind == "OP" and token.value == "-":
            self._advance()
            number = self.tok
            if number.kind != "NUMBER":
                raise self._fail("'-' must be followed by a number (no arithmetic)", token)
            self._advance()
            return Literal(token.start, number.end, -number.value)
        if token.kind == "STRING":
            self._advance()
            return Literal(token.start, token.end, token.value)
        if token.kind == "OP" and token.value == "[":
            return self._list()
        if token.kind == "OP" and token.value == "(":
            self._advance()
            if self._is("OP", ")"):
                raise self._fail("empty parentheses (tuples are not allowed)")
            inner = self._or()
            if self._is("OP", ","):
                raise self._fail("tuples are not allowed; use a [list] after 'in'")
            self._expect(")", "to close the parenthesis")
            return inner
        if token.kind == "NAME":
            if token.value in ("true", "True", "false", "False"):
                self._advance()
                return Literal(token.start, token.end, token.value in ("true", "True"))
            if token.value in ("and", "or", "in", "not"):
                raise self._fail(f"expected a value before {token.value!r}")
            self._advance()
            if self._is("OP", "("):
                return self._call(token)
            return Name(token.start, token.end, token.value)
        raise self._fail(f"expected a value, found {self._describe(token)}")

    def _list(self) -> ListLiteral:
        open_token = self._expect("[", "to open a list")
        items: list[Literal] = []
        while not self._is("OP", "]"):
            item = self._operand()
            if not isinstance(item, Literal):
                raise RuleSyntaxError(
                    "list items must be constants (numbers, strings, true/false)",
                    self.text,
                    item.start,
                    self.where,
                )
            items.append(item)
            if not self._is("OP", ","):
                break
            self._advance()
        close = self._expect("]", "to close the list")
        return ListLiteral(open_token.start, close.end, tuple(items))

    def _call(self, name_token: _Token) -> Node:
        function = str(name_token.value)
        if function not in FUNCTIONS:
            raise self._fail(
                f"unknown function {function!r}; functions are {', '.join(FUNCTIONS)}",
                name_token,
            )
        self._expect("(", "after the function name")
        args: list[Node] = []
        while not self._is("OP", ")"):
            args.append(self._or())
            if not self._is("OP", ","):
                break
            self._advance()
        close = self._expect(")", f"to close {function}(")
        call = Call(name_token.start, close.end, function, tuple(args))
        self._check_arity(call, name_token)
        if function == "date":
            return self._date_literal(call)
        return call

    def _check_arity(self, call: Call, token: _Token) -> None:
        n = len(call.args)
        expected = {"is_missing": 1, "date": 1, "count_true": None}.get(call.function, 2)
        if expected is None:
            if n == 0:
                raise self._fail("count_true() needs at least one condition", token)
        elif n != expected:
            raise self._fail(
                f"{call.function}() takes {expected} argument{'s' if expected > 1 else ''}, "
                f"got {n}",
                token,
            )
        if call.function == "is_missing" and not isinstance(call.args[0], Name):
            raise RuleSyntaxError(
                "is_missing() takes an attribute name", self.text, call.args[0].start, self.where
            )

    def _date_literal(self, call: Call) -> Literal:
        arg = call.args[0]
        if not (isinstance(arg, Literal) and isinstance(arg.value, str)):
            raise RuleSyntaxError(
                "date() takes a 'YYYY-MM-DD' string constant", self.text, arg.start, self.where
            )
        parsed = parse_iso_date(arg.value)
        if parsed is None:
            raise RuleSyntaxError(
                f"date({arg.value!r}) is not a valid YYYY-MM-DD date",
                self.text,
                arg.start,
                self.where,
            )
        return Literal(call.start, call.end, parsed)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_iso_date(text: str) -> dt.date | None:
    """``YYYY-MM-DD`` (ISO 8601 calendar date, extended format) or ``None`` if not one."""
    text = text.strip()
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------- attributes


@dataclass(frozen=True)
class AttributeView:
    """What the rule checker needs to know about a subject attribute."""

    name: str
    type: str
    levels: tuple[str, ...] | None = None
    unit: str | None = None


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def attribute_view(obj: Any) -> AttributeView:
    """Read ``name``/``type``/``levels``/``unit`` from a spec model, mapping or view."""
    if isinstance(obj, AttributeView):
        return obj
    name, kind = _get(obj, "name"), _get(obj, "type")
    kind = getattr(kind, "value", kind)  # enums
    if not isinstance(name, str) or kind not in ATTRIBUTE_TYPES:
        raise SpecError(
            f"subject attribute {describe_value(name)}: type {describe_value(kind)} is not one of "
            f"{', '.join(ATTRIBUTE_TYPES)}",
            field="subject_attributes",
            value=str(kind),
            expected=list(ATTRIBUTE_TYPES),
        )
    levels = _get(obj, "levels")
    return AttributeView(
        name=name,
        type=str(kind),
        levels=tuple(str(level) for level in levels) if levels is not None else None,
        unit=_get(obj, "unit"),
    )


def attribute_map(attributes: Iterable[Any]) -> dict[str, AttributeView]:
    """Attribute views keyed by name (accepts a mapping name -> attribute too)."""
    if isinstance(attributes, Mapping):
        attributes = attributes.values()
    views = [attribute_view(a) for a in attributes]
    return {v.name: v for v in views}


# --------------------------------------------------------------------------- static checks


@dataclass(frozen=True)
class _Type:
    kind: str  # number boolean date category text string list
    label: str  # for messages
    levels: tuple[str, ...] | None = None


_VALUE_KIND = {
    "number": "number",
    "integer": "number",
    "boolean": "boolean",
    "date": "date",
    "category": "category",
    "text": "text",
}


class _Checker:
    """Static name and type checks of a parsed rule against the subject attributes."""

    def __init__(self, rule: Rule, attributes: Mapping[str, AttributeView], where: str) -> None:
        self.rule = rule
        self.attributes = attributes
        self.where = where

    def _error(self, problem: str, node: Node, hint: str = "") -> RuleTypeError:
        return RuleTypeError(problem, self.rule.text, node.start, self.where, hint)

    def source(self, node: Node) -> str:
        return self.rule.source(node)

    def condition(self, node: Node) -> None:
        """``node`` must be a true/false condition."""
        t = self.type_of(node)
        if t.kind != "boolean":
            example = (
                f"{self.source(node)} >= ..."
                if t.kind == "number"
                else (f"{self.source(node)} == ...")
            )
            raise self._error(
                f"{t.label} is not a condition (true/false)",
                node,
                f"compare it, for example: {example}",
            )

    def type_of(self, node: Node) -> _Type:
        if isinstance(node, Name):
            attr = self.attributes.get(node.name)
            if attr is None:
                known = ", ".join(sorted(self.attributes)) or "(none declared)"
                raise self._error(
                    f"unknown attribute {node.name!r}",
                    node,
                    f"rules may only use the subject_attributes: {known}",
                )
            kind = _VALUE_KIND[attr.type]
            return _Type(kind, f"{node.name} ({attr.type})", attr.levels)
        if isinstance(node, Literal):
            v = node.value
            if isinstance(v, bool):
                return _Type("boolean", f"{self.source(node)} (boolean)")
            if isinstance(v, (int, float)):
                return _Type("number", f"{self.source(node)} (number)")
            if isinstance(v, dt.date):
                return _Type("date", f"{self.source(node)} (date)")
            return _Type("string", f"{self.source(node)} (string)")
        if isinstance(node, ListLiteral):
            return _Type("list", f"{self.source(node)} (list)")
        if isinstance(node, Not):
            self.condition(node.operand)
            return _Type("boolean", self.source(node))
        if isinstance(node, BoolOp):
            for operand in node.operands:
                self.condition(operand)
            return _Type("boolean", self.source(node))
        if isinstance(node, Compare):
            self._compare(node)
            return _Type("boolean", self.source(node))
        assert isinstance(node, Call)
        return self._call(node)

    def _call(self, node: Call) -> _Type:
        if node.function in _DAYS_PER_UNIT:
            for arg in node.args:
                t = self.type_of(arg)
                if t.kind != "date":
                    raise self._error(
                        f"{node.function}() needs dates, got {t.label}",
                        arg,
                        "pass date attributes or date('YYYY-MM-DD')",
                    )
            return _Type("number", f"{self.source(node)} (number)")
        if node.function == "is_missing":
            self.type_of(node.args[0])  # the name must exist
            return _Type("boolean", self.source(node))
        assert node.function == "count_true"
        for arg in node.args:
            self.condition(arg)
        return _Type("number", f"{self.source(node)} (number)")

    def _compare(self, node: Compare) -> None:
        types = [self.type_of(operand) for operand in node.operands]
        for i, op in enumerate(node.ops):
            left, right = types[i], types[i + 1]
            left_node, right_node = node.operands[i], node.operands[i + 1]
            if op in ("in", "not in"):
                assert isinstance(right_node, ListLiteral)
                for item in right_node.items:
                    self._pair(left, self.type_of(item), "==", item)
            else:
                self._pair(left, right, op, right_node if right.kind != "category" else left_node)

    def _pair(self, left: _Type, right: _Type, op: str, node: Node) -> None:
        textual = {"category", "text", "string"}
        if not (left.kind == right.kind or (left.kind in textual and right.kind in textual)):
            hint = ""
            if "date" in (left.kind, right.kind):
                hint = (
                    "write date constants as date('YYYY-MM-DD'); differences of dates with "
                    "days_between(a, b) / months_between(a, b)"
                )
            raise self._error(f"cannot compare {left.label} with {right.label}", node, hint)
        if op not in ("==", "!=") and left.kind not in ("number", "date"):
            raise self._error(
                f"{op!r} needs two numbers or two dates, not {left.label} and {right.label}",
                node,
                "use == / != / in for categories, text and booleans",
            )
        if left.kind == "category" and right.kind == "string":
            self._level(left, node)
        elif right.kind == "category" and left.kind == "string":
            self._level(right, node)

    def _level(self, category: _Type, node: Node) -> None:
        assert isinstance(node, Literal)
        levels = category.levels or ()
        if node.value not in levels:
            raise self._error(
                f"{node.value!r} is not a level of {category.label}",
                node,
                "valid levels: " + ", ".join(repr(level) for level in levels),
            )


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class RuleOutcome:
    """The three-valued result of a rule for one record.

    ``value`` is ``True``, ``False`` or ``None`` (cannot tell: data missing); ``reason``
    explains it with the values used; ``missing`` names the attributes whose absence left
    the value undecided (empty unless ``value is None``).
    """

    value: bool | None
    reason: str
    missing: tuple[str, ...] = ()


class _Missing:
    """The missing value (``unknown`` in Kleene logic)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


@dataclass(frozen=True)
class _CountRange:
    """The possible values of ``count_true`` when some conditions are unknown."""

    low: int
    high: int


@dataclass(frozen=True)
class _Value:
    value: Any
    missing: tuple[str, ...] = ()
    reason: str = ""
    bindings: tuple[str, ...] = field(default=())


def is_missing_value(value: Any) -> bool:
    """``None``, NaN, ``pd.NA`` and ``NaT`` are missing."""
    if value is None or value is MISSING:
        return True
    if isinstance(value, (str, bool, list, tuple, dict)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """numpy/pandas scalars -> Python; timestamps -> dates."""
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, np.generic):
        return value.item()
    return value


def format_value(value: Any) -> str:
    """How a value is shown in a reason: numbers without noise, dates ISO, strings quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.6g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, _CountRange):
        return f"between {value.low} and {value.high}"
    return repr(value)


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _missing_reason(names: Sequence[str]) -> str:
    if not names:
        return "cannot tell"
    if len(names) == 1:
        return f"cannot tell: {names[0]} is missing"
    return f"cannot tell: {', '.join(names[:-1])} and {names[-1]} are missing"


def _compare_values(left: Any, op: str, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "in":
        return left in right
    assert op == "not in"
    return left not in right


def _kleene_compare(left: Any, op: str, right: Any) -> bool | None:
    """Compare, with count ranges decided only when every possible count agrees."""
    lefts = range(left.low, left.high + 1) if isinstance(left, _CountRange) else [left]
    rights = range(right.low, right.high + 1) if isinstance(right, _CountRange) else [right]
    results = {_compare_values(a, op, b) for a in lefts for b in rights}
    return results.pop() if len(results) == 1 else None


class _Evaluator:
    def __init__(self, rule: Rule, record: Mapping[str, Any] | Any) -> None:
        self.rule = rule
        self.record = record

    def lookup(self, node: Name) -> Any:
        record = self.record
        if isinstance(record, Mapping) or hasattr(record, "get"):
            value = record.get(node.name)
        else:
            value = getattr(record, node.name, None)
        return MISSING if is_missing_value(value) else _plain(value)

    def truth(self, node: Node) -> _Value:
        """Evaluate a condition to True/False/MISSING with its reason."""
        if isinstance(node, BoolOp):
            return self._bool_op(node)
        if isinstance(node, Not):
            inner = self.truth(node.operand)
            if inner.value is MISSING:
                return inner
            return _Value(not inner.value, (), inner.reason)
        if isinstance(node, Compare):
            return self._compare(node)
        if isinstance(node, Call) and node.function == "is_missing":
            arg = node.args[0]
            assert isinstance(arg, Name)
            value = self.lookup(arg)
            if value is MISSING:
                return _Value(True, (), f"{arg.name} is missing")
            return _Value(False, (), f"{arg.name} = {format_value(value)} (not missing)")
        value = self.value(node)
        if value.value is MISSING:
            return _Value(MISSING, value.missing, _missing_reason(value.missing))
        if not isinstance(value.value, bool):
            raise DataError(
                f"{self.rule.where}: {self.rule.source(node)} = {format_value(value.value)} is "
                "not true/false; a condition needs a comparison",
                rule=self.rule.text,
                value=format_value(value.value),
            )
        if isinstance(node, Literal):
            return _Value(node.value, (), f"always {format_value(node.value)}")
        return _Value(value.value, (), f"{self.rule.source(node)} = {format_value(value.value)}")

    def _bool_op(self, node: BoolOp) -> _Value:
        results = [self.truth(operand) for operand in node.operands]
        decisive = node.op == "or"  # True decides 'or', False decides 'and'
        deciders = [r for r in results if r.value is decisive]
        if deciders:
            return _Value(decisive, (), "; ".join(_dedupe(r.reason for r in deciders)))
        unknown = [r for r in results if r.value is MISSING]
        if unknown:
            missing = _dedupe(name for r in unknown for name in r.missing)
            return _Value(MISSING, missing, _missing_reason(missing))
        return _Value(not decisive, (), "; ".join(_dedupe(r.reason for r in results)))

    def _compare(self, node: Compare) -> _Value:
        operands = [self.value(operand) for operand in node.operands]
        outcome: bool | None = True
        missing: list[str] = []
        for i, op in enumerate(node.ops):
            left, right = operands[i].value, operands[i + 1].value
            if left is MISSING or right is MISSING:
                missing.extend(operands[i].missing + operands[i + 1].missing)
                result: bool | None = None
            else:
                result = self._safe_compare(node, left, op, right)
            if result is False:
                outcome = False
            elif result is None and outcome is not False:
                outcome = None
        bindings = ", ".join(_dedupe(b for operand in operands for b in operand.bindings))
        source = self.rule.source(node)
        if outcome is None:
            names = _dedupe(missing)
            return _Value(MISSING, names, _missing_reason(names))
        if outcome:
            return _Value(True, (), f"{bindings} (meets {source})" if bindings else source)
        return _Value(False, (), f"{bindings} (needs {source})" if bindings else f"not {source}")

    def _safe_compare(self, node: Compare, left: Any, op: str, right: Any) -> bool | None:
        try:
            return _kleene_compare(left, op, right)
        except TypeError:
            raise DataError(
                f"{self.rule.where}: cannot compare {format_value(left)} with "
                f"{format_value(right)} in {self.rule.source(node)!r}",
                rule=self.rule.text,
                value=f"{format_value(left)} {op} {format_value(right)}",
            ) from None

    def value(self, node: Node) -> _Value:
        """Evaluate an operand (a value, not necessarily a condition)."""
        if isinstance(node, Literal):
            return _Value(node.value)
        if isinstance(node, ListLiteral):
            return _Value([item.value for item in node.items])
        if isinstance(node, Name):
            v = self.lookup(node)
            if v is MISSING:
                return _Value(MISSING, (node.name,))
            return _Value(v, (), "", (f"{node.name} = {format_value(v)}",))
        if isinstance(node, Call) and node.function in _DAYS_PER_UNIT:
            return self._date_difference(node)
        if isinstance(node, Call) and node.function == "count_true":
            results = [self.truth(arg) for arg in node.args]
            low = sum(r.value is True for r in results)
            unknown = [r for r in results if r.value is MISSING]
            count = _CountRange(low, low + len(unknown))
            shown = count.low if count.low == count.high else count
            missing = _dedupe(name for r in unknown for name in r.missing)
            binding = f"{self.rule.source(node)} = {format_value(shown)}"
            return _Value(shown, missing, "", (binding,))
        truth = self.truth(node)
        if truth.value is MISSING:
            return _Value(MISSING, truth.missing)
        return _Value(truth.value, (), "", (truth.reason,))

    def _date_difference(self, node: Call) -> _Value:
        dates: list[Any] = []
        missing: list[str] = []
        for arg in node.args:
            v = self.value(arg)
            if v.value is MISSING:
                missing.extend(v.missing)
            dates.append(v.value)
        if missing:
            return _Value(MISSING, _dedupe(missing))
        first, second = (self._as_date(node, d) for d in dates)
        days = (second - first).days
        result: float | int = (
            days if node.function == "days_between" else (days / _DAYS_PER_UNIT[node.function])
        )
        binding = f"{self.rule.source(node)} = {format_value(result)}"
        return _Value(result, (), "", (binding,))

    def _as_date(self, node: Call, value: Any) -> dt.date:
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and (parsed := parse_iso_date(value)) is not None:
            return parsed
        raise DataError(
            f"{self.rule.where}: {node.function}() needs dates, got {format_value(value)}",
            rule=self.rule.text,
            value=format_value(value),
            expected="a date (YYYY-MM-DD)",
        )


# --------------------------------------------------------------------------- the rule


def _walk(node: Node) -> Iterable[Node]:
    yield node
    children: Sequence[Node] = ()
    if isinstance(node, (BoolOp, Compare)):
        children = node.operands
    elif isinstance(node, Not):
        children = (node.operand,)
    elif isinstance(node, Call):
        children = node.args
    elif isinstance(node, ListLiteral):
        children = node.items
    for child in children:
        yield from _walk(child)


@dataclass(frozen=True)
class Rule:
    """A parsed eligibility rule: its text, tree and where it came from (for messages)."""

    text: str
    tree: Node
    where: str = "rule"

    @property
    def names(self) -> tuple[str, ...]:
        """Attribute names the rule reads, in order of first appearance."""
        return _dedupe(node.name for node in _walk(self.tree) if isinstance(node, Name))

    def source(self, node: Node) -> str:
        """The rule text of ``node``, whitespace collapsed."""
        return " ".join(self.text[node.start : node.end].split())

    def check_names(self, attributes: Iterable[Any], where: str | None = None) -> None:
        """Check the rule against the subject attributes: names exist, types fit.

        Raises :class:`RuleTypeError` (a :class:`SpecError`) naming the unknown attribute and
        the known ones, a category level that is not in ``levels`` (listing valid levels),
        or a comparison of incompatible types (a date with a number, an ordering comparison
        of categories...). ``where`` (e.g. the YAML path) prefixes the message.
        """
        checker = _Checker(self, attribute_map(attributes), where or self.where)
        checker.condition(self.tree)

    check = check_names

    def evaluate(self, record: Mapping[str, Any] | Any) -> RuleOutcome:
        """Evaluate for one subject (Kleene three-valued logic, see module docstring).

        ``record`` maps attribute names to values (dict, pandas Series, or an object with
        attributes); an absent name, ``None``, NaN, ``pd.NA`` and ``NaT`` are missing.
        """
        result = _Evaluator(self, record).truth(self.tree)
        if result.value is MISSING:
            return RuleOutcome(None, result.reason, result.missing)
        return RuleOutcome(bool(result.value), result.reason, ())

    def __str__(self) -> str:
        return " ".join(self.text.split())


def parse_rule(text: str, where: str = "rule") -> Rule:
    """Parse ``text`` into a :class:`Rule` or raise :class:`RuleSyntaxError`.

    ``where`` (for example ``eligibility.inclusion[6].rule``) prefixes error messages.
    Parsing never executes anything: the text is tokenized and parsed by the grammar in
    this module's docstring.
    """
    if not isinstance(text, str):
        raise SpecError(
            f"{where}: a rule must be a string, got {describe_value(text)}",
            location=where,
            value=describe_value(text),
        )
    tree = _Parser(text, where).parse()
    return Rule(text=text, tree=tree, where=where)

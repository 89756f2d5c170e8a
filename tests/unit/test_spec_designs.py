"""The numbers recorded in the example specs' ``design: computed:`` blocks are exactly what
the design calculators give for those blocks (so the specs can never drift from the code)."""

from __future__ import annotations

from typing import Any

import pytest

import oncotrial.cli.design_binary  # noqa: F401  (registers the single-arm / dose handlers)
from oncotrial.cli.design import SPEC_HANDLERS, _design_blocks
from oncotrial.spec import EXAMPLES, load_spec

BLOCKS = [
    (name, where, block)
    for name in EXAMPLES
    for where, block in _design_blocks(load_spec(name))
    if block.get("computed")
]


def _lookup(result: dict[str, Any], key: str) -> Any:
    if key in result:
        return result[key]
    patients = result.get("patients") or {}
    if key in patients:
        return patients[key]
    raise AssertionError(f"calculator result has no {key!r}")


def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text else 0


def test_every_calculated_example_records_its_numbers() -> None:
    where = {(name, w) for name, w, _ in BLOCKS}
    assert ("palmira", "design") in where
    assert ("abemaciclib_rechallenge", "design") in where
    assert {("accru_br_1801", "cohorts[0].design"), ("accru_br_1801", "cohorts[1].design")} <= where


@pytest.mark.parametrize(("name", "where", "block"), BLOCKS, ids=[f"{n}:{w}" for n, w, _ in BLOCKS])
def test_recorded_numbers_equal_the_calculator(name: str, where: str, block: dict) -> None:
    result = SPEC_HANDLERS[block["type"]](block, where)
    out = result.to_dict()
    for key, recorded in block["computed"].items():
        if key == "method":
            assert result.spec_block()["method"] == recorded, (name, where, key)
            continue
        value = _lookup(out, key)
        if isinstance(recorded, float):
            assert round(float(value), _decimals(recorded)) == recorded, (name, where, key, value)
        else:
            assert value == recorded, (name, where, key, value)


def test_published_numbers_are_the_computed_ones_where_a_method_reproduces_them() -> None:
    palmira = load_spec("palmira").design
    assert palmira is not None and palmira.computed["events"] == 127
    assert palmira.model_dump()["n"] == palmira.published["n"] == 198
    abema = load_spec("abemaciclib_rechallenge").design
    assert abema is not None
    assert (abema.computed["n"], abema.computed["n_enrolled"]) == (
        abema.published["n_evaluable"],
        abema.published["n_planned"],
    )
    for cohort in load_spec("accru_br_1801").cohorts:
        d = cohort.design
        assert (d.computed["n"], d.computed["events"]) == (
            d.published["n"],
            d.published["futility_events"],
        )

"""Laboratory units: the few conversions CTCAE grading needs, as a small table.

CTCAE v5.0 states count thresholds in /mm3 and 10e9/L, hemoglobin in g/dL, mmol/L and g/L,
and bilirubin, creatinine and enzymes as multiples of ULN or baseline. Values are converted
into the unit a criterion is written in; conversions are exact Decimal multiplications
(x1000, x0.1) except umol/L -> mg/dL (division by 17.1 for bilirubin, 88.4 for creatinine),
which is only needed when a baseline is in another unit than the value it is compared with.

Sources of the factors: 10^9/L = 10^3/uL = 1000/mm3 (1 mm3 = 1 uL); g/L = 0.1 g/dL;
bilirubin 1 mg/dL = 17.1 umol/L (molar mass 584.7 g/mol); creatinine 1 mg/dL = 88.4 umol/L
(molar mass 113.1 g/mol); 1 ukat/L = 60 U/L (1 U = 1 umol/min).
"""

from __future__ import annotations

from decimal import Decimal

# quantity -> unit (normalized spelling) -> (canonical unit, multiplier, divisor)
_TABLE: dict[str, dict[str, tuple[str, Decimal, Decimal]]] = {
    "count": {
        "/mm3": ("/mm3", Decimal(1), Decimal(1)),
        "/uL": ("/mm3", Decimal(1), Decimal(1)),
        "10^9/L": ("/mm3", Decimal(1000), Decimal(1)),
        "10^3/uL": ("/mm3", Decimal(1000), Decimal(1)),
        "10^3/mm3": ("/mm3", Decimal(1000), Decimal(1)),
    },
    "hemoglobin": {
        "g/dL": ("g/dL", Decimal(1), Decimal(1)),
        "g/L": ("g/dL", Decimal("0.1"), Decimal(1)),
        "mmol/L": ("mmol/L", Decimal(1), Decimal(1)),  # graded on CTCAE's own mmol/L numbers
    },
    "bilirubin": {
        "mg/dL": ("mg/dL", Decimal(1), Decimal(1)),
        "umol/L": ("mg/dL", Decimal(1), Decimal("17.1")),
    },
    "creatinine": {
        "mg/dL": ("mg/dL", Decimal(1), Decimal(1)),
        "umol/L": ("mg/dL", Decimal(1), Decimal("88.4")),
    },
    "enzyme": {
        "U/L": ("U/L", Decimal(1), Decimal(1)),
        "ukat/L": ("U/L", Decimal(60), Decimal(1)),
    },
}

_SPELLINGS = {
    "/mm3": "/mm3",
    "cells/mm3": "/mm3",
    "/ul": "/uL",
    "cells/ul": "/uL",
    "10^9/l": "10^9/L",
    "x10^9/l": "10^9/L",
    "10e9/l": "10^9/L",
    "10**9/l": "10^9/L",
    "x10e9/l": "10^9/L",
    "gi/l": "10^9/L",
    "10^3/ul": "10^3/uL",
    "x10^3/ul": "10^3/uL",
    "k/ul": "10^3/uL",
    "10^3/mm3": "10^3/mm3",
    "g/dl": "g/dL",
    "g/l": "g/L",
    "mmol/l": "mmol/L",
    "mg/dl": "mg/dL",
    "umol/l": "umol/L",
    "u/l": "U/L",
    "iu/l": "U/L",
    "ukat/l": "ukat/L",
}


def normalize_unit(unit: str) -> str | None:
    """A unit's standard spelling (``'10E9/L'`` -> ``'10^9/L'``), None if unknown."""
    key = "".join(str(unit).split()).replace("µ", "u").replace("μ", "u").lower()
    return _SPELLINGS.get(key)


def units_of(quantity: str) -> list[str]:
    """The units accepted for a quantity (count, hemoglobin, bilirubin, creatinine, enzyme)."""
    return list(_TABLE[quantity])


def convert(value: Decimal, unit: str, quantity: str) -> tuple[Decimal, str]:
    """``value`` in ``unit`` expressed in the quantity's canonical unit: (value, unit)."""
    canonical, multiplier, divisor = _TABLE[quantity][unit]
    return value * multiplier / divisor, canonical


def same_unit(value: Decimal, unit: str, target_unit: str, quantity: str) -> Decimal:
    """``value`` in ``unit`` re-expressed in ``target_unit`` of the same quantity."""
    if unit == target_unit:
        return value
    in_canonical, _ = convert(value, unit, quantity)
    _, multiplier, divisor = _TABLE[quantity][target_unit]
    return in_canonical * divisor / multiplier

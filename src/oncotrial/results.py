"""Shared behaviour of result objects: results are data.

Every computation returns a frozen dataclass that inherits :class:`Result`, which gives:

* ``to_dict()``: a JSON-ready dict with stable field names (numpy scalars and arrays become
  Python numbers and lists, NaN and infinities become ``None``, dates ISO strings);
* ``to_json()``: the same as a JSON string;
* ``to_frame()``: a tidy :class:`pandas.DataFrame` (subclasses override this when their
  natural table is not one row of scalar fields);
* a readable ``__str__`` (subclasses override ``summary()``) and ``_repr_html_`` for notebooks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """Convert ``value`` recursively into JSON-serialisable Python objects.

    Non-finite floats become ``None`` (JSON has no NaN): a value that does not exist, such
    as a median not reached, is ``null`` in the output rather than an invalid token.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "model_dump"):  # pydantic models
        return jsonable(value.model_dump(mode="json"))
    return str(value)


class Result:
    """Mixin for frozen result dataclasses (see module docstring)."""

    def to_dict(self) -> dict[str, Any]:
        assert dataclasses.is_dataclass(self)
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_frame(self) -> pd.DataFrame:
        flat = {k: v for k, v in self.to_dict().items() if not isinstance(v, (dict, list))}
        return pd.DataFrame([flat])

    def summary(self) -> str:
        lines = [type(self).__name__]
        for key, value in self.to_dict().items():
            lines.append(f"  {key}: {value}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(self.summary())}</pre>"

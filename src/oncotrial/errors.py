"""One exception family for every error a user can cause.

Every message names *where* (field path, file, row, column), *what* (the bad value) and
*what would be valid*. The CLI maps :class:`OncotrialError` to exit code 1 and anything
else to exit code 2 (an internal error, i.e. a bug in oncotrial).
"""

from __future__ import annotations

from typing import Any


class OncotrialError(Exception):
    """Base class of all errors caused by user input.

    ``details`` is a JSON-serialisable mapping (location, value, expected...) that the
    CLI prints under ``--json`` so scripts can act on the error.
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "message": self.message, **self.details}


class SpecError(OncotrialError):
    """A trial spec is invalid (YAML syntax, schema, or cross-field consistency)."""


class DataError(OncotrialError):
    """A data file or data frame breaks its column contract (missing column, bad value...)."""


class InputError(OncotrialError):
    """A function or command argument is outside its valid range."""


def describe_value(value: Any, limit: int = 60) -> str:
    """Short printable form of a bad value for an error message (numpy scalars as Python)."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class OncotrialWarning(UserWarning):
    """Base class of warnings about a result that exists but needs care (e.g. an infinite
    Cox coefficient). Filter with ``warnings.simplefilter(..., OncotrialWarning)``."""

"""Derivation options kept as data: partial-date imputation per column and how the records
of one adverse event are grouped for treatment-emergence by worsening.

Both are off (today's behaviour) unless a YAML file or mapping turns them on::

    date_imputation:            # raw column -> admiral derive_vars_dt arguments
      AE.AESTDTC: {highest_imputation: M, date_imputation: first}
      AE.AEENDTC: {highest_imputation: M}          # date_imputation defaults to last here
      DM.DTHDTC: {highest_imputation: D}
    treatment_emergent:
      group_by: AEGRPID         # AEGRPID (default) | AEDECOD | none

``highest_imputation`` is ``n`` (none: a partial date is an error), ``D``, ``M`` or ``Y``
(``Y`` only for AE.AESTDTC: a missing onset is imputed to the first dose; elsewhere there is
no minimum or maximum date to impute a year from, and an empty AEENDTC means ongoing).
``date_imputation`` is ``first``, ``mid`` or ``last``; default ``first``, except ``last`` for
AE.AEENDTC (admiral's ADAE template). Rules in docs/DERIVATIONS.md, "Partial dates".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from oncotrial.derive.contracts import RAW
from oncotrial.derive.dates import LEVELS, POSITIONS, Level, Position
from oncotrial.errors import InputError
from oncotrial.results import Result

GroupBy = Literal["AEGRPID", "AEDECOD", "none"]
GROUP_BY: tuple[str, ...] = ("AEGRPID", "AEDECOD", "none")
_DEFAULT_POSITION = {("AE", "AEENDTC"): "last"}
_YEAR_ALLOWED = {("AE", "AESTDTC")}


@dataclass(frozen=True)
class DateRule:
    """Imputation of one raw date column (admiral ``derive_vars_dt`` arguments)."""

    domain: str
    column: str
    highest_imputation: Level
    date_imputation: Position

    @property
    def name(self) -> str:
        return f"{self.domain}.{self.column}"

    def words(self) -> str:
        return (
            f"{self.name}: highest_imputation {self.highest_imputation}, "
            f"date_imputation {self.date_imputation}"
        )


@dataclass(frozen=True)
class DerivationOptions(Result):
    """The imputation rules (only columns with a level other than ``n``) and the grouping
    of AE records (``AEGRPID``: the raw column when given; ``AEDECOD``: same preferred term;
    ``none``: every record alone)."""

    date_rules: tuple[DateRule, ...] = ()
    group_by: GroupBy = "AEGRPID"
    source: str | None = field(default=None, compare=False)

    def rule(self, domain: str, column: str) -> DateRule | None:
        for r in self.date_rules:
            if r.domain == domain and r.column == column:
                return r
        return None

    def levels(self, domain: str) -> dict[str, Level]:
        """Column -> highest imputation level for the imputed columns of ``domain``."""
        return {r.column: r.highest_imputation for r in self.date_rules if r.domain == domain}

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "date_imputation": {
                r.name: {
                    "highest_imputation": r.highest_imputation,
                    "date_imputation": r.date_imputation,
                }
                for r in self.date_rules
            }
            or "none (partial dates are errors)",
            "treatment_emergent": {"group_by": self.group_by},
        }

    def summary(self) -> str:
        dates = "; ".join(r.words() for r in self.date_rules) or "no date imputation"
        return f"{dates}; AE records grouped by {self.group_by}"


def load_options(
    source: DerivationOptions | str | Path | Mapping[str, Any] | None,
) -> DerivationOptions:
    """Options from a YAML file, a mapping, or None (everything off); options pass through."""
    if source is None:
        return DerivationOptions()
    if isinstance(source, DerivationOptions):
        return source
    where: str | None = None
    if isinstance(source, Mapping):
        data: Any = source
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise InputError(f"{path}: derivation options file not found", argument="options")
        try:
            data = yaml.safe_load(path.read_text("utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"{path}: not valid YAML ({exc})", argument="options") from None
    if not isinstance(data, Mapping):
        raise _bad("options", data, "a mapping with date_imputation and treatment_emergent")
    unknown = sorted(set(map(str, data)) - {"date_imputation", "treatment_emergent"})
    if unknown:
        raise _bad(unknown[0], unknown[0], "date_imputation, treatment_emergent")
    rules = _date_rules(data.get("date_imputation") or {})
    group_by = _group_by(data.get("treatment_emergent") or {})
    return DerivationOptions(rules, group_by, where)


def _date_rules(block: Any) -> tuple[DateRule, ...]:
    if not isinstance(block, Mapping):
        raise _bad("date_imputation", block, "a mapping DOMAIN.COLUMN -> settings")
    out = []
    for key, settings in block.items():
        domain, column = _date_column(str(key))
        path = f"date_imputation.{key}"
        if not isinstance(settings, Mapping):
            raise _bad(path, settings, "a mapping with highest_imputation, date_imputation")
        extra = sorted(set(map(str, settings)) - {"highest_imputation", "date_imputation"})
        if extra:
            raise _bad(f"{path}.{extra[0]}", extra[0], "highest_imputation, date_imputation")
        level = str(settings.get("highest_imputation", "n"))
        if level not in LEVELS:
            raise _bad(f"{path}.highest_imputation", level, ", ".join(LEVELS))
        position = str(
            settings.get("date_imputation", _DEFAULT_POSITION.get((domain, column), "first"))
        )
        if position not in POSITIONS:
            raise _bad(f"{path}.date_imputation", position, ", ".join(POSITIONS))
        if level == "Y" and (domain, column) not in _YEAR_ALLOWED:
            raise _bad(
                f"{path}.highest_imputation",
                level,
                "n, D or M (Y imputes a wholly missing date from a minimum or maximum date; "
                "only AE.AESTDTC has one: the first dose)",
            )
        if level == "Y" and position == "mid":
            raise _bad(f"{path}.date_imputation", position, "first or last with level Y")
        if level != "n":
            out.append(DateRule(domain, column, level, position))
    return tuple(out)


def _date_column(key: str) -> tuple[str, str]:
    domain, _, column = key.upper().partition(".")
    dates = sorted(
        f"{d}.{c.name}" for d, contract in RAW.items() for c in contract.columns if c.type == "date"
    )
    contract = RAW.get(domain)
    if contract is None or column not in contract.names or contract.column(column).type != "date":
        raise _bad(f"date_imputation.{key}", key, "a raw date column: " + ", ".join(dates))
    return domain, column


def _group_by(block: Any) -> GroupBy:
    if not isinstance(block, Mapping) or set(map(str, block)) - {"group_by"}:
        raise _bad("treatment_emergent", block, "a mapping with group_by")
    value = str(block.get("group_by", "AEGRPID"))
    if value not in GROUP_BY:
        raise _bad("treatment_emergent.group_by", value, ", ".join(GROUP_BY))
    return value  # type: ignore[return-value]


def _bad(path: str, value: Any, valid: str) -> InputError:
    return InputError(
        f"derivation options: {path} = {value!r} is not valid; valid: {valid}",
        argument=path,
        value=repr(value),
        valid=valid,
    )


__all__ = ["GROUP_BY", "DateRule", "DerivationOptions", "load_options"]

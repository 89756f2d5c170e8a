"""Named conventions profiles: the defaults where SAS and R disagree.

The field's most frequent silent mismatch is a default that differs between software
(median CI transform: SAS PROC LIFETEST uses log-log, R ``survfit`` uses log; Cox ties:
SAS PROC PHREG uses Breslow, R ``coxph`` uses Efron). oncotrial makes the choice a named
profile, chosen once in the trial spec or per call, and every result carries the
:class:`Conventions` it used. See docs/CONVENTIONS.md for each item and its source.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Literal

from oncotrial.errors import InputError

ConfType = Literal["log", "log-log", "plain", "logit", "arcsin"]
Ties = Literal["efron", "breslow"]
QuantileRule = Literal["sas", "r"]
ProfileName = Literal["sas", "r"]

PROFILES: tuple[str, ...] = ("sas", "r")
CONF_TYPES: tuple[str, ...] = ("log", "log-log", "plain", "logit", "arcsin")
TIES: tuple[str, ...] = ("efron", "breslow")

DAYS_PER_MONTH = 30.4375
"""Days in an average Gregorian month (365.25 / 12); months for display are days / 30.4375."""


@dataclass(frozen=True)
class Conventions:
    """Every convention a result depends on.

    Attributes:
        profile: the profile the defaults came from (``"sas"`` or ``"r"``), or ``"custom"``
            once an item has been overridden.
        conf_type: transform of the pointwise survival CI (and hence of the median CI).
        conf_level: two-sided confidence level, e.g. 0.95.
        ties: Cox partial-likelihood approximation for tied event times.
        quantile_rule: how a quantile is read off a curve that sits exactly at 1 - p over an
            interval. Both SAS and R take the midpoint of the flat stretch; they differ when the
            curve stays at 1 - p to the end of follow-up (``"r"``: midpoint with the last
            follow-up time; ``"sas"``: missing). See docs/CONVENTIONS.md, "Kaplan-Meier".
        at_risk: rule for the risk set at time t (subjects with time >= t, i.e. censored
            at t still at risk, as both SAS and R do).
        sides: sidedness of the reported p-values (2, or 1 for a signed one-sided test).
        rounding: how displayed numbers are rounded (``"half-even"`` as Python/R print, or
            ``"half-up"`` as SAS formats and journals do).
    """

    profile: str = "r"
    conf_type: str = "log"
    conf_level: float = 0.95
    ties: str = "efron"
    quantile_rule: str = "r"
    at_risk: str = "time >= t (censored at t remain at risk at t)"
    sides: int = 2
    rounding: str = "half-up"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def footnote(self) -> str:
        """One line for a table or figure footnote."""
        return (
            f"Conventions: profile {self.profile}; {self.conf_level:.0%} CI, {self.conf_type} "
            f"transform; ties {self.ties}; median rule {self.quantile_rule}; "
            f"{self.sides}-sided p-values; rounding {self.rounding}."
        )


_PROFILE_DEFAULTS: dict[str, Conventions] = {
    "sas": Conventions(profile="sas", conf_type="log-log", ties="breslow", quantile_rule="sas"),
    "r": Conventions(profile="r", conf_type="log", ties="efron", quantile_rule="r"),
}


def resolve(
    profile: str = "r",
    *,
    conf_type: str | None = None,
    conf_level: float | None = None,
    ties: str | None = None,
    quantile_rule: str | None = None,
    sides: int | None = None,
) -> Conventions:
    """Conventions of ``profile`` with per-argument overrides.

    An override that changes a profile default marks the profile ``"custom"`` so that a
    printed result never claims to follow SAS or R when it does not.
    """
    if profile not in _PROFILE_DEFAULTS:
        raise InputError(
            f"profile: unknown value {profile!r}; valid profiles are {', '.join(PROFILES)}",
            field="profile",
            value=profile,
            valid=list(PROFILES),
        )
    base = _PROFILE_DEFAULTS[profile]
    overrides: dict[str, Any] = {}
    if conf_type is not None:
        check_choice("conf_type", conf_type, CONF_TYPES)
        overrides["conf_type"] = conf_type
    if ties is not None:
        check_choice("ties", ties, TIES)
        overrides["ties"] = ties
    if quantile_rule is not None:
        check_choice("quantile_rule", quantile_rule, PROFILES)
        overrides["quantile_rule"] = quantile_rule
    if conf_level is not None:
        if not 0.0 < conf_level < 1.0:
            raise InputError(
                f"conf_level: {conf_level!r} is outside (0, 1); use e.g. 0.95",
                field="conf_level",
                value=conf_level,
            )
        overrides["conf_level"] = conf_level
    if sides is not None:
        if sides not in (1, 2):
            raise InputError(
                f"sides: {sides!r} is not valid; use 1 or 2", field="sides", value=sides
            )
        overrides["sides"] = sides
    if not overrides:
        return base  # frozen: the one instance can be shared
    result = replace(base, **overrides)
    if any(getattr(result, k) != getattr(base, k) for k in overrides):
        result = replace(result, profile="custom")
    return result


def check_choice(name: str, value: str, valid: tuple[str, ...]) -> None:
    """Raise :class:`InputError` naming ``name``, ``value`` and the valid values unless
    ``value`` is one of ``valid``."""
    if value not in valid:
        raise InputError(
            f"{name}: unknown value {value!r}; valid values are {', '.join(valid)}",
            field=name,
            value=value,
            valid=list(valid),
        )


def round_half_up(value: float | Fraction | Decimal, digits: int) -> Decimal:
    """Round ``value`` to ``digits`` decimals, halves away from zero (as SAS and journals do).

    A float is taken at its shortest round-trip decimal form (``repr``), so 0.285 rounds to
    0.29 as a reader of the printed value expects, not to 0.28 as its binary value would.
    """
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    elif isinstance(value, Decimal):
        exact = value
    else:
        exact = Decimal(repr(float(value)))
    return exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)

"""Named censoring rule sets (kept as data in ``censoring_rules.yaml``)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from oncotrial.spec.models import CensoringRules


@cache
def censoring_presets() -> dict[str, CensoringRules]:
    """The shipped rule sets by name (``fda-2018``, ``events-regardless``, ``last-known-alive``)."""
    text = (resources.files("oncotrial.spec") / "censoring_rules.yaml").read_text(encoding="utf-8")
    return {
        name: CensoringRules.model_validate(body) for name, body in yaml.safe_load(text).items()
    }


def resolve_censoring(value: str | CensoringRules | None) -> CensoringRules | None:
    """A rule set given by name or inline, as a :class:`CensoringRules`."""
    if value is None or isinstance(value, CensoringRules):
        return value
    return censoring_presets()[value]

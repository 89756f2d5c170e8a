"""Trial spec: protocol as code (models, YAML loading, example specs of the seed trials)."""

from oncotrial.spec.loader import EXAMPLES, example_path, load_spec, parse_spec
from oncotrial.spec.models import TrialSpec

__all__ = ["EXAMPLES", "TrialSpec", "example_path", "load_spec", "parse_spec"]

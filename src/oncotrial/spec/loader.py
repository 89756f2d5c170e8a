"""Load a trial spec from YAML with errors that point at the line.

Every problem is reported as ``FILE:LINE: PATH: message (got VALUE)`` where PATH is the location
inside the YAML in the notation users read (``arms[1].ratio``) and LINE comes from the YAML
parser's node marks. All schema problems of a file are reported together, not one per run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from oncotrial.errors import SpecError, describe_value
from oncotrial.spec.models import TrialSpec

EXAMPLES = ("palmira", "abemaciclib_rechallenge", "accru_br_1801")


def example_path(name: str) -> Path:
    """Path of a shipped example spec (one of :data:`EXAMPLES`)."""
    if name not in EXAMPLES:
        raise SpecError(
            f"example {name!r} does not exist; shipped examples: {', '.join(EXAMPLES)}",
            value=name,
            valid=list(EXAMPLES),
        )
    return Path(str(resources.files("oncotrial.spec") / "examples" / f"{name}.yaml"))


def load_spec(source: str | Path) -> TrialSpec:
    """Read, parse and validate a trial spec file (or a shipped example's name)."""
    path = Path(source)
    if not path.exists() and str(source) in EXAMPLES:
        path = example_path(str(source))
    if not path.exists():
        raise SpecError(f"{source}: no such file", file=str(source))
    return parse_spec(path.read_text(encoding="utf-8"), filename=str(path))


def parse_spec(text: str, filename: str = "<spec>") -> TrialSpec:
    """Validate YAML text as a :class:`TrialSpec`; raise :class:`SpecError` on any problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise SpecError(
            f"{filename}:{line}:{column}: YAML syntax error: {exc.problem or exc}",
            file=filename,
            line=line,
            column=column,
        ) from None
    if not isinstance(data, dict):
        raise SpecError(
            f"{filename}: a trial spec is a YAML mapping (keys trial, arms, ...), "
            f"got {type(data).__name__}",
            file=filename,
        )
    try:
        spec = TrialSpec.model_validate(data)
    except ValidationError as exc:
        raise _spec_error(exc, root, data, filename) from None
    problems = check_rules(spec)
    if problems:
        raise _problems_error(
            [(path, message, _lookup(data, _parse_path(path))) for path, message in problems],
            root,
            filename,
        )
    return spec


def check_rules(spec: TrialSpec) -> list[tuple[str, str]]:
    """Parse every rule in the spec and check it uses declared attributes only.

    Returns ``(yaml_path, message)`` pairs; rules live in eligibility criteria, subgroup levels
    and cohort entry rules.
    """
    from oncotrial.spec.rules import parse_rule  # the safe rule language

    attributes = spec.subject_attributes
    located: list[tuple[str, str]] = []
    for kind in ("inclusion", "exclusion"):
        for i, criterion in enumerate(getattr(spec.eligibility, kind)):
            located.append((f"eligibility.{kind}[{i}].rule", criterion.rule))
    for i, subgroup in enumerate(spec.analyses.subgroups):
        for j, level in enumerate(subgroup.levels):
            located.append((f"analyses.subgroups[{i}].levels[{j}].rule", level.rule))
    for i, cohort in enumerate(spec.cohorts):
        if cohort.entry_rule:
            located.append((f"cohorts[{i}].entry_rule", cohort.entry_rule))
    problems: list[tuple[str, str]] = []
    for path, text in located:
        try:
            parse_rule(text, where=path).check_names(attributes, where=path)
        except SpecError as exc:
            problems.append((path, exc.message.removeprefix(f"{path}, ")))
    return problems


# --------------------------------------------------------------------------- error mapping


def format_path(loc: Sequence[str | int]) -> str:
    """``("arms", 1, "ratio")`` -> ``arms[1].ratio``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _parse_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for name, index in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path):
        parts.append(int(index) if index else name)
    return parts


def _data_loc(loc: Sequence[str | int], data: Any) -> list[str | int]:
    """Keep the parts of a pydantic error location that exist in the data.

    Pydantic adds union tags (``'str'``, ``'CensoringRules'``...) that are not YAML keys; they
    are dropped. A key absent from a mapping is kept (the error is that it is missing) and ends
    the walk.
    """
    kept: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part[:1].islower():
            kept.append(part)
            break
        else:
            continue
        kept.append(part)
    return kept


def _lookup(data: Any, loc: Sequence[str | int]) -> Any:
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def _node_line(root: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """1-based line of the deepest YAML node reached by ``loc``."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    child = value_node
                    line = key_node.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


_PATH_PREFIX = re.compile(r"^([A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_]\w*)*): ")


def _spec_error(
    exc: ValidationError, root: yaml.Node | None, data: Any, filename: str
) -> SpecError:
    problems: list[tuple[str, str, Any]] = []
    for err in exc.errors():
        loc = _data_loc(err["loc"], data)
        message = err["msg"].removeprefix("Value error, ")
        match = _PATH_PREFIX.match(message)
        if match:  # cross-field checks name their own path
            loc = _parse_path(match.group(1))
            message = message[match.end() :]
        path = format_path(loc)
        value = _lookup(data, loc) if err["type"] != "missing" else None
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see docs/SPEC.md for valid fields)"
        problems.append((path, message, value))
    return _problems_error(problems, root, filename)


def _problems_error(
    problems: list[tuple[str, str, Any]], root: yaml.Node | None, filename: str
) -> SpecError:
    lines = []
    records = []
    for path, message, value in problems:
        line = _node_line(root, _parse_path(path))
        got = (
            ""
            if value is None or isinstance(value, (dict, list))
            else (f" (got {describe_value(value)})")
        )
        lines.append(f"{filename}:{line}: {path}: {message}{got}")
        records.append(
            {
                "path": path,
                "line": line,
                "message": message,
                "value": value if isinstance(value, (str, int, float, bool)) else None,
            }
        )
    count = len(problems)
    head = f"{filename}: {count} problem{'s' if count != 1 else ''} in the trial spec"
    return SpecError(head + "\n  " + "\n  ".join(lines), file=filename, problems=records)

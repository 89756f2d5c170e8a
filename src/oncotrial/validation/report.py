"""Validation report: what ``oncotrial validate`` writes to qualify an installation.

The report lists every check of every shipped reference case (case, quantity, reference
source and the script or publication it came from, tolerance, largest difference, pass or
fail) with the versions of oncotrial and its numerical stack and the platform, so it can be
filed as installation qualification evidence. Formats: Markdown, JSON and HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import platform
import sys
from collections import Counter
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from oncotrial.results import Result, jsonable
from oncotrial.validation.registry import Case, Check, failed_check, load_references, run_case

_PACKAGES = ("oncotrial", "numpy", "scipy", "pandas", "statsmodels")


def environment() -> dict[str, str]:
    """Versions of oncotrial and its numerical dependencies, Python and the platform."""
    env = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
    for name in _PACKAGES:
        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            env[name] = "not installed"
    return env


@dataclass(frozen=True)
class CheckRow(Result):
    """One check with the provenance of its reference file."""

    file: str
    case: str
    kind: str
    quantity: str
    tolerance: str
    max_difference: float | None
    passed: bool
    expected: Any
    observed: Any
    note: str = ""


@dataclass(frozen=True)
class ReferenceFile(Result):
    """A shipped reference file: where its numbers came from."""

    file: str
    source: str
    generated_by: str
    cases: int
    checks: int
    failed: int


@dataclass(frozen=True)
class ValidationReport(Result):
    """All checks of a validation run, grouped by reference file."""

    created: str
    environment: dict[str, str]
    files: tuple[ReferenceFile, ...]
    checks: tuple[CheckRow, ...]

    @property
    def n_failed(self) -> int:
        return sum(not c.passed for c in self.checks)

    @property
    def passed(self) -> bool:
        return self.n_failed == 0 and len(self.checks) > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "counts": {
                "files": len(self.files),
                "cases": len({(c.file, c.case) for c in self.checks}),
                "checks": len(self.checks),
                "failed": self.n_failed,
            },
            "created": self.created,
            "environment": self.environment,
            "files": [jsonable(f) for f in self.files],
            "checks": [jsonable(c) for c in self.checks],
        }

    def summary(self) -> str:
        counts = self.to_dict()["counts"]
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            f"Validation {verdict}: {counts['checks'] - counts['failed']}/{counts['checks']} "
            f"checks passed over {counts['cases']} reference cases in {counts['files']} files",
            f"  oncotrial {self.environment.get('oncotrial')}, numpy "
            f"{self.environment.get('numpy')}, scipy {self.environment.get('scipy')}, "
            f"{self.environment.get('platform')}",
        ]
        for f in self.files:
            mark = "ok  " if f.failed == 0 else "FAIL"
            lines.append(
                f"  {mark} {f.file}: {f.checks - f.failed}/{f.checks} checks, {f.cases} cases"
            )
        failures = [c for c in self.checks if not c.passed]
        for c in failures[:20]:
            detail = c.note or (
                f"expected {_short(c.expected)}, got {_short(c.observed)} ({c.tolerance})"
            )
            lines.append(f"  failed: {c.file} / {c.case} / {c.quantity}: {detail}")
        if len(failures) > 20:
            lines.append(f"  ... and {len(failures) - 20} more failures (see the report)")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        counts = self.to_dict()["counts"]
        out = [
            "# oncotrial validation report",
            "",
            f"**Result: {'PASSED' if self.passed else 'FAILED'}** — "
            f"{counts['checks'] - counts['failed']} of {counts['checks']} checks passed over "
            f"{counts['cases']} reference cases in {counts['files']} reference files.",
            "",
            f"Created {self.created}.",
            "",
            "## Environment",
            "",
            "| item | version |",
            "| --- | --- |",
            *[f"| {k} | {_md(v)} |" for k, v in self.environment.items()],
            "",
            "A check passes when |observed - expected| <= abs + rel * |expected| for every "
            "element; a value that does not exist (null) must not exist in oncotrial either.",
        ]
        for f in self.files:
            out += [
                "",
                f"## {f.file}",
                "",
                f"- Source: {_md(f.source)}",
                f"- Generated by: {_md(f.generated_by)}",
                f"- {f.checks - f.failed}/{f.checks} checks passed, {f.cases} cases",
                "",
                "| case | quantity | tolerance | max difference | result |",
                "| --- | --- | --- | --- | --- |",
            ]
            for c in self.checks:
                if c.file == f.file:
                    out.append(
                        f"| {_md(c.case)} | {_md(c.quantity)} | {c.tolerance} | "
                        f"{_diff(c.max_difference)} | "
                        f"{'pass' if c.passed else '**FAIL** ' + _md(c.note)} |"
                    )
        return "\n".join(out) + "\n"

    def to_html(self) -> str:
        rows = "\n".join(
            f"<tr class={'pass' if c.passed else 'fail'}><td>{html.escape(c.file)}</td>"
            f"<td>{html.escape(c.case)}</td><td>{html.escape(c.quantity)}</td>"
            f"<td>{html.escape(c.tolerance)}</td><td>{_diff(c.max_difference)}</td>"
            f"<td>{'pass' if c.passed else 'FAIL'}</td></tr>"
            for c in self.checks
        )
        sources = "\n".join(
            f"<li><b>{html.escape(f.file)}</b>: {html.escape(f.source)} "
            f"(generated by {html.escape(f.generated_by)})</li>"
            for f in self.files
        )
        env = "".join(
            f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in self.environment.items()
        )
        verdict = "PASSED" if self.passed else "FAILED"
        return (
            "<!doctype html><html><head><meta charset='utf-8'>"
            "<title>oncotrial validation report</title><style>"
            "body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
            ".fail{background:#fdd}</style></head><body>"
            f"<h1>oncotrial validation report: {verdict}</h1><p>Created {self.created}.</p>"
            f"<h2>Environment</h2><ul>{env}</ul><h2>Reference files</h2><ul>{sources}</ul>"
            "<h2>Checks</h2><table><tr><th>file</th><th>case</th><th>quantity</th>"
            f"<th>tolerance</th><th>max difference</th><th>result</th></tr>{rows}</table>"
            "</body></html>\n"
        )

    def write(self, folder: Path, *, html_too: bool = False) -> list[Path]:
        """Write ``validation_report.md`` and ``.json`` (and ``.html``) into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / "validation_report.md", folder / "validation_report.json"]
        written[0].write_text(self.to_markdown(), encoding="utf-8")
        written[1].write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        if html_too:
            written.append(folder / "validation_report.html")
            written[2].write_text(self.to_html(), encoding="utf-8")
        return written


def run_validation(names: list[str] | None = None) -> ValidationReport:
    """Run the shipped reference cases (all, or those of the named files) and report.

    The same cases and checkers as :func:`oncotrial.validation.registry.run_all`, case by
    case, so that each check keeps its reference file; a checker that raises is reported as
    a failed check naming the exception instead of aborting the run.
    """
    results: list[tuple[Case, list[Check]]] = []
    for case in load_references(names):
        try:
            checks = run_case(case)
        except Exception as exc:  # a broken checker must fail the qualification, visibly
            checks = [failed_check(case, f"checker raised {type(exc).__name__}: {exc}")]
        results.append((case, checks))
    return build_report(results)


def build_report(results: list[tuple[Case, list[Check]]]) -> ValidationReport:
    """A report from ``(reference case, its checks)`` pairs."""
    rows: list[CheckRow] = []
    files: dict[str, tuple[str, str]] = {}
    for case, checks in results:
        files.setdefault(case["_file"], (case["_source"], case["_generated_by"]))
        for c in checks:
            note = c.source if c.quantity == "checker" else ""
            rows.append(
                CheckRow(
                    case["_file"],
                    c.case,
                    c.kind,
                    c.quantity,
                    c.tolerance,
                    c.max_difference,
                    c.passed,
                    c.expected,
                    c.observed,
                    note,
                )
            )
    n_checks = Counter(r.file for r in rows)
    n_failed = Counter(r.file for r in rows if not r.passed)
    n_cases = Counter(case["_file"] for case, _ in results)
    summaries = tuple(
        ReferenceFile(file, source, generated_by, n_cases[file], n_checks[file], n_failed[file])
        for file, (source, generated_by) in sorted(files.items())
    )
    return ValidationReport(
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        environment=environment(),
        files=summaries,
        checks=tuple(rows),
    )


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(jsonable(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _diff(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _md(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")

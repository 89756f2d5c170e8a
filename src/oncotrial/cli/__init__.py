"""The ``oncotrial`` command line: one typer app, one group per layer.

Each group lives in its own module (``cli/spec.py``, ``cli/analyze.py``...) and is mounted
here. :func:`main` enforces the exit-code contract: 0 ok, 1 user error, 2 internal error.
"""

from __future__ import annotations

import json
import sys
import traceback

import typer

import oncotrial.cli.design_binary
import oncotrial.cli.screen  # noqa: F401  (registers `oncotrial spec screen`)
from oncotrial import __version__
from oncotrial.cli import analyze as analyze_cli
from oncotrial.cli import demo as demo_cli
from oncotrial.cli import derive as derive_cli
from oncotrial.cli import design as design_cli
from oncotrial.cli import randomize as randomize_cli
from oncotrial.cli import report as report_cli
from oncotrial.cli import simulate as simulate_cli
from oncotrial.cli import spec as spec_cli
from oncotrial.cli import synth as synth_cli
from oncotrial.cli import validate as validate_cli
from oncotrial.cli._common import stderr
from oncotrial.errors import OncotrialError

app = typer.Typer(
    name="oncotrial",
    help=(
        "Oncology trials from protocol to publication: trial spec, design, simulation, "
        "randomization, derivation, analysis and report. Every command accepts --json."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version_callback(value: bool) -> None:
    if value:
        print(f"oncotrial {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """Oncology trials from protocol to publication."""


app.add_typer(spec_cli.app, name="spec")
app.add_typer(design_cli.app, name="design")
app.add_typer(randomize_cli.app, name="randomize")
app.add_typer(simulate_cli.app, name="simulate")
app.command("demo")(demo_cli.demo)
app.add_typer(analyze_cli.app, name="analyze")
app.command("validate")(validate_cli.validate)
app.add_typer(derive_cli.app, name="derive")
app.add_typer(synth_cli.app, name="synth")
app.add_typer(report_cli.app, name="report")


def _json_requested(argv: list[str]) -> bool:
    return "--json" in argv


def _fail(code: int, message: str, payload: dict[str, object], json_mode: bool) -> int:
    stderr.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    if json_mode:
        sys.stdout.write(json.dumps({"error": payload}, indent=2) + "\n")
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``oncotrial`` script; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    json_mode = _json_requested(args)
    try:
        # standalone_mode=False: click returns a command's typer.Exit code instead of raising
        code = app(args=args, prog_name="oncotrial", standalone_mode=False)
        if isinstance(code, int) and code != 0:
            return code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return _fail(1, "aborted", {"type": "Abort", "message": "aborted"}, json_mode)
    except typer.TyperException as exc:  # usage errors: unknown option, bad parameter...
        if type(exc).__name__ == "NoArgsIsHelpError":
            return 0  # help was printed
        show = getattr(exc, "show", None)
        if callable(show) and not json_mode:
            show()
            return 1
        message = exc.format_message()
        return _fail(1, message, {"type": "UsageError", "message": message}, json_mode)
    except OncotrialError as exc:
        return _fail(1, exc.message, exc.to_dict(), json_mode)
    except Exception as exc:  # an oncotrial bug: say so, keep the traceback
        traceback.print_exc(file=sys.stderr)
        message = f"internal error ({type(exc).__name__}: {exc}); please report it"
        return _fail(2, message, {"type": "InternalError", "message": message}, json_mode)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

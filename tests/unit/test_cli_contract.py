"""Every CLI command: help reads, ``--json`` is offered, JSON output is one document."""

from __future__ import annotations

import json

import pytest
import typer

from oncotrial.cli import app, main


def _leaves(command, path=()):
    children = getattr(command, "commands", None)
    if children is None:
        yield path, command
        return
    for name, child in children.items():
        yield from _leaves(child, (*path, name))


LEAVES = list(_leaves(typer.main.get_command(app)))
GROUPS = ["spec", "design", "simulate", "randomize", "derive", "analyze", "report"]


def test_every_group_of_the_issue_is_mounted():
    top = typer.main.get_command(app).commands
    assert set(GROUPS) | {"validate", "demo"} <= set(top)


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=" ".join)
def test_every_command_offers_json(path):
    command = dict(LEAVES)[path]
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert "--json" in options, f"oncotrial {' '.join(path)} has no --json option"


@pytest.mark.parametrize(
    "path", [*([g] for g in GROUPS), *(list(p) for p, _ in LEAVES)], ids=" ".join
)
def test_help_exits_zero_and_describes(path, capsys):
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage" in out and len(out.strip().splitlines()) > 3


@pytest.mark.parametrize(
    "argv",
    [
        ["spec", "check", "palmira"],
        [
            "design",
            "survival",
            "--hr",
            "0.59",
            "--alpha",
            "0.05",
            "--sides",
            "2",
            "--power",
            "0.8",
            "--ratio",
            "2",
        ],
        ["analyze", "proportion", "--x", "6", "--n", "136"],
        [
            "randomize",
            "list",
            "--ratio",
            "2:1",
            "--arms",
            "A,B",
            "--block-sizes",
            "3,6",
            "--per-stratum",
            "6",
            "--seed",
            "1",
        ],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_json_output_is_one_document(argv, capsys):
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    json.loads(out)  # exactly one JSON document, nothing else on stdout

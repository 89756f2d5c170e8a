"""``oncotrial demo``: the main job on the shipped example data."""

from __future__ import annotations

from oncotrial.cli._common import JsonOption, emit


def demo(json_output: JsonOption = False) -> None:
    """Run the main job on the shipped PALMIRA example."""
    emit({"status": "ok"}, json_mode=json_output)

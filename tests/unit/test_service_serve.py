"""``oncotrial randomize serve``: the options it hands to uvicorn (uvicorn itself not started)."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest
import uvicorn

from oncotrial.cli import main
from oncotrial.randomize.service.app import DB_ENV, SPEC_ENV
from oncotrial.randomize.service.testing import make_trial


@pytest.fixture
def served(tmp_path, monkeypatch) -> tuple[str, list[tuple[Any, dict[str, Any]]]]:
    trial = make_trial(tmp_path, sites=("S01",))
    for name in (DB_ENV, SPEC_ENV):  # serve --workers sets them; restored afterwards
        monkeypatch.setenv(name, "")
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return trial.db_url, calls


def expected_implementations() -> tuple[str, str]:
    """What uvicorn's "auto" would choose in this environment."""
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return http, loop


def test_serve_turns_the_access_log_off_and_names_the_http_implementation(served, capsys) -> None:
    db_url, calls = served
    main(["randomize", "serve", "--db", db_url, "--port", "8123", "--json"])
    out = json.loads(capsys.readouterr().out)
    http, loop = expected_implementations()
    assert (out["http"], out["loop"]) == (http, loop)
    assert out["url"] == "http://127.0.0.1:8123/api/v1"
    ((app, options),) = calls
    assert app.title.startswith("oncotrial randomization service")
    assert options == {
        "host": "127.0.0.1",
        "port": 8123,
        "log_level": "warning",
        "access_log": False,
        "http": http,
        "loop": loop,
    }


def test_serve_access_log_can_be_turned_on_and_workers_use_the_factory(served, capsys) -> None:
    db_url, calls = served
    main(["randomize", "serve", "--db", db_url, "--access-log", "--workers", "2", "--json"])
    json.loads(capsys.readouterr().out)
    ((app, options),) = calls
    assert app == "oncotrial.randomize.service.app:app_from_env"
    assert options["access_log"] is True
    assert options["workers"] == 2 and options["factory"] is True

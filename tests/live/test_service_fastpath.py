"""The randomization fast path answers exactly as the FastAPI route does, on both databases.

Two databases initialised identically, one app with :class:`RandomizeFastPath` and one
without, on SQLite and on PostgreSQL (``livekit.postgres_database``); the same sequence of
requests (successes, replays, every kind of refusal, malformed and unusual requests that the
fast path hands on to FastAPI) must give the same status, headers that matter and body (the
randomization time aside), and write the same rows; and PostgreSQL must answer exactly as
SQLite does.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from livekit import postgres_database

from oncotrial.randomize import regenerate
from oncotrial.randomize.service import (
    RandomizationRequest,
    RandomizationService,
    api,
    create_app,
    verify_audit,
)
from oncotrial.randomize.service.errors import Conflict, Forbidden, Unauthorized
from oncotrial.randomize.service.testing import make_trial

URL = "/api/v1/randomizations"


def body(subject: str, site: str = "S01", prior: str = "fulvestrant", **extra: Any) -> dict:
    return {
        "subject_id": subject,
        "site": site,
        "strata": {"prior_et": prior, "visceral_involvement": "yes"},
        **extra,
    }


def requests(tokens: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """(label, httpx request arguments) in order."""
    s01 = {"Authorization": f"Bearer {tokens['S01']}"}
    s02 = {"Authorization": f"Bearer {tokens['S02']}"}
    lower = {"Authorization": f"bearer {tokens['S01']}"}

    def raw(payload: Any, content_type: str) -> dict[str, Any]:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return {"content": data, "headers": {**s01, "Content-Type": content_type}}

    return [
        ("first", {"json": body("P-1"), "headers": {**s01, "Idempotency-Key": "k1"}}),
        ("replay", {"json": body("P-1"), "headers": {**s01, "Idempotency-Key": "k1"}}),
        ("key reused", {"json": body("P-2"), "headers": {**s01, "Idempotency-Key": "k1"}}),
        ("no key", {"json": body("P-3", prior="aromatase_inhibitor"), "headers": s01}),
        ("duplicate", {"json": body("P-3"), "headers": {**s01, "Idempotency-Key": "k3"}}),
        ("no token", {"json": body("P-4")}),
        ("bad token", {"json": body("P-4"), "headers": {"Authorization": "Bearer ot_nope"}}),
        ("basic auth", {"json": body("P-4"), "headers": {"Authorization": "Basic eDp5"}}),
        ("lower-case scheme", {"json": body("P-5"), "headers": lower}),
        ("other site", {"json": body("P-6", site="S02"), "headers": s01}),
        ("unknown level", {"json": body("P-7", prior="tamoxifen"), "headers": s01}),
        ("ineligible", {"json": body("P-8", eligibility={"age": 16}), "headers": s01}),
        ("bad eligibility", {"json": body("P-9", eligibility={"shoe": 1}), "headers": s01}),
        ("extra field", {"json": body("P-10") | {"colour": "red"}, "headers": s01}),
        ("bad subject id", {"json": body("P 11"), "headers": s01}),
        ("malformed", raw(b'{"subject_id": ', "application/json")),
        ("not json type", raw(body("P-12"), "text/plain")),
        ("charset", raw(body("P-13"), "application/json; charset=utf-8")),
        ("long key", {"json": body("P-14"), "headers": {**s01, "Idempotency-Key": "x" * 201}}),
        ("control key", {"json": body("P-15"), "headers": {**s01, "Idempotency-Key": "a\tb"}}),
        ("site S02", {"json": body("P-16", site="S02"), "headers": s02}),
        ("eligible", {"json": body("P-17", eligibility=ELIGIBLE), "headers": s01}),
    ]


# handled by the fast path (the others are handed on to FastAPI)
FAST = {
    "first", "replay", "key reused", "no key", "duplicate", "no token", "bad token",
    "basic auth", "lower-case scheme", "other site", "unknown level", "ineligible",
    "bad eligibility", "charset", "control key", "site S02", "eligible",
}  # fmt: skip
ELIGIBLE = {
    "age": 61, "hr_positive": True, "her2_negative": True, "advanced_disease": True,
    "radiological_progression": True, "palbociclib_setting": "advanced_first_line",
    "prior_best_response": "PR", "last_palbociclib_date": "2024-01-02",
    "screening_date": "2024-01-20", "visceral_crisis": False, "prior_chemo_advanced": False,
    "prior_other_cdk46i": False, "resistant_fulvestrant": False, "resistant_letrozole": False,
    "active_cns_metastases": False, "leptomeningeal_disease": False,
}  # fmt: skip
"""A PALMIRA subject who passes every criterion (screened in a worker thread)."""


def answer(response: Any) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = response.text
    if isinstance(payload, dict):
        payload.pop("randomized_at", None)
    return {
        "status": response.status_code,
        "replayed": response.headers.get("idempotent-replayed"),
        "www-authenticate": response.headers.get("www-authenticate"),
        "content-type": response.headers.get("content-type"),
        "body": payload,
    }


@contextlib.contextmanager
def database(backend: str, directory: Path) -> Iterator[str]:
    """A new SQLite file, or a new database on the PostgreSQL test server (dropped after)."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'trial.db'}"
        return
    with postgres_database("oncotrial_fastpath") as url:
        yield url


def run_cases(db_url: str, directory: Path, fast: bool) -> list[dict[str, Any]]:
    """Answers to :func:`requests` (and the rows written) from a fresh trial in ``db_url``."""
    trial = make_trial(directory, db_url=db_url, seed=4242, list_size=12)
    app = create_app(trial.db_url, fast_path=fast)
    parse = api._parse_randomization
    results = []
    with TestClient(app) as client:
        for _, kw in requests(trial.site_tokens):
            taken: list[bool] = []

            def spy(*args: Any, _taken: list[bool] = taken) -> Any:
                parsed = parse(*args)
                _taken.append(parsed is not None)
                return parsed

            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(api, "_parse_randomization", spy)
                results.append(answer(client.post(URL, **kw)) | {"fast": taken == [True]})
        results.append({"counts": app.state.service.counts()})
    verification = verify_audit(trial.db_url)
    assert verification.ok, verification.summary()
    return results


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def answers(request, tmp_path_factory) -> dict[bool, list[dict[str, Any]]]:
    out = {}
    for fast in (True, False):
        directory = tmp_path_factory.mktemp(f"{request.param}-{fast}")
        with database(request.param, directory) as db_url:
            out[fast] = run_cases(db_url, directory, fast)
    return out


def test_fast_path_answers_like_the_fastapi_route(answers) -> None:
    labels = [label for label, _ in requests({"S01": "t", "S02": "t"})]
    for label, fast, slow in zip(labels, answers[True], answers[False], strict=False):
        assert {**fast, "fast": None} == {**slow, "fast": None}, label
        assert fast["fast"] is (label in FAST), label
        assert slow["fast"] is False, label
    assert answers[True][-1] == answers[False][-1]  # rows written


def test_the_cases_cover_successes_replays_and_refusals(answers) -> None:
    statuses = [a.get("status") for a in answers[True][:-1]]
    assert statuses[:5] == [201, 201, 409, 201, 409]
    assert answers[True][1]["replayed"] == "true"
    assert "already randomized" in answers[True][4]["body"]["error"]["message"]
    assert {400, 401, 403, 422} <= set(statuses)
    assert answers[True][-2]["status"] == 201  # the eligible subject
    assert answers[True][-1]["counts"]["assignments"] == 6  # P-1, -3, -5, -13, -16, -17


def test_postgresql_answers_like_sqlite(tmp_path) -> None:
    """The PostgreSQL allocation (one SQL statement, audit hash computed by the server) and
    the SQLite one (statements and hash in Python) give the same arms, numbers, errors."""
    got = {}
    for backend in ("sqlite", "postgresql"):
        (tmp_path / backend).mkdir()
        with database(backend, tmp_path / backend) as db_url:
            got[backend] = run_cases(db_url, tmp_path / backend, fast=True)
    assert got["sqlite"] == got["postgresql"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_exhausted_stratum_is_409_and_writes_nothing(backend, tmp_path) -> None:
    with database(backend, tmp_path) as db_url:
        trial = make_trial(tmp_path, db_url=db_url, seed=5, list_size=3, sites=("S01",))
        with TestClient(create_app(trial.db_url)) as client:
            service = client.app.state.service
            size = len(regenerate(service.config.params).stratum_slots(2))  # fulvestrant/yes
            headers = {"Authorization": f"Bearer {trial.site_tokens['S01']}"}
            for i in range(size):
                assert client.post(URL, json=body(f"X-{i}"), headers=headers).status_code == 201
            before = service.counts()
            for _ in range(2):  # refused twice: a refused claim writes nothing
                r = client.post(
                    URL, json=body("X-last"), headers=headers | {"Idempotency-Key": "x"}
                )
                assert r.status_code == 409 and "exhausted" in r.json()["error"]["message"]
            assert service.counts() == before
            other = client.post(URL, json=body("Y-1", prior="aromatase_inhibitor"), headers=headers)
            assert other.status_code == 201 and other.json()["randomization_number"] == size + 1
        assert verify_audit(trial.db_url).ok


def test_revoke_token_is_audited_and_only_for_oneself_or_an_admin(tmp_path) -> None:
    trial = make_trial(tmp_path, sites=("S01", "S02"))
    service = RandomizationService.open(trial.db_url)
    try:
        s01 = service.principal_for_token(trial.site_tokens["S01"])
        s02 = service.principal_for_token(trial.site_tokens["S02"])
        with pytest.raises(Forbidden):
            service.revoke_token(trial.site_tokens["S01"], s02)
        assert service.principal_for_token(trial.site_tokens["S01"]) == s01  # still valid
        assert service.revoke_token(trial.site_tokens["S01"], s01) is True
        assert service.revoke_token(trial.site_tokens["S01"], s01) is False  # already revoked
        with pytest.raises(Unauthorized):
            service.principal_for_token(trial.site_tokens["S01"])
        admin = service.principal_for_token(trial.admin_token)
        assert service.revoke_token(trial.site_tokens["S02"], admin) is True
        last = service.audit_records(admin, limit=5000)["records"][-2:]
        assert [(r["action"], r["actor"], r["entity"]) for r in last] == [
            ("logout", "site_S01", "user:site_S01"),
            ("logout", "admin", "user:site_S02"),
        ]
    finally:
        service.close()
    assert verify_audit(trial.db_url).ok


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_direct_service_calls_allocate_replay_and_refuse(backend, tmp_path) -> None:
    """``RandomizationService.randomize`` (the web page's path, a worker thread and
    SQLAlchemy's pool) on both databases: allocation, replay, duplicate, key reuse."""
    with database(backend, tmp_path) as db_url:
        trial = make_trial(tmp_path, db_url=db_url, seed=7, list_size=6, sites=("S01",))
        service = RandomizationService.open(trial.db_url)
        try:
            user = service.principal_for_token(trial.site_tokens["S01"])
            request = RandomizationRequest.model_validate(body("D-1"))
            first = service.randomize(user, request, "d1")
            assert first.status_code == 201 and not first.replayed
            again = service.randomize(user, request, "d1")
            assert again.replayed and again.body == first.body
            before = service.counts()
            with pytest.raises(Conflict, match="already randomized"):
                service.randomize(user, request, "d2")
            with pytest.raises(Conflict, match="Idempotency-Key"):
                service.randomize(user, RandomizationRequest.model_validate(body("D-2")), "d1")
            assert service.counts() == before
            second = service.randomize(user, RandomizationRequest.model_validate(body("D-3")))
            assert second.body["randomization_number"] == 2
            assert service.get_subject(user, "D-1") == first.body
        finally:
            service.close()
        assert verify_audit(trial.db_url).ok

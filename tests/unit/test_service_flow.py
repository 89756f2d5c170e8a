"""Randomization service: the randomize flow, list order, idempotency, bad input writes nothing."""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict

import pytest
from fastapi.testclient import TestClient

from oncotrial.randomize import regenerate
from oncotrial.randomize.params import strata
from oncotrial.randomize.service import RandomizationRequest, RandomizationService, create_app
from oncotrial.randomize.service.errors import Conflict
from oncotrial.randomize.service.testing import make_trial
from oncotrial.randomize.service.trial import load_config

API = "/api/v1"
LEVELS = {"prior_et": ["aromatase_inhibitor", "fulvestrant"], "visceral_involvement": ["yes", "no"]}
ELIGIBLE = {
    "age": 61,
    "hr_positive": True,
    "her2_negative": True,
    "advanced_disease": True,
    "radiological_progression": True,
    "palbociclib_setting": "advanced_first_line",
    "prior_best_response": "PR",
    "last_palbociclib_date": "2024-01-02",
    "screening_date": "2024-01-20",
    "visceral_crisis": False,
    "prior_chemo_advanced": False,
    "prior_other_cdk46i": False,
    "resistant_fulvestrant": False,
    "resistant_letrozole": False,
    "active_cns_metastases": False,
    "leptomeningeal_disease": False,
}


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    return make_trial(tmp_path_factory.mktemp("svc_flow"), list_size=24, seed=12345)


@pytest.fixture(scope="module")
def client(trial):
    with TestClient(create_app(trial.db_url)) as c:
        yield c


def body(subject, site="S01", prior="fulvestrant", visceral="yes", **extra):
    return {
        "subject_id": subject,
        "site": site,
        "strata": {"prior_et": prior, "visceral_involvement": visceral},
        **extra,
    }


def counts(client):
    return client.app.state.service.counts()


def test_randomize_returns_arm_number_and_no_list_position(client, trial):
    r = client.post(f"{API}/randomizations", json=body("F-001"), headers=trial.headers("S01"))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["subject_id"] == "F-001" and out["site"] == "S01"
    assert out["arm"] in ("PAL_ET", "ET")
    assert out["arm_label"] == {"PAL_ET": "Palbociclib + ET", "ET": "ET"}[out["arm"]]
    assert isinstance(out["randomization_number"], int)
    assert out["randomized_at"].endswith("+00:00")
    assert not {"position", "block", "block_size", "stratumn"} & set(out)
    got = client.get(f"{API}/subjects/F-001", headers=trial.headers("S01")).json()
    assert got == out


def test_result_equals_list_order_within_each_stratum(tmp_path):
    t = make_trial(tmp_path, list_size=8, seed=777, sites=("S01", "S02"))
    combos = list(itertools.product(LEVELS["prior_et"], LEVELS["visceral_involvement"]))
    with TestClient(create_app(t.db_url)) as c:
        service = c.app.state.service
        got = defaultdict(list)
        for i in range(24):
            prior, visceral = combos[(i * 7) % 4]
            site = ("S01", "S02")[i % 2]
            r = c.post(
                f"{API}/randomizations",
                json=body(f"L-{i:03d}", site, prior, visceral),
                headers=t.headers(site),
            )
            assert r.status_code == 201, r.text
            got[r.json()["stratum"]].append(r.json()["arm"])
            assert r.json()["randomization_number"] == i + 1
        # the expected arms: the list regenerated from the seed (not read from the database)
        expected = regenerate(load_config(service.engine).params)
        for s in strata(expected.params.design.factors):
            want = [slot.arm for slot in expected.stratum_slots(s.index)]
            assert got[s.label] == want[: len(got[s.label])]
        assert sum(len(v) for v in got.values()) == 24


def test_idempotent_retry_returns_the_same_answer(client, trial):
    h = {**trial.headers("S01"), "Idempotency-Key": "key-idem-1"}
    first = client.post(f"{API}/randomizations", json=body("F-IDEM"), headers=h)
    before = counts(client)
    again = client.post(f"{API}/randomizations", json=body("F-IDEM"), headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counts(client) == before


def test_same_key_different_body_is_409_and_writes_nothing(client, trial):
    h = {**trial.headers("S01"), "Idempotency-Key": "key-idem-2"}
    assert client.post(f"{API}/randomizations", json=body("F-K2"), headers=h).status_code == 201
    before = counts(client)
    r = client.post(f"{API}/randomizations", json=body("F-K2-other"), headers=h)
    assert r.status_code == 409
    assert "Idempotency-Key" in r.json()["error"]["message"]
    assert counts(client) == before
    assert client.get(f"{API}/subjects/F-K2-other", headers=trial.headers("S01")).status_code == 404


def test_duplicate_subject_is_409_and_writes_nothing(client, trial):
    assert client.post(f"{API}/randomizations", json=body("F-DUP"), headers=trial.headers("S01"))
    before = counts(client)
    r = client.post(
        f"{API}/randomizations", json=body("F-DUP", visceral="no"), headers=trial.headers("S01")
    )
    assert r.status_code == 409
    assert "'F-DUP' is already randomized" in r.json()["error"]["message"]
    assert counts(client) == before


BAD_INPUTS = [
    # (request body or raw bytes, status, words the message must contain)
    (body("B-1", visceral="maybe"), 422, ["visceral_involvement", "'maybe'", "['yes', 'no']"]),
    (
        {"subject_id": "B-2", "site": "S01", "strata": {"prior_et": "fulvestrant"}},
        422,
        ["visceral_involvement", "missing", "['yes', 'no']"],
    ),
    (
        body("B-3") | {"strata": {**body("B-3")["strata"], "ecog": "1"}},
        422,
        ["unknown factor 'ecog'", "prior_et", "visceral_involvement"],
    ),
    (body("B-4", site="S99"), 403, ["own site 'S01'", "'S99'"]),
    (body("bad id with spaces"), 422, ["subject_id", "pattern"]),
    ({"site": "S01", "strata": {}}, 422, ["subject_id", "Field required"]),
    (body("B-5") | {"colour": "red"}, 422, ["colour", "Extra inputs"]),
    (b'{"subject_id": "B-6", "site": ', 400, ["malformed JSON"]),
    (
        body("B-7", eligibility={"age": 17} | {k: v for k, v in ELIGIBLE.items() if k != "age"}),
        422,
        ["not eligible", "I1"],
    ),
    (body("B-8", eligibility={"shoe_size": 42}), 422, ["'shoe_size'", "not a subject attribute"]),
    (body("B-9", eligibility={"age": "old"}), 422, ["age", "'old'"]),
    (body("B-10", eligibility={"age": 50}), 422, ["cannot be checked", "I2"]),
]


@pytest.mark.parametrize(("payload", "status", "words"), BAD_INPUTS)
def test_bad_input_is_4xx_naming_the_field_and_writes_nothing(
    client, trial, payload, status, words
):
    before = counts(client)
    h = {**trial.headers("S01"), "Idempotency-Key": f"bad-{words[0]}"}
    if isinstance(payload, bytes):
        r = client.post(
            f"{API}/randomizations",
            content=payload,
            headers=h | {"Content-Type": "application/json"},
        )
    else:
        r = client.post(f"{API}/randomizations", json=payload, headers=h)
    assert r.status_code == status, r.text
    message = r.json()["error"]["message"]
    for word in words:
        assert word in message, (word, message)
    assert counts(client) == before


def test_ineligible_lists_failing_criteria(client, trial):
    answers = ELIGIBLE | {"visceral_crisis": True, "her2_negative": False}
    r = client.post(
        f"{API}/randomizations",
        json=body("F-INEL", eligibility=answers),
        headers=trial.headers("S01"),
    )
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["verdict"] == "not_eligible"
    assert [c["id"] for c in error["criteria"]] == ["I2", "E1"]


def test_eligible_subject_is_randomized(client, trial):
    r = client.post(
        f"{API}/randomizations",
        json=body("F-ELIG", eligibility=ELIGIBLE),
        headers=trial.headers("S01"),
    )
    assert r.status_code == 201, r.text


def test_exhausted_stratum_is_409(tmp_path):
    t = make_trial(tmp_path, list_size=3, seed=5, sites=("S01",))
    with TestClient(create_app(t.db_url)) as c:
        size = len(regenerate(load_config(c.app.state.service.engine).params).stratum_slots(0))
        for i in range(size):
            r = c.post(
                f"{API}/randomizations",
                json=body(f"X-{i}", prior="aromatase_inhibitor"),
                headers=t.headers("S01"),
            )
            assert r.status_code == 201
        before = counts(c)
        r = c.post(
            f"{API}/randomizations",
            json=body("X-last", prior="aromatase_inhibitor"),
            headers=t.headers("S01"),
        )
        assert r.status_code == 409 and "exhausted" in r.json()["error"]["message"]
        assert counts(c) == before


def test_concurrent_writers_on_two_engines_never_share_a_slot(tmp_path):
    """Two service instances (as two processes would) and 8 threads: one slot per subject,
    positions used in order, arms equal to the list."""
    t = make_trial(tmp_path, list_size=30, seed=99, sites=("S01", "S02"))
    services = [RandomizationService.open(t.db_url) for _ in range(2)]
    users = {site: services[0].principal_for_token(t.site_tokens[site]) for site in ("S01", "S02")}
    combos = list(itertools.product(LEVELS["prior_et"], LEVELS["visceral_involvement"]))
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(6):
                prior, visceral = combos[(w + i) % 4]
                site = ("S01", "S02")[w % 2]
                request = RandomizationRequest(
                    subject_id=f"C-{w}-{i}",
                    site=site,
                    strata={"prior_et": prior, "visceral_involvement": visceral},
                )
                services[w % 2].randomize(users[site], request, idempotency_key=f"c{w}-{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    stat = services[0].principal_for_token(t.statistician_token)
    listing = services[0].allocation_list(stat)["slots"]
    used = [s for s in listing if s["subject_id"] is not None]
    assert len(used) == 48
    assert len({s["subject_id"] for s in used}) == 48
    expected = regenerate(services[0].config.params)
    for k in range(len(strata(expected.params.design.factors))):
        positions = [u["position"] for u in used if u["stratumn"] == k + 1]
        assert positions == list(range(1, len(positions) + 1))
    subjects = services[0].list_subjects(stat)
    assert sorted(s["randomization_number"] for s in subjects) == list(range(1, 49))
    for service in services:
        service.close()


def test_concurrent_twins_get_one_assignment(tmp_path):
    """Three copies of one request (same key) and three requests for one subject under
    different keys, released together on separate engines: one assignment per subject, the
    twins all get the first answer, the others 409."""
    t = make_trial(tmp_path, list_size=6, sites=("S01",))
    services = [RandomizationService.open(t.db_url) for _ in range(6)]
    user = services[0].principal_for_token(t.site_tokens["S01"])
    barrier = threading.Barrier(6)
    results: dict[int, object] = {}

    def go(i: int, key: str, subject: str, visceral: str) -> None:
        request = RandomizationRequest(
            subject_id=subject,
            site="S01",
            strata={"prior_et": "fulvestrant", "visceral_involvement": visceral},
        )
        barrier.wait()
        try:
            results[i] = services[i].randomize(user, request, idempotency_key=key).body
        except Conflict as exc:
            results[i] = exc

    args = [(i, "twin", "T-1", "yes") for i in range(3)]
    args += [(i, f"key-{i}", "T-2", ("yes", "no")[i % 2]) for i in range(3, 6)]
    threads = [threading.Thread(target=go, args=a) for a in args]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results[0] == results[1] == results[2] and isinstance(results[0], dict)
    others = [results[i] for i in range(3, 6)]
    assert sum(isinstance(r, dict) for r in others) == 1
    assert all("already randomized" in r.message for r in others if isinstance(r, Conflict))
    assert services[0].counts()["assignments"] == 2
    for service in services:
        service.close()

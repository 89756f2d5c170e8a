"""Randomization service: authentication, roles, site scoping, concealment, export, unblinding."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from oncotrial.randomize.service import create_app
from oncotrial.randomize.service.testing import make_trial

API = "/api/v1"


def body(subject, site, prior="aromatase_inhibitor", visceral="no"):
    return {
        "subject_id": subject,
        "site": site,
        "strata": {"prior_et": prior, "visceral_involvement": visceral},
    }


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    trial = make_trial(tmp_path_factory.mktemp("svc_roles"), list_size=12, sites=("S01", "S02"))
    with TestClient(create_app(trial.db_url)) as client:
        for i, site in enumerate(["S01", "S02", "S01", "S02"]):
            r = client.post(
                f"{API}/randomizations", json=body(f"{site}-{i}", site), headers=trial.headers(site)
            )
            assert r.status_code == 201
        yield trial, client


def test_no_or_bad_token_is_401(setup):
    _, client = setup
    assert client.get(f"{API}/subjects").status_code == 401
    r = client.get(f"{API}/subjects", headers={"Authorization": "Bearer ot_nonsense"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


def test_site_user_sees_only_own_site(setup):
    trial, client = setup
    subjects = client.get(f"{API}/subjects", headers=trial.headers("S01")).json()["subjects"]
    assert {s["subject_id"] for s in subjects} == {"S01-0", "S01-2"}
    everyone = client.get(f"{API}/subjects", headers=trial.headers("statistician")).json()
    assert len(everyone["subjects"]) == 4


def test_other_site_subject_looks_exactly_like_a_missing_one(setup):
    trial, client = setup
    other = client.get(f"{API}/subjects/S02-1", headers=trial.headers("S01"))
    missing = client.get(f"{API}/subjects/S02-9", headers=trial.headers("S01"))
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"]["message"].replace("S02-1", "X") == missing.json()["error"][
        "message"
    ].replace("S02-9", "X")
    unblind = client.post(
        f"{API}/subjects/S02-1/unblind", json={"reason": "curious"}, headers=trial.headers("S01")
    )
    assert unblind.status_code == 404


@pytest.mark.parametrize("path", ["/allocation-list", "/export", "/audit", "/users"])
def test_site_user_cannot_read_list_export_audit_users(setup, path):
    trial, client = setup
    r = client.get(API + path, headers=trial.headers("S01"))
    assert r.status_code == 403
    assert "role 'site' may not do this" in r.json()["error"]["message"]


def test_only_statistician_reads_the_list(setup):
    trial, client = setup
    assert client.get(f"{API}/allocation-list", headers=trial.headers("admin")).status_code == 403
    r = client.get(f"{API}/allocation-list", headers=trial.headers("statistician"))
    assert r.status_code == 200
    out = r.json()
    assert out["params"]["seed"] == trial.seed
    assert sum(s["subject_id"] is not None for s in out["slots"]) == 4


def test_admin_and_statistician_read_audit(setup):
    trial, client = setup
    for who in ("admin", "statistician"):
        records = client.get(f"{API}/audit", headers=trial.headers(who)).json()["records"]
        assert records[0]["seq"] == 1 and records[0]["action"] == "init_trial"
        assert sum(r["action"] == "randomize" for r in records) >= 4


@pytest.mark.parametrize("who", ["admin", "statistician"])
def test_only_site_users_randomize(setup, who):
    trial, client = setup
    r = client.post(f"{API}/randomizations", json=body("Z-1", "S01"), headers=trial.headers(who))
    assert r.status_code == 403


@pytest.mark.parametrize("who", ["S01", "statistician"])
def test_only_admin_manages_sites_users_tokens(setup, who):
    trial, client = setup
    h = trial.headers(who)
    assert (
        client.post(f"{API}/sites", json={"code": "S09", "name": "x"}, headers=h).status_code == 403
    )
    user = {"username": "eve", "role": "admin"}
    assert client.post(f"{API}/users", json=user, headers=h).status_code == 403
    assert client.post(f"{API}/users/admin/tokens", json={}, headers=h).status_code == 403


def test_admin_creates_site_user_and_token(setup):
    trial, client = setup
    h = trial.headers("admin")
    assert (
        client.post(f"{API}/sites", json={"code": "S03", "name": "Three"}, headers=h).status_code
        == 201
    )
    dup = client.post(f"{API}/sites", json={"code": "S03", "name": "Three"}, headers=h)
    assert dup.status_code == 409
    nul = client.post(f"{API}/sites", json={"code": "S04", "name": "Fo\u0000ur"}, headers=h)
    assert nul.status_code == 422 and "control characters" in nul.json()["error"]["message"]
    bad = client.post(
        f"{API}/users", json={"username": "u3", "role": "site", "site": "S77"}, headers=h
    )
    assert bad.status_code == 422 and "'S77' is not a site" in bad.json()["error"]["message"]
    user = {"username": "u3", "role": "site", "site": "S03", "password": "correct horse"}
    assert client.post(f"{API}/users", json=user, headers=h).status_code == 201
    token = client.post(f"{API}/users/u3/tokens", json={"label": "t"}, headers=h).json()["token"]
    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"username": "u3", "role": "site", "site": "S03"}
    login = client.post(f"{API}/auth/token", json={"username": "u3", "password": "correct horse"})
    assert login.status_code == 200
    wrong = client.post(f"{API}/auth/token", json={"username": "u3", "password": "wrong horse"})
    nobody = client.post(f"{API}/auth/token", json={"username": "zz", "password": "wrong horse"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json()["error"]["message"] == nobody.json()["error"]["message"]


def test_site_responses_hold_no_list_positions(setup):
    trial, client = setup
    h = trial.headers("S01")
    texts = [
        client.get(f"{API}/subjects", headers=h).text,
        client.get(f"{API}/subjects/S01-0", headers=h).text,
        client.get(f"{API}/trial", headers=h).text,
    ]
    for text in texts:
        for word in ("position", "block", "seed", "fingerprint", "pbr-v1"):
            assert word not in text


def test_export_csv_and_parquet_have_cdisc_columns(setup):
    trial, client = setup
    h = trial.headers("statistician")
    csv = client.get(f"{API}/export?format=csv", headers=h)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(csv.text))
    expected = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "ARMCD", "ARM", "RANDDT", "RANDDTM",
                "RANDNO", "prior_et", "visceral_involvement"]  # fmt: skip
    assert list(frame.columns) == expected
    assert frame["USUBJID"].tolist() == ["PALMIRA-S01-0", "PALMIRA-S02-1", "PALMIRA-S01-2",
                                         "PALMIRA-S02-3"]  # fmt: skip
    assert set(frame["ARMCD"]) <= {"PAL_ET", "ET"}
    assert frame["RANDNO"].tolist() == [1, 2, 3, 4]
    parquet = client.get(f"{API}/export?format=parquet", headers=h)
    back = pd.read_parquet(io.BytesIO(parquet.content))
    assert list(back.columns) == expected
    assert back["SITEID"].tolist() == frame["SITEID"].tolist()
    assert client.get(f"{API}/export?format=xlsx", headers=h).status_code == 422


def test_blinded_trial_hides_arm_until_audited_unblinding(tmp_path):
    trial = make_trial(tmp_path, list_size=6, sites=("S01",), blinded=True)
    with TestClient(create_app(trial.db_url)) as client:
        h = trial.headers("S01")
        r = client.post(f"{API}/randomizations", json=body("B-1", "S01"), headers=h)
        assert r.status_code == 201 and r.json()["arm"] is None
        stat = client.get(f"{API}/subjects/B-1", headers=trial.headers("statistician")).json()
        assert stat["arm"] in ("PAL_ET", "ET")
        short = client.post(f"{API}/subjects/B-1/unblind", json={"reason": ""}, headers=h)
        assert short.status_code == 422
        u = client.post(
            f"{API}/subjects/B-1/unblind", json={"reason": "grade 4 toxicity"}, headers=h
        )
        assert u.status_code == 200 and u.json()["arm"] == stat["arm"] and u.json()["unblinded"]
        assert client.get(f"{API}/subjects/B-1", headers=h).json()["arm"] == stat["arm"]
        last = client.get(f"{API}/audit", headers=trial.headers("admin")).json()["records"][-1]
        assert last["action"] == "unblind" and last["reason"] == "grade 4 toxicity"
        assert last["actor"] == "site_S01"

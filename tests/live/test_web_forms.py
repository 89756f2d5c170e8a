"""The web page's forms in-process (FastAPI TestClient): sessions, CSRF, errors, concealment.

Fast checks of what the browser test does not reach: forged and stale posts, crafted form
values, escaping, headers, roles without a site. Every refused post writes nothing.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from livekit import ELIGIBLE

from oncotrial.randomize.service import create_app
from oncotrial.randomize.service.testing import SITE_PASSWORD, TrialFixture, make_trial


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> TrialFixture:
    return make_trial(tmp_path_factory.mktemp("web"), sites=("S01", "S02"))


@pytest.fixture(scope="module")
def app(fixture: TrialFixture):
    return create_app(fixture.db_url)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def signed_in(app, username: str, password: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="http://127.0.0.1")
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": hidden(page.text, "csrf_token"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client, r.headers["set-cookie"]


def form(page: str, subject_id: str, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "idempotency_key": hidden(page, "idempotency_key"),
        "subject_id": subject_id,
        "site": "S01",
        "factor.prior_et": "aromatase_inhibitor",
        "factor.visceral_involvement": "no",
        **{f"elig.{k}": v for k, v in ELIGIBLE.items()},
    }
    data.update(changes)
    return data


def counts(app) -> dict[str, int]:
    return app.state.service.counts()


def errors(html: str) -> list[str]:
    return [unescape(e) for e in re.findall(r"<li>(.*?)</li>", html)]


def test_sign_in_sets_a_strict_httponly_cookie_and_safe_headers(app) -> None:
    client, cookie = signed_in(app, "site_S01", SITE_PASSWORD.format(site="S01"))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert '<label for="factor-prior_et">Previous endocrine therapy</label>' in page.text
    assert "<script" not in page.text


def test_wrong_password_and_forged_login_are_refused(app) -> None:
    client = TestClient(app, base_url="http://127.0.0.1")
    page = client.get("/login")
    token = hidden(page.text, "csrf_token")
    r = client.post(
        "/login", data={"username": "site_S01", "password": "nope", "csrf_token": token}
    )
    assert r.status_code == 401 and "Wrong user name or password." in r.text
    token = hidden(r.text, "csrf_token")  # each rendering of the form has a new nonce
    r = client.post("/login", data={"username": "nobody", "password": "nope", "csrf_token": token})
    assert r.status_code == 401 and "Wrong user name or password." in r.text
    # a login form posted from elsewhere has no matching double-submit cookie
    other = TestClient(app, base_url="http://127.0.0.1")
    r = other.post(
        "/login",
        data={
            "username": "site_S01",
            "password": SITE_PASSWORD.format(site="S01"),
            "csrf_token": token,
        },
    )
    assert r.status_code == 403 and "oncotrial_session" not in r.headers.get("set-cookie", "")


def test_posts_without_the_session_csrf_token_do_nothing(app) -> None:
    client, _ = signed_in(app, "site_S01", SITE_PASSWORD.format(site="S01"))
    page = client.get("/").text
    before = counts(app)
    for bad in ("", "0" * 64, hidden(page, "idempotency_key")):
        r = client.post("/randomize", data=form(page, "S01-9001", csrf_token=bad))
        assert r.status_code == 403
        assert "nothing was done" in r.text
    assert counts(app) == before


def test_crafted_values_get_clear_errors_and_write_nothing(app) -> None:
    client, _ = signed_in(app, "site_S01", SITE_PASSWORD.format(site="S01"))
    page = client.get("/").text
    before = counts(app)
    cases = {
        "factor.prior_et": ("tamoxifen", 422, "unknown level 'tamoxifen'"),
        "site": ("S02", 403, "only at your own site"),
        "factor.visceral_involvement": ("", 422, "Visceral involvement: choose a level."),
        "subject_id": ("<b>x</b>", 422, "Subject ID: use 1-64 letters"),
    }
    for field, (value, status, message) in cases.items():
        r = client.post("/randomize", data={**form(page, "S01-9002"), field: value})
        assert r.status_code == status, (field, r.status_code)
        assert any(message in e for e in errors(r.text)), (field, errors(r.text))
    # escaped, never markup
    r = client.post("/randomize", data=form(page, "<b>x</b>"))
    assert "&lt;b&gt;x&lt;/b&gt;" in r.text and "<b>x</b>" not in r.text
    # unanswered questions: the criteria that need them cannot be checked
    blank = {f"elig.{k}": "" for k in ELIGIBLE}
    r = client.post("/randomize", data=form(page, "S01-9003", **blank))
    assert r.status_code == 422 and "cannot be checked" in r.text
    assert "I1: Age 18 years or older" in errors(r.text)
    assert counts(app) == before


def test_double_submission_randomizes_once_and_other_site_sees_nothing(app) -> None:
    client, _ = signed_in(app, "site_S01", SITE_PASSWORD.format(site="S01"))
    page = client.get("/").text
    data = form(page, "S01-0001")
    before = counts(app)["assignments"]
    first = client.post("/randomize", data=data, follow_redirects=False)
    again = client.post("/randomize", data=data, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == "/?done=S01-0001"
    assert counts(app)["assignments"] == before + 1
    shown = client.get("/?done=S01-0001").text
    assert 'id="result-arm"' in shown and '<th scope="row">S01-0001</th>' in shown

    other, _ = signed_in(app, "site_S02", SITE_PASSWORD.format(site="S02"))
    assert "S01-0001" not in other.get("/").text
    assert "S01-0001" not in other.get("/?done=S01-0001").text


def test_sign_out_revokes_the_session(app, fixture: TrialFixture) -> None:
    client, cookie = signed_in(app, "site_S01", SITE_PASSWORD.format(site="S01"))
    token = re.search(r"oncotrial_session=([^;]+)", cookie).group(1)
    page = client.get("/").text
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    r = client.post(
        "/logout", data={"csrf_token": hidden(page, "csrf_token")}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    stale = TestClient(app, base_url="http://127.0.0.1", cookies={"oncotrial_session": token})
    assert stale.get("/", follow_redirects=False).headers["location"] == "/login"
    assert stale.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_users_without_a_site_get_no_form_and_no_subjects(app, fixture: TrialFixture) -> None:
    service = app.state.service
    service.create_user("admin", "stat-web", "statistician", None, "statistician-pw")
    client, _ = signed_in(app, "stat-web", "statistician-pw")
    page = client.get("/").text
    assert 'id="no-site"' in page
    assert 'id="randomize"' not in page and 'id="subjects"' not in page

"""The web page in headless Chromium (Debian ``chromium`` + ``chromedriver``, no download).

A site user signs in, is refused for an ineligible subject (with the failing criterion),
randomizes an eligible one and sees it in the site's table; a user of a second site does not
see it, and signing out ends the session. Screenshots of each step are saved under
``$ONCOTRIAL_ARTIFACTS/browser/`` (default tests/artifacts/browser/).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from livekit import ELIGIBLE, PASSWORD, TrialDb, init_trial_db, running

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[object]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        message = (
            f"{CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium chromium-driver)"
        )
        pytest.fail(message, pytrace=False)
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never download
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1100,2600",
        "--lang=en-US",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    drv.implicitly_wait(5)
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture
def shots(artifacts: Path) -> Path:
    path = artifacts / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sign_in(drv, base: str, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    drv.get(base + "/")
    assert drv.current_url == base + "/login"  # not signed in: sent to the sign-in page
    drv.find_element(By.ID, "username").send_keys(username)
    drv.find_element(By.ID, "password").send_keys(password)
    drv.find_element(By.ID, "sign-in").click()


def wait_for_url(drv, url: str, timeout: float = 15) -> None:
    """Wait until the browser has navigated to ``url`` (fails after ``timeout`` s)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(drv, timeout).until(
        expected_conditions.url_to_be(url), message=f"the browser did not reach {url}"
    )


def fill_subject(drv, subject_id: str, answers: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    drv.find_element(By.ID, "subject_id").send_keys(subject_id)
    Select(drv.find_element(By.ID, "factor-prior_et")).select_by_visible_text("fulvestrant")
    Select(drv.find_element(By.ID, "factor-visceral_involvement")).select_by_visible_text("yes")
    for name, value in answers.items():
        field = drv.find_element(By.ID, f"elig-{name}")
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        elif field.get_attribute("type") == "date":
            year, month, day = value.split("-")
            field.send_keys(month + day + year)  # typed as a person would (en-US mm/dd/yyyy)
        elif value:
            field.send_keys(value)


@pytest.fixture
def web_trial(sqlite_url: str) -> TrialDb:
    return init_trial_db(sqlite_url, sites=("S01", "S02"))


def test_site_user_randomizes_in_the_browser(driver, web_trial: TrialDb, log_dir, shots) -> None:
    from selenium.webdriver.common.by import By

    drv = driver
    with running(web_trial.db_url, log_dir) as server:
        base = server.url
        # wrong password: a clear message, no session
        sign_in(drv, base, web_trial.users["S01"], "not-the-password")
        assert "Wrong user name or password" in drv.find_element(By.ID, "login-error").text
        drv.save_screenshot(str(shots / "01-login-error.png"))

        drv.get(base + "/login")
        drv.find_element(By.ID, "username").send_keys(web_trial.users["S01"])
        drv.find_element(By.ID, "password").send_keys(PASSWORD)
        drv.find_element(By.ID, "sign-in").click()
        assert drv.find_element(By.ID, "no-subjects").is_displayed()
        cookie = drv.get_cookie("oncotrial_session")
        assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        drv.save_screenshot(str(shots / "02-signed-in.png"))

        # an ineligible subject (aged 16) is refused with the failing criterion; nothing stored
        fill_subject(drv, "S01-0099", {**ELIGIBLE, "age": "16"})
        drv.find_element(By.ID, "randomize").click()
        errors = drv.find_element(By.ID, "form-errors").text
        assert "not eligible" in errors and "I1: Age 18 years or older" in errors
        assert drv.find_elements(By.ID, "subjects") == []
        drv.save_screenshot(str(shots / "03-ineligible.png"))

        # the eligible subject is randomized and listed
        drv.get(base + "/")
        fill_subject(drv, "S01-0001", ELIGIBLE)
        drv.find_element(By.ID, "randomize").click()
        arm = drv.find_element(By.ID, "result-arm").text
        assert arm in ("Palbociclib + ET", "ET")
        assert drv.find_element(By.ID, "result-randno").text == "1"
        rows = drv.find_elements(By.CSS_SELECTOR, "#subjects tbody tr")
        assert len(rows) == 1
        cells = [c.text for c in rows[0].find_elements(By.CSS_SELECTOR, "th, td")]
        assert cells[:4] == ["S01-0001", "S01", "1", arm]
        drv.save_screenshot(str(shots / "04-randomized.png"))

        # the API agrees (same service, same concealment rules)
        api = httpx.get(
            base + "/api/v1/subjects",
            headers={"Authorization": f"Bearer {web_trial.tokens['S01']}"},
        ).json()["subjects"]
        assert [(s["subject_id"], s["arm_label"]) for s in api] == [("S01-0001", arm)]

        # sign out: the session cookie's token is revoked
        drv.find_element(By.CSS_SELECTOR, "header button").click()
        # click() may return before the form's navigation has even started (chromedriver
        # does not wait for it), so reading current_url at once raced with the browser: wait
        # for the redirect to the sign-in page, which also means the server has revoked the
        # session, before checking the old cookie
        wait_for_url(drv, base + "/login")
        assert drv.current_url == base + "/login"
        stale = httpx.get(base + "/", cookies={"oncotrial_session": cookie["value"]})
        assert stale.status_code == 303 and stale.headers["location"] == "/login"

        # a user of site S02 sees no subject of S01
        drv.get(base + "/login")
        drv.find_element(By.ID, "username").send_keys(web_trial.users["S02"])
        drv.find_element(By.ID, "password").send_keys(PASSWORD)
        drv.find_element(By.ID, "sign-in").click()
        assert drv.find_element(By.ID, "no-subjects").is_displayed()
        assert "S01-0001" not in drv.page_source
        drv.save_screenshot(str(shots / "05-other-site.png"))

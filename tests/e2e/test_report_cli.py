"""``oncotrial report`` end to end: JSON summary, files, and the page rendered in Chromium.

The full-page screenshot is a test artifact for a person to look at: it is written under
``$ONCOTRIAL_ARTIFACTS`` (default ``tests/artifacts/``, git-ignored).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from oncotrial.cli import main
from oncotrial.derive.pipeline import derive_trial
from oncotrial.spec import load_spec
from oncotrial.synth import generate_trial, write_trial

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def artifacts_dir() -> Path:
    root = Path(os.environ.get("ONCOTRIAL_ARTIFACTS", Path(__file__).parents[1] / "artifacts"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="module")
def report_json(tmp_path_factory):
    spec = load_spec("palmira")
    root = tmp_path_factory.mktemp("cli_report")
    write_trial(generate_trial(spec, 11, 60), root / "raw", "csv")
    derive_trial(spec, root / "raw", root / "adam")
    return root


def test_cli_writes_the_report_and_prints_one_json_document(report_json, capsys):
    out = report_json / "report"
    code = main(["report", "palmira", str(report_json / "adam"), "--out", str(out), "--json"])
    stdout, _ = capsys.readouterr()
    assert code == 0
    doc = json.loads(stdout)
    assert doc["html"] == str(out / "report.html")
    assert doc["counts"]["tables"] == len(doc["tables"]) >= 7
    assert doc["counts"]["figures"] == len(doc["figures"]) >= 4
    for files in (*doc["tables"].values(), *doc["figures"].values()):
        for path in files.values():
            assert (out / path).is_file()
    assert doc["cutoff"] is None  # derived without a data cut
    _screenshot(out / "report.html")


def test_cli_bad_input_exits_1_naming_the_dataset(report_json, tmp_path, capsys):
    code = main(["report", "palmira", str(tmp_path), "--out", str(tmp_path / "r"), "--json"])
    stdout, _ = capsys.readouterr()
    assert code == 1
    error = json.loads(stdout)["error"]
    assert error["dataset"] == "ADSL" and "ADSL missing" in error["message"]


def test_cli_rejects_an_unknown_profile(report_json, tmp_path, capsys):
    code = main(
        ["report", "palmira", str(report_json / "adam"), "--out", str(tmp_path / "r"),
         "--profile", "stata", "--json"]
    )  # fmt: skip
    assert code == 1
    assert "stata" in json.loads(capsys.readouterr().out)["error"]["message"]


def _screenshot(html: Path) -> None:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("headless Chromium is required: /usr/bin/chromium and /usr/bin/chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.get(html.resolve().as_uri())
        assert "PALMIRA" in driver.title
        toc = driver.find_elements(By.CSS_SELECTOR, "nav#toc a")
        assert len(toc) >= 12
        images = driver.find_elements(By.CSS_SELECTOR, "figure img")
        assert images
        for img in images:  # every embedded SVG decoded and laid out
            assert driver.execute_script("return arguments[0].naturalWidth", img) > 0
        assert driver.find_elements(By.CSS_SELECTOR, "table.gt_table")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, min(int(height), 20000))
        target = artifacts_dir() / "report_full_page.png"
        assert driver.save_screenshot(str(target))
        assert target.stat().st_size > 10_000
    finally:
        driver.quit()

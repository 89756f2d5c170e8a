"""Randomization service: audit hash chain, tamper detection, migrations, CLI commands."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sqlite3

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect

from oncotrial.cli import main
from oncotrial.randomize.service import RandomizationRequest, RandomizationService, verify_audit
from oncotrial.randomize.service.db import current_revision, migrate
from oncotrial.randomize.service.testing import make_trial
from oncotrial.spec.loader import example_path


def _randomize(trial, n, site="S01"):
    service = RandomizationService.open(trial.db_url)
    user = service.principal_for_token(trial.site_tokens[site])
    for i in range(n):
        service.randomize(
            user,
            RandomizationRequest(
                subject_id=f"A-{i}",
                site=site,
                strata={"prior_et": "fulvestrant", "visceral_involvement": ("yes", "no")[i % 2]},
            ),
        )
    service.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    t = make_trial(tmp_path_factory.mktemp("svc_audit"), list_size=6, sites=("S01",))
    _randomize(t, 4)
    con = sqlite3.connect(_path(t))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return t


@pytest.fixture
def trial(template, tmp_path):
    """A private copy of the template database (tests below edit it with raw SQL)."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(_path(template), copy)
    return dataclasses.replace(template, db_url=f"sqlite:///{copy}")


def _path(trial):
    return trial.db_url.removeprefix("sqlite:///")


def test_intact_chain_verifies(trial):
    result = verify_audit(trial.db_url)
    assert result.ok, result.summary()
    assert result.assignments_checked == 4
    actions = [r[0] for r in sqlite3.connect(_path(trial)).execute(
        "SELECT action FROM audit_log ORDER BY seq")]  # fmt: skip
    assert actions[0] == "init_trial" and actions.count("randomize") == 4
    assert result.records == len(actions) == result.head_seq


def test_hash_follows_the_documented_definition(trial):
    """Recompute every hash from the raw rows with hashlib + json only."""
    con = sqlite3.connect(_path(trial))
    rows = con.execute(
        "SELECT seq, ts, actor, action, entity, old_value, new_value, reason, prev_hash, hash "
        "FROM audit_log ORDER BY seq"
    ).fetchall()
    prev = "0" * 64
    for seq, ts, actor, action, entity, old, new, reason, prev_hash, digest in rows:
        # SQLite keeps the UTC time without offset: "YYYY-MM-DD HH:MM:SS.ffffff"
        iso = ts.replace(" ", "T") + ("" if "." in ts else ".000000") + "+00:00"
        record = {"seq": seq, "ts": iso, "actor": actor, "action": action, "entity": entity,
                  "old": json.loads(old), "new": json.loads(new), "reason": reason,
                  "prev_hash": prev_hash}  # fmt: skip
        text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert prev_hash == prev
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == digest
        prev = digest


@pytest.mark.parametrize(
    ("sql", "seq", "words"),
    [
        ("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3", 3, "was altered"),
        (
            "UPDATE audit_log SET new_value = json_set(new_value, '$.randno', 99) "
            "WHERE action = 'randomize' AND entity = 'subject:A-1'",
            None,
            "was altered",
        ),
        ("DELETE FROM audit_log WHERE seq = 2", 3, "sequence gap"),
        ("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)", None, "head"),
        (
            "UPDATE assignments SET arm = CASE arm WHEN 'ET' THEN 'PAL_ET' ELSE 'ET' END "
            "WHERE subject_id = 'A-2'",
            None,
            "differs from its audit record",
        ),
        (
            "UPDATE allocation_list SET arm = CASE arm WHEN 'ET' THEN 'PAL_ET' ELSE 'ET' END "
            "WHERE stratum = 3 AND position = 5",
            None,
            "allocation list table differs",
        ),
    ],
)
def test_tampering_is_detected(trial, sql, seq, words):
    con = sqlite3.connect(_path(trial))
    con.execute(sql)
    con.commit()
    con.close()
    result = verify_audit(trial.db_url)
    assert not result.ok
    assert words in result.first_break.problem or any(words in p.problem for p in result.problems)
    if seq is not None:
        assert result.first_break.seq == seq


def test_migrations_upgrade_from_empty_and_are_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert current_revision(url) is None
    migrate(url)
    migrate(url)
    assert current_revision(url) == "0002_audit_head_prev_hash"
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {
        "trial", "sites", "users", "api_tokens", "allocation_list", "stratum_counters",
        "assignments", "idempotency_keys", "audit_log", "audit_head", "alembic_version",
    } <= tables  # fmt: skip
    con = sqlite3.connect(tmp_path / "empty.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _cli(capsys, *args):
    code = main(["randomize", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_cli_init_add_verify_export(tmp_path, capsys):
    db = str(tmp_path / "cli.db")
    spec = str(example_path("palmira"))
    code, init = _cli(capsys, "init", "--spec", spec, "--db", db, "--admin", "boss",
                      "--seed", "11", "--list-size", "6")  # fmt: skip
    assert code == 0 and init["admin_token"].startswith("ot_") and init["seed"] == 11
    code, again = _cli(capsys, "init", "--spec", spec, "--db", db, "--admin", "boss")
    assert code == 1 and "already holds a trial" in again["error"]["message"]
    assert _cli(capsys, "add-site", "--db", db, "--code", "S01", "--name", "One")[0] == 0
    code, user = _cli(capsys, "add-user", "--db", db, "--username", "s1", "--role", "site",
                      "--site", "S01")  # fmt: skip
    assert code == 0 and user["token"].startswith("ot_")
    code, bad = _cli(capsys, "add-user", "--db", db, "--username", "s2", "--role", "site",
                     "--site", "S99")  # fmt: skip
    assert code == 1 and "'S99' is not a site" in bad["error"]["message"]
    service = RandomizationService.open(db)
    principal = service.principal_for_token(user["token"])
    service.randomize(
        principal,
        RandomizationRequest(
            subject_id="C-1", site="S01",
            strata={"prior_et": "aromatase_inhibitor", "visceral_involvement": "no"},
        ),
    )  # fmt: skip
    service.close()
    code, verified = _cli(capsys, "verify-audit", "--db", db)
    assert code == 0 and verified["ok"] and verified["assignments_checked"] == 1
    out = tmp_path / "rand.csv"
    code, exported = _cli(capsys, "export", "--db", db, "--out", str(out))
    assert code == 0 and exported["out"] == str(out)
    frame = pd.read_csv(out)
    assert frame.loc[0, "USUBJID"] == "PALMIRA-C-1" and frame.loc[0, "SITEID"] == "S01"
    assert frame.loc[0, "visceral_involvement"] == "no"
    con = sqlite3.connect(db)
    con.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    con.commit()
    con.close()
    code, broken = _cli(capsys, "verify-audit", "--db", db)
    assert code == 1 and not broken["ok"] and broken["first_break"]["seq"] == 2


def test_app_refuses_a_different_spec(trial):
    from oncotrial.errors import InputError
    from oncotrial.randomize.service import create_app

    with pytest.raises(InputError, match="is not the spec this database was initialised with"):
        create_app(trial.db_url, example_path("accru_br_1801"))
    assert create_app(trial.db_url, example_path("palmira")).title.endswith("PALMIRA")

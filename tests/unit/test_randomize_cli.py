"""``oncotrial randomize``: --json discipline, the canonical CSV, exit codes."""

from __future__ import annotations

import hashlib
import json

from oncotrial.cli import main
from oncotrial.randomize import ListParams, regenerate

PALMIRA = [
    "--ratio",
    "2:1",
    "--arms",
    "P+ET,ET",
    "--factor",
    "prior_et=AI,fulvestrant",
    "--factor",
    "visceral=yes,no",
    "--block-sizes",
    "3,6",
]


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_and_csv_fingerprint(capsys, tmp_path):
    out_file = tmp_path / "list.csv"
    code, out, err = run(
        capsys,
        "randomize",
        "list",
        *PALMIRA,
        "--per-stratum",
        "120",
        "--seed",
        "20190410",
        "--out",
        str(out_file),
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["params"]["algorithm"] == "pbr-v1" and doc["params"]["seed"] == 20190410
    assert hashlib.sha256(out_file.read_bytes()).hexdigest() == doc["fingerprint"]
    assert doc["out"] == str(out_file) and "wrote" in err
    again = regenerate(ListParams.from_dict(doc["params"]))
    assert again.fingerprint == doc["fingerprint"]
    assert len(doc["strata"]) == 4 and all(len(doc["slots"]) >= 480 for _ in [0])


def test_list_human_output(capsys):
    code, out, _ = run(capsys, "randomize", "list", *PALMIRA, "--per-stratum", "6", "--seed", "1")
    assert code == 0 and "pbr-v1" in out and "prior_et=AI|visceral=yes" in out


def test_simple_list(capsys):
    code, out, _ = run(
        capsys,
        "randomize",
        "list",
        "--ratio",
        "1:1",
        "--arms",
        "A,B",
        "--scheme",
        "simple",
        "--per-stratum",
        "10",
        "--seed",
        "3",
        "--json",
    )
    doc = json.loads(out)
    assert code == 0 and doc["params"]["algorithm"] == "simple-v1" and len(doc["slots"]) == 10


def test_bad_input_exit_1_with_json_error(capsys):
    code, out, _ = run(
        capsys,
        "randomize",
        "list",
        "--ratio",
        "2:0",
        "--arms",
        "P+ET,ET",
        "--block-sizes",
        "3",
        "--per-stratum",
        "3",
        "--seed",
        "1",
        "--json",
    )
    err = json.loads(out)["error"]
    assert code == 1 and err["argument"] == "ratio" and err["value"] == "2:0"
    code, out, _ = run(
        capsys,
        "randomize",
        "list",
        "--ratio",
        "2:1",
        "--arms",
        "P+ET,ET",
        "--block-sizes",
        "3,4",
        "--per-stratum",
        "3",
        "--seed",
        "1",
        "--json",
    )
    err = json.loads(out)["error"]
    assert code == 1 and err["argument"] == "block_sizes" and "multiple of 3" in err["message"]
    code, out, _ = run(
        capsys,
        "randomize",
        "list",
        *PALMIRA[:4],
        "--factor",
        "visceral=",
        "--block-sizes",
        "3",
        "--per-stratum",
        "3",
        "--seed",
        "1",
        "--json",
    )
    assert code == 1 and "no levels" in json.loads(out)["error"]["message"]


def test_assess_json(capsys):
    code, out, _ = run(
        capsys,
        "randomize",
        "assess",
        *PALMIRA,
        "--n",
        "60",
        "--sims",
        "30",
        "--sites",
        "3,2,1",
        "--prob",
        "visceral=0.6,0.4",
        "--weight",
        "visceral=2",
        "--seed",
        "5",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert [s["algorithm"] for s in doc["schemes"]] == ["pbr-v1", "ps-v1", "simple-v1"]
    assert doc["cohort"]["probabilities"]["visceral"] == [0.6, 0.4]
    assert doc["schemes"][1]["design"]["weights"] == [1.0, 2.0]


def test_assess_human_and_errors(capsys):
    code, out, _ = run(capsys, "randomize", "assess", *PALMIRA, "--n", "30", "--sims", "10")
    assert code == 0 and "Randomization assessment" in out
    code, out, _ = run(
        capsys,
        "randomize",
        "assess",
        *PALMIRA,
        "--n",
        "30",
        "--sims",
        "10",
        "--weight",
        "bone=2",
        "--json",
    )
    assert code == 1 and json.loads(out)["error"]["value"] == "bone"
    code, out, _ = run(
        capsys, "randomize", "assess", *PALMIRA, "--n", "30", "--schemes", "urn", "--json"
    )
    assert code == 1 and json.loads(out)["error"]["argument"] == "schemes"

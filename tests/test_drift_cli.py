"""`dockdrift drift` on synthetic captures (exchanges inserted with chosen times).

drift_helpers.capture: 8 days of inspect (10% 404), pings (with a few proxy failures) and
container creates (9% 409); the last day either keeps the mix or lifts inspect 404s to 55%.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from dockdrift.cli import main
from drift_helpers import CREATE, INSPECT, NOW, add_exchanges, capture

AT = ["--now", NOW.isoformat()]


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Path]:
    tmp = tmp_path_factory.mktemp("drift_cli")
    return {s: capture(tmp / f"{s}.sqlite", shifted=s) for s in (True, False)}


@pytest.fixture
def shifted(templates: dict[bool, Path], tmp_path: Path) -> Path:
    """A private copy (tests may save runs into it)."""
    return Path(shutil.copy(templates[True], tmp_path / "shifted.sqlite"))


@pytest.fixture
def noise(templates: dict[bool, Path], tmp_path: Path) -> Path:
    return Path(shutil.copy(templates[False], tmp_path / "noise.sqlite"))


def drift_json(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, dict]:
    rc = main(["drift", *args, *AT, "--format", "json"])
    return rc, json.loads(capsys.readouterr().out)


def test_shift_exits_1_with_the_json_contract(shifted: Path, capsys) -> None:
    rc, out = drift_json(capsys, "--db", str(shifted))
    assert rc == 1
    assert list(out)[:3] == ["findings", "baseline", "current"]  # more keys may follow
    (f,) = out["findings"]
    assert (f["target"], f["method"], f["route"], f["kind"], f["code"]) == (
        "engine", *INSPECT, "share_shift", 404)
    assert (f["baseline_share"], f["current_share"]) == (0.1, 0.55)
    assert f["p_value"] < 1e-10 and f["statistic"] > 100 and f["effect"] == pytest.approx(0.45)
    assert out["baseline"]["start"] == "2026-11-18T12:00:00"
    assert out["current"] | {"first": None, "last": None} == {
        "db": str(shifted), "start": "2026-11-25T12:00:00", "end": "2026-11-26T12:00:00",
        "first": None, "last": None, "n_exchanges": 668, "n_answered": 666,
        "n_proxy_failures": 2, "recorders": []}


def test_noise_exits_0(noise: Path, capsys) -> None:
    rc = main(["drift", "--db", str(noise), *AT])
    assert rc == 0
    assert capsys.readouterr().out.rstrip().endswith("no drift")


def test_text_markdown_and_html(shifted: Path, tmp_path: Path, capsys) -> None:
    assert main(["drift", "--db", str(shifted), *AT]) == 1
    text = capsys.readouterr().out
    assert "share_shift" in text and "100/1000 (10%)" in text and "165/300 (55%)" in text
    assert main(["drift", "--db", str(shifted), *AT, "--format", "markdown"]) == 1
    assert "| share_shift | engine | GET | /containers/{name:.*}/json | 404 |" in \
        capsys.readouterr().out
    out = tmp_path / "d.html"
    assert main(["drift", "--db", str(shifted), *AT, "--format", "html", "-o", str(out)]) == 1
    page = out.read_text()
    assert page.startswith("<!doctype html>") and page.count("data:image/png;base64,") == 1


def test_two_databases(shifted: Path, tmp_path: Path, capsys) -> None:
    new = tmp_path / "new.sqlite"
    add_exchanges(new, INSPECT, {200: 100, 404: 100}, NOW, NOW.replace(hour=13))
    add_exchanges(new, CREATE, {201: 100, 409: 10}, NOW, NOW.replace(hour=13))
    rc, out = drift_json(capsys, "--db", str(new), "--baseline-db", str(shifted),
                         "--baseline", "8d..1d")
    assert rc == 1
    assert [(f["route"], f["kind"]) for f in out["findings"]] == [(INSPECT[1], "share_shift")]
    assert out["baseline"]["db"] == str(shifted) and out["current"]["start"] is None


def test_thresholds_from_config_and_flags(shifted: Path, tmp_path: Path, monkeypatch,
                                          capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["drift", "--db", str(shifted), *AT, "--min-effect", "0.5"]) == 0
    assert main(["drift", "--db", str(shifted), *AT, "--ignore-route", "/containers/*"]) == 0
    (tmp_path / "dockdrift.toml").write_text(
        '[drift]\n[[drift.suppress]]\nroute = "/containers/{name:.*}/json"\ncodes = [404]\n')
    assert main(["drift", "--db", str(shifted), *AT]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("args, message", [
    (["--baseline", "1d..7d"], "not before its end"),
    (["--baseline", "7d"], "START..END"),
    (["--baseline", "7d..now", "--current", "1d..now"], "must end before"),
    (["--alpha", "3"], "--alpha: alpha must be"),
    (["--correction", "magic"], "correction must be one of"),
    (["--against", "spec:9.99"], "no Engine OpenAPI table"),
    (["--since-last-run"], "no saved drift run"),
    (["--since-last-run", "--baseline", "2d..1d"], "drop --baseline"),
    (["--config", "/nonexistent/dockdrift.toml"], "does not exist"),
])
def test_usage_errors_exit_2_with_one_line(shifted: Path, capsys, args: list[str],
                                           message: str) -> None:
    assert main(["drift", "--db", str(shifted), *AT, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_or_corrupt_database_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["drift", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    assert main(["drift", "--db", str(bad)]) == 2
    assert "not a readable SQLite database" in capsys.readouterr().err


def test_bad_config_file_exits_2(shifted: Path, tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[drift]\nmin_effect = 'big'\n")
    assert main(["drift", "--db", str(shifted), *AT, "--config", str(cfg)]) == 2
    assert "min_effect must be a number" in capsys.readouterr().err


def test_save_history_and_since_last_run(shifted: Path, tmp_path: Path, capsys) -> None:
    assert main(["drift", "--db", str(shifted), *AT, "--save"]) == 1
    capsys.readouterr()
    # an hour later: baseline = the saved current window, current = its end .. now
    add_exchanges(shifted, INSPECT, {200: 45, 404: 55}, NOW, NOW.replace(hour=13))
    rc = main(["drift", "--db", str(shifted), "--since-last-run", "--save",
               "--now", "2026-11-26T13:00:00", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert (out["baseline"]["start"], out["baseline"]["end"]) == (
        "2026-11-25T12:00:00", "2026-11-26T12:00:00")
    assert (out["current"]["start"], out["current"]["end"]) == (
        "2026-11-26T12:00:00", "2026-11-26T13:00:00")
    assert (rc, out["current"]["n_answered"]) == (0, 100)  # still 55%: the new normal
    with sqlite3.connect(shifted) as conn:
        saved = conn.execute("SELECT n_findings, params_json FROM drift_runs ORDER BY id")
        saved = saved.fetchall()
    assert [n for n, _ in saved] == [1, 0]
    assert json.loads(saved[0][1])["alpha"] == 0.01
    assert main(["drift", "history", "--db", str(shifted), "--format", "json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [(r["id"], r["n_findings"]) for r in runs] == [(1, 1), (2, 0)]
    assert runs[0]["findings"][0]["kind"] == "share_shift"
    assert main(["drift", "history", "--db", str(shifted)]) == 0
    assert "share_shift 1" in capsys.readouterr().out
    out_html = tmp_path / "h.html"
    assert main(["drift", "history", "--db", str(shifted), "--format", "html",
                 "-o", str(out_html)]) == 0
    assert "data:image/png;base64," in out_html.read_text()


def test_history_of_a_capture_without_runs(noise: Path, capsys) -> None:
    assert main(["drift", "history", "--db", str(noise)]) == 0
    assert "no saved drift runs" in capsys.readouterr().out


def test_newly_undocumented_against_seed_and_spec(noise: Path, capsys) -> None:
    """A 418 on container create (no table documents it) appears in the current day."""
    add_exchanges(noise, CREATE, {418: 12}, NOW.replace(hour=1), NOW)
    rc, out = drift_json(capsys, "--db", str(noise))
    assert rc == 1
    assert [(f["route"], f["kind"], f["code"]) for f in out["findings"]] == [
        (CREATE[1], "newly_undocumented", 418)]
    assert out["findings"][0]["documented"] == [201, 404, 406, 500]  # seed, Docker column
    rc, out = drift_json(capsys, "--db", str(noise), "--against", "spec:1.41")
    assert [f["kind"] for f in out["findings"]] == ["newly_undocumented"]

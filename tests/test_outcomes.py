"""Reports and drift see outcomes (analysis.outcomes), on a small literal capture in SQLite.

What the capture holds:
- engine POST /build 200 ×40 in the baseline day (2 with an error in the stream) and ×40 in the
  current day (30 with an error: "The command ... returned a non-zero code: 3" ×25, "no
  space left" ×5); one 500 (an error status, not an in-stream error).
- engine POST /containers/{name:.*}/wait 200: baseline exit statuses 0 ×36, 1 ×4; current
  0 ×10, 137 ×30 (something started killing containers).
- engine POST /plugins/pull 200 ×1 with an in-stream error whose text is withheld.
- engine GET /containers/json 200 ×40 in each window: no outcome at all.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from dockdrift.analysis.drift import DriftParams, find_drift
from dockdrift.analysis.outcomes.drift import exit_code_candidates, stream_error_candidates
from dockdrift.analysis.outcomes.load import exit_code_counts, stream_error_counts
from dockdrift.db.engine import make_engine
from dockdrift.db.models import Exchange
from dockdrift.db.record import build_row
from dockdrift.cli import main

NOW = datetime(2026, 11, 22, 12, 0, 0)
BASE, CUR = NOW - timedelta(days=2), NOW - timedelta(hours=12)
ERR3 = "The command '/bin/sh -c exit 3' returned a non-zero code: 3"


def _row(t: datetime, method: str, target: bytes, status: int, **kw: object) -> dict:
    row = build_row(method=method, raw_target=target, started=t.timestamp(),
                    ended=t.timestamp() + 0.01, status_code=status, target="engine",
                    server="Docker/20.10.24", **kw)  # type: ignore[arg-type]
    row["started_at"] = t
    return row


def _window(t0: datetime, builds: list[str | None], exits: list[int]) -> list[dict]:
    rows = []
    for i, err in enumerate(builds):
        rows.append(_row(t0 + timedelta(seconds=i), "POST", b"/v1.41/build?t=x", 200,
                         stream_error_text=err, stream_error_count=int(err is not None)))
    for i, code in enumerate(exits):
        rows.append(_row(t0 + timedelta(seconds=i), "POST", b"/v1.41/containers/c/wait", 200,
                         exit_code=code, stream_error_count=0))
    rows += [_row(t0 + timedelta(seconds=i), "GET", b"/v1.41/containers/json", 200)
             for i in range(40)]
    return rows


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    db = tmp_path / "outcomes.sqlite"
    engine = make_engine(db)
    rows = _window(BASE, [ERR3] * 2 + [None] * 38, [0] * 36 + [1] * 4)
    rows += _window(CUR, [ERR3] * 25 + ["write /x: no space left on device"] * 5 + [None] * 10,
                    [0] * 10 + [137] * 30)
    rows.append(_row(CUR, "POST", b"/v1.41/build", 500, body_head=b'{"message":"boom"}'))
    rows.append(_row(CUR, "POST", b"/v1.41/plugins/pull?remote=x", 200,
                     stream_error_text="denied: user bob", stream_error_count=1))
    with engine.begin() as conn:
        conn.execute(insert(Exchange), rows)
    engine.dispose()
    return db


def test_aggregates_read_the_partial_indexes(capture: Path) -> None:
    engine = make_engine(capture, create=False)
    streams = stream_error_counts(engine)
    build = streams[streams["route"] == "/build"].iloc[0]
    assert (build.status_code, build.answers, build.with_error) == (200, 80, 32)
    exits = exit_code_counts(engine)
    assert dict(zip(exits["exit_code"], exits["count"], strict=True)) == {0: 46, 1: 4, 137: 30}
    with engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT target, method, route, exit_code, count(*) FROM "
            "exchanges WHERE exit_code IS NOT NULL GROUP BY 1, 2, 3, 4"))
    assert "ix_exchanges_exits" in plan
    engine.dispose()


def test_report_json_rows_gain_stream_errors_and_exit_codes(capture: Path, capsys) -> None:
    assert main(["report", "--db", str(capture), "--against", "spec:1.41",
                 "--format", "json"]) in (0, 1)
    out = json.loads(capsys.readouterr().out)
    rows = {(r["method"], r["route"]): r for r in out["routes"]}
    assert rows[("POST", "/build")]["stream_errors"] == {"200": 32}
    assert rows[("POST", "/build")]["observed"] == {"200": 80, "500": 1}
    wait = rows[("POST", "/containers/{name:.*}/wait")]
    assert wait["exit_codes"] == {"0": 46, "1": 4, "137": 30} and wait["stream_errors"] == {}
    assert rows[("GET", "/containers/json")]["stream_errors"] == {}
    assert "exit_codes" not in rows[("GET", "/containers/json")]
    assert out["summary"]["outcomes"]["answers_2xx_with_stream_error"] == 33


def test_report_text_lists_errors_with_messages_and_exit_statuses(capture: Path, capsys) -> None:
    main(["report", "--db", str(capture), "--against", "spec:1.41"])
    text = capsys.readouterr().out
    assert "Errors inside 2xx answers" in text and "32/80 (40%)" in text
    assert f"{ERR3} ×27" in text and "no space left on device ×5" in text
    assert "withheld" in text and "bob" not in text
    assert "Exit statuses told to clients" in text and "0×46 1×4 137×30" in text


def test_report_html_and_csv_show_outcomes(capture: Path, tmp_path: Path, capsys) -> None:
    html = tmp_path / "r.html"
    main(["report", "--db", str(capture), "--format", "html", "-o", str(html)])
    page = html.read_text()
    assert "Errors inside 2xx answers" in page and "<img" in page
    main(["report", "--db", str(capture), "--format", "csv"])
    csv = capsys.readouterr().out
    assert "POST,/build,postBuild,200,32,stream-error" in csv.replace('"', "")


def test_heatmap_splits_a_200_cell() -> None:
    import pandas as pd

    from dockdrift.analysis.plots import heatmap

    routes = pd.DataFrame([{"target": "engine", "method": "POST", "route": "/build",
                            "observed": {200: 80}, "documented": (200,), "undocumented": (),
                            "in_table": True, "stream_errors": {200: 32}}])
    fig = heatmap(routes)
    assert "48|32" in [t.get_text() for t in fig.axes[0].texts]


def test_drift_finds_both_shifts(capture: Path) -> None:
    engine = make_engine(capture, create=False)
    from dockdrift.analysis.load import Filter

    b, c = Filter(until=NOW - timedelta(days=1)), Filter(since=NOW - timedelta(days=1))
    params = DriftParams()
    cands = (stream_error_candidates(stream_error_counts(engine, b),
                                     stream_error_counts(engine, c), params)
             + exit_code_candidates(exit_code_counts(engine, b), exit_code_counts(engine, c),
                                    params))
    engine.dispose()
    empty = pd_empty()
    found = find_drift(empty, empty, params, extra=cands)
    kinds = {(f.kind, f.route, f.code) for f in found.itertuples()}
    assert ("stream_error_shift", "/build", 200) in kinds
    assert ("exit_code_shift", "/containers/{name:.*}/wait", 137) in kinds
    build = found[found["kind"] == "stream_error_shift"].iloc[0]
    assert (build.baseline_count, build.current_count, build.baseline_n) == (2, 30, 40)
    assert build.p_adjusted < 0.01 and build.effect == pytest.approx(0.7)


def test_drift_cli_reports_outcome_shifts_and_nothing_on_same_windows(capture: Path,
                                                                       capsys) -> None:
    argv = ["drift", "--db", str(capture), "--now", NOW.isoformat(), "--baseline", "3d..1d",
            "--current", "1d..now", "--format", "json"]
    assert main(argv) == 1
    kinds = {f["kind"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert {"stream_error_shift", "exit_code_shift"} <= kinds
    for fmt in ("text", "html"):  # every format renders them
        assert main([*argv[:-1], fmt]) == 1
        assert "stream_error_shift" in capsys.readouterr().out
    # an identical picture in both windows: no outcome finding (same data, no shift)
    same = stream_error_candidates(*(stream_error_counts(make_engine(capture, create=False)),)
                                   * 2)
    assert find_drift(pd_empty(), pd_empty(), DriftParams(), extra=same).empty


def pd_empty():  # noqa: ANN201
    import pandas as pd

    from dockdrift.analysis.drift import COUNT_COLUMNS

    return pd.DataFrame(columns=COUNT_COLUMNS)

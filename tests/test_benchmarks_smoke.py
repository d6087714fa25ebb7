"""The benchmark scripts run end to end on tiny sizes (no timing assertions: figures belong
in benchmarks/README.md, not in tests)."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of scripts, not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import generate, hooks, storage  # noqa: E402
from benchmarks.load import run_load  # noqa: E402
from benchmarks.progress import Progress  # noqa: E402


def test_generator_writes_realistic_rows_and_injects_drift(tmp_path: Path) -> None:
    db = tmp_path / "gen.sqlite"
    r = generate.generate(db, 3000, days=7, drift=True, batch=1000, progress=False)
    assert r["rows"] == 3000 and r["drift_from_row"] == 3000 - 3000 // 7
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM exchanges").fetchone()[0] == 3000
        targets = dict(conn.execute("SELECT target, count(*) FROM exchanges GROUP BY 1"))
        routes = conn.execute("SELECT count(DISTINCT route) FROM exchanges").fetchone()[0]
        ordered = [t for (t,) in conn.execute("SELECT started_at FROM exchanges ORDER BY id")]
        last_day_500 = conn.execute(
            "SELECT count(*) FROM exchanges WHERE id > ? AND status_code = 500 AND route = "
            "'/containers/{name:.*}/json'", (r["drift_from_row"],)).fetchone()[0]
        indexes = {n for (n,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='exchanges'")}
        documented = conn.execute("SELECT count(*) FROM documented_codes").fetchone()[0]
    assert set(targets) == {"engine", "swarm"} and targets["engine"] > targets["swarm"]
    assert routes > 20
    assert ordered == sorted(ordered)  # a capture grows in time order
    assert last_day_500 > 0  # the injected shift
    assert {"ix_exchanges_groups", "ix_exchanges_time_groups"} <= indexes  # rebuilt after load
    assert documented > 0


def test_generated_rows_are_tagged_like_the_recorder_would(tmp_path: Path) -> None:
    from dockdrift.db.routes import match

    db = tmp_path / "gen.sqlite"
    generate.generate(db, 500, days=1, progress=False)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT method, path, route, api_version FROM exchanges").fetchall()
    for method, path, route, version in rows:
        m = match(method, path)
        assert (m.route, m.api_version) == (route, version), path


def test_storage_measures_bytes_per_row(tmp_path: Path) -> None:
    db = tmp_path / "gen.sqlite"
    generate.generate(db, 2000, days=2, progress=False)
    st = storage.measure(db)
    assert st["rows"] == 2000
    assert st["per_object"]["exchanges"] > 0 and "ix_exchanges_groups" in st["per_object"]
    assert 0 < st["normalise_saving_bytes_per_row"] < st["bytes_per_row"]


def test_hooks_benchmark_records_every_exchange() -> None:
    r = hooks.measure(60)
    assert r["exchanges"] == 60 and r["hooks_us"] > 0 and r["writer_us"] > 0


def test_load_generator_counts_complete_responses() -> None:
    """Against a tiny local HTTP server: every completed request is counted once."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            body = b'{"message":"No such container"}' if "missing" in self.path else b"OK"
            self.send_response(404 if "missing" in self.path else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        r = run_load("127.0.0.1", server.server_address[1], duration=0.5, concurrency=3)
    finally:
        server.shutdown()
    assert r.completed > 0 and r.errors == 0
    assert sum(r.statuses.values()) == r.completed == len(r.latencies)
    assert set(r.statuses) == {200, 404}
    assert r.percentile(0.5) <= r.percentile(0.99)


def test_progress_is_silent_off_a_terminal() -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    for stream, enabled in ((quiet, None), (loud, True)):
        bar = Progress("x", 10, stream=stream, enabled=enabled, min_interval=0)
        bar.update(5)
        bar.close()
    assert quiet.getvalue() == ""
    assert "50.0%" in loud.getvalue()


@pytest.mark.slow
def test_run_py_scale_prints_json(tmp_path: Path) -> None:
    """run.py storage+scale on a tiny store; the real commands are run and their exits kept."""
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "storage", "scale",
                        "--rows", "3000", "--repeat", "1", "--workdir", str(tmp_path), "--json"],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    sc = out["scale"]["3000"]
    assert sc["rows"] == 3000
    assert sc["report"]["exit"] in (0, 1) and sc["drift"]["exit"] in (0, 1), sc
    assert sc["floor_report_6col"]["tail"].isdigit()
    assert out["storage"]["3000"]["rows"] == 3000


def test_run_py_rejects_an_unknown_part() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "nonsense"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2 and "unknown part" in r.stderr


def test_saturation_summary_and_instruction_workloads_build() -> None:
    """benchmarks/saturation.py's summary and instructions.py's flows (no wrk, no valgrind)."""
    from benchmarks import instructions, run, saturation

    per = {"bare": {"small_rps": [100.0, 110.0], "stream_mbps": [10.0, 10.0],
                    "stream_cpu_ms_per_mb": [5.0, 5.0]},
           "addon": {"small_rps": [99.0, 105.0], "stream_mbps": [9.8, 10.0],
                     "stream_cpu_ms_per_mb": [5.1, 5.2]}}
    out = saturation.summarise(per, [])
    assert abs(out["addon_over_bare_small_rps"] - (0.99 + 105 / 110) / 2) < 1e-9
    text = "\n".join(run.render_saturation(out | {"streams": 2, "mb_per_build": 20,
                                                   "rounds": 2}))
    assert "addon_over_bare_stream_mbps" in text
    for kind in instructions.WORKLOADS:
        flows = instructions._flows(kind, 2)
        assert len(flows) == 2 and all(chunks for _, chunks in flows)


def test_fleet_benchmark_scale_and_replicas_end_to_end(pg_server, tmp_path: Path) -> None:
    """benchmarks/fleet.py scale on a tiny capture: import, replicate in SQL, psql floors, the
    real report and drift; `--keep` reuses the built database (no timings checked)."""
    from pg_fixtures import pg_url

    url, keep = pg_url("dockdrift"), "dd_bench_smoke"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "fleet.py"), "scale", "--url", url,
           "--rows", "1500", "--replicas", "3", "--repeat", "1", "--keep", keep,
           "--workdir", str(tmp_path), "--json"]
    try:
        for built in (False, True):
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            assert r.returncode == 0, r.stderr[-2000:]
            s = json.loads(r.stdout)["scale"]
            assert s["rows"] == s["rows_in_store"] == 4500
            assert (s["import_s"] == 0.0) is built  # the second run measures the kept store
            for part in ("floor_report", "floor_drift", "floor_drift_concurrent", "report",
                         "drift"):
                assert s[part]["exit"] in (0, 1) and s[part]["wall_s"] > 0, (part, s[part])
    finally:
        from benchmarks.fleet import drop_database

        drop_database(url, keep)


def test_fleet_benchmark_import_compares_copy_insert_and_floor(pg_server, tmp_path: Path) -> None:
    """benchmarks/fleet.py import on a tiny capture: the COPY path, the INSERT path and the
    psql \\copy floor each load every row into a fresh database (no timings checked)."""
    from pg_fixtures import pg_url

    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fleet.py"), "import",
                        "--url", pg_url("dockdrift"), "--rows", "800", "--repeat", "1",
                        "--workdir", str(tmp_path), "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    s = json.loads(r.stdout)["import"]
    assert s["rows"] == 800
    for how in ("copy", "insert", "floor"):
        assert s[f"{how}_rows_per_s"] > 0, s

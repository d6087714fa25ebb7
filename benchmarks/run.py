"""Run dockdrift's benchmarks and print a table (or `--json`).

    python benchmarks/run.py                    # everything, sized for 2 cores (a few minutes)
    python benchmarks/run.py recording          # only the recording overhead
    python benchmarks/run.py hooks              # only the recorder's own CPU per exchange
    python benchmarks/run.py scale --rows 1000000 [--big-rows 10000000]
    python benchmarks/run.py --json > figures.json
    python benchmarks/run.py saturation         # wrk and stream-heavy builds (not in "all")

`recording` needs the dockerd at DOCKDRIFT_BENCH_UPSTREAM (default 127.0.0.1:2375). `scale`
generates its stores under --workdir (kept and reused when they already hold the asked rows).
Timings on a shared 2-core machine are noisy (about +-7% between identical runs, much more
while other jobs run): setups are alternated in rounds and medians reported.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import generate, hooks, recording, saturation, scale, storage  # noqa: E402

PARTS = ("hooks", "recording", "storage", "scale", "saturation")


def _existing_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM exchanges").fetchone()[0]
    except sqlite3.Error:
        return 0


def store(workdir: Path, rows: int, log) -> Path:
    """A generated store with exactly `rows` exchanges (drift in its last day), reused if there."""
    db = workdir / f"gen-{rows}.sqlite"
    if _existing_rows(db) != rows:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        log(f"generating {rows:,} exchanges into {db}")
        r = generate.generate(db, rows, drift=True)
        log(f"  {r['total_s']:.1f}s ({r['load_s']:.1f}s insert, rest indexes)")
    return db


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("parts", nargs="*", metavar="PART", help=f"any of {', '.join(PARTS)} (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--rounds", type=int, default=5, help="recording: rounds of ABCD")
    p.add_argument("--duration", type=float, default=3.0, help="recording: seconds per run")
    p.add_argument("--concurrency", type=int, default=16, help="recording: keep-alive clients")
    p.add_argument("--setups", default=",".join(recording.SETUPS),
                   help="recording: comma-separated subset of " + ",".join(recording.SETUPS))
    p.add_argument("--exchanges", type=int, default=5000, help="hooks: exchanges fed")
    p.add_argument("--mb", type=int, default=20, help="saturation: MB printed per build")
    p.add_argument("--streams", type=int, default=2, help="saturation: concurrent builds")
    p.add_argument("--rows", type=int, default=int(os.environ.get("DOCKDRIFT_BENCH_ROWS",
                                                                  1_000_000)))
    p.add_argument("--big-rows", type=int, default=int(os.environ.get("DOCKDRIFT_BENCH_BIG_ROWS",
                                                                      0)),
                   help="also measure scale at this size (e.g. 10000000; slow to generate)")
    p.add_argument("--repeat", type=int, default=2, help="scale: runs per command (fastest kept)")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/dockdrift-bench"))
    args = p.parse_args(argv)
    if set(args.parts) - set(PARTS):
        p.error(f"unknown part(s) {', '.join(sorted(set(args.parts) - set(PARTS)))}: "
                f"use {', '.join(PARTS)}")
    parts = args.parts or [p for p in PARTS if p != "saturation"]  # saturation: on request
    log = (lambda msg: print(msg, file=sys.stderr)) if sys.stderr.isatty() or args.json \
        else (lambda msg: None)
    args.workdir.mkdir(parents=True, exist_ok=True)
    out: dict = {}
    if "hooks" in parts:
        out["hooks"] = hooks.measure(args.exchanges)
    if "recording" in parts:
        setups = tuple(s for s in args.setups.split(",") if s)
        out["recording"] = recording.run(rounds=args.rounds, duration=args.duration,
                                         concurrency=args.concurrency, setups=setups, progress=log)
    if "saturation" in parts:
        out["saturation"] = saturation.run(rounds=args.rounds, duration=args.duration,
                                           streams=args.streams, mb=args.mb, progress=log)
    sizes = [args.rows] + ([args.big_rows] if args.big_rows else [])
    if "storage" in parts or "scale" in parts:
        dbs = {n: store(args.workdir, n, log) for n in sizes}
        if "storage" in parts:
            out["storage"] = {str(n): storage.measure(db) for n, db in dbs.items()}
        if "scale" in parts:
            out["scale"] = {str(n): scale.run(db, repeat=args.repeat) for n, db in dbs.items()}
    print(json.dumps(out, indent=1, default=str) if args.json else render(out))
    return 0


def render(out: dict) -> str:
    lines: list[str] = []
    if "hooks" in out:
        h = out["hooks"]
        lines += ["recorder's own CPU per exchange (hooks fed with tflows, both threads)",
                  f"  hooks {h['hooks_us']:.1f} us, hooks+writer {h['hooks_plus_writer_us']:.1f}"
                  f" us over {h['exchanges']} exchanges", ""]
    if "recording" in out:
        r = out["recording"]
        lines.append(f"recording overhead: {r['concurrency']} keep-alive clients, {r['rounds']} "
                     f"rounds x {r['duration_s']}s per setup, medians")
        lines.append(f"  {'setup':8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu us/req':>10} "
                     f"{'completed':>9} {'stored':>7}")
        for name, s in r["setups"].items():
            cpu = f"{s['cpu_us_per_req']:.0f}" if s["cpu_us_per_req"] else "-"
            lines.append(f"  {name:8} {s['rps']:8.0f} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f} "
                         f"{cpu:>10} {s['completed']:9d} {s['stored'] if s['stored'] is not None else '-':>7}")
        for name in ("addon", "addon-base", "capture"):
            if f"{name}_over_bare_rps" in r:
                lines.append(f"  {name}/bare throughput {r[f'{name}_over_bare_rps']:.3f}, p50 "
                             f"{r[f'{name}_minus_bare_p50_ms']:+.2f} ms, CPU/req "
                             f"{r.get(f'{name}_minus_bare_cpu_us_per_req', float('nan')):+.0f} us")
        if r.get("skipped"):
            lines.append(f"  skipped: {', '.join(r['skipped'])} (dockdrift capture unavailable)")
        lines.append("")
    if "saturation" in out:
        lines += render_saturation(out["saturation"])
    for n, st in out.get("storage", {}).items():
        lines.append(f"storage at {int(n):,} rows: {st['bytes_per_row']:.0f} bytes/row "
                     f"({', '.join(f'{k} {v:.0f}' for k, v in st['per_object'].items())})")
        lines.append(f"  normalised strings would save about {st['normalise_saving_bytes_per_row']:.0f}"
                     f" bytes/row ({st['normalise_saving_pct']:.0f}%)")
    if "storage" in out:
        lines.append("")
    for n, sc in out.get("scale", {}).items():
        lines.append(f"report/drift at {int(n):,} rows ({sc['bytes'] / 1e6:.0f} MB): fastest of runs")
        for k in ("floor_report_4col", "floor_report_6col", "report", "floor_drift_4col",
                  "floor_drift_6col", "drift", "python_startup"):
            m = sc[k]
            lines.append(f"  {k:18} {m['wall_s']:8.2f} s {m['peak_rss_mb']:8.1f} MB  exit {m['exit']}")
        lines.append(f"  report/floor {sc['report_over_floor']}x, drift/floor "
                     f"{sc['drift_over_floor']}x (floor = the same 6-column GROUP BY in sqlite3)")
    return "\n".join(lines)


def render_saturation(sat: dict) -> list[str]:
    lines = [f"saturation: wrk -t2 -c16 on GET /v1.41/_ping, {sat['streams']} concurrent builds "
             f"printing {sat['mb_per_build']} MB; {sat['rounds']} rounds, medians"]
    for name, s in sat["setups"].items():
        cols = [f"{k} {s[k]:.1f}" for k in ("small_rps", "small_cpu_us_per_req", "stream_mbps",
                                            "stream_cpu_ms_per_mb", "writer_cpu_us_per_req",
                                            "writer_cpu_ms_per_mb")
                if s.get(k) is not None]
        lines.append(f"  {name:8} " + ", ".join(cols) + f", stored {s.get('stored')}")
    lines += [f"  {k} {v:.3f}" for k, v in sat.items() if k.endswith(("_small_rps",
                                                                       "_stream_mbps"))]
    return [*lines, ""]


if __name__ == "__main__":
    sys.exit(main())

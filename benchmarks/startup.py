"""Start-up time of `dockdrift --help`, `--version` and `<command> --help` next to the floor, a
bare `python -c pass` of the same interpreter, alternated in rounds in one run (issue 23: within
4x the floor).

    python benchmarks/startup.py --rounds 10
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PYTHON = sys.executable
DOCKDRIFT = str(Path(sys.executable).parent / "dockdrift")
COMMANDS = ["capture", "report", "drift", "matrix", "routes", "tables", "addon-path", "import",
            "rollup", "prune", "probe", "allowlist"]


def cases(commands: list[str]) -> dict[str, list[str]]:
    out = {"python -c pass": [PYTHON, "-c", "pass"], "dockdrift --help": [DOCKDRIFT, "--help"],
           "dockdrift --version": [DOCKDRIFT, "--version"]}
    out |= {f"dockdrift {c} --help": [DOCKDRIFT, c, "--help"] for c in commands}
    return out


def measure(rounds: int, commands: list[str]) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds per case; each round runs every case once (ABC ABC ...).
    CPU (user + system of the child) is what a loaded machine disturbs least."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cases(commands)}
    for _ in range(rounds):
        for name, argv in cases(commands).items():
            before = _child_cpu()
            t0 = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            runs[name].append((time.perf_counter() - t0, _child_cpu() - before))
    return {name: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r))
            for name, r in runs.items()}


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--commands", nargs="*", default=COMMANDS)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    medians = measure(args.rounds, args.commands)
    wall0, cpu0 = medians["python -c pass"]
    if args.json:
        print(json.dumps({"floor_s": [wall0, cpu0], "medians_s": medians}, indent=2))
        return 0
    print(f"{'case':34} {'wall ms':>8} {'x floor':>7} {'CPU ms':>7} {'x floor':>7}")
    for name, (wall, cpu) in medians.items():
        print(f"{name:34} {wall * 1000:8.1f} {wall / wall0:7.2f} {cpu * 1000:7.1f} "
              f"{cpu / cpu0:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

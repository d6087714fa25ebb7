"""Start-up time of `dockdrift --help`, `--version` and `<command> --help` next to the floor, a
bare `python -c pass` of the same interpreter, alternated in rounds in one run (issue 23: within
4x the floor).

    python benchmarks/startup.py --rounds 10
"""

from __future__ import annotations

import argparse
import json
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


def measure(rounds: int, commands: list[str]) -> dict[str, float]:
    """Median wall seconds per case; each round runs every case once (ABC ABC ...)."""
    runs: dict[str, list[float]] = {name: [] for name in cases(commands)}
    for _ in range(rounds):
        for name, argv in cases(commands).items():
            t0 = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            runs[name].append(time.perf_counter() - t0)
    return {name: statistics.median(times) for name, times in runs.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--commands", nargs="*", default=COMMANDS)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    medians = measure(args.rounds, args.commands)
    floor = medians["python -c pass"]
    if args.json:
        print(json.dumps({"floor_s": floor, "medians_s": medians}, indent=2))
        return 0
    print(f"{'case':34} {'median ms':>9} {'x floor':>7}")
    for name, t in medians.items():
        print(f"{name:34} {t * 1000:9.1f} {t / floor:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

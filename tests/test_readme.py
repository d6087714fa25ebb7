"""The README's quickstart, run as written against the real Engine 20.10, output compared.

The block between `<!-- quickstart -->` and `<!-- /quickstart -->` is a console session:
`$ ` lines are commands, the others what they printed. Run here with three substitutions a
newcomer does not need: the capture listens on a free port (the README's 2376 may be taken),
`busybox` is the servers' `busybox:local`, and `kill %1; wait` signals the capture started by
the first command. Times are normalised; everything else must match line for line.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from conftest import DOCKER, ROOT, free_port

README = ROOT / "README.md"
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
KILL = "kill %1; wait; "


def quickstart(text: str) -> list[tuple[str, list[str]]]:
    """[(command, its output lines)] of the README's quickstart session."""
    block = text.split("<!-- quickstart -->", 1)[1].split("<!-- /quickstart -->", 1)[0]
    body = block.split("```console\n", 1)[1].rsplit("```", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def normalise(lines: list[str], upstream: str, port: int, cli: str = "28.2.2") -> list[str]:
    """Times, the capture's port, the upstream and the docker CLI's version (the README's run
    used 28.2.2; .ci/run may bring another) are not the point of the comparison."""
    out = []
    for line in lines:
        line = TIME.sub("<time>", line.rstrip())
        line = re.sub(rf"(docker-cli\s+){re.escape(cli)}", r"\g<1>28.2.2", line)
        line = line.replace(f"127.0.0.1:{port}", "127.0.0.1:2376").replace(upstream, "UPSTREAM")
        out.append(line)
    return out


def _readline(stream, until: str, timeout_note: str) -> list[str]:
    lines = []
    for line in iter(stream.readline, ""):
        lines.append(line.rstrip("\n"))
        if until in line:
            return lines
    raise AssertionError(f"{timeout_note}: {lines}")


def run_quickstart(steps, upstream: str, cwd: Path) -> tuple[list[list[str]], int]:
    """Each step's real output (capture: stdout, then stderr, as the README shows them)."""
    port = free_port()
    env = {**os.environ, "DOCKER_HOST": upstream, "DOCKER_CLI_HINTS": "false",
           "PATH": f"{Path(sys.executable).parent}:{Path(DOCKER).parent}:{os.environ['PATH']}"}
    start, docker_cmd, report_cmd = (s[0] for s in steps)
    assert start.endswith(" &") and report_cmd.startswith(KILL), steps
    capture = subprocess.Popen(["bash", "-c", f"exec {start[:-2]} --listen 127.0.0.1:{port}"],
                               cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        first = _readline(capture.stdout, "DOCKER_HOST", "no export line")
        first += _readline(capture.stderr, "recording", "capture did not start")
        docker_cmd = docker_cmd.replace("127.0.0.1:2376", f"127.0.0.1:{port}").replace(
            " busybox ", " busybox:local ")
        r = subprocess.run(["bash", "-c", docker_cmd], cwd=cwd, env={**env, "DOCKER_HOST": ""},
                           capture_output=True, text=True, timeout=120)
        second = (r.stdout + r.stderr).splitlines()
    finally:
        capture.send_signal(signal.SIGTERM)
        rest_out, rest_err = capture.communicate(timeout=60)
    assert capture.returncode == 0, rest_err
    third = (rest_out + rest_err).splitlines()
    r = subprocess.run(["bash", "-c", report_cmd[len(KILL):]], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=120)
    third += (r.stdout + r.stderr).splitlines()
    return [first, second, third], port


def test_readme_quickstart_output_is_real(docker_host: str, tmp_path: Path) -> None:
    steps = quickstart(README.read_text())
    assert len(steps) == 3, "capture, a docker command, report"
    outputs, port = run_quickstart(steps, docker_host, tmp_path)
    cli = subprocess.run([DOCKER, "version", "--format", "{{.Client.Version}}"],
                         capture_output=True, text=True, timeout=60).stdout.strip()
    for (command, shown), real in zip(steps, outputs, strict=True):
        want = normalise(shown, "tcp://127.0.0.1:2375", port)
        got = normalise(real, docker_host, port, cli or "28.2.2")
        assert got == want, f"README quickstart `{command}` printed:\n" + "\n".join(real)
    # The same real capture's JSON outputs match their documented schemas.
    from test_docs import _json, _validate

    db = str(tmp_path / "capture.sqlite")
    for name, extra in [("report", []), ("shapes", []), ("clients", []),
                        ("upgrade", ["--min-api", "1.44"])]:
        _validate(name, _json([name, "--db", db, *extra, "--format", "json"]))


def test_readme_is_short_and_links_resolve() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 300
    for target in re.findall(r"\]\((?!https?://|#)([^)#]+)", text):
        assert (ROOT / target).exists(), f"README links to missing {target}"

"""From recording to least privilege, with real parts: the docker CLI's workload recorded from
the real dockerd, the allowlist exported, then enforced (a) by HAProxy with the generated
configuration and (b) by `dockdrift capture --enforce`. Every command must behave exactly as
directly; what the workload never did is refused with 403 and, through the capture, stored as
denied and listed in the report's denied section."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockdrift.cli import main
from conftest import DOCKER_UNIX, IMAGE, VENV_BIN, docker_cli, need, start_recorder
from test_capture import start_capture

pytestmark = [pytest.mark.docker, pytest.mark.slow]
NAME, DONE, VOLUME = "dd-allowlist-wl", "dd-allowlist-done", "dd-allowlist-vol"
Command = tuple[tuple[str, ...], bytes | None]


def workload(since: str, until: str) -> list[Command]:
    """run (attach, with and without stdin), exec (with and without stdin), logs (-f), ps,
    inspect, events: outputs that are the same on every run."""
    return [
        (("ps", "-a", "--filter", "name=dd-allowlist-", "--format", "{{.Names}} {{.Image}}"), None),
        (("run", "--rm", IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3"), None),
        (("run", "--rm", "-i", IMAGE, "cat"), b"line 1\nline 2\n"),
        (("inspect", "--format", "{{.Name}} {{.Config.Cmd}}", NAME), None),
        (("logs", DONE), None),
        (("logs", "-f", DONE), None),
        (("exec", NAME, "sh", "-c", "echo ok; echo warn >&2; exit 2"), None),
        (("exec", "-i", NAME, "cat"), b"stdin through exec\n"),
        (("events", "--since", since, "--until", until, "--filter", f"container={DONE}",
          "--format", "{{.Action}}"), None),
    ]


def is_exec(cmd: Command) -> bool:
    return cmd[0][0] == "exec"


def run_all(host: str, commands: list[Command]) -> list[tuple[int, bytes, bytes]]:
    out = []
    for args, stdin in commands:
        r = docker_cli(host, *args, input=stdin, timeout=60)
        out.append((r.returncode, r.stdout, r.stderr))
    return out


@pytest.fixture(scope="module")
def commands(docker_host: str) -> Iterator[list[Command]]:
    for name in (NAME, DONE):
        docker_cli(docker_host, "rm", "-f", name)
    docker_cli(docker_host, "volume", "rm", "-f", VOLUME)
    assert docker_cli(docker_host, "run", "-d", "--name", NAME, IMAGE, "sleep", "600"
                      ).returncode == 0
    since = str(int(time.time()) - 1)
    assert docker_cli(docker_host, "run", "--name", DONE, IMAGE, "sh", "-c",
                      "echo a; echo b >&2").returncode == 0
    yield workload(since, str(int(time.time()) + 1))
    for name in (NAME, DONE):
        docker_cli(docker_host, "rm", "-f", name)
    docker_cli(docker_host, "volume", "rm", "-f", VOLUME)


@pytest.fixture(scope="module")
def direct(docker_host: str, commands: list[Command]) -> list[tuple[int, bytes, bytes]]:
    time.sleep(max(0.0, int(commands[-1][0][4]) + 0.5 - time.time()))  # events --until passed
    results = run_all(docker_host, commands)
    assert results[1][0] == 3 and results[6][0] == 2, results  # the workload itself works
    return results


@pytest.fixture(scope="module")
def recorded(docker_host: str, commands: list[Command], direct, tmp_path_factory) -> Path:
    """The workload recorded through the recorder, exported as JSON (the allowlist)."""
    tmp = tmp_path_factory.mktemp("allowlist")
    rec = start_recorder(tmp / "learn.sqlite", docker_host)
    try:
        assert run_all(rec.host, commands) == direct
    finally:
        assert rec.stop() == 0
    assert main(["allowlist", "--db", str(rec.db), "--format", "json",
                 "-o", str(tmp / "allowlist.json")]) == 0
    return tmp


def haproxy_upgrades_with_body() -> bool:
    """HAProxy >= 3.1 relays an upgrade whose request has a body (haproxy issue 2684)."""
    out = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout
    m = re.search(r"version (\d+)\.(\d+)", out)
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (3, 1)


def wait_unix(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "haproxy exited"
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(path))
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {path}")


def test_haproxy_with_the_generated_configuration(recorded: Path, commands, direct,
                                                  docker_host: str) -> None:
    need(shutil.which("haproxy") is not None, "haproxy is not installed (apt-get install haproxy)")
    sock, cfg = recorded / "haproxy.sock", recorded / "haproxy.cfg"
    assert main(["allowlist", "--db", str(recorded / "learn.sqlite"), "--format", "haproxy",
                 "--listen", f"unix://{sock}", "--upstream", DOCKER_UNIX, "-o", str(cfg)]) == 0
    log = open(recorded / "haproxy.log", "wb")
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=log, stderr=log)
    try:
        wait_unix(sock, proc)
        host = f"unix://{sock}"
        assert oct(os.stat(sock).st_mode & 0o777) == "0o660"
        through = run_all(host, commands)
        for cmd, got, want in zip(commands, through, direct, strict=True):
            if is_exec(cmd) and got != want:
                # HAProxy before 3.1 drops the upgrade of a request with a body (haproxy issue
                # 2684): the daemon answers 200 and the CLI refuses it (README, "From
                # recording to least privilege"). The exec never starts.
                assert not haproxy_upgrades_with_body(), (cmd, got, want)
                assert got[0] != 0 and b"unable to upgrade to tcp, received 200" in got[2], got
                continue
            assert got == want, (cmd, got, want)
        refused = docker_cli(host, "volume", "create", VOLUME)
        assert refused.returncode == 1
        assert refused.stderr.decode().strip() == ("Error response from daemon: dockdrift "
                                                   "allowlist: POST /v1.41/volumes/create is "
                                                   "not allowed")
        assert docker_cli(docker_host, "volume", "inspect", VOLUME).returncode == 1  # never made
        assert b" 403 " in (recorded / "haproxy.log").read_bytes()
        assert keep_alive_statuses(sock, b"HEAD /_ping", b"GET /containers/json") == [200, 200]
        assert keep_alive_statuses(sock, b"HEAD /_ping", b"GET /volumes") == [200, 403]
        # an allowed route's path, percent-encoded: never allowed
        assert keep_alive_statuses(sock, b"HEAD /_ping", b"GET /containers/%6Ason") == [200, 403]
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def keep_alive_statuses(sock: Path, *targets: bytes) -> list[int]:
    """Requests pipelined on one keep-alive connection (the last says close): the status of
    each one answered. Every request is checked, not only a connection's first."""
    heads = [b"%s HTTP/1.1\r\nHost: d\r\n%s\r\n" % (t, b"Connection: close\r\n"
                                                        if i == len(targets) - 1 else b"")
             for i, t in enumerate(targets)]
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(str(sock))
        s.sendall(b"".join(heads))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3})", data)]


def wait_for(path: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{text!r} never in {path}"
        time.sleep(0.05)


def test_capture_enforce_refuses_records_and_reports(recorded: Path, commands, direct,
                                                     docker_host: str) -> None:
    policy, db = recorded / "allowlist.json", recorded / "enforced.sqlite"
    cap = start_capture(recorded, "--upstream", docker_host, "--listen", "127.0.0.1:0",
                        "--db", str(db), "--enforce", str(policy))
    try:
        assert run_all(cap.host, commands) == direct  # exec included
        refused = docker_cli(cap.host, "volume", "create", VOLUME)
        assert (refused.returncode, refused.stderr.decode().strip()) == (
            1, "Error response from daemon: dockdrift: POST /volumes/create is not allowed by "
               "allowlist.json")
        assert docker_cli(docker_host, "volume", "inspect", VOLUME).returncode == 1
        # a list without exec, loaded on SIGHUP; then an invalid one is refused, old one kept
        doc = json.loads(policy.read_text())
        doc["routes"] = [r for r in doc["routes"] if r["route"] != "/containers/{name:.*}/exec"]
        no_exec = recorded / "no-exec.json"
        no_exec.write_text(json.dumps(doc))
        shutil.copy(no_exec, policy)
        cap.proc.send_signal(signal.SIGHUP)
        wait_for(cap.err, f"reloaded {policy}")
        r = docker_cli(cap.host, "exec", NAME, "echo", "ok")
        assert (r.returncode, r.stdout) == (1, b"")
        assert b"dockdrift: POST /containers/{name:.*}/exec is not allowed" in r.stderr
        policy.write_text("{not json")
        cap.proc.send_signal(signal.SIGHUP)
        wait_for(cap.err, "keeping the previous allowlist")
        assert docker_cli(cap.host, "exec", NAME, "echo", "ok").returncode == 1
        assert docker_cli(cap.host, "ps").returncode == 0
    finally:
        code, err = cap.stop()
    assert code == 0, err
    with sqlite3.connect(db) as conn:
        denied = conn.execute("SELECT method, route, status_code, count(*) FROM exchanges "
                              "WHERE denied GROUP BY 1, 2, 3 ORDER BY 2").fetchall()
    assert denied == [("POST", "/containers/{name:.*}/exec", 403, 2),
                      ("POST", "/volumes/create", 403, 1)]
    report = subprocess.run([str(VENV_BIN / "dockdrift"), "report", "--db", str(db),
                             "--format", "json"], capture_output=True, text=True, timeout=120)
    assert report.returncode in (0, 1), report.stderr
    out = json.loads(report.stdout)
    got = {(d["method"], d["route"], d["dry_run"]): d for d in out["summary"]["denied"]}
    assert set(got) == {("POST", "/containers/{name:.*}/exec", False),
                        ("POST", "/volumes/create", False)}
    assert got[("POST", "/volumes/create", False)]["user_agent"].startswith("Docker-Client/")
    codes = {(r["route"], code) for r in out["routes"] for code in r["observed"]}
    assert ("/volumes/create", "403") not in codes  # dockdrift's 403 is no server code
    assert ("/containers/{name:.*}/exec", "403") not in codes


def test_dry_run_lets_everything_through_and_records_what_would_be_denied(
        recorded: Path, docker_host: str) -> None:
    db = recorded / "dry.sqlite"
    policy = recorded / "no-exec.json"
    cap = start_capture(recorded, "--upstream", docker_host, "--listen", "127.0.0.1:0",
                        "--db", str(db), "--enforce", str(policy), "--dry-run")
    try:
        r = docker_cli(cap.host, "exec", NAME, "echo", "ok")
        assert (r.returncode, r.stdout) == (0, b"ok\n")
    finally:
        code, err = cap.stop()
    assert code == 0, err
    with sqlite3.connect(db) as conn:
        (row,) = conn.execute("SELECT status_code, denied, error FROM exchanges "
                              "WHERE route = '/containers/{name:.*}/exec'").fetchall()
    assert row[:2] == (201, 0)  # the server's answer, still a server code
    assert row[2].startswith("dry run: would be denied: dockdrift: POST /containers/")


@pytest.mark.parametrize("content, message", [
    (None, "--enforce: cannot read allowlist"), ("[]", '--enforce: a.json: not a dockdrift'),
])
def test_capture_refuses_a_bad_allowlist_at_start(tmp_path: Path, capsys, content, message
                                                  ) -> None:
    path = tmp_path / "a.json"
    if content is not None:
        path.write_text(content)
    code = main(["capture", "--listen", "127.0.0.1:0", "--enforce", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
    assert main(["capture", "--dry-run"]) == 2

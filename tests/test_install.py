"""An installed dockdrift is whole: the wheel, installed outside the checkout, records and reads.

Builds the wheel from a copy of the tree (`pip wheel --no-deps`: setuptools comes from the
package index, nothing else is downloaded), installs it with `--no-deps` into a fresh venv in a
temporary directory whose only view of the dependencies (mitmproxy, SQLAlchemy, pandas, ...) is
a .pth line to the project venv's site-packages (the editable finder there is not activated:
.pth files of a directory named in a .pth are not run). Then, from another temporary directory
and without PYTHONPATH: `dockdrift --version`, `dockdrift capture` and
`mitmdump -s "$(dockdrift addon-path)"` in front of the real dockerd with `docker version`
through each, and `report` / `drift` on what they recorded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT, docker_cli, free_port, need, wait_port
from dockdrift.db.models import SCHEMA_VERSION
from dockdrift.version import version_line

pytestmark = [pytest.mark.slow]
SITE = Path(sysconfig.get_paths()["purelib"])  # the project venv's site-packages


_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                     "*.sqlite*", ".pytest_cache", ".ruff_cache", ".hypothesis")


def _tree_copy(dest: Path) -> Path:
    """The checkout's files as git sees them (tracked and new, not ignored): no build/ or venv;
    without git (a tree copied to a CI machine), the tree minus what is never source."""
    git = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                         capture_output=True) if shutil.which("git") else None
    if git is None or git.returncode != 0:
        shutil.copytree(ROOT, dest, ignore=_NOT_SOURCE)
        return dest
    for rel in filter(None, git.stdout.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 120,
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("install")
    src = _tree_copy(tmp / "src")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # let pip compile the install: faster commands
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp / "dist"),
                  str(src)], tmp, env, timeout=300)
    need(build.returncode == 0 or "No matching distribution" not in build.stdout + build.stderr,
         "the package index (for setuptools) is unreachable")
    assert build.returncode == 0, build.stdout + build.stderr
    [wheel] = (tmp / "dist").glob("dockdrift-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     tmp, env).stdout.strip())
    (site / "dockdrift-deps.pth").write_text(f"{SITE}\n")  # the dependencies, not dockdrift
    inst = _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
                 "--no-index", str(wheel)], tmp, env)
    assert inst.returncode == 0, inst.stdout + inst.stderr
    # What `pipx install --include-deps` puts on PATH next to dockdrift.
    mitmdump = venv / "bin" / "mitmdump"
    mitmdump.write_text(f"#!{py}\nfrom mitmproxy.tools.main import mitmdump\nmitmdump()\n")
    mitmdump.chmod(0o755)
    work = tmp / "elsewhere"
    work.mkdir()
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    yield {"build": build, "wheel": wheel, "venv": venv, "site": site, "env": env,
           "work": work}


def test_wheel_builds_without_warnings_and_carries_addon_and_tables(installed: dict) -> None:
    out = installed["build"].stdout + installed["build"].stderr
    assert not re.search(r"warning", out, re.IGNORECASE), out
    import zipfile

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    assert "dockdrift/addons/docker_recorder.py" in names
    assert ("dockdrift/db/data/seed-v1.22.csv" in names
            and "dockdrift/db/data/spec-v1.41.csv" in names)
    # One installed package: nothing but dockdrift (and its metadata) at the wheel's top level
    tops = {n.split("/", 1)[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"dockdrift"}, tops
    # pyproject lists its packages: a new one left out would be missing from every install;
    # the root folders db/, analysis/ and addons/ are mapped into dockdrift/
    for top, installed_as in (("db", "dockdrift/db"), ("analysis", "dockdrift/analysis"),
                              ("addons", "dockdrift/addons"), ("dockdrift", "dockdrift")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = f"{installed_as}/{init.relative_to(ROOT / top).as_posix()}"
            assert rel in names, f"{rel} is not in the wheel: add it to pyproject's packages"
    for data in (ROOT / "db" / "data").glob("*.csv"):
        assert f"dockdrift/db/data/{data.name}" in names
    templates = list((ROOT / "dockdrift" / "render" / "templates").iterdir())
    assert templates
    for template in templates:  # the HTML pages' Jinja2 templates are package data
        assert f"dockdrift/render/templates/{template.name}" in names, template.name


def test_imports_come_from_the_install(installed: dict) -> None:
    code = ("import sys, dockdrift, dockdrift.db.tables, dockdrift.analysis\n"
            "import dockdrift.addon_path as a\n"
            "print(dockdrift.db.__file__, dockdrift.analysis.__file__, dockdrift.__file__, "
            "dockdrift.db.tables.DATA_DIR, a.addon_path())\n"
            "import os; print(any(os.path.realpath(p or '.') == %r for p in sys.path))"
            % str(ROOT))
    r = _run([str(installed["venv"] / "bin" / "python"), "-c", code], installed["work"],
             installed["env"])
    assert r.returncode == 0, r.stderr
    paths, on_path = r.stdout.split("\n")[:2]
    for p in paths.split():
        assert p.startswith(str(installed["site"])), (p, installed["site"])
    assert on_path == "False"


def test_version_and_addon_path_from_anywhere(installed: dict) -> None:
    env, work = installed["env"], installed["work"]
    r = _run(["dockdrift", "--version"], work, env)
    assert (r.returncode, r.stdout) == (0, version_line() + "\n")
    r = _run(["dockdrift", "addon-path"], work, env)
    assert r.returncode == 0
    assert r.stdout.strip() == str(installed["site"] / "dockdrift" / "addons" /
                                   "docker_recorder.py")


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def test_capture_mitmdump_report_and_drift_installed(installed: dict, docker_host: str) -> None:
    env, work = installed["env"], installed["work"]
    cap = subprocess.Popen(["dockdrift", "capture", "--upstream", docker_host, "--listen",
                            "127.0.0.1:0", "--db", "capture.sqlite"], cwd=work, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = cap.stdout.readline()  # `export DOCKER_HOST=tcp://127.0.0.1:PORT` once it listens
        assert line.startswith("export DOCKER_HOST="), cap.stderr.read() if cap.poll() else line
        r = docker_cli(line.strip().split("=", 1)[1], "version")
        assert r.returncode == 0, r.stderr
    finally:
        assert _stop(cap) == 0, cap.stderr.read()
    addon = _run(["dockdrift", "addon-path"], work, env).stdout.strip()
    port = free_port()
    log = open(work / "mitmdump.log", "wb")
    mitm = subprocess.Popen(["mitmdump", "-q", "-s", addon, "--mode",
                             f"reverse:{docker_host.replace('tcp://', 'http://')}",
                             "--listen-host", "127.0.0.1", "-p", str(port),
                             "--set", "dockdrift_db=mitm.sqlite"], cwd=work, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc=mitm)
        r = docker_cli(f"tcp://127.0.0.1:{port}", "version")
        assert r.returncode == 0, r.stderr
    finally:
        assert _stop(mitm) == 0, (work / "mitmdump.log").read_text()
        log.close()
    for db in ("capture.sqlite", "mitm.sqlite"):
        r = _run(["dockdrift", "report", "--db", db, "--format", "json"], work, env)
        assert r.returncode in (0, 1), r.stderr  # 1: HEAD /_ping is not in the v1.22 document
        report = json.loads(r.stdout)
        assert report["dockdrift"]["schema"] == SCHEMA_VERSION == 3
        routes = {(x["method"], x["route"]): x["observed"] for x in report["routes"]}
        assert routes[("GET", "/version")] == {"200": 1}, routes
    drift = ["dockdrift", "drift", "--db", "mitm.sqlite", "--baseline-db", "capture.sqlite",
             "--format", "json"]
    r = _run(drift, work, env)  # a handful of exchanges: fewer than min_total (30)
    assert r.returncode == 3 and "fewer than min_total = 30" in r.stderr, r.stderr
    r = _run([*drift, "--min-total", "1"], work, env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["current"]["n_answered"] >= 2

"""The recorder's --enforce path fed with mitmproxy's test flows (no proxy, no Docker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons

from test_addon_unit import _in_tmp, drive, flow, load_addon, rows  # noqa: F401

ADDON_PATH = Path(__file__).resolve().parents[1] / "addons" / "docker_recorder.py"
ALLOW = {"dockdrift_allowlist": 1, "routes": [{"method": "HEAD", "route": "/_ping"}]}


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_denied_request_gets_a_docker_style_403_and_is_stored_as_denied(tmp_path: Path) -> None:
    db, policy = tmp_path / "a.sqlite", write(tmp_path / "allow.json", ALLOW)
    rec = load_addon()
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db), dockdrift_enforce=str(policy))
        allowed = flow("HEAD", b"/_ping", 200)
        drive(rec, allowed)
        denied = flow("POST", b"/v1.41/containers/web/exec", None,
                      headers=[("Content-Length", "2")])
        rec.requestheaders(denied)
        assert denied.response is not None and denied.response.status_code == 403
        assert json.loads(denied.response.content) == {
            "message": "dockdrift: POST /containers/{name:.*}/exec is not allowed by allow.json"}
        rec.responseheaders(denied)
        rec.response(denied)
        big = flow("POST", b"/images/load", None, headers=[("Transfer-Encoding", "chunked")])
        rec.requestheaders(big)
        assert big.response is None and big.error is not None  # killed
        rec.error(big)
        rec.done()
    got = [(r["method"], r["status_code"], r["denied"], r["error"], r["error_message"])
           for r in rows(db)]
    assert got[0] == ("HEAD", 200, 0, None, None)
    assert got[1][:3] == ("POST", 403, 1) and "is not allowed by allow.json" in got[1][4]
    assert got[2][:3] == ("POST", None, 1) and "connection closed: large body" in got[2][3]


def test_dry_run_lets_it_through_and_records_what_would_be_denied(tmp_path: Path) -> None:
    db, policy = tmp_path / "a.sqlite", write(tmp_path / "allow.json", ALLOW)
    rec = load_addon()
    with taddons.context(rec) as tctx:
        tctx.configure(rec, dockdrift_db=str(db), dockdrift_enforce=str(policy),
                       dockdrift_enforce_dry_run=True)
        f = flow("POST", b"/volumes/create", None)
        rec.requestheaders(f)
        assert f.response is None  # goes upstream
        from mitmproxy.test import tutils

        f.response = tutils.tresp(status_code=201, content=b"")
        rec.responseheaders(f)
        rec.response(f)
        rec.done()
    (r,) = rows(db)
    assert (r["status_code"], r["denied"]) == (201, 0)
    assert r["error"].startswith("dry run: would be denied: dockdrift: POST /volumes/create")


def test_bad_file_is_refused_at_start_and_kept_out_on_reload(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    policy = write(tmp_path / "allow.json", ALLOW)
    rec = load_addon()
    with taddons.context(rec) as tctx:
        with pytest.raises(exceptions.OptionsError, match="dockdrift_enforce: cannot read"):
            tctx.configure(rec, dockdrift_db=str(tmp_path / "a.sqlite"),
                           dockdrift_enforce=str(tmp_path / "missing.json"))
        tctx.configure(rec, dockdrift_enforce=str(policy))
        policy.write_text("{")
        rec.reload_allowlist()
        assert "keeping the previous allowlist" in caplog.text
        assert rec.allowlist is not None and rec.allowlist.allowed == {("HEAD", "/_ping")}
        write(policy, {"routes": [{"method": "GET", "route": "/_ping"}]})
        rec.reload_allowlist()
        assert rec.allowlist.allowed == {("GET", "/_ping")}
        rec.done()


def test_the_proxy_process_never_imports_pandas() -> None:
    """The decision lives in db.allowlist: the recorder (and --enforce) stay pandas-free."""
    import subprocess
    import sys

    code = ("import sys, importlib.util; from pathlib import Path; "
            f"spec = importlib.util.spec_from_file_location('rec', {str(ADDON_PATH)!r}); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            "import dockdrift.capture, dockdrift.capture_server, dockdrift.db.allowlist; "
            "assert 'pandas' not in sys.modules, 'pandas'; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "ok", r.stderr

"""BuildKit's `POST /session` (Upgrade: h2c) must reach the daemon as sent and be relayed.

mitmproxy's DisableH2C would strip the upgrade header (the daemon then answers 400 instead
of 101); the recorder unloads it and relays the upgraded connection as raw bytes.
"""

from __future__ import annotations

import socket
import sqlite3
import time
import uuid

SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"
EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def session(port: int) -> tuple[bytes, bytes]:
    # A fresh session id each time: the daemon refuses (400) an id whose session it has
    # not finished tearing down yet.
    req = (b"POST /v1.41/session HTTP/1.1\r\nHost: docker\r\nUpgrade: h2c\r\n"
           b"Connection: Upgrade\r\nX-Docker-Expose-Session-Uuid: dockdrift-%s\r\n"
           b"X-Docker-Expose-Session-Name: dockdrift\r\nX-Docker-Expose-Session-Sharedkey: k\r\n"
           b"Content-Length: 0\r\n\r\n") % uuid.uuid4().hex.encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(req)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            assert chunk, data
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        # We are the gRPC server side of the session: answer the daemon's preface with
        # our SETTINGS and an ACK of its SETTINGS; the daemon must ACK ours.
        s.sendall(EMPTY_SETTINGS + SETTINGS_ACK)
        deadline = time.monotonic() + 30
        while SETTINGS_ACK not in rest and time.monotonic() < deadline:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = s.recv(4096)
            except TimeoutError:
                break
            if not chunk:
                break
            rest += chunk
    return head.split(b"\r\n")[0], rest


def test_session_upgrade_is_transparent(docker_host: str, recorder) -> None:
    direct_status, direct_bytes = session(int(docker_host.rsplit(":", 1)[1]))
    proxied_status, proxied_bytes = session(recorder.port)
    assert direct_status == proxied_status == b"HTTP/1.1 101 Switching Protocols"
    for got in (direct_bytes, proxied_bytes):
        assert got.startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")  # the daemon speaks h2
        assert SETTINGS_ACK in got  # the daemon ACKed our frames: bytes flowed both ways
    recorder.stop()
    con = sqlite3.connect(recorder.db)
    row = con.execute("select route, handler, status_code, hijacked from exchanges "
                      "where path = '/v1.41/session'").fetchone()
    assert row == ("/session", "startSession", 101, 1)


def test_disable_h2c_keeps_h2c_upgrades_but_still_refuses_prefaces() -> None:
    from mitmproxy.addons.disable_h2c import DisableH2C
    from mitmproxy.test import taddons, tflow

    from dockdrift import hijack

    addon = DisableH2C()
    with taddons.context(addon) as tctx:
        assert hijack.allow_h2c_upgrades(tctx.master.addons)
        upgrade = tflow.tflow()
        upgrade.request.headers.update({"Upgrade": "h2c", "Connection": "Upgrade"})
        addon.request(upgrade)
        assert upgrade.request.headers["Upgrade"] == "h2c"
        preface = tflow.tflow()
        preface.request.method, preface.request.path = "PRI", "*"
        preface.request.http_version = "HTTP/2.0"
        addon.request(preface)
        assert preface.killable is False or preface.error is not None

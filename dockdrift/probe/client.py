"""A small HTTP/1.1 client for the probe: plain requests (http.client) and hijacks (sockets).

Every request carries the case it belongs to in `X-Dockdrift-Probe-Case`; the recorder stores
it in `exchanges.probe_case` and takes the header off before the request goes upstream.
A client never raises for an answer: a failed exchange is a Response with `status` None and
an `error` text, so one odd implementation cannot stop a probe run.
"""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass, field
from typing import Any

CASE_HEADER = "X-Dockdrift-Probe-Case"
USER_AGENT = "dockdrift-probe"
KEEP = 4 * 1024 * 1024  # body bytes kept per answer (image tars for /images/load); rest drained


class JSONText(bytes):
    """A body sent as is with `Content-Type: application/json` (malformed JSON, `null`)."""


Body = dict[str, Any] | list[Any] | bytes | None
BAD_JSON = JSONText(b"{not json")
NULL = JSONText(b"null")  # what the docker CLI sends to /commit without a config


@dataclass
class Response:
    status: int | None
    body: bytes = b""
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def text(self) -> str:
        """A short one-line description: the status, or the error."""
        if self.status is None:
            return f"ERR {self.error}"
        return str(self.status)


def encode(body: Body) -> tuple[bytes | None, dict[str, str]]:
    if body is None:
        return None, {}
    if isinstance(body, JSONText):
        return bytes(body), {"Content-Type": "application/json"}
    if isinstance(body, bytes):
        return body, {"Content-Type": "application/x-tar"}
    return json.dumps(body).encode(), {"Content-Type": "application/json"}


class Client:
    """Talks to one HTTP endpoint (the probe's recorder) with a default API version prefix."""

    def __init__(self, host: str, port: int, version: str | None = None,
                 timeout: float = 30.0) -> None:
        self.host, self.port, self.version, self.timeout = host, port, version, timeout

    def full_path(self, path: str, version: str | None = None) -> str:
        """`version` None: the default prefix; "" sends no prefix; "1.22" sends /v1.22."""
        v = self.version if version is None else version
        return f"/v{v}{path}" if v else path

    def request(self, method: str, path: str, case: str, body: Body = None,
                version: str | None = None, timeout: float | None = None,
                headers: dict[str, str] | None = None) -> Response:
        data, extra = encode(body)
        hdrs = {"User-Agent": USER_AGENT, CASE_HEADER: case, **extra, **(headers or {})}
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout or self.timeout)
        try:
            conn.request(method, self.full_path(path, version), body=data, headers=hdrs)
            resp = conn.getresponse()
            kept = resp.read(KEEP) if method != "HEAD" else b""
            while method != "HEAD" and resp.read(65536):
                pass
            return Response(resp.status, kept, None, {k.lower(): v for k, v in resp.getheaders()})
        except (OSError, http.client.HTTPException) as exc:
            return Response(None, b"", f"{type(exc).__name__}: {exc}".strip(": "))
        finally:
            conn.close()

    def hijack(self, method: str, path: str, case: str, body: Body = None,
               version: str | None = None, timeout: float = 10.0,
               headers: dict[str, str] | None = None) -> Response:
        """Send an `Upgrade: tcp` request as the docker CLI does; on 101 half-close our side and
        read the stream to EOF. Any other answer is read like a plain one."""
        data, extra = encode(body)
        extra = {"Upgrade": "tcp", **extra, **(headers or {})}
        lines = [f"{method} {self.full_path(path, version)} HTTP/1.1",
                 f"Host: {self.host}:{self.port}", f"User-Agent: {USER_AGENT}",
                 f"{CASE_HEADER}: {case}", "Connection: Upgrade",
                 *(f"{k}: {v}" for k, v in extra.items()),
                 f"Content-Length: {len(data or b'')}"]
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
                sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + (data or b""))
                return _read_hijack(sock)
        except OSError as exc:
            return Response(None, b"", f"{type(exc).__name__}: {exc}")


def _read_hijack(sock: socket.socket) -> Response:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return Response(None, buf[:200], "connection closed before a response head")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (h.partition(":") for h in header_lines)}
    if status == 101:
        sock.shutdown(socket.SHUT_WR)  # stdin is done, as `docker exec` without -i does
    length = headers.get("content-length")
    want = int(length) if status != 101 and length and length.isdigit() else None
    body = rest
    try:
        while want is None or len(body) < want:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk[:max(0, KEEP - len(body))]
    except TimeoutError:
        return Response(status, body, "timed out reading the stream to EOF", headers)
    return Response(status, body, None, headers)

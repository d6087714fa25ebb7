"""TLS towards the daemon (tcp://HOST:2376), read the way the docker CLI reads it.

`--tls-verify` (or a non-empty `DOCKER_TLS_VERIFY`, as the CLI treats it: even "0" turns it
on) verifies the daemon's certificate against `ca.pem` and its host name; `--tls` (or
`DOCKER_TLS`) encrypts without verifying. `--cert-path` (else `DOCKER_CERT_PATH`, else the
docker config dir: `DOCKER_CONFIG` or ~/.docker) holds `ca.pem`, `cert.pem`, `key.pem`; a
missing cert.pem/key.pem means no client certificate, like the CLI.

Plain functions: the files are checked and loaded here once, a Python `ssl` context serves the
pre-flight check and the target probe, and `inject_client_cert` hands the same certificate to
mitmproxy's pyOpenSSL connection (no copy of the key is ever written anywhere).
"""

from __future__ import annotations

import os
import socket
import ssl
from dataclasses import dataclass
from typing import Any

from dockdrift.errors import UsageError

DOCKER_TLS_PORT = 2376


@dataclass(frozen=True)
class TlsFiles:
    """What the daemon connection uses: CA (when verifying), client certificate and key."""

    verify: bool
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    source: str = "--cert-path"

    def describe(self) -> str:
        return "TLS, verified" if self.verify else "TLS, NOT verified (--tls)"


def config_dir(environ: dict[str, str]) -> str:
    """The docker CLI's config directory: $DOCKER_CONFIG, else ~/.docker."""
    return environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def from_cert_path(cert_path: str, verify: bool, source: str = "--cert-path") -> TlsFiles:
    """ca.pem/cert.pem/key.pem in `cert_path`, checked (UsageError says which file and why)."""
    path = os.path.expanduser(cert_path)
    ca, cert, key = (os.path.join(path, f"{n}.pem") for n in ("ca", "cert", "key"))
    if verify and not os.path.isfile(ca):
        raise UsageError(f"TLS verification needs the CA certificate {ca} ({source}): put "
                         "ca.pem there, or give --cert-path DIR")
    cert_ok, key_ok = os.path.isfile(cert), os.path.isfile(key)
    if cert_ok != key_ok:
        have, missing = (cert, key) if cert_ok else (key, cert)
        raise UsageError(f"{have} exists but {missing} does not: a client certificate needs "
                         "both cert.pem and key.pem")
    files = TlsFiles(verify, ca if verify else None, cert if cert_ok else None,
                     key if key_ok else None, source)
    client_context(files, None)  # unreadable or mismatched files: one line now, not per request
    return files


def client_context(files: TlsFiles, host: str | None) -> ssl.SSLContext:
    """A Python ssl context for the daemon connection (pre-flight and target probe)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if files.verify and not files.ca:
        ctx.load_default_certs()  # a context without ca.pem: the system's roots
    elif files.verify:
        try:
            ctx.load_verify_locations(cafile=files.ca)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"cannot use the CA certificate {files.ca}: {_why(exc)}") from None
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if files.cert and files.key:
        try:
            ctx.load_cert_chain(files.cert, files.key)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"cannot use the client certificate {files.cert} with "
                             f"{files.key}: {_why(exc)}") from None
    return ctx


def _why(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        return {"KEY_VALUES_MISMATCH": "the key does not belong to the certificate",
                "NO_CERTIFICATE_OR_CRL_FOUND": "no PEM certificate in it",
                "PEM_LIB": "not a PEM certificate or key"}.get(reason, reason or str(exc))
    return getattr(exc, "strerror", None) or str(exc)


def preflight(host: str, port: int, files: TlsFiles, timeout: float = 10) -> str | None:
    """Handshake and `GET /_ping` once before the capture starts.

    A certificate problem (ours or the daemon's) raises UsageError: every request would fail
    the same way. An unreachable daemon returns a warning (the capture starts anyway, as for
    plain upstreams). Nothing is sent before the handshake has verified the daemon.
    """
    url = f"tcp://{host}:{port}"
    ctx = client_context(files, host)
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        return (f"warning: upstream {url} is not reachable now ({_why(exc)}); starting anyway: "
                "requests fail and are recorded with status NULL until it is back")
    try:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nUser-Agent: dockdrift-probe\r\n"
                      b"Connection: close\r\n\r\n")
            head = s.recv(64)
    except ssl.SSLCertVerificationError as exc:
        raise UsageError(f"the daemon's certificate at {url} is not trusted: {_why(exc)} "
                         f"(CA {files.ca}): check --cert-path/DOCKER_CERT_PATH and the host "
                         "name in the upstream URL") from None
    except ssl.SSLError as exc:
        raise UsageError(tls_failure(url, exc)) from None
    except OSError as exc:
        raise UsageError(f"TLS to {url} failed: {_why(exc)}: is it a TLS endpoint "
                         "(dockerd --tlsverify)?") from None
    finally:
        raw.close()
    if not head.startswith(b"HTTP/"):
        raise UsageError(f"{url} answered the TLS connection with no HTTP: is it dockerd?")
    return None


def tls_failure(url: str, exc: ssl.SSLError) -> str:
    reason = (exc.reason or str(exc)).lower()
    if "wrong_version_number" in reason or "record_layer_failure" in reason:
        return (f"{url} does not speak TLS (a plain HTTP daemon?): drop --tls/--tls-verify "
                "and unset DOCKER_TLS_VERIFY, or use the daemon's TLS port")
    if "certificate" in reason or "alert" in reason:
        return (f"the daemon at {url} refused our client certificate ({exc.reason}): use the "
                "cert.pem/key.pem signed by the daemon's CA (--cert-path)")
    return f"TLS to {url} failed: {exc.reason or exc}"


def load_client_cert(files: TlsFiles) -> tuple[Any, Any] | None:
    """(X509, PKey) for pyOpenSSL, loaded once; None without a client certificate."""
    if not (files.cert and files.key):
        return None
    from OpenSSL import crypto

    with open(files.cert, "rb") as f:
        cert = crypto.load_certificate(crypto.FILETYPE_PEM, f.read())
    with open(files.key, "rb") as f:
        key = crypto.load_privatekey(crypto.FILETYPE_PEM, f.read())
    return cert, key


class UpstreamClientCert:
    """mitmproxy addon, after tlsconfig: present the client certificate to the daemon.

    tlsconfig's `client_certs` wants certificate and key in one file; the docker CLI keeps
    them apart. Setting them on the pyOpenSSL connection avoids a copy of the key on disk.
    """

    def __init__(self, files: TlsFiles) -> None:
        self.pair = load_client_cert(files)

    def tls_start_server(self, tls_start: Any) -> None:
        if self.pair is not None and tls_start.ssl_conn is not None:
            tls_start.ssl_conn.use_certificate(self.pair[0])
            tls_start.ssl_conn.use_privatekey(self.pair[1])


def mitm_options(files: TlsFiles) -> dict[str, Any]:
    """The mitmproxy options that make tlsconfig verify the daemon like the docker CLI."""
    return {"ssl_insecure": not files.verify,
            "ssl_verify_upstream_trusted_ca": files.ca if files.verify else None,
            "http2": False}  # Docker's API is HTTP/1.1; hijacks cannot ride on HTTP/2


def context_from_mitm_options(options: Any, host: str) -> ssl.SSLContext:
    """For mitmdump: the target probe's ssl context from mitmproxy's own TLS options."""
    insecure = bool(getattr(options, "ssl_insecure", False))
    ca = getattr(options, "ssl_verify_upstream_trusted_ca", None)
    ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    certs = os.path.expanduser(getattr(options, "client_certs", None) or "")
    pem = certs if os.path.isfile(certs) else os.path.join(certs, f"{host}.pem")
    if certs and os.path.isfile(pem):
        ctx.load_cert_chain(pem)
    return ctx

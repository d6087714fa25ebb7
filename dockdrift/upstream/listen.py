"""`--listen-tls`: the recorder speaks TLS to its clients and requires client certificates.

A client configured for a TLS daemon (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH with a client
certificate) can then be pointed at the recorder unchanged but for DOCKER_HOST. mitmproxy's
tlsconfig can present a certificate but accepts any client certificate; `ListenTls` builds the
client-side pyOpenSSL context itself (verify peer, fail without a certificate), and refuses a
connection that does not start with a TLS handshake: nothing is served in plain text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from dockdrift.errors import UsageError


@dataclass(frozen=True)
class ListenTlsFiles:
    cert: str
    key: str
    ca: str


def from_args(args: Any) -> ListenTlsFiles | None:
    given = {"--listen-cert": args.listen_cert, "--listen-key": args.listen_key,
             "--listen-ca": args.listen_ca}
    if not args.listen_tls:
        if any(given.values()):
            raise UsageError(f"{', '.join(k for k, v in given.items() if v)} need --listen-tls")
        return None
    missing = [k for k, v in given.items() if not v]
    if missing:
        raise UsageError(f"--listen-tls needs {', '.join(missing)}: the recorder's certificate, "
                         "its key, and the CA that signs the clients' certificates")
    files = ListenTlsFiles(args.listen_cert, args.listen_key, args.listen_ca)
    server_context(files)  # bad files: one line now
    return files


def server_context(files: ListenTlsFiles) -> Any:
    """A pyOpenSSL server context that requires a client certificate signed by files.ca."""
    from OpenSSL import SSL, crypto

    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_2_VERSION)
    step = ""
    try:
        step = f"--listen-cert {files.cert}"
        ctx.use_certificate_chain_file(files.cert)
        step = f"--listen-key {files.key} (a PEM key that belongs to --listen-cert)"
        ctx.use_privatekey_file(files.key)
        ctx.check_privatekey()
        step = f"--listen-ca {files.ca}"
        ctx.load_verify_locations(files.ca)
        with open(files.ca, "rb") as f:
            ca = crypto.load_certificate(crypto.FILETYPE_PEM, f.read())
    except (OSError, SSL.Error, crypto.Error) as exc:
        why = getattr(exc, "strerror", None) or "it is not a usable PEM file"
        raise UsageError(f"cannot use {step}: {why}") from None
    ctx.set_client_ca_list([ca.get_subject()])
    ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *a: bool(a[-1]))
    ctx.set_alpn_select_callback(_http1_only)
    return ctx


def _http1_only(conn: Any, offers: list[bytes]) -> Any:
    from OpenSSL import SSL

    return b"http/1.1" if b"http/1.1" in offers else SSL.NO_OVERLAPPING_PROTOCOLS


class ListenTls:
    """mitmproxy addon (before tlsconfig): our TLS towards clients, client certs required."""

    def __init__(self, files: ListenTlsFiles) -> None:
        self.ctx = server_context(files)

    def next_layer(self, nextlayer: Any) -> None:
        from mitmproxy.net.tls import starts_like_tls_record

        data = nextlayer.data_client()
        if (nextlayer.layer is None and data and not starts_like_tls_record(data)
                and not nextlayer.context.client.tls):
            nextlayer.layer = _Refuse(nextlayer.context)

    def tls_start_client(self, tls_start: Any) -> None:
        from OpenSSL import SSL

        tls_start.ssl_conn = SSL.Connection(self.ctx)
        tls_start.ssl_conn.set_accept_state()


def _Refuse(context: Any) -> Any:  # noqa: N802 (a layer factory)
    """A mitmproxy layer that closes a plain-text client connection without reading it."""
    from mitmproxy.proxy import commands, layer

    class Refuse(layer.Layer):
        def _handle_event(self, event: Any) -> Any:
            yield commands.Log("dockdrift: refused a plain-text client: this capture serves "
                               "TLS only (--listen-tls)", logging.WARNING)
            yield commands.CloseConnection(self.context.client)

    return Refuse(context)

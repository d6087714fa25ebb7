"""Real remote daemons for the tests: a TLS dockerd, an sshd in front of the shared dockerd.

Certificates are made here with `cryptography` (CA, server certificate for 127.0.0.1 and
localhost, client certificate, and the bad ones: another CA, expired, wrong host name) and
kept in /tmp/dockdrift-tls/certs, so the TLS daemon that scripts/dockerd-tls-up.sh starts with
them can be reused by the next run, like the shared dockerd.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import DOCKER, DOCKER_UNIX, ROOT, free_port, wait_port

TLS_DIR = Path(os.environ.get("DOCKDRIFT_TLS_DIR", "/tmp/dockdrift-tls"))
TLS_PORT = int(os.environ.get("DOCKDRIFT_TLS_PORT", "2386"))
CERTS = TLS_DIR / "certs"
SSHD = "/usr/sbin/sshd"
SSH = shutil.which("ssh") or "/usr/bin/ssh"


def _name(cn: str):
    from cryptography.x509.oid import NameOID
    from cryptography import x509

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.write_bytes(data)
    path.chmod(mode)


def _cert(subject: str, key, issuer_name, issuer_key, *, ca: bool = False,
          server: bool = False, hosts: tuple[str, ...] = (), expired: bool = False):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = dt.datetime.now(dt.UTC)
    start, end = ((now - dt.timedelta(days=30), now - dt.timedelta(days=1)) if expired
                  else (now - dt.timedelta(hours=1), now + dt.timedelta(days=3650)))
    b = (x509.CertificateBuilder().subject_name(_name(subject))
         .issuer_name(issuer_name or _name(subject)).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(start)
         .not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                          False), critical=True)
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if hosts:
        names = []
        for h in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                names.append(x509.DNSName(h))
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(issuer_key or key, hashes.SHA256())


def _pem(cert) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_certs(out: Path = CERTS) -> Path:
    """Every certificate the tests use, made once; `out/<set>/{ca,cert,key}.pem` per client.

    good/      the client set the TLS daemon trusts (docker's DOCKER_CERT_PATH layout)
    wrong-ca/  a client whose ca.pem is another CA (the daemon's certificate is not trusted)
    expired/   a client certificate signed by the right CA but expired
    server/    the daemon's certificate (127.0.0.1, localhost) and key, and the CA
    bad-server/expired-{cert,key}.pem, wronghost-{cert,key}.pem: daemon certificates signed by
               the right CA that a client must refuse
    """
    if (out / "done").exists():
        return out
    from cryptography.hazmat.primitives.asymmetric import ec

    out.mkdir(parents=True, exist_ok=True)
    new = lambda: ec.generate_private_key(ec.SECP256R1())  # noqa: E731
    ca_key, other_key = new(), new()
    ca = _cert("dockdrift test CA", ca_key, None, None, ca=True)
    other = _cert("another CA", other_key, None, None, ca=True)

    def leaf(subdir: str, prefix: str, **kw) -> None:
        key = new()
        d = out / subdir
        d.mkdir(exist_ok=True)
        _write(d / f"{prefix}cert.pem", _pem(_cert("dockdrift", key, ca.subject, ca_key, **kw)))
        _write(d / f"{prefix}key.pem", _key_pem(key), 0o600)

    leaf("server", "", server=True, hosts=("127.0.0.1", "localhost"))
    leaf("good", "")
    leaf("expired", "", expired=True)
    leaf("bad-server", "expired-", server=True, hosts=("127.0.0.1", "localhost"), expired=True)
    leaf("bad-server", "wronghost-", server=True, hosts=("other.example",))
    for d in ("server", "good", "expired", "bad-server"):
        _write(out / d / "ca.pem", _pem(ca))
    (out / "wrong-ca").mkdir(exist_ok=True)
    for f in ("cert.pem", "key.pem"):
        shutil.copy(out / "good" / f, out / "wrong-ca" / f)
    _write(out / "wrong-ca" / "ca.pem", _pem(other))
    (out / "done").touch()
    return out


def tls_env(certs: Path, which: str = "good") -> dict[str, str]:
    return {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs / which)}


def start_tls_dockerd() -> tuple[str, str]:
    """(tcp URL, unix URL) of the TLS dockerd; started by scripts/dockerd-tls-up.sh if needed."""
    certs = make_certs()
    r = subprocess.run([str(ROOT / "scripts" / "dockerd-tls-up.sh"), str(certs / "server")],
                       capture_output=True, text=True, timeout=180,
                       env={**os.environ, "DOCKDRIFT_TLS_DIR": str(TLS_DIR),
                            "DOCKDRIFT_TLS_PORT": str(TLS_PORT)})
    if r.returncode != 0:
        raise RuntimeError(f"dockerd-tls-up.sh failed: {r.stderr.strip()[-1500:]}")
    return f"tcp://127.0.0.1:{TLS_PORT}", f"unix://{TLS_DIR}/docker.sock"


@dataclass
class Sshd:
    proc: subprocess.Popen
    port: int
    bin_dir: Path  # put first on PATH: its `ssh` uses the test's config, keys, known_hosts
    key: Path
    log: Path

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"PATH": f"{self.bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_sshd(tmp: Path, docker_host: str = DOCKER_UNIX) -> Sshd:
    """A real sshd on a free loopback port; its key's sessions get DOCKER_HOST=docker_host.

    The system sshd (its config, port 22) is not touched: a private config, host key,
    authorized_keys and pid file under `tmp`.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
    host_key, user_key = tmp / "host_key", tmp / "user_key"
    for k in (host_key, user_key):
        if not k.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(k)],
                           check=True, timeout=30)
    pub = user_key.with_suffix(".pub").read_text().strip()
    (tmp / "authorized_keys").write_text(f'environment="DOCKER_HOST={docker_host}" {pub}\n')
    # a second key that sshd does not know: "refusing the key"
    stranger = tmp / "stranger_key"
    if not stranger.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)],
                       check=True, timeout=30)
    port = free_port()
    (tmp / "sshd_config").write_text(f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {tmp}/sshd.pid
AuthorizedKeysFile {tmp}/authorized_keys
PermitUserEnvironment yes
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
""")
    host_pub = host_key.with_suffix(".pub").read_text().split()[:2]
    (tmp / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_pub)}\n")
    (tmp / "ssh_config").write_text(f"""\
Host *
  IdentityFile {user_key}
  IdentitiesOnly yes
  UserKnownHostsFile {tmp}/known_hosts
  StrictHostKeyChecking yes
  LogLevel ERROR
""")
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {SSH} -F {tmp}/ssh_config "$@"\n')
    wrapper.chmod(0o755)
    log = tmp / "sshd.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(tmp / "sshd_config")],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port, timeout=30, proc=proc)
    except (RuntimeError, TimeoutError) as exc:
        proc.kill()
        raise RuntimeError(f"sshd did not start: {exc}: {log.read_text()[-1500:]}") from None
    return Sshd(proc, port, bin_dir, user_key, log)


def docker(host: str | None, *args: str, input: bytes | None = None,
           env: dict[str, str] | None = None, timeout: float = 120,
           ) -> subprocess.CompletedProcess[bytes]:
    """The real docker CLI with exactly `env` on top of ours (DOCKER_* of ours removed)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    full.update({"DOCKER_CLI_HINTS": "false", **({"DOCKER_HOST": host} if host else {}),
                 **(env or {})})
    return subprocess.run([DOCKER, *args], input=input, capture_output=True, timeout=timeout,
                          env=full)


def wait_until(check, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached in {timeout}s")
        time.sleep(0.1)

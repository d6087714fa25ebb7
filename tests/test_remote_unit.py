"""dockdrift.upstream's plain functions, without a proxy: which daemon a capture records
(the docker CLI's precedence), ssh URLs and command lines, the context store, TLS files."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from dockdrift.db.target import upstream_from_mode, upstream_url_from_mode
from dockdrift import capture
from dockdrift.errors import UsageError
from dockdrift.upstream import client_lines, context, resolve, ssh
from dockdrift.upstream.listen import from_args as listen_from_args
from dockdrift.upstream.tls import from_cert_path
from conftest import DOCKER
from remote_helpers import docker, make_certs


def args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    capture.add_arguments(p)
    return p.parse_args(list(argv))


def store(cfg: Path, name: str, host: str, skip: bool = False, tls: Path | None = None) -> None:
    """A context exactly as `docker context create` lays it out (checked against the real
    CLI in test_store_layout_matches_the_docker_cli)."""
    cid = hashlib.sha256(name.encode()).hexdigest()
    meta = cfg / "contexts" / "meta" / cid
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps(
        {"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host,
                                                                 "SkipTLSVerify": skip}}}))
    if tls is not None:
        d = cfg / "contexts" / "tls" / cid / "docker"
        d.mkdir(parents=True)
        for f in ("ca.pem", "cert.pem", "key.pem"):
            shutil.copy(tls / f, d / f)


@pytest.fixture
def certs() -> Path:
    return make_certs()


def test_ssh_urls_and_the_command_the_docker_cli_would_run() -> None:
    t = ssh.parse("ssh://me@build-host:2222", "--upstream")
    assert (t.user, t.host, t.port, t.url()) == ("me", "build-host", 2222,
                                                 "ssh://me@build-host:2222")
    assert t.command() == ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-T",
                           "-l", "me", "-p", "2222", "--", "build-host", "docker", "system",
                           "dial-stdio"]
    sock = ssh.parse("ssh://host/run/user/1000/docker.sock", "DOCKER_HOST")
    assert sock.command()[-4:] == ["docker", "--host=unix:///run/user/1000/docker.sock",
                                   "system", "dial-stdio"]
    for bad, why in [("ssh://me:secret@host", "password"), ("ssh://host:0", "1-65535"),
                     ("ssh://", "bad"), ("ssh://host?x=1", "query")]:
        with pytest.raises(UsageError, match=why):
            ssh.parse(bad, "--upstream")


def test_ssh_failure_lines() -> None:
    t = ssh.SshTarget("h", "root", 22)
    assert "cannot reach ssh://root@h:22 over ssh: root@h: Permission denied (publickey)." in \
        ssh.failure(t, 255, b"root@h: Permission denied (publickey).\r\n")
    assert "no docker CLI" in ssh.failure(t, 127, b"bash: docker: command not found\n")


def test_precedence_like_the_docker_cli(tmp_path: Path, certs: Path) -> None:
    cfg = tmp_path / "cfg"
    store(cfg, "prod", "tcp://10.0.0.1:2376", tls=certs / "good")
    store(cfg, "edge", "ssh://ops@edge")
    (cfg / "config.json").write_text(json.dumps({"currentContext": "edge"}))
    env = {"DOCKER_CONFIG": str(cfg)}
    # 1. --upstream; both flags at once are refused like docker's --host with --context
    assert resolve(args("--upstream", "unix:///x.sock"), env).text == "unix:///x.sock"
    with pytest.raises(UsageError, match="conflicting options"):
        resolve(args("--upstream", "unix:///x.sock", "--context", "prod"), env)
    # 2. --context beats DOCKER_HOST
    up = resolve(args("--context", "prod"), {**env, "DOCKER_HOST": "tcp://1.2.3.4:2375"})
    assert (up.text, up.source, up.tls and up.tls.verify) == (
        "tcp://10.0.0.1:2376", "context 'prod' (--context)", True)
    # 3. DOCKER_HOST beats DOCKER_CONTEXT and currentContext
    up = resolve(args(), {**env, "DOCKER_HOST": "tcp://1.2.3.4", "DOCKER_CONTEXT": "prod"})
    assert (up.text, up.source, up.tls) == ("tcp://1.2.3.4", "DOCKER_HOST", None)
    # 4. DOCKER_CONTEXT, then currentContext
    assert resolve(args(), {**env, "DOCKER_CONTEXT": "prod"}).text == "tcp://10.0.0.1:2376"
    up = resolve(args(), env)
    assert (up.ssh, up.source) == (ssh.SshTarget("edge", "ops"),
                                   f"context 'edge' (currentContext in {cfg}/config.json)")
    # 5. the default context
    up = resolve(args(), {"DOCKER_CONFIG": str(tmp_path / "none")})
    assert (up.text, up.source) == ("unix:///var/run/docker.sock", "default upstream")
    assert resolve(args("--context", "default"),
                   {**env, "DOCKER_HOST": "tcp://h:1"}).text == "tcp://h:1"
    with pytest.raises(UsageError, match="context 'nope' .* does not exist"):
        resolve(args("--context", "nope"), env)
    with pytest.raises(UsageError, match="carries its own TLS"):
        resolve(args("--context", "prod", "--tls-verify"), env)


def test_tls_from_flags_and_environment_like_the_docker_cli(tmp_path: Path,
                                                            certs: Path) -> None:
    good = str(certs / "good")
    # DOCKER_TLS_VERIFY: any non-empty value turns verification on (the docker CLI's rule)
    up = resolve(args(), {"DOCKER_HOST": "tcp://h", "DOCKER_TLS_VERIFY": "0",
                          "DOCKER_CERT_PATH": good})
    assert up.tls is not None and up.tls.verify and up.tls.ca == f"{good}/ca.pem"
    # the default port follows TLS: 2376 with it, 2375 without
    cfg = capture.resolve(args("--upstream", "tcp://h", "--tls-verify", "--cert-path", good),
                          {})
    assert (cfg.upstream.port, cfg.tls and cfg.tls.cert) == (2376, f"{good}/cert.pem")
    assert capture.resolve(args("--upstream", "tcp://h"), {}).upstream.port == 2375
    # --tls: encrypted, not verified; DOCKER_CERT_PATH defaults to the config dir
    (tmp_path / "cfg").mkdir()
    up = resolve(args("--upstream", "tcp://h:2376", "--tls"),
                 {"DOCKER_CONFIG": str(tmp_path / "cfg")})
    assert up.tls is not None and (up.tls.verify, up.tls.cert, up.tls.source) == (
        False, None, "the default cert path")
    with pytest.raises(UsageError, match="ca.pem"):
        resolve(args("--upstream", "tcp://h", "--tls-verify"),
                {"DOCKER_CONFIG": str(tmp_path / "cfg")})
    with pytest.raises(UsageError, match="tcp:// upstreams only"):
        resolve(args("--upstream", "unix:///s", "--tls-verify", "--cert-path", good), {})
    # the TLS environment does not apply to a unix socket (as in the docker CLI)
    assert resolve(args("--upstream", "unix:///s"), {"DOCKER_TLS_VERIFY": "1"}).tls is None


def test_bad_tls_files_are_one_line(tmp_path: Path, certs: Path) -> None:
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(certs / "good" / "ca.pem", mixed / "ca.pem")
    shutil.copy(certs / "good" / "cert.pem", mixed / "cert.pem")
    shutil.copy(certs / "expired" / "key.pem", mixed / "key.pem")
    with pytest.raises(UsageError, match="the key does not belong to the certificate"):
        from_cert_path(str(mixed), True)
    (mixed / "key.pem").unlink()
    with pytest.raises(UsageError, match="needs both cert.pem and key.pem"):
        from_cert_path(str(mixed), True)
    (mixed / "cert.pem").unlink()
    (mixed / "ca.pem").write_text("not a certificate")
    with pytest.raises(UsageError, match="cannot use the CA certificate"):
        from_cert_path(str(mixed), True)


def test_listen_tls_arguments(certs: Path) -> None:
    s = certs / "server"
    with pytest.raises(UsageError, match="needs --listen-key, --listen-ca"):
        listen_from_args(args("--listen-tls", "--listen-cert", str(s / "cert.pem")))
    with pytest.raises(UsageError, match="need --listen-tls"):
        listen_from_args(args("--listen-cert", str(s / "cert.pem")))
    with pytest.raises(UsageError, match="a PEM key that belongs to --listen-cert"):
        listen_from_args(args("--listen-tls", "--listen-cert", str(s / "cert.pem"),
                              "--listen-key", str(certs / "good" / "key.pem"),
                              "--listen-ca", str(s / "ca.pem")))
    ok = listen_from_args(args("--listen-tls", "--listen-cert", str(s / "cert.pem"),
                               "--listen-key", str(s / "key.pem"), "--listen-ca",
                               str(s / "ca.pem")))
    assert ok is not None and ok.ca.endswith("ca.pem")


def test_client_lines() -> None:
    env = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CONTEXT": "prod"}
    assert client_lines("tcp://127.0.0.1:2376", env, False) == [
        "export DOCKER_HOST=tcp://127.0.0.1:2376", "unset DOCKER_TLS_VERIFY",
        "unset DOCKER_CONTEXT"]
    assert client_lines("tcp://127.0.0.1:2376", env, True) == [
        "export DOCKER_HOST=tcp://127.0.0.1:2376", "unset DOCKER_CONTEXT"]


def test_modes() -> None:
    assert upstream_url_from_mode(["reverse:https://127.0.0.1:2386"]) == (
        "https", "127.0.0.1", 2386)
    assert upstream_from_mode(["reverse:https://127.0.0.1:2386"]) is None  # never plain
    assert upstream_from_mode(["reverse:http://[::1]:2375/"]) == ("::1", 2375)


def test_store_layout_matches_the_docker_cli(tmp_path: Path, certs: Path) -> None:
    """`docker context create` (the real CLI) and dockdrift.upstream.context agree."""
    if not os.path.exists(DOCKER):
        pytest.skip("no docker CLI")
    env = {"DOCKER_CONFIG": str(tmp_path)}
    good = certs / "good"
    r = docker(None, "context", "create", "dd-remote-u", "--docker",
               f"host=tcp://127.0.0.1:2386,ca={good}/ca.pem,cert={good}/cert.pem,"
               f"key={good}/key.pem", env=env)
    assert r.returncode == 0, r.stderr
    assert docker(None, "context", "use", "dd-remote-u", env=env).returncode == 0
    assert context.current(env) == ("dd-remote-u", f"currentContext in {tmp_path}/config.json")
    got = context.load("dd-remote-u", env)
    assert got.host == "tcp://127.0.0.1:2386"
    assert got.tls is not None and got.tls.verify
    assert Path(got.tls.cert or "").read_bytes() == (good / "cert.pem").read_bytes()
    r = docker(None, "context", "create", "dd-remote-skip", "--docker",
               "host=tcp://127.0.0.1:2386,skip-tls-verify=true", env=env)
    assert r.returncode == 0, r.stderr
    skip = context.load("dd-remote-skip", env).tls
    assert skip is not None and not skip.verify
    assert docker(None, "context", "create", "dd-remote-ssh", "--docker",
                  "host=ssh://ops@edge:2200", env=env).returncode == 0
    assert resolve(args("--context", "dd-remote-ssh"), env).ssh == ssh.SshTarget(
        "edge", "ops", 2200)

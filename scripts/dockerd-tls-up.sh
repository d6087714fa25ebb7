#!/usr/bin/env bash
# Start a private dockerd that speaks only TLS with client certificates (--tlsverify) on a
# loopback port, like a CI job's Docker-in-Docker service, and import busybox:local into it.
# Usage: scripts/dockerd-tls-up.sh CERTDIR [DIR]
#   CERTDIR holds ca.pem, cert.pem, key.pem (the daemon's certificate); DIR defaults to
#   $DOCKDRIFT_TLS_DIR or /tmp/dockdrift-tls (data, exec root, pid file, log, a unix socket).
# Env: DOCKDRIFT_TLS_PORT (default 2386), DOCKDRIFT_DOCKERD_WAIT (seconds, default 60).
# Idempotent: reuses a daemon that already answers on DIR's socket. Its own --exec-root gives
# it its own containerd, so it runs beside the shared daemon on 2375 without touching it.
set -euo pipefail
certs=${1:?usage: scripts/dockerd-tls-up.sh CERTDIR [DIR]}
dir=${2:-${DOCKDRIFT_TLS_DIR:-/tmp/dockdrift-tls}}
port=${DOCKDRIFT_TLS_PORT:-2386}
wait_s=${DOCKDRIFT_DOCKERD_WAIT:-60}
sock="unix://$dir/docker.sock"
fail() { echo "dockerd-tls-up: $*" >&2; exit 1; }
answers() { docker -H "$sock" version >/dev/null 2>&1; }
for f in ca.pem cert.pem key.pem; do
  [ -f "$certs/$f" ] || fail "$certs/$f is missing"
done
mkdir -p "$dir"
if ! answers; then
  command -v dockerd >/dev/null || fail "dockerd not found: apt-get install docker.io"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "127.0.0.1:$port is taken by another process: set DOCKDRIFT_TLS_PORT"
  fi
  setsid nohup dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    --tlsverify --tlscacert "$certs/ca.pem" --tlscert "$certs/cert.pem" --tlskey "$certs/key.pem" \
    -H "$sock" -H "tcp://127.0.0.1:$port" \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    </dev/null >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 $((wait_s * 2))); do
    answers && break
    sleep 0.5
  done
  answers || { tail -25 "$dir/dockerd.log" >&2; fail "dockerd did not answer on $sock in ${wait_s}s"; }
fi
"$(dirname "$0")/import-busybox.sh" "$sock"
echo "export DOCKER_HOST=tcp://127.0.0.1:$port DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=<client certs>"

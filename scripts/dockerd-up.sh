#!/usr/bin/env bash
# Start a private dockerd (no iptables, no bridge, vfs) and import busybox:local.
# Usage: scripts/dockerd-up.sh [DIR]   (default /tmp/dockdrift-dockerd)
# Prints the DOCKER_HOST to use. Idempotent: reuses a daemon that already answers.
# Env: DOCKDRIFT_DOCKERD_TCP_PORT (default 2375), DOCKDRIFT_DOCKERD_WAIT (seconds, default 60).
set -euo pipefail
dir=${1:-${DOCKDRIFT_DOCKERD_DIR:-/tmp/dockdrift-dockerd}}
port=${DOCKDRIFT_DOCKERD_TCP_PORT:-2375}
wait_s=${DOCKDRIFT_DOCKERD_WAIT:-60}
sock="unix://$dir/docker.sock"
tcp="tcp://127.0.0.1:$port"
mkdir -p "$dir"

fail() { echo "dockerd-up: $*" >&2; exit 1; }
log_tail() { [ -f "$dir/dockerd.log" ] && { echo "--- last lines of $dir/dockerd.log:" >&2; tail -25 "$dir/dockerd.log" >&2; }; }
answers() { docker -H "$1" version >/dev/null 2>&1; }
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

command -v docker >/dev/null || fail "the docker CLI is not installed: apt-get install docker.io"
if ! answers "$sock"; then
  command -v dockerd >/dev/null || fail "dockerd not found: apt-get install docker.io"
  if port_taken; then
    fail "127.0.0.1:$port is taken by another process, not this dockerd ($dir): stop it, or set DOCKDRIFT_DOCKERD_TCP_PORT (and DOCKDRIFT_DOCKER_TCP for the tests)"
  fi
  # setsid + </dev/null: the daemon outlives this script and holds no pipe of the caller.
  setsid nohup dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    -H "$sock" -H "$tcp" \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    </dev/null >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 $((wait_s * 2))); do
    answers "$sock" && break
    sleep 0.5
  done
  answers "$sock" || { log_tail; fail "dockerd did not answer on $sock within ${wait_s}s"; }
fi
# The tests and the recorder use the TCP endpoint: it must be this very daemon.
id_unix=$(docker -H "$sock" info --format '{{.ID}}' 2>/dev/null || true)
id_tcp=$(docker -H "$tcp" info --format '{{.ID}}' 2>/dev/null || true)
if [ -z "$id_tcp" ] || [ "$id_tcp" != "$id_unix" ]; then
  log_tail
  fail "$tcp does not reach the dockerd of $sock (another process on port $port?): free the port, or set DOCKDRIFT_DOCKERD_TCP_PORT"
fi
"$(dirname "$0")/import-busybox.sh" "$sock"
echo "export DOCKER_HOST=$sock"

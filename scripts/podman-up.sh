#!/usr/bin/env bash
# Start Podman 4.3 (Debian 12's podman) serving the Docker API, and import busybox:local.
# Usage: scripts/podman-up.sh [DIR]   (default /tmp/dockdrift-podman)
# Two `podman system service` processes share one private store (vfs, DIR/storage) and config:
# tcp://127.0.0.1:2395 (what the tests and the recorder use) and unix://DIR/podman.sock.
# Prints the DOCKER_HOST to use. Idempotent: reuses services that answer.
# Env: DOCKDRIFT_PODMAN_DIR, DOCKDRIFT_PODMAN_TCP_PORT (default 2395),
#      DOCKDRIFT_PODMAN_WAIT (seconds, default 60).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
me=podman-up
# shellcheck source=lib.sh
. "$here/lib.sh"
dir=${1:-${DOCKDRIFT_PODMAN_DIR:-/tmp/dockdrift-podman}}
port=${DOCKDRIFT_PODMAN_TCP_PORT:-2395}
wait_s=${DOCKDRIFT_PODMAN_WAIT:-60}
sock="unix://$dir/podman.sock"
tcp="tcp://127.0.0.1:$port"
mkdir -p "$dir"

# A Podman answers the Docker API: its /version lists the component "Podman Engine".
answers() { docker -H "$1" version --format '{{range .Server.Components}}{{.Name}};{{end}}' 2>/dev/null | grep -q 'Podman Engine'; }

command -v docker >/dev/null || fail "the docker CLI is not installed: apt-get install docker.io"
command -v podman >/dev/null || fail "podman is not installed: apt-get install podman"

# Private storage and config (see DESIGN.md and lib.sh's podman_config).
export CONTAINERS_STORAGE_CONF="$dir/storage.conf" CONTAINERS_CONF="$dir/containers.conf"
podman_config "$dir" "$dir/run" "$dir/storage" "$dir/tmp" "$dir/networks"

# start NAME URI: one `podman system service` (setsid + </dev/null: it outlives this script).
start() {
  setsid nohup podman system service --time=0 "$2" </dev/null >"$dir/$1.log" 2>&1 &
}
wait_for() {
  for _ in $(seq 1 $((wait_s * 2))); do
    answers "$2" && return 0
    sleep 0.5
  done
  log_tail "$dir/$1.log"
  fail "podman system service did not answer on $2 within ${wait_s}s"
}

if ! answers "$tcp"; then
  port_taken "$port" && fail "127.0.0.1:$port is taken by another process, not this podman ($dir): stop it, or set DOCKDRIFT_PODMAN_TCP_PORT (and DOCKDRIFT_PODMAN_TCP for the tests)"
  start service-tcp "$tcp"
  wait_for service-tcp "$tcp"
fi
if ! answers "$sock"; then
  rm -f "$dir/podman.sock"
  start service-unix "$sock"
  wait_for service-unix "$sock"
fi
# The TCP endpoint must serve this very store (not another Podman's on that port).
root_tcp=$(docker -H "$tcp" info --format '{{.DockerRootDir}}' 2>/dev/null || true)
[ "$root_tcp" = "$dir/storage" ] || fail "$tcp serves the store ${root_tcp:-?}, not $dir/storage (another podman on port $port?): free the port, or set DOCKDRIFT_PODMAN_TCP_PORT"
"$here/import-busybox.sh" "$tcp"
echo "export DOCKER_HOST=$sock"

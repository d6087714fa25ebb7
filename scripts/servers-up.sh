#!/usr/bin/env bash
# Start every real server the tests use, each with busybox:local (idempotent: running ones are
# reused), and the docker CLI plugins:
#   dockerd        Docker Engine 20.10                          tcp://127.0.0.1:2375
#   dockerd26      Docker Engine 26.1                           tcp://127.0.0.1:2385
#   dockerd28      Docker Engine 28.5                           tcp://127.0.0.1:2405
#   dockerd28floor Engine 28.5 in Engine 29.0's floor mode (min API 1.44)  tcp://127.0.0.1:2415
#   podman         Podman 4.3                                   tcp://127.0.0.1:2395
#   podman5        Podman 5.8 (in a Debian sid root)            tcp://127.0.0.1:2425
#   plugins        docker compose v2 and buildx                 DOCKER_CONFIG=/tmp/dockdrift-plugins/config
#   postgres       PostgreSQL 15 for the fleet store            127.0.0.1:5433
# Usage: scripts/servers-up.sh [NAME...]   (default: all; stop them: scripts/servers-down.sh)
# Each script takes its own env overrides (see them). Prints one line per server with what it
# prints (the DOCKER_HOST or URL) and its start time; exits 1 naming the ones that could not start.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
declare -A cmd=(
  [dockerd]="dockerd-up.sh" [dockerd26]="dockerd26-up.sh" [dockerd28]="dockerd28-up.sh"
  [dockerd28floor]="dockerd28-up.sh --floor" [podman]="podman-up.sh" [podman5]="podman5-up.sh"
  [plugins]="plugins-up.sh" [postgres]="postgres-up.sh"
)
all=(dockerd dockerd26 dockerd28 dockerd28floor podman podman5 plugins postgres)
[ $# -gt 0 ] && all=("$@")
failed=()
for server in "${all[@]}"; do
  [ -n "${cmd[$server]:-}" ] || { echo "servers-up: no server named $server (one of: ${!cmd[*]})" >&2; exit 2; }
  start=$(date +%s)
  # shellcheck disable=SC2086  # the script and its flag
  if line=$("$here"/${cmd[$server]}); then
    echo "$server: $line  ($(( $(date +%s) - start ))s)"
  else
    failed+=("$server")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "servers-up: could not start: ${failed[*]} (see the lines above; scripts/servers-up.sh NAME starts one)" >&2
  exit 1
fi

#!/usr/bin/env bash
# Start every real server the tests use, each with busybox:local (idempotent: running ones are
# reused): Docker Engine 20.10 (tcp://127.0.0.1:2375), Docker Engine 26.1 (tcp://127.0.0.1:2385)
# and Podman 4.3 (tcp://127.0.0.1:2395), and PostgreSQL 15 for the fleet store
# (/tmp/dockdrift-postgres, 127.0.0.1:5433). Each script takes its own env overrides (see them).
# Prints one DOCKER_HOST line per server; exits 1 naming the ones that could not start.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
failed=()
for server in dockerd dockerd26 podman postgres; do
  start=$(date +%s)
  if line=$("$here/$server-up.sh"); then
    echo "$server: $line  ($(( $(date +%s) - start ))s)"
  else
    failed+=("$server")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "servers-up: could not start: ${failed[*]} (see the lines above; scripts/<name>-up.sh starts one)" >&2
  exit 1
fi

#!/usr/bin/env bash
# Start a private Docker Engine 28.5 (API 1.51), or with --floor the same daemon in Engine 29.0's
# floor mode (DOCKER_MIN_API_VERSION=1.44: /v1.41/... answers 400 "client version 1.41 is too
# old"), and import busybox:local.
# Usage: scripts/dockerd28-up.sh [--floor] [DIR]
#   default DIR /tmp/dockdrift-engine28 (tcp://127.0.0.1:2405), with --floor
#   /tmp/dockdrift-engine28floor (tcp://127.0.0.1:2415): its own data and exec roots, the
#   binaries of /tmp/dockdrift-engine28/root.
# Debian sid's docker.io, containerd and docker-cli are fetched with `apt-get download` through
# a private apt configuration (its only source: this machine's own Debian mirror) and unpacked
# with `dpkg -x`, never installed; they need only glibc 2.34 and run with Debian 12's /usr/sbin/runc.
# The .debs and the unpacked root are kept: a second run downloads nothing. The script talks to
# the daemon with that docker CLI 28.5 (the floor refuses the API 1.41 of Debian 12's CLI).
# Prints the DOCKER_HOST to use. Idempotent: reuses a daemon that answers.
# Env: DOCKDRIFT_ENGINE28_DIR, DOCKDRIFT_ENGINE28_TCP_PORT (default 2405),
#      DOCKDRIFT_ENGINE28FLOOR_DIR, DOCKDRIFT_ENGINE28FLOOR_TCP_PORT (default 2415),
#      DOCKDRIFT_ENGINE28_MIN_API (the floor, default 1.44), DOCKDRIFT_ENGINE28_WAIT (seconds,
#      default 60), DOCKDRIFT_ENGINE28_SUITE (default sid), DOCKDRIFT_DEBIAN_MIRROR (a Debian
#      mirror URI, when the machine's apt sources name none).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
me=dockerd28-up
# shellcheck source=lib.sh
. "$here/lib.sh"

floor=
if [ "${1:-}" = --floor ]; then floor=${DOCKDRIFT_ENGINE28_MIN_API:-1.44}; shift; fi
base=${DOCKDRIFT_ENGINE28_DIR:-/tmp/dockdrift-engine28}
wait_s=${DOCKDRIFT_ENGINE28_WAIT:-60}
suite=${DOCKDRIFT_ENGINE28_SUITE:-sid}
want_api=1.51
root="$base/root"
if [ -n "$floor" ]; then
  me=dockerd28-up--floor
  dir=${1:-${DOCKDRIFT_ENGINE28FLOOR_DIR:-/tmp/dockdrift-engine28floor}}
  port=${DOCKDRIFT_ENGINE28FLOOR_TCP_PORT:-2415}
  ns=dockdrift-engine28floor
  daemon_env=("DOCKER_MIN_API_VERSION=$floor")
else
  dir=${1:-$base}
  port=${DOCKDRIFT_ENGINE28_TCP_PORT:-2405}
  ns=dockdrift-engine28
  daemon_env=()
fi
mkdir -p "$base" "$dir"

if [ ! -x "$root/usr/sbin/dockerd" ] || [ ! -x "$root/usr/bin/containerd" ] || [ ! -x "$root/usr/bin/docker" ]; then
  debian_download "$base/apt" "$suite" docker.io containerd docker-cli
  unpack_debs "$base/apt" "$root"
fi
docker="$root/usr/bin/docker"
dockerd_up "$dir" "$root" "$port" "$ns" "$wait_s" ${daemon_env[@]+"${daemon_env[@]}"}

sock="unix://$dir/docker.sock"
read -r api min < <("$docker" -H "$sock" version --format '{{.Server.APIVersion}} {{.Server.MinAPIVersion}}' 2>/dev/null || true) || true
[ "${api:-}" = "$want_api" ] || fail "the daemon on $sock speaks API ${api:-?}, not $want_api: remove $root to fetch the packages again"
if [ -n "$floor" ]; then
  [ "${min:-}" = "$floor" ] || fail "the daemon on $sock has the API floor ${min:-?}, not $floor: stop it (kill \$(cat $dir/docker.pid)) and run this again"
  old=$(http_get "http://127.0.0.1:$port/v1.41/version" || true)
  case "$old" in
    *"client version 1.41 is too old"*400) ;;
    *) fail "the floor daemon answered /v1.41/version with: ${old//$'\n'/ }" ;;
  esac
else
  [ "${min:-}" = 1.24 ] || fail "the daemon on $sock has the API floor ${min:-?}, not 1.24 (started with DOCKER_MIN_API_VERSION?): stop it (kill \$(cat $dir/docker.pid)) and run this again"
fi
PATH="$root/usr/bin:$PATH" "$here/import-busybox.sh" "$sock"
echo "export DOCKER_HOST=$sock"

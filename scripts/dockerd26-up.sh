#!/usr/bin/env bash
# Start a private Docker Engine 26.1 (API 1.45) next to Debian 12's 20.10, and import busybox:local.
# Usage: scripts/dockerd26-up.sh [DIR]   (default /tmp/dockdrift-engine26)
# Debian 13's docker.io and containerd are fetched with `apt-get download` through a private
# apt configuration (its only source: this machine's own Debian mirror, suite trixie) and
# unpacked with `dpkg -x` into DIR/root, never installed; Debian 13's runc needs a newer glibc,
# so Debian 12's /usr/sbin/runc runs the containers. The .debs (DIR/apt/debs) and DIR/root are
# kept: a second run downloads nothing. Prints the DOCKER_HOST to use. Idempotent: reuses a daemon that answers.
# Env: DOCKDRIFT_ENGINE26_DIR, DOCKDRIFT_ENGINE26_TCP_PORT (default 2385),
#      DOCKDRIFT_ENGINE26_WAIT (seconds, default 60), DOCKDRIFT_ENGINE26_SUITE (default trixie),
#      DOCKDRIFT_DEBIAN_MIRROR (a Debian mirror URI, when the machine's apt sources name none).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
me=dockerd26-up
dir=${1:-${DOCKDRIFT_ENGINE26_DIR:-/tmp/dockdrift-engine26}}
port=${DOCKDRIFT_ENGINE26_TCP_PORT:-2385}
wait_s=${DOCKDRIFT_ENGINE26_WAIT:-60}
suite=${DOCKDRIFT_ENGINE26_SUITE:-trixie}
want_api=1.45
root="$dir/root"
sock="unix://$dir/docker.sock"
# shellcheck source=lib.sh
. "$here/lib.sh"

command -v docker >/dev/null || fail "the docker CLI is not installed: apt-get install docker.io"
if [ ! -x "$root/usr/sbin/dockerd" ] || [ ! -x "$root/usr/bin/containerd" ]; then
  debian_download "$dir/apt" "$suite" docker.io containerd
  unpack_debs "$dir/apt" "$root"
fi
dockerd_up "$dir" "$root" "$port" dockdrift-engine26 "$wait_s"
api=$(docker -H "$sock" version --format '{{.Server.APIVersion}}' 2>/dev/null || true)
[ "$api" = "$want_api" ] || fail "the daemon on $sock speaks API ${api:-?}, not $want_api: remove $root to fetch the packages again"
"$here/import-busybox.sh" "$sock"
echo "export DOCKER_HOST=$sock"

#!/usr/bin/env bash
# Start a private dockerd (no iptables, no bridge, vfs) and import busybox:local.
# Usage: scripts/dockerd-up.sh [DIR]   (default /tmp/dockdrift-dockerd)
# Prints the DOCKER_HOST to use. Idempotent: reuses a daemon that already answers.
set -euo pipefail
dir=${1:-${DOCKDRIFT_DOCKERD_DIR:-/tmp/dockdrift-dockerd}}
sock="unix://$dir/docker.sock"
mkdir -p "$dir"
if ! docker -H "$sock" version >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { echo "dockerd not found: apt-get install docker.io" >&2; exit 1; }
  nohup dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    -H "$sock" -H tcp://127.0.0.1:${DOCKDRIFT_DOCKERD_TCP_PORT:-2375} \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    docker -H "$sock" version >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker -H "$sock" version >/dev/null || { echo "dockerd did not start; see $dir/dockerd.log" >&2; tail -20 "$dir/dockerd.log" >&2; exit 1; }
fi
if ! docker -H "$sock" image inspect busybox:local >/dev/null 2>&1; then
  bb=$(command -v busybox || echo /bin/busybox)
  [ -x "$bb" ] || { echo "busybox not found: apt-get install busybox-static" >&2; exit 1; }
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" "$root/dev"
  cp "$bb" "$root/bin/busybox"
  for app in $("$root/bin/busybox" --list); do
    [ "$app" = busybox ] || ln -sf busybox "$root/bin/$app"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  tar -C "$root" -c . | docker -H "$sock" import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - busybox:local >/dev/null
  rm -rf "$root"
fi
echo "export DOCKER_HOST=$sock"

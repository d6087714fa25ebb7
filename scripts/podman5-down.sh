#!/usr/bin/env bash
# Stop what scripts/podman5-up.sh started: its containers (podman stop -a), the service and
# every process chrooted into DIR/root (conmon), then unmount DIR/root's /dev, /sys, /proc and
# the root itself in reverse order (umount -R), so that a second run, an `rm -rf DIR` or the next
# CI run never meets a leftover mount. The root and its store are kept (the next start reuses
# them); --purge removes DIR as well.
# Usage: scripts/podman5-down.sh [--purge] [DIR]   (default /tmp/dockdrift-podman5)
# Safe to run when nothing is running. Env: DOCKDRIFT_PODMAN5_DIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
me=podman5-down
# shellcheck source=lib.sh
. "$here/lib.sh"
purge=
if [ "${1:-}" = --purge ]; then purge=1; shift; fi
dir=${1:-${DOCKDRIFT_PODMAN5_DIR:-/tmp/dockdrift-podman5}}
root="$dir/root"

# stop_pids SIGNAL_WAIT PID...: TERM, up to SIGNAL_WAIT seconds, then KILL.
stop_pids() {
  local s=$1; shift
  [ $# -gt 0 ] || return 0
  kill "$@" 2>/dev/null || true
  for _ in $(seq 1 $((s * 10))); do
    kill -0 "$@" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$@" 2>/dev/null || true
}

if [ -d "$root" ]; then
  if mountpoint -q "$root/proc" && [ -x "$root/usr/bin/podman" ]; then
    (cd / && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
       CONTAINERS_STORAGE_CONF=/etc/dockdrift/storage.conf CONTAINERS_CONF=/etc/dockdrift/containers.conf \
       PODMAN_IGNORE_CGROUPSV1_WARNING=1 \
       timeout 60 chroot "$root" /usr/bin/podman stop -a -t 0) >/dev/null 2>&1 || true
  fi
  # shellcheck disable=SC2046  # one PID per word
  stop_pids 10 $(pids_rooted_in "$root")
  chroot_umount "$root"
fi
rm -f "$dir/podman.pid"
if [ -n "$purge" ]; then
  safe_rmtree "$dir"
  echo "$me: removed $dir"
else
  echo "$me: stopped; nothing mounted below $root"
fi

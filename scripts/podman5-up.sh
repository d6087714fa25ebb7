#!/usr/bin/env bash
# Start Podman 5.8 (Debian sid's podman) serving the Docker API on tcp://127.0.0.1:2425, and
# import busybox:local.
# Usage: scripts/podman5-up.sh [DIR]   (default /tmp/dockdrift-podman5); stop: scripts/podman5-down.sh
# Podman 5.8 needs glibc 2.38, so it runs inside a Debian sid root, DIR/root, made once by
# `debootstrap` (Debian 12's package; about 3 minutes; the mirror read from the machine's apt
# sources) and kept. DIR/root is bind-mounted on itself (private: runc refuses a root that is not
# a mount point) with the host's /proc, /sys and /dev as slaves below it, then
# `chroot DIR/root podman system service` runs with its private storage (vfs) and config in
# DIR/root/etc/dockdrift. Idempotent: reuses a service that answers; a stale service or mount
# of a killed run is cleaned up first. Prints the DOCKER_HOST to use.
# Env: DOCKDRIFT_PODMAN5_DIR, DOCKDRIFT_PODMAN5_TCP_PORT (default 2425), DOCKDRIFT_PODMAN5_WAIT
#      (seconds, default 60), DOCKDRIFT_PODMAN5_SUITE (default sid), DOCKDRIFT_DEBIAN_MIRROR (a
#      Debian mirror URI, when the machine's apt sources name none).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
me=podman5-up
# shellcheck source=lib.sh
. "$here/lib.sh"
dir=${1:-${DOCKDRIFT_PODMAN5_DIR:-/tmp/dockdrift-podman5}}
port=${DOCKDRIFT_PODMAN5_TCP_PORT:-2425}
wait_s=${DOCKDRIFT_PODMAN5_WAIT:-60}
suite=${DOCKDRIFT_PODMAN5_SUITE:-sid}
root="$dir/root"
tcp="tcp://127.0.0.1:$port"
graph=/var/lib/dockdrift/storage   # as seen inside the root
packages=podman,crun,runc,conmon,catatonit,netavark,aardvark-dns,fuse-overlayfs,uidmap,ca-certificates
mkdir -p "$dir"

command -v docker >/dev/null || fail "the docker CLI is not installed: apt-get install docker.io"
[ "$(id -u)" = 0 ] || fail "root is needed (debootstrap, mount, chroot)"
# Podman of this root answers: its /version names "Podman Engine" and its store is $graph.
answers() {
  [ "$(docker -H "$tcp" info --format '{{.DockerRootDir}}' 2>/dev/null)" = "$graph" ] \
    && docker -H "$tcp" version --format '{{range .Server.Components}}{{.Name}};{{end}}' 2>/dev/null | grep -q 'Podman Engine'
}

make_root() {
  [ -x "$root/usr/bin/podman" ] && return 0
  command -v debootstrap >/dev/null || fail "debootstrap is not installed: apt-get install debootstrap"
  debian_mirror
  echo "$me: debootstrap $suite into $root from $mirror (about 3 minutes, once)" >&2
  safe_rmtree "$root.partial"
  if ! debootstrap --variant=minbase --keyring="$mirror_key" --include="$packages" \
      "$suite" "$root.partial" "$mirror" >"$dir/debootstrap.log" 2>&1; then
    safe_rmtree "$root.partial"   # debootstrap may leave /proc or /sys mounted in it
    log_tail "$dir/debootstrap.log"
    fail "debootstrap $suite failed (see $dir/debootstrap.log)"
  fi
  chroot_umount "$root.partial"
  mv "$root.partial" "$root"
}

# Private storage and config inside the root (paths as seen from inside).
write_config() {
  mkdir -p "$root/etc/dockdrift/networks"
  podman_config "$root/etc/dockdrift" /run/dockdrift "$graph" /var/tmp/dockdrift /etc/dockdrift/networks
}

if ! answers; then
  "$here/podman5-down.sh" "$dir" >/dev/null   # a stale service or mounts of a killed run
  port_taken "$port" && fail "127.0.0.1:$port is taken by another process, not the podman of $root: stop it, or set DOCKDRIFT_PODMAN5_TCP_PORT (and DOCKDRIFT_PODMAN5_TCP for the tests)"
  make_root
  write_config
  chroot_mount "$root"
  # A clean environment: nothing of the host's (TMPDIR, XDG_RUNTIME_DIR) leaks into the root.
  # The redirections cover the whole background job and `exec` leaves no shell between it and
  # podman: a shell left holding this script's stdout kept `line=$(podman5-up.sh)` in
  # servers-up.sh waiting for as long as podman ran (the CI run that never finished).
  ( cd / && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      CONTAINERS_STORAGE_CONF=/etc/dockdrift/storage.conf CONTAINERS_CONF=/etc/dockdrift/containers.conf \
      PODMAN_IGNORE_CGROUPSV1_WARNING=1 \
      setsid nohup chroot "$root" /usr/bin/podman system service --time=0 "$tcp" \
  ) </dev/null >"$dir/service.log" 2>&1 &
  echo $! >"$dir/podman.pid"
  wait_until "$wait_s" answers \
    || { log_tail "$dir/service.log"; fail "podman system service in $root did not answer on $tcp within ${wait_s}s"; }
fi
"$here/import-busybox.sh" "$tcp"
echo "export DOCKER_HOST=$tcp"

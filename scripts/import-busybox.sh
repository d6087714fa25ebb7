#!/usr/bin/env bash
# Import a tiny `busybox:local` image (static busybox + applet symlinks) into a Docker engine.
# Usage: scripts/import-busybox.sh DOCKER_HOST   No registry needed; no-op if it exists.
set -euo pipefail
host=${1:?usage: scripts/import-busybox.sh DOCKER_HOST}
docker -H "$host" image inspect busybox:local >/dev/null 2>&1 && exit 0
bb=$(command -v busybox || echo /bin/busybox)
[ -x "$bb" ] || { echo "busybox not found: apt-get install busybox-static" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" "$root/dev"
cp "$bb" "$root/bin/busybox"
for app in $("$root/bin/busybox" --list); do
  [ "$app" = busybox ] || ln -sf busybox "$root/bin/$app"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
tar -C "$root" -c . | docker -H "$host" import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - busybox:local >/dev/null

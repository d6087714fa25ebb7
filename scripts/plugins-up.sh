#!/usr/bin/env bash
# Put docker compose v2 and buildx (Debian sid's docker-compose and docker-buildx) into the
# cli-plugins folder of a private DOCKER_CONFIG, so that `docker compose` and `docker buildx`
# run with the tests' docker CLI (they need only glibc 2.34). The packages are fetched with
# `apt-get download` through a private apt configuration (its only source: this machine's own
# Debian mirror) and unpacked with `dpkg -x`, never installed; kept, so a second run downloads
# nothing. Prints the DOCKER_CONFIG line to use. Idempotent.
# Usage: scripts/plugins-up.sh [DIR]   (default /tmp/dockdrift-plugins; DOCKER_CONFIG=DIR/config)
# Env: DOCKDRIFT_PLUGINS_DIR, DOCKDRIFT_PLUGINS_SUITE (default sid), DOCKDRIFT_DEBIAN_MIRROR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
me=plugins-up
# shellcheck source=lib.sh
. "$here/lib.sh"
dir=${1:-${DOCKDRIFT_PLUGINS_DIR:-/tmp/dockdrift-plugins}}
suite=${DOCKDRIFT_PLUGINS_SUITE:-sid}
config="$dir/config"
plugins="$config/cli-plugins"
root="$dir/root"
src="$root/usr/libexec/docker/cli-plugins"
mkdir -p "$plugins"

if [ ! -x "$src/docker-compose" ] || [ ! -x "$src/docker-buildx" ]; then
  debian_download "$dir/apt" "$suite" docker-compose docker-buildx
  unpack_debs "$dir/apt" "$root"
  [ -x "$src/docker-compose" ] && [ -x "$src/docker-buildx" ] \
    || fail "the packages hold no $src/docker-{compose,buildx}: remove $dir and run this again"
fi
for p in docker-compose docker-buildx; do
  cmp -s "$src/$p" "$plugins/$p" || cp "$src/$p" "$plugins/$p"
done
# A plugin that does not start (a newer glibc, a broken copy) must fail here, not in a test.
"$plugins/docker-compose" docker-cli-plugin-metadata >/dev/null 2>&1 || fail "$plugins/docker-compose does not run: remove $dir and run this again"
"$plugins/docker-buildx" docker-cli-plugin-metadata >/dev/null 2>&1 || fail "$plugins/docker-buildx does not run: remove $dir and run this again"
[ -f "$config/config.json" ] || echo '{}' >"$config/config.json"
echo "export DOCKER_CONFIG=$config"

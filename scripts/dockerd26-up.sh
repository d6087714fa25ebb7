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
dir=${1:-${DOCKDRIFT_ENGINE26_DIR:-/tmp/dockdrift-engine26}}
port=${DOCKDRIFT_ENGINE26_TCP_PORT:-2385}
wait_s=${DOCKDRIFT_ENGINE26_WAIT:-60}
suite=${DOCKDRIFT_ENGINE26_SUITE:-trixie}
want_api=1.45
root="$dir/root"
sock="unix://$dir/docker.sock"
tcp="tcp://127.0.0.1:$port"
log="$dir/dockerd.log"
mkdir -p "$dir"

fail() { echo "dockerd26-up: $*" >&2; exit 1; }
log_tail() { [ -f "$1" ] && { echo "--- last lines of $1:" >&2; tail -25 "$1" >&2; }; return 0; }
answers() { docker -H "$1" version >/dev/null 2>&1; }
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# The machine's own Debian mirror: "URI KEYRING" of the apt source that serves its release.
machine_mirror() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || return 1
  awk -v want="$codename" '
    function flush() {
      if (uri != "" && (" " suites " ") ~ (" " want " ")) { print uri, key; found = 1; exit }
      uri = ""; suites = ""; key = ""
    }
    FNR == 1 { flush() }
    /^[[:space:]]*$/ { flush(); next }
    /^[[:space:]]*#/ { next }
    tolower($1) == "uris:" { uri = $2 }
    tolower($1) == "suites:" { $1 = ""; suites = $0 }
    tolower($1) == "signed-by:" { key = $2 }
    $1 == "deb" {   # one-line format: deb [options] URI suite components
      line = $0; k = ""
      if (match(line, /\[[^]]*\]/)) {
        opts = substr(line, RSTART + 1, RLENGTH - 2); line = substr(line, RSTART + RLENGTH)
        if (match(opts, /signed-by=[^ ]+/)) k = substr(opts, RSTART + 10, RLENGTH - 10)
        line = "deb " line
      }
      split(line, f, /[[:space:]]+/)
      if (f[3] == want) { print f[2], k; found = 1; exit }
    }
    END { if (!found) flush() }
  ' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1
}

# Download and unpack docker.io + containerd of $suite into $root, once.
fetch_engine() {
  [ -x "$root/usr/sbin/dockerd" ] && [ -x "$root/usr/bin/containerd" ] && return 0
  command -v apt-get >/dev/null && command -v dpkg >/dev/null || fail "apt-get and dpkg are needed to fetch Debian's docker.io"
  local mirror key apt="$dir/apt"
  if [ -n "${DOCKDRIFT_DEBIAN_MIRROR:-}" ]; then
    mirror=$DOCKDRIFT_DEBIAN_MIRROR key=
  else
    read -r mirror key < <(machine_mirror || true) || true
  fi
  [ -n "${mirror:-}" ] || fail "no Debian mirror in /etc/apt/sources.list(.d): set DOCKDRIFT_DEBIAN_MIRROR to a Debian mirror URI"
  key=${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
  echo "deb [signed-by=$key] $mirror $suite main" >"$apt/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=-
              -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
              -o Dir::Etc::preferencesparts=- -o APT::Sandbox::User=root -q)
  if ! compgen -G "$apt/debs/docker.io_*.deb" >/dev/null || ! compgen -G "$apt/debs/containerd_*.deb" >/dev/null; then
    echo "dockerd26-up: fetching docker.io and containerd ($suite) from $mirror into $root" >&2
    apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 || { log_tail "$apt/update.log"; fail "apt-get update of the private $suite source failed"; }
    (cd "$apt/debs" && apt-get "${opts[@]}" download docker.io containerd) >"$apt/download.log" 2>&1 \
      || { log_tail "$apt/download.log"; fail "apt-get download docker.io containerd ($suite) failed"; }
  fi
  rm -rf "$root.partial"
  for deb in "$apt"/debs/*.deb; do dpkg -x "$deb" "$root.partial"; done
  # Debian 13's runc (if any came along) needs glibc 2.38: Debian 12's /usr/sbin/runc runs containers.
  rm -f "$root.partial/usr/sbin/runc" "$root.partial/usr/bin/runc"
  rm -rf "$root" && mv "$root.partial" "$root"
  rm -rf "$apt/lists" "$apt/cache"
}

command -v docker >/dev/null || fail "the docker CLI is not installed: apt-get install docker.io"
if ! answers "$sock"; then
  fetch_engine
  [ -x /usr/sbin/runc ] || fail "Debian 12's runc is missing (/usr/sbin/runc): apt-get install runc"
  if port_taken; then
    fail "127.0.0.1:$port is taken by another process, not this dockerd ($dir): stop it, or set DOCKDRIFT_ENGINE26_TCP_PORT (and DOCKDRIFT_ENGINE26_TCP for the tests)"
  fi
  # Its own config file (not /etc/docker/daemon.json), containerd namespaces and, through
  # --exec-root, its own managed containerd socket: nothing shared with the 20.10 daemon.
  [ -f "$dir/daemon.json" ] || echo '{}' >"$dir/daemon.json"
  PATH="$root/usr/bin:$root/usr/sbin:/usr/bin:/usr/sbin:/bin:/sbin" setsid nohup \
    "$root/usr/sbin/dockerd" --config-file "$dir/daemon.json" \
    --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    -H "$sock" -H "$tcp" \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    --containerd-namespace dockdrift-engine26 --containerd-plugins-namespace dockdrift-engine26-plugins \
    </dev/null >"$log" 2>&1 &
  for _ in $(seq 1 $((wait_s * 2))); do
    answers "$sock" && break
    sleep 0.5
  done
  answers "$sock" || { log_tail "$log"; fail "dockerd 26 did not answer on $sock within ${wait_s}s"; }
fi
# The tests and the recorder use the TCP endpoint: it must be this very daemon, at API 1.45.
id_unix=$(docker -H "$sock" info --format '{{.ID}}' 2>/dev/null || true)
id_tcp=$(docker -H "$tcp" info --format '{{.ID}}' 2>/dev/null || true)
if [ -z "$id_tcp" ] || [ "$id_tcp" != "$id_unix" ]; then
  log_tail "$log"
  fail "$tcp does not reach the dockerd of $sock (another process on port $port?): free the port, or set DOCKDRIFT_ENGINE26_TCP_PORT"
fi
api=$(docker -H "$sock" version --format '{{.Server.APIVersion}}' 2>/dev/null || true)
[ "$api" = "$want_api" ] || fail "the daemon on $sock speaks API ${api:-?}, not $want_api: remove $root to fetch the packages again"
"$here/import-busybox.sh" "$sock"
echo "export DOCKER_HOST=$sock"

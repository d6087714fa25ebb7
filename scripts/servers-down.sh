#!/usr/bin/env bash
# Stop what scripts/servers-up.sh started (the same NAMEs; default: all), each by its own pid
# file or data directory, never by a process name: the dockerds (their containers and managed
# containerd stop with them), the Podman services, Podman 5.8's mounts (scripts/podman5-down.sh)
# and PostgreSQL, and the TLS dockerd the remote tests start on demand (tls,
# scripts/dockerd-tls-up.sh). Data, images and downloaded packages are kept: the next start
# reuses them.
# Usage: scripts/servers-down.sh [NAME...]   Honours the same DIR env overrides as the up-scripts.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
me=servers-down
# shellcheck source=lib.sh
. "$here/lib.sh"

# stop_pid PID WHAT: TERM, then wait up to 30 s (a dockerd stops its containers), then KILL.
stop_pid() {
  local pid=$1 what=$2
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || { echo "$me: stopped $what"; return 0; }; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null; echo "$me: killed $what (it ignored TERM for 30 s)"
}

stop_dockerd() {  # DIR NAME
  local pidfile="$1/docker.pid"
  [ -s "$pidfile" ] || { echo "$me: $2 is not running ($pidfile)"; return 0; }
  stop_pid "$(cat "$pidfile")" "$2 ($1)"
}

# Podman 4.3's services: the processes whose environment names this directory's containers.conf.
stop_podman() {  # DIR
  local conf="CONTAINERS_CONF=$1/containers.conf" p found=
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = /usr/bin/podman ] || continue
    { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "$conf" || continue
    stop_pid "${p#/proc/}" "podman ${p#/proc/} ($1)"; found=1
  done
  [ -n "$found" ] || echo "$me: podman is not running ($1)"
}

stop_postgres() {  # DIR
  local bin v
  for v in 17 16 15; do [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ] && { bin=/usr/lib/postgresql/$v/bin; break; }; done
  [ -n "${bin:-}" ] && [ -s "$1/data/postmaster.pid" ] || { echo "$me: postgres is not running ($1)"; return 0; }
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin/pg_ctl" -D "$1/data" -m fast stop >/dev/null
  else "$bin/pg_ctl" -D "$1/data" -m fast stop >/dev/null; fi && echo "$me: stopped postgres ($1)"
}

all=(dockerd dockerd26 dockerd28 dockerd28floor podman podman5 plugins postgres tls)
[ $# -gt 0 ] && all=("$@")
rc=0
for server in "${all[@]}"; do
  case $server in
    dockerd) stop_dockerd "${DOCKDRIFT_DOCKERD_DIR:-/tmp/dockdrift-dockerd}" "$server" ;;
    dockerd26) stop_dockerd "${DOCKDRIFT_ENGINE26_DIR:-/tmp/dockdrift-engine26}" "$server" ;;
    dockerd28) stop_dockerd "${DOCKDRIFT_ENGINE28_DIR:-/tmp/dockdrift-engine28}" "$server" ;;
    dockerd28floor) stop_dockerd "${DOCKDRIFT_ENGINE28FLOOR_DIR:-/tmp/dockdrift-engine28floor}" "$server" ;;
    podman) stop_podman "${DOCKDRIFT_PODMAN_DIR:-/tmp/dockdrift-podman}" ;;
    podman5) "$here/podman5-down.sh" || rc=1 ;;
    plugins) ;;  # files only, nothing runs
    tls) stop_dockerd "${DOCKDRIFT_TLS_DIR:-/tmp/dockdrift-tls}" "$server" ;;
    postgres) stop_postgres "${DOCKDRIFT_PG_DIR:-/tmp/dockdrift-postgres}" || rc=1 ;;
    *) echo "$me: no server named $server" >&2; exit 2 ;;
  esac
done
exit $rc

#!/usr/bin/env bash
# Start a private PostgreSQL 15 (Debian's postgresql) for the fleet store and its tests.
# Usage: scripts/postgres-up.sh [DIR]   (default /tmp/dockdrift-postgres)
# Listens on a unix socket in DIR and on 127.0.0.1:PORT (password auth on TCP, trust on the
# socket, which is 0700 in DIR). Creates the role `dockdrift` with the password in
# DIR/password (made at first start, mode 0600) and the database `dockdrift`.
# Prints the URLs to use. Idempotent: reuses a server that answers.
# Env: DOCKDRIFT_PG_PORT (default 5433), DOCKDRIFT_PG_WAIT (seconds, default 60).
set -euo pipefail
dir=${1:-${DOCKDRIFT_PG_DIR:-/tmp/dockdrift-postgres}}
port=${DOCKDRIFT_PG_PORT:-5433}
wait_s=${DOCKDRIFT_PG_WAIT:-60}
fail() { echo "postgres-up: $*" >&2; exit 1; }

bin=""
for v in 17 16 15; do
  [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ] && { bin=/usr/lib/postgresql/$v/bin; break; }
done
[ -n "$bin" ] || fail "PostgreSQL is not installed: apt-get install postgresql"
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
owner=$([ "$(id -u)" = 0 ] && echo postgres || id -un)

mkdir -p "$dir"
chmod 0755 "$dir"
[ "$(id -u)" = 0 ] && chown "$owner" "$dir"
data="$dir/data"; sock="$dir/socket"
mkdir -p "$sock"; chmod 0700 "$sock"
[ "$(id -u)" = 0 ] && chown "$owner" "$sock"

answers() { "$bin/pg_isready" -q -h "$sock" -p "$port" 2>/dev/null; }

if ! answers; then
  if [ ! -s "$data/PG_VERSION" ]; then
    pwfile=$(mktemp); chmod 0644 "$pwfile"; echo "postgres-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" >"$pwfile"
    run_pg "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --pwfile="$pwfile" >"$dir/initdb.log" 2>&1 || { rm -f "$pwfile"; tail -20 "$dir/initdb.log" >&2; fail "initdb failed"; }
    rm -f "$pwfile"
  fi
  run_pg "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t "$wait_s" \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$sock -c max_connections=200 -c fsync=off -c synchronous_commit=off" \
    start >/dev/null || { tail -20 "$dir/postgres.log" >&2; fail "PostgreSQL did not start on $sock / 127.0.0.1:$port"; }
fi
answers || fail "PostgreSQL does not answer on $sock port $port"

# The application role: password kept in a 0600 file, never on a command line.
pwfile="$dir/password"
if [ ! -s "$pwfile" ]; then
  umask 077
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$pwfile"
fi
chmod 0600 "$pwfile"
pw=$(cat "$pwfile")
run_pg psql -q -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -v pw="$pw" >/dev/null <<'SQL'
SELECT 'CREATE ROLE dockdrift LOGIN CREATEDB' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dockdrift') \gexec
ALTER ROLE dockdrift PASSWORD :'pw';
SELECT 'CREATE DATABASE dockdrift OWNER dockdrift' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'dockdrift') \gexec
SQL
echo "DOCKDRIFT_PG_SOCKET_URL=postgresql+psycopg://dockdrift@/dockdrift?host=$sock&port=$port"
echo "DOCKDRIFT_PG_TCP_URL=postgresql+psycopg://dockdrift@127.0.0.1:$port/dockdrift (password in $pwfile)"

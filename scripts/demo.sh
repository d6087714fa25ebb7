#!/usr/bin/env bash
# make demo: record a short docker CLI workload through the recorder into ./dockdrift.sqlite,
# then print what was recorded per route and status (and an HTML report if available).
#
# Upstream: the Docker engine answering on $DOCKER_HOST or /var/run/docker.sock; as root
# with none running, a private dockerd like the tests' (scripts/dockerd-up.sh).
# Env: DEMO_DB (default ./dockdrift.sqlite), DEMO_IMAGE (default busybox:local), DOCKER (CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${DEMO_DB:-./dockdrift.sqlite}
IMAGE=${DEMO_IMAGE:-busybox:local}
DOCKER=${DOCKER:-docker}
PY=.venv/bin/python
say() { echo "demo: $*" >&2; }
fail() { say "$*"; exit 1; }

command -v "$DOCKER" >/dev/null || fail "no docker CLI on PATH: install docker.io (or set DOCKER=/path/to/docker)"
[ -x "$PY" ] || { say "creating .venv"; make venv; }
answers() { "$DOCKER" -H "$1" version >/dev/null 2>&1; }

# 1. Which engine to record.
upstream=""
if [ -n "${DOCKER_HOST:-}" ] && answers "$DOCKER_HOST"; then
  upstream=$DOCKER_HOST
elif [ -S /var/run/docker.sock ] && answers unix:///var/run/docker.sock; then
  upstream=unix:///var/run/docker.sock
elif [ "$(id -u)" = 0 ]; then
  say "no Docker engine answers; starting a private one (scripts/dockerd-up.sh)"
  scripts/dockerd-up.sh >/dev/null
  upstream=tcp://127.0.0.1:${DOCKDRIFT_DOCKERD_TCP_PORT:-2375}
else
  fail "no Docker engine answers on \$DOCKER_HOST or /var/run/docker.sock; start one, or run as root to start a private one"
fi
if [ "$IMAGE" = busybox:local ]; then
  scripts/import-busybox.sh "$upstream" || fail "no busybox:local image; set DEMO_IMAGE to a local image that has sh"
fi
"$DOCKER" -H "$upstream" image inspect "$IMAGE" >/dev/null 2>&1 || fail "image $IMAGE not found on $upstream; set DEMO_IMAGE to a local image that has sh"

# 2. Start the recorder on a free loopback port.
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp -t dockdrift-demo.XXXXXX.log)
t0=$("$PY" -c 'from datetime import datetime, UTC; print(datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))')
case "$upstream" in
  tcp://*|http://*)
    # mitmproxy reverse-proxies to TCP only; a TCP DOCKER_HOST here means plain HTTP.
    .venv/bin/mitmdump -q -s addons/docker_recorder.py --mode "reverse:http://${upstream#*://}" \
      --listen-host 127.0.0.1 -p "$port" --set "dockdrift_db=$DB" >"$log" 2>&1 &
    ;;
  unix://*)
    .venv/bin/dockdrift capture --upstream "$upstream" --listen "127.0.0.1:$port" --db "$DB" \
      >"$log" 2>&1 &
    ;;
  *) fail "unsupported DOCKER_HOST $upstream (use unix:// or tcp://)" ;;
esac
rec=$!
stop_recorder() { kill -TERM "$rec" 2>/dev/null || true; wait "$rec" 2>/dev/null; }
trap 'stop_recorder; exit 130' INT TERM
for _ in $(seq 1 240); do
  kill -0 "$rec" 2>/dev/null || { cat "$log" >&2; fail "the recorder exited at start (log above)"; }
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.25
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { stop_recorder; cat "$log" >&2; fail "the recorder did not listen on 127.0.0.1:$port"; }
say "recording $upstream through tcp://127.0.0.1:$port into $DB"

# 3. A short workload: successes, 304s, 404s, hijacked attach/exec streams.
name=dockdrift-demo-$$
d() {
  local rc=0
  DOCKER_HOST=tcp://127.0.0.1:$port DOCKER_CLI_HINTS=false "$DOCKER" "$@" >/dev/null 2>&1 || rc=$?
  printf '  exit %-3s docker %s\n' "$rc" "$*"
}
d version
d info
d ps -a
d images
d run --rm "$IMAGE" sh -c 'echo hello; echo oops >&2; exit 3'
d run -d --name "$name" "$IMAGE" sleep 60
d start "$name"
d exec "$name" echo ok
d exec "$name" sh -c 'exit 2'
d logs "$name"
d stop -t 0 "$name"
d stop -t 0 "$name"
d start "$name"
d rm -f "$name"
d inspect "$name"
d rm "$name"
d image inspect dockdrift/missing:image
d volume create "$name-vol"
d volume rm "$name-vol"
d volume rm "$name-vol"
"$DOCKER" -H "$upstream" rm -f "$name" >/dev/null 2>&1 || true

# 4. Stop the recorder (SIGTERM commits every exchange) and show what it stored.
kill -TERM "$rec"
rc=0
wait "$rec" || rc=$?
trap - INT TERM
[ "$rc" = 0 ] || { cat "$log" >&2; fail "the recorder exited $rc (log above)"; }
rm -f "$log"
"$PY" - "$DB" "$t0" <<'EOF'
import sqlite3
import sys

con = sqlite3.connect(sys.argv[1])
rows = con.execute(
    "SELECT method, coalesce(route, '(unknown) ' || path), coalesce(status_code, 'error'),"
    " count(*) FROM exchanges WHERE started_at >= ? GROUP BY 1, 2, 3 ORDER BY 2, 1, 3",
    (sys.argv[2],)).fetchall()
print(f"\nRecorded by this demo ({sum(r[3] for r in rows)} exchanges), per route and status:")
print(f"  {'method':7} {'route':42} {'status':>6} {'count':>5}")
for method, route, status, n in rows:
    print(f"  {method:7} {route:42} {status!s:>6} {n:>5}")
EOF
echo
echo "The capture is in $DB (table exchanges); query it with SQL, or: .venv/bin/dockdrift report --db $DB"
if .venv/bin/dockdrift report --help >/dev/null 2>&1; then
  rc=0
  .venv/bin/dockdrift report --db "$DB" --format html --output dockdrift-report.html >/dev/null || rc=$?
  # Exit 1 means undocumented status codes were observed: that is the finding, not a failure.
  if [ "$rc" -le 1 ]; then echo "HTML report: $(pwd)/dockdrift-report.html"; else say "dockdrift report exited $rc (no HTML report)"; fi
fi

# Shell helpers shared by the scripts/*-up.sh that start servers (sourced, never run).
# The caller sets `me` (its name, the prefix of every message) before sourcing this file.
# shellcheck shell=bash

fail() { echo "${me:-dockdrift}: $*" >&2; exit 1; }
log_tail() { [ -f "$1" ] && { echo "--- last lines of $1:" >&2; tail -25 "$1" >&2; }; return 0; }
# port_taken PORT: something accepts connections on 127.0.0.1:PORT.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_until SECONDS COMMAND...: poll COMMAND every half second; 0 as soon as it succeeds.
wait_until() {
  local s=$1; shift
  for _ in $(seq 1 $((s * 2))); do
    "$@" && return 0
    sleep 0.5
  done
  "$@"
}

# http_get URL: the status line and body of one plain HTTP GET (curl if there, else python3).
http_get() {
  if command -v curl >/dev/null; then
    curl -s -m 10 -w '\n%{http_code}' "$1"
  else
    python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
        print(r.read().decode(), r.status, sep="\n")
except urllib.error.HTTPError as e:
    print(e.read().decode(), e.code, sep="\n")
EOF
  fi
}

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

# debian_mirror: sets `mirror` and `mirror_key` (DOCKDRIFT_DEBIAN_MIRROR, else the machine's).
debian_mirror() {
  mirror= mirror_key=
  if [ -n "${DOCKDRIFT_DEBIAN_MIRROR:-}" ]; then
    mirror=$DOCKDRIFT_DEBIAN_MIRROR
  else
    read -r mirror mirror_key < <(machine_mirror || true) || true
  fi
  [ -n "${mirror:-}" ] || fail "no Debian mirror in /etc/apt/sources.list(.d): set DOCKDRIFT_DEBIAN_MIRROR to a Debian mirror URI"
  mirror_key=${mirror_key:-/usr/share/keyrings/debian-archive-keyring.gpg}
}

# debian_download APT_DIR SUITE PKG...: `apt-get download` PKGs of SUITE into APT_DIR/debs
# through a private apt configuration (its only source: the Debian mirror), nothing installed.
# Skips the download when a .deb of every PKG is there already.
debian_download() {
  local apt=$1 suite=$2; shift 2
  local pkg missing=0
  for pkg in "$@"; do compgen -G "$apt/debs/${pkg}_*.deb" >/dev/null || missing=1; done
  [ $missing = 0 ] && return 0
  command -v apt-get >/dev/null && command -v dpkg >/dev/null || fail "apt-get and dpkg are needed to fetch Debian packages"
  debian_mirror
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
  echo "deb [signed-by=$mirror_key] $mirror $suite main" >"$apt/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=-
              -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
              -o Dir::Etc::preferencesparts=- -o APT::Sandbox::User=root -q)
  echo "$me: fetching $* ($suite) from $mirror" >&2
  apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 || { log_tail "$apt/update.log"; fail "apt-get update of the private $suite source failed"; }
  (cd "$apt/debs" && apt-get "${opts[@]}" download "$@") >"$apt/download.log" 2>&1 \
    || { log_tail "$apt/download.log"; fail "apt-get download $* ($suite) failed"; }
  rm -rf "$apt/lists" "$apt/cache"
}

# unpack_debs APT_DIR ROOT: `dpkg -x` every .deb of APT_DIR/debs into ROOT (atomically).
unpack_debs() {
  local apt=$1 root=$2 deb
  rm -rf "$root.partial"
  for deb in "$apt"/debs/*.deb; do dpkg -x "$deb" "$root.partial"; done
  # A newer Debian's runc (if one came along) needs a newer glibc: Debian 12's /usr/sbin/runc runs containers.
  rm -f "$root.partial/usr/sbin/runc" "$root.partial/usr/bin/runc"
  rm -rf "$root" && mv "$root.partial" "$root"
}

# dockerd_up DIR ROOT PORT NAMESPACE WAIT [VAR=VALUE...]: unless the daemon of DIR answers,
# start ROOT's dockerd (no iptables, no bridge, vfs, its own config file, containerd namespaces
# and, through --exec-root, its own managed containerd) on unix://DIR/docker.sock and
# tcp://127.0.0.1:PORT, with VAR=VALUE in its environment; then check that the TCP endpoint
# reaches this very daemon. Talks to it with $docker (default: the docker CLI on PATH).
dockerd_up() {
  local dir=$1 root=$2 port=$3 ns=$4 wait_s=$5; shift 5
  local sock="unix://$dir/docker.sock" tcp="tcp://127.0.0.1:$port" log="$dir/dockerd.log"
  local cli=${docker:-docker}
  mkdir -p "$dir"
  if ! "$cli" -H "$sock" version >/dev/null 2>&1; then
    [ -x /usr/sbin/runc ] || fail "Debian 12's runc is missing (/usr/sbin/runc): apt-get install runc"
    port_taken "$port" && fail "127.0.0.1:$port is taken by another process, not the dockerd of $dir: stop it, or choose another port (see the script's Env)"
    [ -f "$dir/daemon.json" ] || echo '{}' >"$dir/daemon.json"
    # setsid + </dev/null: the daemon outlives this script and holds no pipe of the caller.
    env "$@" PATH="$root/usr/bin:$root/usr/sbin:/usr/bin:/usr/sbin:/bin:/sbin" setsid nohup \
      "$root/usr/sbin/dockerd" --config-file "$dir/daemon.json" \
      --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
      -H "$sock" -H "$tcp" \
      --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
      --containerd-namespace "$ns" --containerd-plugins-namespace "$ns-plugins" \
      </dev/null >"$log" 2>&1 &
    wait_until "$wait_s" "$cli" -H "$sock" version >/dev/null 2>&1 \
      || { log_tail "$log"; fail "dockerd did not answer on $sock within ${wait_s}s"; }
  fi
  local id_unix id_tcp
  id_unix=$("$cli" -H "$sock" info --format '{{.ID}}' 2>/dev/null || true)
  id_tcp=$("$cli" -H "$tcp" info --format '{{.ID}}' 2>/dev/null || true)
  if [ -z "$id_tcp" ] || [ "$id_tcp" != "$id_unix" ]; then
    log_tail "$log"
    fail "$tcp does not reach the dockerd of $sock (another process on port $port?): free the port, or choose another one (see the script's Env)"
  fi
}

# podman_config DIR RUNROOT GRAPHROOT TMP NETWORKS: DIR/storage.conf and DIR/containers.conf, a
# private store (vfs) and config, paths as the podman that reads them sees them. Without the
# ulimits every container fails here with "error setting rlimits" (Podman raises nofile/nproc
# above what the sandbox allows); crun refuses this machine's hybrid cgroups: runc runs them.
podman_config() {
  mkdir -p "$1"
  cat >"$1/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$2"
graphroot = "$3"
EOF
  cat >"$1/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
tmp_dir = "$4"

[network]
network_config_dir = "$5"
EOF
}

# mounts_under DIR: every mount point at or below DIR, deepest first (from /proc/self/mountinfo).
mounts_under() {
  local d=${1%/}
  awk -v d="$d" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r -u
}

# chroot_mount ROOT: make ROOT a private mount point (runc refuses a root that is not one) and
# give it the host's /proc, /sys and /dev (slaves: nothing done inside propagates out).
# A partial set of mounts (a killed run) is unmounted first.
chroot_mount() {
  local r=${1%/}
  if mountpoint -q "$r" && mountpoint -q "$r/proc" && mountpoint -q "$r/sys" && mountpoint -q "$r/dev"; then
    return 0
  fi
  chroot_umount "$r"
  mount --bind "$r" "$r" && mount --make-private "$r" \
    && mount --bind /proc "$r/proc" && mount --make-rslave "$r/proc" \
    && mount --rbind /sys "$r/sys" && mount --make-rslave "$r/sys" \
    && mount --rbind /dev "$r/dev" && mount --make-rslave "$r/dev" \
    || { chroot_umount "$r"; fail "could not mount /proc, /sys and /dev into $r (root needed)"; }
}

# chroot_umount ROOT: unmount everything at or below ROOT (umount -R; lazily if still busy),
# so that `rm -rf ROOT` never reaches the host's /dev, /sys or /proc.
chroot_umount() {
  local r=${1%/} m
  [ -n "$(mounts_under "$r")" ] || return 0
  mountpoint -q "$r" && umount -R "$r" 2>/dev/null
  for m in $(mounts_under "$r"); do umount -R "$m" 2>/dev/null || umount -R -l "$m" 2>/dev/null || true; done
  [ -z "$(mounts_under "$r")" ] || fail "could not unmount $(mounts_under "$r" | tr '\n' ' ')"
}

# safe_rmtree DIR: rm -rf DIR once nothing is mounted below it (never crossing file systems).
safe_rmtree() {
  chroot_umount "$1"
  rm -rf --one-file-system "$1"
}

# pids_rooted_in DIR: processes whose root directory is DIR (chroot) or below it.
pids_rooted_in() {
  local d=${1%/} p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    [ "$r" = "$d" ] || [ "${r#"$d"/}" != "$r" ] && echo "${p#/proc/}"
  done
  return 0
}

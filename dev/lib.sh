# dev/lib.sh: shared by dev/run and dev/test: install what is missing, build,
# install, and start/stop a throwaway PostgreSQL 15 cluster.
# Sourced, not run. Everything here is safe to repeat.

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGVER=${PGVER:-15}
PGBIN=/usr/lib/postgresql/$PGVER/bin
export PATH="$PGBIN:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# need_root stops early with a clear message when not run as root.
need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "error: run this as root (it installs Debian packages and the extension)" >&2
    exit 2
  fi
}

# install_deps installs the Debian packages chronicle needs, only if missing.
install_deps() {
  local pkgs=(postgresql-$PGVER postgresql-server-dev-$PGVER postgresql-client-$PGVER
              postgresql-$PGVER-pgtap postgresql-$PGVER-wal2json libtap-parser-sourcehandler-pgtap-perl
              libboost-date-time-dev libgtest-dev libpq-dev cmake g++ make)
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# build_install builds chronicle.so and installs it (make is incremental).
build_install() {
  say "building and installing chronicle"
  make -C "$ROOT" -s -j2 PG_CONFIG="$PGBIN/pg_config" >/dev/null
  make -C "$ROOT" -s install PG_CONFIG="$PGBIN/pg_config" >/dev/null
}

# free_port prints the first TCP port from $1 upwards that nothing listens on.
free_port() {
  local port=$1
  while (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null || [ -e "/tmp/.s.PGSQL.$port" ]; do
    port=$((port + 1))
  done
  echo "$port"
}

# start_cluster DIR: initdb (as user postgres) and start a cluster in DIR on
# a free port; exports PGHOST, PGPORT, PGUSER for the callers. Lines in
# CHRONICLE_PGCONF (e.g. "wal_level = logical") are added to its configuration.
start_cluster() {
  local dir=$1
  local sock="$dir/sock"
  stop_cluster "$dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  chown postgres: "$dir"
  runuser -u postgres -- "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  mkdir -p "$sock" && chown postgres: "$sock"
  local port
  port=$(free_port "${PGPORT_START:-54329}")
  cat >>"$dir/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$sock'
fsync = ${CHRONICLE_FSYNC:-off}
max_prepared_transactions = 2
log_min_messages = warning
${CHRONICLE_PGCONF:-}
CONF
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
  export PGHOST=$sock PGPORT=$port PGUSER=postgres
}

# stop_cluster DIR stops the cluster in DIR if one runs there.
stop_cluster() {
  local dir=$1
  if [ -f "$dir/data/postmaster.pid" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

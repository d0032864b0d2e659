#!/usr/bin/env bash
# A throwaway PostgreSQL for the store's tests (issue 23): the machine's own server binaries
# (initdb, pg_ctl; Debian's postgresql package is installed when they are missing), run as the
# `postgres` OS user in a fresh folder under target/ that it owns, on 127.0.0.1 at a free port,
# trust authentication, fsync off (a test server: nothing in it outlives the run).
#
#   eval "$(bash .ci/postgres.sh start)"   # prints: export ALIPAYPLUS_TEST_POSTGRES=postgres://...
#   cargo test -p alipayplus-store --features postgres
#   bash .ci/postgres.sh stop              # stops the server and removes its folder
#
# `start` logs to stderr and prints only the export lines on stdout. `stop` takes the folder from
# ALIPAYPLUS_TEST_POSTGRES_DIR (exported by `start`), or stops every server this script started
# under target/ when it is unset.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'postgres.sh: %s\n' "$*" >&2; }

# As the postgres OS user (the server refuses to run as root).
as_postgres() { runuser -u postgres -- "$@"; }

find_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$dir" ]; then
    log "no initdb/pg_ctl on this machine: installing Debian's postgresql"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; } >&2
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  fi
  echo "$dir"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local bin dir port url
  bin=$(find_bin)
  id postgres >/dev/null 2>&1 || { log "no postgres OS user"; exit 1; }
  mkdir -p target
  dir=$(mktemp -d "$PWD/target/postgres-test.XXXXXX")
  chown postgres: "$dir"
  chmod 700 "$dir"
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # A port taken between free_port and the bind fails the start: try a few.
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c max_connections=200" >&2; then
      url="postgres://postgres@127.0.0.1:$port/postgres"
      log "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port, data in $dir"
      echo "export ALIPAYPLUS_TEST_POSTGRES=$url"
      echo "export ALIPAYPLUS_TEST_POSTGRES_DIR=$dir"
      echo "$dir" >>target/postgres-test.started
      return
    fi
    tail -n 5 "$dir/server.log" >&2 || true
  done
  log "the server did not start"
  exit 1
}

stop_one() {
  local dir=$1 bin
  [ -d "$dir/data" ] || { rm -rf "$dir"; return; }
  bin=$(find_bin)
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
}

stop() {
  local list=target/postgres-test.started
  if [ -n "${ALIPAYPLUS_TEST_POSTGRES_DIR:-}" ]; then
    stop_one "$ALIPAYPLUS_TEST_POSTGRES_DIR"
    if [ -f "$list" ]; then
      grep -vxF "$ALIPAYPLUS_TEST_POSTGRES_DIR" "$list" >"$list.tmp" || true
      mv "$list.tmp" "$list"
    fi
  elif [ -f "$list" ]; then
    while read -r dir; do stop_one "$dir"; done <"$list"
    rm -f "$list"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: bash .ci/postgres.sh start|stop" >&2; exit 2 ;;
esac

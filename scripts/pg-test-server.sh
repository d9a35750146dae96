#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL cluster for the DB dialect tests, never touching the system's own cluster.
#
#   scripts/pg-test-server.sh start        -> last stdout line: postgres://postgres@127.0.0.1:PORT/monostack_test
#   scripts/pg-test-server.sh stop URL|DIR -> stops that cluster (by the PID in its own data dir) and deletes it
#
# The cluster lives in a fresh temporary directory (data/, sock/, postgres.log), listens on
# 127.0.0.1 on a free port and on a unix socket in sock/, trusts every local connection, and
# has a database `monostack_test`. As root it runs as Debian's `postgres` user (runuser);
# as any other user it runs as that user.
set -euo pipefail

DB_NAME=monostack_test
MARKER=monostack-pg-test
TMP_BASE=${TMPDIR:-/tmp}

die() { echo "pg-test-server: $*" >&2; exit 1; }

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

find_bindir() {
  local dir
  # Prefer PostgreSQL 15 (Debian 12's), else the newest installed.
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    echo /usr/lib/postgresql/15/bin
    return
  fi
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] || die "no initdb under /usr/lib/postgresql/*/bin (run scripts/install-system-packages.sh)"
  echo "$dir"
}

port_is_free() {
  # A refused connection means nobody listens there.
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
  local port i
  for i in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if port_is_free "$port"; then
      echo "$port"
      return
    fi
  done
  die "no free TCP port found"
}

pointer_file() { echo "$TMP_BASE/$MARKER-$1.dir"; }

cmd_start() {
  local bindir dir port attempt url
  bindir=$(find_bindir)
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "user postgres does not exist (install the postgresql package)"
  fi

  dir=$(mktemp -d "$TMP_BASE/$MARKER.XXXXXX")
  touch "$dir/$MARKER"
  mkdir -p "$dir/sock"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$dir"
    chmod 700 "$dir"
    as_owner test -w "$dir" || die "user postgres cannot write $dir (set TMPDIR to a directory it can reach)"
  fi

  as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }

  for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >"$dir/pg_ctl.log" 2>&1; then
      break
    fi
    port=
    echo "pg-test-server: start attempt $attempt failed, retrying on another port" >&2
  done
  if [ -z "$port" ]; then
    tail -n 20 "$dir/postgres.log" >&2 || true
    rm -rf "$dir"
    die "postgres did not start"
  fi

  as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME" ||
    { cmd_stop "$dir"; die "createdb failed"; }

  url="postgres://postgres@127.0.0.1:$port/$DB_NAME"
  {
    echo "dir=$dir"
    echo "data_dir=$dir/data"
    echo "pid_file=$dir/data/postmaster.pid"
    echo "bindir=$bindir"
    echo "port=$port"
    echo "socket_dir=$dir/sock"
    echo "url=$url"
  } >"$dir/info"
  echo "$dir" >"$(pointer_file "$port")"

  echo "data_dir=$dir/data"
  echo "pid_file=$dir/data/postmaster.pid"
  echo "$url"
}

# Resolves a URL (via the pointer file written at start) or a directory to the cluster's directory.
resolve_dir() {
  local arg=$1 port
  if [[ "$arg" == postgres://* || "$arg" == postgresql://* ]]; then
    port=$(sed -E 's#^[a-z]+://([^@/]*@)?[^:/]+:([0-9]+).*#\2#' <<<"$arg")
    [[ "$port" =~ ^[0-9]+$ ]] || die "no port in $arg"
    [ -f "$(pointer_file "$port")" ] || die "no test cluster known on port $port"
    cat "$(pointer_file "$port")"
  elif [ -f "$arg/$MARKER" ]; then
    echo "$arg"
  elif [ -f "$arg/../$MARKER" ]; then
    (cd "$arg/.." && pwd)
  else
    die "$arg is neither a test cluster URL nor a directory made by this script"
  fi
}

cmd_stop() {
  [ $# -ge 1 ] || die "usage: $0 stop URL|DIR"
  local dir bindir pid port
  dir=$(resolve_dir "$1")
  [ -f "$dir/$MARKER" ] || die "$dir was not made by this script; refusing to touch it"
  bindir=$(sed -n 's/^bindir=//p' "$dir/info" 2>/dev/null || true)
  [ -n "$bindir" ] || bindir=$(find_bindir)
  port=$(sed -n 's/^port=//p' "$dir/info" 2>/dev/null || true)

  if [ -f "$dir/data/postmaster.pid" ]; then
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
      # pg_ctl failed: stop that postmaster by its own PID, nothing else.
      if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  fi
  [ -n "$port" ] && rm -f "$(pointer_file "$port")"
  rm -rf "$dir"
  echo "stopped and removed $dir"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) shift; cmd_stop "$@" ;;
  *) echo "usage: $0 start | stop URL|DIR" >&2; exit 2 ;;
esac

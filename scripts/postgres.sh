#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: initdb + pg_ctl in a folder of its own, as an
# unprivileged user, listening on 127.0.0.1 only, trust auth. Never the system service.
#
#   scripts/postgres.sh start [DIR]   start a cluster in DIR (made with mktemp when absent) and
#                                     print its postgres:// URL on stdout; on a DIR whose cluster
#                                     already runs, print that URL again
#   scripts/postgres.sh stop DIR      stop the cluster in DIR and remove DIR (nothing there: no-op)
#   scripts/postgres.sh bindir        print the folder of initdb/pg_ctl, or exit 1 when missing
#   scripts/postgres.sh install       install the server binaries when they are missing (root)
#
# Typical use, with a trap:
#   dir=$(mktemp -d); trap 'scripts/postgres.sh stop "$dir"' EXIT
#   export ALGOREG_TEST_POSTGRES=$(scripts/postgres.sh start "$dir")
#
# When the server binaries are missing and we are root, start installs Debian's postgresql
# package (apt-get update + install) without letting it start a system cluster. As root the
# cluster runs as the system user algoreg-pg (created when missing); otherwise as the caller.
# The cluster runs with fsync off (tests do not survive a power loss anyway); set
# ALGOREG_PG_DURABLE=1 to keep PostgreSQL's durable defaults, e.g. for benchmarks.
# Everything but the URL goes to stderr.
set -euo pipefail

pg_user=algoreg-pg
db_name=algoreg
db_role=algoreg

say() { echo "postgres.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# bindir prints the folder holding initdb and pg_ctl: PATH first, then Debian's newest
# /usr/lib/postgresql/<ver>/bin.
bindir() {
  local p
  if p=$(command -v initdb 2>/dev/null) && [ -x "$(dirname "$(readlink -f "$p")")/pg_ctl" ]; then
    dirname "$(readlink -f "$p")"
    return 0
  fi
  for p in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$p/initdb" ] && [ -x "$p/pg_ctl" ]; then echo "$p"; return 0; fi
  done
  return 1
}

# install_postgres installs Debian's postgresql package. A policy-rc.d that refuses every
# service start keeps the package from starting its default cluster; any system cluster that
# is online after the install is stopped again. We never use that cluster.
install_postgres() {
  [ "$(id -u)" = 0 ] || die "PostgreSQL server binaries (initdb, pg_ctl) not found, and installing them needs root"
  command -v apt-get >/dev/null || die "PostgreSQL server binaries not found and apt-get is missing"
  say "installing PostgreSQL from Debian's packages (once)"
  local policy=/usr/sbin/policy-rc.d made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
  fi
  local ok=1
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 || ok=""
  [ -z "$made_policy" ] || rm -f "$policy"
  [ -n "$ok" ] || die "apt-get install postgresql failed"
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters -h 2>/dev/null | while read -r ver name _port status _rest; do
      if [ "$status" = online ]; then
        say "stopping the system cluster $ver/$name that the package started"
        pg_ctlcluster "$ver" "$name" stop >&2 || true
      fi
    done
  fi
}

# as_owner runs a command as the user who owns the cluster.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u "$pg_user" -- "$@")
  else
    "$@"
  fi
}

ensure_user() {
  [ "$(id -u)" = 0 ] || return 0
  id -u "$pg_user" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$pg_user" \
    || die "useradd $pg_user failed"
}

# free_port prints a TCP port on 127.0.0.1 that nothing answers on. The server may still lose
# a race for it; start retries with another port.
free_port() {
  local port i
  for i in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

url_for() { echo "postgres://$db_role@127.0.0.1:$1/$db_name?sslmode=disable"; }

# running prints the URL of the cluster in $1 when it is up.
running() {
  local dir=$1 bin
  [ -f "$dir/url" ] && [ -f "$dir/data/postmaster.pid" ] || return 1
  bin=$(bindir) || return 1
  as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 || return 1
  cat "$dir/url"
}

cmd_start() {
  local dir=${1:-} bin port url try settings
  if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/algoreg-pg.XXXXXX")
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  if url=$(running "$dir"); then echo "$url"; return 0; fi
  if [ -n "$(ls -A "$dir")" ]; then
    die "$dir is not empty and holds no running cluster; give an empty or new folder"
  fi
  bin=$(bindir) || { install_postgres; bin=$(bindir) || die "PostgreSQL installed but initdb/pg_ctl not found"; }
  ensure_user
  if [ "$(id -u)" = 0 ]; then
    chown "$pg_user" "$dir"
    runuser -u "$pg_user" -- test -w "$dir" || die "$pg_user cannot write $dir (a parent folder is closed to it); use a folder under /tmp"
  fi
  chmod 700 "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U "$db_role" --auth=trust --no-locale -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed (log above)"; }
  settings="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c max_connections=200"
  if [ "${ALGOREG_PG_DURABLE:-}" != 1 ]; then
    settings="$settings -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  for try in 1 2 3 4 5; do
    port=$(free_port) || die "no free TCP port found on 127.0.0.1"
    # Empty the log of a failed try (truncating keeps the owner; creating it as root would not).
    [ ! -f "$dir/server.log" ] || : >"$dir/server.log"
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -s \
      -o "-p $port $settings" start >/dev/null 2>&1; then
      break
    fi
    port=""
    grep -q 'could not bind\|could not create listen socket' "$dir/server.log" 2>/dev/null \
      || { tail -20 "$dir/server.log" >&2 2>/dev/null; die "pg_ctl start failed (server log above)"; }
  done
  [ -n "$port" ] || die "pg_ctl start failed: no port could be bound after 5 tries"
  local i
  for i in $(seq 1 100); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    [ "$i" -lt 100 ] || die "the server on port $port did not become ready"
    sleep 0.1
  done
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$db_role" "$db_name" \
    || die "createdb $db_name failed"
  url=$(url_for "$port")
  echo "$url" >"$dir/url"
  say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') in $dir on 127.0.0.1:$port; stop it with: scripts/postgres.sh stop $dir"
  echo "$url"
}

cmd_stop() {
  local dir=${1:-} bin
  [ -n "$dir" ] || die "usage: postgres.sh stop DIR"
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ] && bin=$(bindir); then
    local pid i
    pid=$(head -1 "$dir/data/postmaster.pid")
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -s stop >/dev/null 2>&1 \
      || say "pg_ctl stop in $dir failed; removing the folder anyway"
    # pg_ctl returns once the pid file is gone; wait for the postmaster itself to exit (a
    # zombie has exited: its reaper is init, which may take its time).
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && break
      sleep 0.1
    done
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  bindir) bindir ;;
  install) bindir >/dev/null || install_postgres ;;
  *) die "usage: postgres.sh start [DIR] | stop DIR | bindir | install" ;;
esac

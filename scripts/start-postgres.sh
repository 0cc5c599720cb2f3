#!/usr/bin/env bash
# Start a private, throwaway PostgreSQL server for the tests (Debian's `postgresql`).
#
#   scripts/start-postgres.sh          # fresh cluster, started in the background
#   scripts/start-postgres.sh stop     # stop the cluster this script started (pg_ctl stop -m fast)
#
# Installs `postgresql` with apt-get when no initdb is found. The cluster lives under the
# git-ignored .test-artifacts/pg/PORT/ (new every run; one per port, so runs on different
# ports do not disturb each other), runs as the `postgres` system user when
# started by root (PostgreSQL refuses to run as root), listens on 127.0.0.1 only, port
# GATEHOUSE_TEST_POSTGRES_PORT (default 55432), and keeps its unix socket in its data dir.
# It creates the databases `gatehouse_test` and `gatehouse_refresh_test` (the token refresh
# tests' own, out of reach of the conformance suite's wholesale deletes), owned by the user
# `gatehouse` (random password, SCRAM over TCP). Prints and writes to .test-artifacts/pg/PORT/env:
#
#   export GATEHOUSE_TEST_POSTGRES_URL=postgres://gatehouse:PASSWORD@127.0.0.1:55432/gatehouse_test
#   export GATEHOUSE_TEST_POSTGRES_REFRESH_URL=postgres://gatehouse:PASSWORD@127.0.0.1:55432/gatehouse_refresh_test
#
# so callers can `source .test-artifacts/pg/55432/env`. Log: .test-artifacts/pg/PORT/postgres.log.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${GATEHOUSE_TEST_POSTGRES_PORT:-55432}
[[ $port =~ ^[0-9]+$ ]] || { echo "start-postgres: bad GATEHOUSE_TEST_POSTGRES_PORT '$port'" >&2; exit 2; }
pg_root="$root/.test-artifacts/pg/$port"
state_file="$pg_root/state"   # DATA_DIR and PG_BIN of the running cluster
env_file="$pg_root/env"
log_file="$pg_root/postgres.log"

say() { echo "start-postgres: $*"; }

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if ((EUID == 0)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# The newest Debian PostgreSQL bin dir that has initdb, or nothing.
find_pg_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 0
}

stop_recorded() {
    [[ -f $state_file ]] || return 0
    local DATA_DIR="" PG_BIN=""
    # shellcheck disable=SC1090
    source "$state_file"
    if [[ -n $DATA_DIR && -n $PG_BIN && -f $DATA_DIR/postmaster.pid ]]; then
        say "stopping the cluster in $DATA_DIR"
        as_owner "$PG_BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t 30 stop || true
    fi
    rm -f "$state_file" "$env_file"
}

if [[ ${1:-start} == stop ]]; then
    stop_recorded
    exit 0
fi
[[ ${1:-start} == start ]] || { echo "usage: $0 [start|stop]" >&2; exit 2; }

# --- install when missing ---
pg_bin=$(find_pg_bin)
if [[ -z $pg_bin ]]; then
    ((EUID == 0)) || { echo "start-postgres: PostgreSQL is not installed and we are not root" >&2; exit 1; }
    say "installing postgresql (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends postgresql
    pg_bin=$(find_pg_bin)
    [[ -n $pg_bin ]] || { echo "start-postgres: no initdb under /usr/lib/postgresql/*/bin after installing" >&2; exit 1; }
fi
say "using $pg_bin"

# --- the non-root owner ---
if ((EUID == 0)) && ! id -u postgres >/dev/null 2>&1; then
    say "creating the postgres system user"
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

# --- a fresh data directory ---
stop_recorded
mkdir -p "$pg_root"
data_dir="$pg_root/data"
if ((EUID == 0)) && ! runuser -u postgres -- test -x "$pg_root"; then
    # The checkout sits where `postgres` cannot reach (say /root/…): keep the cluster in /tmp.
    data_dir="${TMPDIR:-/tmp}/gatehouse-test-pg-$port"
    say "the checkout is not reachable by the postgres user; using $data_dir"
fi
# A socket path longer than ~100 bytes is refused by the kernel: then use a short temp dir.
socket_dir="$data_dir"
if ((${#socket_dir} > 90)); then
    socket_dir=$(mktemp -d /tmp/ghpg.XXXXXX)
fi
rm -rf "$data_dir"
mkdir -p "$data_dir"
if ((EUID == 0)); then
    chown postgres: "$data_dir" "$socket_dir"
fi
chmod 700 "$data_dir"

password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
as_owner "$pg_bin/initdb" -D "$data_dir" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 --no-instructions >"$pg_root/initdb.log" 2>&1 \
    || { cat "$pg_root/initdb.log" >&2; exit 1; }

# Only the unix socket (trust, for this script) and 127.0.0.1 (password) are accepted.
as_owner tee "$data_dir/pg_hba.conf" >/dev/null <<EOF
local   all  all                 trust
host    all  all  127.0.0.1/32   scram-sha-256
EOF
as_owner tee -a "$data_dir/postgresql.conf" >/dev/null <<EOF

# --- gatehouse test cluster ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$socket_dir'
max_connections = 200
password_encryption = 'scram-sha-256'
# Throwaway data: trade durability for speed.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

cat >"$state_file" <<EOF
DATA_DIR='$data_dir'
PG_BIN='$pg_bin'
EOF

: >"$log_file"
if ((EUID == 0)); then chown postgres: "$log_file"; fi
if ! as_owner "$pg_bin/pg_ctl" -D "$data_dir" -l "$log_file" -w -t 60 start >/dev/null; then
    echo "start-postgres: the server did not start; log:" >&2
    tail -n 40 "$log_file" >&2
    exit 1
fi

psql_admin() { as_owner "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$socket_dir" -p "$port" -U postgres "$@"; }
# The password is hex, so it is a safe literal; it goes through stdin, not the command line.
psql_admin -d postgres <<EOF
CREATE ROLE gatehouse LOGIN PASSWORD '$password';
CREATE DATABASE gatehouse_test OWNER gatehouse;
CREATE DATABASE gatehouse_refresh_test OWNER gatehouse;
EOF

base="postgres://gatehouse:$password@127.0.0.1:$port"
: >"$env_file"
chmod 600 "$env_file"   # it holds the password
{
    printf 'export GATEHOUSE_TEST_POSTGRES_URL=%s\n' "$base/gatehouse_test"
    printf 'export GATEHOUSE_TEST_POSTGRES_REFRESH_URL=%s\n' "$base/gatehouse_refresh_test"
} >>"$env_file"
say "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data $data_dir)"
cat "$env_file"

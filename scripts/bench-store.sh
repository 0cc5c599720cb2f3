#!/usr/bin/env bash
# Release-mode session store benchmark: load latency (cached and uncached) over a large stored
# set, create and updateTokens throughput, and memory per cached session — SQLite and
# PostgreSQL side by side, memory driver as reference. Extra arguments go to the benchmark
# (--sessions N --loads N --populate-seconds S --only sqlite,postgres,memory ...; --help).
#
# It starts its own throwaway PostgreSQL on port 55632 (GATEHOUSE_BENCH_POSTGRES_PORT), away
# from the test suites' 55432/55532, and stops it on exit. Databases live under the git-ignored
# .test-artifacts/bench/ (SQLite file) and .test-artifacts/pg/55632/ (cluster). A full run
# (1,000,000 sessions per backend) writes about 17 GB (SQLite ~9 GB, PostgreSQL ~7.5 GB),
# removed on exit unless GATEHOUSE_BENCH_KEEP=1. The release build lives in .build-release so
# it never disturbs the debug .build.
set -euo pipefail
cd "$(dirname "$0")/.."

GATEHOUSE_BENCHMARKS=1 swift build -c release --scratch-path .build-release --product StoreBenchmark

port=${GATEHOUSE_BENCH_POSTGRES_PORT:-55632}
mkdir -p .test-artifacts/bench
clean_up() {
    GATEHOUSE_TEST_POSTGRES_PORT=$port bash scripts/start-postgres.sh stop >/dev/null 2>&1 || true
    if [[ -z ${GATEHOUSE_BENCH_KEEP:-} ]]; then
        rm -rf ".test-artifacts/pg/$port/data"
        rm -f .test-artifacts/bench/sessions.sqlite .test-artifacts/bench/sessions.sqlite-wal \
            .test-artifacts/bench/sessions.sqlite-shm
    fi
}
trap clean_up EXIT
log=.test-artifacts/bench/start-postgres.log
GATEHOUSE_TEST_POSTGRES_PORT=$port bash scripts/start-postgres.sh >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
grep '^start-postgres: PostgreSQL' "$log" || true   # the env lines hold the password: not echoed
# shellcheck disable=SC1090
source ".test-artifacts/pg/$port/env"
export GATEHOUSE_TEST_POSTGRES_URL

.build-release/release/StoreBenchmark "$@"

#!/usr/bin/env bash
# Runs the differential proxy fuzzer (Tests/GatehouseGatewayTests/ProxyFuzz, its test in
# Interop/ProxyFuzzTests.swift, built with GATEHOUSE_INTEROP_TESTS=1) for as long as
# you say, with a random seed, over both proxy paths, and prints the seed of any failure.
#
#   scripts/fuzz-proxy.sh [SECONDS]     default 300; split between the direct path and the router
#
# Environment: GATEHOUSE_FUZZ_SEED (reuse a seed instead of a random one),
# GATEHOUSE_FUZZ_WORKERS (concurrent clients, default 16). Needs the test servers
# (scripts/test.sh starts them; /tmp/gatehouse-test-env.sh is sourced when present) and a
# debug build with tests (`swift build --build-tests`), which it makes when missing.
#
# A failure prints each violated invariant with the case number and the exact client bytes;
# rerun one case with GATEHOUSE_FUZZ_SEED=<seed> GATEHOUSE_FUZZ_CASE=<case>. If the gateway
# crashes the test process, the cases in flight are listed from the trace (the last lines
# of the log).
set -euo pipefail

seconds="${1:-300}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 2 ]; then
    echo "usage: $0 [SECONDS]  (a whole number of seconds, at least 2)" >&2
    exit 2
fi
seed="${GATEHOUSE_FUZZ_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}"

cd "$(dirname "$0")/.."
if [ -f /tmp/gatehouse-test-env.sh ]; then
    # shellcheck disable=SC1091
    source /tmp/gatehouse-test-env.sh
fi
export GATEHOUSE_INTEROP_TESTS=1
if ! swift build --build-tests >/tmp/gatehouse-fuzz-build.log 2>&1; then
    grep -E "error" /tmp/gatehouse-fuzz-build.log | head -20
    echo "proxy fuzz: the build failed (/tmp/gatehouse-fuzz-build.log)" >&2
    exit 2
fi

log="$(mktemp -t gatehouse-fuzz.XXXXXX)"
trace="$log.trace"
echo "proxy fuzz: seed $seed, $seconds s (log: $log)"
status=0
GATEHOUSE_FUZZ_SEED="$seed" GATEHOUSE_FUZZ_SECONDS="$seconds" GATEHOUSE_FUZZ_TRACE=1 \
    swift test --skip-build --filter 'ProxyFuzzTests' >"$log" 2>"$trace" || status=$?

# swift test passes the trace (the test's standard error) on with the rest: keep it out.
grep -E '^proxy fuzz' "$log" | grep -v -E ': case [0-9]+ ' || true
if [ "$status" -eq 0 ]; then
    echo "proxy fuzz: passed, seed $seed"
    rm -f "$log" "$trace"
    exit 0
fi
grep -E '^(FUZZ FAILURE|  case|    client bytes|    reproduce)' "$log" || true
if grep -q -E 'Fatal error|Program crashed' "$log" "$trace"; then
    echo "proxy fuzz: the test process CRASHED (the gateway runs in it):"
    grep -h -m3 -E 'Fatal error|Program crashed' "$log" "$trace" || true
    echo "proxy fuzz: cases in flight (last started):"
    cat "$log" "$trace" | grep -E '^proxy fuzz \[.*: case [0-9]+ ' | tail -n 20 | cut -c1-400
fi
echo "proxy fuzz: FAILED, seed $seed (rerun: GATEHOUSE_FUZZ_SEED=$seed scripts/fuzz-proxy.sh $seconds)"
exit 1

#!/usr/bin/env bash
# Release-mode ID-token validation benchmark: full IDTokenVerifier.verify against jwt-kit's raw
# signature check, RS256 and ES256. Extra arguments go to the benchmark (--rounds N --seconds S).
# The release build lives in .build-release so it never disturbs the debug .build.
set -euo pipefail
cd "$(dirname "$0")/.."
GATEHOUSE_BENCHMARKS=1 swift build -c release --scratch-path .build-release --product IDTokenBenchmark
exec .build-release/release/IDTokenBenchmark "$@"

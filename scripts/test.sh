#!/usr/bin/env bash
# Run every test: starts the test OpenID Connect providers (scripts/start-idp.sh,
# scripts/idpy/start.sh) and a private PostgreSQL server (scripts/start-postgres.sh), then builds
# and runs the Swift test suite against them, the interop tests included
# (GATEHOUSE_INTEROP_TESTS=1: each test target's Interop/ folder, see Package.swift), then the
# real-browser tests (Tests/browser/, pytest + Selenium + headless Chromium) against the
# gatehouse executable that build made. Plain `swift test` runs only the tests that need no server.
#
#   scripts/test.sh [swift test arguments, e.g. --filter Interop]
#
# Environment: GATEHOUSE_IDPY_PORT (default 9014, idpyoidc), GATEHOUSE_IDP_PORT (default 9010, rotating refresh tokens) and
# GATEHOUSE_IDP_NOROTATE_PORT (default 9011, non-rotating), GATEHOUSE_IDP_REFRESH_PORT (default
# 9012, rotating, reserved for the refresh-counting tests), GATEHOUSE_TEST_POSTGRES_PORT
# (default 55432).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

section() { printf '\n==== %s ====\n' "$*"; }

rotate_port=${GATEHOUSE_IDP_PORT:-9010}
norotate_port=${GATEHOUSE_IDP_NOROTATE_PORT:-9011}
refresh_port=${GATEHOUSE_IDP_REFRESH_PORT:-9012}
partner_port=${GATEHOUSE_IDP_PARTNER_PORT:-9013}
idpy_port=${GATEHOUSE_IDPY_PORT:-9014}
postgres_port=${GATEHOUSE_TEST_POSTGRES_PORT:-55432}
artifacts="$root/.test-artifacts"
mkdir -p "$artifacts"

started_pids=()
postgres_started=
cleanup() {
    if [[ -n $postgres_started ]]; then
        echo "stopping test PostgreSQL"
        bash "$root/scripts/start-postgres.sh" stop || true
    fi
    echo "stopping test identity providers: ${started_pids[*]:-none}"
    local pid
    for pid in "${started_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${started_pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    rm -f "$artifacts/idp-$rotate_port.pid" "$artifacts/idp-$norotate_port.pid" "$artifacts/idp-$refresh_port.pid" \
        "$artifacts/idp-$partner_port.pid" "$artifacts/idpy-$idpy_port.pid"
}
trap cleanup EXIT

section "System packages"
packages=(python3 python3-venv libsqlite3-dev nginx chromium chromium-driver)
missing=()
for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "present: ${packages[*]}"
fi

section "Test identity providers (django-oauth-toolkit)"
start_idp() {
    local port=$1 rotate=$2
    bash scripts/start-idp.sh "$port" "$rotate"
    started_pids+=("$(cat "$artifacts/idp-$port.pid")")
}
start_idp "$rotate_port" true
start_idp "$norotate_port" false
# A rotating instance used only by the refresh-counting tests: its access log counts their
# token requests and nobody else's.
start_idp "$refresh_port" true
# A second provider with other people (carol, erin), for the multi-provider tests.
IDP_USERS=partner start_idp "$partner_port" true
export GATEHOUSE_TEST_IDP_PARTNER_ISSUER="http://127.0.0.1:$partner_port/o"
export GATEHOUSE_TEST_IDP_REFRESH_ISSUER="http://127.0.0.1:$refresh_port/o"
export GATEHOUSE_TEST_IDP_REFRESH_LOG="$artifacts/idp-$refresh_port.log"
export GATEHOUSE_TEST_IDP_ISSUER="http://127.0.0.1:$rotate_port/o"
export GATEHOUSE_TEST_IDP_NOROTATE_ISSUER="http://127.0.0.1:$norotate_port/o"
echo "GATEHOUSE_TEST_IDP_ISSUER=$GATEHOUSE_TEST_IDP_ISSUER"
echo "GATEHOUSE_TEST_IDP_NOROTATE_ISSUER=$GATEHOUSE_TEST_IDP_NOROTATE_ISSUER"

section "Test identity provider (idpyoidc: PAR and DPoP, an independent implementation)"
bash scripts/idpy/start.sh "$idpy_port"
started_pids+=("$(cat "$artifacts/idpy-$idpy_port.pid")")
export GATEHOUSE_TEST_IDPY_ISSUER="http://127.0.0.1:$idpy_port"
echo "GATEHOUSE_TEST_IDPY_ISSUER=$GATEHOUSE_TEST_IDPY_ISSUER"

# pip_requirements FILE STAMP: installs FILE's pins into .venv/ (which start-idp.sh made),
# again only when they change (STAMP keeps the last installed copy).
pip_requirements() {
    local requirements=$1 stamp=$2
    if ! cmp -s "$requirements" "$stamp"; then
        echo "installing: $(grep -v '^#' "$requirements" | tr '\n' ' ')"
        "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$stamp"
    else
        echo "present: $(grep -v '^#' "$requirements" | tr '\n' ' ')"
    fi
}

section "Browser test packages (Tests/browser/requirements.txt)"
pip_requirements "$root/Tests/browser/requirements.txt" "$root/.venv/.browser-requirements"

section "DPoP resource server packages (scripts/dpop-rs/requirements.txt)"
pip_requirements "$root/scripts/dpop-rs/requirements.txt" "$root/.venv/.dpop-rs-requirements"

section "Test PostgreSQL"
postgres_started=1
bash scripts/start-postgres.sh
# shellcheck disable=SC1091
source "$artifacts/pg/$postgres_port/env"
export GATEHOUSE_TEST_POSTGRES_URL GATEHOUSE_TEST_POSTGRES_REFRESH_URL

section "swift build --build-tests (GATEHOUSE_INTEROP_TESTS=1)"
# The interop tests join the package: from here on a missing server fails them.
export GATEHOUSE_INTEROP_TESTS=1
swift build --build-tests

section "swift test $*"
status=0
swift test "$@" || status=$?

section "Browser tests (pytest Tests/browser)"
# Each test starts its own gatehouse processes on free ports and stops them; they use the
# django-oauth-toolkit instance at GATEHOUSE_TEST_IDP_ISSUER.
browser_status=0
GATEHOUSE_BINARY="$root/.build/debug/gatehouse" "$root/.venv/bin/python" -m pytest Tests/browser -q \
    || browser_status=$?

section "Done (swift test exit status $status, browser tests exit status $browser_status)"
((status == 0)) || exit "$status"
exit "$browser_status"

#!/usr/bin/env bash
# The README's first command: installs what building Gatehouse needs on a fresh Debian machine
# (GRDB links the system SQLite: libsqlite3-dev), then runs `swift run gatehouse demo`.
# Arguments go to the demo (e.g. --access-token-lifetime 2m).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! dpkg -s libsqlite3-dev >/dev/null 2>&1; then
    echo "installing libsqlite3-dev (needed to build the SQLite store)"
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libsqlite3-dev
fi
exec swift run gatehouse demo "$@"

#!/usr/bin/env bash
# Start a test OpenID Connect provider (django-oauth-toolkit, scripts/idp/) in the background.
#
#   scripts/start-idp.sh PORT ROTATE(true|false) [ACCESS_TOKEN_SECONDS]
#
# IDP_USERS=partner seeds the partner users (carol, erin) instead of alice and bob.
# Issuer: http://127.0.0.1:PORT/o. Creates .venv/ if needed, starts from a fresh
# database, seeds the test users and clients, and waits until discovery answers.
# PID: .test-artifacts/idp-PORT.pid, log: .test-artifacts/idp-PORT.log.
# Stop it with: kill "$(cat .test-artifacts/idp-PORT.pid)"
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 PORT ROTATE(true|false) [ACCESS_TOKEN_SECONDS]" >&2
    exit 2
fi
port=$1
rotate=$2
access_seconds=${3:-3600}
[[ $port =~ ^[0-9]+$ ]] || { echo "start-idp: bad port '$port'" >&2; exit 2; }
[[ $rotate == true || $rotate == false ]] || { echo "start-idp: ROTATE must be true or false" >&2; exit 2; }
[[ $access_seconds =~ ^[0-9]+$ ]] || { echo "start-idp: bad ACCESS_TOKEN_SECONDS" >&2; exit 2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
artifacts="$root/.test-artifacts"
idp_dir="$root/scripts/idp"
requirements="$idp_dir/requirements.txt"
mkdir -p "$artifacts"

# --- virtualenv (idempotent; serialised in case two instances start at once) ---
(
    flock 9
    if [[ ! -x $venv/bin/python ]]; then
        echo "start-idp: creating $venv"
        python3 -m venv "$venv"
    fi
    stamp="$venv/.idp-requirements"
    if ! cmp -s "$requirements" "$stamp"; then
        echo "start-idp: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$stamp"
    fi
) 9>"$artifacts/venv.lock"
python="$venv/bin/python"

# --- stop a previous instance on this port that we recorded ---
pid_file="$artifacts/idp-$port.pid"
log_file="$artifacts/idp-$port.log"
if [[ -f $pid_file ]]; then
    old_pid=$(cat "$pid_file")
    if [[ $old_pid =~ ^[0-9]+$ && -r /proc/$old_pid/cmdline ]] \
        && tr '\0' ' ' <"/proc/$old_pid/cmdline" | grep -q "runserver 127.0.0.1:$port"; then
        echo "start-idp: stopping previous instance (pid $old_pid)"
        kill "$old_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$old_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pid_file"
fi

# --- configuration ---
export DJANGO_SETTINGS_MODULE=idp.settings
export IDP_ISSUER="http://127.0.0.1:$port/o"
export IDP_DB="$artifacts/idp-$port.sqlite3"
export IDP_KEY_FILE="${IDP_KEY_FILE:-$artifacts/idp-$port-key.pem}"
export IDP_ROTATE_REFRESH="$rotate"
export IDP_ACCESS_TOKEN_SECONDS="$access_seconds"
export IDP_CODE_SECONDS="${IDP_CODE_SECONDS:-8}"
export PYTHONUNBUFFERED=1

if [[ ! -s $IDP_KEY_FILE ]]; then
    "$python" - "$IDP_KEY_FILE" <<'PY'
import os, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "wb") as f:
    f.write(pem)
PY
fi

# Fresh state on every start: no tokens or sessions left over from earlier runs.
rm -f "$IDP_DB" "$IDP_DB-wal" "$IDP_DB-shm"
cd "$idp_dir"
"$python" manage.py migrate --no-input -v 0
"$python" manage.py seed

# --- start (the dev server is threaded by default; --noreload keeps one process) ---
: >"$log_file"
nohup "$python" manage.py runserver "127.0.0.1:$port" --noreload >>"$log_file" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pid_file"

discovery="$IDP_ISSUER/.well-known/openid-configuration"
deadline=$((SECONDS + 30))
while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "start-idp: server on port $port exited; log follows" >&2
        cat "$log_file" >&2
        rm -f "$pid_file"
        exit 1
    fi
    if "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2).read()' \
        "$discovery" 2>/dev/null; then
        echo "start-idp: $IDP_ISSUER ready (pid $pid, rotate=$rotate, access token ${access_seconds}s)"
        exit 0
    fi
    sleep 0.5
done
echo "start-idp: $discovery did not answer within 30 s; log follows" >&2
cat "$log_file" >&2
kill "$pid" 2>/dev/null || true
rm -f "$pid_file"
exit 1

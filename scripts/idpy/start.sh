#!/usr/bin/env bash
# Start the idpyoidc test OpenID Provider (scripts/idpy/op.py) in the background.
#
#   scripts/idpy/start.sh PORT
#
# Issuer: http://127.0.0.1:PORT. Creates .venv-idpy/ if needed (its own virtualenv: idpyoidc's
# pins must not meet django-oauth-toolkit's in .venv/), installs requirements.txt when it
# changed, makes fresh state in .test-artifacts/idpy-PORT/ (the provider's keys, and the test
# clients' private keys client-es256.pem and client-rs256.pem, which the interop tests read),
# and waits until discovery answers.
# PID: .test-artifacts/idpy-PORT.pid, log: .test-artifacts/idpy-PORT.log.
# Stop it with: kill "$(cat .test-artifacts/idpy-PORT.pid)"
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 PORT" >&2
    exit 2
fi
port=$1
[[ $port =~ ^[0-9]+$ ]] || { echo "idpy: bad port '$port'" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv="$root/.venv-idpy"
artifacts="$root/.test-artifacts"
requirements="$here/requirements.txt"
mkdir -p "$artifacts"

# --- virtualenv (idempotent; serialised in case two instances start at once) ---
(
    flock 9
    if [[ ! -x $venv/bin/python ]]; then
        echo "idpy: creating $venv"
        python3 -m venv "$venv"
    fi
    stamp="$venv/.idpy-requirements"
    if ! cmp -s "$requirements" "$stamp"; then
        echo "idpy: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$stamp"
    fi
) 9>"$artifacts/venv-idpy.lock"
python="$venv/bin/python"

# --- stop a previous instance on this port that we recorded ---
pid_file="$artifacts/idpy-$port.pid"
log_file="$artifacts/idpy-$port.log"
if [[ -f $pid_file ]]; then
    old_pid=$(cat "$pid_file")
    if [[ $old_pid =~ ^[0-9]+$ && -r /proc/$old_pid/cmdline ]] \
        && tr '\0' ' ' <"/proc/$old_pid/cmdline" | grep -q "op.py $port "; then
        echo "idpy: stopping previous instance (pid $old_pid)"
        kill "$old_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$old_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pid_file"
fi

# --- fresh state: provider keys (idpyoidc writes them on start) and the clients' keys ---
state="$artifacts/idpy-$port"
rm -rf "$state"
mkdir -p "$state"
"$python" - "$state" <<'PY'
import os, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

def write(path, key):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)

write(os.path.join(sys.argv[1], "client-es256.pem"), ec.generate_private_key(ec.SECP256R1()))
write(os.path.join(sys.argv[1], "client-rs256.pem"), rsa.generate_private_key(public_exponent=65537, key_size=2048))
PY

# --- start ---
: >"$log_file"
cd "$state"
PYTHONUNBUFFERED=1 nohup "$python" "$here/op.py" "$port" "$state" >>"$log_file" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pid_file"

issuer="http://127.0.0.1:$port"
discovery="$issuer/.well-known/openid-configuration"
deadline=$((SECONDS + 30))
while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "idpy: server on port $port exited; log follows" >&2
        cat "$log_file" >&2
        rm -f "$pid_file"
        exit 1
    fi
    if "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2).read()' \
        "$discovery" 2>/dev/null; then
        echo "idpy: $issuer ready (pid $pid)"
        exit 0
    fi
    sleep 0.5
done
echo "idpy: $discovery did not answer within 30 s; log follows" >&2
cat "$log_file" >&2
kill "$pid" 2>/dev/null || true
rm -f "$pid_file"
exit 1

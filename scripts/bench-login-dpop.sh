#!/usr/bin/env bash
# What PAR + DPoP cost a login (issue 13): two release gatehouse gateways against one
# development IdP (`gatehouse dev-idp`), one plain (a redirect with the request in the URL,
# Bearer tokens), one with GATEHOUSE_PAR=always and GATEHOUSE_DPOP=true (one more round trip
# to push the request, an ES256 key per login, a DPoP proof on the token request and on the
# first proxied request). Both relay the token upstream. Each round runs BENCH_LOGINS full
# logins (scripts/bench/login.py: the whole redirect dance with the IdP's login form) through
# each gateway, in alternating order; CPU per login is read from /proc for each gateway and
# for the IdP. Medians of the rounds are printed side by side.
#
#   scripts/bench-login-dpop.sh          (after a release build; see BENCH_GATEHOUSE)
#
# BENCH_GATEHOUSE: the release binary (default .build-current/release/gatehouse, which
# scripts/bench.sh builds from a worktree of HEAD). BENCH_LOGINS (default 200),
# BENCH_LOGIN_CONCURRENCY (8), BENCH_ROUNDS (3). Ports 9410-9413 on 127.0.0.1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=${BENCH_GATEHOUSE:-$root/.build-current/release/gatehouse}
logins=${BENCH_LOGINS:-200}
concurrency=${BENCH_LOGIN_CONCURRENCY:-8}
rounds=${BENCH_ROUNDS:-3}
python=$root/.venv/bin/python
[[ -x $binary ]] || { echo "bench: $binary not built (swift build -c release)" >&2; exit 1; }
[[ -x $python ]] || { echo "bench: $python missing (scripts/start-idp.sh makes .venv)" >&2; exit 1; }

run=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench-dpop.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ -n ${BENCH_KEEP:-} ]] || rm -rf "$run"
}
trap cleanup EXIT

idp_port=9410 plain_port=9411 dpop_port=9412 upstream_port=9413
mkdir -p "$run/www"
echo "<h1>benchmark upstream</h1>" >"$run/www/index.html"
(cd "$run/www" && exec "$python" -m http.server "$upstream_port" --bind 127.0.0.1 >"$run/upstream.log" 2>&1) &
pids+=($!)
"$binary" dev-idp --port "$idp_port" --user "alice:alice-password-1:alice@example.com:Alice" \
    --client-id bench --client-secret bench-secret \
    --redirect-uri "http://127.0.0.1:$plain_port/oauth2/callback" \
    --redirect-uri "http://127.0.0.1:$dpop_port/oauth2/callback" >"$run/idp.log" 2>&1 &
idp_pid=$!
pids+=("$idp_pid")

started_pid=
start_gateway() { # NAME PORT EXTRA_ENV... (sets started_pid)
    local name=$1 port=$2
    shift 2
    env -i PATH="$PATH" HOME="$HOME" \
        GATEHOUSE_LISTEN="127.0.0.1:$port" GATEHOUSE_PUBLIC_URL="http://127.0.0.1:$port" \
        GATEHOUSE_ISSUER="http://127.0.0.1:$idp_port" GATEHOUSE_CLIENT_ID=bench GATEHOUSE_CLIENT_SECRET=bench-secret \
        GATEHOUSE_UPSTREAM="http://127.0.0.1:$upstream_port" GATEHOUSE_PASS_ACCESS_TOKEN=true GATEHOUSE_COOKIE_SECURE=false \
        GATEHOUSE_STORE="sqlite:$run/$name.db" GATEHOUSE_ENCRYPTION_KEYS="$("$binary" keys generate)" \
        GATEHOUSE_LOG_LEVEL=${BENCH_LOG_LEVEL:-warning} "$@" "$binary" serve >"$run/$name.log" 2>&1 &
    started_pid=$!
    pids+=("$started_pid")
}
start_gateway plain "$plain_port"
plain_pid=$started_pid
start_gateway dpop "$dpop_port" GATEHOUSE_PAR=always GATEHOUSE_DPOP=true
dpop_pid=$started_pid
for url in "http://127.0.0.1:$idp_port/.well-known/openid-configuration" \
    "http://127.0.0.1:$plain_port/healthz" "http://127.0.0.1:$dpop_port/healthz"; do
    for _ in $(seq 100); do curl -fs -o /dev/null "$url" && break; sleep 0.1; done
    curl -fs -o /dev/null "$url" || { echo "bench: $url does not answer" >&2; tail -n 20 "$run"/*.log >&2; exit 1; }
done

ticks_per_s=$(getconf CLK_TCK)
cpu_ticks() { # PID: user + system ticks of every thread
    local fields
    fields=$(sed -E 's/^.*\) //' "/proc/$1/stat")
    set -- $fields
    echo $((${12} + ${13}))
}
per_login_ms() { awk -v t="$1" -v hz="$ticks_per_s" -v n="$logins" 'BEGIN { printf "%.2f", t * 1000 / hz / n }'; }

results=$run/results.txt
# One warm-up login each (metadata, keys, connection pools), not counted.
for port in "$plain_port" "$dpop_port"; do
    "$python" "$root/scripts/bench/login.py" cookie "http://127.0.0.1:$port" gatehouse "$run/www/index.html" >/dev/null
done
for ((r = 1; r <= rounds; r++)); do
    order=(plain dpop)
    ((r % 2 == 0)) && order=(dpop plain)
    for who in "${order[@]}"; do
        if [[ $who == plain ]]; then port=$plain_port pid=$plain_pid; else port=$dpop_port pid=$dpop_pid; fi
        gateway_before=$(cpu_ticks "$pid") idp_before=$(cpu_ticks "$idp_pid")
        line=$("$python" "$root/scripts/bench/login.py" many "http://127.0.0.1:$port" gatehouse "$run/www/index.html" \
            "$logins" "$concurrency")
        gateway_ms=$(per_login_ms $(($(cpu_ticks "$pid") - gateway_before)))
        idp_ms=$(per_login_ms $(($(cpu_ticks "$idp_pid") - idp_before)))
        rate=$(echo "$line" | sed -E 's/.*"logins_per_s": ?([0-9.]+).*/\1/')
        failed=$(echo "$line" | sed -E 's/.*"failed": ?([0-9]+).*/\1/')
        echo "round $r $who: $rate logins/s, gateway $gateway_ms ms CPU/login, IdP $idp_ms ms, failed $failed"
        echo "$who $rate $gateway_ms $idp_ms $failed" >>"$results"
    done
done

echo
echo "medians of $rounds rounds, $logins logins each, $concurrency at a time ($(git -C "$root" rev-parse --short HEAD)):"
printf '%-28s %10s %18s %14s\n' "gateway" "logins/s" "gateway CPU/login" "IdP CPU/login"
for who in plain dpop; do
    label=$([[ $who == plain ]] && echo "plain (redirect, Bearer)" || echo "PAR + DPoP")
    median() { grep "^$who " "$results" | awk -v c="$1" '{print $c}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
    printf '%-28s %10s %15s ms %11s ms\n' "$label" "$(median 2)" "$(median 3)" "$(median 4)"
done
awk '$5 != 0 { bad = 1 } END { exit bad }' "$results" || { echo "bench: some logins failed" >&2; exit 1; }

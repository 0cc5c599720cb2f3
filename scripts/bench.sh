#!/usr/bin/env bash
# Gateway benchmark (issue 4): in one run, on 127.0.0.1 only, side by side
#
#   upstream   nginx serving a 1 KiB static file, directly
#   nginx      nginx as a plain reverse proxy to it (keep-alive upstream): the practical limit
#   apache     Apache httpd 2.4 (mpm_event) + mod_auth_openidc, holding a session
#              (server-cache sessions in shm), ProxyPass to the upstream
#   gatehouse  `gatehouse serve` (release build, SQLite store), holding a session
#   gatehouse-baseline
#              the same, built from BENCH_BASELINE (the commit before the first security fix
#              of issue 10) in a git worktree (.test-artifacts/bench/baseline-src, scratch path
#              .build-baseline): same configuration, its own port, store and session
#
# both relying parties signed in against the same django-oauth-toolkit IdP
# (scripts/start-idp.sh, port 9310) by a scripted browser (scripts/bench/login.py).
#
# Measures, interleaving the contenders in every round so all see the same conditions:
#   1. peak:  wrk -t2 -c64 -d10s with the session cookie: req/s, p50, p99, and the CPU each
#             server process used per request (/proc/PID/stat utime + stime over the wrk run)
#   2. half:  every contender at the same fixed rate = half of gatehouse's median peak
#             (wrk with a pacing Lua script, scripts/bench/paced.lua, -c32): achieved rate,
#             p50/p99, and p99 "added" over the upstream alone at that rate
#   3. c8:    plain closed-loop wrk -t2 -c8 (the low-concurrency approximation), for reference
#   4. logins/s: BENCH_LOGINS full logins (whole redirect dance), BENCH_LOGIN_CONCURRENCY at
#             a time, for gatehouse and mod_auth_openidc; with the CPU each login cost the
#             IdP, the relying party and the scripted browser, and each hop's median time.
#             The IdP sets TCP_NODELAY as production servers do (scripts/idp/idp/apps.py);
#             IDP_DEV_SERVER_SOCKETS=true keeps Django's development-server default
#             (Nagle on), whose 40 ms stalls on kept-alive connections then dominate.
# then prints a table, the ratios and the targets, and gatehouse against its baseline build
# (peak and half-load phases): median req/s and CPU per request, ratio current / baseline, and
# PASS/FAIL of issue 10's rule (req/s at least 95 %, CPU per request at most 105 % of the
# baseline's, peak phase; the script exits 1 on FAIL, after the report). Diagnostics, not in
# the ratios: the same binary with GATEHOUSE_DIRECT_PROXY=false holding its own session (peak
# phase: every request through the router, the baseline of the direct path); system calls per
# request (strace -c, separate runs); and a perf profile of gatehouse under wrk -c64 (separate
# run). Everything started here is stopped by PID on exit. Configs, logs, raw wrk output, strace and perf data:
# .test-artifacts/bench/run/.
#
# Environment (all optional): BENCH_ROUNDS (3), BENCH_DURATION (10s), BENCH_LOGINS (300),
# BENCH_LOGIN_CONCURRENCY (8), BENCH_LOGIN_ROUNDS (3), BENCH_PERF (1 = strace counts and perf
# profile when those tools work), BENCH_DIAG (1 = the router-path gatehouse row),
# BENCH_ROUTES (1 = the "20 routes" gatehouse row in the peak phase: 3 providers and 19 routes
# the requests pass over, then the catch-all; its ratio to the one-route gatehouse is reported),
# BENCH_LOGINS_ONLY (1 = only phase 4, the logins),
# BENCH_SKIP_BUILD (1 = use the existing release binaries), BENCH_PORT_BASE (9310: IdP,
# +10 upstream, +11 nginx, +12 gatehouse, +13 apache, +14 router-path gatehouse,
# +15 baseline gatehouse),
# BENCH_BASELINE (a commit; default the parent of the first commit whose message starts with
# "Security fix: no request the gateway did not admit", else 5158695; none = no baseline),
# BENCH_BASELINE_ONLY (1 = quick mode: only the peak rounds of upstream, gatehouse and
# gatehouse-baseline, no Apache, no other phases),
# BENCH_CURRENT (a commit to bench as "gatehouse" instead of the working tree: built in a
# worktree, .test-artifacts/bench/current-src, scratch path .build-current; the shared
# working tree may hold uncommitted edits).
# Needs: wrk, nginx, apache2 + libapache2-mod-auth-openidc, python3-venv (apt-get install -y
# wrk nginx apache2 libapache2-mod-auth-openidc python3-venv).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bench_dir="$root/scripts/bench"
art="$root/.test-artifacts/bench"

rounds=${BENCH_ROUNDS:-3}
duration=${BENCH_DURATION:-10s}
logins=${BENCH_LOGINS:-300}
login_concurrency=${BENCH_LOGIN_CONCURRENCY:-8}
login_rounds=${BENCH_LOGIN_ROUNDS:-3}
want_perf=${BENCH_PERF:-1}
base=${BENCH_PORT_BASE:-9310}
idp_port=$base
up_port=$((base + 10))
nginx_port=$((base + 11))
gh_port=$((base + 12))
ap_port=$((base + 13))
ghp_port=$((base + 14))
ghb_port=$((base + 15))
ghr_port=$((base + 16))
diag=${BENCH_DIAG:-1}
routes=${BENCH_ROUTES:-1}
logins_only=${BENCH_LOGINS_ONLY:-0}
baseline_only=${BENCH_BASELINE_ONLY:-0}
threads=2
connections=64
paced_connections=32

for tool in wrk nginx apache2 curl python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install -y wrk nginx apache2 libapache2-mod-auth-openidc)" >&2; exit 1; }
done
[[ -f /usr/lib/apache2/modules/mod_auth_openidc.so ]] \
    || { echo "bench: mod_auth_openidc is missing (apt-get install -y libapache2-mod-auth-openidc)" >&2; exit 1; }
for port in "$idp_port" "$up_port" "$nginx_port" "$gh_port" "$ap_port" "$ghp_port" "$ghb_port" "$ghr_port"; do
    if ss -Hltn "sport = :$port" | grep -q .; then
        echo "bench: port $port is already in use; set BENCH_PORT_BASE" >&2
        exit 1
    fi
done

# --- which code: the working tree (or BENCH_CURRENT) and the baseline commit ---
# commit_of REV: the full hash of a commit, or nothing.
commit_of() { git rev-parse --verify --quiet "$1^{commit}" 2>/dev/null || true; }
baseline=${BENCH_BASELINE:-}
if [[ -z $baseline ]]; then
    first_fix=$(git log --reverse --format=%H \
        --grep='^Security fix: no request the gateway did not admit' 2>/dev/null | head -n1 || true)
    baseline=5158695
    [[ -n $first_fix ]] && baseline=$(commit_of "$first_fix^")
fi
if [[ $baseline == none ]]; then
    baseline_hash=""
    [[ $baseline_only == 1 ]] && { echo "bench: BENCH_BASELINE_ONLY=1 needs a baseline" >&2; exit 1; }
else
    baseline_hash=$(commit_of "$baseline")
    [[ -n $baseline_hash ]] || { echo "bench: BENCH_BASELINE=$baseline is not a commit here" >&2; exit 1; }
fi
if [[ -n ${BENCH_CURRENT:-} ]]; then
    current_hash=$(commit_of "$BENCH_CURRENT")
    [[ -n $current_hash ]] || { echo "bench: BENCH_CURRENT=$BENCH_CURRENT is not a commit here" >&2; exit 1; }
    current_label=${current_hash:0:7}
else
    current_hash=""
    current_label=$(git rev-parse --short=7 HEAD 2>/dev/null || echo "working tree")
    # Uncommitted edits to what the binary is built from are built too: say so.
    if [[ -n $(git status --porcelain -- Sources Package.swift 2>/dev/null) ]]; then
        current_label="$current_label+uncommitted"
    fi
fi

# worktree_at DIR COMMIT: a detached git worktree of this repository at COMMIT (created, or
# moved there), with this tree's Package.resolved so both builds use the same dependencies.
worktree_at() {
    local dir=$1 commit=$2
    if [[ ! -e $dir/.git ]]; then
        rm -rf "$dir"
        # --force: a worktree registered here whose directory was deleted is reused.
        git worktree add --quiet --force --detach "$dir" "$commit"
    elif [[ $(git -C "$dir" rev-parse HEAD) != "$commit" ]]; then
        git -C "$dir" checkout --quiet --detach "$commit"
    fi
    if [[ -f $root/Package.resolved ]]; then cp "$root/Package.resolved" "$dir/Package.resolved"; fi
}
# release_build SOURCE_DIR SCRATCH: `swift build -c release` of the gatehouse product.
release_build() {
    echo "bench: swift build -c release --scratch-path ${2#"$root"/} --product gatehouse (in ${1#"$root"/})"
    (cd "$1" && swift build -c release --scratch-path "$2" --product gatehouse 2>&1 | tail -n 3)
}

# --- release builds (no-ops when up to date) ---
if [[ -n $current_hash ]]; then
    gatehouse_scratch="$root/.build-current"
else
    gatehouse_scratch="$root/.build-release"
fi
baseline_scratch="$root/.build-baseline"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    if [[ -n $current_hash ]]; then
        worktree_at "$art/current-src" "$current_hash"
        release_build "$art/current-src" "$gatehouse_scratch"
    else
        release_build "$root" "$gatehouse_scratch"
    fi
    if [[ -n $baseline_hash ]]; then
        worktree_at "$art/baseline-src" "$baseline_hash"
        release_build "$art/baseline-src" "$baseline_scratch"
    fi
fi
gatehouse_bin="$gatehouse_scratch/release/gatehouse"
[[ -x $gatehouse_bin ]] || { echo "bench: $gatehouse_bin not built" >&2; exit 1; }
baseline_bin="$baseline_scratch/release/gatehouse"
if [[ -n $baseline_hash ]]; then
    [[ -x $baseline_bin ]] || { echo "bench: $baseline_bin not built" >&2; exit 1; }
    # BENCH_SKIP_BUILD=1 may find a binary of another commit: the worktree tells which.
    if [[ ${BENCH_SKIP_BUILD:-0} == 1 && -e $art/baseline-src/.git \
        && $(git -C "$art/baseline-src" rev-parse HEAD) != "$baseline_hash" ]]; then
        echo "bench: $baseline_bin was built from another commit than $baseline; build without BENCH_SKIP_BUILD" >&2
        exit 1
    fi
    echo "bench: gatehouse = $current_label, gatehouse-baseline = ${baseline_hash:0:7}"
fi

rm -rf "$art/run"
mkdir -p "$art/run"
run="$art/run"
results="$run/results.txt"
: >"$results"
if [[ $baseline_only == 1 ]]; then
    diag=0
    want_perf=0
    logins_only=0
fi

# --- stop everything we started, by PID ---
pids=()
idp_pid=""
cleanup() {
    local status=$?
    set +e
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    [[ -n $idp_pid ]] && kill "$idp_pid" 2>/dev/null
    for pid in "${pids[@]}" $idp_pid; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# cpu_ticks PID...: user + system CPU clock ticks used so far by these processes (all threads).
cpu_ticks() {
    local pid total=0 fields
    for pid in "$@"; do
        fields=$(sed -E 's/^.*\) //' "/proc/$pid/stat" 2>/dev/null) || continue
        set -- $fields
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}
apache_pids() { echo "$apache_pid" $(pgrep -P "$apache_pid"); }
ticks_per_s=$(getconf CLK_TCK)

wait_http() { # URL SECONDS PID
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        kill -0 "$3" 2>/dev/null || { echo "bench: process for $1 exited" >&2; return 1; }
        curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "bench: $1 did not answer within $2 s" >&2
    return 1
}

# --- 1. upstream + plain reverse proxy: one nginx, two servers ---
mkdir -p "$run/www" "$run/nginx-tmp"
python3 -c 'import sys; sys.stdout.write(("gatehouse benchmark upstream " * 40)[:1023] + "\n")' >"$run/www/index.html"
cat >"$run/nginx.conf" <<EOF
daemon off;
user root;
worker_processes $threads;
pid $run/nginx.pid;
error_log $run/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path $run/nginx-tmp/body;
    proxy_temp_path $run/nginx-tmp/proxy;
    fastcgi_temp_path $run/nginx-tmp/fastcgi;
    uwsgi_temp_path $run/nginx-tmp/uwsgi;
    scgi_temp_path $run/nginx-tmp/scgi;
    default_type text/html;
    server {
        listen 127.0.0.1:$up_port;
        root $run/www;
        index index.html;
    }
    upstream app {
        server 127.0.0.1:$up_port;
        keepalive 128;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
nginx -c "$run/nginx.conf" -e "$run/nginx-error.log" >"$run/nginx.out" 2>&1 &
pids+=($!)
nginx_pid=$!
wait_http "http://127.0.0.1:$up_port/" 10 "${pids[-1]}"
wait_http "http://127.0.0.1:$nginx_port/" 10 "${pids[-1]}"

# --- the IdP ---
echo "bench: starting django-oauth-toolkit on :$idp_port"
IDP_CPU_LOG=true bash scripts/start-idp.sh "$idp_port" true >"$run/start-idp.out" 2>&1 \
    || { cat "$run/start-idp.out" >&2; exit 1; }
idp_pid=$(cat "$root/.test-artifacts/idp-$idp_port.pid")
issuer="http://127.0.0.1:$idp_port/o"

# --- 3. Apache + mod_auth_openidc (not in the quick baseline mode) ---
apache_pid=""
if [[ $baseline_only != 1 ]]; then
mkdir -p "$run/apache/run"
chown www-data:www-data "$run/apache/run" 2>/dev/null || true
mods=/usr/lib/apache2/modules
cat >"$run/apache/httpd.conf" <<EOF
ServerRoot $run/apache
ServerName 127.0.0.1
Listen 127.0.0.1:$ap_port
PidFile $run/apache/httpd.pid
DefaultRuntimeDir $run/apache/run
Mutex file:$run/apache/run default
ErrorLog $run/apache/error.log
LogLevel warn
User www-data
Group www-data

LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_http_module $mods/mod_proxy_http.so
LoadModule auth_openidc_module $mods/mod_auth_openidc.so

# $threads cores: 2 processes x 64 threads up front, up to 256 workers.
StartServers 2
ServerLimit 4
ThreadLimit 64
ThreadsPerChild 64
MinSpareThreads 64
MaxSpareThreads 256
MaxRequestWorkers 256
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
Timeout 30

OIDCProviderMetadataURL $issuer/.well-known/openid-configuration
OIDCClientID gatehouse-test
OIDCClientSecret gatehouse-test-secret
OIDCRedirectURI http://127.0.0.1:$ap_port/oauth2/callback
OIDCCryptoPassphrase gatehouse-bench-passphrase-not-a-secret
OIDCPKCEMethod S256
OIDCScope "openid email profile"
OIDCSessionType server-cache
OIDCCacheType shm
OIDCCacheShmMax 2000
OIDCSessionInactivityTimeout 3600
OIDCRemoteUserClaim sub

ProxyRequests Off
ProxyPass /oauth2/callback !
ProxyPass / http://127.0.0.1:$up_port/
<Location />
    AuthType openid-connect
    Require valid-user
</Location>
EOF
apache2 -f "$run/apache/httpd.conf" -DFOREGROUND >"$run/apache/stdout.log" 2>&1 &
pids+=($!)
apache_pid=$!
# Unauthenticated: 302 to the IdP (curl -f accepts it).
wait_http "http://127.0.0.1:$ap_port/" 15 "${pids[-1]}"
fi

# --- 4. gatehouse ---
keys=$("$gatehouse_bin" keys generate)
# start_gatehouse NAME PORT [VAR=value ...]: a release gatehouse with its own SQLite store,
# started in the background and waited for (/readyz); extra variables are added to its env.
# gatehouse-baseline runs the baseline commit's binary, every other name the current one.
start_gatehouse() {
    local name=$1 port=$2 bin=$gatehouse_bin upstream_var=GATEHOUSE_UPSTREAM="http://127.0.0.1:$up_port"
    local serve=(serve)
    shift 2
    [[ $name == gatehouse-baseline ]] && bin=$baseline_bin
    # gatehouse-routes: the route table of $run/routes.yaml instead of GATEHOUSE_UPSTREAM.
    if [[ $name == gatehouse-routes ]]; then
        upstream_var=BENCH_ROUTES_FILE="$run/routes.yaml"
        serve=(serve --config "$run/routes.yaml")
    fi
    rm -f "$run/$name.db" "$run/$name.db-wal" "$run/$name.db-shm"
    env GATEHOUSE_LISTEN="127.0.0.1:$port" \
        GATEHOUSE_PUBLIC_URL="http://127.0.0.1:$port" \
        GATEHOUSE_ISSUER="$issuer" \
        GATEHOUSE_CLIENT_ID=gatehouse-test \
        GATEHOUSE_CLIENT_SECRET=gatehouse-test-secret \
        "$upstream_var" \
        GATEHOUSE_STORE="sqlite:$run/$name.db" \
        GATEHOUSE_ENCRYPTION_KEYS="$keys" \
        GATEHOUSE_COOKIE_SECURE=false \
        GATEHOUSE_LOG_LEVEL=warning \
        "$@" \
        "$bin" "${serve[@]}" >"$run/$name.log" 2>&1 &
    pids+=($!)
    wait_http "http://127.0.0.1:$port/readyz" 30 "${pids[-1]}"
}
start_gatehouse gatehouse "$gh_port"
gatehouse_pid=${pids[-1]}

# Baseline (peak phase, no ratios): the same binary with the direct path off, so every
# request goes through Hummingbird's router and AsyncHTTPClient (the design before DirectProxy).
router_pid=""
if [[ $diag == 1 ]]; then
    start_gatehouse gatehouse-router "$ghp_port" GATEHOUSE_DIRECT_PROXY=false
    router_pid=${pids[-1]}
fi
# 20 routes and 3 providers (issues 11 and 14): 19 routes that the benchmark's requests pass
# over — path prefixes, hosts, methods, group rules, provider lists — then the catch-all that
# takes them, admitting corp's sessions only, all to the same upstream. The three providers
# share the IdP (only corp signs anyone in here).
routes_pid=""
if [[ $routes == 1 ]]; then
    {
        echo "providers:"
        for id in corp partner dev; do
            echo "  - id: $id"
            echo "    issuer: $issuer"
            echo "    client_id: gatehouse-test"
            echo "    client_secret: gatehouse-test-secret"
        done
        echo "routes:"
        for i in $(seq 1 19); do
            echo "  - name: r$i"
            case $((i % 3)) in
                0) echo "    match: {host: 127.0.0.1, path_prefix: /app$i/v$i, methods: [GET, POST]}" ;;
                1) echo "    match: {path_prefix: /api$i}" ;;
                2) echo "    match: {host: 127.0.0.1, path_prefix: /static$i}" ;;
            esac
            echo "    upstream: http://127.0.0.1:$up_port"
            ((i % 2 == 0)) && echo "    allow: {groups: [group$i]}"
            ((i % 4 == 1)) && echo "    providers: [partner, dev]"
        done
        echo "  - name: app"
        echo "    upstream: http://127.0.0.1:$up_port"
        echo "    providers: [corp]"
    } >"$run/routes.yaml"
    # The file's providers replace the one-provider variables (empty counts as unset).
    start_gatehouse gatehouse-routes "$ghr_port" GATEHOUSE_ISSUER= GATEHOUSE_CLIENT_ID= GATEHOUSE_CLIENT_SECRET=
    routes_pid=${pids[-1]}
fi
# The baseline build: same configuration, its own port and store.
baseline_pid=""
if [[ -n $baseline_hash ]]; then
    start_gatehouse gatehouse-baseline "$ghb_port"
    baseline_pid=${pids[-1]}
fi

# --- sessions: one scripted login each ---
venv_python="$root/.venv/bin/python"
login() { timeout 120 "$venv_python" "$bench_dir/login.py" "$@"; }
gh_cookie=$(login cookie "http://127.0.0.1:$gh_port" gatehouse "$run/www/index.html")
pairs=("$gh_port|$gh_cookie")
ap_cookie=""
if [[ -n $apache_pid ]]; then
    ap_cookie=$(login cookie "http://127.0.0.1:$ap_port" mod_auth_openidc_session "$run/www/index.html")
    pairs+=("$ap_port|$ap_cookie")
fi
if [[ $diag == 1 ]]; then
    ghr_cookie=$(login cookie "http://127.0.0.1:$ghp_port" gatehouse "$run/www/index.html")
    pairs+=("$ghp_port|$ghr_cookie")
fi
if [[ -n $baseline_pid ]]; then
    ghb_cookie=$(login cookie "http://127.0.0.1:$ghb_port" gatehouse "$run/www/index.html")
    pairs+=("$ghb_port|$ghb_cookie")
fi
if [[ -n $routes_pid ]]; then
    ghr20_cookie=$(login cookie "http://127.0.0.1:$ghr_port" gatehouse "$run/www/index.html")
    pairs+=("$ghr_port|$ghr20_cookie")
fi
for pair in "${pairs[@]}"; do
    port=${pair%%|*}
    cookie=${pair#*|}
    curl -fsS --max-time 5 -H "Cookie: $cookie" "http://127.0.0.1:$port/" | cmp -s - "$run/www/index.html" \
        || { echo "bench: the session cookie for :$port does not reach the upstream" >&2; exit 1; }
done
echo "bench: signed in (the sessions of every relying party hold)"

declare -A url cookie_header
url[upstream]="http://127.0.0.1:$up_port/"
url[nginx]="http://127.0.0.1:$nginx_port/"
url[apache]="http://127.0.0.1:$ap_port/"
url[gatehouse]="http://127.0.0.1:$gh_port/"
url[gatehouse-router]="http://127.0.0.1:$ghp_port/"
url[gatehouse-baseline]="http://127.0.0.1:$ghb_port/"
url[gatehouse-routes]="http://127.0.0.1:$ghr_port/"
# The same header for everyone: each server ignores the other's cookie. The router-path and
# baseline gatehouses use the same cookie name as the other, so they get their own instead.
cookie_all="$gh_cookie${ap_cookie:+; $ap_cookie}"
declare -A cookie_of
cookie_of[gatehouse-router]="${ghr_cookie:-}${ap_cookie:+; $ap_cookie}"
cookie_of[gatehouse-baseline]="${ghb_cookie:-}${ap_cookie:+; $ap_cookie}"
cookie_of[gatehouse-routes]="${ghr20_cookie:-}${ap_cookie:+; $ap_cookie}"
contenders=(upstream nginx apache gatehouse)
[[ $baseline_only == 1 ]] && contenders=(upstream gatehouse)
peak_contenders=("${contenders[@]}")
[[ $diag == 1 ]] && peak_contenders+=(gatehouse-router)
[[ -n $baseline_pid ]] && peak_contenders+=(gatehouse-baseline)
[[ -n $routes_pid ]] && peak_contenders+=(gatehouse-routes)
half_contenders=("${contenders[@]}")
[[ -n $baseline_pid ]] && half_contenders+=(gatehouse-baseline)

# server_pids CONTENDER: the processes that serve it, for its CPU per request (nginx's
# workers serve the upstream and the nginx proxy both; Apache's CPU leaves the upstream out).
server_pids() {
    case $1 in
        upstream | nginx) pgrep -P "$nginx_pid" | tr '\n' ' ' ;;
        apache) apache_pids ;;
        gatehouse) echo "$gatehouse_pid" ;;
        gatehouse-router) echo "$router_pid" ;;
        gatehouse-baseline) echo "$baseline_pid" ;;
        gatehouse-routes) echo "$routes_pid" ;;
    esac
}

# wrk_run PHASE CONTENDER ROUND DURATION CONNECTIONS [extra wrk args...]
wrk_run() {
    local phase=$1 who=$2 round=$3 dur=$4 conns=$5
    shift 5
    local out="$run/wrk-$phase-$who-$round.txt"
    # The URL before the extra arguments: those may end with `-- ARGS` for the Lua script.
    local header="Cookie: ${cookie_of[$who]:-$cookie_all}"
    local server cpu_before cpu_ms
    server=$(server_pids "$who")
    cpu_before=$(cpu_ticks $server)
    timeout 120 wrk -t"$threads" -c"$conns" -d"$dur" --latency -H "$header" "${url[$who]}" "$@" >"$out" 2>&1 || true
    # The server's CPU (user + system, every thread) over the wrk run, in ms.
    cpu_ms=$(awk -v t=$(($(cpu_ticks $server) - cpu_before)) -v hz="$ticks_per_s" 'BEGIN { printf "%.0f", t * 1000 / hz }')
    local line
    line=$(grep '^BENCH ' "$out" | head -n1 || true)
    [[ -n $line ]] || { echo "bench: wrk produced no summary for $who; see $out" >&2; exit 1; }
    line=${line#BENCH }
    echo "$phase $who $round ${line%\}},\"cpu_ms\":$cpu_ms}" >>"$results"
}

rotate() { # ROUND NAME...: the names, order rotated by ROUND
    local r=$1
    shift
    local list=("$@") n=$# i
    for ((i = 0; i < n; i++)); do echo "${list[$(((i + r) % n))]}"; done
}

if [[ $logins_only == 1 ]]; then
    rounds=0
    want_perf=0
fi

# --- warm-up ---
for who in "${peak_contenders[@]}"; do
    [[ $logins_only == 1 ]] && break
    wrk_run warmup "$who" 0 3s "$connections" -s "$bench_dir/report.lua"
done

# --- phase 1: peak ---
for ((r = 1; r <= rounds; r++)); do
    for who in $(rotate "$r" "${peak_contenders[@]}"); do
        echo "bench: peak round $r/$rounds: $who"
        wrk_run peak "$who" "$r" "$duration" "$connections" -s "$bench_dir/report.lua"
    done
done

# The quick baseline mode stops after the peak rounds.
if [[ $baseline_only == 1 ]]; then
    later_rounds=0
    login_rounds=0
else
    later_rounds=$rounds
fi

# --- phase 2: everyone at half of gatehouse's median peak ---
((later_rounds > 0)) && half=$(python3 "$bench_dir/summarize.py" "$results" --half-peak)
cat "$bench_dir/paced.lua" "$bench_dir/report.lua" >"$run/paced-report.lua"
for ((r = 1; r <= later_rounds; r++)); do
    for who in $(rotate "$r" "${half_contenders[@]}"); do
        echo "bench: fixed rate $half/s round $r/$rounds: $who"
        wrk_run half "$who" "$r" "$duration" "$paced_connections" -s "$run/paced-report.lua" -- "$half" "$threads"
    done
done

# --- phase 3: closed loop with 8 connections ---
for ((r = 1; r <= later_rounds; r++)); do
    for who in $(rotate "$r" "${contenders[@]}"); do
        echo "bench: -c8 round $r/$rounds: $who"
        wrk_run c8 "$who" "$r" "$duration" 8 -s "$bench_dir/report.lua"
    done
done

# --- phase 4: full logins per second ---
for ((r = 1; r <= login_rounds; r++)); do
    order=(gatehouse apache)
    ((r % 2 == 0)) && order=(apache gatehouse)
    for who in "${order[@]}"; do
        echo "bench: $logins logins ($login_concurrency at a time) round $r/$login_rounds: $who"
        if [[ $who == gatehouse ]]; then rp_pids=$gatehouse_pid; else rp_pids=$(apache_pids); fi
        idp_before=$(cpu_ticks "$idp_pid")
        rp_before=$(cpu_ticks $rp_pids)
        if [[ $who == gatehouse ]]; then
            line=$(login many "http://127.0.0.1:$gh_port" gatehouse "$run/www/index.html" "$logins" "$login_concurrency")
        else
            line=$(login many "http://127.0.0.1:$ap_port" mod_auth_openidc_session "$run/www/index.html" "$logins" "$login_concurrency")
        fi
        # CPU per login (ms) of the IdP and of the relying party, added to login.py's JSON line.
        per_login() { awk -v t="$1" -v hz="$ticks_per_s" -v n="$logins" 'BEGIN { printf "%.1f", t * 1000 / hz / n }'; }
        idp_ms=$(per_login $(($(cpu_ticks "$idp_pid") - idp_before)))
        rp_ms=$(per_login $(($(cpu_ticks $rp_pids) - rp_before)))
        echo "login $who $r ${line%\}},\"idp_cpu_ms\":$idp_ms,\"rp_cpu_ms\":$rp_ms}" >>"$results"
    done
done

# --- optional: where gatehouse spends its time under peak load ---
if [[ $want_perf == 1 ]] && command -v perf >/dev/null \
    && perf record -o /dev/null -q -- true >/dev/null 2>&1; then
    echo "bench: profiling gatehouse under wrk (perf, not counted in the figures)"
    timeout 60 wrk -t"$threads" -c"$connections" -d12s -H "Cookie: $cookie_all" "${url[gatehouse]}" >"$run/wrk-perf.txt" 2>&1 &
    wrk_pid=$!
    sleep 1
    timeout 60 perf record -q -F 999 -g -p "$gatehouse_pid" -o "$run/perf.data" -- sleep 8 >"$run/perf-record.log" 2>&1 || true
    wait "$wrk_pid" || true
    demangle() { if command -v swift-demangle >/dev/null; then swift-demangle --simplified; else swift demangle --simplified; fi; }
    perf report -i "$run/perf.data" --no-children --sort dso,symbol --percent-limit 0.7 --stdio -g none 2>/dev/null \
        | demangle >"$run/perf-self.txt" || true
    perf report -i "$run/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null >"$run/perf-dso.txt" || true
    perf report -i "$run/perf.data" --children --sort symbol --percent-limit 3 --stdio -g none 2>/dev/null \
        | demangle >"$run/perf-children.txt" || true
fi

# --- optional: system calls per proxied request (strace slows gatehouse down; counts only) ---
if [[ $want_perf == 1 ]] && command -v strace >/dev/null; then
    for who in upstream nginx gatehouse; do
        case $who in
            gatehouse) target=$gatehouse_pid ;;
            *) target=$(pgrep -P "${pids[0]}" | tr '\n' ',' | sed 's/,$//') ;; # the nginx workers
        esac
        timeout 30 strace -c -f -o "$run/strace-$who.txt" -p "$target" >/dev/null 2>&1 &
        strace_pid=$!
        sleep 1
        timeout 30 wrk -t"$threads" -c"$connections" -d4s -H "Cookie: $cookie_all" -s "$bench_dir/report.lua" "${url[$who]}" >"$run/wrk-strace-$who.txt" 2>&1 || true
        kill -INT "$strace_pid" 2>/dev/null || true
        wait "$strace_pid" 2>/dev/null || true
        requests=$(grep '^BENCH ' "$run/wrk-strace-$who.txt" | sed -E 's/.*"requests":([0-9]+).*/\1/')
        calls=$(awk '$NF == "total" {print $4}' "$run/strace-$who.txt")
        if [[ -n $requests && -n $calls && $requests -gt 0 ]]; then
            echo "syscalls $who 1 {\"requests\":$requests,\"calls\":$calls}" >>"$results"
        fi
    done
fi

echo
python3 "$bench_dir/summarize.py" "$results" --threads "$threads" --connections "$connections" \
    --paced-connections "$paced_connections" --duration "$duration" --rounds "$rounds" \
    --current "$current_label" --baseline "${baseline_hash:0:7}" | tee "$run/summary.txt"
if [[ -s $run/perf-self.txt ]]; then
    echo
    echo "gatehouse profile under wrk -c$connections (perf, self time, top symbols; full: $run/perf-self.txt):"
    grep -E '^ +[0-9]' "$run/perf-self.txt" | sed -E 's/[ -]+$//' | cut -c1-160 | head -n 30
    echo "by library:"
    grep -E '^ +[0-9]' "$run/perf-dso.txt" | sed -E 's/[ -]+$//' | head -n 8
fi
# Issue 10's rule, after the whole report: the exit status says whether it held.
if [[ -n $baseline_pid ]] && ((rounds > 0)); then
    python3 "$bench_dir/summarize.py" "$results" --baseline-check \
        || { echo "bench: gatehouse regressed against its baseline ${baseline_hash:0:7} (see above)" >&2; exit 1; }
fi

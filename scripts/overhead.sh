#!/usr/bin/env bash
# End-to-end cost of instrumentation: the example server built as is and built with
# `tachometer/off` (every handle write and guard compiled out), each driven by the same
# fixed HTTP load from wrk on loopback, in alternating rounds. Prints requests per second
# and p99 latency per round, their medians, and the ratios instrumented / off.
#
#   scripts/overhead.sh                 # 5 rounds of 10 s per build
#   ROUNDS=7 DURATION=15 CONNECTIONS=64 scripts/overhead.sh
#   SKIP_BUILD=1 scripts/overhead.sh    # reuse the binaries of the last build
#
# The load is GET /v1/sessions/{id} on a session in the server's cache: the cheapest
# handler there is, so instrumentation weighs the most. On a machine with two or more
# cores the server is pinned to CPU 0 with one runtime worker and wrk to CPU 1, so the
# two do not take turns on one core. Needs wrk and curl (apt-get install wrk curl).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${ROUNDS:-5}"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-32}"
warmup="${WARMUP:-2}"
port="${PORT:-39180}"
metrics_port="${METRICS_PORT:-39181}"
target="${CARGO_TARGET_DIR:-target}"
work="$(mktemp -d)"
server_pid=""

cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done

server_cpu=()
load_cpu=()
if [[ "$(nproc)" -ge 2 ]] && command -v taskset >/dev/null; then
    server_cpu=(taskset -c 0)
    load_cpu=(taskset -c 1)
fi

# Both builds share one target directory (only tachometer and what depends on it differ),
# and each binary is kept under target/overhead; SKIP_BUILD=1 reuses the kept ones.
bin="$target/overhead"
build() {
    local name="$1"
    shift
    if [[ -n "${SKIP_BUILD:-}" && -x "$bin/realtime-server-$name" ]]; then
        return 0
    fi
    echo "building $name" >&2
    cargo build --release -q -p realtime-server "$@" >&2
    mkdir -p "$bin"
    cp "$target/release/realtime-server" "$bin/realtime-server-$name"
}
build instrumented
build off --features tachometer/off

start_server() {
    local name="$1" round="$2"
    TOKIO_WORKER_THREADS=1 "${server_cpu[@]}" "$bin/realtime-server-$name" serve \
        --database-url "sqlite://$work/db-$name-$round.sqlite" \
        --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$metrics_port" \
        >"$work/server-$name-$round.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "error: the $name server did not start; its log:" >&2
    cat "$work/server-$name-$round.log" >&2
    exit 1
}

stop_server() {
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

json_id() {
    sed -n 's/.*"id":"\([^"]*\)".*/\1/p'
}

# Prints "<requests per second> <p99 in microseconds> <requests counted by /metrics>".
measure() {
    local name="$1" round="$2"
    start_server "$name" "$round"
    local account session url
    account="$(curl -fsS -H 'content-type: application/json' -d '{"name":"bench"}' \
        "http://127.0.0.1:$port/v1/accounts" | json_id)"
    session="$(curl -fsS -H 'content-type: application/json' \
        -d "{\"account_id\":\"$account\",\"title\":\"bench\"}" \
        "http://127.0.0.1:$port/v1/sessions" | json_id)"
    url="http://127.0.0.1:$port/v1/sessions/$session"
    curl -fsS -o /dev/null "$url"

    "${load_cpu[@]}" wrk -t1 -c"$connections" -d"${warmup}s" "$url" >/dev/null
    "${load_cpu[@]}" wrk -t1 -c"$connections" -d"${duration}s" --latency "$url" \
        >"$work/wrk-$name-$round.txt"
    local counted
    counted="$(curl -fsS "http://127.0.0.1:$metrics_port/metrics" |
        awk '/^http_requests_total\{/ && /route="\/v1\/sessions\/\{id\}"/ { sum += $NF } END { printf "%d", sum }')"
    stop_server

    local rps p99
    rps="$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk-$name-$round.txt")"
    p99="$(awk '$1 == "99%" {
            v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
            if (unit == "us") f = 1; else if (unit == "ms") f = 1000; else if (unit == "s") f = 1000000
            printf "%.1f", v * f }' "$work/wrk-$name-$round.txt")"
    if grep -q "Non-2xx" "$work/wrk-$name-$round.txt"; then
        echo "error: the $name server answered with errors:" >&2
        cat "$work/wrk-$name-$round.txt" >&2
        exit 1
    fi
    echo "$rps $p99 $counted"
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores;" \
    "wrk -t1 -c$connections -d${duration}s, $rounds rounds"
printf '%-6s %-13s %12s %10s %14s\n' round build "requests/s" "p99 µs" "/metrics count"
for round in $(seq 1 "$rounds"); do
    # Alternate which build goes first, so drift in the machine's load hits both alike.
    if (( round % 2 == 1 )); then order=(instrumented off); else order=(off instrumented); fi
    for name in "${order[@]}"; do
        read -r rps p99 counted < <(measure "$name" "$round")
        printf '%-6s %-13s %12s %10s %14s\n' "$round" "$name" "$rps" "$p99" "$counted"
        echo "$rps $p99" >>"$work/results-$name"
    done
done

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

rps_on="$(cut -d' ' -f1 "$work/results-instrumented" | median)"
rps_off="$(cut -d' ' -f1 "$work/results-off" | median)"
p99_on="$(cut -d' ' -f2 "$work/results-instrumented" | median)"
p99_off="$(cut -d' ' -f2 "$work/results-off" | median)"
echo
printf 'median requests/s: instrumented %s, off %s, ratio %.3f (target >= 0.97)\n' \
    "$rps_on" "$rps_off" "$(echo "$rps_on $rps_off" | awk '{ print $1 / $2 }')"
printf 'median p99 µs:     instrumented %s, off %s, ratio %.3f (target <= 1.05)\n' \
    "$p99_on" "$p99_off" "$(echo "$p99_on $p99_off" | awk '{ print $1 / $2 }')"

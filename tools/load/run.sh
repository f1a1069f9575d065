#!/usr/bin/env bash
# The load benchmark: one command on a fresh machine with Rust installed.
#
#   bash tools/load/run.sh                 # prints a Markdown report
#   RESULTS=/tmp/run.md bash tools/load/run.sh   # and keeps a copy there
#
# The figures that matter go into docs/performance.md by hand, with the
# machine and the commit; reports are not kept in the repository.
#
# Builds the release binary and the load tools (tools/load/loadgen.rs, the
# load generator, and tools/mock_green_api.rs, the mock GREEN-API every tool
# shares), starts the mock and the service, and measures, all on 127.0.0.1:
#   1. time from exec to the first 200 on /healthz (STARTUP_RUNS runs);
#   2. latency at a fixed RATE req/s, open loop (latency counted from each
#      request's scheduled time, so a stall is not hidden);
#   3. throughput at saturation, closed loop: valid sends and `help`
#      commands, which take the whole request path except the upstream call
#      (the service runs with GREEN_API_MAX_RPS=1000000, so its own CPU, not
#      the rate ceiling, is what saturates);
#   4. CPU time per request (utime+stime from /proc/<pid>/stat over the
#      measured window, and the scheduler's ns-resolution figure), peak RSS
#      (VmHWM), and errors (non-200s, replies that are not the expected kind,
#      broken connections, upstream calls that differ from requests).
# On a machine with two or more cores the service runs alone on CPU 0 and the
# load generator and the mock share CPU 1.
#
# Tunables (environment): RATE (500), DURATION (30 s per phase), WARMUP (3 s),
# CONNECTIONS (32), STARTUP_RUNS (20), PORT (18080), MOCK_PORT (18081), MAX_RPS (1000000),
# REALTIME (1), NGINX_REFERENCE (1), SKIP_BUILD (0), RESULTS (a file for a copy of
# the report), CONFIG (a name for the service's configuration, in the report),
# SERVICE_ENV_FILE (KEY=value lines exported to the service after the defaults
# below, to measure another configuration: several instances, say; the mock
# answers any instance id and token, so every instance's calls reach it).
# Socket Mode is not driven yet: a phase for it would start a local WebSocket
# server beside the mock and point the service at it the same way.
# Not part of CI; it needs about three minutes after the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

RATE=${RATE:-500}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-32}
STARTUP_RUNS=${STARTUP_RUNS:-20}
PORT=${PORT:-18080}
MOCK_PORT=${MOCK_PORT:-18081}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
CONFIG=${CONFIG:-one instance, HTTP slash commands}

say() { printf '%s\n' "$*" >&2; }

command -v cargo >/dev/null || { say "cargo is needed: install Rust (rustup) first"; exit 1; }
if ! command -v taskset >/dev/null; then
    say "installing util-linux for taskset"
    apt-get update -qq && apt-get install -y -qq util-linux >/dev/null
fi

# Two builds on purpose: building the example in the same cargo call would
# unify dev-dependency features into the measured binary. SKIP_BUILD=1 reuses
# what is there.
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    say "== building: the service (release profile), then the load tools (loadgen profile)"
    cargo build --release --locked --bin slack-sendcontact
    cargo build --profile loadgen --locked --example loadgen --example mock_green_api
fi
SERVICE=$TARGET_DIR/release/slack-sendcontact
LOADGEN=$TARGET_DIR/loadgen/examples/loadgen
MOCK=$TARGET_DIR/loadgen/examples/mock_green_api

# Other work on the machine (a build, a fuzzer) would preempt the service and
# the generator and show up as their latency; as root, both run at real-time
# priority (SCHED_FIFO 50) so they get their core whenever they are runnable.
# The kernel's RT throttling still leaves 5% of each second to everyone else.
RT=""
if [ "${REALTIME:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v chrt >/dev/null; then
    RT="chrt -f 50"
fi
if [ "$(nproc)" -ge 2 ]; then
    PIN_SERVICE="$RT taskset -c 0"
    SERVICE_CPU=0
    PIN_LOAD="$RT taskset -c 1"
    PINNING="service alone on CPU 0; load generator and mock GREEN-API on CPU 1"
else
    PIN_SERVICE="$RT"
    SERVICE_CPU=-
    PIN_LOAD="$RT"
    PINNING="one CPU: service, load generator and mock share it (figures are pessimistic)"
fi
if [ -n "$RT" ]; then PINNING="$PINNING; SCHED_FIFO priority 50 (chrt -f 50)"; else PINNING="$PINNING; normal scheduling"; fi

SECRET=bench-signing-secret-8f742231b10e8888
# The service runs in an empty directory so that no .env is read.
WORKDIR=$(mktemp -d)
export SLACK_SIGNING_SECRET=$SECRET
export GREEN_API_URL=http://127.0.0.1:$MOCK_PORT
export GREEN_API_ID_INSTANCE=1101000001
export GREEN_API_TOKEN_INSTANCE=d4e4276df8044c259611ee08aefc198482b441126d517a466d
export HOST=127.0.0.1 PORT
# The mock has no per-instance limit; a ceiling of 50 would be all that a
# saturation phase measured.
MAX_RPS=${MAX_RPS:-1000000}
export GREEN_API_MAX_RPS=$MAX_RPS
export LOG_FORMAT=text RUST_LOG=warn
# Deferred replies, if any, go to the mock, never off the machine.
export SLACK_RESPONSE_URL_HOSTS=127.0.0.1
unset SLACK_ACK_BUDGET_MS GREEN_API_TIMEOUT_MS SLACK_ALLOWED_TEAM_IDS SLACK_ALLOWED_USER_IDS SLACK_ALLOWED_CHANNEL_IDS
if [ -n "${SERVICE_ENV_FILE:-}" ]; then
    [ -r "$SERVICE_ENV_FILE" ] || { say "SERVICE_ENV_FILE=$SERVICE_ENV_FILE is not readable"; exit 1; }
    set -a
    # shellcheck disable=SC1090
    . "$SERVICE_ENV_FILE"
    set +a
fi

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORKDIR"
}
trap cleanup EXIT

for p in "$PORT" "$MOCK_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then say "port $p is in use; set PORT/MOCK_PORT"; exit 1; fi
done

$PIN_LOAD "$MOCK" --port "$MOCK_PORT" >/dev/null &
PIDS+=($!)
for _ in $(seq 1 500); do
    (exec 3<>"/dev/tcp/127.0.0.1/$MOCK_PORT") 2>/dev/null && break
    sleep 0.01
done

say "== startup: exec to first 200 on /healthz, $STARTUP_RUNS runs (poller on CPU 1)"
STARTUP=$(cd "$WORKDIR" && $PIN_LOAD "$LOADGEN" startup "$STARTUP_RUNS" "$PORT" "$SERVICE_CPU" "$SERVICE")
say "$STARTUP"

(cd "$WORKDIR" && exec $PIN_SERVICE "$SERVICE" serve) 2>"$WORKDIR/service.log" &
SERVICE_PID=$!
PIDS+=("$SERVICE_PID")
for _ in $(seq 1 500); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.01
done

run_phase() {
    say "== $1"
    shift
    local line
    line=$($PIN_LOAD "$LOADGEN" load --addr "127.0.0.1:${TARGET_PORT:-$PORT}" --mock "127.0.0.1:$MOCK_PORT" \
        --secret "$SECRET" --pid "${TARGET_PID:-$SERVICE_PID}" --warmup "$WARMUP" --duration "$DURATION" "$@")
    say "$line"
    printf '%s\n' "$line"
}

FIXED=$(run_phase "fixed rate: $RATE req/s, $CONNECTIONS connections, open loop, valid sends" \
    --label fixed --rate "$RATE" --connections "$CONNECTIONS" --kind send)
SAT_SEND=$(run_phase "saturation: valid sends, closed loop, $CONNECTIONS connections" \
    --label saturation_send --connections "$CONNECTIONS" --kind send)
SAT_HELP=$(run_phase "saturation: help commands (no upstream call), closed loop, $CONNECTIONS connections" \
    --label saturation_help --connections "$CONNECTIONS" --kind help)
HWM_KIB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVICE_PID/status")
THREADS=$(awk '/Threads/ {print $2}' "/proc/$SERVICE_PID/status")
LOG_LINES=$(wc -l <"$WORKDIR/service.log")
kill -TERM "$SERVICE_PID"
SERVICE_EXIT=0
wait "$SERVICE_PID" || SERVICE_EXIT=$?

# The floor on this machine: nginx answering a static JSON, on the same core,
# under the same load, with the same forms. NGINX_REFERENCE=0 skips it.
NGX_FIXED="" NGX_SAT=""
if [ "${NGINX_REFERENCE:-1}" = 1 ]; then
    if ! command -v nginx >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing nginx-light for the reference phases"
        { apt-get update -qq && apt-get install -y -qq nginx-light; } >/dev/null || true
    fi
    if command -v nginx >/dev/null; then
        NGX_PORT=$((PORT + 2))
        cat >"$WORKDIR/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
master_process off;
error_log $WORKDIR/nginx.error.log;
pid $WORKDIR/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORKDIR;
    server {
        listen 127.0.0.1:$NGX_PORT;
        keepalive_requests 100000000;
        location / { default_type application/json; return 200 '{"response_type":"ephemeral","text":"ok"}'; }
    }
}
NGINX
        $PIN_SERVICE nginx -c "$WORKDIR/nginx.conf" &
        NGX_PID=$!
        PIDS+=("$NGX_PID")
        for _ in $(seq 1 500); do
            (exec 3<>"/dev/tcp/127.0.0.1/$NGX_PORT") 2>/dev/null && break
            sleep 0.01
        done
        NGX_FIXED=$(TARGET_PORT=$NGX_PORT TARGET_PID=$NGX_PID run_phase \
            "reference: nginx static JSON at $RATE req/s" --label nginx_fixed --rate "$RATE" \
            --connections "$CONNECTIONS" --kind help)
        NGX_SAT=$(TARGET_PORT=$NGX_PORT TARGET_PID=$NGX_PID run_phase \
            "reference: nginx static JSON, closed loop" --label nginx_saturation --connections "$CONNECTIONS" \
            --kind help)
        kill "$NGX_PID" 2>/dev/null || true
    else
        say "nginx not available: skipping the reference phases"
    fi
fi

field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

{
    echo "# slack-sendcontact load benchmark"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
    echo "- machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r), $(rustc --version)"
    echo "- configuration: $CONFIG${SERVICE_ENV_FILE:+ (SERVICE_ENV_FILE=$SERVICE_ENV_FILE)}"
    echo "- pinning: $PINNING"
    echo "- service: release build, GREEN_API_MAX_RPS=$MAX_RPS, SLACK_ACK_BUDGET_MS default (2500), LOG_FORMAT=text, RUST_LOG=warn; $THREADS threads; $LOG_LINES log lines written"
    echo "- load: $CONNECTIONS keep-alive connections, 64 signed slash-command forms (every field Slack sends; Cyrillic names, quotes, tel/mailto links), ${WARMUP} s warm-up then ${DURATION} s measured per phase"
    echo
    echo "| phase | req/s | p50 | p99 | p99.9 | max | CPU/request (stat) | CPU/request (sched) | server CPU use | errors | generator CPU/request |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    for line in "$FIXED" "$SAT_SEND" "$SAT_HELP" "$NGX_FIXED" "$NGX_SAT"; do
        [ -n "$line" ] || continue
        printf '| %s | %s | %s µs | %s µs | %s µs | %s µs | %s µs | %s µs | %s | %s | %s µs |\n' \
            "$(field "$line" label)" "$(field "$line" rps)" "$(field "$line" p50_us)" "$(field "$line" p99_us)" \
            "$(field "$line" p999_us)" "$(field "$line" max_us)" "$(field "$line" cpu_us_per_req)" \
            "$(field "$line" sched_cpu_us_per_req)" "$(field "$line" cpu_util)" "$(field "$line" errors)" \
            "$(field "$line" loadgen_cpu_us_per_req)"
    done
    echo
    echo "| figure | value |"
    echo "|---|---|"
    echo "| throughput at saturation, valid sends | $(field "$SAT_SEND" rps) req/s, $(field "$SAT_SEND" cpu_us_per_req) µs CPU per request |"
    echo "| throughput at saturation, help (no upstream) | $(field "$SAT_HELP" rps) req/s, $(field "$SAT_HELP" cpu_us_per_req) µs CPU per request |"
    echo "| latency at $RATE req/s: p50 / p99 / max | $(field "$FIXED" p50_us) / $(field "$FIXED" p99_us) / $(field "$FIXED" max_us) µs |"
    echo "| CPU per request at $RATE req/s | $(field "$FIXED" cpu_us_per_req) µs (stat), $(field "$FIXED" sched_cpu_us_per_req) µs (sched) |"
    echo "| peak RSS (VmHWM, after saturation) | $HWM_KIB KiB ($(mib "$HWM_KIB") MiB) |"
    echo "| exec to first /healthz 200: min / median / max | $(field "$STARTUP" startup_min_ms) / $(field "$STARTUP" startup_median_ms) / $(field "$STARTUP" startup_max_ms) ms ($(field "$STARTUP" startup_runs) runs) |"
    echo "| errors: fixed / saturation send / saturation help | $(field "$FIXED" errors) / $(field "$SAT_SEND" errors) / $(field "$SAT_HELP" errors) |"
    echo "| service exit status after SIGTERM | $SERVICE_EXIT |"
    echo "| upstream calls vs requests answered (fixed, send) | $(field "$FIXED" upstream_calls) / $(field "$FIXED" answered), $(field "$SAT_SEND" upstream_calls) / $(field "$SAT_SEND" answered) |"
    echo "| new TCP connections to the mock GREEN-API (fixed, send) | $(field "$FIXED" upstream_connections), $(field "$SAT_SEND" upstream_connections) (keep-alive) |"
    echo
    echo "Raw lines:"
    echo
    echo '```'
    for l in "$STARTUP" "$FIXED" "$SAT_SEND" "$SAT_HELP" "$NGX_FIXED" "$NGX_SAT"; do [ -z "$l" ] || printf '%s\n' "$l"; done
    echo '```'
} >"$WORKDIR/report.md"

echo
cat "$WORKDIR/report.md"
if [ -n "${RESULTS:-}" ]; then
    cp "$WORKDIR/report.md" "$RESULTS"
    echo
    echo "a copy is in $RESULTS"
fi

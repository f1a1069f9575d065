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
# shares), starts the mock, and measures, all on 127.0.0.1, for each
# configuration in CONFIGS:
#   one      one GREEN-API instance from the GREEN_API_* variables (the
#            default deployment);
#   several  three instances from a SENDCONTACT_CONFIG file written here
#            (telegram, whatsapp, whatsapp2, with aliases and channel lists),
#            so the commands route by chat form to telegram and by channel to
#            either WhatsApp instance, each instance with its own client;
# and in each of them:
#   1. time from exec to the first 200 on /healthz (STARTUP_RUNS runs);
#   2. over HTTP (POST /slack/commands, signed forms), latency at a fixed
#      RATE req/s, open loop (latency counted from each request's scheduled
#      time, so a stall is not hidden);
#   3. over HTTP, throughput at saturation, closed loop: valid sends and
#      `help` commands, which take the whole request path except the
#      upstream call (the service runs with GREEN_API_MAX_RPS=1000000, so
#      its own CPU, not the rate ceiling, is what saturates);
#   4. over Socket Mode (SOCKET_MODE=1), the same three phases with the same
#      commands as envelopes: the service runs with SLACK_APP_TOKEN and no
#      signing secret (Socket Mode only), the load generator plays Slack
#      (apps.connections.open on SLACK_PORT, then one WebSocket), sends
#      `slash_commands` envelopes at RATE/s or closed loop with WINDOW in
#      flight, and times each ack;
#   5. CPU time per command (utime+stime from /proc/<pid>/stat over the
#      measured window, and the scheduler's ns-resolution figure), peak RSS
#      (VmHWM), and errors (non-200s or acks that are not the expected
#      reply, broken connections, unanswered envelopes, upstream calls that
#      differ from commands answered).
# Then, once, two references on the service's core, under the same load:
# nginx answering a static JSON as the floor (NGINX_REFERENCE=1), and a Bolt
# for JS app doing the same job (BOLT_REFERENCE=1; tools/load/bolt/app.js,
# run with `node app.js` (`node --single-threaded app.js` under SCHED_FIFO:
# see BOLT_NODE_FLAGS below), NODE_ENV=production, its packages installed with
# `npm ci` on first use; skipped, saying so, without node and npm): Bolt's
# default HTTPReceiver checks the signature, the listener calls sendContact
# on the mock with Node's fetch and acks in_channel, or acks the usage for
# `help`; sends and help, closed loop then at RATE, with the same forms and
# secret. The report gives, per configuration, the service's CPU per send at
# saturation against Bolt's, and Bolt's µs ÷ the service's: how many times
# Bolt's throughput per core the service's is.
# On a machine with two or more cores the service (and each reference) runs
# alone on CPU 0 and the load generator and the mock share CPU 1.
#
# Tunables (environment): RATE (500), DURATION (15 s per phase), WARMUP (2 s),
# CONNECTIONS (32), WINDOW (Socket Mode envelopes in flight, CONNECTIONS),
# STARTUP_RUNS (20), CONFIGS ("one several"), SOCKET_MODE (1), PORT (18080),
# MOCK_PORT (18081), SLACK_PORT (PORT+3; nginx takes PORT+2), BOLT_PORT
# (PORT+4), MAX_RPS (1000000), REALTIME (1), NGINX_REFERENCE (1),
# BOLT_REFERENCE (1), BOLT_NODE_FLAGS (--single-threaded under SCHED_FIFO),
# SKIP_BUILD (0), RESULTS (a file for a copy of the report), CONFIG (a name
# for the run's configuration, in the report), SERVICE_ENV_FILE (KEY=value
# lines exported to the service after the defaults of every configuration,
# to measure a variant: the mock answers any instance id and token, so
# every instance's calls reach it).
# Not part of CI; with the defaults it needs about six minutes after the
# build (18 phases of 17 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

RATE=${RATE:-500}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-32}
WINDOW=${WINDOW:-$CONNECTIONS}
STARTUP_RUNS=${STARTUP_RUNS:-20}
PORT=${PORT:-18080}
MOCK_PORT=${MOCK_PORT:-18081}
SLACK_PORT=${SLACK_PORT:-$((PORT + 3))}
BOLT_REFERENCE=${BOLT_REFERENCE:-1}
BOLT_PORT=${BOLT_PORT:-$((PORT + 4))}
[ "$BOLT_REFERENCE" = 1 ] || BOLT_PORT=""
CONFIGS=${CONFIGS:-one several}
SOCKET_MODE=${SOCKET_MODE:-1}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
CONFIG=${CONFIG:-the defaults of tools/load/run.sh}

say() { printf '%s\n' "$*" >&2; }

command -v cargo >/dev/null || { say "cargo is needed: install Rust (rustup) first"; exit 1; }
if ! command -v taskset >/dev/null; then
    say "installing util-linux for taskset"
    apt-get update -qq && apt-get install -y -qq util-linux >/dev/null
fi

# The service as the image ships it (profile-guided, trained by the load tools,
# which it builds first), then the load tools again in case PGO=0 skipped
# them: two cargo calls, so that the tools' features never reach the measured
# binary. SKIP_BUILD=1 reuses what is there.
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    say "== building: the service as the image ships it (tools/build-release.sh), and the load tools (loadgen profile)"
    sh tools/build-release.sh >/dev/null
    cargo build --profile loadgen --locked -p sendcontact-tools
fi
# SERVICE_BIN measures another build (interleaved A/B runs of two commits).
SERVICE=${SERVICE_BIN:-$(sh tools/build-release.sh --path)}
LOADGEN=$TARGET_DIR/loadgen/loadgen
MOCK=$TARGET_DIR/loadgen/mock_green_api

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
# Node under SCHED_FIFO on one core: V8's background threads (concurrent
# compilation, concurrent GC) run at the main thread's real-time priority on
# its core, and a thread spinning for another is never preempted, so node
# burns the real-time budget (95% of the core at 500 help/s, 1,900 µs each,
# against 450-550 µs without real time; the same with only the main thread
# real-time, or with only the GC single-threaded). --single-threaded keeps
# V8's work on the main thread; its CPU per command at saturation is that of
# node without real time, within noise. BOLT_NODE_FLAGS overrides.
BOLT_NODE_FLAGS=${BOLT_NODE_FLAGS-$([ -z "$RT" ] || echo --single-threaded)}

SECRET=bench-signing-secret-8f742231b10e8888
# The app-level token only has to look like one: the generator plays Slack.
APP_TOKEN=xapp-1-A0123456789-1234567890123-0a1b2c3d4e5f60718293a4b5c6d7e8f9
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
# Nothing from the caller's shell changes what is measured, or calls Slack.
unset SLACK_ACK_BUDGET_MS GREEN_API_TIMEOUT_MS SLACK_ALLOWED_TEAM_IDS SLACK_ALLOWED_USER_IDS SLACK_ALLOWED_CHANNEL_IDS \
    SENDCONTACT_CONFIG SLACK_APP_TOKEN SLACK_API_URL SLACK_BOT_TOKEN METRICS_PORT
if [ -n "${SERVICE_ENV_FILE:-}" ] && [ ! -r "$SERVICE_ENV_FILE" ]; then
    say "SERVICE_ENV_FILE=$SERVICE_ENV_FILE is not readable"
    exit 1
fi
for cfg in $CONFIGS; do
    case $cfg in one | several) ;; *) say "CONFIGS takes one and several, not $cfg"; exit 1 ;; esac
done

# The several-instance configuration: three instances of the mock, routed by
# chat and by channel (tools/load/instances.sh, which the profile-guided
# build's training uses too).
sh tools/load/instances.sh "127.0.0.1:$MOCK_PORT" >"$WORKDIR/instances.toml"

config_name() {
    case $1 in
        one) echo "one instance" ;;
        several) echo "three instances" ;;
    esac
}

# The service's environment for a configuration ($1) and a transport ($2:
# http, or socket for Socket Mode only), in the current (sub)shell.
service_env() {
    if [ "$1" = several ]; then
        unset GREEN_API_URL GREEN_API_ID_INSTANCE GREEN_API_TOKEN_INSTANCE
        export SENDCONTACT_CONFIG=$WORKDIR/instances.toml
        export GREEN_API_TOKEN_TELEGRAM=7e1e6a3d5c0b4f2a9d8e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a
        export GREEN_API_TOKEN_WHATSAPP=8a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a
        export GREEN_API_TOKEN_WHATSAPP2=9b3c5d7e9f1a2b4c6d8e0f2a4b6c8d0e2f4a6b8c0d2e4f6a8b
    fi
    if [ "$2" = socket ]; then
        # Socket Mode only, as the contract allows: no signing secret, so
        # POST /slack/commands refuses everything.
        unset SLACK_SIGNING_SECRET
        export SLACK_APP_TOKEN=$APP_TOKEN SLACK_API_URL=http://127.0.0.1:$SLACK_PORT/api/
    fi
    if [ -n "${SERVICE_ENV_FILE:-}" ]; then
        set -a
        # shellcheck disable=SC1090
        . "$SERVICE_ENV_FILE"
        set +a
    fi
}

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORKDIR"
}
trap cleanup EXIT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
    for _ in $(seq 1 "${2:-500}"); do
        port_open "$1" && return 0
        sleep 0.01
    done
    say "nothing listens on port $1"
    return 1
}
for p in "$PORT" "$MOCK_PORT" "$SLACK_PORT" ${BOLT_PORT:+"$BOLT_PORT"}; do
    if port_open "$p"; then say "port $p is in use; set PORT/MOCK_PORT/SLACK_PORT/BOLT_PORT"; exit 1; fi
done

$PIN_LOAD "$MOCK" --port "$MOCK_PORT" >/dev/null &
PIDS+=($!)
wait_port "$MOCK_PORT"

# Starts the service for configuration $1 over transport $2; sets SERVICE_PID.
start_service() {
    (service_env "$1" "$2" && cd "$WORKDIR" && exec $PIN_SERVICE "$SERVICE" serve) 2>"$WORKDIR/service-$1-$2.log" &
    SERVICE_PID=$!
    PIDS+=("$SERVICE_PID")
}

# Successful sendContact calls by instance, from the service's /metrics:
# shows where the routing sent the commands.
sends_by_instance() {
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
    awk -F'"' '/^slack_sendcontact_upstream_calls_total\{.*class="2xx"/ {split($0, v, " "); printf "%s%s %s", sep, $2, v[2]; sep = ", "}' <&3
    exec 3<&-
}

# SIGTERM to the service, then its exit status in SERVICE_EXIT.
stop_service() {
    kill -TERM "$SERVICE_PID" 2>/dev/null || true
    SERVICE_EXIT=0
    wait "$SERVICE_PID" || SERVICE_EXIT=$?
}

run_phase() {
    say "== $1"
    shift
    local line
    line=$($PIN_LOAD "$LOADGEN" load --addr "127.0.0.1:${TARGET_PORT:-$PORT}" --mock "127.0.0.1:$MOCK_PORT" \
        --secret "$SECRET" --pid "${TARGET_PID:-$SERVICE_PID}" --warmup "$WARMUP" --duration "$DURATION" "$@")
    say "$line"
    printf '%s\n' "$line"
}

# Results by configuration and phase: "$cfg:fixed", "$cfg:socket_fixed", ...
declare -A LINE STARTUP HWM THREADS LOG_LINES EXIT_STATUS BY_INSTANCE

for cfg in $CONFIGS; do
    name=$(config_name "$cfg")
    say "== $name: startup, exec to first 200 on /healthz, $STARTUP_RUNS runs (poller on CPU 1)"
    STARTUP[$cfg]=$(service_env "$cfg" http && cd "$WORKDIR" &&
        $PIN_LOAD "$LOADGEN" startup "$STARTUP_RUNS" "$PORT" "$SERVICE_CPU" "$SERVICE")
    say "${STARTUP[$cfg]}"

    start_service "$cfg" http
    wait_port "$PORT"
    LINE[$cfg:fixed]=$(run_phase "$name, HTTP: fixed rate, $RATE req/s, $CONNECTIONS connections, open loop, valid sends" \
        --label fixed --rate "$RATE" --connections "$CONNECTIONS" --kind send)
    LINE[$cfg:saturation_send]=$(run_phase "$name, HTTP: saturation, valid sends, closed loop, $CONNECTIONS connections" \
        --label saturation_send --connections "$CONNECTIONS" --kind send)
    LINE[$cfg:saturation_help]=$(run_phase \
        "$name, HTTP: saturation, help commands (no upstream call), closed loop, $CONNECTIONS connections" \
        --label saturation_help --connections "$CONNECTIONS" --kind help)
    HWM[$cfg:http]=$(awk '/VmHWM/ {print $2}' "/proc/$SERVICE_PID/status")
    THREADS[$cfg:http]=$(awk '/Threads/ {print $2}' "/proc/$SERVICE_PID/status")
    BY_INSTANCE[$cfg]=$(sends_by_instance)
    stop_service
    EXIT_STATUS[$cfg:http]=$SERVICE_EXIT
    LOG_LINES[$cfg:http]=$(wc -l <"$WORKDIR/service-$cfg-http.log")

    if [ "$SOCKET_MODE" = 1 ]; then
        # The generator listens first (it is Slack), the service connects to
        # it, and the generator learns the service's pid from a file. It
        # stops the service itself once its phases are done, so the
        # WebSocket closes as in a drain, not as a dropped connection.
        rm -f "$WORKDIR/service.pid"
        $PIN_LOAD "$LOADGEN" socket --listen "127.0.0.1:$SLACK_PORT" --mock "127.0.0.1:$MOCK_PORT" \
            --pid-file "$WORKDIR/service.pid" --warmup "$WARMUP" --duration "$DURATION" --window "$WINDOW" \
            --rate "$RATE" --phases fixed,send,help --stop >"$WORKDIR/socket-$cfg.out" &
        LOADGEN_PID=$!
        PIDS+=("$LOADGEN_PID")
        wait_port "$SLACK_PORT"
        start_service "$cfg" socket
        echo "$SERVICE_PID" >"$WORKDIR/service.pid.new" && mv "$WORKDIR/service.pid.new" "$WORKDIR/service.pid"
        if ! wait "$LOADGEN_PID"; then
            say "the Socket Mode phases failed; the service's log:"
            tail -n 20 "$WORKDIR/service-$cfg-socket.log" >&2
            exit 1
        fi
        SERVICE_EXIT=0
        wait "$SERVICE_PID" || SERVICE_EXIT=$?
        EXIT_STATUS[$cfg:socket]=$SERVICE_EXIT
        LOG_LINES[$cfg:socket]=$(wc -l <"$WORKDIR/service-$cfg-socket.log")
        for label in socket_fixed socket_saturation_send socket_saturation_help; do
            LINE[$cfg:$label]=$(grep "^label=$label " "$WORKDIR/socket-$cfg.out" || true)
            say "${LINE[$cfg:$label]}"
        done
    fi
done

field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# The floor on this machine: nginx answering a static JSON, on the same core,
# under the same load, with the same forms. NGINX_REFERENCE=0 skips it.
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
        wait_port "$NGX_PORT"
        LINE[nginx:fixed]=$(TARGET_PORT=$NGX_PORT TARGET_PID=$NGX_PID run_phase \
            "reference: nginx static JSON at $RATE req/s" --label nginx_fixed --rate "$RATE" \
            --connections "$CONNECTIONS" --kind help)
        LINE[nginx:saturation]=$(TARGET_PORT=$NGX_PORT TARGET_PID=$NGX_PID run_phase \
            "reference: nginx static JSON, closed loop" --label nginx_saturation --connections "$CONNECTIONS" \
            --kind help)
        kill "$NGX_PID" 2>/dev/null || true
    else
        say "nginx not available: skipping the reference phases"
    fi
fi

# The reference issue 13 compares with: a Bolt for JS app doing the same job
# (tools/load/bolt/app.js: Bolt's default HTTPReceiver checks the signature,
# the listener calls sendContact on the mock with Node's fetch, then acks),
# on the same core, under the same load, with the same forms and secret, and
# the one-instance GREEN_API_* variables. BOLT_REFERENCE=0 skips it.
if [ "$BOLT_REFERENCE" = 1 ]; then
    BOLT_DIR=$ROOT/tools/load/bolt
    BOLT_SKIP=""
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        BOLT_SKIP="node and npm are not installed"
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            BOLT_SKIP="$BOLT_SKIP (apt-get install nodejs npm, Node 18 or later)"
        fi
    elif [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 18 ]; then
        BOLT_SKIP="node $(node --version) is older than 18, which @slack/bolt 4 needs"
    elif [ ! -d "$BOLT_DIR/node_modules" ]; then
        say "== installing the Bolt reference's packages (npm ci in tools/load/bolt)"
        (cd "$BOLT_DIR" && npm ci --no-audit --no-fund >&2) || BOLT_SKIP="npm ci failed in tools/load/bolt"
    fi
    if [ -z "$BOLT_SKIP" ]; then
        BOLT_VERSION="@slack/bolt $(node -p 'require("./tools/load/bolt/node_modules/@slack/bolt/package.json").version'), node $(node --version)"
        # node itself, not npm, so that the pid whose CPU is read is node's.
        (cd "$BOLT_DIR" && export PORT=$BOLT_PORT HOST=127.0.0.1 NODE_ENV=production &&
            exec $PIN_SERVICE node $BOLT_NODE_FLAGS app.js) >"$WORKDIR/bolt.log" 2>&1 &
        BOLT_PID=$!
        PIDS+=("$BOLT_PID")
        if ! wait_port "$BOLT_PORT" 3000; then
            BOLT_SKIP="the Bolt reference did not start (its log: $(tail -n 3 "$WORKDIR/bolt.log" | tr '\n' ' '))"
        elif [ "$(cat "/proc/$BOLT_PID/comm")" != node ]; then
            BOLT_SKIP="pid $BOLT_PID is $(cat "/proc/$BOLT_PID/comm"), not node, so its CPU would not be node's"
        fi
    fi
    if [ -z "$BOLT_SKIP" ]; then
        # Each kind closed loop first: V8 compiles the path while it runs
        # hot, so the fixed-rate phase after it measures a warm node.
        LINE[bolt:saturation_send]=$(TARGET_PORT=$BOLT_PORT TARGET_PID=$BOLT_PID run_phase \
            "reference: Bolt for JS, valid sends, closed loop, $CONNECTIONS connections" \
            --label bolt_saturation_send --connections "$CONNECTIONS" --kind send)
        LINE[bolt:fixed]=$(TARGET_PORT=$BOLT_PORT TARGET_PID=$BOLT_PID run_phase \
            "reference: Bolt for JS, valid sends at $RATE req/s, open loop" --label bolt_fixed --rate "$RATE" \
            --connections "$CONNECTIONS" --kind send)
        LINE[bolt:saturation_help]=$(TARGET_PORT=$BOLT_PORT TARGET_PID=$BOLT_PID run_phase \
            "reference: Bolt for JS, help commands, closed loop, $CONNECTIONS connections" \
            --label bolt_saturation_help --connections "$CONNECTIONS" --kind help)
        LINE[bolt:fixed_help]=$(TARGET_PORT=$BOLT_PORT TARGET_PID=$BOLT_PID run_phase \
            "reference: Bolt for JS, help commands at $RATE req/s, open loop" --label bolt_fixed_help \
            --rate "$RATE" --connections "$CONNECTIONS" --kind help)
        BOLT_THREADS=$(awk '/Threads/ {print $2}' "/proc/$BOLT_PID/status")
        kill -TERM "$BOLT_PID" 2>/dev/null || true
        BOLT_EXIT=0
        wait "$BOLT_PID" || BOLT_EXIT=$?
        BOLT_LOG_LINES=$(wc -l <"$WORKDIR/bolt.log")
    else
        [ -z "${BOLT_PID:-}" ] || kill "$BOLT_PID" 2>/dev/null || true
        say "$BOLT_SKIP: skipping the Bolt for JS reference phases"
    fi
fi

PHASES="fixed saturation_send saturation_help socket_fixed socket_saturation_send socket_saturation_help"
BOLT_KEYS="bolt:saturation_send bolt:fixed bolt:saturation_help bolt:fixed_help"
transport() { case $1 in socket_*) echo "Socket Mode" ;; *) echo HTTP ;; esac; }
# "a / b" for a figure of each configuration run, in CONFIGS order.
per_config() {
    local out="" cfg value
    for cfg in $CONFIGS; do
        value=$("$@" "$cfg")
        out="${out:+$out | }$value"
    done
    printf '%s' "$out"
}
rate_cpu() { local l=${LINE[$2:$1]:-}; [ -n "$l" ] && echo "$(field "$l" rps)/s, $(field "$l" cpu_us_per_req) µs" || echo "—"; }
latency() {
    local l=${LINE[$2:$1]:-}
    [ -n "$l" ] && echo "$(field "$l" p50_us) / $(field "$l" p99_us) / $(field "$l" max_us) µs" || echo "—"
}
cpu_at_rate() {
    local l=${LINE[$2:$1]:-}
    [ -n "$l" ] && echo "$(field "$l" cpu_us_per_req) µs (stat), $(field "$l" sched_cpu_us_per_req) µs (sched)" || echo "—"
}
peak_rss() {
    local socket=${LINE[$1:socket_saturation_help]:-}
    local out="HTTP ${HWM[$1:http]} KiB ($(mib "${HWM[$1:http]}") MiB)"
    [ -z "$socket" ] || out="$out; Socket Mode $(field "$socket" vmhwm_kib) KiB ($(mib "$(field "$socket" vmhwm_kib)") MiB)"
    echo "$out"
}
startup() {
    local l=${STARTUP[$1]}
    echo "$(field "$l" startup_min_ms) / $(field "$l" startup_median_ms) / $(field "$l" startup_max_ms) ms"
}
errors() {
    local out="" phase l
    for phase in $PHASES; do
        l=${LINE[$1:$phase]:-}
        [ -z "$l" ] || out="${out:+$out / }$(field "$l" errors)"
    done
    echo "$out"
}
upstream() {
    local out="" phase l
    for phase in fixed saturation_send socket_fixed socket_saturation_send; do
        l=${LINE[$1:$phase]:-}
        [ -z "$l" ] || out="${out:+$out, }$(field "$l" upstream_calls) / $(field "$l" answered)"
    done
    echo "$out"
}
by_instance() { echo "${BY_INSTANCE[$1]}"; }
exits() { echo "HTTP ${EXIT_STATUS[$1:http]}${EXIT_STATUS[$1:socket]:+, Socket Mode ${EXIT_STATUS[$1:socket]}}"; }
threads() {
    local socket=${LINE[$1:socket_saturation_help]:-}
    echo "HTTP ${THREADS[$1:http]}${socket:+, Socket Mode $(field "$socket" threads)}"
}
logs() { echo "HTTP ${LOG_LINES[$1:http]}${LOG_LINES[$1:socket]:+, Socket Mode ${LOG_LINES[$1:socket]}}"; }
# "a µs vs b µs: b/a×" of one field of two lines: the service's (a) and a
# reference's (b) CPU per command, and how many times the reference's it is.
ratio() {
    [ -n "$2" ] && [ -n "$3" ] || { echo "—"; return; }
    awk -v a="$(field "$2" "$1")" -v b="$(field "$3" "$1")" \
        'BEGIN {if (a > 0) printf "%.1f µs vs %.1f µs: %.1f×", a, b, b / a; else printf "%.1f µs vs %.1f µs", a, b}'
}
# b − a of one field of two lines, signed, one decimal.
diff_field() {
    [ -n "$2" ] && [ -n "$3" ] || { echo "—"; return; }
    awk -v a="$(field "$2" "$1")" -v b="$(field "$3" "$1")" 'BEGIN {printf "%+.1f µs", b - a}'
}

{
    echo "# slack-sendcontact load benchmark"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
    echo "- machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r), $(rustc --version)"
    echo "- configuration: $CONFIG${SERVICE_ENV_FILE:+ (SERVICE_ENV_FILE=$SERVICE_ENV_FILE)}; measured: $(for c in $CONFIGS; do printf '%s; ' "$(config_name "$c")"; done)Socket Mode $([ "$SOCKET_MODE" = 1 ] && echo "on (SLACK_APP_TOKEN, no signing secret)" || echo off)"
    echo "- pinning: $PINNING"
    echo "- service: release build, GREEN_API_MAX_RPS=$MAX_RPS, SLACK_ACK_BUDGET_MS default (2500), LOG_FORMAT=text, RUST_LOG=warn"
    [ -z "${LINE[bolt:saturation_send]:-}" ] ||
        echo "- Bolt for JS reference: tools/load/bolt/app.js, $BOLT_VERSION, \`node ${BOLT_NODE_FLAGS:+$BOLT_NODE_FLAGS }app.js\`, NODE_ENV=production, default HTTPReceiver, pinned as the service, GREEN-API one instance (the GREEN_API_* variables)"
    echo "- load: over HTTP $CONNECTIONS keep-alive connections; over Socket Mode one WebSocket with $WINDOW envelopes in flight at saturation; the same signed slash-command forms (every field Slack sends; Cyrillic names, quotes, tel/mailto links), as envelope payloads over Socket Mode; ${WARMUP} s warm-up then ${DURATION} s measured per phase"
    echo
    echo "| configuration | transport | phase | commands/s | p50 | p99 | p99.9 | max | CPU/command (stat) | CPU/command (sched) | server CPU use | errors | generator CPU/command |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for key in $(for c in $CONFIGS; do for p in $PHASES; do echo "$c:$p"; done; done) nginx:fixed nginx:saturation \
        $BOLT_KEYS; do
        line=${LINE[$key]:-}
        [ -n "$line" ] || continue
        cfg=${key%%:*}
        case $cfg in
            nginx) cname="nginx (reference)" ;;
            bolt) cname="Bolt for JS (reference)" ;;
            *) cname=$(config_name "$cfg") ;;
        esac
        printf '| %s | %s | %s | %s | %s µs | %s µs | %s µs | %s µs | %s µs | %s µs | %s | %s | %s µs |\n' \
            "$cname" "$(transport "$(field "$line" label)")" "$(field "$line" label)" "$(field "$line" rps)" \
            "$(field "$line" p50_us)" "$(field "$line" p99_us)" "$(field "$line" p999_us)" "$(field "$line" max_us)" \
            "$(field "$line" cpu_us_per_req)" "$(field "$line" sched_cpu_us_per_req)" "$(field "$line" cpu_util)" \
            "$(field "$line" errors)" "$(field "$line" loadgen_cpu_us_per_req)"
    done
    echo
    header="| figure |"
    rule="|---|"
    for c in $CONFIGS; do header="$header $(config_name "$c") |"; rule="$rule---|"; done
    echo "$header"
    echo "$rule"
    echo "| HTTP, saturation, valid sends: throughput, CPU per send | $(per_config rate_cpu saturation_send) |"
    echo "| HTTP, saturation, help (no upstream call) | $(per_config rate_cpu saturation_help) |"
    echo "| HTTP, latency at $RATE req/s: p50 / p99 / max | $(per_config latency fixed) |"
    echo "| HTTP, CPU per send at $RATE req/s | $(per_config cpu_at_rate fixed) |"
    if [ "$SOCKET_MODE" = 1 ]; then
        echo "| Socket Mode, saturation, valid sends: throughput, CPU per send | $(per_config rate_cpu socket_saturation_send) |"
        echo "| Socket Mode, saturation, help | $(per_config rate_cpu socket_saturation_help) |"
        echo "| Socket Mode, ack latency at $RATE envelopes/s: p50 / p99 / max | $(per_config latency socket_fixed) |"
        echo "| Socket Mode, CPU per send at $RATE envelopes/s | $(per_config cpu_at_rate socket_fixed) |"
    fi
    echo "| peak RSS (VmHWM, after the saturation phases) | $(per_config peak_rss) |"
    echo "| threads | $(per_config threads) |"
    echo "| exec to first /healthz 200: min / median / max ($STARTUP_RUNS runs) | $(per_config startup) |"
    echo "| errors, by phase ($(for p in $PHASES; do [ "$SOCKET_MODE" = 1 ] || [ "${p#socket_}" = "$p" ] && printf '%s ' "$p"; done | sed 's/ $//; s/ / \/ /g')) | $(per_config errors) |"
    echo "| upstream calls / commands answered (each send phase) | $(per_config upstream) |"
    echo "| HTTP phases' sends by instance (the service's /metrics) | $(per_config by_instance) |"
    echo "| service exit status after SIGTERM | $(per_config exits) |"
    echo "| log lines written | $(per_config logs) |"
    echo
    for cfg in $CONFIGS; do
        if [ "$SOCKET_MODE" = 1 ]; then
            echo "- $(config_name "$cfg"), Socket Mode − HTTP, CPU per command at saturation: sends $(diff_field cpu_us_per_req "${LINE[$cfg:saturation_send]}" "${LINE[$cfg:socket_saturation_send]}"), help $(diff_field cpu_us_per_req "${LINE[$cfg:saturation_help]}" "${LINE[$cfg:socket_saturation_help]}")"
        fi
    done
    if [ -n "${LINE[bolt:saturation_send]:-}" ]; then
        for cfg in $CONFIGS; do
            echo "- $(config_name "$cfg"), HTTP, CPU per command at saturation, service vs Bolt for JS, and Bolt's ÷ the service's (the service's throughput per core, in Bolts): sends $(ratio cpu_us_per_req "${LINE[$cfg:saturation_send]:-}" "${LINE[bolt:saturation_send]}") (stat), $(ratio sched_cpu_us_per_req "${LINE[$cfg:saturation_send]:-}" "${LINE[bolt:saturation_send]}") (sched); help $(ratio cpu_us_per_req "${LINE[$cfg:saturation_help]:-}" "${LINE[bolt:saturation_help]:-}") (stat), $(ratio sched_cpu_us_per_req "${LINE[$cfg:saturation_help]:-}" "${LINE[bolt:saturation_help]:-}") (sched)"
        done
        echo "- Bolt for JS (reference): errors by phase ($(for k in $BOLT_KEYS; do printf '%s ' "${k#bolt:}"; done | sed 's/ $//; s/ / \/ /g')): $(for k in $BOLT_KEYS; do printf '%s ' "$(field "${LINE[$k]:-}" errors)"; done | sed 's/ $//; s/ / \/ /g'); upstream calls / commands answered (each send phase): $(field "${LINE[bolt:saturation_send]}" upstream_calls) / $(field "${LINE[bolt:saturation_send]}" answered), $(field "${LINE[bolt:fixed]:-}" upstream_calls) / $(field "${LINE[bolt:fixed]:-}" answered); peak RSS $(field "${LINE[bolt:fixed_help]:-}" vmhwm_kib) KiB ($(mib "$(field "${LINE[bolt:fixed_help]:-}" vmhwm_kib)") MiB); threads $BOLT_THREADS; exit status after SIGTERM $BOLT_EXIT; log lines $BOLT_LOG_LINES"
    fi
    if [[ " $CONFIGS " == *" one "* && " $CONFIGS " == *" several "* ]]; then
        for phase in saturation_send saturation_help socket_saturation_send socket_saturation_help; do
            [ -n "${LINE[one:$phase]:-}" ] || continue
            echo "- three instances − one instance, CPU per command, $(transport "$phase") $phase: $(diff_field cpu_us_per_req "${LINE[one:$phase]}" "${LINE[several:$phase]:-}") (stat), $(diff_field sched_cpu_us_per_req "${LINE[one:$phase]}" "${LINE[several:$phase]:-}") (sched)"
        done
    fi
    echo
    echo "Raw lines:"
    echo
    echo '```'
    for cfg in $CONFIGS; do
        printf '%s %s\n' "$cfg" "${STARTUP[$cfg]}"
        for p in $PHASES; do [ -z "${LINE[$cfg:$p]:-}" ] || printf '%s %s\n' "$cfg" "${LINE[$cfg:$p]}"; done
    done
    for key in nginx:fixed nginx:saturation $BOLT_KEYS; do [ -z "${LINE[$key]:-}" ] || printf '%s\n' "${LINE[$key]}"; done
    echo '```'
} >"$WORKDIR/report.md"

echo
cat "$WORKDIR/report.md"
if [ -n "${RESULTS:-}" ]; then
    cp "$WORKDIR/report.md" "$RESULTS"
    echo
    echo "a copy is in $RESULTS"
fi

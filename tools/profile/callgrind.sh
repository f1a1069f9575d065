#!/usr/bin/env bash
# Instructions per request, by callgrind: repeatable whatever else the machine
# is doing, so it is how a change to the request path is judged before the
# load benchmark (tools/load/run.sh) confirms it in seconds of CPU.
#
#   bash tools/profile/callgrind.sh              # help and send, one instance
#   SERVICE_ENV_FILE=f bash tools/profile/callgrind.sh   # another configuration
#
# Runs the `profiling` build (the release build with symbols) under
# `valgrind --tool=callgrind` three times: idle, then REQUESTS `help`
# commands, then REQUESTS valid sends, each at RATE req/s over CONNECTIONS
# keep-alive connections after start-up, and prints the user-space
# instructions per request (a run's total less the idle run's, divided by the
# requests). The profiles stay in OUT (default: a fresh directory under
# /tmp) for `callgrind_annotate --inclusive=yes`.
# Valgrind runs the service on one thread at a time and hides the CPU's SHA
# extensions, so the HMAC here costs about 30,000 instructions it does not
# cost on the real CPU; kernel work is not counted at all.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
REQUESTS=${REQUESTS:-1200}
RATE=${RATE:-200}
CONNECTIONS=${CONNECTIONS:-4}
PORT=${PORT:-18090}
MOCK_PORT=${MOCK_PORT:-18091}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-$(mktemp -d /tmp/callgrind.XXXXXX)}
mkdir -p "$OUT"
say() { printf '%s\n' "$*" >&2; }

command -v valgrind >/dev/null || { say "valgrind is needed (apt-get install valgrind)"; exit 1; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    PROFILE=profiling sh tools/build-release.sh >/dev/null
    cargo build --profile loadgen --locked -p sendcontact-tools
fi
SERVICE=$(PROFILE=profiling sh tools/build-release.sh --path)
LOADGEN=$TARGET_DIR/loadgen/loadgen
MOCK=$TARGET_DIR/loadgen/mock_green_api

SECRET=bench-signing-secret-8f742231b10e8888
WORKDIR=$(mktemp -d)
export SLACK_SIGNING_SECRET=$SECRET
export GREEN_API_URL=http://127.0.0.1:$MOCK_PORT
export GREEN_API_ID_INSTANCE=1101000001
export GREEN_API_TOKEN_INSTANCE=d4e4276df8044c259611ee08aefc198482b441126d517a466d
export HOST=127.0.0.1 PORT GREEN_API_MAX_RPS=1000000 LOG_FORMAT=text RUST_LOG=warn
export SLACK_RESPONSE_URL_HOSTS=127.0.0.1
unset SLACK_ACK_BUDGET_MS GREEN_API_TIMEOUT_MS SLACK_ALLOWED_TEAM_IDS SLACK_ALLOWED_USER_IDS SLACK_ALLOWED_CHANNEL_IDS
if [ -n "${SERVICE_ENV_FILE:-}" ]; then
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

"$MOCK" --port "$MOCK_PORT" >/dev/null &
PIDS+=($!)
for _ in $(seq 1 500); do (exec 3<>"/dev/tcp/127.0.0.1/$MOCK_PORT") 2>/dev/null && break; sleep 0.01; done

# One run: start under callgrind, wait for /healthz, drive `kind` (or
# nothing), stop with SIGTERM so callgrind writes its profile.
run() {
    local name=$1 kind=$2
    (cd "$WORKDIR" && exec valgrind --tool=callgrind --callgrind-out-file="$OUT/$name.out" "$SERVICE" serve) \
        2>"$OUT/$name.log" &
    local pid=$!
    for _ in $(seq 1 3000); do
        curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
        sleep 0.01
    done
    if [ "$kind" != idle ]; then
        local seconds
        seconds=$(awk -v n="$REQUESTS" -v r="$RATE" 'BEGIN {printf "%.3f", n / r}')
        "$LOADGEN" load --addr "127.0.0.1:$PORT" --mock "127.0.0.1:$MOCK_PORT" --secret "$SECRET" --pid "$pid" \
            --warmup 0 --duration "$seconds" --rate "$RATE" --connections "$CONNECTIONS" --kind "$kind" \
            --label "callgrind_$kind" >"$OUT/$name.load"
    fi
    kill -TERM "$pid"
    wait "$pid" || true
}
total() { awk '/^summary:|^totals:/ {print $2; exit}' "$1"; }
field() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }

run idle idle
run help help
run send send
IDLE=$(total "$OUT/idle.out")
{
    echo "callgrind, $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (dirty)'), ${SERVICE_ENV_FILE:-one instance}"
    for kind in help send; do
        answered=$(field "$OUT/$kind.load" answered)
        errors=$(field "$OUT/$kind.load" errors)
        awk -v k="$kind" -v t="$(total "$OUT/$kind.out")" -v i="$IDLE" -v n="$answered" -v e="$errors" \
            'BEGIN {printf "%s: %.0f instructions per request (%d requests, %d errors)\n", k, (t - i) / n, n, e}'
    done
    echo "profiles: $OUT/{idle,help,send}.out"
} | tee "$OUT/summary.txt"

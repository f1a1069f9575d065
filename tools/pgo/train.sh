#!/usr/bin/env bash
# The training run of the profile-guided build (tools/build-release.sh): an
# instrumented service answers the load benchmark's commands for a few
# seconds per path, so that the optimiser learns which code is hot and how
# its branches go. What it does not run, it takes for cold.
#
#   bash tools/pgo/train.sh SERVICE LOADGEN MOCK
#
# SERVICE is built with -Cprofile-generate; each of its processes writes its
# counts as it exits. The paths: sends and `help` over HTTP (one instance,
# then three, so that routing by chat and channel is trained too), and the
# same over Socket Mode. Everything runs on 127.0.0.1, on the ports
# PGO_PORT (default 18470) and PGO_PORT + 3 (Slack, for Socket Mode); the
# mock GREEN-API takes a free port. PGO_SECONDS (default 2) per phase.
set -euo pipefail
service=$1 loadgen=$2 mock=$3
port=${PGO_PORT:-18470}
slack_port=$((port + 3))
seconds=${PGO_SECONDS:-2}
secret=pgo-training-signing-secret-3c1f9e
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf 'pgo training: %s\n' "$*" >&2; }

# Another run on the same ports (a build beside a benchmark, on the host's
# network) would answer in our place.
for p in "$port" "$slack_port"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        say "port $p is in use; set PGO_PORT"
        exit 1
    fi
done

"$mock" --port 0 --port-file "$work/mock.port" >/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/mock.port" ] && break; sleep 0.05; done
[ -s "$work/mock.port" ] || { say "the mock GREEN-API did not start"; exit 1; }
mock_addr=127.0.0.1:$(cat "$work/mock.port")

# The three instances the load benchmark measures (tools/load/instances.sh).
sh "$(dirname "$0")/../load/instances.sh" "$mock_addr" >"$work/instances.toml"

# The service's environment for a configuration ($1: one, several) and a
# transport ($2: http, socket), as the load benchmark sets it; from an empty
# directory, so that no .env is read.
run_service() {
    (
        unset SENDCONTACT_CONFIG SLACK_APP_TOKEN SLACK_API_URL SLACK_BOT_TOKEN METRICS_PORT SLACK_ACK_BUDGET_MS \
            GREEN_API_TIMEOUT_MS SLACK_ALLOWED_TEAM_IDS SLACK_ALLOWED_USER_IDS SLACK_ALLOWED_CHANNEL_IDS \
            GREEN_API_URL GREEN_API_ID_INSTANCE GREEN_API_TOKEN_INSTANCE USE_ENV_PROXY
        export HOST=127.0.0.1 PORT=$port LOG_FORMAT=text RUST_LOG=warn GREEN_API_MAX_RPS=1000000 \
            SLACK_RESPONSE_URL_HOSTS=127.0.0.1 SLACK_SIGNING_SECRET=$secret
        if [ "$1" = several ]; then
            export SENDCONTACT_CONFIG=$work/instances.toml GREEN_API_TOKEN_TELEGRAM=0pgo0token0telegram00000000000000 \
                GREEN_API_TOKEN_WHATSAPP=0pgo0token0whatsapp00000000000000 GREEN_API_TOKEN_WHATSAPP2=0pgo0token0whatsapp200000000000000
        else
            export GREEN_API_URL=http://$mock_addr GREEN_API_ID_INSTANCE=1101000001 \
                GREEN_API_TOKEN_INSTANCE=0pgo0token0instance0000000000000000
        fi
        if [ "$2" = socket ]; then
            unset SLACK_SIGNING_SECRET
            export SLACK_APP_TOKEN=xapp-1-A0123456789-1234567890123-0a1b2c3d4e5f60718293a4b5c6d7e8f9 \
                SLACK_API_URL=http://127.0.0.1:$slack_port/api/
        fi
        cd "$work" && exec "$service" serve
    ) 2>>"$work/service.log" &
    service_pid=$!
    pids+=("$service_pid")
}

# A training that got errors would teach the optimiser the error paths:
# refuse it, with what the generator saw.
check_phase() {
    cat "$work/phase.out" >&2
    if ! grep -q ' errors=' "$work/phase.out" || grep -q ' errors=[1-9]' "$work/phase.out"; then
        say "a phase had errors (above); the service's log:"
        tail -n 20 "$work/service.log" >&2
        exit 1
    fi
}

# Exits through the drain, so that the counts are written.
stop_service() {
    kill -TERM "$service_pid" 2>/dev/null || true
    wait "$service_pid" || { say "the service exited with $?; its log:"; tail -n 20 "$work/service.log" >&2; exit 1; }
}

for cfg in one several; do
    say "$cfg instance(s), HTTP: sends and help, ${seconds} s each"
    run_service "$cfg" http
    for _ in $(seq 200); do HOST=127.0.0.1 PORT=$port "$service" healthcheck >/dev/null 2>&1 && break; sleep 0.05; done
    for kind in send help; do
        "$loadgen" load --addr "127.0.0.1:$port" --mock "$mock_addr" --secret "$secret" --pid "$service_pid" \
            --warmup 0.2 --duration "$seconds" --connections 8 --kind "$kind" --label "train_$kind" >"$work/phase.out"
        check_phase
    done
    stop_service

    say "$cfg instance(s), Socket Mode: sends and help, ${seconds} s each"
    rm -f "$work/service.pid"
    "$loadgen" socket --listen "127.0.0.1:$slack_port" --mock "$mock_addr" --pid-file "$work/service.pid" \
        --warmup 0.2 --duration "$seconds" --window 8 --phases send,help --stop >"$work/phase.out" &
    loadgen_pid=$!
    pids+=("$loadgen_pid")
    for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$slack_port") 2>/dev/null && break; sleep 0.05; done
    run_service "$cfg" socket
    echo "$service_pid" >"$work/service.pid.new" && mv "$work/service.pid.new" "$work/service.pid"
    wait "$loadgen_pid" || { say "the Socket Mode phases failed; the service's log:"; tail -n 20 "$work/service.log" >&2; exit 1; }
    wait "$service_pid" || { say "the service exited with $?"; exit 1; }
    check_phase
done

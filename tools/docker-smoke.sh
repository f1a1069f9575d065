#!/usr/bin/env bash
# Builds the container image and smoke-tests the running container for real:
#   - /healthz, /readyz, /metrics answer 200; Docker's HEALTHCHECK turns "healthy"
#   - `check` (the admin's verification step) exits 0 against the mock
#   - a signed /sendcontact command is answered 200 in_channel with the idMessage, and the
#     mock GREEN-API saw exactly one sendContact with the expected body
#   - a badly signed command gets 401 and reaches nothing upstream
#   - the container process does not run as root
#   - `docker stop` during an in-flight command: the command still completes, and the
#     container exits with code 0 within the grace period
#   - prints the image size (warns above AIM_IMAGE_MB, fails above MAX_IMAGE_MB)
#   - the image carries its OCI labels, and the build's revision shows in its labels and
#     in slack_sendcontact_build_info
#
# Run as root (or as a user that may use docker). No container registry is needed: when
# docker, its daemon or the base images are missing, it runs shared/tools/docker-offline-bases.sh,
# which installs docker.io, starts dockerd and creates the default base images locally.
#
# Settings (environment):
#   SHARED_DIR      folder with tools/docker-offline-bases.sh   (default: <repo>/../shared)
#   OFFLINE_BASES   path of docker-offline-bases.sh             (default: $SHARED_DIR/tools/...)
#   IMAGE           tag to build and test                       (default: slack-sendcontact:smoke)
#   RUST_IMAGE, RUNTIME_IMAGE   build args                      (default: the Dockerfile's ARGs)
#   REVISION        build arg: the git commit                   (default: git rev-parse HEAD, else unknown)
#   SKIP_BUILD=1    test an existing $IMAGE without building it
#   KEEP_IMAGE=0    remove $IMAGE at the end                    (default: keep, builds stay cached)
#   STOP_TIMEOUT    seconds given to `docker stop`              (default: 30; the drain is <= 20 s)
#   MAX_IMAGE_MB    fail if the image is larger                 (default: 40; 0 = no limit)
#   AIM_IMAGE_MB    warn if the image is larger                 (default: 30, the project's aim)
#   VERBOSE=1       stream the whole `docker build` output
#   SMOKE_SKIP      comma-separated steps to skip: check, metrics, drain (for partial builds
#                   while bisecting; CI leaves it empty)
#   MOCK_GREEN_API  a built tools/mock_green_api.rs to use      (default: cargo builds it;
#                   under sudo, where cargo may not be on PATH, build it first and pass the path)
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED_DIR=${SHARED_DIR:-$REPO_DIR/../shared}
OFFLINE_BASES=${OFFLINE_BASES:-$SHARED_DIR/tools/docker-offline-bases.sh}
IMAGE=${IMAGE:-slack-sendcontact:smoke}
dockerfile_arg() { sed -n "s/^ARG $1=//p" "$REPO_DIR/Dockerfile" | head -n1; }
RUST_IMAGE=${RUST_IMAGE:-$(dockerfile_arg RUST_IMAGE)}
RUNTIME_IMAGE=${RUNTIME_IMAGE:-$(dockerfile_arg RUNTIME_IMAGE)}
REVISION=${REVISION:-$(git -C "$REPO_DIR" rev-parse HEAD 2>/dev/null || echo unknown)}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP_IMAGE=${KEEP_IMAGE:-1}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
MAX_IMAGE_MB=${MAX_IMAGE_MB:-40}
AIM_IMAGE_MB=${AIM_IMAGE_MB:-30}
VERBOSE=${VERBOSE:-0}
SMOKE_SKIP=${SMOKE_SKIP:-}
skipped() { case ",$SMOKE_SKIP," in *",$1,"*) log "SKIPPED: $1 (SMOKE_SKIP)"; return 0 ;; esac; return 1; }

# Test fixtures: nothing here is a real secret.
SIGNING_SECRET=smoke-signing-secret-0123456789abcdef
ID_INSTANCE=1101000001
API_TOKEN=smoketoken0123456789abcdef0123456789abcdef0123456789

T0=$(date +%s)
log() { printf '[smoke %3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
ok() { log "ok: $*"; }
fail() { log "FAIL: $*" >&2; exit 1; }

WORK=$(mktemp -d /tmp/docker-smoke.XXXXXX)
CID=""
MOCK_PID=""
cleanup() {
    local rc=$?
    set +e
    if [ -n "$CID" ]; then
        if [ "$rc" -ne 0 ]; then
            log "container logs (last 40 lines):"
            docker logs --tail 40 "$CID" 2>&1 | sed 's/^/    /'
        fi
        docker rm -f "$CID" >/dev/null 2>&1
    fi
    if [ -n "$MOCK_PID" ]; then
        kill "$MOCK_PID" 2>/dev/null
        wait "$MOCK_PID" 2>/dev/null
    fi
    if [ "$KEEP_IMAGE" = 0 ] && [ "$SKIP_BUILD" != 1 ]; then
        docker rmi "$IMAGE" >/dev/null 2>&1
    fi
    rm -rf "$WORK"
    if [ "$rc" -eq 0 ]; then log "PASSED"; else log "FAILED (exit $rc)" >&2; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CI runs on a machine with nothing installed by hand: get what is missing.
for tool in python3 curl; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing $tool"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool"; } >/dev/null 2>&1 || true
    fi
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is required (apt-get install $tool)"
done

# ---------------------------------------------------------------- docker and base images
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
docker_ready() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }
bases_ready() {
    [ "$SKIP_BUILD" = 1 ] || { have_image "$RUST_IMAGE" && have_image "$RUNTIME_IMAGE"; }
}
if ! docker_ready || ! bases_ready; then
    if [ -f "$OFFLINE_BASES" ]; then
        log "docker or base images missing: running $OFFLINE_BASES"
        bash "$OFFLINE_BASES" || fail "docker-offline-bases.sh failed"
    else
        log "no $OFFLINE_BASES (set SHARED_DIR or OFFLINE_BASES); trying docker as it is"
    fi
fi
docker_ready || fail "no docker daemon answers 'docker info'"
if [ "$SKIP_BUILD" != 1 ]; then
    for base in "$RUST_IMAGE" "$RUNTIME_IMAGE"; do
        if ! have_image "$base"; then
            log "base image $base not present locally: trying docker pull"
            timeout 300 docker pull "$base" >/dev/null || fail "cannot get base image $base"
        fi
    done
    ok "docker $(docker version -f '{{.Server.Version}}' 2>/dev/null), bases $RUST_IMAGE + $RUNTIME_IMAGE"
fi

# ---------------------------------------------------------------- build
if [ "$SKIP_BUILD" != 1 ]; then
    log "docker build -t $IMAGE (log: $WORK/build.log)"
    b0=$(date +%s)
    build=(docker build --network host --force-rm
        --build-arg "RUST_IMAGE=$RUST_IMAGE" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE"
        --build-arg "REVISION=$REVISION"
        -t "$IMAGE" "$REPO_DIR")
    if [ "$VERBOSE" = 1 ]; then
        "${build[@]}" 2>&1 | tee "$WORK/build.log"
    elif ! "${build[@]}" >"$WORK/build.log" 2>&1; then
        tail -n 60 "$WORK/build.log" | sed 's/^/    /' >&2
        fail "docker build failed"
    fi
    cached=$(grep -c -- '---> Using cache' "$WORK/build.log" || true)
    ok "image built in $(($(date +%s) - b0)) s ($cached steps from cache)"
fi
have_image "$IMAGE" || fail "no image $IMAGE"

labels=$(docker image inspect -f '{{json .Config.Labels}}' "$IMAGE")
for key in title description version revision source licenses; do
    case "$labels" in *"\"org.opencontainers.image.$key\""*) ;; *) fail "the image has no label org.opencontainers.image.$key" ;; esac
done
if [ "$SKIP_BUILD" != 1 ]; then
    case "$labels" in *"\"org.opencontainers.image.revision\":\"$REVISION\""*) ;; *) fail "the image's revision label is not $REVISION: $labels" ;; esac
fi
ok "OCI labels: $labels"

size_bytes=$(docker image inspect -f '{{.Size}}' "$IMAGE")
size_mb=$(python3 -c "print(f'{$size_bytes / 1e6:.1f}')")
log "image $IMAGE: $size_mb MB ($size_bytes bytes)"
if [ "$MAX_IMAGE_MB" != 0 ] && python3 -c "import sys; sys.exit(0 if $size_bytes > $MAX_IMAGE_MB * 1e6 else 1)"; then
    fail "image is $size_mb MB, above MAX_IMAGE_MB=$MAX_IMAGE_MB"
fi
if python3 -c "import sys; sys.exit(0 if $size_bytes > $AIM_IMAGE_MB * 1e6 else 1)"; then
    log "WARNING: image is $size_mb MB, above the $AIM_IMAGE_MB MB aim (is [profile.release] strip = true?)"
fi

image_user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE")
case "${image_user%%:*}" in
    "" | 0 | root) fail "image runs as root (Config.User='$image_user')" ;;
esac
ok "image Config.User=$image_user, entrypoint $(docker image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$IMAGE")"
docker image inspect -f '{{json .Config.Healthcheck}}' "$IMAGE" | grep -q healthcheck \
    || fail "image has no HEALTHCHECK running the healthcheck subcommand"

# ---------------------------------------------------------------- mock GREEN-API and config
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# The mock every tool shares (tools/mock_green_api.rs), built on the host (in
# debug, a package of its own: tools/Cargo.toml). MOCK_GREEN_API=path skips the build.
if [ -z "${MOCK_GREEN_API:-}" ]; then
    log "building the mock GREEN-API (cargo build -p sendcontact-tools --bin mock_green_api)"
    (cd "$REPO_DIR" && cargo build --locked --quiet -p sendcontact-tools --bin mock_green_api) ||
        fail "cannot build the mock GREEN-API"
    MOCK_GREEN_API=${CARGO_TARGET_DIR:-$REPO_DIR/target}/debug/mock_green_api
fi
"$MOCK_GREEN_API" --port-file "$WORK/mock.port" \
    --id-instance "$ID_INSTANCE" --token "$API_TOKEN" >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
for _ in $(seq 50); do [ -s "$WORK/mock.port" ] && break; sleep 0.1; done
[ -s "$WORK/mock.port" ] || fail "mock GREEN-API did not start: $(cat "$WORK/mock.log")"
MOCK_URL=http://127.0.0.1:$(cat "$WORK/mock.port")
mock_stats() { curl -fsS "$MOCK_URL/_mock/stats"; }
mock_field() { mock_stats | python3 -c "import json,sys; v=json.load(sys.stdin)$1; print(v)"; }
ok "mock GREEN-API at $MOCK_URL"

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
# The same kind of env file an admin writes (README.md), pointing at the mock.
cat >"$WORK/sendcontact.env" <<EOF
SLACK_SIGNING_SECRET=$SIGNING_SECRET
GREEN_API_URL=$MOCK_URL
GREEN_API_ID_INSTANCE=$ID_INSTANCE
GREEN_API_TOKEN_INSTANCE=$API_TOKEN
HOST=127.0.0.1
PORT=$PORT
LOG_FORMAT=json
RUST_LOG=info
EOF

# ---------------------------------------------------------------- admin check
if ! skipped check; then
    set +e
    check_out=$(timeout 60 docker run --rm --network host --env-file "$WORK/sendcontact.env" "$IMAGE" check 2>&1)
    check_rc=$?
    set -e
    [ "$check_rc" -eq 0 ] || fail "'check' exited $check_rc: $check_out"
    grep -qi authorized <<<"$check_out" || fail "'check' output does not say authorized: $check_out"
    ok "'docker run ... check' exited 0:"
    sed 's/^/    /' <<<"$check_out"
fi

# ---------------------------------------------------------------- serve
# Locked down like deploy/kubernetes/base/deployment.yml: read-only root, no capabilities, no privilege gain.
CID=$(docker run -d --name "slack-sendcontact-smoke-$$" --network host \
    --read-only --cap-drop ALL --security-opt no-new-privileges \
    --env-file "$WORK/sendcontact.env" \
    --health-interval 1s --health-timeout 3s --health-retries 3 \
    "$IMAGE")
log "container ${CID:0:12} started on port $PORT"

http_code() { curl -sS -o "$WORK/body" -w '%{http_code}' --max-time 5 "$@" 2>/dev/null || true; }
wait_200() {
    local path=$1 deadline=$(($(date +%s) + $2)) code=""
    while [ "$(date +%s)" -lt "$deadline" ]; do
        code=$(http_code "$BASE$path")
        [ "$code" = 200 ] && return 0
        [ "$(docker inspect -f '{{.State.Running}}' "$CID")" = true ] \
            || fail "container exited (code $(docker inspect -f '{{.State.ExitCode}}' "$CID")) while waiting for $path"
        sleep 0.2
    done
    fail "GET $path: no 200 within $2 s (last: '$code')"
}
wait_200 /healthz 30
ok "GET /healthz 200"
wait_200 /readyz 20
ok "GET /readyz 200"
if ! skipped metrics; then
    [ "$(http_code "$BASE/metrics")" = 200 ] || fail "GET /metrics is not 200"
    grep -q '^# TYPE ' "$WORK/body" || fail "GET /metrics is not in the Prometheus text format"
    if [ "$SKIP_BUILD" != 1 ]; then
        grep -q "^slack_sendcontact_build_info{.*revision=\"$REVISION\"} 1\$" "$WORK/body" \
            || fail "slack_sendcontact_build_info does not name the revision $REVISION"
    fi
    ok "GET /metrics 200 ($(grep -c '^# TYPE ' "$WORK/body") metric families)"
fi

for _ in $(seq 40); do
    health=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$CID")
    [ "$health" = healthy ] && break
    [ "$health" = unhealthy ] && fail "HEALTHCHECK says unhealthy: $(docker inspect -f '{{json .State.Health.Log}}' "$CID")"
    sleep 0.5
done
[ "$health" = healthy ] || fail "HEALTHCHECK did not turn healthy (status '$health')"
ok "Docker HEALTHCHECK (slack-sendcontact healthcheck) reports healthy"

# ---------------------------------------------------------------- process user
pid=$(docker inspect -f '{{.State.Pid}}' "$CID")
if [ -r "/proc/$pid/status" ]; then
    uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
    gids=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
else
    uids=$(docker top "$CID" -o uid | awk 'NR > 1 {print $1}')
    gids="?"
fi
[ -n "$uids" ] || fail "cannot read the container process's uid"
for u in $uids; do [ "$u" != 0 ] || fail "container process runs as root (uids: $uids)"; done
ok "container process (host pid $pid) runs as uid $uids / gid $gids, not root"

# ---------------------------------------------------------------- signed slash command
# sign TEXT -> writes $WORK/req.body, prints "timestamp signature"
sign() {
    python3 - "$SIGNING_SECRET" "$1" "$WORK/req.body" <<'PY'
import hashlib, hmac, sys, time, urllib.parse
secret, text, out = sys.argv[1], sys.argv[2], sys.argv[3]
body = urllib.parse.urlencode({
    "token": "legacy-verification-token", "team_id": "T0SMOKE", "team_domain": "smoke",
    "channel_id": "C0SMOKE", "channel_name": "general", "user_id": "U0SMOKE", "user_name": "admin",
    "command": "/sendcontact", "text": text,
    "api_app_id": "A0SMOKE", "is_enterprise_install": "false",
    "response_url": "https://hooks.slack.com/commands/T0SMOKE/1/smoke",
    "trigger_id": "1.2.smoke." + str(time.time_ns()),
})
open(out, "w").write(body)
ts = str(int(time.time()))
sig = hmac.new(secret.encode(), ("v0:" + ts + ":" + body).encode(), hashlib.sha256).hexdigest()
print(ts, "v0=" + sig)
PY
}
post_command() { # post_command TS SIG OUTFILE -> prints the HTTP status
    curl -sS -o "$3" -w '%{http_code}' --max-time 15 -X POST "$BASE/slack/commands" \
        -H 'Content-Type: application/x-www-form-urlencoded' \
        -H "X-Slack-Request-Timestamp: $1" -H "X-Slack-Signature: $2" \
        --data-binary "@$WORK/req.body"
}
# The text as Slack sends it with should_escape on: an auto-linked phone and an escaped &.
TEXT='79876543210@c.us <tel:+79876543210|+7 987 654-32-10> Ivan Petrov Acme &amp; Sons'

read -r ts sig < <(sign "$TEXT")
code=$(post_command "$ts" "v0=0000000000000000000000000000000000000000000000000000000000000000" "$WORK/resp0")
[ "$code" = 401 ] || fail "badly signed command: HTTP $code, want 401"
[ "$(mock_field '["sendContact"]')" = 0 ] || fail "badly signed command reached GREEN-API"
ok "badly signed command: 401, nothing sent upstream"

read -r ts sig < <(sign "$TEXT")
code=$(post_command "$ts" "$sig" "$WORK/resp1")
[ "$code" = 200 ] || fail "signed command: HTTP $code, want 200: $(cat "$WORK/resp1")"
calls=$(mock_field '["sendContact"]')
[ "$calls" = 1 ] || fail "mock GREEN-API saw $calls sendContact calls, want exactly 1"
id_message=$(mock_field '["last_id_message"]')
python3 - "$WORK/resp1" "$id_message" <<'PY' || fail "signed command: unexpected answer: $(cat "$WORK/resp1")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r.get("response_type") == "in_channel", r
assert sys.argv[2] in r.get("text", ""), r
PY
mock_stats | python3 -c '
import json, sys
b = json.load(sys.stdin)["last_send_body"]
want = {"chatId": "79876543210@c.us",
        "contact": {"phoneContact": 79876543210, "firstName": "Ivan", "lastName": "Petrov", "company": "Acme & Sons"}}
assert b == want, "sendContact body %r, want %r" % (b, want)
assert type(b["contact"]["phoneContact"]) is int
' || fail "sendContact body differs from what the command asked for"
ok "signed command: 200 in_channel with idMessage $id_message; mock saw exactly 1 sendContact with the right body"

# ---------------------------------------------------------------- docker stop drains
# A command whose upstream answer takes 1.5 s (inside the 2.5 s ack budget) is in flight
# when `docker stop` sends SIGTERM: it must still be answered, and the process must exit 0.
curl -fsS -X POST "$MOCK_URL/_mock/config" -d '{"delay_ms": 1500}' >/dev/null
read -r ts sig < <(sign "$TEXT")
post_command "$ts" "$sig" "$WORK/resp2" >"$WORK/code2" 2>&1 &
inflight=$!
for _ in $(seq 50); do [ "$(mock_field '["sendContact"]')" = 2 ] && break; sleep 0.1; done
[ "$(mock_field '["sendContact"]')" = 2 ] || fail "second command did not reach the mock"
s0=$(date +%s.%N)
docker stop -t "$STOP_TIMEOUT" "$CID" >/dev/null
stop_s=$(python3 -c "print(f'{$(date +%s.%N) - $s0:.1f}')")
wait "$inflight" || true
exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$CID")
[ "$exit_code" = 0 ] || fail "container exit code after docker stop: $exit_code, want 0 (137 = killed after the grace period)"
python3 -c "import sys; sys.exit(0 if $stop_s < $STOP_TIMEOUT else 1)" \
    || fail "docker stop took $stop_s s, not within the $STOP_TIMEOUT s grace period"
ok "docker stop: exit code 0 after $stop_s s (grace period $STOP_TIMEOUT s)"
[ "$(cat "$WORK/code2")" = 200 ] || fail "in-flight command during shutdown: HTTP '$(cat "$WORK/code2")', want 200"
grep -q '"in_channel"' "$WORK/resp2" && grep -q "$(mock_field '["last_id_message"]')" "$WORK/resp2" \
    || fail "in-flight command during shutdown: $(cat "$WORK/resp2")"
ok "command in flight at SIGTERM was still answered in_channel"

log "summary: image $IMAGE $size_mb MB, user $image_user, stop $stop_s s"

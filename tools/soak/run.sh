#!/usr/bin/env bash
# Soak test: builds the release binary and the mock GREEN-API
# (tools/mock_green_api.rs), then drives the service for a bounded time
# against the mock injecting faults, and reports what was lost, duplicated
# and how memory behaved. Not part of CI. See docs/soak.md.
#
#   tools/soak/run.sh                          # 120 s at 30 commands/s
#   tools/soak/run.sh --duration 300 --rate 40 --report soak.json
#
# Everything runs on 127.0.0.1. Honours CARGO_TARGET_DIR. Exit 0 only when
# nothing was lost or duplicated.
set -euo pipefail
cd "$(dirname "$0")/../.."
service=$(sh tools/build-release.sh --quiet)
cargo build --locked --quiet -p sendcontact-tools --bin mock_green_api
target_dir="${CARGO_TARGET_DIR:-target}"
exec python3 tools/soak/soak.py --binary "$service" \
    --mock-green-api "$target_dir/debug/mock_green_api" "$@"

#!/bin/sh
# Builds the service binary the way the container image ships it, and prints
# its path on stdout (cargo's own output goes to stderr).
#
#   bin=$(sh tools/build-release.sh)                  # the release binary
#   bin=$(PROFILE=profiling sh tools/build-release.sh) # the same, with symbols
#   bin=$(sh tools/build-release.sh --path)           # its path, without building
#   PGO=0 sh tools/build-release.sh                   # without the profile (below)
#   sh tools/build-release.sh --prepare               # only what the training needs
#
# Run it from the repository's root (the Dockerfile's WORKDIR is one).
#
# Profile-guided (PGO=1, the default): an instrumented build answers the load
# benchmark's commands for a few seconds per path (tools/pgo/train.sh), and
# the release build is optimised with the counts it wrote: hot code laid out
# together, branches and inlining chosen by what a send does. Measured on
# 2026-12-05 (docs/performance.md): about 9 % less CPU per send and 0.2 MiB
# less peak RSS. It costs a second build of everything, the load tools
# (tools/Cargo.toml) and LLVM's llvm-profdata (rustup's llvm-tools
# component, added here if missing). The training is skipped while the
# instrumented binary, the training script and its tools are those the
# merged counts came from, so a rebuild of unchanged sources stays a no-op.
# Paths with spaces (the checkout, CARGO_TARGET_DIR) are not supported: the
# profile's path goes into RUSTFLAGS. --prepare builds the instrumented binary
# and the load tools only: the Dockerfile's dependency layer.
#
# On Linux with glibc, the C library is linked in (static-pie). Measured on
# 2026-12-05 (docs/performance.md): peak RSS 10.3 -> 9.4 MiB under load,
# because only the parts of libc the service calls are mapped and they sit
# next to the code that calls them, instead of 1.4 MiB of libc.so.6 and
# ld.so made resident 64 KiB at a time; and about 3 % less CPU per send
# (likely because calls into libc no longer go through the PLT).
# Static glibc still resolves host names through the `files` and `dns`
# sources of nsswitch.conf, which glibc 2.36 (Debian 12, the builder) has
# built in: strace shows /etc/hosts, /etc/resolv.conf and port 53, and no
# NSS library opened. That is all a container (and Kubernetes' resolv.conf)
# uses; other sources, such as `mdns` or `resolve`, need glibc's shared NSS
# modules and are not supported by this binary.
#
# The target triple is named explicitly because crt-static and the PGO
# flags must not reach the build's proc-macros, which rustc builds for the
# host as shared libraries. It also keeps these artifacts apart from the
# usual target/release, so a plain `cargo build --release` does not undo them.
# Honours CARGO_TARGET_DIR and extra cargo arguments ("$@").
set -eu
profile=${PROFILE:-release}
pgo=${PGO:-1}
host=$(rustc -vV | sed -n 's/^host: //p')
caller_rustflags=${RUSTFLAGS:-}
rustflags=$caller_rustflags
case "$host" in
*-linux-gnu*) rustflags="${rustflags:+$rustflags }-C target-feature=+crt-static" ;;
esac
target_dir=${CARGO_TARGET_DIR:-target}
case "$target_dir" in /*) ;; *) target_dir=$PWD/$target_dir ;; esac
binary=$target_dir/$host/$profile/slack-sendcontact

mode=build
case "${1:-}" in
--path) mode=path; shift ;;
--prepare) mode=prepare; shift ;;
esac
if [ "$mode" = path ]; then
    printf '%s\n' "$binary"
    exit 0
fi
say() { printf 'build-release: %s\n' "$*" >&2; }

if [ "$pgo" = 1 ]; then
    pgo_dir=$target_dir/pgo
    trained=$target_dir/$host/pgo-train/slack-sendcontact
    say "the instrumented build (profile pgo-train) and the load tools (profile loadgen)"
    RUSTFLAGS="$rustflags -C profile-generate=$pgo_dir/raw" \
        cargo build --profile pgo-train --locked --target "$host" --bin slack-sendcontact "$@" >&2
    RUSTFLAGS=$caller_rustflags cargo build --profile loadgen --locked -p sendcontact-tools >&2
    [ "$mode" = prepare ] && exit 0

    profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
    if [ ! -x "$profdata" ]; then
        say "adding rustup's llvm-tools component, for llvm-profdata"
        rustup component add llvm-tools >&2 || true
    fi
    if [ ! -x "$profdata" ]; then
        say "no $profdata: run 'rustup component add llvm-tools', or build without the profile with PGO=0"
        exit 1
    fi
    # What the counts were made from: the instrumented binary, the training
    # and its tools. Anything else (cargo may link back an older binary when
    # flags change back) means training again.
    stamp=$(cat "$trained" tools/pgo/train.sh tools/load/instances.sh \
        "$target_dir/loadgen/loadgen" "$target_dir/loadgen/mock_green_api" | cksum)
    if [ ! -f "$pgo_dir/merged.profdata" ] || [ "$(cat "$pgo_dir/stamp" 2>/dev/null)" != "$stamp" ]; then
        say "training (tools/pgo/train.sh)"
        rm -rf "$pgo_dir/raw" "$pgo_dir/stamp"
        bash tools/pgo/train.sh "$trained" "$target_dir/loadgen/loadgen" "$target_dir/loadgen/mock_green_api" >&2
        "$profdata" merge -o "$pgo_dir/merged.profdata.new" "$pgo_dir/raw" >&2
        mv "$pgo_dir/merged.profdata.new" "$pgo_dir/merged.profdata"
        printf '%s\n' "$stamp" >"$pgo_dir/stamp"
    fi
    rustflags="$rustflags -C profile-use=$pgo_dir/merged.profdata"
elif [ "$mode" = prepare ]; then
    exit 0
fi

RUSTFLAGS=$rustflags cargo build --profile "$profile" --locked --target "$host" --bin slack-sendcontact "$@" >&2
printf '%s\n' "$binary"

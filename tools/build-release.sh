#!/bin/sh
# Builds the service binary the way the container image ships it, and prints
# its path on stdout (cargo's own output goes to stderr).
#
#   bin=$(sh tools/build-release.sh)                  # the release binary
#   bin=$(PROFILE=profiling sh tools/build-release.sh) # the same, with symbols
#   bin=$(sh tools/build-release.sh --path)           # its path, without building
#
# Run it from the repository's root (the Dockerfile's WORKDIR is one).
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
# The target triple is named explicitly because crt-static must not reach
# the build's proc-macros, which rustc builds for the host as shared
# libraries. It also keeps these artifacts apart from the usual
# target/release, so a plain `cargo build --release` does not undo them.
# Honours CARGO_TARGET_DIR and extra cargo arguments ("$@").
set -eu
profile=${PROFILE:-release}
host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
*-linux-gnu*) RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+crt-static" ;;
*) RUSTFLAGS=${RUSTFLAGS:-} ;;
esac
export RUSTFLAGS
target_dir=${CARGO_TARGET_DIR:-target}
case "$target_dir" in /*) ;; *) target_dir=$PWD/$target_dir ;; esac
if [ "${1:-}" = --path ]; then
    shift
else
    cargo build --profile "$profile" --locked --target "$host" --bin slack-sendcontact "$@" >&2
fi
printf '%s\n' "$target_dir/$host/$profile/slack-sendcontact"

# Container image for slack-sendcontact.
#
#   docker build --network host -t slack-sendcontact \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg SOURCE=https://git.example.com/you/slack-sendcontact .
#   docker run --rm --network host --env-file sendcontact.env slack-sendcontact          # serve
#   docker run --rm --network host --env-file sendcontact.env slack-sendcontact check    # admin check
#
# Plain Dockerfile on purpose: no "# syntax=" line, no digests, no BuildKit-only
# features, so the classic builder works and nothing is pulled when the base images are
# already present locally (see README.md, "Container image").

ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot
# What the image says about itself (OCI labels) and what the binary reports in
# slack_sendcontact_build_info and its first log line. VERSION defaults to
# Cargo.toml's version (a test keeps them equal); REVISION is the git commit, which the
# build context (no .git) cannot tell by itself; SOURCE is where the code can be fetched.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=

# ---------------------------------------------------------------------------- builder
FROM ${RUST_IMAGE} AS builder
WORKDIR /src
ENV CARGO_TERM_COLOR=never \
    CARGO_NET_RETRY=5
# llvm-profdata, which merges the training run's counts (below).
RUN rustup component add llvm-tools

# tools/build-release.sh is the one build of the binary, shared with the load
# benchmark (tools/load/run.sh), so that what is measured is what ships: glibc
# linked in statically, and optimised by a profile of the load benchmark's own
# commands (an instrumented build answers them for a few seconds, then the
# release build uses the counts), for the reasons given in the script.
#
# 1. Dependencies, in their own layer: it is rebuilt only when the manifests or
#    Cargo.lock change. Cargo refuses a manifest whose declared targets (lib, bins,
#    benches, tests, examples) have no source, so placeholders are created for all of
#    them; --prepare compiles the dependencies of the instrumented build and of the
#    load tools that train it (the release build's own depend on the profile, so
#    they cannot be cached); then the workspace's own artifacts are removed, so
#    that the real sources copied next are always recompiled (never a placeholder).
COPY Cargo.toml Cargo.lock ./
COPY tools/Cargo.toml tools/docker-dummy-targets.sh tools/build-release.sh tools/
RUN sh tools/docker-dummy-targets.sh Cargo.toml \
    && sh tools/docker-dummy-targets.sh tools/Cargo.toml \
    && sh tools/build-release.sh --prepare \
    && cargo clean --profile pgo-train --target "$(rustc -vV | sed -n 's/^host: //p')" \
       --package slack-sendcontact \
    && cargo clean --profile loadgen --package slack-sendcontact --package sendcontact-tools \
    && rm -rf src tools/load tools/mock_green_api.rs

# 2. The crate itself, and the load tools for the training. The placeholders of
#    non-src targets (benches, tests) stay, since `cargo build` only needs them to
#    exist. GIT_REVISION is read at compile time (option_env!); declared only here,
#    so a new revision does not rebuild the dependency layer.
ARG REVISION
ENV GIT_REVISION=${REVISION}
COPY src ./src
COPY tools/http1.rs tools/mock_green_api.rs tools/
COPY tools/load/loadgen.rs tools/load/socket.rs tools/load/instances.sh tools/load/
COPY tools/pgo ./tools/pgo
RUN touch src/main.rs src/lib.rs tools/mock_green_api.rs tools/load/loadgen.rs \
    && cp "$(sh tools/build-release.sh)" /slack-sendcontact \
    && /slack-sendcontact --version | grep -q slack-sendcontact

# ---------------------------------------------------------------------------- runtime
# distroless cc: CA certificates, /etc/passwd with nonroot (65532), no shell and no
# package manager. Its glibc and libgcc are not used: the binary is static-pie.
FROM ${RUNTIME_IMAGE}
ARG VERSION
ARG REVISION
ARG SOURCE
LABEL org.opencontainers.image.title="slack-sendcontact" \
      org.opencontainers.image.description="A Slack slash command that sends a contact card into a Telegram, WhatsApp or MAX chat through GREEN-API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
# The MIT license asks that its notice travel with every copy of the binary.
COPY LICENSE-MIT LICENSE-APACHE /usr/share/doc/slack-sendcontact/
COPY --from=builder /slack-sendcontact /usr/local/bin/slack-sendcontact
ENV HOST=0.0.0.0 \
    PORT=8080
USER 65532:65532
EXPOSE 8080
# Probes GET http://127.0.0.1:$PORT/healthz; needs no shell and no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/slack-sendcontact", "healthcheck"]
# SIGTERM makes the server stop accepting, finish in-flight commands and deferred
# deliveries (up to GREEN_API_TIMEOUT_MS + 10 s, 20 s by default) and exit 0. Docker's
# default stop timeout is 10 s: use `docker stop -t 30` / `docker run --stop-timeout 30`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/slack-sendcontact"]
CMD ["serve"]

# syntax=docker/dockerfile:1
#
# checkpoint-node in a container: a Debian bookworm builder makes the release binary, and a
# slim bookworm image runs it as the unprivileged user `checkpoint` with its data on /data.
#
#   docker build -t checkpoint-node .
#   docker build -t checkpoint-node --build-arg GIT_COMMIT=$(git rev-parse --short=11 HEAD) .
#
# The build is the one scripts/setup.sh prepares and scripts/devnet.sh runs (clang,
# libclang-dev, protobuf-compiler; wasm32v1-none, wasm32-unknown-unknown, rust-src;
# `cargo build --release --locked -p checkpoint-node`). From scratch it takes about 45 minutes
# on two cores; BUILD_JOBS (e.g. --build-arg BUILD_JOBS=2) caps cargo's parallel jobs on a
# machine short of memory. The cargo registry and the target directory are BuildKit cache
# mounts (BuildKit, the default builder since Docker 23), so a rebuild after a source change
# reuses what was compiled before.
#
# .git is not sent to the build (.dockerignore), so `checkpoint-node --version` shows the
# commit only when GIT_COMMIT is given.
#
# Run:
#   docker run --rm -v checkpoint-data:/data -p 30333:30333 -p 9944:9944 -p 9615:9615 \
#     checkpoint-node
# runs a full node of the built-in `local` chain (the default CMD below): RPC (safe methods
# only) and Prometheus listen on every interface of the container so that the published ports
# reach them. Arguments after the image name replace the whole CMD, e.g. a validator of a
# chain of your own (its raw chain spec and node key mounted read-only):
#   docker run -v checkpoint-data:/data -v "$PWD/spec:/spec:ro" -p 30333:30333 checkpoint-node \
#     --base-path /data --chain /spec/chain-spec.json --validator --name val1 \
#     --node-key-file /spec/node-key
# A validator refuses to start without a node key (`key generate-node-key --file ...` makes
# one). Its keystore, checkpoint database and own-vote guard all live under
# /data/chains/<chain id>/: keep the volume with the key, and never start a second container
# with a copy of the same keystore (see docs/checkpoint-node.service).

# The full image, not -slim: RocksDB's and binaryen's C++ need g++ and make, which it has.
FROM docker.io/library/rust:1.95-bookworm AS builder

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang libclang-dev protobuf-compiler \
 && rm -rf /var/lib/apt/lists/*

# The runtime's wasm is built for wasm32v1-none (wasm32-unknown-unknown as the fallback),
# which needs the standard library's source.
RUN rustup target add wasm32v1-none wasm32-unknown-unknown \
 && rustup component add rust-src

WORKDIR /build
COPY . .

# GIT_COMMIT: the commit `--version` shows (substrate-build-script-utils reads
# SUBSTRATE_CLI_GIT_COMMIT_HASH when there is no .git). BUILD_JOBS: cargo's --jobs.
ARG GIT_COMMIT=
ARG BUILD_JOBS=
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/build/target \
    if [ -n "$GIT_COMMIT" ]; then export SUBSTRATE_CLI_GIT_COMMIT_HASH="$GIT_COMMIT"; fi \
 && cargo build --release --locked -p checkpoint-node ${BUILD_JOBS:+--jobs $BUILD_JOBS} \
 && install -m 0755 target/release/checkpoint-node /usr/local/bin/checkpoint-node


FROM docker.io/library/debian:bookworm-slim

ARG DEBIAN_FRONTEND=noninteractive
# ca-certificates for TLS (telemetry, a bootnode over wss); libstdc++6 for
# RocksDB's C++ (already in the base image, as apt needs it; named so it stays).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libstdc++6 \
 && rm -rf /var/lib/apt/lists/*

# The node's home is /data: without --base-path its default base path,
# $HOME/.local/share/checkpoint-node, is inside the volume too.
# uid and gid 1000, to match a host directory bind-mounted on /data.
RUN groupadd --gid 1000 checkpoint \
 && useradd --uid 1000 --gid checkpoint --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin checkpoint \
 && install -d -o checkpoint -g checkpoint -m 0750 /data

COPY --from=builder /usr/local/bin/checkpoint-node /usr/local/bin/checkpoint-node
# Fails the build if the binary misses a shared library in this image.
RUN /usr/local/bin/checkpoint-node --version

USER checkpoint
WORKDIR /data

# P2P, JSON-RPC (HTTP and WebSocket), Prometheus.
EXPOSE 30333 9944 9615
VOLUME ["/data"]

ENTRYPOINT ["/usr/local/bin/checkpoint-node"]
# `local` is one of the chain ids the node knows (load_spec: dev, local, or a chain spec
# file); it is also its default chain. Override the whole CMD for anything else.
CMD ["--base-path", "/data", "--chain", "local", "--rpc-external", "--rpc-methods", "safe", "--prometheus-external"]

#!/usr/bin/env bash
# Builds and runs every test of the workspace. Idempotent; installs what it needs first.
#   scripts/test.sh            all tests
#   scripts/test.sh -- ARGS    extra arguments for `cargo test` (e.g. a test name filter)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "test: formatting"
cargo fmt --all -- --check

echo "test: devnet data directory script test"
scripts/tests/devnet_data_dir.sh

[ "${1:-}" = "--" ] && shift

# Checks that cannot run on this machine say so in this file (tests/common's `skip`); it is
# printed at the end, pass or fail, and on CI (CI=true) a skip fails its test.
CHECKPOINT_SKIPS=$(mktemp)
export CHECKPOINT_SKIPS
report_skips() {
  if [ -s "$CHECKPOINT_SKIPS" ]; then
    echo "test: checks skipped on this machine:"
    sed 's/^/  SKIPPED /' "$CHECKPOINT_SKIPS"
  else
    echo "test: no check skipped"
  fi
  rm -f "$CHECKPOINT_SKIPS"
}
trap report_skips EXIT

# One cargo invocation for the whole workspace, so that every crate is built once with one
# feature set. The end-to-end tests start up to six node processes each: one test at a time.
# `test-double-vote` compiles in the faulty validator of the equivocation test (inactive unless
# its environment variable is set), `test-runtime-upgrade` the second runtime wasm of the
# upgrade test; release builds and scripts/devnet.sh have neither.
echo "test: cargo test --workspace (unit, property, database and end-to-end tests)"
cargo test --workspace --locked \
  --features checkpoint-node/test-double-vote,checkpoint-node/test-runtime-upgrade \
  "$@" -- --test-threads 1

# The pallet's benchmarks, each run once against the mock (feature `runtime-benchmarks`, which
# the workspace run above leaves off: no node or runtime is built with it).
echo "test: cargo test -p pallet-checkpoint --features runtime-benchmarks (benchmarks run once)"
cargo test -p pallet-checkpoint --features runtime-benchmarks --locked

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

# One cargo invocation for the whole workspace, so that every crate is built once with one
# feature set. The end-to-end tests start up to six node processes each: one test at a time.
echo "test: cargo test --workspace (unit, property, database and end-to-end tests)"
cargo test --workspace --locked "$@" -- --test-threads 1

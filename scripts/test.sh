#!/usr/bin/env bash
# Builds and runs every test of the workspace. Idempotent; installs what it needs first.
#   scripts/test.sh            all tests
#   scripts/test.sh -- ARGS    extra arguments for `cargo test` (e.g. a test name filter)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "test: formatting"
cargo fmt --all -- --check

echo "test: cargo test --workspace"
[ "${1:-}" = "--" ] && shift
cargo test --workspace --locked "$@"

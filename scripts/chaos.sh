#!/usr/bin/env bash
# Crash loop, the long version of node/tests/chaos.rs, on a release build: a four-validator
# devnet where a random validator is killed with `kill -9` at a random moment and restarted,
# KILLS times, across a set change every ten kills. Prints each kill and the figures: kills,
# restores logged, p50 and worst time for the restarted node's finality to pass its pre-kill
# height, equivocations recorded (must be 0), own votes lost (must be 0; the test fails
# otherwise), set changes (each enacted on every node).
#   scripts/chaos.sh [-k KILLS] [-s SEED] [-p release|debug]
#     default 100 kills, a seed from the clock, a release build (debug reuses the test build)
set -euo pipefail
cd "$(dirname "$0")/.."

kills=100
seed=
profile=release
while getopts "k:s:p:" opt; do
	case "$opt" in
	k) kills="$OPTARG" ;;
	s) seed="$OPTARG" ;;
	p) profile="$OPTARG" ;;
	*) echo "usage: $0 [-k KILLS] [-s SEED] [-p release|debug]" >&2; exit 2 ;;
	esac
done
case "$profile" in release) flags=(--release) ;; debug) flags=() ;;
	*) echo "chaos: -p must be release or debug" >&2; exit 2 ;; esac

scripts/setup.sh
export CHAOS_KILLS="$kills"
[ -n "$seed" ] && export CHAOS_SEED="$seed"
cargo test "${flags[@]}" --locked -p checkpoint-node --test chaos -- --nocapture --test-threads 1 2>&1 |
	grep --line-buffered -E '^(chaos|kill |test |thread |---- |SKIPPED)'

#!/usr/bin/env bash
# Crash loop, the long version of node/tests/chaos.rs, on a release build: a four-validator
# devnet where a random validator is killed with `kill -9` at a random moment and restarted,
# KILLS times. Prints each kill and the figures: kills, restores logged, p50 and worst time for
# the restarted node's finality to pass its pre-kill height, equivocations recorded (must be 0),
# own votes lost (must be 0; the test fails otherwise).
#   scripts/chaos.sh [-k KILLS] [-s SEED]      (default 100 kills, a seed from the clock)
set -euo pipefail
cd "$(dirname "$0")/.."

kills=100
seed=
while getopts "k:s:" opt; do
	case "$opt" in
	k) kills="$OPTARG" ;;
	s) seed="$OPTARG" ;;
	*) echo "usage: $0 [-k KILLS] [-s SEED]" >&2; exit 2 ;;
	esac
done

scripts/setup.sh
export CHAOS_KILLS="$kills"
[ -n "$seed" ] && export CHAOS_SEED="$seed"
cargo test --release --locked -p checkpoint-node --test chaos -- --nocapture --test-threads 1 2>&1 |
	grep --line-buffered -E '^(chaos|kill |test |thread |---- |SKIPPED)'

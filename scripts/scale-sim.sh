#!/usr/bin/env bash
# The scale simulation of issue 19 (client/finality-checkpoint/tests/scale.rs): N validators
# in one process over a simulated network in virtual time, with the gadget's state machine,
# planner, gossip messages and validator, and ed25519 signatures. For each N it runs three
# scenarios (calm; (N-1)/3 equivocators with lost messages and a partition that heals; one
# equivocator more) and prints a line each: equivocators, blocks finalized, authoring-to-
# finality p50/p99/max in ms and in mean link delays, gossip KB per finalized block (votes +
# certificates), whether two conflicting blocks were finalized, validators the evidence
# names, the time to finalize again after the heal, and the wall time. It fails if a check
# does: one chain while fewer than a third equivocate, evidence against a third when two
# conflicting blocks are final, finality again after the heal, every block final on a calm
# network. Debug build (the crypto crates are optimised there); N = 1000 takes minutes.
# Installs what the build needs first (scripts/setup.sh).
#   scripts/scale-sim.sh [-n LIST] [-s SEED]
#     default -n 4,100,1000 (comma list of validator counts), -s 1
set -euo pipefail
cd "$(dirname "$0")/.."

list=4,100,1000
seed=1
while getopts "n:s:" opt; do
	case "$opt" in
	n) list="$OPTARG" ;;
	s) seed="$OPTARG" ;;
	*) echo "usage: $0 [-n LIST] [-s SEED]" >&2; exit 2 ;;
	esac
done
[[ "$list" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "scale-sim: -n takes a comma list of numbers" >&2; exit 2; }
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "scale-sim: -s takes a number" >&2; exit 2; }

scripts/setup.sh
CHECKPOINT_SCALE_N="$list" CHECKPOINT_SCALE_SEED="$seed" \
	cargo test --workspace --locked --test scale -- --ignored --nocapture --test-threads 1

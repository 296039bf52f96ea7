#!/usr/bin/env bash
# Fuzzes the gadget with cargo fuzz (libFuzzer), on a nightly toolchain: every target in
# fuzz/fuzz_targets, SECONDS each (600 by default), one after the other. Installs nightly and
# cargo-fuzz if missing. Prints each target's executions and coverage; a crash stops the run
# and leaves its input in fuzz/artifacts/<target>/ (replay: cargo +nightly fuzz run TARGET FILE).
# Not part of scripts/test.sh: the fuzz build is a separate, instrumented build.
#   scripts/fuzz.sh [-t SECONDS] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=600
while getopts "t:" opt; do
	case "$opt" in
	t) seconds="$OPTARG" ;;
	*) echo "usage: $0 [-t SECONDS] [TARGET ...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

scripts/setup.sh
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

cd fuzz
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
# Rust code is memory-safe here: no sanitizer, so that executions go further in the time.
cargo +nightly fuzz build -O --sanitizer none
for target in "${targets[@]}"; do
	mkdir -p "corpus/$target"
	log="$(mktemp)"
	# db_records opens RocksDB twice an input (some 40 a second): it starts at full input
	# length instead of growing the length slowly, as libFuzzer does for fast targets.
	extra=()
	[ "$target" = db_records ] && extra=(-len_control=0)
	echo "fuzz: $target for ${seconds}s"
	if ! cargo +nightly fuzz run -O --sanitizer none "$target" -- \
		-max_total_time="$seconds" -print_final_stats=1 "${extra[@]}" >"$log" 2>&1; then
		tail -40 "$log"
		echo "fuzz: $target FAILED; input in fuzz/artifacts/$target/"
		exit 1
	fi
	runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	cov=$(grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -1 | grep -o 'cov: [0-9]*' || true)
	echo "fuzz: $target clean: $runs executions in ${seconds}s, $cov, corpus $(ls "corpus/$target" | wc -l) inputs"
done

#!/usr/bin/env bash
# The checkpoint database's files over many hours of a devnet's writes (issue 19's "DB size
# flat over a one-hour run", run longer and faster): four validators' votes of both rounds at
# interval 1 and 3 s blocks (2400 epochs an hour), flushed every 10 s and pruned every 300 s
# as the node does, into a real kvdb-rocksdb database, as fast as the disk takes them. Prints
# the directory at every simulated hour (table files, write-ahead log, RocksDB's LOG, the rest)
# and fails if the files do not level off. RocksDB's LOG also grows with wall time (statistics
# every 10 minutes), which a compressed run does not show. Debug build.
# Installs what the build needs first (scripts/setup.sh).
#   scripts/db-growth.sh [-H HOURS] [-r RETENTION]
#     default -H 48 simulated hours, -r 100 (--checkpoint-retention, in epochs)
set -euo pipefail
cd "$(dirname "$0")/.."

hours=48
retention=100
while getopts "H:r:" opt; do
	case "$opt" in
	H) hours="$OPTARG" ;;
	r) retention="$OPTARG" ;;
	*) echo "usage: $0 [-H HOURS] [-r RETENTION]" >&2; exit 2 ;;
	esac
done
[[ "$hours" =~ ^[0-9]+$ && "$retention" =~ ^[0-9]+$ ]] || { echo "db-growth: -H and -r take numbers" >&2; exit 2; }

scripts/setup.sh
CHECKPOINT_DB_HOURS="$hours" CHECKPOINT_DB_RETENTION="$retention" \
	cargo test --workspace --locked --test persistence -- the_files_follow_the_retention_not_the_writes \
	--exact --nocapture

#!/usr/bin/env bash
# The long version of the warp-sync check (node/tests/set_change.rs runs it on 100 blocks with
# two set changes): four validators run a local devnet (release, 3 s blocks) until BLOCKS are
# finalized; then a fresh full node syncs it with `--sync full`, and another with
# `--sync warp`. Prints each one's time from its start to the finalized block of that moment,
# and the warp node's log lines of the jump. Stops every node it started.
#
#   scripts/warp-sync.sh [-b BLOCKS] [-p release|debug]
#     -b  finalized blocks before the fresh nodes start (default 600: half an hour)
#     -p  build profile of checkpoint-node (default release)
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/node.sh
blocks=600
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    -b) blocks="$2"; shift 2 ;;
    -p) profile="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "warp-sync: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
build_node "$profile" warp-sync

data=$(mktemp -d)
pids=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT INT TERM

"$bin" build-spec --chain local --disable-default-bootnode --raw > "$data/raw.json" 2>/dev/null

finalized() { # port -> the client's finalized block number (0 while unknown)
  local hash
  hash=$(rpc "$1" chain_getFinalizedHead)
  [ -n "$hash" ] || { echo 0; return; }
  rpc "$1" chain_getHeader "[$hash]" |
    python3 -c 'import json,sys; print(int(json.load(sys.stdin)["number"], 16))' 2>/dev/null || echo 0
}
port() { echo $((29944 + $1)); }

boot=""
start() { # index name extra-flags...
  local i=$1 name=$2; shift 2
  local args=(--chain "$data/raw.json" --base-path "$data/$name"
    --node-key "$(printf '%064x' $((i + 1)))" --rpc-port "$(port "$i")"
    --listen-addr "/ip4/127.0.0.1/tcp/$((32333 + i))" --no-mdns --no-telemetry --no-prometheus "$@")
  [ -n "$boot" ] && args+=(--bootnodes "$boot")
  "$bin" "${args[@]}" >> "$data/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 240); do
    [ -n "$(rpc "$(port "$i")" system_health)" ] && return 0
    sleep 0.5
  done
  echo "warp-sync: $name did not come up; see its log:" >&2
  tail -20 "$data/$name.log" >&2
  exit 1
}
wait_finalized() { # port number seconds
  local until=$((SECONDS + $3))
  until [ "$(finalized "$1")" -ge "$2" ]; do
    [ "$SECONDS" -lt "$until" ] || { echo "warp-sync: timed out waiting for #$2 on port $1" >&2; exit 1; }
    sleep 0.2
  done
}

names=(alice bob charlie dave)
for i in 0 1 2 3; do
  start "$i" "${names[$i]}" --"${names[$i]}" --validator
  [ -z "$boot" ] && boot="/ip4/127.0.0.1/tcp/32333/p2p/$(rpc "$(port 0)" system_localPeerId | tr -d '"')"
done
echo "warp-sync: four validators run until #$blocks is finalized (about $((blocks * 3 / 60)) min)"
wait_finalized "$(port 0)" "$blocks" $((blocks * 6 + 600))

sync_time() { # index name mode: sets $took (seconds from its start) and $target (the block)
  target=$(finalized "$(port 0)")
  local t0
  t0=$(date +%s.%N)
  start "$1" "$2" --sync "$3"
  wait_finalized "$(port "$1")" "$target" 1800
  took=$(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')")
}
sync_time 4 ferdie full
echo "warp-sync: full sync to #$target: $took s"
sync_time 5 george warp
echo "warp-sync: warp sync to #$target: $took s"
grep -h -e "Warp sync is complete" -e "⏩ Warp sync" -e "State sync is complete" "$data/george.log" |
  sed 's/^/  george: /'
if grep -q "🔀 Authority set" "$data/george.log"; then
  echo "warp-sync: george enacted a set by finality instead of by the proof" >&2
  exit 1
fi

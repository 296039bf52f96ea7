#!/usr/bin/env bash
# The long version of the outage scenario (node/tests/liveness.rs shrinks it): four validators
# finalize, charlie and dave are killed with `kill -9` for a while, alice and bob author on,
# then charlie and dave come back. Prints how far the chain ran ahead of finality, how long
# finality took to move again after the restart, and how long until every node had finalized
# past the best block of the restart. Stops every node it started.
#
#   scripts/outage.sh [-i INTERVAL] [-m MINUTES] [-w WINDOW] [-p release|debug]
#     -i  checkpoint interval in blocks (default 1, the chain's default; blocks every 3 s)
#     -m  minutes charlie and dave stay down (default 20: with two of four authoring, a block
#         every 6 s, so 200 blocks, 400 epochs, more than twelve windows)
#     -w  --checkpoint-vote-window of every node, in epochs (default 32)
#     -p  build profile of checkpoint-node (default release)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node.sh

interval=1
minutes=20
window=32
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    -i) interval="$2"; shift 2 ;;
    -m) minutes="$2"; shift 2 ;;
    -w) window="$2"; shift 2 ;;
    -p) profile="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "outage: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
build_node "$profile" outage

data=$(mktemp -d)
names=(alice bob charlie dave)
declare -A pid
cleanup() {
  trap - EXIT INT TERM
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT INT TERM

"$bin" build-spec --chain local --disable-default-bootnode > "$data/plain.json" 2>/dev/null
python3 - "$data/plain.json" "$interval" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["genesis"]["runtimeGenesis"]["patch"]["checkpoint"]["checkpointInterval"] = int(sys.argv[2])
json.dump(spec, open(sys.argv[1], "w"))
PY
"$bin" build-spec --chain "$data/plain.json" --raw --disable-default-bootnode > "$data/raw.json" 2>/dev/null

best() { rpc "$1" chain_getHeader | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["number"], 16))' 2>/dev/null || echo 0; }
finalized() {
  rpc "$1" checkpoint_status |
    python3 -c "import json,sys; print(json.load(sys.stdin)['finalized']['blockNumber'])" 2>/dev/null || echo 0
}
port() { echo $((19944 + $1)); }

boot=""
start() { # index
  local i=$1 name=${names[$1]}
  local args=(--chain "$data/raw.json" --base-path "$data/$name" --"$name" --validator
    --node-key "$(printf '%064x' $((i + 1)))" --rpc-port "$(port "$i")"
    --listen-addr "/ip4/127.0.0.1/tcp/$((31333 + i))" --no-mdns --no-telemetry --no-prometheus
    --checkpoint-vote-window "$window")
  [ -n "$boot" ] && args+=(--bootnodes "$boot")
  "$bin" "${args[@]}" >> "$data/$name.log" 2>&1 &
  pid[$name]=$!
  for _ in $(seq 1 240); do
    [ -n "$(rpc "$(port "$i")" system_health)" ] && return 0
    sleep 0.5
  done
  echo "outage: $name did not come up; see its log" >&2
  tail -20 "$data/$name.log" >&2
  exit 1
}
wait_until() { # description seconds condition...
  local what=$1 limit=$2; shift 2
  local until=$((SECONDS + limit))
  until "$@"; do
    [ "$SECONDS" -lt "$until" ] || { echo "outage: timed out waiting for $what" >&2; exit 1; }
    sleep 1
  done
}

for i in 0 1 2 3; do
  start "$i"
  [ -z "$boot" ] && boot="/ip4/127.0.0.1/tcp/31333/p2p/$(rpc "$(port 0)" system_localPeerId | tr -d "\"")"
done
all_finalized() { for i in 0 1 2 3; do [ "$(finalized "$(port "$i")")" -ge "$1" ] || return 1; done; }
wait_until "first finality" 600 all_finalized $((2 * interval))
echo "outage: 4 validators finalize (interval $interval, window $window); killing charlie and dave for $minutes min"

kill -9 "${pid[charlie]}" "${pid[dave]}"
wait "${pid[charlie]}" "${pid[dave]}" 2>/dev/null || true
down_best=$(best "$(port 0)")
down_final=$(finalized "$(port 0)")
sleep $((minutes * 60))
back_best=$(best "$(port 0)")
back_final=$(finalized "$(port 0)")
echo "outage: during the outage best #$down_best -> #$back_best, finalized #$down_final -> #$back_final" \
  "($(( (back_best - back_final) / interval )) checkpoints behind, $(( (back_best - back_final) / interval / window )) windows)"
grep -h "⏸️ Not voting" "$data/alice.log" | sed 's/^/  alice: /' | tail -3

t0=$SECONDS
start 2
start 3
moved() { [ "$(finalized "$(port 0)")" -gt "$back_final" ]; }
wait_until "finality to move" 1800 moved
resumed=$((SECONDS - t0))
wait_until "finality to pass #$back_best" 3600 all_finalized "$back_best"
caught=$((SECONDS - t0))
echo "outage: charlie and dave restarted: finality moved after ${resumed} s and passed #$back_best" \
  "(best at the restart) on all four after ${caught} s"

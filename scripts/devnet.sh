#!/usr/bin/env bash
# Runs a local devnet of checkpoint-node validators on 127.0.0.1 and shows one live line per
# node (best block, finalized block, peers) until Ctrl-C; then stops every node it started.
#
#   scripts/devnet.sh [-n VALIDATORS] [-k] [-d DIR] [-- EXTRA NODE FLAGS]
#     -n  validators to start, 1..4 (Alice, Bob, Charlie, Dave; default 4). The local chain
#         spec has four authorities and finality needs three of them.
#     -k  keep the nodes' data (default: removed on exit)
#     -d  data directory (default: ./devnet-data)
#   e.g. scripts/devnet.sh -- --checkpoint-retention 100 -lcheckpoint=debug
set -euo pipefail
cd "$(dirname "$0")/.."

validators=4
keep=0
data="$PWD/devnet-data"
while [ $# -gt 0 ]; do
  case "$1" in
    -n) validators="$2"; shift 2 ;;
    -k) keep=1; shift ;;
    -d) data="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "devnet: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
extra=("$@")
case "$validators" in 1|2|3|4) ;; *) echo "devnet: -n must be 1..4" >&2; exit 2 ;; esac

scripts/setup.sh
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/checkpoint-node"
echo "devnet: building checkpoint-node (release; the first build takes a while)"
cargo build --release --locked -p checkpoint-node

mkdir -p "$data"
"$bin" build-spec --chain local --raw --disable-default-bootnode > "$data/local-raw.json" 2>/dev/null

names=(alice bob charlie dave)
pids=()
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "devnet: stopping ${#pids[@]} nodes"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$keep" = 0 ]; then rm -rf "$data"; else echo "devnet: data kept in $data"; fi
}
trap cleanup EXIT INT TERM

peer_id() { # rpc port -> local peer id (empty while the node is not up)
  python3 - "$1" <<'PY' 2>/dev/null || true
import json, sys, urllib.request
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "system_localPeerId", "params": []}).encode()
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}", body, {"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=2))["result"])
PY
}

boot=""
for i in $(seq 0 $((validators - 1))); do
  name=${names[$i]}
  p2p=$((30333 + i)); rpc_port=$((9944 + i))
  args=(--chain "$data/local-raw.json" --base-path "$data/$name" --"$name" --validator
        --node-key "$(printf '%064x' $((i + 1)))"
        --rpc-port "$rpc_port" --listen-addr "/ip4/127.0.0.1/tcp/$p2p" --no-mdns --no-telemetry --prometheus-port $((9615 + i)) --name "$name")
  [ -n "$boot" ] && args+=(--bootnodes "$boot")
  "$bin" "${args[@]}" "${extra[@]}" > "$data/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    peer=$(peer_id "$rpc_port")
    [ -n "$peer" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "devnet: $name exited; see $data/$name.log" >&2; tail -20 "$data/$name.log" >&2; exit 1; }
    sleep 0.5
  done
  [ -z "$boot" ] && boot="/ip4/127.0.0.1/tcp/$p2p/p2p/$peer"
  echo "devnet: $name up (rpc 127.0.0.1:$rpc_port, log $data/$name.log)"
done

echo "devnet: $validators validators running; Ctrl-C stops them"
while true; do
  line=""
  for i in $(seq 0 $((validators - 1))); do
    status=$(python3 - "$((9944 + i))" <<'PY'
import json, sys, urllib.request
port = sys.argv[1]
def rpc(method, params=None):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}", body, {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=2))["result"]
try:
    best = int(rpc("chain_getHeader")["number"], 16)
    fin = int(rpc("chain_getHeader", [rpc("chain_getFinalizedHead")])["number"], 16)
    peers = rpc("system_health")["peers"]
    print(f"best #{best} fin #{fin} peers {peers}")
except Exception:
    print("down")
PY
)
    line+="${names[$i]}: $status | "
  done
  printf '\r%s' "${line% | }"
  sleep 2
done

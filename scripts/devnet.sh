#!/usr/bin/env bash
# Runs a local devnet of checkpoint-node validators on 127.0.0.1 and shows one live line per
# node (best block, finalized block, peers) until Ctrl-C; then stops every node it started.
#
#   scripts/devnet.sh [-n VALIDATORS] [-k] [-d DIR] [-p BASE] [-- EXTRA NODE FLAGS]
#     -n  validators to start, 1..4 (Alice, Bob, Charlie, Dave; default 4). The local chain
#         spec has four authorities and finality needs three of them.
#     -k  keep the nodes' data (default: removed on exit)
#     -d  data directory (default: ./devnet-data; a relative DIR is taken from the repository
#         root). Only what the script made is removed on exit: a missing DIR is created and
#         removed; of an existing empty DIR only the files the script wrote (chain spec, base
#         paths, logs). An existing non-empty DIR is refused unless -k is given (with -k
#         nothing is removed). If a node fails to start, the logs are kept.
#     -p  port base: validator i (0..3) uses P2P port BASE+i, RPC BASE+100+i and Prometheus
#         BASE+200+i (default: P2P 30333+i, RPC 9944+i, Prometheus 9615+i)
#   e.g. scripts/devnet.sh -- --checkpoint-retention 100 -lcheckpoint=debug
#        scripts/devnet.sh -n 3 -p 40000 -d /tmp/devnet
set -euo pipefail
cd "$(dirname "$0")/.."

validators=4
keep=0
data="$PWD/devnet-data"
port_base=
refuse() { echo "devnet: $*" >&2; exit 2; }
need_value() { [ "$1" -ge 2 ] || refuse "$2 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    -n) need_value $# "$1"; validators="$2"; shift 2 ;;
    -k) keep=1; shift ;;
    -d) need_value $# "$1"; data="$2"; shift 2 ;;
    -p) need_value $# "$1"; port_base="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) refuse "unknown option $1 (see --help)" ;;
  esac
done
extra=("$@")
case "$validators" in 1|2|3|4) ;; *) refuse "-n must be 1..4" ;; esac
if [ -z "$port_base" ]; then
  p2p_base=30333; rpc_base=9944; prom_base=9615
else
  # The highest port used is BASE+203 (Prometheus of the fourth validator).
  if ! [[ "$port_base" =~ ^[1-9][0-9]*$ ]] || [ "${#port_base}" -gt 5 ] ||
     [ "$port_base" -lt 1024 ] || [ "$port_base" -gt 65332 ]; then
    refuse "-p must be a number 1024..65332 (ports BASE..BASE+203 are used), not '$port_base'"
  fi
  p2p_base=$port_base; rpc_base=$((port_base + 100)); prom_base=$((port_base + 200))
fi

# The data directory, decided before setup and build so that a refusal is immediate. The
# script removes only what it made: DIR itself (and any parents) if it created DIR, otherwise
# only the files it wrote in DIR. A non-empty DIR it did not make is refused unless -k.
[ -n "$data" ] || refuse "-d needs a directory, not an empty string"
case "$data" in /*) ;; *) data="$PWD/$data" ;; esac
created=() # directories this script creates, deepest first
if [ -e "$data" ] || [ -L "$data" ]; then
  [ -d "$data" ] || refuse "$data exists and is not a directory; choose another directory with -d"
  [ ! "$data" -ef / ] || refuse "$data is the root directory; choose another directory with -d"
  listing=$(ls -A -- "$data") || refuse "cannot read $data; choose another directory with -d"
  if [ -n "$listing" ] && [ "$keep" = 0 ]; then
    refuse "$data is not empty and was not made by this script; pass -k to use it (nothing is removed then) or choose another directory with -d"
  fi
else
  case "$data/" in */./*|*/../*) refuse "$data does not exist and has a . or .. component; give a plain path with -d" ;; esac
  p=$data
  while [ ! -e "$p" ] && [ ! -L "$p" ]; do created+=("$p"); p=$(dirname -- "$p"); done
  mkdir -p -- "$data"
fi

names=(alice bob charlie dave)
pids=()
failed=0
remove() { # rm -rf of each path, never of an empty path or of /
  local p
  for p in "$@"; do
    if [ -z "$p" ] || [ "$p" -ef / ]; then echo "devnet: not removing '$p'" >&2; else rm -rf -- "$p"; fi
  done
}
cleanup() {
  trap - EXIT INT TERM
  if [ "${#pids[@]}" -gt 0 ]; then
    echo
    echo "devnet: stopping ${#pids[@]} nodes"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
  fi
  if [ "$keep" = 1 ]; then echo "devnet: data kept in $data"; return; fi
  # Only what this script wrote: the chain spec, each validator's base path and log.
  local name d
  remove "$data/local-raw.json"
  for name in "${names[@]:0:validators}"; do
    remove "$data/$name"
    [ "$failed" = 1 ] || remove "$data/$name.log"
  done
  if [ "$failed" = 1 ]; then echo "devnet: a node failed to start; the logs are kept in $data" >&2; return; fi
  for d in "${created[@]}"; do
    rmdir -- "$d" 2>/dev/null || { echo "devnet: left $d (not empty)" >&2; break; }
  done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Test hook for scripts/tests/devnet_data_dir.sh, not for users: DEVNET_DRY_RUN=1 stops right
# after the data directory decision. It writes the files a run writes (a placeholder chain
# spec, each validator's base path and log) and exits 0 through the same cleanup, without
# setup, build or nodes.
if [ "${DEVNET_DRY_RUN:-0}" = 1 ]; then
  echo '{}' > "$data/local-raw.json"
  for name in "${names[@]:0:validators}"; do mkdir -p -- "$data/$name"; : > "$data/$name.log"; done
  echo "devnet: dry run: wrote the chain spec and $validators base paths and logs in $data"
  exit 0
fi

scripts/setup.sh
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/checkpoint-node"
echo "devnet: building checkpoint-node (release; the first build takes a while)"
cargo build --release --locked -p checkpoint-node

if ! spec_err=$({ "$bin" build-spec --chain local --raw --disable-default-bootnode > "$data/local-raw.json"; } 2>&1); then
  echo "devnet: build-spec failed:" >&2
  printf '%s\n' "$spec_err" >&2
  exit 1
fi

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
  p2p=$((p2p_base + i)); rpc_port=$((rpc_base + i))
  args=(--chain "$data/local-raw.json" --base-path "$data/$name" --"$name" --validator
        --node-key "$(printf '%064x' $((i + 1)))"
        --rpc-port "$rpc_port" --listen-addr "/ip4/127.0.0.1/tcp/$p2p" --no-mdns --no-telemetry --prometheus-port $((prom_base + i)) --name "$name")
  [ -n "$boot" ] && args+=(--bootnodes "$boot")
  "$bin" "${args[@]}" "${extra[@]}" > "$data/$name.log" 2>&1 &
  pids+=($!)
  peer=""
  for _ in $(seq 1 120); do
    peer=$(peer_id "$rpc_port")
    [ -n "$peer" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "devnet: $name exited; see $data/$name.log" >&2; tail -20 "$data/$name.log" >&2; failed=1; exit 1; }
    sleep 0.5
  done
  [ -n "$peer" ] || { echo "devnet: $name did not answer on RPC port $rpc_port within 60 s; see $data/$name.log" >&2; tail -20 "$data/$name.log" >&2; failed=1; exit 1; }
  [ -z "$boot" ] && boot="/ip4/127.0.0.1/tcp/$p2p/p2p/$peer"
  echo "devnet: $name up (rpc 127.0.0.1:$rpc_port, log $data/$name.log)"
done

echo "devnet: $validators validators running; Ctrl-C stops them"
while true; do
  line=""
  for i in $(seq 0 $((validators - 1))); do
    status=$(python3 - "$((rpc_base + i))" <<'PY'
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

# Sourced by the long-scenario scripts (outage.sh, warp-sync.sh): the checkpoint-node binary
# they run and the JSON-RPC call they talk to it with.

# build_node PROFILE WHO: installs what the build needs, builds checkpoint-node in PROFILE
# (release or debug) and sets $bin to it; WHO names the script in messages.
build_node() {
  local flags target_dir
  case "$1" in release) flags=(--release) ;; debug) flags=() ;;
    *) echo "$2: the profile must be release or debug, not '$1'" >&2; exit 2 ;; esac
  scripts/setup.sh
  target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  echo "$2: building checkpoint-node ($1)"
  cargo build "${flags[@]}" --locked -p checkpoint-node
  bin="$target_dir/$1/checkpoint-node"
}

# rpc PORT METHOD [PARAMS-JSON]: the call's JSON result on 127.0.0.1:PORT, empty while the node
# does not answer.
rpc() {
  python3 - "$1" "$2" "${3:-[]}" <<'PY' 2>/dev/null || true
import json, sys, urllib.request
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": sys.argv[2], "params": json.loads(sys.argv[3])}).encode()
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}", body, {"Content-Type": "application/json"})
print(json.dumps(json.load(urllib.request.urlopen(req, timeout=2))["result"]))
PY
}

#!/usr/bin/env bash
# Time to finality on a local devnet: starts VALIDATORS validators (Alice, Bob, Charlie, Dave)
# on 127.0.0.1 from a raw `local` chain spec with checkpoint interval INTERVAL, lets them run
# for SECONDS, stops them, and reads from every node's own log (timestamps in ms, from
# `--detailed-log-output`) the time from each block's import to its finality on that node.
# Prints p50 / p90 / p99 / max in ms and in block times, finalized blocks per minute, gossip
# bytes of the checkpoint protocol per finalized block (the nodes' Prometheus
# `substrate_sub_libp2p_notifications_sizes`), CPU seconds per node, and per node the size of
# the checkpoint database on disk (`<base>/chains/*/checkpoints`) and the resident memory
# (VmRSS) at the end of the warm-up and at the end of the run, so that growth shows. Writes
# into the output directory, which it keeps: the samples as CSV (samples.csv: node, block,
# import ms, finality ms, time to finality ms), resources.txt (those sizes), and the pictures
# of scripts/plot-finality (histogram.png: time to finality; timeline.png: best and
# finalized block over time on alice), which it builds before the nodes start.
#
#   scripts/bench-finality.sh [-s SECONDS] [-w WARMUP] [-n VALIDATORS] [-i INTERVAL]
#                             [-r RETENTION] [-p release|debug] [-x NODE_BINARY] [-o DIR]
#                             [-b PORT_BASE] [-g]
#     -s  seconds the validators run (default 120)
#     -w  warm-up: blocks imported in the first WARMUP seconds are not counted (default 30;
#         start-up: new validators listen for a checkpoint of votes before their first)
#     -n  validators, 3 or 4 (default 4)
#     -i  checkpoint interval in blocks (default: the chain spec's)
#     -r  the nodes' --checkpoint-retention (default: the node's, 1000)
#     -p  release or debug build of the node (default release)
#     -x  run this checkpoint-node binary as it is, building none (the figures then say so)
#     -o  output directory (default: a new directory under /tmp)
#     -b  port base (default 41333: P2P BASE+i, RPC BASE+100+i, Prometheus BASE+200+i)
#     -g  no pictures: neither builds nor runs scripts/plot-finality (nor installs its font)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=120
warmup=30
validators=4
interval=
profile=release
out=
base=41333
pictures=1
binary=
retention=
usage() { echo "usage: $0 [-s SECONDS] [-w WARMUP] [-n VALIDATORS] [-i INTERVAL] [-r RETENTION] [-p release|debug] [-x NODE_BINARY] [-o DIR] [-b PORT_BASE] [-g]" >&2; exit 2; }
while getopts "s:w:n:i:r:p:x:o:b:gh" opt; do
  case "$opt" in
    s) seconds="$OPTARG" ;;
    w) warmup="$OPTARG" ;;
    n) validators="$OPTARG" ;;
    i) interval="$OPTARG" ;;
    r) retention="$OPTARG" ;;
    p) profile="$OPTARG" ;;
    x) binary="$OPTARG" ;;
    o) out="$OPTARG" ;;
    b) base="$OPTARG" ;;
    g) pictures=0 ;;
    *) usage ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "bench-finality: -s must be a number of seconds" >&2; exit 2; }
[[ "$warmup" =~ ^[0-9]+$ ]] && [ "$warmup" -lt "$seconds" ] || { echo "bench-finality: -w must be a number of seconds below -s" >&2; exit 2; }
case "$validators" in 3|4) ;; *) echo "bench-finality: -n must be 3 or 4 (finality needs 3 of the 4)" >&2; exit 2 ;; esac
[ -z "$interval" ] || [[ "$interval" =~ ^[1-9][0-9]*$ ]] || { echo "bench-finality: -i must be a number of blocks" >&2; exit 2; }
[ -z "$retention" ] || [[ "$retention" =~ ^[0-9]+$ ]] || { echo "bench-finality: -r must be a number of checkpoints" >&2; exit 2; }
case "$profile" in release) flags=(--release) ;; debug) flags=() ;;
  *) echo "bench-finality: -p must be release or debug" >&2; exit 2 ;; esac
if [ -z "$out" ]; then out=$(mktemp -d /tmp/bench-finality.XXXXXX); else mkdir -p "$out"; fi

scripts/setup.sh
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
if [ -n "$binary" ]; then
  [ -x "$binary" ] || { echo "bench-finality: -x $binary is not an executable" >&2; exit 2; }
  bin="$binary"
  echo "bench-finality: running $bin as it is (no build)"
else
  bin="$target_dir/$profile/checkpoint-node"
  echo "bench-finality: building checkpoint-node ($profile)"
  cargo build "${flags[@]}" --locked -p checkpoint-node
fi

# The plotter (a workspace of its own) and its font, before the run rather than after it, so
# that a broken build costs no run.
if [ "$pictures" = 1 ]; then
  font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
  if [ ! -f "$font" ]; then
    echo "bench-finality: installing Debian package fonts-dejavu-core (the pictures' font)"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends fonts-dejavu-core
  fi
  [ -f "$font" ] || { echo "bench-finality: no $font; install fonts-dejavu-core, or pass -g for no pictures" >&2; exit 1; }
  plot_manifest=scripts/plot-finality/Cargo.toml
  echo "bench-finality: building scripts/plot-finality"
  cargo build -q --release --locked --manifest-path "$plot_manifest" ||
    { echo "bench-finality: building scripts/plot-finality failed (pass -g for no pictures)" >&2; exit 1; }
  plot_target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$plot_manifest" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  plotter="$plot_target/release/plot-finality"
fi

# The chain spec, with the interval patched into the plain spec's genesis when asked for.
"$bin" build-spec --chain local --disable-default-bootnode > "$out/local.json" 2> "$out/build-spec.log"
if [ -n "$interval" ]; then
  python3 - "$out/local.json" "$interval" <<'PY'
import json, sys
path, interval = sys.argv[1], int(sys.argv[2])
spec = json.load(open(path))
spec["genesis"]["runtimeGenesis"]["patch"].setdefault("checkpoint", {})["checkpointInterval"] = interval
json.dump(spec, open(path, "w"), indent=1)
PY
fi
"$bin" build-spec --chain "$out/local.json" --raw --disable-default-bootnode > "$out/local-raw.json" 2>> "$out/build-spec.log"

names=(alice bob charlie dave)
pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rpc() { # port method -> JSON result (empty while the node is not up)
  python3 - "$1" "$2" <<'PY' 2>/dev/null || true
import json, sys, urllib.request
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": sys.argv[2], "params": []}).encode()
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}", body, {"Content-Type": "application/json"})
print(json.dumps(json.load(urllib.request.urlopen(req, timeout=2))["result"]))
PY
}

boot=""
for i in $(seq 0 $((validators - 1))); do
  name=${names[$i]}
  args=(--chain "$out/local-raw.json" --"$name" --validator --base-path "$out/$name"
    --listen-addr "/ip4/127.0.0.1/tcp/$((base + i))" --rpc-port $((base + 100 + i)) --prometheus-port $((base + 200 + i))
    --node-key "$(printf '%064x' $((i + 1)))" --no-mdns --no-telemetry --detailed-log-output
    --name "$name")
  [ -n "$boot" ] && args+=(--bootnodes "$boot")
  [ -n "$retention" ] && args+=(--checkpoint-retention "$retention")
  "$bin" "${args[@]}" > /dev/null 2> "$out/$name.log" &
  pids+=($!)
  if [ -z "$boot" ]; then
    for _ in $(seq 1 120); do
      peer=$(rpc $((base + 100)) system_localPeerId | tr -d '"')
      [ -n "$peer" ] && break
      kill -0 "${pids[0]}" 2>/dev/null || { echo "bench-finality: alice exited; see $out/alice.log" >&2; exit 1; }
      sleep 1
    done
    [ -n "$peer" ] || { echo "bench-finality: alice's RPC never came up; see $out/alice.log" >&2; exit 1; }
    boot="/ip4/127.0.0.1/tcp/$base/p2p/$peer"
  fi
done
# Per node, the checkpoint database's bytes on disk and the resident memory in kB, as lines
# "PHASE NAME DB_BYTES RSS_KB" in resources.txt ("-" for what could not be read).
: > "$out/resources.txt"
resources() { # phase label
  for i in $(seq 0 $((validators - 1))); do
    name=${names[$i]}
    dbs=("$out/$name"/chains/*/checkpoints) db=
    if [ -e "${dbs[0]}" ]; then # (du exits 1 on a file that vanishes while it counts: keep its total)
      db=$(du -sbc "${dbs[@]}" 2>/dev/null | awk '$2 == "total" { print $1 }' || true)
    fi
    rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/${pids[$i]}/status" 2>/dev/null || true)
    echo "$1 $name ${db:--} ${rss:--}" >> "$out/resources.txt"
    echo "bench-finality: $2: $name checkpoint DB ${db:-?} B, RSS ${rss:-?} kB"
  done
}
echo "bench-finality: $validators validators running for ${seconds}s (logs in $out)"
sleep "$warmup"
resources warmup "end of warm-up (${warmup} s)"
sleep $((seconds - warmup))
resources end "end of run (${seconds} s)"

# CPU seconds and the checkpoint protocol's gossip bytes, read before the nodes stop.
: > "$out/nodes.txt"
for i in $(seq 0 $((validators - 1))); do
  pid=${pids[$i]}
  kill -0 "$pid" 2>/dev/null || { echo "bench-finality: ${names[$i]} exited early; see $out/${names[$i]}.log" >&2; exit 1; }
  cpu=$(python3 -c 'import os,sys; f=open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")",1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK"))' "$pid")
  bytes=$(python3 - $((base + 200 + i)) <<'PY'
import sys, urllib.request
total = None
for line in urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode().splitlines():
    if line.startswith("substrate_sub_libp2p_notifications_sizes_sum") and "checkpoint" in line and 'direction="out"' in line:
        total = (total or 0) + float(line.rsplit(" ", 1)[1])
print("" if total is None else int(total))
PY
)
  echo "${names[$i]} $cpu ${bytes:-}" >> "$out/nodes.txt"
done
stop

python3 - "$out" "$seconds" "$warmup" "${names[@]:0:validators}" <<'PY'
import csv, datetime, os, re, statistics, sys

out, seconds, warmup, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
stamp = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})")
imported = re.compile(r"Imported #(\d+)")
finalized = re.compile(r"🏁 Finalized block #(\d+)")
parse = lambda s: datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f").timestamp() * 1000

samples, unfinal, block_gaps, final_count, logs = [], 0, [], {}, {}
for name in names:
    first_import, finals = {}, []
    for line in open(os.path.join(out, f"{name}.log"), errors="replace"):
        m = stamp.match(line)
        if not m:
            continue
        t = parse(m.group(1))
        if (i := imported.search(line)):
            first_import.setdefault(int(i.group(1)), t)
        elif (f := finalized.search(line)):
            finals.append((t, int(f.group(1))))
    logs[name] = (first_import, finals)
start = min(t for first_import, _ in logs.values() for t in first_import.values()) + warmup * 1000
for name, (first_import, finals) in logs.items():
    heights = sorted(h for h in first_import if first_import[h] >= start)
    block_gaps += [first_import[b] - first_import[a] for a, b in zip(heights, heights[1:]) if b == a + 1]
    final_count[name] = max((n for _, n in finals), default=0)
    for h in heights:
        t = next((t for t, n in finals if n >= h and t >= first_import[h]), None)
        if t is None:
            unfinal += 1
            continue
        samples.append((name, h, first_import[h], t))

if not samples:
    sys.exit(f"bench-finality: no block was finalized; see the logs in {out}")
with open(os.path.join(out, "samples.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["node", "block", "imported_ms", "finalized_ms", "time_to_finality_ms"])
    for name, h, ti, tf in samples:
        w.writerow([name, h, int(ti), int(tf), int(tf - ti)])

delays = sorted(tf - ti for _, _, ti, tf in samples)
q = lambda p: delays[min(len(delays) - 1, int(p * len(delays)))]
block_time = statistics.median(block_gaps) if block_gaps else float("nan")
with open(os.path.join(out, "block_time_ms"), "w") as f:
    print(block_time, file=f)
print(f"bench-finality: {len(samples)} samples over {len(names)} nodes in {seconds} s, the first {warmup} s not counted "
      f"({unfinal} imported blocks not final by the end); block time {block_time:.0f} ms")
print("time from import to finality:")
for label, v in [("p50", q(0.5)), ("p90", q(0.9)), ("p99", q(0.99)), ("max", delays[-1])]:
    print(f"  {label} {v:8.0f} ms  {v / block_time:6.2f} block times")
finalized = max(final_count.values())
print(f"finalized blocks per minute: {finalized * 60 / seconds:.1f} (highest finalized #{finalized})")
for line in open(os.path.join(out, "nodes.txt")):
    parts = line.split()
    name, cpu = parts[0], float(parts[1])
    gossip = f"{int(parts[2]) / max(finalized, 1):.0f} B" if len(parts) > 2 else "n/a"
    print(f"  {name}: CPU {cpu:.1f} s, checkpoint gossip out {gossip} per finalized block")
res = {}
for line in open(os.path.join(out, "resources.txt")):
    phase, name, db, rss = line.split()
    res.setdefault(name, {})[phase] = (db, rss)
def size(v):
    return "?" if v is None else f"{v / 2**20:.2f} MiB" if v >= 2**20 else f"{v / 1024:.1f} KiB"
def change(a, b, unit):
    a, b = (None if v == "-" else int(v) * unit for v in (a, b))
    growth = f" ({(b - a) * 100 / a:+.1f}%)" if a and b is not None else ""
    return f"{size(a)} -> {size(b)}{growth}"
print(f"checkpoint DB on disk and resident memory, end of warm-up ({warmup} s) -> end of run ({seconds} s):")
for name in names:
    (db0, rss0), (db1, rss1) = (res.get(name, {}).get(p, ("-", "-")) for p in ("warmup", "end"))
    print(f"  {name}: DB {change(db0, db1, 1)}, RSS {change(rss0, rss1, 1024)}")
print(f"samples: {os.path.join(out, 'samples.csv')}")
PY

if [ "$pictures" = 1 ]; then
  "$plotter" "$out/samples.csv" "$out" "$(cat "$out/block_time_ms")" ||
    { echo "bench-finality: scripts/plot-finality failed on $out/samples.csv" >&2; exit 1; }
  echo "pictures: $out/histogram.png $out/timeline.png"
fi

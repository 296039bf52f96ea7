#!/usr/bin/env bash
# Tests the data directory handling of scripts/devnet.sh without building or starting
# anything: every run uses the script's test hook DEVNET_DRY_RUN=1 (decide on the directory,
# write the files a run writes, clean up, exit), with stubs for cargo, rustup, apt-get and sudo
# on PATH that fail the run should it ever get past the hook.
#   scripts/tests/devnet_data_dir.sh
set -euo pipefail
devnet="$(cd "$(dirname "$0")/.." && pwd)/devnet.sh"

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
mkdir "$tmp/bin"
for cmd in cargo rustup apt-get sudo; do
  printf '#!/bin/sh\necho "devnet_data_dir: %s must not run in this test" >&2\nexit 97\n' "$cmd" > "$tmp/bin/$cmd"
  chmod +x "$tmp/bin/$cmd"
done

passed=0
failed=0
check() { # description, then a command that must succeed
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what" >&2; fi
}
# run ARGS...: runs devnet.sh in dry-run mode; sets rc, out (stdout and stderr together)
run() {
  rc=0
  out=$(DEVNET_DRY_RUN=1 PATH="$tmp/bin:$PATH" "$devnet" "$@" 2>&1) || rc=$?
}
has() { local s; for s; do grep -qF -- "$s" <<<"$out" || return 1; done; }  # every string in out
lacks() { local s; for s; do ! grep -qF -- "$s" <<<"$out" || return 1; done; } # none in out
content_is() { [ "$(cat "$1")" = "$2" ]; }
# listing DIR: its entries, one a line, sorted (hidden ones included)
listing() { (cd "$1" && find . -mindepth 1 | LC_ALL=C sort); }

# (a) a non-empty directory the script did not make: refused at once, nothing touched
user=$(mktemp -d "$tmp/user.XXXXXX")
echo "user data" > "$user/notes.txt"
run -d "$user"
check "(a) non-empty dir: exit 2, got $rc; output: $out" [ "$rc" = 2 ]
check "(a) refusal names the directory $user; output: $out" has "$user"
check "(a) refusal says to pass -k or choose another directory; output: $out" \
  has "pass -k" "choose another directory"
check "(a) the user's file survives unchanged" content_is "$user/notes.txt" "user data"
check "(a) nothing written into the directory: $(listing "$user" | tr '\n' ' ')" \
  [ "$(listing "$user")" = "./notes.txt" ]
check "(a) refused before setup and build; output: $out" lacks "must not run" "dry run"

# (b) the same directory with -k: used, and nothing is removed
run -k -n 2 -d "$user"
check "(b) -k on a non-empty dir: exit 0, got $rc; output: $out" [ "$rc" = 0 ]
check "(b) the dry run ran; output: $out" has "dry run"
check "(b) the user's file survives unchanged" content_is "$user/notes.txt" "user data"
check "(b) the script's files are kept: $(listing "$user" | tr '\n' ' ')" \
  [ "$(listing "$user" | tr '\n' ' ')" = "./alice ./alice.log ./bob ./bob.log ./local-raw.json ./notes.txt " ]

# (c) a directory that does not exist: created, then removed (with the parents it created)
base=$(mktemp -d "$tmp/base.XXXXXX")
run -d "$base/new/devnet"
check "(c) new dir: exit 0, got $rc; output: $out" [ "$rc" = 0 ]
check "(c) the script created and wrote $base/new/devnet; output: $out" \
  has "in $base/new/devnet"
check "(c) the created directory and its created parent are removed: $(listing "$base" | tr '\n' ' ')" \
  [ -z "$(listing "$base")" ]
check "(c) the existing parent $base survives" [ -d "$base" ]

# (d) an existing empty directory: only the script's files inside are removed
empty=$(mktemp -d "$tmp/empty.XXXXXX")
run -d "$empty"
check "(d) empty dir: exit 0, got $rc; output: $out" [ "$rc" = 0 ]
check "(d) the dry run wrote into it; output: $out" has "in $empty"
check "(d) the directory survives" [ -d "$empty" ]
check "(d) the script's files are removed: $(listing "$empty" | tr '\n' ' ')" [ -z "$(listing "$empty")" ]

# (e) / and "" are refused (with -k too, so the root check itself is tested, not the
# non-empty check). Should the root check ever break, the -k runs would write a dry run's
# files into / (when run as root): they use one validator, and exactly those files, if new,
# are taken back afterwards.
root_new=()
for f in /local-raw.json /alice /alice.log; do [ -e "$f" ] || root_new+=("$f"); done
for args in "-d /" "-k -n 1 -d /" "-k -n 1 -d //" "-k -n 1 -d /."; do
  read -ra argv <<<"$args"
  run "${argv[@]}"
  check "(e) '$args': exit 2, got $rc; output: $out" [ "$rc" = 2 ]
done
for f in ${root_new[@]+"${root_new[@]}"}; do
  check "(e) nothing written into /: $f" [ ! -e "$f" ]
  case "$f" in
    /alice) rmdir /alice 2>/dev/null || true ;;                   # only if empty, as the dry run leaves it
    /alice.log) [ -s /alice.log ] || rm -f /alice.log ;;          # only if empty
    /local-raw.json) ! content_is /local-raw.json '{}' 2>/dev/null || rm -f /local-raw.json ;;
  esac
done
run -d ""
check "(e) -d '': exit 2, got $rc; output: $out" [ "$rc" = 2 ]
run -k -d ""
check "(e) -k -d '': exit 2, got $rc; output: $out" [ "$rc" = 2 ]

# Further refusals: a file in place of the directory, a new path through .., a bad -p
echo "a file" > "$tmp/file"
run -k -d "$tmp/file"
check "a file as DIR: exit 2, got $rc; output: $out" [ "$rc" = 2 ]
check "a file as DIR: the file survives" content_is "$tmp/file" "a file"
run -k -d "$tmp/missing/.."
check "a new DIR through ..: exit 2, got $rc; output: $out" [ "$rc" = 2 ]
check "a new DIR through ..: nothing created" [ ! -e "$tmp/missing" ]
run -p 80 -d "$tmp/ports"
check "-p 80: exit 2, got $rc; output: $out" [ "$rc" = 2 ]
check "-p 80: refused before the directory is made" [ ! -e "$tmp/ports" ]
run -p 40000 -d "$tmp/ports"
check "-p 40000: exit 0, got $rc; output: $out" [ "$rc" = 0 ]

if [ "$failed" -gt 0 ]; then
  echo "devnet_data_dir: $passed passed, $failed failed"
  exit 1
fi
echo "devnet_data_dir: $passed passed, 0 failed"

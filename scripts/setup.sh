#!/usr/bin/env bash
# Installs what building the node needs. Idempotent: every step checks before it acts.
#   Debian packages: clang, libclang-dev, protobuf-compiler; strace (the power-loss test)
#   rustup: the toolchain of rust-toolchain.toml (targets wasm32v1-none and
#   wasm32-unknown-unknown, component rust-src)
set -euo pipefail

need_pkgs=()
for p in clang libclang-dev protobuf-compiler strace; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_pkgs[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

# rust-toolchain.toml names the toolchain, its targets and components; `rustup toolchain
# install` (no argument) installs whatever of it is missing, and does nothing when all is there.
cd "$(dirname "$0")/.."
installed_targets=$(rustup target list --installed)
if ! grep -qx wasm32v1-none <<<"$installed_targets" || ! grep -qx wasm32-unknown-unknown <<<"$installed_targets" ||
  ! rustup component list --installed | grep -q '^rust-src'; then
  echo "setup: installing the toolchain of rust-toolchain.toml"
  rustup toolchain install
fi

echo "setup: ok (clang, libclang-dev, protobuf-compiler, strace, wasm targets, rust-src)"

#!/usr/bin/env bash
# Installs what Rollgate needs to build and test, skipping what is already present.
# Safe to run again: a second run takes a few seconds.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
cd "$(dirname "$0")/../.."

CARGO_LEPTOS_VERSION="0.3.11"
DEFAULT_WASM_BINDGEN="0.2.130"
RUSTC_DEB=/usr/bin/rustc
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }
done_() { printf '    ok (%ss)\n' "$SECONDS"; SECONDS=0; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
sudo_() { $SUDO "$@"; }

apt_packages() {
  local pkgs="rustc-web cargo-web rust-web-src libstd-rust-web-dev rust-web-llvm lld-22
              rust-web-clippy rustfmt-web chromium chromium-driver"
  if dpkg -s $pkgs >/dev/null 2>&1; then return; fi
  step "Installing Debian packages: Rust 1.96 (rustc-web), lld, Chromium (about 1 minute)"
  sudo_ apt-get update -q
  sudo_ apt-get install -y -q --no-install-recommends $pkgs
  done_
}

wasm_std() {
  # The wasm32 standard library for Debian's compiler, built once from its own source.
  local lib want tmp
  lib="$($RUSTC_DEB --print sysroot)/lib/rustlib/wasm32-unknown-unknown/lib"
  want="$($RUSTC_DEB -vV | sed -n 's/^commit-hash: //p')"
  [ "$(cat "$lib/.rustc-commit" 2>/dev/null)" = "$want" ] && return
  step "Building the wasm32 standard library for rustc $want (about 1 minute)"
  tmp="$(mktemp -d)"; mkdir -p "$tmp/src"
  printf '[package]\nname = "wasm-std-build"\nversion = "0.0.0"\nedition = "2021"\n[profile.release]\ndebug = 0\n' >"$tmp/Cargo.toml"
  echo '#![no_std]' >"$tmp/src/lib.rs"
  (cd "$tmp" && RUSTC="$RUSTC_DEB" RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Cembed-bitcode=yes" \
    /usr/bin/cargo build -q --release --target wasm32-unknown-unknown --target-dir "$tmp/target" \
    -Zbuild-std=std,panic_abort)
  sudo_ rm -rf "$lib"; sudo_ mkdir -p "$lib"
  find "$tmp/target/wasm32-unknown-unknown/release/deps" -maxdepth 1 -name 'lib*.r*' \
    ! -name 'libwasm_std_build-*' -print0 | xargs -0 -I{} $SUDO cp {} "$lib/"
  ls "$lib"/libstd-*.rlib >/dev/null 2>&1 || { echo "wasm32 std build produced no libstd" >&2; exit 1; }
  echo "$want" | sudo_ tee "$lib/.rustc-commit" >/dev/null
  rm -rf "$tmp"
  done_
}

cargo_leptos() {
  [ "$(cargo-leptos --version 2>/dev/null)" = "cargo-leptos $CARGO_LEPTOS_VERSION" ] && return
  step "Installing cargo-leptos $CARGO_LEPTOS_VERSION (first time only: about 20 minutes on 2 cores)"
  RUSTC="$RUSTC_DEB" CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    /usr/bin/cargo install -q cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  done_
}

wasm_bindgen_cli() {
  local want
  want="$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p}' Cargo.lock 2>/dev/null)"
  want="${want:-$DEFAULT_WASM_BINDGEN}"
  [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $want" ] && return
  step "Installing wasm-bindgen-cli $want (first time only: about 9 minutes)"
  # Not --locked: its lock file names a crate version the registry no longer serves.
  RUSTC="$RUSTC_DEB" /usr/bin/cargo install -q wasm-bindgen-cli --version "$want" --force
  done_
}

node_tools() {
  [ -d end2end/node_modules/@playwright/test ] && [ -x end2end/node_modules/.bin/wasm-opt ] &&
    [ end2end/node_modules/.package-lock.json -nt end2end/package-lock.json ] && return
  step "Installing Playwright (without browsers) and binaryen from npm (seconds)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund --no-audit --loglevel=error)
  done_
}

SECONDS=0
apt_packages
wasm_std
cargo_leptos
wasm_bindgen_cli
node_tools
echo "Toolchain ready."

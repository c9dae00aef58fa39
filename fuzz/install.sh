#!/usr/bin/env bash
# Installs what fuzzing Atlas needs on a fresh machine: cargo-fuzz, and a toolchain that
# accepts the nightly-only flags it passes to rustc (-Z sanitizer=..., -C passes=...).
#
# The `nightly` toolchain is used when `rustup toolchain list` has it (run.sh picks it
# up); without it, run.sh falls back to the stable toolchain with RUSTC_BOOTSTRAP=1,
# which unlocks the same flags. This script installs the nightly toolchain only if asked:
#   fuzz/install.sh             cargo-fuzz (if missing)
#   fuzz/install.sh --nightly   and the nightly toolchain (if missing)
set -euo pipefail

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
cargo fuzz --version

if [[ "${1:-}" == "--nightly" ]] && ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi

if rustup toolchain list | grep -q '^nightly'; then
    echo "toolchain: nightly"
else
    echo "toolchain: stable with RUSTC_BOOTSTRAP=1 (no nightly installed)"
fi

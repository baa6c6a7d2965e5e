#!/usr/bin/env bash
# Fuzz every reader (transactions CSV / gzip / Parquet, contacts, client attributes,
# retain.toml, model artifacts) with proptest's malformed files for RETAIN_FUZZ_SECONDS
# (default 600), in a release build; prints cases, read, refused and panics per target.
#   scripts/fuzz.sh            # ten minutes
#   scripts/fuzz.sh 60         # one minute
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/retain-target}"
export RETAIN_FUZZ_SECONDS="${1:-${RETAIN_FUZZ_SECONDS:-600}}"
cargo test --release --test fuzz fuzz_for_a_while -- --ignored --nocapture

#!/usr/bin/env bash
# `retain train --model auto` against `retain evaluate --bootstrap 0`, `retain train` with the
# protocol's models named (no selection), and `retain score` with
# the boosted model and reasons for every client, on Online Retail II, beside the Python peer's
# whole run, in one session. Prints wall seconds and peak RSS of each (medians of N runs).
#   scripts/bench_train_score.sh [N] [PEER_PYTHON]
# Needs a release build (`cargo build --release`) and, for the peer, a venv with
# ../shared/bench/requirements.txt (BENCHMARK.md section 9).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-3}"
py="${2:-${TMPDIR:-/tmp}/peer-venv/bin/python}"
bin="$(realpath "${CARGO_TARGET_DIR:-target}/release/retain")"
data="$(realpath ../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz)"
bench="$(realpath ../shared/bench/peer_pipeline.py)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

. scripts/measure.sh

cd "$work"
measure "retain evaluate --bootstrap 0" "$bin" evaluate -q -i "$data" --bootstrap 0 -o ev.json
measure "retain train --model auto --value-model auto" "$bin" train -q -i "$data" -m auto-c --value-model-dir auto-v
measure "retain train --model logistic --value-model clv (the protocol's models, no selection)" \
  "$bin" train -q -i "$data" --model logistic --value-model clv -m logistic-c --value-model-dir clv-v
"$bin" train -q -i "$data" --model gbdt --value-model clv -m gbdt-c --value-model-dir gbdt-v
measure "retain score (gbdt, CLV, 3 reasons for every client)" "$bin" score -q -i "$data" -m gbdt-c --value-model gbdt-v -o s
if [ -x "$py" ]; then
  measure "peer: peer_pipeline.py (whole run)" "$py" "$bench" \
    --data "$data" --cutoff 2011-09-09 --horizon-days 91 --out peer.json
  "$py" - <<'PY'
import json
t = json.load(open("peer.json")).get("timings_s", {})
print("peer in-process stages (s):", ", ".join(f"{k} {v:.2f}" for k, v in t.items()))
PY
fi

#!/usr/bin/env bash
# The nightly job at scale: `retain score` on Online Retail II replicated F times on disk
# (BENCHMARK.md section 8, written by `retain generate --replicate F`, one Parquet file with a
# row group per replica), read through the product's own reader, strings and all, with a
# logistic churn model and the default value model trained on the x1 file; beside the peer's
# in-memory scale test (`peer_pipeline.py --scale-factors F`) in the same session.
# Prints wall seconds and peak RSS (medians of N runs) and each stage's cost (`--format json`).
#   scripts/bench_scale.sh [N] [FACTORS] [DATA_DIR] [PEER_PYTHON]
# e.g. scripts/bench_scale.sh 3 10,100 /var/tmp/retain-scale
# Needs a release build (`cargo build --release`); the peer runs when PEER_PYTHON exists
# (a venv with ../shared/bench/requirements.txt, BENCHMARK.md section 9).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-3}"
factors="${2:-10,100}"
dir="${3:-${TMPDIR:-/tmp}/retain-scale}"
py="${4:-${TMPDIR:-/tmp}/peer-venv/bin/python}"
bin="$(realpath "${CARGO_TARGET_DIR:-target}/release/retain")"
data="$(realpath ../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz)"
bench="$(realpath ../shared/bench/peer_pipeline.py)"
mkdir -p "$dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

. scripts/measure.sh

"$bin" train -q -i "$data" --model logistic -m "$work/churn" --value-model-dir "$work/value"
for f in ${factors//,/ }; do
  file="$dir/orii_x$f.parquet"
  [ -f "$file" ] || "$bin" generate -q --replicate "$f" -i "$data" -o "$dir"
  # --date as a nightly job gives it (the data's last day): each part's features are then
  # computed as it arrives, and the history is never held whole
  measure "retain score x$f" "$bin" score -q -i "$file" -m "$work/churn" \
    --value-model "$work/value" -o "$work/s$f/scores" --date 2011-12-09
  "$bin" score -i "$file" -m "$work/churn" --value-model "$work/value" -o "$work/s$f/scores" \
    --date 2011-12-09 --format json >"$work/s$f.json"
  python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print('  stages (one more run):', ', '.join(f\"{x['stage']} {x['seconds']} s, {x['peak_bytes']/2**20:.0f} MiB heap\" for x in s['stages']), '|', s['summary']['clients'], 'clients')" "$work/s$f.json"
  if [ -x "$py" ]; then
    measure "peer: peer_pipeline.py --scale-factors $f" "$py" "$bench" --data "$data" \
      --cutoff 2011-09-09 --horizon-days 91 --scale-factors "$f" --out "$work/peer$f.json"
    python3 -c "import json,sys; print('  peer stages:', json.load(open(sys.argv[1])))" "$work/peer$f.json" | cut -c1-400
  fi
done

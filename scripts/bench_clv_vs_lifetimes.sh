#!/usr/bin/env bash
# The BG/NBD fit of retain against lifetimes' BetaGeoFitter.fit (penalizer 0), in the same
# session, on the same client summaries: Online Retail II at 2011-09-09 and the CDNOW sample at
# 1997-09-30 (BENCHMARK.md sections 0 and 5; times in weeks). The summaries are exported by
# `retain features`; each side fits REPS times in one process (in-process timer around the fit
# alone, data already in memory) and reports the median; the script prints both and the ratio.
#
#   scripts/bench_clv_vs_lifetimes.sh [REPS]      (default 7)
#
# Needs a release build (cargo build --release && cargo build --release -p retain-clv
# --example fit_bgnbd_csv) and the peer's venv (BENCHMARK.md section 9).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-7}
TARGET=${CARGO_TARGET_DIR:-target}
RETAIN=$TARGET/release/retain
FIT=$TARGET/release/examples/fit_bgnbd_csv
PY=${PEER_PYTHON:-/tmp/peer-venv/bin/python}
DATA=../shared/data
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
[ -x "$RETAIN" ] && [ -x "$FIT" ] || {
  echo "build first: cargo build --release && cargo build --release -p retain-clv --example fit_bgnbd_csv" >&2
  exit 1
}
[ -x "$PY" ] || { echo "no peer venv at $PY (see BENCHMARK.md section 9)" >&2; exit 1; }

"$RETAIN" -q features -i "$DATA/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz" \
  --cutoff 2011-09-09 -o "$OUT/orii.csv"
"$RETAIN" -q features -i "$DATA/cdnow_sample/CDNOW_sample.txt" -l cdnow \
  --cutoff 1997-09-30 -o "$OUT/cdnow.csv"

cat >"$OUT/fit_lifetimes.py" <<'PY'
import statistics, sys, time, warnings
import pandas as pd
from lifetimes import BetaGeoFitter
warnings.filterwarnings("ignore")
path, reps = sys.argv[1], int(sys.argv[2])
f = pd.read_csv(path)
x = f["frequency"].to_numpy()
tx = f["recency_lt"].to_numpy() / 7.0
T = f["T"].to_numpy() / 7.0
times = []
for _ in range(reps):
    t0 = time.perf_counter()
    bgf = BetaGeoFitter(penalizer_coef=0.0).fit(x, tx, T)
    times.append(time.perf_counter() - t0)
p = bgf.params_
print(f"lifetimes n={len(x)} median_s={statistics.median(times):.6f} r={p['r']:.6f} "
      f"alpha={p['alpha']:.6f} a={p['a']:.6f} b={p['b']:.6f}")
PY

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
printf '%-8s %9s %14s %12s %9s\n' data clients lifetimes_s retain_s ratio
for name in orii cdnow; do
  py=$("$PY" "$OUT/fit_lifetimes.py" "$OUT/$name.csv" "$REPS")
  rs=$("$FIT" "$OUT/$name.csv" "$REPS")
  echo "  $py" >&2
  echo "  $rs" >&2
  lt=$(echo "$py" | field median_s)
  rt=$(echo "$rs" | field median_s)
  n=$(echo "$rs" | field n)
  printf '%-8s %9s %14s %12s %8.1fx\n' "$name" "$n" "$lt" "$rt" "$(echo "$lt $rt" | awk '{print $1/$2}')"
done

#!/usr/bin/env bash
# retain against the Python peer (pandas + lifetimes + scikit-learn + LightGBM) on the
# benchmark runs of ../shared/BENCHMARK.md, in the same session, as whole processes:
# wall time and peak memory from /usr/bin/time -v, median of N runs each, alternating.
#
#   scripts/bench_vs_peer.sh [runs]      (default 3)
#
# Needs a release build (cargo build --release) and the peer's venv (BENCHMARK.md section 9):
#   python3 -m venv /tmp/peer-venv && /tmp/peer-venv/bin/pip install -r ../shared/bench/requirements.txt
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
TARGET=${CARGO_TARGET_DIR:-target}
RETAIN=$TARGET/release/retain
PY=${PEER_PYTHON:-/tmp/peer-venv/bin/python}
DATA=../shared/data
OUT=$(mktemp -d)
[ -x "$RETAIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
[ -x "$PY" ] || { echo "no peer venv at $PY (see BENCHMARK.md section 9)" >&2; exit 1; }

# one measured run: prints "wall_seconds peak_rss_kib"
measure() {
  /usr/bin/time -v "$@" >"$OUT/stdout" 2>"$OUT/time" || { cat "$OUT/time" >&2; exit 1; }
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; w=s}
              /Maximum resident set size/ {m=$2} END {print w, m}' "$OUT/time"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

run_pair() {
  local name=$1; shift
  local split=$(( $(printf '%s\n' "$@" | grep -n '^--$' | cut -d: -f1) ))
  local a=("${@:1:split-1}") b=("${@:split+1}")
  : >"$OUT/a"; : >"$OUT/b"
  for _ in $(seq "$RUNS"); do
    measure "${a[@]}" >>"$OUT/a"
    measure "${b[@]}" >>"$OUT/b"
  done
  local aw am bw bm
  aw=$(cut -d' ' -f1 "$OUT/a" | median); am=$(cut -d' ' -f2 "$OUT/a" | median)
  bw=$(cut -d' ' -f1 "$OUT/b" | median); bm=$(cut -d' ' -f2 "$OUT/b" | median)
  printf '%-12s retain %7.2f s %6.0f MiB | peer %7.2f s %6.0f MiB | peer/retain wall %5.1fx, memory %4.1fx\n' \
    "$name" "$aw" "$(echo "$am/1024" | bc -l)" "$bw" "$(echo "$bm/1024" | bc -l)" \
    "$(echo "$bw/$aw" | bc -l)" "$(echo "$bm/$am" | bc -l)"
}

ORII=$DATA/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz
CDNOW=$DATA/cdnow_sample/CDNOW_sample.txt
echo "median of $RUNS runs each, alternating, whole processes. The peer always runs its whole"
echo "pipeline (read, clean, features at both cutoffs, labels, BG/NBD, Gamma-Gamma, logistic"
echo "regression, random forest, LightGBM classifier and regressor, scores, metrics)."
echo "- train: retain train = read, clean, features and labels at both cutoffs, logistic regression,"
echo "  BG/NBD + Gamma-Gamma, baselines, metrics, both artifacts saved"
echo "- evaluate: retain evaluate --bootstrap 0 = every model of the backtest (logistic, tree, forest,"
echo "  boosting, BG/NBD, baselines, GBDT regressor, two-part, CLV), each also refitted on the most"
echo "  recent training window to select the model"
run_pair "orii train" \
  "$RETAIN" train -q -i "$ORII" --cutoff 2011-09-09 --horizon 91 -m "$OUT/m" --clv-model-dir "$OUT/c" -- \
  "$PY" ../shared/bench/peer_pipeline.py --data "$ORII" --cutoff 2011-09-09 --horizon-days 91 --out "$OUT/peer-orii.json"
run_pair "orii eval" \
  "$RETAIN" evaluate -q -i "$ORII" --cutoff 2011-09-09 --horizon 91 --bootstrap 0 -o "$OUT/retain-orii.json" -- \
  "$PY" ../shared/bench/peer_pipeline.py --data "$ORII" --cutoff 2011-09-09 --horizon-days 91 --out "$OUT/peer-orii.json"
run_pair "cdnow eval" \
  "$RETAIN" evaluate -q -i "$CDNOW" -l cdnow --cutoff 1997-09-30 --horizon 273 --train-horizon 90 --bootstrap 0 -o "$OUT/retain-cdnow.json" -- \
  "$PY" ../shared/bench/peer_pipeline.py --data "$CDNOW" --cutoff 1997-09-30 --horizon-days 273 --train-horizon-days 90 --out "$OUT/peer-cdnow.json"

"$PY" - "$OUT/peer-orii.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["timings_s"]
same = ["load_csv", "clean_aggregate", "feature_engineering", "labels", "fit_bgnbd",
        "fit_gamma_gamma", "fit_logreg", "score_all", "metrics"]
print("peer, ORII, in-process seconds of the stages retain has: "
      + ", ".join(f"{k} {t[k]:.2f}" for k in same) + f"; sum {sum(t[k] for k in same):.2f}"
      + f" (interpreter start to end: {t['total_in_process']:.2f})")
PY
rm -rf "$OUT"

#!/usr/bin/env bash
# Times `retain train` against the same training on Spark (local[2], every frame's features
# computed on the executors), in one session, as whole processes: median wall time and peak
# RSS of RUNS runs (the Spark figure is the driver's Python process; the JVM is apart).
#
#   scripts/bench_spark_train.sh RUNS LINES CUTOFF [PYTHON]
#
# LINES is a Parquet file or a CSV (read by Spark as text). PYTHON is an interpreter with the
# release wheel and pyspark installed (default: python3); see scripts/bench_python.sh. The
# models of the last runs are checked equal (model.json byte for byte).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=$1 LINES=$2 CUTOFF=$3 PY=${4:-python3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/retain-target}"
cargo build --quiet --release --bin retain
BIN="$CARGO_TARGET_DIR/release/retain"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

measure() { # name command...: prints "name seconds peak_MiB" for each run
  local name=$1; shift
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$OUT/time" "$@" > "$OUT/$name.log" 2>&1
    read -r secs kb < "$OUT/time"
    echo "$name $secs $((kb / 1024))"
  done
}

{
  measure cli "$BIN" train -q -i "$LINES" --cutoff "$CUTOFF" -m "$OUT/cli/churn" --value-model-dir "$OUT/cli/value"
  measure spark "$PY" scripts/bench_python.py spark-train "$LINES" "$OUT/spark/churn" "$OUT/spark/value" "$CUTOFF"
} | tee "$OUT/runs"
cat "$OUT/spark.log"
"$PY" - "$OUT" <<'PY'
import statistics, sys
out = sys.argv[1]
runs = {}
for line in open(f"{out}/runs"):
    name, secs, mib = line.split()
    runs.setdefault(name, []).append((float(secs), int(mib)))
cli = statistics.median(s for s, _ in runs["cli"])
for name, rs in runs.items():
    s = statistics.median(x for x, _ in rs)
    m = statistics.median(x for _, x in rs)
    print(f"{name:7s} median {s:7.2f} s  peak {m:6d} MiB  ({s / cli:.2f}x the CLI)")
for kind in ("churn", "value"):
    a = open(f"{out}/cli/{kind}/model.json", "rb").read()
    b = open(f"{out}/spark/{kind}/model.json", "rb").read()
    print(f"{kind} model.json equal: {a == b}")
PY

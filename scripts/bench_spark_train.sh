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
n=$RUNS work=$OUT
. scripts/measure.sh

{
  measure_runs cli "$BIN" train -q -i "$LINES" --cutoff "$CUTOFF" -m "$OUT/cli/churn" --value-model-dir "$OUT/cli/value"
  measure_runs spark "$PY" scripts/bench_python.py spark-train "$LINES" "$OUT/spark/churn" "$OUT/spark/value" "$CUTOFF"
} | tee "$OUT/runs"
tr "\r" "\n" < "$OUT/spark.log" | tail -n 1   # the Spark run's steps
"$PY" scripts/bench_python.py summary "$OUT"
"$PY" - "$OUT" <<'PY'
import sys
out = sys.argv[1]
for kind in ("churn", "value"):
    a = open(f"{out}/cli/{kind}/model.json", "rb").read()
    b = open(f"{out}/spark/{kind}/model.json", "rb").read()
    print(f"{kind} model.json equal: {a == b}")
PY

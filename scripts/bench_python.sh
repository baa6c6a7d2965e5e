#!/usr/bin/env bash
# Times `retain score` against the same scoring through the Python package and through Spark
# (local[2]), in one session, as whole processes: median wall time and peak RSS of RUNS runs.
#
#   scripts/bench_python.sh RUNS LINES.parquet CHURN_MODEL VALUE_MODEL DATE [PYTHON]
#
# PYTHON is an interpreter with the release wheel, pyarrow and pyspark installed
# (default: python3). Build the wheel with
#   (cd crates/retain-py && maturin build --release -o dist) && pip install crates/retain-py/dist/retain-*.whl
# The three lists are checked equal (their Parquet files' tables).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=$1 LINES=$2 CHURN=$3 VALUE=$4 DATE=$5 PY=${6:-python3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/retain-target}"
cargo build --quiet --release --bin retain
BIN="$CARGO_TARGET_DIR/release/retain"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
n=$RUNS work=$OUT
. scripts/measure.sh

{
  measure_runs cli "$BIN" score -q -i "$LINES" -m "$CHURN" --value-model "$VALUE" --date "$DATE" -o "$OUT/cli"
  measure_runs python "$PY" scripts/bench_python.py python "$LINES" "$CHURN" "$VALUE" "$DATE" "$OUT/python.parquet"
  measure_runs spark "$PY" scripts/bench_python.py spark "$LINES" "$CHURN" "$VALUE" "$DATE" "$OUT/spark.parquet"
} | tee "$OUT/runs"
"$PY" scripts/bench_python.py summary "$OUT"
"$PY" - "$OUT" <<'PY'
import sys, pyarrow.parquet as pq
out = sys.argv[1]
a = pq.read_table(f"{out}/cli.parquet")
for name in ("python", "spark"):
    b = pq.read_table(f"{out}/{name}.parquet")
    print(f"{name} list equals the CLI's: {a.equals(b)}")
PY

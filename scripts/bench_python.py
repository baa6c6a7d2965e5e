"""One timed run of retain's Python package or of retain on Spark (scripts/bench_python.sh).

    python scripts/bench_python.py python LINES.parquet CHURN VALUE DATE OUT.parquet
    python scripts/bench_python.py spark  LINES.parquet CHURN VALUE DATE OUT.parquet [BUCKETS]
    python scripts/bench_python.py spark-train LINES CHURN_DIR VALUE_DIR CUTOFF [BUCKETS]
    python scripts/bench_python.py summary OUT

Reads the lines, scores them with the saved models and writes the list as Parquet; prints the
seconds of each step (reading, scoring, writing; Spark's session start apart) as JSON. The
`spark-train` mode trains the default (auto) models on Spark into the two folders instead
(LINES: Parquet, or CSV read as text). `summary` prints the median time and peak memory of
each path in OUT/runs (the lines of scripts/measure.sh's `measure_runs`) against the first's.
"""

import json
import os
import sys
import time

import pyarrow.parquet as pq

import retain

COLUMN_ROLES = (
    "client_id", "timestamp", "amount", "quantity", "unit_price", "invoice", "product",
    "category",
)


def session():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master("local[2]")
        .config("spark.driver.memory", "8g")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def spark_train(lines: str, churn: str, value: str, cutoff: str, buckets: int) -> None:
    from retain import spark as rs

    t0 = time.perf_counter()
    spark = session()
    steps = {"session": time.perf_counter() - t0}
    if lines.endswith((".csv", ".csv.gz")):
        df = spark.read.option("header", True).csv(lines)
    else:
        df = spark.read.parquet(lines)
    t1 = time.perf_counter()
    info = rs.train(df, churn, value, buckets, cutoff=cutoff)
    steps["train"] = time.perf_counter() - t1
    steps["churn_model"] = info["churn"]["kind"]
    steps["value_model"] = info["value"]["kind"]
    print(json.dumps(steps))


def summary(out: str) -> None:
    import statistics

    runs: dict[str, list[tuple[float, int]]] = {}
    for line in open(f"{out}/runs"):
        name, secs, mib = line.split()
        runs.setdefault(name, []).append((float(secs), int(mib)))
    first = statistics.median(s for s, _ in next(iter(runs.values())))
    for name, rs in runs.items():
        s = statistics.median(x for x, _ in rs)
        m = statistics.median(x for _, x in rs)
        print(f"{name:7s} median {s:7.2f} s  peak {m:6d} MiB  ({s / first:.2f}x the CLI)")


def main() -> None:
    if sys.argv[1] == "summary":
        summary(sys.argv[2])
        return
    if sys.argv[1] == "spark-train":
        lines, churn, value, cutoff = sys.argv[2:6]
        buckets = int(sys.argv[6]) if len(sys.argv) > 6 else 8
        spark_train(lines, churn, value, cutoff, buckets)
        return
    mode, lines, churn, value, date, out = sys.argv[1:7]
    steps = {}
    t0 = time.perf_counter()
    if mode == "python":
        # the layout's columns, as the CLI reads them
        layout = retain.layout_of("online_retail_ii")
        wanted = [c for k, c in layout.items() if k in COLUMN_ROLES and c]
        table = pq.read_table(lines, columns=wanted)
        tx = retain.Transactions.from_arrow(table, layout, name=lines)
        steps["read"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        scores = retain.Scorer.load(churn, value_model=value).score(tx, date)
        steps["score"] = time.perf_counter() - t1
    else:
        from retain import spark as rs

        spark = session()
        steps["session"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        buckets = int(sys.argv[7]) if len(sys.argv) > 7 else 8
        scores = rs.score(
            spark.read.parquet(lines), churn, date, buckets, value_model=value
        )
        steps["score"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    pq.write_table(scores, out)
    steps["write"] = time.perf_counter() - t2
    steps["clients"] = scores.num_rows
    print(json.dumps(steps))


if __name__ == "__main__":
    main()

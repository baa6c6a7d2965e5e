"""Scoring under Spark (local[2]): the lines partitioned by client hash into buckets, read on
the executors in small Arrow batches that split clients, the list finished on the driver,
equal to ``retain score``'s byte for byte, from shuffled input."""

import json
import os
import pathlib
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import retain
from retain import spark as rs

from conftest import SAMPLE, ipc

# CI sets RETAIN_REQUIRE_SPARK: there a missing pyspark or Java fails rather than skips
if not os.environ.get("RETAIN_REQUIRE_SPARK"):
    pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("retain-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "500")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    yield session
    session.stop()


def lines_df(spark, table: pa.Table):
    order = list(range(table.num_rows))
    random.Random(11).shuffle(order)
    shuffled = table.take(order).to_pandas()
    return spark.createDataFrame(shuffled)


def test_spark_scores_the_cli_list(spark, cli, models, sample_table, tmp_path):
    churn, value = models
    cli("score", "-q", "-i", SAMPLE, "-m", churn, "--value-model", value, "-o", tmp_path / "s")
    expected = pq.read_table(tmp_path / "s.parquet")
    df = lines_df(spark, sample_table)
    got, summary = rs.score_with_summary(df, churn, "2023-12-31", 4, value_model=value)
    assert summary["clients"] == 3000
    assert ipc(got) == ipc(expected)
    # and as a Spark DataFrame with the declared schema
    out = rs.score_df(spark, df, churn, "2023-12-31", 3, value_model=value)
    assert out.count() == 3000
    assert dict(out.dtypes)["risk_rank"] == "bigint"
    first = out.orderBy("risk_rank").first()
    assert first["client_id"] == expected.column("client_id")[0].as_py()


def test_spark_options_reach_the_list(spark, cli, models, sample_table, tmp_path):
    churn, value = models
    cli(
        "score", "-q", "-i", SAMPLE, "-m", churn, "--value-model", value, "-o", tmp_path / "s",
        "--date", "2023-10-01", "--rank-by", "value_at_risk", "--reasons-for", "50",
    )
    expected = pq.read_table(tmp_path / "s.parquet")
    got = rs.score(
        lines_df(spark, sample_table), churn, "2023-10-01", 5, value_model=value,
        rank_by="value_at_risk", reasons_for=50,
    )
    assert ipc(got) == ipc(expected)


def test_a_bad_line_on_an_executor_names_it(spark, models, sample_table):
    churn, value = models
    prices = sample_table.column("Price").to_pylist()
    prices[5] = float("inf")
    bad = sample_table.set_column(
        sample_table.schema.get_field_index("Price"), "Price", pa.array(prices)
    )
    with pytest.raises(Exception, match="Price"):
        rs.score(lines_df(spark, bad), churn, "2023-12-31", 2, value_model=value)


@pytest.mark.parametrize("kind", ["bgnbd", "mbgnbd"])
def test_the_customer_base_from_spark_counts_is_the_one_machine_fit(spark, sample_table, kind):
    tx = retain.Transactions.from_arrow(sample_table)
    one = retain.fit_customer_base(tx, "2023-10-01", kind=kind)
    got = rs.fit_customer_base(lines_df(spark, sample_table), "2023-10-01", 3, kind=kind)
    assert got == one
    assert got["clients"] == one["clients"] > 2000
    assert any(k.endswith("_r") for k in got["parameters"])


def without_source(card: dict) -> dict:
    """A card without the one thing a distributed source names differently: the input's path
    (the lines' fingerprint is the one-machine read's, added up from the partitions')."""
    card = json.loads(json.dumps(card))
    card["data_source"].pop("path")
    assert len(card["data_source"]["lines_sha256"]) == 64
    return card


def saved(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(pathlib.Path(folder).iterdir())}


@pytest.mark.parametrize(
    "sample, options",
    [
        # the selection on validation targets, every feature family
        (None, dict(model="auto", value_model="auto", families="all")),
        # a seeded client sample, named models
        (0.6, dict(model="ensemble", value_model="two_part", families="none")),
    ],
)
def test_spark_trains_the_one_machine_models(spark, sample_table, tmp_path, sample, options):
    tx = retain.Transactions.from_arrow(sample_table)
    if sample is not None:
        tx = tx.sample_clients(sample, seed=5)
        assert 1500 < tx.stats["clients"] < 2100
    one = retain.train(tx, tmp_path / "c1", tmp_path / "v1", **options)
    got = rs.train(
        lines_df(spark, sample_table), tmp_path / "c2", tmp_path / "v2", 4,
        sample=sample, seed=5, **options,
    )
    assert got["selection"] == one["selection"]
    assert (one["selection"] is not None) == (options["model"] == "auto")
    for kind in ("churn", "value"):
        assert without_source(got[kind]) == without_source(one[kind])
        assert got[kind]["data_source"]["path"] == "<spark>"
    # the models the folders hold, byte for byte (the cards but their source)
    for a, b in (("c1", "c2"), ("v1", "v2")):
        x, y = saved(tmp_path / a), saved(tmp_path / b)
        assert x.keys() == y.keys() and x["model.json"] == y["model.json"]
        assert without_source(json.loads(x["card.json"])) == without_source(
            json.loads(y["card.json"])
        )
    assert got["churn"]["data_source"]["clients"] == one["churn"]["data_source"]["clients"]


@pytest.mark.parametrize("bad", [0, -0.5, 1.5])
def test_a_bad_sample_fraction_is_refused_before_any_job(spark, sample_table, bad):
    with pytest.raises(retain.ConfigError, match=f"sample = {bad}: the fraction of clients"):
        rs.frames(lines_df(spark, sample_table), sample=bad)


def test_spark_evaluates_as_one_machine(spark, sample_table):
    tx = retain.Transactions.from_arrow(sample_table)
    one = retain.evaluate(tx, bootstrap=0, validation_targets=1)
    got = rs.evaluate(lines_df(spark, sample_table), 3, bootstrap=0, validation_targets=1)
    assert got == one


def test_a_failed_frame_job_raises_its_own_error(sample_table, tmp_path):
    def compute(cutoff, labels, families, family_horizon):
        raise RuntimeError(f"executor lost at {cutoff}")

    stats = retain.Transactions.from_arrow(sample_table).stats
    frames = retain.Frames(compute, stats, name="<test>")
    with pytest.raises(RuntimeError, match="executor lost at 2023-12-31"):
        retain.train(frames, tmp_path / "c", tmp_path / "v", model="logistic", value_model="clv")
    assert not (tmp_path / "c").exists()
    # the first frame asked for: the clients' countries at the training cutoff
    assert frames.requests() == [("2023-12-31", None, "", 0)]

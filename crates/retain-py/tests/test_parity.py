"""The Python package runs the command line's library code: the same lines give the same
features, models, evaluation and list, byte for byte, whatever table library they come from."""

import json
import random

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import retain

from conftest import SAMPLE, ipc


def shuffled(table: pa.Table) -> pa.Table:
    order = list(range(table.num_rows))
    random.Random(7).shuffle(order)
    return table.take(order)


def in_small_batches(table: pa.Table) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=997))


INPUTS = {
    "pyarrow": lambda t: t,
    "polars": lambda t: pl.read_csv(SAMPLE, infer_schema_length=None),
    "pandas": lambda t: pd.read_csv(SAMPLE),
    # a DuckDB relation hands its result over as an Arrow stream, batch by batch
    "duckdb": lambda t: duckdb.sql(f"select * from read_csv('{SAMPLE}')"),
    "shuffled": shuffled,
    "batches": in_small_batches,
}


@pytest.mark.parametrize("kind", INPUTS)
def test_score_equals_the_cli_list(kind, cli, models, sample_table, tmp_path):
    churn, value = models
    cli("score", "-q", "-i", SAMPLE, "-m", churn, "--value-model", value, "-o", tmp_path / "scores")
    expected = pq.read_table(tmp_path / "scores.parquet")
    tx = retain.Transactions.from_arrow(INPUTS[kind](sample_table))
    got = retain.Scorer.load(churn, value_model=value).score(tx)
    assert got.num_rows == 3000
    assert got.schema == expected.schema
    assert ipc(got) == ipc(expected)


def test_score_options_and_summary_equal_the_cli(cli, models, sample_table, tmp_path):
    churn, value = models
    cli(
        "score", "-q", "-i", SAMPLE, "-m", churn, "--value-model", value, "-o",
        tmp_path / "scores", "--date", "2023-10-01", "--rank-by", "value_at_risk",
        "--reasons", "2", "--reasons-for", "100", "--margin", "0.3", "--key-share", "0.5",
    )
    expected = pq.read_table(tmp_path / "scores.parquet")
    summary = json.loads((tmp_path / "summary.json").read_text())
    tx = retain.Transactions.from_arrow(sample_table)
    got, got_summary = retain.Scorer.load(churn, value_model=value).score_with_summary(
        tx, "2023-10-01", rank_by="value_at_risk", reasons=2, reasons_for=100, margin=0.3,
        key_share=0.5,
    )
    assert ipc(got) == ipc(expected)
    # the summary names the files written; the Python call writes none
    for s in (summary, got_summary):
        s.pop("files", None)
    assert got_summary == summary


@pytest.mark.parametrize("families", [None, "all"])
def test_features_equal_the_cli_table(families, cli, sample_table, tmp_path):
    args = ["features", "-q", "-i", SAMPLE, "--cutoff", "2023-10-01", "--labels", "91"]
    if families:
        args += ["--families", families]
    cli(*args, "-o", tmp_path / "f.parquet")
    expected = pq.read_table(tmp_path / "f.parquet")
    tx = retain.Transactions.from_arrow(sample_table)
    got = retain.features(tx, "2023-10-01", labels=91, families=families)
    assert got.num_rows == expected.num_rows > 2000
    assert ipc(got) == ipc(expected)


def test_train_saves_the_cli_models(cli, models, sample_table, tmp_path):
    churn, value = models
    tx = retain.Transactions.from_arrow(sample_table, name=str(SAMPLE))
    info = retain.train(tx, tmp_path / "churn", tmp_path / "value")
    for cli_dir, py_dir in [(churn, tmp_path / "churn"), (value, tmp_path / "value")]:
        assert (py_dir / "model.json").read_bytes() == (cli_dir / "model.json").read_bytes()
        card, py_card = (json.loads((d / "card.json").read_text()) for d in (cli_dir, py_dir))
        # the data source is the same lines, read from a table rather than the file
        assert py_card["data_source"]["lines_sha256"] == card["data_source"]["lines_sha256"]
        for c in (card, py_card):
            c.pop("created_at", None)
            c["data_source"].pop("path")
        assert py_card == card
    assert info["churn"]["kind"] == json.loads((churn / "card.json").read_text())["kind"]
    assert info["selection"] is not None
    # and the models load and score
    scores = retain.Scorer.load(tmp_path / "churn", value_model=tmp_path / "value").score(tx)
    assert scores.num_rows == 3000


def test_evaluate_equals_the_cli_file(cli, sample_table, tmp_path):
    cli("evaluate", "-q", "-i", SAMPLE, "--bootstrap", "0", "-o", tmp_path / "e.json")
    expected = json.loads((tmp_path / "e.json").read_text())
    got = retain.evaluate(retain.Transactions.from_arrow(sample_table), bootstrap=0)
    assert got == expected
    assert got["backtest"]["cutoffs"][-1]["selection"]["churn_model"]


def test_transactions_summary_and_lines(sample_table):
    tx = retain.Transactions.from_arrow(sample_table)
    assert len(tx) == 53791
    assert tx.stats["clients"] == 3000
    assert tx.stats["first_day"] == "2022-01-01" and tx.stats["last_day"] == "2023-12-31"
    lines = tx.to_arrow()
    assert lines.num_rows == 53791
    assert {"client_id", "day", "amount"} <= set(lines.schema.names)
    # the same lines in any order have the same fingerprint
    assert retain.Transactions.from_arrow(shuffled(sample_table)).lines_sha256() == tx.lines_sha256()

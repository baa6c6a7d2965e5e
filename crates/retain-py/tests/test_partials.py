"""Scoring in parts of whole clients, as the Spark path runs it without Spark: each "worker"
pushes its clients' lines into a features builder, the partial tables are stacked in any
order, and the list scored from them equals the CLI's, byte for byte."""

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import retain
from retain import spark as rs

from conftest import SAMPLE, ipc


def buckets_of(table: pa.Table, n: int) -> list[pa.Table]:
    """The lines split into `n` buckets of whole clients (by client id modulo `n`), each sorted
    by client, in reverse bucket order."""
    ids = table.column("Customer ID")
    out = []
    for b in reversed(range(n)):
        part = table.filter(pc.equal(pc.bit_wise_and(ids, n - 1), b))
        out.append(part.sort_by("Customer ID"))
    return out


def test_partials_of_workers_score_the_cli_list(cli, models, sample_table, tmp_path):
    churn, value = models
    cli("score", "-q", "-i", SAMPLE, "-m", churn, "--value-model", value, "-o", tmp_path / "s")
    expected = pq.read_table(tmp_path / "s.parquet")
    scorer = retain.Scorer.load(churn, value_model=value)
    date = "2023-12-31"
    tables = []
    for part in buckets_of(sample_table, 4):
        builder = scorer.features_builder(date)
        # batches that split clients are carried, as the Spark partition function does
        carry = None
        for batch in part.to_batches(max_chunksize=701):
            t = pa.Table.from_batches([batch])
            if carry is not None and carry.num_rows:
                t = pa.concat_tables([carry, t])
            split = rs._last_client_start(t.column("Customer ID"))
            if split:
                builder.push(t.slice(0, split))
            carry = t.slice(split)
        builder.push(carry)
        tables.append(builder.finish())
    schema = scorer.features_builder(date).finish().schema
    assert all(t.schema == schema for t in tables)
    got, summary = scorer.score_partials(pa.concat_tables(tables), date)
    assert ipc(got) == ipc(expected)
    assert summary["clients"] == 3000


def test_a_client_in_two_workers_is_refused(models, sample_table):
    churn, value = models
    scorer = retain.Scorer.load(churn, value_model=value)
    one = scorer.features_builder("2023-12-31")
    one.push(sample_table)
    partial = one.finish()
    with pytest.raises(retain.RetainError, match="two parts"):
        scorer.score_partials(pa.concat_tables([partial, partial]), "2023-12-31")


def test_the_last_client_of_a_batch_is_found():
    ids = pa.chunked_array([[1, 1, 2, 2, 2]])
    assert rs._last_client_start(ids) == 2
    assert rs._last_client_start(pa.chunked_array([[3, 3]])) == 0
    assert rs._last_client_start(pa.chunked_array([["a", None, None]])) == 1


def test_the_wire_schema_is_what_spark_reads(models):
    churn, value = models
    schema = retain.Scorer.load(churn, value_model=value).features_builder("2023-12-31").finish().schema
    wire = rs._spark_safe(schema)
    assert not any(pa.types.is_unsigned_integer(f.type) for f in wire)
    assert not any(pa.types.is_large_string(f.type) for f in wire)
    assert wire.names == schema.names

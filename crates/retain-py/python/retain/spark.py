"""retain on Spark: the lines of a Spark DataFrame scored by client, the list equal to the
single-machine one byte for byte.

Scoring runs in two steps with the library functions ``retain score`` runs:

1. On the executors (``mapInArrow``), everything that depends on one client's lines alone.
   The lines are partitioned by a hash of the client id into ``buckets`` and sorted by client
   within each partition; each partition's Arrow batches are read as retain reads a file
   (validated, cleaned, in canonical order), a client whose lines run past the end of a batch
   carried into the next, and its clients' features computed
   (:meth:`retain.Scorer.features_builder`). The partial features are cast to a declared schema.
2. On the driver, what needs every client at once: the country table, the models' ranks, the
   key clients and the drift check (:meth:`retain.Scorer.score_partials`), from one row of
   partial features per client.

Training (:func:`train`, :func:`evaluate`) reads every frame the training asks for (each
training window's features and labels, each validation target's) the same way: the
executors compute each client's partial features, the driver finishes them with the training
cutoff's country table and fits the models (:class:`retain.Frames`), so the models equal those
``retain train`` fits on the same lines; the lines, partitioned once, stay cached between the
frames. ``sample`` trains on a seeded sample of the clients by a hash of the client id.

The models travel to the executors as their JSON artifacts (text), never as pickles. Set
``spark.sql.session.timeZone`` to the zone the timestamps were written in (or hand
``TimestampNTZ`` columns): the days are those of the session's clock.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa

from ._retain import (
    Frames,
    Scorer,
    Transactions,
    features_builder,
    fit_customer_base_counts,
    layout_of,
)
from ._retain import evaluate as _evaluate
from ._retain import train as _train

__all__ = [
    "evaluate",
    "fit_customer_base",
    "frames",
    "partial_features",
    "score",
    "score_df",
    "score_with_summary",
    "spark_schema",
    "train",
]


def _artifacts(folder: str | os.PathLike[str]) -> dict[str, str]:
    """The files of a model folder, by name: the JSON the executors rebuild it from."""
    folder = os.fspath(folder)
    return {
        name: open(os.path.join(folder, name), encoding="utf-8").read()
        for name in sorted(os.listdir(folder))
        if os.path.isfile(os.path.join(folder, name))
    }


def _load(churn: dict[str, str], value: dict[str, str] | None, where: str) -> Scorer:
    """A scorer from its artifacts' text, written under ``where``."""
    dirs = []
    for name, files in (("churn", churn), ("value", value)):
        if files is None:
            dirs.append(None)
            continue
        d = os.path.join(where, name)
        os.makedirs(d)
        for file, text in files.items():
            with open(os.path.join(d, file), "w", encoding="utf-8") as f:
                f.write(text)
        dirs.append(d)
    return Scorer.load(dirs[0], value_model=dirs[1])


def _spark_safe(schema: pa.Schema) -> pa.Schema:
    """The schema with the types Spark reads: unsigned integers widened to signed ones, text
    as ``string``."""

    def safe(t: pa.DataType) -> pa.DataType:
        if pa.types.is_unsigned_integer(t):
            return {8: pa.int16(), 16: pa.int32(), 32: pa.int64(), 64: pa.int64()}[t.bit_width]
        if pa.types.is_large_string(t) or t == getattr(pa, "string_view", pa.string)():
            return pa.string()
        return t

    return pa.schema([pa.field(f.name, safe(f.type), f.nullable) for f in schema])


def spark_schema(schema: pa.Schema):
    """The Spark ``StructType`` of a pyarrow schema (after :func:`_spark_safe`)."""
    try:
        from pyspark.sql.pandas.types import from_arrow_schema
    except ImportError as e:  # pragma: no cover - pyspark missing
        raise ImportError("retain.spark needs pyspark (pip install pyspark)") from e
    return from_arrow_schema(_spark_safe(schema))


def _last_client_start(ids: pa.ChunkedArray) -> int:
    """Where the run of the last client's lines starts (lines sorted by client)."""
    import numpy as np
    import pyarrow.compute as pc

    last = ids[len(ids) - 1]
    same = pc.is_null(ids) if not last.is_valid else pc.fill_null(pc.equal(ids, last), False)
    other = np.flatnonzero(~same.to_numpy(zero_copy_only=False))
    return 0 if len(other) == 0 else int(other[-1]) + 1


def _whole_clients(batches: Iterator[pa.RecordBatch], client: str) -> Iterator[pa.Table]:
    """The batches of a partition sorted by client, as tables of whole clients: a client
    whose lines run past the end of a batch is carried into the next."""
    carry = None
    for batch in batches:
        if batch.num_rows == 0:
            continue
        table = pa.Table.from_batches([batch])
        if carry is not None and carry.num_rows:
            table = pa.concat_tables([carry, table])
        split = _last_client_start(table.column(client))
        if split > 0:
            yield table.slice(0, split)
        carry = table.slice(split)
    if carry is not None and carry.num_rows:
        yield carry


def _features_of_partition(
    churn: dict[str, str] | None,
    value: dict[str, str] | None,
    date: str,
    layout: Mapping[str, Any],
    as_of: str | None,
    client: str,
    schema: pa.Schema,
    builder: Mapping[str, Any] | None = None,
):
    """The function every partition runs (step 1); it captures text only. Without models
    (``churn`` None), the features of ``features_builder`` with the ``builder`` settings."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        with tempfile.TemporaryDirectory(prefix="retain-models-") as where:
            options = dict(layout=dict(layout), as_of=as_of, name="<spark partition>")
            if churn is None:
                parts = features_builder(date, **options, **dict(builder or {}))
            else:
                parts = _load(churn, value, where).features_builder(date, **options)
            for table in _whole_clients(batches, client):
                parts.push(table)
            out = parts.finish()
        yield from out.cast(schema).to_batches()

    return run


def partial_features(
    df,
    model_dir: str | os.PathLike[str],
    date: str,
    buckets: int | None = None,
    *,
    value_model: str | os.PathLike[str] | None = None,
    layout: str | Mapping[str, Any] | None = None,
    as_of: str | None = None,
):
    """Step 1 alone: a Spark DataFrame with one row of partial features per client (and one
    per client country), computed on the executors, and the retain schema to cast it back
    to. ``buckets`` partitions the lines by client (default: the DataFrame's partitions)."""
    date = str(date)
    spec = layout_of(layout)
    client = spec["client_id"]
    scorer = Scorer.load(model_dir, value_model=value_model)
    # the declared schema: what any partition gives, computed here from no lines
    retain_schema = scorer.features_builder(date, layout=spec).finish().schema
    wire = _spark_safe(retain_schema)
    churn = _artifacts(model_dir)
    value = _artifacts(value_model) if value_model is not None else None
    lines = _client_lines(df, client, buckets)
    run = _features_of_partition(
        churn, value, date, spec, None if as_of is None else str(as_of), client, wire
    )
    return lines.mapInArrow(run, spark_schema(retain_schema)), retain_schema


def _client_lines(df, client: str, buckets: int | None):
    """The lines partitioned by a hash of the client id and sorted by client."""
    n = buckets or df.rdd.getNumPartitions()
    return df.repartition(n, df[client]).sortWithinPartitions(client)


def fit_customer_base(
    df,
    cutoff: str,
    buckets: int | None = None,
    *,
    layout: str | Mapping[str, Any] | None = None,
    as_of: str | None = None,
    kind: str = "bgnbd",
) -> dict[str, Any]:
    """The customer-base model (BG/NBD, Pareto/NBD or MBG/NBD with Gamma-Gamma) fitted on
    every client of the lines in ``df`` at ``cutoff``, equal bit for bit to
    :func:`retain.fit_customer_base` on one machine. The executors compute each client's
    features; Spark counts the clients of each distinct (frequency, recency, age) row; the
    driver fits the purchase model on those counts (a few thousand rows for millions of
    clients) and the spend model on every client's (frequency, monetary) in client order."""
    cutoff = str(cutoff)
    spec = layout_of(layout)
    client = spec["client_id"]
    retain_schema = features_builder(cutoff, layout=spec).finish().schema
    wire = _spark_safe(retain_schema)
    run = _features_of_partition(
        None, None, cutoff, spec, None if as_of is None else str(as_of), client, wire
    )
    features = (
        _client_lines(df, client, buckets)
        .mapInArrow(run, spark_schema(retain_schema))
        .where("__features_row")
        .select("client_id", "frequency", "recency_lt", "T", "monetary")
        .cache()
    )
    try:
        distinct = _collect(features.groupBy("frequency", "recency_lt", "T").count())
        clients = _collect(features.select("client_id", "frequency", "monetary")).sort_by(
            "client_id"
        )
    finally:
        features.unpersist()
    return fit_customer_base_counts(distinct, clients, kind=kind)


_STATS = pa.schema(
    [
        pa.field("lines", pa.int64()),
        pa.field("clients", pa.int64()),
        pa.field("first_day", pa.string()),
        pa.field("last_day", pa.string()),
        pa.field("digest", pa.string()),
    ]
)


def _stats_of_partition(layout, as_of, client, sample, seed):
    """Each partition's lines read as retain reads them (validated and cleaned, the client
    sample taken): for each run of whole clients, its lines, clients, first and last day and
    the digest of its lines (``Transactions.lines_digest``), one row."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for table in _whole_clients(batches, client):
            tx = Transactions.from_arrow(
                table, dict(layout), as_of=as_of, name="<spark partition>"
            )
            if sample is not None:
                tx = tx.sample_clients(sample, seed=seed)
            s = tx.stats
            row = dict(
                lines=[s["lines"]],
                clients=[s["clients"]],
                first_day=[s["first_day"]],
                last_day=[s["last_day"]],
                digest=[tx.lines_digest()],
            )
            yield pa.RecordBatch.from_pydict(row, schema=_STATS)

    return run


def frames(
    df,
    *,
    layout: str | Mapping[str, Any] | None = None,
    as_of: str | None = None,
    sample: float | None = None,
    seed: int = 0,
    name: str = "<spark>",
) -> Frames:
    """The feature frames of the lines in the Spark DataFrame ``df``, computed on the
    executors when :func:`retain.train` or :func:`retain.evaluate` asks for them
    (:class:`retain.Frames`). ``df`` must hold each client's lines in one partition, sorted
    by client (as :func:`train` passes them, cached; a client split between partitions is
    refused); ``sample`` keeps a seeded share of the clients.
    One Spark job reads the lines' counts and days now; each frame is one more job."""
    spec = layout_of(layout)
    client = spec["client_id"]
    as_of = None if as_of is None else str(as_of)
    # the fraction checked as every builder checks it (ConfigError naming it), before any job
    features_builder("2000-01-01", layout=spec, sample=sample, seed=seed)
    stats_job = df.mapInArrow(
        _stats_of_partition(spec, as_of, client, sample, seed), spark_schema(_STATS)
    )
    rows = _collect(stats_job).to_pylist()
    days = [d for r in rows for d in (r["first_day"], r["last_day"]) if d is not None]
    stats = dict(
        lines=sum(r["lines"] for r in rows),
        clients=sum(r["clients"] for r in rows),
        first_day=min(days) if days else None,
        last_day=max(days) if days else None,
        digests=[r["digest"] for r in rows],
    )

    def compute(cutoff: str, labels: int | None, families: list[str], family_horizon: int):
        builder = dict(
            families=families, horizon=family_horizon, labels=labels, sample=sample, seed=seed
        )
        retain_schema = features_builder(cutoff, layout=spec, **builder).finish().schema
        run = _features_of_partition(
            None, None, cutoff, spec, as_of, client, _spark_safe(retain_schema), builder
        )
        table = _collect(df.mapInArrow(run, spark_schema(retain_schema)))
        return table.select(retain_schema.names).cast(retain_schema)

    return Frames(compute, stats, layout=spec, name=name)


def train(
    df,
    model_dir: str | os.PathLike[str],
    value_model_dir: str | os.PathLike[str],
    buckets: int | None = None,
    *,
    layout: str | Mapping[str, Any] | None = None,
    as_of: str | None = None,
    sample: float | None = None,
    seed: int = 0,
    name: str = "<spark>",
    **options: Any,
) -> dict[str, Any]:
    """Trains the churn and value models on the lines of the Spark DataFrame ``df`` as
    :func:`retain.train` does on one machine (the same keywords: ``cutoff``, ``model``,
    ``value_model``, ``families``...), every frame's features computed on the executors:
    the same models, bit for bit. ``buckets`` partitions the lines by client; ``sample``
    (with ``seed``) trains on a seeded share of the clients, the clients
    ``Transactions.sample_clients`` keeps. The cards record ``name`` as the source."""
    client = layout_of(layout)["client_id"]
    lines = _client_lines(df, client, buckets).persist()
    try:
        data = frames(
            lines, layout=layout, as_of=as_of, sample=sample, seed=seed, name=name
        )
        return _train(data, model_dir, value_model_dir, **options)
    finally:
        lines.unpersist()


def evaluate(
    df,
    buckets: int | None = None,
    *,
    layout: str | Mapping[str, Any] | None = None,
    as_of: str | None = None,
    sample: float | None = None,
    seed: int = 0,
    **options: Any,
) -> dict[str, Any]:
    """:func:`retain.evaluate` on the lines of the Spark DataFrame ``df`` (the same keywords),
    every frame's features computed on the executors: the same evaluation."""
    client = layout_of(layout)["client_id"]
    lines = _client_lines(df, client, buckets).persist()
    try:
        data = frames(lines, layout=layout, as_of=as_of, sample=sample, seed=seed)
        return _evaluate(data, **options)
    finally:
        lines.unpersist()


def _collect(df) -> pa.Table:
    """A Spark DataFrame on the driver as a pyarrow Table (Spark 4's ``toArrow``, else the
    batches Spark 3.5 collects)."""
    if hasattr(df, "toArrow"):
        return df.toArrow()
    batches = df._collect_as_arrow()
    return pa.Table.from_batches(batches, schema=_spark_safe(batches[0].schema) if batches else None)


def score_with_summary(
    df,
    model_dir: str | os.PathLike[str],
    date: str,
    buckets: int | None = None,
    *,
    value_model: str | os.PathLike[str] | None = None,
    layout: str | Mapping[str, Any] | None = None,
    as_of: str | None = None,
    **options: Any,
) -> tuple[pa.Table, dict[str, Any]]:
    """:func:`score` and the run summary."""
    partials, retain_schema = partial_features(
        df, model_dir, date, buckets, value_model=value_model, layout=layout, as_of=as_of
    )
    table = _collect(partials)
    table = table.select(retain_schema.names).cast(retain_schema)
    scorer = Scorer.load(model_dir, value_model=value_model)
    return scorer.score_partials(table, str(date), **options)


def score(df, model_dir, date, buckets=None, **kwargs) -> pa.Table:
    """Scores every client of the lines in the Spark DataFrame ``df`` at ``date`` with the
    models saved in ``model_dir`` (and ``value_model``): the ranked list ``retain score``
    writes for the same lines, byte for byte, as a pyarrow Table on the driver. ``layout``
    names the columns (as in ``Transactions.from_arrow``); ``buckets`` is the number of
    client partitions; the other keywords are :func:`score_with_summary`'s."""
    return score_with_summary(df, model_dir, date, buckets, **kwargs)[0]


def score_df(spark, df, model_dir, date, buckets=None, **kwargs):
    """:func:`score` as a Spark DataFrame, its columns cast to a declared schema (unsigned
    integers as signed, text as ``string``)."""
    table = score(df, model_dir, date, buckets, **kwargs)
    table = table.cast(_spark_safe(table.schema))
    schema = spark_schema(table.schema)
    try:
        return spark.createDataFrame(table, schema=schema)
    except (TypeError, ValueError):  # Spark 3.5 takes pandas, not Arrow tables
        return spark.createDataFrame(table.to_pandas(), schema=schema)

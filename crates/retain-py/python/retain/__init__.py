"""retain from Python: the library the ``retain`` command line runs, as one wheel.

Read lines from any Arrow table (pyarrow, polars, DuckDB, pandas), then compute features,
train, score and evaluate exactly as the command line does::

    import pyarrow.csv, retain
    tx = retain.Transactions.from_arrow(pyarrow.csv.read_csv("lines.csv"), "online_retail_ii")
    retain.train(tx, "models/churn", "models/value")
    scores = retain.Scorer.load("models/churn", value_model="models/value").score(tx)

Every result is a pyarrow Table (or plain Python objects for cards and evaluations); every
error a :class:`RetainError` carrying the command line's message.
"""

from ._retain import (
    PRESETS,
    ConfigError,
    DataError,
    FeatureParts,
    Frames,
    RetainError,
    Scorer,
    Transactions,
    __version__,
    evaluate,
    features,
    features_builder,
    fit_customer_base,
    fit_customer_base_counts,
    layout_of,
    train,
)

__all__ = [
    "PRESETS",
    "ConfigError",
    "DataError",
    "FeatureParts",
    "Frames",
    "RetainError",
    "Scorer",
    "Transactions",
    "__version__",
    "evaluate",
    "features",
    "features_builder",
    "fit_customer_base",
    "fit_customer_base_counts",
    "layout_of",
    "train",
]

"""Type stubs of retain's extension module (crates/retain-py/src/lib.rs)."""

import datetime
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any, Literal, TypedDict

import pyarrow
from typing_extensions import Unpack

__version__: str
PRESETS: list[str]

DateLike = datetime.date | str
"""A day: a ``datetime.date`` (a datetime or pandas Timestamp counts as its day) or ``"YYYY-MM-DD"``."""
Families = str | Sequence[str]
"""Feature families: ``"all"``, ``"none"``, ``"windows,decayed"``, or a list of names."""

class ScoreOptions(TypedDict, total=False):
    """The list's options: ``retain score``'s flags of the same names."""

    reasons: int
    """Reasons per client, 0 to 20 (default 3)."""
    reasons_for: int | None
    """Reasons only for the first N clients of the list (default None: every client)."""
    rank_by: Literal["churn", "value_at_risk"]
    """What orders the list (default "churn")."""
    key_share: float
    """Share of the total CLV the key clients reach, in (0, 1] (default 0.8)."""
    discount_rate: float
    """Yearly discount rate of the CLV, above -1 (default 0)."""
    margin: float
    """Profit margin of the CLV, in (0, 1] (default 1)."""
    bands: tuple[float, float]
    """Lower bounds of the medium and high churn bands (default (0.5, 0.75))."""
    drift_threshold: float
    """PSI above which a distribution counts as drifted (default 0.25)."""

class RetainError(Exception):
    """An error retain reports: the message is the command line's, causes included."""

class DataError(RetainError):
    """The input data violate what retain needs (a missing column, a bad value, windows the data do not cover)."""

class ConfigError(RetainError):
    """A setting or a saved model is wrong or does not fit the data."""

class Transactions:
    """Validated, cleaned transaction lines in retain's canonical order."""

    @classmethod
    def from_arrow(
        cls,
        data: Any,
        layout: str | Mapping[str, Any] | None = None,
        *,
        as_of: DateLike | None = None,
        name: str = "<arrow>",
    ) -> Transactions:
        """Reads ``data`` (any object with ``__arrow_c_stream__``: a pyarrow Table or
        RecordBatchReader, a polars DataFrame, a DuckDB result; or a pandas DataFrame) with
        ``layout`` (a preset name such as ``"online_retail_ii"`` or ``"cdnow"``, or a dict with
        the keys of retain.toml's ``[layout]``; default Online Retail II's), validated and
        ordered as ``retain`` reads a file. Lines dated after ``as_of`` (default: tomorrow,
        UTC) are refused. ``name`` stands for the file in error messages.

        Raises DataError for a missing column, a bad value (by row), no lines; ConfigError
        for a bad layout; TypeError for anything that is not a table."""

    @property
    def stats(self) -> dict[str, Any]:
        """What reading did: lines read and kept, returns, lines without a client, free lines
        dropped, clients, first and last day."""

    def sample_clients(self, fraction: float, *, seed: int = 0) -> Transactions:
        """The lines of a seeded sample of about ``fraction`` (in (0, 1]) of the clients,
        kept by a hash of the client id and ``seed``: the clients every worker of a
        distributed run keeps (``retain.spark.train(..., sample=)``)."""

    def __len__(self) -> int:
        """Number of lines kept."""

    def lines_sha256(self) -> str:
        """The lines' fingerprint recorded in model cards (the same however the lines were
        ordered or split)."""

    def lines_digest(self) -> str:
        """The fingerprint before it is finished, as text: a worker's share, for
        ``Frames(stats={"digests": [...]})`` to add up into the whole's ``lines_sha256``."""

    def to_arrow(self) -> pyarrow.Table:
        """The clean line table (canonical columns; client ids as retain codes them)."""

def features(
    tx: Transactions,
    cutoff: DateLike | None = None,
    *,
    labels: int | None = None,
    families: Families | None = None,
) -> pyarrow.Table:
    """Every client's features at ``cutoff`` (default: the data's last day; with ``labels``,
    that many days before it): the protocol's 29, then the feature ``families``; with
    ``labels`` (days), the churn label and the revenue after the cutoff. The table
    ``retain features`` writes."""

def train(
    tx: Transactions | Frames,
    model_dir: str | PathLike[str],
    value_model_dir: str | PathLike[str],
    *,
    cutoff: DateLike | None = None,
    horizon: int = 91,
    train_horizon: int | None = None,
    model: Literal["auto", "logistic", "tree", "forest", "gbdt", "ensemble"] = "auto",
    value_model: Literal["auto", "clv", "two_part", "gbdt", "ensemble"] = "auto",
    rfm_model: Literal["bgnbd", "pareto", "mbgnbd"] = "bgnbd",
    families: Families | None = None,
    validation_targets: int = 2,
    selection_clients: int = 100_000,
) -> dict[str, Any]:
    """Trains the churn and value models at ``cutoff`` (default: the data's last day) and
    saves them to ``model_dir`` and ``value_model_dir`` as ``retain train`` does (the
    previous models stay in place if anything fails). Beyond ``selection_clients`` clients
    the selection reads a seeded sample of about that many (0: every client). ``tx`` may be :class:`Frames`, features
    computed elsewhere (``retain.spark.train``): the same models. Returns ``{"churn": card, "value":
    card, "selection": selection or None}``."""

def evaluate(
    tx: Transactions | Frames,
    *,
    cutoff: DateLike | None = None,
    horizon: int = 91,
    train_horizon: int | None = None,
    cutoffs: int = 1,
    bootstrap: int = 200,
    families: Families | None = None,
    validation_targets: int = 2,
    selection_clients: int = 100_000,
) -> dict[str, Any]:
    """The out-of-time evaluation ``retain evaluate`` runs: every model and baseline trained
    before ``cutoff`` (default: ``horizon`` days before the data's last day) and judged on the
    ``horizon`` days after it (``tx`` may be :class:`Frames`). Returns what
    ``evaluation.json`` holds."""

def layout_of(layout: str | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The layout a preset name or dict names (None: Online Retail II's), as a dict."""

def features_builder(
    date: DateLike,
    *,
    families: Families | None = None,
    horizon: int = 91,
    labels: int | None = None,
    sample: float | None = None,
    seed: int = 0,
    layout: str | Mapping[str, Any] | None = None,
    as_of: DateLike | None = None,
    name: str = "<arrow>",
) -> FeatureParts:
    """A builder of every client's features at ``date`` (the 29 and the ``families`` over
    ``horizon`` days) from lines pushed in parts of whole clients: one worker's share of a
    distributed run. With ``labels`` (days), the labels after ``date`` too (the lines pushed
    must reach that far); with ``sample``, only the clients of
    ``Transactions.sample_clients(sample, seed=seed)``."""

def fit_customer_base(
    tx: Transactions,
    cutoff: DateLike | None = None,
    *,
    kind: Literal["bgnbd", "pareto", "mbgnbd"] = "bgnbd",
) -> dict[str, Any]:
    """The customer-base model (purchase model and Gamma-Gamma) fitted on every client's
    features at ``cutoff``: ``{"parameters": {...}, "clients": n}``."""

def fit_customer_base_counts(
    distinct: Any,
    clients: Any,
    *,
    kind: Literal["bgnbd", "pareto", "mbgnbd"] = "bgnbd",
) -> dict[str, Any]:
    """:func:`fit_customer_base` from counts: ``distinct`` holds the distinct ``frequency``,
    ``recency_lt``, ``T`` (days) with ``count``; ``clients`` every client's ``frequency`` and
    ``monetary`` in client order. The same model, bit for bit."""

class Frames:
    """Feature frames computed elsewhere (a distributed run's workers), for :func:`train` and
    :func:`evaluate`: each frame the training asks for is ``compute(cutoff, labels, families,
    family_horizon)``, the stacked partial tables of every worker (``FeatureParts.finish`` of
    a builder with those settings), finished with the training cutoff's country table."""

    def __init__(
        self,
        compute: Any,
        stats: Mapping[str, Any],
        *,
        layout: str | Mapping[str, Any] | None = None,
        name: str = "<frames>",
    ) -> None:
        """``compute(cutoff: str, labels: int | None, families: list[str], family_horizon:
        int)`` returns an Arrow table; ``stats`` holds the lines' ``lines``, ``clients``,
        ``first_day`` and ``last_day`` (as ``Transactions.stats``) and, optionally,
        ``digests``, the ``lines_digest()`` of each disjoint set of clients, which the model
        cards' line fingerprint adds up (without them the cards hold none); ``layout`` and
        ``name`` are recorded in the model cards."""

    def requests(self) -> list[tuple[str, int | None, str, int]]:
        """The frames computed so far: (cutoff, labels, families, family horizon)."""

class FeatureParts:
    """The features of one worker's clients, from lines pushed in parts of whole clients."""

    def push(self, lines: Any) -> None:
        """Reads ``lines`` (validated, cleaned, ordered as ``Transactions.from_arrow`` does)
        and computes its clients' features; every client's lines must come in one push."""

    def finish(self) -> pyarrow.Table:
        """The partial features of every client pushed, as one table for the wire (without
        any push: no rows, the declared schema)."""

class Scorer:
    """The saved churn model (and optionally the value model), ready to score any number of
    transaction tables."""

    @staticmethod
    def load(
        model_dir: str | PathLike[str], value_model: str | PathLike[str] | None = None
    ) -> Scorer:
        """Loads the models ``train`` or ``retain train`` saved; a model that does not load, or
        a pair trained apart, raises ConfigError."""

    @property
    def churn_card(self) -> dict[str, Any]:
        """The churn model's card."""

    @property
    def value_card(self) -> dict[str, Any] | None:
        """The value model's card, or None."""

    def score(
        self,
        tx: Transactions,
        date: DateLike | None = None,
        **options: Unpack[ScoreOptions],
    ) -> pyarrow.Table:
        """Scores every client with a purchase on or before ``date`` (default: the data's last
        day): the ranked list ``retain score`` writes, equal to its Parquet file. ``options``
        are the command line's flags of the same names (:class:`ScoreOptions`)."""

    def features_builder(
        self,
        date: DateLike,
        *,
        layout: str | Mapping[str, Any] | None = None,
        as_of: DateLike | None = None,
        name: str = "<arrow>",
    ) -> FeatureParts:
        """A builder of the features these models read at ``date``, from lines pushed in
        parts of whole clients (the first step of scoring in parts)."""

    def score_partials(
        self,
        partials: Any,
        date: DateLike,
        **options: Unpack[ScoreOptions],
    ) -> tuple[pyarrow.Table, dict[str, Any]]:
        """Scores the clients of the stacked partial tables ``FeatureParts.finish`` gave
        (every client in one of them): the list ``score`` gives for all their lines at once,
        bit for bit, and the run summary."""

    def score_with_summary(
        self,
        tx: Transactions,
        date: DateLike | None = None,
        **options: Unpack[ScoreOptions],
    ) -> tuple[pyarrow.Table, dict[str, Any]]:
        """``score`` and the run summary (``summary.json``: models, counts, drift check)."""

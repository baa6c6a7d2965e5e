"""Bad input from Python is refused with the command line's message, as a Python exception
of the error's category; nothing is half-written."""

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import retain

from conftest import SAMPLE, cli_message


def refused_as_by_the_cli(cli, table: pa.Table, path) -> str:
    """Writes `table` as CSV at `path`, reads it with the CLI (which must refuse it, writing
    nothing) and from Python; the Python error's message is the CLI's. Returns it."""
    pacsv.write_csv(table, path)
    out = path.with_suffix(".features.csv")
    done = cli("features", "-q", "-i", path, "-o", out, check=False)
    assert done.returncode == 1
    assert not out.exists()
    with pytest.raises(retain.DataError) as e:
        retain.Transactions.from_arrow(pacsv.read_csv(path), name=str(path))
    assert str(e.value) == cli_message(done.stderr)
    return str(e.value)


def test_a_missing_column_is_named_as_the_cli_names_it(cli, sample_table, tmp_path):
    message = refused_as_by_the_cli(cli, sample_table.drop_columns(["Price"]), tmp_path / "p.csv")
    assert "Price" in message


def test_a_bad_value_is_named_by_column_row_and_value(cli, sample_table, tmp_path):
    prices = sample_table.column("Price").cast(pa.string()).to_pylist()
    prices[41] = "1,5O"
    bad = sample_table.set_column(
        sample_table.schema.get_field_index("Price"), "Price", pa.array(prices)
    )
    message = refused_as_by_the_cli(cli, bad, tmp_path / "bad_price.csv")
    assert "row 42" in message and "1,5O" in message


def test_lines_after_as_of_are_refused(sample_table):
    with pytest.raises(retain.DataError, match=r"column `InvoiceDate`.*2023-06-30"):
        retain.Transactions.from_arrow(sample_table, as_of="2023-06-30")


def test_an_empty_table_is_refused(sample_table):
    with pytest.raises(retain.DataError, match="<arrow>"):
        retain.Transactions.from_arrow(sample_table.slice(0, 0))


def test_settings_outside_their_range_are_config_errors(sample_table, models):
    with pytest.raises(retain.ConfigError, match="unknown layout|no-such-layout"):
        retain.Transactions.from_arrow(sample_table, "no-such-layout")
    with pytest.raises(retain.ConfigError, match="client_idd|unknown field"):
        retain.Transactions.from_arrow(sample_table, {"client_idd": "Customer ID"})
    tx = retain.Transactions.from_arrow(sample_table)
    with pytest.raises(retain.ConfigError, match="unknown feature family `weekly`"):
        retain.features(tx, families="weekly")
    churn, value = models
    scorer = retain.Scorer.load(churn, value_model=value)
    with pytest.raises(retain.ConfigError, match="key share 1.5"):
        scorer.score(tx, key_share=1.5)
    with pytest.raises(retain.ConfigError, match="rank_by"):
        scorer.score(tx, rank_by="value")
    with pytest.raises(retain.ConfigError, match="not a date"):
        scorer.score(tx, "2023-13-01")
    with pytest.raises(retain.ConfigError, match="margin = 0"):
        scorer.score(tx, margin=0.0)
    with pytest.raises(TypeError, match="reason_count"):
        scorer.score(tx, reason_count=2)


def test_a_missing_model_is_named_as_the_cli_names_it(cli, tmp_path):
    done = cli(
        "score", "-q", "-i", SAMPLE, "-m", tmp_path / "nothing", "-o", tmp_path / "s", check=False
    )
    assert done.returncode == 1
    with pytest.raises(retain.ConfigError) as e:
        retain.Scorer.load(tmp_path / "nothing")
    assert str(e.value) == cli_message(done.stderr)


def test_what_is_not_a_table_is_a_type_error():
    with pytest.raises(TypeError, match="Arrow C stream"):
        retain.Transactions.from_arrow([1, 2, 3])


def test_labels_past_the_data_are_a_data_error(sample_table):
    tx = retain.Transactions.from_arrow(sample_table)
    with pytest.raises(retain.DataError, match="choose a cutoff on or before 2023-10-01"):
        retain.features(tx, "2023-11-30", labels=91)

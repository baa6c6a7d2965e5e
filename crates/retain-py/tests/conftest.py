"""Shared fixtures: the command-line program the Python package is compared with, and the
sample data in the three table libraries users hand to ``retain``."""

import os
import pathlib
import shutil
import subprocess

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
SAMPLE = REPO / "data" / "sample" / "transactions.csv.gz"


def cli_path() -> pathlib.Path:
    """The `retain` binary: $RETAIN_BIN, else the dev build in $CARGO_TARGET_DIR."""
    if os.environ.get("RETAIN_BIN"):
        return pathlib.Path(os.environ["RETAIN_BIN"])
    target = os.environ.get("CARGO_TARGET_DIR", str(pathlib.Path.home() / ".cache/retain-target"))
    path = pathlib.Path(target) / "debug" / "retain"
    if path.exists():
        return path
    found = shutil.which("retain")
    if found is None:
        raise RuntimeError("no retain binary: build it (cargo build) or set RETAIN_BIN")
    return pathlib.Path(found)


@pytest.fixture(scope="session")
def cli():
    """Runs the command line; returns the completed process (stdout and stderr as text)."""
    path = cli_path()

    def run(*args, check=True):
        done = subprocess.run(
            [str(path), *map(str, args)], capture_output=True, text=True, cwd=REPO
        )
        if check and done.returncode != 0:
            raise AssertionError(f"retain {' '.join(map(str, args))} failed:\n{done.stderr}")
        return done

    return run


@pytest.fixture(scope="session")
def sample_table() -> pa.Table:
    return pacsv.read_csv(SAMPLE)


@pytest.fixture(scope="session")
def models(tmp_path_factory, cli):
    """The churn and value models `retain train` fits on the sample (the default selection)."""
    d = tmp_path_factory.mktemp("models")
    cli("train", "-q", "-i", SAMPLE, "-m", d / "churn", "--value-model-dir", d / "value")
    return d / "churn", d / "value"


def ipc(table: pa.Table) -> bytes:
    """A table as Arrow IPC stream bytes, one batch: equal bytes, equal tables and schemas."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return sink.getvalue().to_pybytes()


def cli_message(stderr: str) -> str:
    """The CLI's error as Python's exception carries it: the lines after `error: `."""
    lines = stderr.strip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("error: "))
    return "\n".join([lines[start][len("error: "):], *lines[start + 1 :]])

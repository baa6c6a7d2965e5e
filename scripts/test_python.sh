#!/usr/bin/env bash
# Builds the Python package (crates/retain-py) as a wheel and runs its tests with pytest.
#
# Makes a venv under ${TMPDIR:-/tmp} with the pinned tools of crates/retain-py/requirements-test.txt,
# builds the wheel with maturin in the dev profile (the dependencies `cargo test` already
# compiled, in the same target folder), installs it, and runs crates/retain-py/tests against the
# `retain` binary of the same dev build (built first when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/retain-target}"
VENV="${TMPDIR:-/tmp}/retain-python-venv"
WHEELS="${TMPDIR:-/tmp}/retain-python-wheels"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r crates/retain-py/requirements-test.txt

cargo build --quiet --bin retain
rm -rf "$WHEELS"
(cd crates/retain-py && "$VENV/bin/maturin" build --quiet --profile dev -o "$WHEELS")
"$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$WHEELS"/retain-*.whl

export RETAIN_BIN="$CARGO_TARGET_DIR/debug/retain"
"$VENV/bin/python" -m pytest -q crates/retain-py/tests "$@"

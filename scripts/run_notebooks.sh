#!/usr/bin/env bash
# Runs every notebook under notebooks/ top to bottom, headless, on fresh retain outputs.
#
# Makes a venv under ${TMPDIR:-/tmp} with the pinned packages of notebooks/requirements.txt and
# retain's Python package (crates/retain-py), writes the outputs the notebooks read (the demo
# on the sample data; Online Retail II at the benchmark cutoff when ../shared/data has it),
# then executes each notebook with nbclient.
# The executed copies go to ${TMPDIR:-/tmp}/retain-notebooks-out; notebooks/ stays clean.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/retain-target}"
VENV="${TMPDIR:-/tmp}/retain-notebooks-venv"
OUT="${TMPDIR:-/tmp}/retain-notebooks-out"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r notebooks/requirements.txt
# retain's Python package (the notebooks call it where it serves better than a file): the
# wheel scripts/test_python.sh built, else one built here from the dev build
WHEELS="${TMPDIR:-/tmp}/retain-python-wheels"
if ! ls "$WHEELS"/retain-*.whl >/dev/null 2>&1; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$(grep '^maturin==' crates/retain-py/requirements-test.txt)"
  (cd crates/retain-py && "$VENV/bin/maturin" build --quiet --profile dev -o "$WHEELS")
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$WHEELS"/retain-*.whl

retain() { cargo run --quiet -- "$@"; }

# the sample: the demo (scores, evaluation, KPIs) and the features with labels
retain demo -q
retain features -q -i data/sample/transactions.csv.gz --cutoff 2023-10-01 --labels 91 \
  -o out/demo/features.parquet

notebooks=(notebooks/explore_transactions.ipynb notebooks/outreach_list.ipynb)
ORII=../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz
if [ -f "$ORII" ]; then
  retain evaluate -q -i "$ORII" --cutoff 2011-09-09 --bootstrap 0 -o out/orii/evaluation.json
  retain train -q -i "$ORII" --cutoff 2011-09-09 -m out/orii/model --clv-model-dir out/orii/clv
  retain score -q -i "$ORII" -m out/orii/model --clv-model out/orii/clv --date 2011-09-09 \
    -o out/orii/scores
  retain features -q -i "$ORII" --cutoff 2011-09-09 --labels 91 -o out/orii/features.parquet
  notebooks+=(notebooks/models_online_retail.ipynb)
else
  echo "note: $ORII is missing: notebooks/models_online_retail.ipynb is not run" >&2
fi

"$VENV/bin/python" scripts/run_notebooks.py --out "$OUT" "${notebooks[@]}"

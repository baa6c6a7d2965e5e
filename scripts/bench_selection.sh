#!/usr/bin/env bash
# What the tuning and the second validation target cost: `retain evaluate --bootstrap 0` on
# Online Retail II and the CDNOW sample with the default selection (every feature family, the
# grid, two validation targets) against the selection of the 29 features on one target
# (`--families none --validation-targets 1`), and, when BASE is given, against another build
# of retain (for example the one before the tuned models: `git worktree add /tmp/base <commit>`
# and `cargo build --release` there), all in one run, runs alternating, medians of N.
#
#   scripts/bench_selection.sh [N] [BASE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-3}"
base="${2:-}"
bin="${CARGO_TARGET_DIR:-$HOME/.cache/retain-target}/release/retain"
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
. scripts/measure.sh
orii=../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz
cdnow=../shared/data/cdnow_sample/CDNOW_sample.txt
ev=(evaluate --bootstrap 0 -o "$work/e.json" -q)
for round in $(seq "$n"); do
  one=1
  if [ -n "$base" ]; then
    n=$one measure "ORII, base build" "$base" "${ev[@]}" -i "$orii" --cutoff 2011-09-09
  fi
  n=$one measure "ORII, 29 features, one target" "$bin" "${ev[@]}" -i "$orii" --cutoff 2011-09-09 --families none --validation-targets 1
  n=$one measure "ORII, default (families, grid, two targets)" "$bin" "${ev[@]}" -i "$orii" --cutoff 2011-09-09
  if [ -n "$base" ]; then
    n=$one measure "CDNOW 273 d, base build" "$base" "${ev[@]}" -i "$cdnow" -l cdnow --cutoff 1997-09-30 --horizon 273 --train-horizon 90
  fi
  n=$one measure "CDNOW 273 d, default" "$bin" "${ev[@]}" -i "$cdnow" -l cdnow --cutoff 1997-09-30 --horizon 273 --train-horizon 90
done | tee "$work/all"
echo
echo "medians of $n:"
cut -c1-58 "$work/all" | sed 's/ *$//' | awk '!seen[$0]++' | while IFS= read -r label; do
  grep -F "$label " "$work/all" | sed -E 's/^.{58} +([0-9.]+) s.*/\1/' | sort -g |
    awk -v l="$label" '{a[NR]=$1} END {printf "%-58s %6.2f s\n", l, a[int((NR+1)/2)]}'
done

#!/usr/bin/env bash
# The figures of `memlab run` in BENCHMARKS.md: a first build on a fresh
# cache, re-runs of an unchanged file, re-runs after a one-line edit, a user
# program of 1,000,000 heap events, and a 1,000,000-event trace as JSON.
# Usage: bench/run.sh [MEMLAB]   (default: target/release/memlab)
set -euo pipefail
cd "$(dirname "$0")/.."
memlab=$(realpath "${1:-target/release/memlab}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache="$work/cache"

seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null 2>&1; end=$(date +%s.%N); printf "%.2f\n" "$(echo "$end - $start" | bc)"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
range() { sort -n | awk '{a[NR]=$1} END {printf "%s–%s", a[1], a[NR]}'; }

"$memlab" new "$work/demo.rs" > /dev/null
echo "first run on a fresh cache (compiles memlab's runtime once): $(seconds "$memlab" run "$work/demo.rs" --cache-dir "$cache") s"

for i in 1 2 3 4 5; do seconds "$memlab" run "$work/demo.rs" --cache-dir "$cache"; done > "$work/same"
echo "re-run, file unchanged: median $(median < "$work/same") s ($(range < "$work/same") s, 5 runs)"

for i in 1 2 3 4 5; do
    sed -i "s/for i in 0\.\.[0-9]* {/for i in 0..$((5 + i)) {/" "$work/demo.rs"
    seconds "$memlab" run "$work/demo.rs" --cache-dir "$cache"
done > "$work/edit"
echo "re-run after a one-line edit: median $(median < "$work/edit") s ($(range < "$work/edit") s, 5 edits)"

"$memlab" run bench/run/million.rs --cache-dir "$cache" --timeout 300 > /dev/null 2>&1
/usr/bin/time -f "a user program of 1,000,000 heap events, traced and shown: %e s; peak of the larger process %M KB" \
    "$memlab" run bench/run/million.rs --cache-dir "$cache" --timeout 300 > /dev/null 2> "$work/time" || true
tail -1 "$work/time"
/usr/bin/time -f "trace many-boxes --n 500000 --format json (1,000,000 events): %e s; peak %M KB" \
    "$memlab" trace many-boxes --n 500000 --format json > /dev/null 2> "$work/time"
tail -1 "$work/time"

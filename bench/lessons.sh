#!/usr/bin/env bash
# The lesson-folder figure in BENCHMARKS.md: `memlab list` and `memlab
# lesson` on folders of 100 lessons, each at the size cap (1 MiB), one
# folder per kind of content that costs the most to parse or lay out
# (long prose, many paragraphs, headings, list items, brackets, emphasis,
# table-like lines, code, live values). Each kind is one file, hard-linked
# 100 times (every link is a regular file memlab reads and checks).
# Prints one line per kind and command: the median of 5 runs, and the
# exit code (1: the lesson is refused by a limit, which is the point).
# Usage: bench/lessons.sh [MEMLAB]   (default: target/release/memlab)
set -euo pipefail
cd "$(dirname "$0")/.."
memlab=$(realpath "${1:-target/release/memlab}")
work=$(mktemp -d)
# A lesson read records progress: in this folder, never the user's own.
export MEMLAB_STATE="$work/state.toml"
trap 'rm -rf "$work"' EXIT
cap=$((1 << 20))

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Seconds one run takes, then its exit code.
timed() {
    local start end code=0
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || code=$?
    end=$(date +%s.%N)
    printf "%.3f %s\n" "$(echo "$end - $start" | bc)" "$code"
}

# A lesson of exactly `cap` bytes: front matter, a prediction, evidence,
# then `unit` repeated (as `yes` prints it: one per line).
lesson() {
    local unit=$1 file=$2
    {
        printf '+++\ntitle = "T"\nsummary = "S"\nscenarios = ["box"]\norder = 1\n+++\n'
        printf '# T\n\n> **Predict:** how many heap events?\n\n'
        printf '```memlab\nanswer box events\n```\n\n```memlab\nevents box\n```\n\n'
        yes -- "$unit" || true
    } | head -c "$cap" > "$file"
}

declare -A kinds=(
    [prose]="Words of one long paragraph of prose, every line a soft break in it,"
    [paragraphs]=$'A paragraph of prose, long enough that the lesson keeps under the limits.\n'
    [short-paragraphs]=$'A paragraph.\n'
    [headings]=$'## A heading of a section, long enough to keep the lesson under the limits\n'
    [items]="- a list item, long enough that the lesson stays under the limit of pieces"
    [brackets]="[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
    [emphasis]='*a **b _c __d `e` ***f'
    [table]="| a | b | c |"
    [code]="    an indented line of code"
    [live]="{{box count alloc}}"
)
printf "%-16s %-8s %9s %5s\n" kind command seconds exit
for kind in $(printf '%s\n' "${!kinds[@]}" | sort); do
    dir="$work/$kind"
    mkdir "$dir"
    lesson "${kinds[$kind]}" "$dir/l000.md"
    for i in $(seq -w 1 99); do ln "$dir/l000.md" "$dir/l0$i.md"; done
    for command in list "lesson l050"; do
        # shellcheck disable=SC2086
        for run in 1 2 3 4 5; do timed "$memlab" $command --lessons-dir "$dir"; done > "$work/times"
        code=$(awk '{print $2}' "$work/times" | sort -u | tr '\n' ' ')
        printf "%-16s %-8s %9s %5s\n" "$kind" "${command%% *}" "$(awk '{print $1}' "$work/times" | median)" "$code"
    done
    rm -r "$dir"
done

#!/bin/sh
# Time-boxed fuzzing of every target: `fuzz/run-all.sh [seconds per target]` (default 60).
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). New inputs go to a
# scratch corpus (`fuzz/work/<target>/`, ignored by git); the seed corpus in `fuzz/corpus/` is
# read only. Prints one summary line per target: executions, seconds, crashes.
set -eu
cd "$(dirname "$0")"
seconds="${1:-60}"
cargo +nightly fuzz build -O
for target in $(cargo +nightly fuzz list); do
    mkdir -p "work/$target" artifacts
    log="work/$target.log"
    status=0
    cargo +nightly fuzz run -O "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    crashes=$(ls "artifacts/$target" 2>/dev/null | wc -l)
    echo "$target: ${execs} execs in ${seconds} s, exit ${status}, crash artifacts: ${crashes}"
done

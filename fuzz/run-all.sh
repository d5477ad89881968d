#!/bin/sh
# Time-boxed fuzzing of every target: `fuzz/run-all.sh [seconds per target]` (default 60).
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). New inputs go to a
# scratch corpus (`fuzz/work/<target>/`, ignored by git); the seed corpus in `fuzz/corpus/` is
# read only. Prints one summary line per target: executions, seconds, crashes.
set -eu
cd "$(dirname "$0")"
seconds="${1:-60}"
cargo +nightly fuzz build -O
# The core's response fixtures seed the `responses` target too, each behind its header line
# `<resource>.<endpoint> <status>` (as `crates/cyrisma-core/tests/fuzz_corpus.rs` replays them).
fixtures="work/responses-fixtures"
mkdir -p "$fixtures"
for file in ../crates/cyrisma-core/tests/fixtures/*/*/*; do
    dir=$(dirname "$file")
    name=$(basename "$file")
    { printf '%s.%s %s\n' "$(basename "$(dirname "$dir")")" "$(basename "$dir")" "${name%%-*}"; cat "$file"; } \
        >"$fixtures/$(basename "$dir")-$name"
done
for target in $(cargo +nightly fuzz list); do
    mkdir -p "work/$target" artifacts
    log="work/$target.log"
    status=0
    seeds="corpus/$target"
    if [ "$target" = responses ]; then seeds="$seeds $fixtures"; fi
    # shellcheck disable=SC2086 # two seed directories for `responses`
    cargo +nightly fuzz run -O "$target" "work/$target" $seeds -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    crashes=$(ls "artifacts/$target" 2>/dev/null | wc -l)
    echo "$target: ${execs} execs in ${seconds} s, exit ${status}, crash artifacts: ${crashes}"
done

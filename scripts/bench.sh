#!/usr/bin/env bash
# Runs the criterion benches of tachometer-benches several times and prints, for every
# bench, the median over the runs, the spread, and the ratio to its group's baseline
# measured in the same run.
#
#   scripts/bench.sh [RUNS]            # default 3 runs; BENCH_FILTER narrows the benches
#
# Each run is saved as a criterion baseline named <prefix>-<n> under target/criterion, so
# a later invocation never mixes with this one.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-3}"
prefix="run$(date +%Y%m%d%H%M%S)"
filter=()
if [[ -n "${BENCH_FILTER:-}" ]]; then
    filter=("$BENCH_FILTER")
fi

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores" >&2
for n in $(seq 1 "$runs"); do
    echo "run $n of $runs; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    cargo bench -p tachometer-benches --benches -- --save-baseline "$prefix-$n" "${filter[@]}" >&2
done
target="${CARGO_TARGET_DIR:-target}"
cargo run -q -p tachometer-benches --bin bench-summary -- \
    --criterion-dir "$target/criterion" --prefix "$prefix-"

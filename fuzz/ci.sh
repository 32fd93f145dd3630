#!/usr/bin/env bash
# Short fuzz runs for CI. Usage: fuzz/ci.sh [SECONDS_PER_TARGET] (default 15).
#
# Builds every target once; replays each target's kept regression inputs
# (tests/fixtures/fuzz/<target>/, exactly as the fuzzer decodes them); then runs each target,
# one at a time with a single job, on its committed corpus (fuzz/corpus/<target>, read only)
# plus a scratch corpus (fuzz/corpus-work/<target>, git-ignored, empty on a fresh clone),
# with the shared dictionary. Exits non-zero on the first crash or invariant failure; the
# input is left in fuzz/artifacts/<target>/. Coverage is fuzz/coverage.sh's job.
#
# A run is reproducible. Its seed is taken from what is fuzzed, the trees of src/ and fuzz/
# and the lock file (FUZZ_SEED overrides it), so a commit that changes only documents keeps
# it; and each target stops after a fixed number of executions (about SECONDS of them on a
# 2-core machine; a slower machine is cut at four times SECONDS, a prefix of the same run).
# libFuzzer is deterministic for a seed, a binary and a corpus, so a run of this script on a
# fresh clone repeats, execution for execution, the run CI makes on the same code: what CI
# finds, that run finds, and a change of code explores a path of its own.
#
# Targets are built without a sanitizer (-s none): the library forbids unsafe code, so
# AddressSanitizer would halve the execution rate for little gain.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-15}"
fuzzed="$(git rev-parse HEAD:src HEAD:fuzz HEAD:Cargo.lock 2>/dev/null | sha256sum | cut -c1-7)"
seed="${FUZZ_SEED:-$((16#$fuzzed % 2147483646 + 1))}"
echo "== fuzz seed $seed (from the trees of src/, fuzz/ and Cargo.lock)"
# Executions per target for SECONDS=15, on top of the one each corpus file costs to load
# (libFuzzer's -runs counts those too, so a grown corpus would otherwise leave no mutations):
# about what 15 s gives on this project's 2-core machine. The sanitizer's and install_toml's
# were lowered as their campaign-grown corpora slowed them (inputs near the 8 KiB limit; the
# sanitizer reached the 60 s cap at 43,610 and then 28,062 runs), so that every target ends
# at its bound, not at the cap. Scaled for other SECONDS; a target missing here runs for
# SECONDS.
declare -A executions_in_15s=(
    [install_json]=140000 [install_toml]=100000 [json_reader]=350000
    [jsonrpc_framer]=140000 [knowledge_rank]=75000 [mcp_session]=2800
    [resource_uri]=680000 [sanitizer]=10000 [schema_validator]=50000
)
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi
toolchain=(+nightly)
if ! cargo +nightly --version >/dev/null 2>&1; then
    toolchain=()
    export RUSTC_BOOTSTRAP=1
fi

cargo "${toolchain[@]}" fuzz build -s none
status=0
for target in $(cargo "${toolchain[@]}" fuzz list); do
    kept="tests/fixtures/fuzz/$target"
    if [ -d "$kept" ]; then
        echo "== replay $target: $(find "$kept" -type f | wc -l) kept inputs"
        if ! cargo "${toolchain[@]}" fuzz run -s none "$target" "$kept"/* -- -runs=1 \
            >"fuzz/replay-$target.log" 2>&1; then
            tail -30 "fuzz/replay-$target.log" >&2
            echo "!! $target fails a kept regression input" >&2
            status=1
            break
        fi
        rm -f "fuzz/replay-$target.log"
    fi
    budget="${executions_in_15s[$target]:-}"
    runs=
    if [ -n "$budget" ]; then
        files=$(find "fuzz/corpus/$target" -type f | wc -l)
        runs=$((files + budget * seconds / 15))
        limit=(-runs="$runs" -max_total_time="$((seconds * 4))")
    else
        limit=(-max_total_time="$seconds")
    fi
    echo "== fuzz $target: ${limit[*]}, seed $seed"
    mkdir -p "fuzz/corpus-work/$target"
    log=$(mktemp)
    if ! cargo "${toolchain[@]}" fuzz run -s none "$target" \
        "fuzz/corpus-work/$target" "fuzz/corpus/$target" -- \
        "${limit[@]}" -seed="$seed" -dict=fuzz/dict/mcp.dict -max_len=8192 \
        -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 2>&1 | tee "$log"; then
        echo "!! $target failed: see fuzz/artifacts/$target/ (again: FUZZ_SEED=$seed fuzz/ci.sh $seconds, on an empty fuzz/corpus-work/)" >&2
        status=1
        rm -f "$log"
        break
    fi
    done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rm -f "$log"
    if [ -n "$runs" ] && [ "${done_runs:-0}" -lt "$runs" ]; then
        echo "!! $target reached the time cap at ${done_runs:-0} of $runs executions: a prefix of the seeded run, so a faster machine goes further (lower its bound)" >&2
    fi
done
exit "$status"

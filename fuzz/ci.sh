#!/usr/bin/env bash
# Time-boxed fuzz runs for CI. Usage: fuzz/ci.sh [SECONDS_PER_TARGET] (default 15).
#
# Builds every target once; replays each target's kept regression inputs
# (tests/fixtures/fuzz/<target>/, exactly as the fuzzer decodes them); then runs each target,
# one at a time with a single job, for the given time on its committed corpus
# (fuzz/corpus/<target>, read only) plus a scratch corpus (fuzz/corpus-work/<target>,
# git-ignored), with the shared dictionary. Exits non-zero on the first crash or invariant
# failure; the input is left in fuzz/artifacts/<target>/. Coverage is fuzz/coverage.sh's job.
#
# The fuzzer's seed is taken from the commit (FUZZ_SEED overrides it). libFuzzer is
# deterministic for a seed, a binary and a corpus read in the same order, so a run of this
# script on a fresh clone of a commit repeats the mutation sequence CI ran on it: what CI
# finds, that run finds by the same execution, given as much time. Each commit explores a
# path of its own.
#
# Targets are built without a sanitizer (-s none): the library forbids unsafe code, so
# AddressSanitizer would halve the execution rate for little gain.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-15}"
commit="$(git rev-parse --short=7 HEAD 2>/dev/null || echo 1)"
seed="${FUZZ_SEED:-$((16#$commit % 2147483646 + 1))}"
echo "== fuzz seed $seed (commit $commit)"
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
    echo "== fuzz $target for ${seconds}s, seed $seed"
    mkdir -p "fuzz/corpus-work/$target"
    if ! cargo "${toolchain[@]}" fuzz run -s none "$target" \
        "fuzz/corpus-work/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -seed="$seed" -dict=fuzz/dict/mcp.dict -max_len=8192 \
        -timeout=30 -rss_limit_mb=2048 -print_final_stats=1; then
        echo "!! $target failed: see fuzz/artifacts/$target/ (again: FUZZ_SEED=$seed fuzz/ci.sh $seconds, on an empty fuzz/corpus-work/)" >&2
        status=1
        break
    fi
done
exit "$status"

#!/usr/bin/env bash
# Time-boxed fuzz campaigns for CI. Usage: fuzz/ci.sh [SECONDS_PER_TARGET] (default 60).
#
# Builds every target once, then runs each, one at a time with a single job, for the given
# time on its committed seed corpus (fuzz/corpus/<target>, read only) plus a scratch corpus
# (fuzz/corpus-work/<target>, git-ignored), with the MCP dictionary. Exits non-zero on the
# first crash or invariant failure; the input is left in fuzz/artifacts/<target>/.
#
# Targets are built without a sanitizer (-s none): the library forbids unsafe code, so
# AddressSanitizer would halve the execution rate for little gain.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
toolchain=(+nightly)
if ! cargo +nightly --version >/dev/null 2>&1; then
    toolchain=()
    export RUSTC_BOOTSTRAP=1
fi

cargo "${toolchain[@]}" fuzz build -s none
status=0
for target in $(cargo "${toolchain[@]}" fuzz list); do
    echo "== fuzz $target for ${seconds}s"
    mkdir -p "fuzz/corpus-work/$target"
    if ! cargo "${toolchain[@]}" fuzz run -s none "$target" \
        "fuzz/corpus-work/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -dict=fuzz/dict/mcp.dict -max_len=8192 \
        -timeout=30 -rss_limit_mb=2048 -print_final_stats=1; then
        echo "!! $target failed: see fuzz/artifacts/$target/" >&2
        status=1
        break
    fi
done
exit "$status"

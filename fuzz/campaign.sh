#!/usr/bin/env bash
# Long local fuzz campaigns. Usage: fuzz/campaign.sh SECONDS [TARGET...] (default: all).
#
# Runs each target in turn (single job) on a persistent scratch corpus
# (fuzz/corpus-work/<target>, git-ignored) seeded from fuzz/corpus/<target>, with the MCP
# dictionary, and prints per target: executions, exec/s, corpus size (files) and the
# edge coverage (`cov:`) from libFuzzer's final status line. Logs go to fuzz/logs/.
# A crash stops that target; its input is in fuzz/artifacts/<target>/.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${1:?usage: fuzz/campaign.sh SECONDS [TARGET...]}"
shift
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
cargo +nightly fuzz build -s none || exit 1
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

mkdir -p fuzz/logs
results=()
for target in "${targets[@]}"; do
    corpus="fuzz/corpus-work/$target"
    log="fuzz/logs/$target.log"
    mkdir -p "$corpus"
    echo "== $target: ${seconds}s (log: $log)"
    cargo +nightly fuzz run -s none "$target" "$corpus" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -dict=fuzz/dict/mcp.dict -max_len=8192 \
        -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
    code=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    files=$(find "$corpus" -type f | wc -l)
    verdict=ok
    [ "$code" -eq 0 ] || verdict="FAILED (exit $code, see $log)"
    results+=("$(printf '%-18s execs=%-10s exec/s=%-7s corpus=%-6s cov=%-6s %s' \
        "$target" "${execs:-?}" "${rate:-?}" "$files" "${cov:-?}" "$verdict")")
done
echo
printf '%s\n' "${results[@]}"

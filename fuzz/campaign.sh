#!/usr/bin/env bash
# Long local fuzz campaigns, by hand. Usage:
#   fuzz/campaign.sh SECONDS [TARGET...]        run each target (default: all) in turn
#   fuzz/campaign.sh --rate SECONDS [TARGET...] exec/s only: median of 3 runs of SECONDS
#   fuzz/campaign.sh --ledger                   executions each target has had on today's code
#
# Each target runs for SECONDS (with FUZZ_RUNS=N: until each job has made N executions, SECONDS
# being then only a cap) on a persistent scratch corpus (fuzz/corpus-work/<target>,
# git-ignored) seeded from fuzz/corpus/<target>, with the shared dictionary, on FUZZ_JOBS
# processes (-jobs/-workers; default: every core the machine has, `nproc`; set FUZZ_JOBS=1 on
# a shared machine). Afterwards both corpora are merged and minimised into fuzz/corpus/<target>
# (libFuzzer's -set_cover_merge=1: the -merge=1 pass plus a set cover, so the same features
# with fewer files); with FUZZ_COMMIT=1 each minimised corpus is committed.
# Prints per target: executions, exec/s, corpus files, edge coverage (`cov:`), verdict.
# Line coverage per target: fuzz/coverage.sh TARGET. Logs go to fuzz/logs/<target>/.
# A crash stops that target; its input is in fuzz/artifacts/<target>/. Stopping a run with
# SIGINT (libFuzzer exits 72 after its final statistics) still merges and counts it.
#
# Every campaign run on committed code appends a row to fuzz/campaigns.tsv (committed): when,
# target, the code's identity, executions (all jobs'), exec/s (a job's: the mean over jobs),
# jobs, corpus files, `cov:`, verdict. The identity covers every file the target's binary is
# built from, so executions on the same code add up across runs and machines, and any change
# to that code starts the count afresh.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ledger="$root/fuzz/campaigns.tsv"

# The identity of the code TARGET's binary is built from (the library, the fuzz support crate,
# the target's source, the shared test support, manifests and lock files): a hash of their git
# objects at HEAD. Empty when any of them differs from HEAD, so no row can name code that was
# never committed.
code_of() {
    local paths=(src Cargo.toml Cargo.lock fuzz/src fuzz/Cargo.toml fuzz/Cargo.lock
        "fuzz/fuzz_targets/$1.rs" tests/support)
    git diff --quiet HEAD -- "${paths[@]}" || return 0
    [ -z "$(git ls-files --others --exclude-standard -- "${paths[@]}")" ] || return 0
    local path
    for path in "${paths[@]}"; do git rev-parse "HEAD:$path"; done | sha256sum | cut -c1-16
}

if [ "${1:-}" = "--ledger" ]; then
    printf '%-18s %-16s %12s %5s %14s %12s\n' target code executions runs "median exec/s" "to 10 M"
    for source in fuzz/fuzz_targets/*.rs; do
        target=$(basename "$source" .rs)
        code=$(code_of "$target")
        counted=$(awk -F'\t' -v t="$target" -v c="${code:-none}" \
            '$2 == t && $3 == c && ($9 == "ok" || $9 == "interrupted")' "$ledger")
        runs=$(printf '%s' "$counted" | grep -c . || true)
        executions=$(printf '%s\n' "$counted" | awk -F'\t' '{ n += $4 } END { print n + 0 }')
        median=-
        [ "$runs" -gt 0 ] &&
            median=$(printf '%s\n' "$counted" | cut -f5 | sort -n | sed -n "$(((runs + 1) / 2))p")
        left=$((executions < 10000000 ? 10000000 - executions : 0))
        printf '%-18s %-16s %12d %5d %14s %12d\n' "$target" "${code:-(uncommitted)}" \
            "$executions" "$runs" "$median" "$left"
    done
    exit 0
fi

rate_only=
if [ "${1:-}" = "--rate" ]; then
    rate_only=1
    shift
fi
seconds="${1:?usage: fuzz/campaign.sh [--rate] SECONDS [TARGET...]}"
shift
jobs="${FUZZ_JOBS:-$(nproc)}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
cargo +nightly fuzz build -s none || exit 1
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin="$root/fuzz/target/$host/release"
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# The logs of the run in LOGDIR, one per job. With -jobs each job writes fuzz-<n>.log and
# libFuzzer copies that log into run.log when the job ends, so run.log is one only when there
# are no job logs (one job), or every figure would count twice.
logs_of() {
    local logs=("$1"/fuzz-*.log)
    [ -e "${logs[0]}" ] || logs=("$1/run.log")
    printf '%s
' "${logs[@]}"
}

# One `stat::` figure of the run in LOGDIR, over its jobs: `stat sum|mean NAME LOGDIR`.
stat() {
    local logs
    mapfile -t logs < <(logs_of "$3")
    sed -n "s/^stat::$2: *//p" "${logs[@]}" 2>/dev/null | awk -v how="$1" '
        { s += $1; n++ }
        END { print how == "mean" && n ? int(s / n + 0.5) : s + 0 }'
}

# The edges (`cov:`) the run in LOGDIR reached: the most any of its jobs reached.
edges_of() {
    local logs
    mapfile -t logs < <(logs_of "$1")
    grep -ho 'cov: [0-9]*' "${logs[@]}" | cut -d' ' -f2 | sort -n | tail -1
}

# One run of TARGET for SECONDS into LOGDIR; corpora as given.
run() {
    local target=$1 secs=$2 logdir=$3
    shift 3
    rm -rf "$logdir" && mkdir -p "$logdir" "$root/fuzz/artifacts/$target"
    local parallel=() budget=()
    [ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
    [ -n "${FUZZ_RUNS:-}" ] && budget=(-runs="$FUZZ_RUNS")
    (cd "$logdir" && "$bin/$target" "$@" -max_total_time="$secs" \
        -dict="$root/fuzz/dict/mcp.dict" -max_len=8192 -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$root/fuzz/artifacts/$target/" \
        "${budget[@]}" "${parallel[@]}" >run.log 2>&1)
}

results=()
for target in "${targets[@]}"; do
    if [ -n "$rate_only" ]; then
        rates=()
        for i in 1 2 3; do
            scratch=$(mktemp -d)
            run "$target" "$seconds" "$root/fuzz/logs/$target/rate-$i" "$scratch" \
                "$root/fuzz/corpus/$target"
            rates+=("$(stat mean average_exec_per_sec "$root/fuzz/logs/$target/rate-$i")")
            rm -rf "$scratch"
        done
        median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n 2p)
        results+=("$(printf '%-18s exec/s median=%-7s runs=%s' "$target" "$median" "${rates[*]}")")
        continue
    fi
    work="$root/fuzz/corpus-work/$target"
    logdir="$root/fuzz/logs/$target/campaign"
    mkdir -p "$work"
    echo "== $target: ${seconds}s${FUZZ_RUNS:+ or $FUZZ_RUNS executions a job} on $jobs job(s) (logs: $logdir)"
    run "$target" "$seconds" "$logdir" "$work" "$root/fuzz/corpus/$target"
    code=$?
    execs=$(stat sum number_of_executed_units "$logdir")
    rate=$(stat mean average_exec_per_sec "$logdir")
    cov=$(edges_of "$logdir")
    minimised=$(mktemp -d)
    "$bin/$target" -set_cover_merge=1 "$minimised" "$root/fuzz/corpus/$target" "$work" \
        >"$logdir/merge.log" 2>&1 &&
        rm -rf "$root/fuzz/corpus/$target" && mv "$minimised" "$root/fuzz/corpus/$target"
    files=$(find "fuzz/corpus/$target" -type f | wc -l)
    if [ "${FUZZ_COMMIT:-}" = 1 ]; then
        git add "fuzz/corpus/$target" &&
            git commit -q -m "fuzz corpus $target: minimised after a ${seconds}s campaign" \
                -- "fuzz/corpus/$target" || true
    fi
    case "$code" in
    0) verdict=ok ;;
    72) verdict=interrupted ;;
    *) verdict=failed ;;
    esac
    identity=$(code_of "$target")
    if [ -n "$identity" ]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" \
            "$identity" "$execs" "$rate" "$jobs" "$files" "${cov:-?}" "$verdict" >>"$ledger"
    else
        echo "   (not in the ledger: the code differs from HEAD)"
    fi
    [ "$verdict" = failed ] && verdict="FAILED (exit $code, see $logdir)"
    results+=("$(printf '%-18s execs=%-11s exec/s=%-7s corpus=%-6s cov=%-6s %s' \
        "$target" "$execs" "$rate" "$files" "${cov:-?}" "$verdict")")
done
echo
printf '%s\n' "${results[@]}"

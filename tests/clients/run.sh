#!/usr/bin/env bash
# The installer, checked by the clients themselves: installs the five MCP clients that have a
# command line (Claude Code, Gemini CLI, Codex CLI, OpenCode, Kilo; exact versions in
# package-lock.json beside this script) into target/clients/, and for each one, in a throwaway
# HOME and project: `codex-harness-mcp install`, the client's own `mcp list` shows the server
# connected (listed, for Codex, whose `mcp list` does not connect), `uninstall`, and the
# client's own listing still parses its configuration and shows the entry gone.
#
# None of these listings needs a login or the network. Usage: tests/clients/run.sh [BINARY]
# (default target/release/codex-harness-mcp). Ends with "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/clients
bin=$(realpath "${1:-$root/target/release/codex-harness-mcp}")
cache=$root/target/clients
started=$SECONDS

[ -x "$bin" ] || { echo "clients: no binary at $bin (cargo build --release first)" >&2; exit 1; }

# Install the pinned clients once; again only when the pins change. Only the three install
# scripts that link a client's platform binary into place are run, by name (none downloads
# anything); the others (native builds of optional terminal modules) are not. `npm install` rather than
# `npm ci`: Kilo's and OpenCode's optional platform packages for other systems have no
# version, which `npm ci` refuses; the lock file still fixes every package that is installed.
stamp=$cache/pins.sha256
want=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    rm -rf "$cache" && mkdir -p "$cache"
    cp "$here/package.json" "$here/package-lock.json" "$cache/"
    (cd "$cache" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error) >&2 || {
        echo "clients: npm install failed" >&2
        exit 1
    }
    for script in @anthropic-ai/claude-code/install.cjs opencode-ai/postinstall.mjs \
        @kilocode/cli/postinstall.mjs; do
        (cd "$cache/node_modules/$(dirname "$script")" && node "$(basename "$script")") >&2 || {
            echo "clients: $script failed" >&2
            exit 1
        }
    done
    echo "$want" >"$stamp"
fi
echo "clients: installed in $((SECONDS - started)) s; node $(node --version)"

passed=0
failed=0
work=$(mktemp -d "$root/target/clients-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A clean environment for each client: its own HOME and project, no inherited client settings,
# no colours, no update checks.
fresh() {
    rm -rf "$work/home" "$work/project"
    mkdir -p "$work/home" "$work/project"
    home=$work/home
    project=$(realpath "$work/project")
}
in_project() {
    (cd "$project" && env -i PATH="$cache/node_modules/.bin:$PATH" HOME="$home" TERM=dumb \
        NO_COLOR=1 CI=true DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
        OPENCODE_DISABLE_AUTOUPDATE=1 KILO_DISABLE_AUTOUPDATE=1 \
        timeout 120 "$@" </dev/null 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
}
harness() { in_project "$bin" "$@"; }

# expect LABEL OUTPUT PATTERN...: every extended regex must match a line of OUTPUT.
# reject LABEL OUTPUT PATTERN...: none may.
step_ok=1
expect() {
    local label=$1 out=$2
    shift 2
    for pattern in "$@"; do
        if ! grep -Eq -- "$pattern" <<<"$out"; then
            echo "  FAIL $label: no line matches /$pattern/ in:" && sed 's/^/    | /' <<<"$out"
            step_ok=0
        fi
    done
}
reject() {
    local label=$1 out=$2
    shift 2
    for pattern in "$@"; do
        if grep -Eq -- "$pattern" <<<"$out"; then
            echo "  FAIL $label: a line matches /$pattern/ in:" && sed 's/^/    | /' <<<"$out"
            step_ok=0
        fi
    done
}
show() { grep -E -- "$2" <<<"$1" | sed "s/^/  $3: /"; }
finish() {
    if [ "$step_ok" = 1 ]; then
        passed=$((passed + 1)) && echo "ok   $1"
    else
        failed=$((failed + 1)) && echo "FAIL $1"
    fi
    step_ok=1
}
# The installed version, from the package itself (starting a client only to ask costs seconds).
version() { node -p "require('$cache/node_modules/$1/package.json').version"; }
# Listings that parse their configuration but fail on it still exit 0, so errors are matched.
config_errors='[Ee]rror|[Ii]nvalid|Please fix|expected record'

check_claude() {
    fresh
    echo "claude-code $(version @anthropic-ai/claude-code)"
    local out
    out=$(harness install --clients claude)
    expect install "$out" 'claude-code \(project\) .*\.mcp\.json: written' 'claude-code: next: '
    out=$(in_project claude mcp list)
    expect "before approval" "$out" '^codex-harness: .* - .*Pending approval'
    show "$out" '^codex-harness' "mcp list, unapproved"
    # The approval a user gives: here in the user's settings, which need no folder trust.
    mkdir -p "$home/.claude"
    echo '{"enabledMcpjsonServers": ["codex-harness"]}' >"$home/.claude/settings.json"
    out=$(in_project claude mcp list)
    expect "mcp list" "$out" "^codex-harness: $bin --project $project - ✔ Connected"
    show "$out" '^codex-harness' "mcp list"
    out=$(harness uninstall --clients claude)
    expect uninstall "$out" 'claude-code \(project\) .*: written; previous version saved as '
    out=$(in_project claude mcp list)
    expect "after uninstall" "$out" '^No MCP servers configured'
    reject "after uninstall" "$out" "$config_errors" 'codex-harness'
    show "$out" '.' "mcp list, after uninstall"
    finish claude-code
}

check_gemini() {
    fresh
    echo "gemini $(version @google/gemini-cli)"
    local out
    out=$(harness install --clients gemini)
    expect install "$out" 'gemini \(project\) .*settings\.json: written' 'gemini: next: '
    out=$(in_project gemini mcp list)
    expect "untrusted folder" "$out" 'disabled because this folder is untrusted'
    show "$out" 'untrusted' "mcp list, untrusted"
    echo "{\"$project\": \"TRUST_FOLDER\"}" >"$home/.gemini/trustedFolders.json"
    out=$(in_project gemini mcp list)
    expect "mcp list" "$out" "codex-harness: $bin --project $project \(stdio\) - Connected"
    show "$out" 'codex-harness' "mcp list"
    out=$(harness uninstall --clients gemini)
    expect uninstall "$out" 'gemini \(project\) .*: written'
    out=$(in_project gemini mcp list)
    expect "after uninstall" "$out" '^No MCP servers configured'
    reject "after uninstall" "$out" "$config_errors" 'codex-harness'
    show "$out" '.' "mcp list, after uninstall"
    finish gemini
}

check_codex() {
    fresh
    echo "codex $(version @openai/codex)"
    local out
    # User scope: $CODEX_HOME defaults to ~/.codex.
    out=$(harness install --clients codex)
    expect install "$out" 'codex \(user\) .*/\.codex/config\.toml: written; the entry passes no --project'
    out=$(in_project codex mcp list)
    expect "mcp list" "$out" "^codex-harness +$bin +- .*enabled"
    show "$out" '^(Name|codex-harness)' "mcp list, user"
    harness uninstall --clients codex >/dev/null
    # Project scope: read only once the project is trusted.
    out=$(harness install --clients codex --scope project)
    expect install "$out" 'codex \(project\) .*/\.codex/config\.toml: written' 'codex: next: .*only once the project is trusted'
    out=$(in_project codex mcp list)
    reject "untrusted project" "$out" 'codex-harness'
    show "$out" '.' "mcp list, untrusted project"
    printf '[projects."%s"]\ntrust_level = "trusted"\n' "$project" >>"$home/.codex/config.toml"
    out=$(in_project codex mcp list)
    expect "mcp list" "$out" "^codex-harness +$bin +--project $project +- .*enabled"
    show "$out" '^(Name|codex-harness)' "mcp list, trusted project"
    out=$(harness uninstall --clients codex --scope project)
    expect uninstall "$out" 'codex \(project\) .*: written'
    out=$(in_project codex mcp list)
    expect "after uninstall" "$out" '^No MCP servers configured'
    reject "after uninstall" "$out" "$config_errors" 'codex-harness'
    show "$out" '.' "mcp list, after uninstall"
    finish codex
}

# OpenCode and Kilo (a fork of it) share the command line and the listing.
check_opencode_like() {
    local id=$1 cli=$2 file=$3 package=$4
    fresh
    echo "$id $(version "$package")"
    local out
    out=$(harness install --clients "$id")
    expect install "$out" "$id \(project\) .*$file: written"
    out=$(in_project "$cli" mcp list)
    expect "mcp list" "$out" '✓ codex-harness connected' "^│ +$bin --project $project\$"
    show "$out" 'codex-harness' "mcp list"
    out=$(harness uninstall --clients "$id")
    expect uninstall "$out" "$id \(project\) .*: written"
    out=$(in_project "$cli" mcp list)
    expect "after uninstall" "$out" "Add servers with: $cli mcp add"
    reject "after uninstall" "$out" "$config_errors" 'codex-harness'
    show "$out" 'Add servers' "mcp list, after uninstall"
    finish "$id"
}

for client in claude gemini codex opencode kilo; do
    t=$SECONDS
    case $client in
    claude) check_claude ;;
    gemini) check_gemini ;;
    codex) check_codex ;;
    opencode) check_opencode_like opencode opencode opencode.json opencode-ai ;;
    kilo) check_opencode_like kilo kilo .kilo/kilo.jsonc @kilocode/cli ;;
    esac
    echo "  ($((SECONDS - t)) s)"
done
echo "clients: $((SECONDS - started)) s in all"
echo "clients: $passed passed, $failed failed"
[ "$failed" = 0 ]

#!/usr/bin/env python3
"""Every fault at every place: inject I/O errors and SIGKILL into every store syscall of a
scripted session, then check that nothing acknowledged was lost and nothing was torn.

Usage: run.py [--all] [--binary PATH]

A scripted session calls every mutating tool once. It first runs clean under `strace -f -c`
to count how many times the server makes each store syscall. Then, for each syscall S, each
occurrence N of S and each fault F, the session runs again under
`strace -f -e inject=S:error=F:when=N` (or `signal=SIGKILL`). After each run:

  * a fresh, untraced server starts, reads every resource and every record template, and
    shows every record whose success reply reached the client;
  * every JSON and JSONL file under .codex-harness parses;
  * an injected error on a harness file turns the call in flight into an `isError` result
    and the server keeps serving (it may exit only when a write to stdout itself failed);
  * a call during which fsync/fdatasync failed is never acknowledged;
  * no temp file is left behind by an injected error (except a failed unlinkat of it).

Runs that end with the record of a refused call visible anyway are tallied, not counted as
violations (nothing acknowledged was lost; see DURABILITY.md).

Before the runs a self-test checks that the oracle can fail (a removed record, a truncated
file, an acknowledged call after an injected error are each reported).

CI mode (default): every occurrence of every store syscall with EIO and SIGKILL.
--all: also ENOSPC and EDQUOT (the long mode; figures in DURABILITY.md).
Prints `faults: N runs, M violations` and exits 1 on any violation.
Standard library only.
"""

import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

STORE_SYSCALLS = ["openat2", "write", "pwrite64", "fsync", "fdatasync", "renameat2",
                  "mkdirat", "unlinkat", "ftruncate", "flock"]
SIGNAL = "SIGKILL"
# Syscalls whose failure after the record is durable is only cleanup (a lock or temp file
# left behind): acknowledging the call is then right, and the fresh view checks the record.
CLEANUP_CALLS = {"unlinkat"}


POLICY_NOTE = "Written by the fault session"


# Text unique to one call of the session that a listing resource shows once its record is
# stored: used to count refused calls whose record is visible anyway (allowed, reported).
MARKERS = {
    "harness_create_contract": "Survive every fault",
    "harness_update_state": "Inject every fault",
    "harness_record_knowledge": "Fault note",
    "harness_record_research": "Fault research",
    "harness_record_lesson": "Fault lesson",
    "harness_record_harness_profile": "Fault profile",
    "harness_record_eval_case": "Fault case",
    "harness_record_harness_proposal": "Fault proposal",
    "harness_write_governance_policy": POLICY_NOTE,
}


def session_requests():
    """The scripted session: (name, arguments) of each tools/call. Arguments that name an
    earlier record are callables of the ids collected so far."""
    return [
        ("harness_bootstrap", {"project_name": "faults"}),
        ("harness_create_contract", {
            "title": "Faults", "goal": "Survive every fault",
            "completion_conditions": ["nothing lost"], "output_paths": ["README.md"],
            "verification_commands": ["tests/faults/run.py"]}),
        ("harness_update_state", {"focus": "faults", "decision": "Inject every fault", "note": "n"}),
        ("harness_record_trace", {"kind": "attempt", "summary": "first try", "raw": "output"}),
        ("harness_record_verification", {
            "command_or_check": "tests/faults/run.py", "status": "pass", "exit_code": 0,
            "raw_output": "ok"}),
        ("harness_eval_gate", {"checked_conditions": ["nothing lost"]}),
        ("harness_record_knowledge", {"title": "Fault note", "content": "Fsync before rename",
                                      "tags": ["durability"]}),
        ("harness_record_research", {"title": "Fault research", "summary": "EIO after fsync"}),
        ("harness_record_lesson", {"title": "Fault lesson", "problem": "Torn files",
                                   "solution": "Write a temp file and rename it"}),
        ("harness_record_harness_profile", {"name": "Fault profile", "mode": "standard"}),
        ("harness_record_eval_case", {"title": "Fault case", "split": "holdout"}),
        ("harness_record_eval_run", lambda ids: {
            "eval_case_id": ids.get("case", "missing"), "verdict": "pass", "score": 0.75}),
        ("harness_record_harness_proposal", lambda ids: {
            "title": "Fault proposal", "proposed_change": "Fsync the directory",
            "holdout_run_ids": [ids.get("run", "missing")]}),
        ("harness_record_promotion_decision", lambda ids: {
            "proposal_id": ids.get("proposal", "missing"), "decision": "hold",
            "rationale": "Needs another run"}),
        ("harness_write_governance_policy", {"network_allowed": False, "notes": POLICY_NOTE}),
        ("harness_rebuild_knowledge_index", {}),
        # The probe: after a one-shot fault the server must be able to record again.
        ("harness_record_trace", {"kind": "attempt", "summary": "probe after the fault", "raw": "probe"}),
    ]


class Server:
    """One server over pipes, optionally under strace. Requests go one at a time."""

    def __init__(self, binary, project, workdir, strace=None):
        self.stderr = open(os.path.join(workdir, "stderr"), "w+b")
        command = [binary, "--project", project]
        if strace is not None:
            command = ["strace", "-f", "-qq", "-o", os.path.join(workdir, "strace.log")] + strace + ["--"] + command
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.stderr)
        self.next_id = 0

    def request(self, method, params, timeout=20):
        """The reply to one request, or None when the server closed stdout or hung."""
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.process.stdout.readline()
        if not line:
            return None
        try:
            return json.loads(line)
        except ValueError:
            return {"unparsable": line[:200].decode(errors="replace")}

    def notify(self, method):
        try:
            self.process.stdin.write((json.dumps({"jsonrpc": "2.0", "method": method}) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def initialize(self):
        reply = self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                            "clientInfo": {"name": "faults", "version": "1"}})
        if reply is not None and "result" in reply:
            self.notify("notifications/initialized")
            return True
        return False

    def close(self, timeout=20):
        """Closes stdin and returns the exit status (None if it had to be killed)."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            status = None
        self.process.stdout.close()
        self.stderr.seek(0)
        self.stderr_text = self.stderr.read().decode(errors="replace")
        self.stderr.close()
        return status


def ids_in(value):
    """Every value under an "id" key in a tool's structured result."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id" and isinstance(item, str):
                found.append(item)
            else:
                found.extend(ids_in(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(ids_in(item))
    return found


# Where a fresh server shows each acknowledged record, by id prefix: a record template, or a
# resource whose text lists it (in the order tried; the first matching prefix wins).
RECORD_HOMES = [
    ("knowledge-", "harness://knowledge/item/{id}"),
    ("profile-", "harness://harness-profile/{id}"),
    ("eval-case-", "harness://eval-case/{id}"),
    ("eval-run-", "harness://eval-run/{id}"),
    ("proposal-", "harness://harness-proposal/{id}"),
    ("promotion-decision-", "harness://promotion-decision/{id}"),
    ("trace-", "harness://traces/recent"),
    ("gate-", "harness://gates/recent"),
    ("decision-", "harness://state"),
    ("", "harness://contract/{id}"),
]


def run_session(binary, project, workdir, strace=None):
    """Runs the scripted session. Returns (calls, status, server): calls is a list of
    (request id, tool name, reply or None)."""
    server = Server(binary, project, workdir, strace)
    calls = []
    named = {}
    if server.initialize():
        for name, arguments in session_requests():
            if callable(arguments):
                arguments = arguments(named)
            reply = server.request("tools/call", {"name": name, "arguments": arguments})
            calls.append((server.next_id, name, reply))
            if reply is None:
                break
            result = reply.get("result") or {}
            if not result.get("isError"):
                structured = result.get("structuredContent") or {}
                for key in ("case", "run", "proposal"):
                    if isinstance(structured.get(key), dict) and "id" in structured[key]:
                        named[key] = structured[key]["id"]
    status = server.close()
    return calls, status, server


def acknowledged(calls):
    """(tool name, ids) of every call whose success reply reached the client."""
    acks = []
    for _, name, reply in calls:
        if reply is None or "result" not in reply:
            continue
        result = reply["result"]
        if result.get("isError"):
            continue
        acks.append((name, ids_in(result.get("structuredContent") or {})))
    return acks


def torn_files(project):
    """Every JSON or JSONL file under .codex-harness that does not parse."""
    torn = []
    root = os.path.join(project, ".codex-harness")
    for directory, _, files in os.walk(root):
        for file in files:
            path = os.path.join(directory, file)
            try:
                if file.endswith(".json"):
                    with open(path, "rb") as handle:
                        json.loads(handle.read())
                elif file.endswith(".jsonl"):
                    with open(path, "rb") as handle:
                        for line in handle.read().split(b"\n"):
                            if line.strip():
                                json.loads(line)
            except ValueError as error:
                torn.append(f"{os.path.relpath(path, root)}: {error}")
    return torn


TEMP_NAME = re.compile(r"\.tmp\.\d+\.[0-9a-f]+$")


def temp_files(project):
    """Temp files (`<name>.tmp.<pid>.<hex>`) left under .codex-harness."""
    root = os.path.join(project, ".codex-harness")
    return [os.path.relpath(os.path.join(d, f), root)
            for d, _, files in os.walk(root) for f in files if TEMP_NAME.search(f)]


def fresh_view(binary, project, workdir, acks):
    """Starts an untraced server, reads every resource and then the home of every
    acknowledged record; returns the problems found and the text of every listed resource."""
    server = Server(binary, project, workdir)
    problems = []
    texts = {}
    if not server.initialize():
        server.close()
        return [f"fresh server did not start: {server.stderr_text.strip()[-300:]}"], ""

    def read(uri):
        if uri not in texts:
            reply = server.request("resources/read", {"uri": uri})
            if reply is None or "result" not in reply:
                texts[uri] = None
            else:
                texts[uri] = "\n".join(c.get("text", "") for c in reply["result"]["contents"])
        return texts[uri]

    listing = server.request("resources/list", {})
    uris = [r["uri"] for r in (listing or {}).get("result", {}).get("resources", [])]
    if not uris:
        problems.append(f"resources/list failed: {listing}")
    for uri in uris:
        if read(uri) is None:
            problems.append(f"resources/read {uri} failed")
    listed = "\n".join(texts[uri] or "" for uri in uris)
    for name, ids in acks:
        for record_id in ids:
            home = next(uri for prefix, uri in RECORD_HOMES if record_id.startswith(prefix))
            text = read(home.replace("{id}", record_id))
            if text is None or ("{id}" not in home and record_id not in text):
                problems.append(f"acknowledged {name} record {record_id} missing from {home}")
        if name == "harness_write_governance_policy" and POLICY_NOTE not in (read("harness://governance/policy") or ""):
            problems.append("acknowledged governance policy missing")
    status = server.close()
    if status != 0:
        problems.append(f"fresh server exited {status}")
    return problems, listed


INJECTED = re.compile(r"^(?:\[pid\s+\d+\]\s+|\d+\s+)?(\w+)\((.*)\) += (-1 \w+).*\(INJECTED\)")
REPLY = re.compile(r"^(?:\[pid\s+\d+\]\s+|\d+\s+)?write\(1<[^>]*>, \"\{\\\"jsonrpc\\\":\\\"2\.0\\\",\\\"id\\\":(\d+)")


def injection_site(log_path):
    """(syscall, target, request id in flight, log line) of the injected fault, from strace's log:
    target is "stdout", "stderr", "harness" or "other"; the request in flight is the one
    whose reply the server wrote next (None before the first reply or when none followed)."""
    try:
        with open(log_path, errors="replace") as handle:
            lines = handle.readlines()
    except FileNotFoundError:
        return None
    for index, line in enumerate(lines):
        match = INJECTED.match(line)
        if not match:
            continue
        call, arguments = match.group(1), match.group(2)
        if call == "write" and arguments.startswith("1<"):
            target = "stdout"
        elif call == "write" and arguments.startswith("2<"):
            target = "stderr"
        elif ".codex-harness" in arguments:
            target = "harness"
        else:
            target = "other"
        in_flight = None
        for later in lines[index + 1:]:
            reply = REPLY.match(later)
            if reply:
                in_flight = int(reply.group(1))
                break
        return call, target, in_flight, line.strip()[:300]
    return None


def count_syscalls(binary, workdir):
    """How many times a clean session makes each store syscall."""
    project = os.path.join(workdir, "project")
    os.mkdir(project)
    calls, status, _ = run_session(binary, project, workdir, ["-c", "-e", "trace=" + ",".join(STORE_SYSCALLS)])
    if status != 0 or any(r is None or r.get("result", {}).get("isError") for _, _, r in calls):
        failed = [(name, str(reply)[:300]) for _, name, reply in calls
                  if reply is None or reply.get("result", {}).get("isError")]
        sys.exit(f"faults: the clean session failed (exit {status}): {failed}")
    counts = {}
    with open(os.path.join(workdir, "strace.log")) as handle:
        for line in handle:
            fields = line.split()
            if len(fields) >= 5 and fields[-1] in STORE_SYSCALLS and fields[3].isdigit():
                counts[fields[-1]] = int(fields[3])
    return counts


def one_run(binary, syscall, occurrence, fault):
    """Runs the session with one fault injected; returns (violations, outcome)."""
    workdir = tempfile.mkdtemp(prefix="faults-")
    try:
        project = os.path.join(workdir, "project")
        os.mkdir(project)
        action = "signal=SIGKILL" if fault == SIGNAL else f"error={fault}"
        trace = sorted({syscall, "write"})
        strace = ["-y", "-s", "48", "-e", "trace=" + ",".join(trace),
                  "-e", f"inject={syscall}:{action}:when={occurrence}"]
        calls, status, _ = run_session(binary, project, workdir, strace)
        site = injection_site(os.path.join(workdir, "strace.log"))
        violations = []
        where = f"{syscall}#{occurrence} {fault}"
        outcome = "not reached"
        if status is None:
            violations.append(f"{where}: the server hung (killed after the timeout)")

        if fault != SIGNAL and site is not None:
            call, target, in_flight, line = site
            replies = {request_id: reply for request_id, _, reply in calls}
            # A server that cannot open its store may refuse to start (it never answers
            # initialize); once it has answered, it must serve every call.
            refused = not calls
            if target != "stdout" and not refused:
                if len(calls) != len(session_requests()) or any(r is None for r in replies.values()):
                    violations.append(f"{where}: server stopped serving after {line}")
                elif status != 0:
                    violations.append(f"{where}: server exited {status} after {line}")
                reply = replies.get(in_flight)
                acked = reply is not None and "result" in reply and not reply["result"].get("isError")
                if acked and call in ("fsync", "fdatasync"):
                    violations.append(f"{where}: call {in_flight} acknowledged after a failed {call}: {line}")
                elif acked and target == "harness" and call not in CLEANUP_CALLS:
                    violations.append(f"{where}: call {in_flight} acknowledged despite {line}")
                # The store removes its temp file on every error path it controls; only a
                # failed removal itself (or a kill) may leave one.
                if call not in CLEANUP_CALLS:
                    violations.extend(f"{where}: temp file left behind after {line}: {t}"
                                      for t in temp_files(project))
                probe_id, _, probe = calls[-1] if calls else (None, None, None)
                if probe_id != in_flight and not (probe and "result" in probe and not probe["result"].get("isError")):
                    violations.append(f"{where}: the server did not recover: the probe call got {probe}")
                outcome = "served"
            else:
                outcome = target if target == "stdout" else "refused to start"
        else:
            outcome = "killed" if fault == SIGNAL and status != 0 else "not reached"

        problems, listed = fresh_view(binary, project, workdir, acknowledged(calls))
        violations.extend(f"{where}: {p}" for p in problems)
        refused_calls = [name for _, name, reply in calls
                         if reply is not None and reply.get("result", {}).get("isError")]
        visible = [name for name in refused_calls if name in MARKERS and MARKERS[name] in listed]
        if visible:
            outcome += ", record of a refused " + visible[0] + " visible"
        violations.extend(f"{where}: torn {t}" for t in torn_files(project))
        return violations, outcome
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def self_test(binary):
    """The oracle must be able to fail: a lost record, a torn file and an acknowledgement
    despite an injected error are each reported. Returns the number of checks that failed."""
    failures = 0
    workdir = tempfile.mkdtemp(prefix="faults-self-")
    try:
        project = os.path.join(workdir, "project")
        os.mkdir(project)
        calls, _, _ = run_session(binary, project, workdir)
        case = next(ids[0] for name, ids in acknowledged(calls) if name == "harness_record_eval_case")
        os.remove(os.path.join(project, ".codex-harness", "evals", "cases", case + ".json"))
        if not any(case in p for p in fresh_view(binary, project, workdir, acknowledged(calls))[0]):
            print("self-test FAIL: a removed eval case still shows", file=sys.stderr)
            failures += 1
        with open(os.path.join(project, ".codex-harness", "state.json"), "r+b") as handle:
            handle.truncate(10)
        if not torn_files(project):
            print("self-test FAIL: a truncated state.json parses", file=sys.stderr)
            failures += 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    saved = set(CLEANUP_CALLS)
    CLEANUP_CALLS.clear()
    try:
        found, _ = one_run(binary, "unlinkat", 2, "EIO")
        if not any("acknowledged despite" in v for v in found):
            print("self-test FAIL: an acknowledged call after a failed unlinkat was not seen", file=sys.stderr)
            failures += 1
    finally:
        CLEANUP_CALLS.update(saved)
    return failures


def main(argv):
    binary = "target/release/codex-harness-mcp"
    if "--binary" in argv:
        binary = argv[argv.index("--binary") + 1]
    faults = ["EIO", "ENOSPC", "EDQUOT", SIGNAL] if "--all" in argv else ["EIO", SIGNAL]
    if shutil.which("strace") is None:
        sys.exit("faults: strace is not installed")
    if self_test(binary):
        print("faults: the oracle's self-test failed")
        return 1
    workdir = tempfile.mkdtemp(prefix="faults-count-")
    try:
        counts = count_syscalls(binary, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("faults: clean session makes " + ", ".join(f"{s} x{counts.get(s, 0)}" for s in STORE_SYSCALLS),
          file=sys.stderr)
    plan = [(s, n, f) for s in STORE_SYSCALLS for n in range(1, counts.get(s, 0) + 1) for f in faults]
    violations = []
    outcomes = {}
    with ThreadPoolExecutor(max_workers=int(os.environ.get("FAULTS_JOBS", "2"))) as pool:
        for found, outcome in pool.map(lambda job: one_run(binary, *job), plan):
            for violation in found:
                print("VIOLATION " + violation)
            violations.extend(found)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print("faults: outcomes:\n" + "\n".join(f"  {v:5} {k}" for k, v in sorted(outcomes.items())), file=sys.stderr)
    print(f"faults: {len(plan)} runs, {len(violations)} violations")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

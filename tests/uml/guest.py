#!/usr/bin/env python3
"""Runs inside the user-mode-linux guest (init.sh starts it) and does what `<job>/job.json`
asks. Every result the host counts is appended to a file in the job directory (hostfs) and
fsynced before the guest goes on, so a line the host reads was on the host before any cut.

Modes:
  cut       mount the ext4 disk (the kernel replays its journal), check what the previous cut
            left (`verify`), write an unsynced canary, then run one scripted session of every
            mutating tool, recording each success reply as it arrives; then wait to be cut.
  final     mount, check, unmount cleanly, power off.
  selftest  like final, then damage the tree (remove an acknowledged record, tear a file) and
            check again: the damage must be reported.
  oldkernel run the confinement checks of oldkernel.py on this kernel.

It never writes outside the job directory and the guest's own disk.
"""

import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "faults"))
import run as faults  # noqa: E402  (tests/faults/run.py: the session and the oracle)


def durable_append(path, value):
    """Appends one JSON line and fsyncs it: hostfs writes it through to the host file."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(value) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def mount(job):
    os.makedirs(job["mnt"], exist_ok=True)
    result = subprocess.run(["mount", "-t", "ext4", "-o", job["mount_options"], "/dev/ubda", job["mnt"]],
                            capture_output=True, text=True)
    if result.returncode != 0:
        return f"the disk does not mount: {result.stderr.strip()}"
    os.makedirs(job["project"], exist_ok=True)
    return None


# fsck findings a cut may leave (the store's documented crash outcomes): a journal not yet
# folded, a counter behind its records, an orphaned temp file, a stale lock file. Anything
# else is a violation.
TOLERATED = [
    ("journal not folded", re.compile(r"entries not yet (?:folded into|written to) index\.json")),
    ("orphaned temp file", re.compile(r"is an orphaned temp file")),
    ("stale lock file", re.compile(r"is a stale lock file")),
]
COUNTER = re.compile(r"counters\.(\w+) is (\d+) but .* holds (\d+)")
# A knowledge item is stored before its index entry is journaled: a cut between the two
# leaves an item the index lacks until a rebuild. Tolerated only for a call never
# acknowledged.
UNINDEXED = re.compile(r"index\.json: lacks the item (\S+) ")


def classify_fsck(binary, project, acknowledged_ids):
    """(violations, tolerated findings) from `codex-harness-mcp fsck`."""
    result = subprocess.run([binary, "fsck", "--project", project], capture_output=True, text=True)
    violations, tolerated = [], []
    if result.returncode not in (0, 1):
        return [f"fsck could not check (exit {result.returncode}): {result.stderr.strip()[-300:]}"], []
    for line in result.stdout.splitlines():
        if "; fix: " not in line:
            continue
        counter = COUNTER.search(line)
        unindexed = UNINDEXED.search(line)
        if counter and int(counter.group(2)) < int(counter.group(3)):
            tolerated.append("counter behind")
        elif unindexed and unindexed.group(1) not in acknowledged_ids:
            tolerated.append("unacknowledged item not indexed")
        else:
            label = next((label for label, pattern in TOLERATED if pattern.search(line)), None)
            if label is None:
                violations.append(f"fsck: {line}")
            else:
                tolerated.append(label)
    return violations, tolerated


def verify(job, acks):
    """Checks the tree against the acknowledged calls: (violations, tolerated findings)."""
    binary, project = job["binary"], job["project"]
    violations, tolerated = classify_fsck(binary, project, {i for _, ids in acks for i in ids})
    workdir = os.path.join(job["dir"], "fresh")
    os.makedirs(workdir, exist_ok=True)
    problems, listed = faults.fresh_view(binary, project, workdir, acks)
    violations.extend(problems)
    if re.search(r"\.tmp\.\d+\.[0-9a-f]+", listed):
        violations.append("a temp file is visible through a resource")
    violations.extend(f"torn {t}" for t in faults.torn_files(project))
    tolerated.extend("temp file on disk" for _ in faults.temp_files(project))
    return violations, tolerated


def canary_state(job):
    """Whether the unsynced canary of the previous cut kept its content (None: no canary)."""
    if job["cut"] == 0:
        return None
    path = os.path.join(job["mnt"], f"canary-{job['cut'] - 1}")
    try:
        with open(path) as handle:
            return "kept" if handle.read() == canary_text(job["cut"] - 1) else "lost"
    except FileNotFoundError:
        return "lost"


def canary_text(cut):
    return f"unsynced canary of cut {cut}\n" * 64


def workload(job):
    """One scripted session; each success reply is made durable on the host before the next
    request is sent. Then the guest idles until the host cuts it."""
    acks_path = os.path.join(job["dir"], job["acks"])
    with open(os.path.join(job["mnt"], f"canary-{job['cut']}"), "w") as handle:
        handle.write(canary_text(job["cut"]))
    workdir = os.path.join(job["dir"], "session")
    os.makedirs(workdir, exist_ok=True)
    server = faults.Server(job["binary"], job["project"], workdir)
    durable_append(acks_path, {"event": "start"})
    named = {}
    if server.initialize():
        for name, arguments in faults.session_requests():
            if callable(arguments):
                arguments = arguments(named)
            reply = server.request("tools/call", {"name": name, "arguments": arguments}, timeout=120)
            if reply is None or "result" not in reply:
                durable_append(acks_path, {"event": "no reply", "tool": name, "reply": reply})
                break
            result = reply["result"]
            if result.get("isError"):
                durable_append(acks_path, {"event": "refused", "tool": name,
                                           "text": str(result.get("content"))[:300]})
                continue
            structured = result.get("structuredContent") or {}
            durable_append(acks_path, {"event": "ack", "tool": name, "ids": faults.ids_in(structured)})
            for key in ("case", "run", "proposal"):
                if isinstance(structured.get(key), dict) and "id" in structured[key]:
                    named[key] = structured[key]["id"]
    status = server.close(timeout=60)
    durable_append(acks_path, {"event": "done", "status": status})
    time.sleep(3600)


def damage(job, acks):
    """Removes an acknowledged eval case and tears state.json (the self-test's damage)."""
    root = os.path.join(job["project"], ".codex-harness")
    case = next(ids[0] for name, ids in acks if name == "harness_record_eval_case")
    os.remove(os.path.join(root, "evals", "cases", case + ".json"))
    with open(os.path.join(root, "state.json"), "r+b") as handle:
        handle.truncate(10)
    return case


def uptime():
    with open("/proc/uptime") as handle:
        return float(handle.read().split()[0])


def main(job_dir):
    with open(os.path.join(job_dir, "job.json")) as handle:
        job = json.load(handle)
    job["dir"] = job_dir
    if job["mode"] == "oldkernel":
        import oldkernel
        return oldkernel.run(job)
    results = os.path.join(job_dir, job["results"])
    problem = mount(job)
    if problem is not None:
        durable_append(results, {"cut": job["cut"], "violations": [problem], "tolerated": []})
        return
    acks = [(name, ids) for name, ids in job["check"]]
    began = time.monotonic()
    violations, tolerated = verify(job, acks) if job["cut"] > 0 else ([], [])
    durable_append(results, {"cut": job["cut"], "violations": violations, "tolerated": tolerated,
                             "canary": canary_state(job), "checked": sum(len(ids) for _, ids in acks),
                             "uptime": uptime(), "verify_s": time.monotonic() - began})
    if job["mode"] == "cut":
        workload(job)
        return
    if job["mode"] == "selftest":
        case = damage(job, acks)
        found, _ = verify(job, acks)
        durable_append(results, {"selftest": {
            "lost record reported": any(case in v for v in found),
            "torn file reported": any("state.json" in v for v in found)}})
    subprocess.run(["umount", job["mnt"]], check=False)


if __name__ == "__main__":
    main(sys.argv[1])

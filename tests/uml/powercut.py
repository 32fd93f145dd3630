#!/usr/bin/env python3
"""A real power cut: the server runs inside a user-mode-linux guest with its project on an
ext4 disk image, and the whole guest is SIGKILLed at a random moment of a write workload.
The guest's page cache and its unsubmitted block requests die with it, as in a power cut;
only what the guest kernel had written to the image file survives.

Usage: powercut.py [--cuts N] [--epoch K] [--jobs J] [--seed S] [--binary PATH]

Each epoch starts from a fresh 64 MiB ext4 image and makes K cuts on it (the tree grows from
cut to cut, so recovery after recovery is exercised). Every boot of an epoch:

  1. mounts the image (the guest kernel replays the ext4 journal) with noauto_da_alloc, so
     ext4 does not flush a file's data on rename for a writer that forgot to fsync;
  2. checks what the previous cut left: `codex-harness-mcp fsck` finds nothing but the
     documented crash leftovers; a fresh server starts, reads every resource and shows every
     record whose success reply reached the client (the previous cut's, and every earlier
     one of the epoch that has a template of its own); no temp file shows through a
     resource; every JSON and JSONL file parses;
  3. writes an unsynced canary file, then runs one scripted session of every mutating tool
     (tests/faults/run.py's), appending each success reply to a file on the host and
     fsyncing it before sending the next request: only replies that were on the host before
     the cut are counted as acknowledged.

The host cuts the guest (SIGKILL to its process group) at a uniformly random moment of the
session, then replays the journal of a copy of the image with `e2fsck -fp` (preen: only the
repairs a boot makes by itself; it must not give up) and checks it again read-only (it must
be clean). The first cut of an
epoch waits for the session to finish to measure it; the last boot of an epoch checks,
unmounts cleanly and the image must then pass `e2fsck -fn`. The first epoch ends with a
self-test: the guest removes an acknowledged record and tears a file, and both must be
reported.

Default (CI): 25 cuts. Prints `uml-powercut: N cuts, M violations` and exits 1 on any
violation. Standard library only.
"""

import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "faults"))
import run as faults  # noqa: E402
import uml  # noqa: E402

MOUNT_OPTIONS = "noauto_da_alloc"
BOOT_TIMEOUT = 300


def events(path):
    """The guest's durable event lines; a torn last line (cut mid-append) is not an event."""
    try:
        with open(path) as handle:
            lines = handle.read().split("\n")
    except FileNotFoundError:
        return []
    found = []
    for line in lines:
        try:
            found.append(json.loads(line))
        except ValueError:
            pass
    return found


def addressable(acks):
    """The acknowledged ids a record template shows by id (no recency limit)."""
    kept = []
    for name, ids in acks:
        ids = [i for i in ids if "{id}" in next(uri for prefix, uri in faults.RECORD_HOMES if i.startswith(prefix))]
        if ids:
            kept.append((name, ids))
    return kept


def check_list(history):
    """What the next boot checks: the last cut's acknowledgements whole, earlier ones where a
    template shows them."""
    if not history:
        return []
    return [a for acks in history[:-1] for a in addressable(acks)] + history[-1]


class Epoch:
    def __init__(self, binary, index, cuts, seed):
        self.binary = os.path.abspath(binary)
        self.index = index
        self.cuts = cuts
        self.rng = random.Random(seed * 1000 + index)
        self.dir = tempfile.mkdtemp(prefix="uml-powercut-")
        self.disk = os.path.join(self.dir, "disk.img")
        self.mnt = os.path.join(self.dir, "mnt")
        os.mkdir(self.mnt)
        uml.make_disk(self.disk)
        self.violations = []
        self.history = []
        self.durations = []
        self.delays = []

    def job(self, mode, cut):
        uml.write_job(self.dir, {
            "mode": mode, "cut": cut, "binary": self.binary, "mnt": self.mnt,
            "project": os.path.join(self.mnt, "project"), "mount_options": MOUNT_OPTIONS,
            "acks": f"acks-{cut}.jsonl", "results": "results.jsonl",
            "check": check_list(self.history)})

    def violation(self, cut, text):
        self.violations.append(f"epoch {self.index} cut {cut}: {text}")

    def one_cut(self, cut):
        self.job("cut", cut)
        acks_path = os.path.join(self.dir, f"acks-{cut}.jsonl")
        guest = uml.Guest(self.dir, self.disk)
        deadline = time.monotonic() + BOOT_TIMEOUT
        started = None
        calibrate = cut == 0
        while time.monotonic() < deadline and guest.process.poll() is None:
            seen = [e["event"] for e in events(acks_path)]
            if started is None and "start" in seen:
                started = time.monotonic()
                window = 1.25 * statistics.median(self.durations) if self.durations else 5.0
                cut_at = None if calibrate else started + self.rng.uniform(0, window)
            if started is not None:
                if "done" in seen and calibrate:
                    self.durations.append(time.monotonic() - started)
                    cut_at = time.monotonic() + self.rng.uniform(0, 0.5)
                    calibrate = False
                if cut_at is not None and time.monotonic() >= cut_at:
                    break
            time.sleep(0.01)
        if guest.process.poll() is not None:
            self.violation(cut, f"the guest exited ({guest.process.returncode}) before the cut; see {self.dir}/guest.log")
        elif started is None:
            self.violation(cut, "the guest never started the workload")
        self.delays.append(time.monotonic() - (started or time.monotonic()))
        alive = guest.cut()
        if alive:
            self.violation(cut, f"guest processes survived the cut: {alive}")
        acks = []
        for event in events(acks_path):
            if event["event"] == "ack":
                acks.append((event["tool"], event["ids"]))
            elif event["event"] in ("refused", "no reply"):
                self.violation(cut, f"{event['tool']} failed without a fault: {event}")
        self.history.append(acks)
        problem = uml.e2fsck_after_cut(self.disk, os.path.join(self.dir, "scratch.img"))
        if problem:
            self.violation(cut, problem)

    def final(self, selftest):
        self.job("selftest" if selftest else "final", self.cuts)
        guest = uml.Guest(self.dir, self.disk)
        if guest.wait(BOOT_TIMEOUT) is None:
            self.violation(self.cuts, "the final boot did not power off")
        else:
            problem = uml.e2fsck_clean(self.disk)
            if problem:
                self.violation(self.cuts, problem)

    def run(self, selftest):
        try:
            for cut in range(self.cuts):
                self.one_cut(cut)
            self.final(selftest)
            return self.tally(selftest)
        finally:
            if not self.violations:
                shutil.rmtree(self.dir, ignore_errors=True)

    def tally(self, selftest):
        results = events(os.path.join(self.dir, "results.jsonl"))
        checks = [r for r in results if "cut" in r]
        boots = {r["cut"] for r in checks}
        for cut in range(1, self.cuts + 1):
            if cut not in boots:
                self.violation(cut, "the boot after the cut wrote no check result")
        tolerated = {}
        canary = {"kept": 0, "lost": 0}
        checked = 0
        for result in checks:
            for text in result["violations"]:
                self.violation(result["cut"], "after the previous cut: " + text)
            for text in result["tolerated"]:
                tolerated[text] = tolerated.get(text, 0) + 1
            if result.get("canary"):
                canary[result["canary"]] += 1
            checked += result.get("checked", 0)
        if selftest:
            found = next((r["selftest"] for r in results if "selftest" in r), None)
            if not found or not all(found.values()):
                self.violation(self.cuts, f"the oracle's self-test failed: {found}")
        return {"violations": self.violations, "tolerated": tolerated, "canary": canary,
                "checked": checked, "boots": [(r["uptime"], r["verify_s"]) for r in checks if "uptime" in r],
                "acked": sum(len(a) for a in self.history),
                "delays": self.delays, "durations": self.durations}


def main(argv):
    def option(name, default):
        return type(default)(argv[argv.index(name) + 1]) if name in argv else default
    cuts = option("--cuts", 25)
    per_epoch = option("--epoch", 25)
    jobs = option("--jobs", 1)
    seed = option("--seed", int(time.time()))
    binary = option("--binary", os.path.join(uml.REPO, "target", "release", "codex-harness-mcp"))
    uml.require_tools()
    began = time.monotonic()
    sizes = [min(per_epoch, cuts - start) for start in range(0, cuts, per_epoch)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        tallies = list(pool.map(lambda job: Epoch(binary, job[0], job[1], seed).run(job[0] == 0),
                                enumerate(sizes)))
    violations = [v for t in tallies for v in t["violations"]]
    for violation in violations:
        print("VIOLATION " + violation)
    tolerated = {}
    for t in tallies:
        for key, count in t["tolerated"].items():
            tolerated[key] = tolerated.get(key, 0) + count
    lost = sum(t["canary"]["lost"] for t in tallies)
    canaries = lost + sum(t["canary"]["kept"] for t in tallies)
    delays = [d for t in tallies for d in t["delays"]]
    durations = [d for t in tallies for d in t["durations"]]
    boots = [b for t in tallies for b in t["boots"]]
    print(f"uml-powercut: seed {seed}; {len(sizes)} epochs; guest checked at {statistics.median(b[0] for b in boots):.1f} s "
          f"of uptime after a {statistics.median(b[1] for b in boots):.1f} s check (medians); session {statistics.median(durations):.1f} s (median); "
          f"cut {min(delays):.2f}-{max(delays):.2f} s after the session began; "
          f"{sum(t['acked'] for t in tallies)} acknowledged calls, {sum(t['checked'] for t in tallies)} "
          f"record checks; unsynced canary lost in {lost} of {canaries} cuts; "
          f"crash leftovers tolerated: {tolerated or 'none'}", file=sys.stderr)
    print(f"uml-powercut: {cuts} cuts, {len(violations)} violations, {time.monotonic() - began:.0f} s")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Crash states, enumerated: every on-disk state a crash could leave under a weak persistence
model, rebuilt from the server's own log of its store operations, each checked by a fresh
server and by `fsck`.

Usage: run.py [--binary PATH] [--long N] [--seed S] [--jobs J] [--session NAME] [--tmp DIR]

CI mode (default): every state of the six short sessions, and 2,000 states of the long one
(a seeded sample). Long mode, by hand: --long 1000000 checks every state of the long session
too. --tmp picks where states are restored (default /dev/shm: fsync there costs nothing).

1. Record. A scripted session runs against the release binary started with the hidden
   `--record-store-ops FILE` option: the store logs every mutating operation (create, write
   with offset and bytes, fsync, rename, unlink, mkdir, truncate) with inode numbers. After
   each reply the client notes how many operations the log holds: a crash after that point
   happened after the reply reached the client.
2. Enumerate. For each crash point p (after 0, 1, ... n operations) the operations before p
   split into durable ones and the rest, under this model:
     * a data write or truncate is durable once its file was fsynced after it;
     * a create, mkdir, rename or unlink is durable once its directory (both, for a rename)
       was fsynced after it;
     * any subset of the rest may have reached the disk, in any order (a subset applied in
       log order is what a reordering leaves); a data write that did may be whole, or torn
       at a 512- or 4096-byte boundary of the file (a prefix kept), with or without the
       rest of its range reading as zeros (the size reached the disk, the data did not).
   Writes to files no state can show (a lock file already durably removed) are left out.
   Every combination is generated when a crash point has at most CAP of them; above that a
   seeded random sample of CAP. Identical states are checked once.
3. Check each state, restored into a fresh project with every file six minutes old (the
   restart comes after the crash, and past the reaper's age):
     * every JSON file parses and every JSONL line does, except an unterminated last line
       (the torn tail of an append never acknowledged, which the next append cuts off);
     * a fresh server starts, reads every resource and shows every record whose success
       reply reached the client (tests/faults/run.py's fresh view);
     * no temp file (`<name>.tmp.<pid>.<hex>`) is named by any resource or by the listing
       tools (harness_list, harness_list_knowledge, harness_next_step), and none is left on
       disk once the server has started (the reaper's job);
     * state counters never count more records than are on disk;
     * the knowledge index never names an item that is not on disk and names every
       acknowledged one; after `harness_rebuild_knowledge_index` it names exactly the items;
     * the server can record again (a probe trace succeeds);
     * `codex-harness-mcp fsck` then finds nothing but what a crash may leave: a counter
       behind its records (a record stored by a call that was never acknowledged).
Prints `crashstates: N states checked, M violations` and exits 1 on any violation.
Standard library only; needs the release binary.
"""

import hashlib
import importlib.util
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("faults", os.path.join(HERE, "..", "faults", "run.py"))
faults = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(faults)

# Combinations generated per crash point before sampling takes over.
CAP = 8192
# How old every restored file is: the restart comes six minutes after the crash, past the
# reaper's age (five minutes), so every orphaned temp file must go whatever pid its name
# holds (with thousands of servers started, the recording server's pid is soon reused, and
# the reaper rightly keeps a young temp file of a live pid).
CRASH_AGE_S = 6 * 60
SECTOR, PAGE = 512, 4096
TEMP_NAME = re.compile(r"\.tmp\.\d+\.[0-9a-f]+")
HARNESS = ".codex-harness"

C = faults.POLICY_NOTE

# Short sessions: three to five calls each; together they call every mutating tool.
SHORT_SESSIONS = {
    "workflow": [
        ("harness_bootstrap", {"project_name": "crash"}),
        ("harness_create_contract", {
            "title": "Crash", "goal": "Survive every crash state",
            "completion_conditions": ["nothing lost"], "output_paths": ["README.md"],
            "verification_commands": ["tests/crashstates/run.py"]}),
        ("harness_update_state", {"focus": "crash", "decision": "Enumerate crash states", "note": "n"}),
        ("harness_record_trace", {"kind": "attempt", "summary": "first try", "raw": "output"}),
    ],
    "gate": [
        ("harness_create_contract", {
            "title": "Gate", "goal": "Gate after a crash", "completion_conditions": ["checked"],
            "output_paths": ["README.md"], "verification_commands": ["true"]}),
        ("harness_record_verification", {
            "command_or_check": "true", "status": "pass", "exit_code": 0, "raw_output": "ok"}),
        ("harness_eval_gate", {"checked_conditions": ["checked"]}),
    ],
    "knowledge": [
        ("harness_record_knowledge", {"title": "Crash note", "content": "Fsync the directory",
                                      "tags": ["durability"]}),
        ("harness_record_research", {"title": "Crash research", "summary": "ALICE and CrashMonkey"}),
        ("harness_record_lesson", {"title": "Crash lesson", "problem": "Lost entries",
                                   "solution": "Fsync the parent after mkdir"}),
        ("harness_rebuild_knowledge_index", {}),
    ],
    "evals": [
        ("harness_record_harness_profile", {"name": "Crash profile", "mode": "standard"}),
        ("harness_record_eval_case", {"title": "Crash case", "split": "holdout"}),
        ("harness_record_eval_run", lambda ids: {
            "eval_case_id": ids.get("case", "missing"), "verdict": "pass", "score": 0.5}),
    ],
    "governance": [
        ("harness_record_eval_case", {"title": "Crash case", "split": "holdout"}),
        ("harness_record_eval_run", lambda ids: {
            "eval_case_id": ids.get("case", "missing"), "verdict": "pass", "score": 0.5}),
        ("harness_record_harness_proposal", lambda ids: {
            "title": "Crash proposal", "proposed_change": "Fsync the parent",
            "holdout_run_ids": [ids.get("run", "missing")]}),
        ("harness_record_promotion_decision", lambda ids: {
            "proposal_id": ids.get("proposal", "missing"), "decision": "hold",
            "rationale": "Needs another run"}),
        ("harness_write_governance_policy", {"network_allowed": False, "notes": C}),
    ],
    "migrate": [
        ("harness_record_knowledge", {"title": "Before migrate", "content": "Migrated tree"}),
        ("harness_migrate", {}),
        ("harness_query_knowledge", {"query": "migrated"}),
    ],
}


def long_session():
    """The faults session twice over (its probe left out): 32 calls."""
    calls = faults.session_requests()[:-1]
    return calls + calls


class RecordingServer(faults.Server):
    """A server that logs its store operations to `log`."""

    def __init__(self, binary, project, workdir, log):
        self.stderr = open(os.path.join(workdir, "stderr"), "w+b")
        self.process = subprocess.Popen(
            [binary, "--project", project, "--record-store-ops", log],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.next_id = 0


def complete_lines(path):
    with open(path, "rb") as handle:
        return handle.read().count(b"\n")


def record(binary, requests, workdir):
    """Runs a session with the log on. Returns (log records, acks): acks holds
    (log length when the reply arrived, tool name, ids) for every success reply."""
    project = os.path.join(workdir, "project")
    os.mkdir(project)
    log = os.path.join(workdir, "ops.jsonl")
    server = RecordingServer(binary, project, workdir, log)
    acks, named = [], {}
    if not server.initialize():
        sys.exit("crashstates: the recording server did not start")
    for name, arguments in requests:
        if callable(arguments):
            arguments = arguments(named)
        reply = server.request("tools/call", {"name": name, "arguments": arguments})
        result = (reply or {}).get("result") or {}
        if reply is None or result.get("isError"):
            sys.exit(f"crashstates: {name} failed in the recorded session: {str(reply)[:300]}")
        structured = result.get("structuredContent") or {}
        for key in ("case", "run", "proposal"):
            if isinstance(structured.get(key), dict) and "id" in structured[key]:
                named[key] = structured[key]["id"]
        acks.append((complete_lines(log), name, faults.ids_in(structured)))
    status = server.close()
    if status != 0:
        sys.exit(f"crashstates: the recording server exited {status}: {server.stderr_text[-300:]}")
    with open(log) as handle:
        return [json.loads(line) for line in handle], acks


# --- the model -----------------------------------------------------------------------------

def compile_log(records):
    """Turns log records into operations on model objects (object 0 is the project
    directory; inode numbers are remapped at each create, so a reused number is a new
    object). One entry per record (None for what changes nothing)."""
    live_ino, live, kinds, ops = {}, {0: {}}, {0: "dir"}, []

    def new(kind, ino):
        obj = len(kinds)
        kinds[obj] = kind
        live_ino[ino] = obj
        if kind == "dir":
            live[obj] = {}
        return obj

    for rec in records:
        op = rec["op"]
        if op == "project":
            live_ino[rec["ino"]] = 0
            ops.append(None)
        elif op == "mkdir":
            parent = live_ino[rec["dir"]]
            obj = new("dir", rec["ino"])
            live[parent][rec["name"]] = obj
            ops.append(("link", parent, rec["name"], obj))
        elif op == "create":
            parent = live_ino[rec["dir"]]
            *dirs, name = rec["path"].split("/")
            for part in dirs:
                parent = live[parent][part]
            existing = live[parent].get(name)
            if existing is not None and live_ino.get(rec["ino"]) == existing:
                ops.append(None)
            else:
                obj = new("file", rec["ino"])
                live[parent][name] = obj
                ops.append(("link", parent, name, obj))
        elif op == "write":
            ops.append(("write", live_ino[rec["ino"]], rec["off"], bytes.fromhex(rec["data"])))
        elif op == "truncate":
            ops.append(("truncate", live_ino[rec["ino"]], rec["len"]))
        elif op == "fsync":
            ops.append(("fsync", live_ino[rec["ino"]]))
        elif op == "rename":
            source, target = live_ino[rec["from_dir"]], live_ino[rec["to_dir"]]
            obj = live[source].pop(rec["from"])
            live[target][rec["to"]] = obj
            ops.append(("rename", source, rec["from"], target, rec["to"], obj))
        elif op == "unlink":
            parent = live_ino[rec["dir"]]
            live[parent].pop(rec["name"], None)
            ops.append(("unlink", parent, rec["name"]))
        elif op == "flock":
            ops.append(None)
        else:
            raise ValueError(f"unknown operation {op}")
    return ops, kinds


def synced_by(ops):
    """For each operation, the index of the first fsync after it that makes it durable
    (len(ops) if none does): its file's for data, its directory's (both) for names."""
    n = len(ops)
    fsyncs = {}
    for index, op in enumerate(ops):
        if op and op[0] == "fsync":
            fsyncs.setdefault(op[1], []).append(index)

    def next_fsync(obj, after):
        return next((s for s in fsyncs.get(obj, []) if s > after), n)

    durable = []
    for index, op in enumerate(ops):
        if op is None or op[0] == "fsync":
            durable.append(-1)
        elif op[0] in ("write", "truncate"):
            durable.append(next_fsync(op[1], index))
        elif op[0] in ("link", "unlink"):
            durable.append(next_fsync(op[1], index))
        else:
            durable.append(max(next_fsync(op[1], index), next_fsync(op[3], index)))
    return durable


def write_variants(op):
    """The ways an unsynced write may have reached the disk: dropped, whole, or torn at a
    sector/page boundary inside it (prefix kept), with or without its size (zeros after)."""
    _, _, offset, data = op
    end = offset + len(data)
    first = (offset // SECTOR + 1) * SECTOR
    last = ((end - 1) // SECTOR) * SECTOR
    cuts = {b for b in range((offset // PAGE + 1) * PAGE, end, PAGE)}
    cuts.update(b for b in (first, last) if offset < b < end)
    variants = ["drop", "whole", ("zeros", offset)]
    for cut in sorted(cuts):
        variants += [("torn", cut), ("zeros", cut)]
    return variants


def apply(ops, kinds, chosen):
    """The tree left by the operations in `chosen` ({index: variant}), applied in order.
    Returns {path: bytes or None for a directory}, paths relative to the project."""
    dirs, files = {0: {}}, {}
    for index in sorted(chosen):
        op, variant = ops[index], chosen[index]
        kind = op[0]
        if kind == "link":
            dirs.setdefault(op[1], {})[op[2]] = op[3]
        elif kind == "rename":
            dirs.setdefault(op[1], {}).pop(op[2], None)
            dirs.setdefault(op[3], {})[op[4]] = op[5]
        elif kind == "unlink":
            dirs.setdefault(op[1], {}).pop(op[2], None)
        elif kind == "write":
            _, obj, offset, data = op
            if variant == "whole":
                kept = data
            else:
                cut = variant[1] - offset
                kept = data[:cut] + (b"\0" * (len(data) - cut) if variant[0] == "zeros" else b"")
            content = files.setdefault(obj, bytearray())
            if len(content) < offset:
                content.extend(b"\0" * (offset - len(content)))
            content[offset:offset + len(kept)] = kept
        elif kind == "truncate":
            content = files.setdefault(op[1], bytearray())
            del content[op[2]:]
            content.extend(b"\0" * (op[2] - len(content)))
    tree = {}

    def visit(obj, prefix):
        for name, child in sorted(dirs.get(obj, {}).items()):
            path = prefix + name
            if kinds[child] == "dir":
                tree[path] = None
                visit(child, path + "/")
            else:
                tree[path] = bytes(files.get(child, b""))

    visit(0, "")
    return tree


def named_objects(ops, indices):
    """Every object some directory entry names after the name operations in `indices`."""
    dirs = {}
    for index in sorted(indices):
        op = ops[index]
        if op[0] == "link":
            dirs.setdefault(op[1], {})[op[2]] = op[3]
        elif op[0] == "rename":
            dirs.setdefault(op[1], {}).pop(op[2], None)
            dirs.setdefault(op[3], {})[op[4]] = op[5]
        elif op[0] == "unlink":
            dirs.setdefault(op[1], {}).pop(op[2], None)
    return {obj for entries in dirs.values() for obj in entries.values()}


def crash_states(ops, kinds, acks, rng, sampled):
    """Yields (crash point, number of acknowledged calls, tree) for every state of every
    crash point, without duplicates. The unsynced name operations are chosen first; then
    the unsynced data operations on files those names can show, each in all its variants.
    A crash point with more than CAP combinations is sampled (`sampled` collects it)."""
    durable = synced_by(ops)
    seen = set()
    is_name = lambda op: op[0] in ("link", "rename", "unlink")
    for point in range(len(ops) + 1):
        acked = sum(1 for at, _, _ in acks if at <= point)
        base = [i for i in range(point) if ops[i] and ops[i][0] != "fsync" and durable[i] < point]
        loose = [i for i in range(point) if ops[i] and ops[i][0] != "fsync" and durable[i] >= point]
        names = [i for i in loose if is_name(ops[i])]
        data = [i for i in loose if not is_name(ops[i])]
        base_names = [i for i in base if is_name(ops[i])]

        def combos():
            for picked in itertools.product([False, True], repeat=len(names)):
                chosen_names = [i for i, keep in zip(names, picked) if keep]
                shown = named_objects(ops, base_names + chosen_names)
                relevant = [i for i in data if ops[i][1] in shown]
                choices = [write_variants(ops[i]) if ops[i][0] == "write" else ["drop", "whole"]
                           for i in relevant]
                for variants in itertools.product(*choices):
                    yield chosen_names, relevant, variants

        total = 0
        for _ in itertools.islice(combos(), CAP + 1):
            total += 1
        if total <= CAP:
            chosen_list = combos()
        else:
            sampled.append(point)
            chosen_list = []
            for _ in range(CAP):
                picked = [i for i in names if rng.random() < 0.5]
                shown = named_objects(ops, base_names + picked)
                relevant = [i for i in data if ops[i][1] in shown]
                variants = [rng.choice(write_variants(ops[i]) if ops[i][0] == "write" else ["drop", "whole"])
                            for i in relevant]
                chosen_list.append((picked, relevant, variants))
        for chosen_names, relevant, variants in chosen_list:
            chosen = {i: "whole" for i in base}
            chosen.update((i, "whole") for i in chosen_names)
            chosen.update((i, v) for i, v in zip(relevant, variants) if v != "drop")
            tree = apply(ops, kinds, chosen)
            digest = hashlib.sha256(repr((acked, sorted(tree.items()))).encode()).digest()
            if digest not in seen:
                seen.add(digest)
                yield point, acked, tree


# --- the checks ----------------------------------------------------------------------------

def restore(tree, project):
    stamp = time.time() - CRASH_AGE_S
    for path, content in sorted(tree.items()):
        full = os.path.join(project, path)
        if content is None:
            os.makedirs(full, exist_ok=True)
        else:
            with open(full, "wb") as handle:
                handle.write(content)
    for path in tree:
        os.utime(os.path.join(project, path), (stamp, stamp))


def unparsable(project):
    """JSON files that do not parse and JSONL lines that do not, an unterminated last line
    excepted."""
    found = []
    root = os.path.join(project, HARNESS)
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, root)
            with open(path, "rb") as handle:
                content = handle.read()
            try:
                if name.endswith(".json") and not TEMP_NAME.search(name):
                    json.loads(content)
                elif name.endswith(".jsonl"):
                    for line in content.split(b"\n")[:-1]:
                        if line.strip():
                            json.loads(line)
            except ValueError as error:
                found.append(f"{rel} does not parse: {error}")
    return found


def items_on_disk(project):
    items = os.path.join(project, HARNESS, "knowledge", "items")
    found = set()
    for name in os.listdir(items) if os.path.isdir(items) else []:
        if name.endswith(".json") and not TEMP_NAME.search(name):
            with open(os.path.join(items, name), "rb") as handle:
                found.add(json.loads(handle.read()).get("id", name[:-5]))
    return found


SEGMENT_NAME = re.compile(r"^[0-9]{10}\.jsonl$")


def indexed(project):
    """Ids named by index.json, by the sealed segments and by the journal's complete lines
    (the server's index is the segments and the journal; index.json is its export)."""
    base = os.path.join(project, HARNESS, "knowledge")
    ids = set()
    try:
        with open(os.path.join(base, "index.json"), "rb") as handle:
            ids.update(e.get("id") for e in json.loads(handle.read()).get("items", []))
    except FileNotFoundError:
        pass
    segments = os.path.join(base, "segments")
    logs = [os.path.join(segments, name) for name in sorted(os.listdir(segments))
            if SEGMENT_NAME.match(name)] if os.path.isdir(segments) else []
    for path in logs + [os.path.join(base, "index.journal.jsonl")]:
        try:
            with open(path, "rb") as handle:
                for line in handle.read().split(b"\n")[:-1]:
                    try:
                        ids.add(json.loads(line)["entry"]["id"])
                    except (ValueError, KeyError, TypeError):
                        pass
        except FileNotFoundError:
            pass
    return ids


COUNTER = re.compile(r"counters\.(\w+) is (\d+) but .* holds (\d+)")


def check_state(binary, tree, acks):
    """The violations of one crash state, and whether a refused call's record was kept."""
    workdir = tempfile.mkdtemp(prefix="crashstate-")
    try:
        project = os.path.join(workdir, "project")
        os.mkdir(project)
        restore(tree, project)
        problems = unparsable(project)
        problems += fresh_problems(binary, project, workdir, acks)
        problems += unparsable(project)
        problems += [f"temp file left after start-up: {t}" for t in faults.temp_files(project)]
        items = items_on_disk(project)
        index = indexed(project)
        problems += [f"index names {i}, which is not on disk" for i in sorted(index - items)]
        acked_items = {i for name, ids in acks for i in ids if i.startswith("knowledge-")}
        problems += [f"acknowledged item {i} not in the index" for i in sorted(acked_items - index)]
        kept = bool(items - index)
        problems += probe(binary, project, workdir)
        rebuilt = indexed(project)
        if rebuilt != items_on_disk(project):
            problems.append(f"the rebuilt index {sorted(rebuilt)} is not the items {sorted(items_on_disk(project))}")
        problems += fsck_problems(binary, project)
        return problems, kept
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def fresh_problems(binary, project, workdir, acks):
    problems, listed = faults.fresh_view(binary, project, workdir, acks)
    problems += [f"a resource names the temp file {m}" for m in TEMP_NAME.findall(listed or "")]
    return problems


def probe(binary, project, workdir):
    server = faults.Server(binary, project, workdir)
    problems = []
    if not server.initialize():
        server.close()
        return ["the probe server did not start"]
    for name, arguments in [
        # The listing tools must not show a temp file either.
        ("harness_list", {}),
        ("harness_list_knowledge", {}),
        ("harness_next_step", {}),
        ("harness_record_trace", {"kind": "attempt", "summary": "probe after the crash", "raw": "probe"}),
        ("harness_rebuild_knowledge_index", {}),
    ]:
        reply = server.request("tools/call", {"name": name, "arguments": arguments})
        if reply is None or (reply.get("result") or {}).get("isError", "result" not in reply):
            problems.append(f"{name} after the crash failed: {str(reply)[:300]}")
        problems += [f"{name} names the temp file {m}" for m in TEMP_NAME.findall(json.dumps(reply))]
    if server.close() != 0:
        problems.append("the probe server did not exit 0")
    return problems


def fsck_problems(binary, project):
    done = subprocess.run([binary, "fsck", "--project", project], capture_output=True, timeout=60)
    lines = done.stdout.decode(errors="replace").splitlines()
    if done.returncode not in (0, 1):
        return [f"fsck could not check (exit {done.returncode}): {done.stderr.decode(errors='replace')[-300:]}"]
    problems = []
    for line in lines[:-1]:
        counter = COUNTER.search(line)
        if counter and int(counter.group(2)) <= int(counter.group(3)):
            continue
        problems.append(f"fsck: {line}")
    return problems


# --- driver --------------------------------------------------------------------------------

def check_session(binary, name, requests, limit, rng, pool):
    """Records one session and checks its crash states (at most `limit`, a seeded sample
    of them when there are more). Returns (states, violations, kept)."""
    workdir = tempfile.mkdtemp(prefix="crashrec-")
    try:
        records, acks = record(binary, requests, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ops, kinds = compile_log(records)
    sampled, states, generated = [], [], 0
    # A seeded reservoir sample of `limit` states, so a long session is never held whole.
    for state in crash_states(ops, kinds, acks, rng, sampled):
        generated += 1
        if limit is None or len(states) < limit:
            states.append(state)
        elif (slot := rng.randrange(generated)) < limit:
            states[slot] = state
    jobs = [(tree, [(n, ids) for at, n, ids in acks if at <= point], point) for point, _, tree in states]
    violations, kept = [], 0
    for (problems, refused_kept), (_, _, point) in zip(
            pool.map(lambda job: check_state(binary, job[0], job[1]), jobs), jobs):
        kept += refused_kept
        violations += [f"{name} @{point}/{len(ops)}: {p}" for p in problems]
    how = "every state" if not sampled and generated == len(states) else (
        f"{len(states)} of {generated} states, {len(sampled)} crash points sampled")
    print(f"crashstates: {name}: {len(records)} operations, {len(acks)} calls, {how}: "
          f"{len(states)} states checked, {len(violations)} violations", file=sys.stderr)
    return len(states), violations, kept


def self_test(binary):
    """The checks must be able to fail (a lost acknowledged record, a torn one, a counter
    ahead of its records), and the model must find what a skipped fsync loses."""
    workdir = tempfile.mkdtemp(prefix="crashself-")
    failures = 0
    try:
        records, acks = record(binary, SHORT_SESSIONS["evals"], workdir)
        ops, kinds = compile_log(records)
        tree = apply(ops, kinds, {i: "whole" for i, op in enumerate(ops) if op and op[0] != "fsync"})
        all_acks = [(n, ids) for _, n, ids in acks]
        case = next(p for p in tree if p.startswith(HARNESS + "/evals/cases/"))
        for label, broken in [
            ("a removed eval case", {p: c for p, c in tree.items() if p != case}),
            ("a torn eval case", {**tree, case: tree[case][:10]}),
            ("a counter ahead of its records", {**tree, HARNESS + "/state.json": tree[HARNESS + "/state.json"].replace(
                b'"evalCases": 1', b'"evalCases": 2')}),
        ]:
            if not check_state(binary, broken, all_acks)[0]:
                print(f"crashstates: self-test FAIL: {label} was not reported", file=sys.stderr)
                failures += 1
        # The model must find what a store that skips an fsync would lose: without the eval
        # case's file fsync (torn or empty record) or its directory's (record missing).
        rename = next(op for op in ops if op and op[0] == "rename" and op[4].startswith("eval-case-"))
        point = next(at for at, name, _ in acks if name == "harness_record_eval_case")
        for label, skipped in [("file", rename[5]), ("directory", rename[3])]:
            weakened = [None if op and op[0] == "fsync" and op[1] == skipped else op for op in ops]
            found = any(check_state(binary, tree, [(n, ids) for at, n, ids in acks if at <= p])[0]
                        for p, _, tree in crash_states(weakened, kinds, acks, random.Random(0), [])
                        if p == point)
            if not found:
                print(f"crashstates: self-test FAIL: a skipped {label} fsync lost nothing", file=sys.stderr)
                failures += 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return failures


def main(argv):
    def option(flag, default):
        return argv[argv.index(flag) + 1] if flag in argv else default

    binary = option("--binary", "target/release/codex-harness-mcp")
    long_states = int(option("--long", "2000"))
    rng = random.Random(int(option("--seed", "16")))
    only = option("--session", None)
    started = time.time()
    # The checks need no real durability, and fsync on tmpfs costs nothing.
    scratch = option("--tmp", "/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    if scratch:
        tempfile.tempdir = scratch
    if only is None:
        if self_test(binary):
            print("crashstates: the self-test failed")
            return 1
        print("crashstates: self-test passed (a lost, a torn and an over-counted record are each "
              "reported; so is what a skipped file or directory fsync would lose)", file=sys.stderr)
    total, violations, kept = 0, [], 0
    sessions = [(n, s, None) for n, s in SHORT_SESSIONS.items()] + [("long", long_session(), long_states)]
    with ThreadPoolExecutor(max_workers=int(option("--jobs", os.environ.get("CRASH_JOBS", "2")))) as pool:
        for name, requests, limit in sessions:
            if only is not None and name != only:
                continue
            states, found, refused = check_session(binary, name, requests, limit, rng, pool)
            total += states
            kept += refused
            violations += found
    for violation in violations[:200]:
        print("VIOLATION " + violation)
    print(f"crashstates: {kept} states keep an item of a call that was never acknowledged "
          f"(on disk, not yet indexed; a rebuild indexes it)", file=sys.stderr)
    print(f"crashstates: {total} states checked, {len(violations)} violations "
          f"({time.time() - started:.0f} s)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

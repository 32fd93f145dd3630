#!/usr/bin/env python3
"""Confinement on a kernel without Landlock, for real: Debian's user-mode-linux kernel (6.1)
is built without Landlock but with seccomp filters and openat2. Inside it, with the project on
an ext4 disk:

  * `doctor` reports Landlock unavailable and exits 1;
  * `__confinement-selftest` shows capabilities, no_new_privs and seccomp enforced, the
    socket, connect, exec, plain-openat and unlisted-syscall denials still holding, and the
    acts only Landlock would deny (reading /etc/passwd, writing the project root) listed as
    not enforced, with the reason; it does not pass (exit 1);
  * `serve` starts, says on stderr exactly which layer is missing and why, reports the same
    posture in the `initialize` result's `_meta` and in harness://security/posture, and
    serves tool calls;
  * `serve --require-confinement` refuses to start (exit 1, naming Landlock), before
    answering anything;
  * `fsck` checks the tree and warns the same way.

Usage: oldkernel.py [--binary PATH]. Prints one PASS/FAIL line per check and
`uml-oldkernel: N checks, M failed`; exits 1 on any failure, and fails (never skips) when
the guest cannot boot or the kernel turns out to have Landlock.

`run` is the guest side (guest.py calls it inside the guest).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "faults"))
import run as faults  # noqa: E402
import uml  # noqa: E402

POSTURE_KEY = "codex-harness-mcp/posture"
LANDLOCK_WARNING = "WARNING: Landlock unavailable (the kernel has no Landlock support)"
# Acts whose denial does not depend on Landlock, and the errno each must fail with.
SECCOMP_DENIALS = {
    "socket_inet": "EPERM", "socket_inet6": "EPERM", "socket_unix": "EPERM",
    "connect_tcp_loopback": "EPERM", "exec_bin_true": "EPERM", "plain_openat": "EPERM",
    "unlisted_syscall_getsid": "ENOSYS", "signal_parent": "EPERM",
}
LANDLOCK_ONLY = ["read_etc_passwd", "write_project_root"]


# ---------------------------------------------------------------- guest side


def run(job):
    """Runs every check inside the guest and writes {"checks": {name: [ok, detail]}}."""
    checks = {}

    def check(name, ok, detail):
        checks[name] = [bool(ok), detail]

    binary, project = job["binary"], job["project"]
    os.makedirs(job["mnt"], exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "ext4", "/dev/ubda", job["mnt"]], capture_output=True, text=True)
    check("the project disk mounts", mounted.returncode == 0, mounted.stderr.strip())
    os.makedirs(project, exist_ok=True)
    release = os.uname().release
    check("the guest kernel is 6.1", release.startswith("6.1."), release)

    doctor = subprocess.run([binary, "doctor", "--project", project], capture_output=True, text=True)
    check("doctor reports Landlock unavailable and exits 1",
          doctor.returncode == 1 and "landlock: UNAVAILABLE" in doctor.stdout,
          f"exit {doctor.returncode}: {doctor.stdout.strip()}")

    selftest = subprocess.run([binary, "__confinement-selftest", "--project", project],
                              capture_output=True, text=True)
    try:
        report = json.loads(selftest.stdout)
    except ValueError:
        report = {}
    posture = report.get("posture", {})
    attempts = report.get("attempts", {})
    check("the self-test does not pass (exit 1)", selftest.returncode == 1 and report.get("passed") is False,
          f"exit {selftest.returncode}, passed {report.get('passed')}; stderr {selftest.stderr.strip()[-300:]}")
    check_posture(check, "self-test", posture)
    for name, errno in SECCOMP_DENIALS.items():
        attempt = attempts.get(name, {})
        check(f"self-test: {name} is still denied ({errno})",
              attempt.get("allowed") is False and attempt.get("error") == errno, attempt)
    check("self-test: writing inside .codex-harness/ is allowed",
          attempts.get("write_inside_harness", {}).get("allowed") is True, attempts.get("write_inside_harness"))
    missing = {entry.get("attempt"): entry for entry in report.get("notEnforced", [])}
    for name in LANDLOCK_ONLY:
        entry = missing.get(name, {})
        check(f"self-test: {name} is reported as not enforced (Landlock)",
              entry.get("layer") == "landlock" and "no Landlock support" in entry.get("reason", ""),
              {"attempt": attempts.get(name), "notEnforced": entry})
    check("self-test: nothing else is reported as not enforced", set(missing) <= set(LANDLOCK_ONLY),
          sorted(missing))
    check("self-test: the escape probe left nothing in the project root",
          not os.path.exists(os.path.join(project, "codex-harness-selftest-escape")), project)

    workdir = os.path.join(job["dir"], "serve")
    os.makedirs(workdir, exist_ok=True)
    server = faults.Server(binary, project, workdir)
    reply = server.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                          "clientInfo": {"name": "oldkernel", "version": "1"}})
    result = (reply or {}).get("result", {})
    check("serve answers initialize", "protocolVersion" in result, str(reply)[:300])
    check_posture(check, "initialize _meta", result.get("_meta", {}).get(POSTURE_KEY, {}))
    server.notify("notifications/initialized")
    call = server.request("tools/call", {"name": "harness_record_trace",
                                         "arguments": {"kind": "attempt", "summary": "on an old kernel",
                                                       "raw": "no Landlock here"}})
    check("serve records a trace", call is not None and "result" in call and not call["result"].get("isError"),
          str(call)[:300])
    resource = server.request("resources/read", {"uri": "harness://security/posture"})
    try:
        text = resource["result"]["contents"][0]["text"]
        confinement = json.loads(text)
    except (TypeError, KeyError, IndexError, ValueError):
        text, confinement = str(resource)[:300], {}
    check_posture(check, "harness://security/posture", find_posture(confinement))
    status = server.close()
    stderr = server.stderr_text
    check("serve exits 0 when stdin closes", status == 0, status)
    check("serve's stderr names the missing layer and why",
          "landlock unavailable;" in stderr and LANDLOCK_WARNING in stderr and "seccomp enforced" in stderr,
          stderr.strip())

    strict = subprocess.run([binary, "--require-confinement", "--project", project], input="",
                            capture_output=True, text=True, timeout=60)
    check("serve --require-confinement refuses to start (exit 1) and names Landlock",
          strict.returncode == 1 and strict.stdout == ""
          and "--require-confinement: Landlock is unavailable (the kernel has no Landlock support)" in strict.stderr,
          f"exit {strict.returncode}, stdout {strict.stdout[:200]!r}, stderr {strict.stderr.strip()}")

    fsck = subprocess.run([binary, "fsck", "--project", project], capture_output=True, text=True)
    check("fsck checks the tree (exit 0) and warns that Landlock is unavailable",
          fsck.returncode == 0 and LANDLOCK_WARNING in fsck.stderr,
          f"exit {fsck.returncode}: {fsck.stdout.strip()[-200:]} / {fsck.stderr.strip()[-300:]}")

    subprocess.run(["umount", job["mnt"]], check=False)
    with open(os.path.join(job["dir"], "results.json"), "w") as handle:
        json.dump({"checks": checks}, handle)
        handle.flush()
        os.fsync(handle.fileno())


def find_posture(value):
    """The confinement object inside the security resource (the one with a landlock key)."""
    if isinstance(value, dict):
        if "landlock" in value and "seccomp" in value:
            return value
        for item in value.values():
            found = find_posture(item)
            if found:
                return found
    return {}


def check_posture(check, where, posture):
    landlock = posture.get("landlock", {})
    check(f"{where}: Landlock unavailable, with the reason",
          landlock.get("state") == "unavailable" and "no Landlock support" in landlock.get("reason", ""), landlock)
    for layer in ("seccomp", "noNewPrivs", "capabilities"):
        check(f"{where}: {layer} enforced", posture.get(layer, {}).get("state") == "enforced", posture.get(layer))
    check(f"{where}: openat2 present, not fully enforced",
          posture.get("openat2") is True and posture.get("fullyEnforced") is False,
          {k: posture.get(k) for k in ("openat2", "fullyEnforced")})


# ---------------------------------------------------------------- host side


def main(argv):
    binary = os.path.abspath(argv[argv.index("--binary") + 1]) if "--binary" in argv else \
        os.path.join(uml.REPO, "target", "release", "codex-harness-mcp")
    uml.require_tools()
    began = time.monotonic()
    job_dir = tempfile.mkdtemp(prefix="uml-oldkernel-")
    disk = os.path.join(job_dir, "disk.img")
    uml.make_disk(disk, "16M")
    mnt = os.path.join(job_dir, "mnt")
    os.mkdir(mnt)
    uml.write_job(job_dir, {"mode": "oldkernel", "binary": binary, "mnt": mnt,
                            "project": os.path.join(mnt, "project")})
    guest = uml.Guest(job_dir, disk)
    status = guest.wait(300)
    guest.close()
    try:
        with open(os.path.join(job_dir, "results.json")) as handle:
            checks = json.load(handle)["checks"]
    except (FileNotFoundError, ValueError, KeyError):
        print(f"FAIL the guest booted (exit {status}) but wrote no results; see {job_dir}")
        print("uml-oldkernel: 0 checks, 1 failed")
        return 1
    failed = 0
    for name, (ok, detail) in checks.items():
        print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
        failed += not ok
    print(f"uml-oldkernel: {len(checks)} checks, {failed} failed, {time.monotonic() - began:.0f} s")
    if not failed:
        shutil.rmtree(job_dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

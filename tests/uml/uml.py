"""Boots a user-mode-linux guest (Debian's `linux.uml`, kernel 6.1) for the tests in this
directory: the host's root is the guest's root (hostfs), `init.sh` is its init, and the job
directory on the host is how the two sides talk (`job.json` in, results out).

This module owns starting the guest, killing every host process of it at once, and the
e2fsck checks of an image. It never writes inside the guest's disk image except through
e2fsck on a copy, and it never kills a process it did not start.
"""

import json
import os
import shutil
import signal
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
KERNEL = "linux.uml"


def require_tools():
    """Exits with a failure (never a skip) when the guest cannot be booted or checked."""
    missing = [tool for tool in (KERNEL, "mkfs.ext4", "e2fsck") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"uml: missing {', '.join(missing)} (apt-get install user-mode-linux e2fsprogs)")


def write_job(job_dir, job):
    with open(os.path.join(job_dir, "job.json"), "w") as handle:
        json.dump(job, handle)


class Guest:
    """One booted guest. Its host processes share one process group, so a cut kills all of
    them with a single signal: nothing of the guest runs on after the cut."""

    def __init__(self, job_dir, disk=None, mem="256M"):
        self.job_dir = job_dir
        self.console = open(os.path.join(job_dir, "console.log"), "ab")
        command = [KERNEL, f"mem={mem}", "rootfstype=hostfs", "rootflags=/", "rw",
                   f"init={os.path.join(HERE, 'init.sh')}", f"uml_dir={job_dir}", "quiet",
                   "con0=null,fd:2", "con=null", "ssl=null", f"UMLJOB={job_dir}"]
        if disk is not None:
            command.append(f"ubd0={disk}")
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self.console,
                                        stderr=self.console, start_new_session=True)

    def wait(self, timeout):
        """The exit status, or None if the guest was still running after `timeout` s (it is
        then cut)."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.cut()
            return None

    def cut(self):
        """The power cut: SIGKILL to every host process of the guest at the same instant.
        Returns the pids still alive afterwards (always empty unless the kernel misbehaves)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.console.close()
        deadline = time.monotonic() + 5
        while True:
            alive = group_members(self.process.pid)
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.05)

    def close(self):
        if not self.console.closed:
            self.console.close()


def group_members(pgid):
    """Pids of live (not zombie) processes in process group `pgid`."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


def make_disk(path, size="64M"):
    subprocess.run(["mkfs.ext4", "-q", "-F", path, size], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def e2fsck_after_cut(disk, scratch):
    """Replays the journal of a copy of `disk` and repairs it the way a boot does
    (`e2fsck -fp`: only what preen mode fixes by itself, such as the free counts ext4 does
    not journal). Returns a problem or None: preen must not give up (exit 4 or more), and a
    second, read-only pass must then find the file system clean (exit 0)."""
    shutil.copyfile(disk, scratch)
    try:
        first = subprocess.run(["e2fsck", "-fp", scratch], capture_output=True, text=True)
        second = subprocess.run(["e2fsck", "-fn", scratch], capture_output=True, text=True)
    finally:
        os.remove(scratch)
    if first.returncode not in (0, 1):
        return f"e2fsck -fp exited {first.returncode}: {(first.stdout + first.stderr)[-400:]}"
    if second.returncode != 0:
        return f"e2fsck -fn after the journal replay exited {second.returncode}: {second.stdout[-400:]}"
    return None


def e2fsck_clean(disk):
    """A read-only check of a cleanly unmounted image: None when clean, else the problem."""
    result = subprocess.run(["e2fsck", "-fn", disk], capture_output=True, text=True)
    if result.returncode != 0:
        return f"e2fsck -fn exited {result.returncode}: {(result.stdout + result.stderr)[-400:]}"
    return None

//! Round 10, the process keeps nothing it was not given: descriptors the launcher leaked
//! (R10-6), the capabilities of a root launcher (R10-7), and the seccomp filter's default and
//! argument checks (R10-8).

use crate::confinement::selftest;
use crate::ensure;
use crate::harness::{proc_status_field, server_binary, Fixture, Outcome, Session};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

const EMPTY_SET: &str = "0000000000000000";

/// Whether this (auditing) process holds `CAP_SETPCAP` (bit 8), which a server it starts needs
/// to empty its bounding set.
fn auditor_has_setpcap() -> bool {
    proc_status_field(std::process::id(), "CapEff:")
        .and_then(|mask| u64::from_str_radix(&mask, 16).ok())
        .is_some_and(|mask| mask & (1 << 8) != 0)
}

/// R10-6 — hypothesis: a descriptor the launcher left open (fd 3 read-write on a file outside
/// the project, fd 4 a connected TCP socket) stays usable by the confined server, where
/// seccomp allows `write`/`pwrite64`/`ftruncate` on any descriptor. Replayed by launching the
/// server through bash with both open, then looking from outside: `/proc/<pid>/fd` of the
/// serving process names neither, the socket's peer reads end-of-file, the file is intact.
pub fn r10_6() -> Outcome {
    let fx = Fixture::new("r10-6");
    let outside = fx.victim.join("secret.txt");
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(r#"exec 3<>"$1" 4<>"/dev/tcp/127.0.0.1/$2" && exec "$0" --project "$3""#)
        .arg(server_binary())
        .arg(&outside)
        .arg(port.to_string())
        .arg(&fx.project)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn through bash: {e}"))?;
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "audit", "version": "1"}}});
    let mut line = String::new();
    let answered = child
        .stdin
        .as_mut()
        .ok_or("no stdin")
        .and_then(|stdin| writeln!(stdin, "{request}").map_err(|_| "write failed"))
        .and_then(|()| child.stdout.take().ok_or("no stdout"))
        .map(|stdout| BufReader::new(stdout).read_line(&mut line));
    let pid = child.id();
    let open: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| std::fs::read_link(entry.path()).ok())
                .map(|target| target.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let peer = listener.accept().map_err(|e| e.to_string())?.0;
    peer.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut byte = [0u8; 1];
    let peer_read = (&peer).read(&mut byte);
    let _ = child.kill();
    let _ = child.wait();
    ensure!(
        matches!(answered, Ok(Ok(n)) if n > 0) && line.contains("\"result\""),
        "initialize not answered: {line:?}"
    );
    ensure!(!open.is_empty(), "could not read /proc/{pid}/fd");
    let outside_name = outside.to_string_lossy();
    ensure!(
        !open.iter().any(|t| *t == outside_name),
        "the outside file is open in the server: {open:?}"
    );
    ensure!(
        !open.iter().any(|t| t.starts_with("socket:")),
        "a socket is open in the server: {open:?}"
    );
    ensure!(
        matches!(peer_read, Ok(0)),
        "the inherited socket is still open: {peer_read:?}"
    );
    fx.verify()?;
    Ok(format!(
        "fd 3 (outside file) and fd 4 (TCP socket) inherited; serving process holds {} fds, none of them; peer reads EOF",
        open.len()
    ))
}

/// R10-7 — hypothesis: run as root (usual in containers) the confined server keeps its full
/// capability set (`CapEff 000001fffeffffff`): `CAP_DAC_OVERRIDE`, `CAP_IPC_LOCK`,
/// `CAP_SYS_ADMIN`… past every layer that assumes an ordinary user.
pub fn r10_7() -> Outcome {
    let fx = Fixture::new("r10-7");
    let mut s = Session::start(&fx);
    s.init(1);
    let init = s.reply(1)?;
    let pid = s.pid();
    let mut fields = Vec::new();
    for field in ["CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"] {
        fields.push((field, proc_status_field(pid, field).unwrap_or_default()));
    }
    s.finish()?;
    let setpcap = auditor_has_setpcap();
    for (field, value) in &fields {
        if *field == "CapBnd:" && !setpcap {
            continue; // Without CAP_SETPCAP the bounding set cannot be emptied (and binds nothing).
        }
        ensure!(value == EMPTY_SET, "{field} {value}");
    }
    let capabilities = &init["result"]["_meta"]["codex-harness-mcp/posture"]["capabilities"];
    ensure!(
        *capabilities == json!({"state": "enforced", "boundingSetEmpty": setpcap}),
        "posture capabilities {capabilities}"
    );
    fx.verify()?;
    Ok(format!(
        "launched with CAP_SETPCAP {setpcap}: CapInh/CapPrm/CapEff/CapAmb 0{}; posture {capabilities}",
        if setpcap { ", CapBnd 0" } else { "" }
    ))
}

/// R10-8 — hypothesis: the seccomp filter returns `EPERM` for every unknown call (breaking
/// libc fallbacks such as `clone3` → `clone` on other distributions) and lets arguments
/// through that it could check (`MAP_LOCKED`, any `madvise` advice, plain `openat`). Replayed
/// with what the binary's self-test can attempt: an unlisted harmless call (`getsid`) gets
/// `ENOSYS`; exec, sockets and plain `openat` get `EPERM`; the posture names both actions.
/// `MAP_LOCKED` and the `madvise` advice need a raw call from inside the filter and are
/// proven in `tests/confinement.rs` on the exact filter serve installs.
pub fn r10_8() -> Outcome {
    let fx = Fixture::new("r10-8");
    let report: Value = selftest(&fx)?;
    let attempt = |name: &str| report["attempts"][name].clone();
    ensure!(
        attempt("unlisted_syscall_getsid") == json!({"allowed": false, "error": "ENOSYS"}),
        "getsid: {}",
        attempt("unlisted_syscall_getsid")
    );
    for act in [
        "exec_bin_true",
        "socket_inet",
        "socket_unix",
        "connect_tcp_loopback",
        "plain_openat",
    ] {
        ensure!(
            attempt(act) == json!({"allowed": false, "error": "EPERM"}),
            "{act}: {}",
            attempt(act)
        );
    }
    let seccomp = &report["posture"]["seccomp"];
    ensure!(
        seccomp["defaultAction"] == "errno(ENOSYS)" && seccomp["deniedAction"] == "errno(EPERM)",
        "seccomp posture {seccomp}"
    );
    ensure!(
        attempt("read_etc_passwd")["error"] == "EACCES",
        "Landlock no longer answers the outside open: {}",
        attempt("read_etc_passwd")
    );
    fx.verify()?;
    Ok(format!(
        "getsid ENOSYS; exec/socket/connect/plain openat EPERM; {} allowed, {} denied by name",
        seccomp["allowedSyscalls"], seccomp["deniedSyscalls"]
    ))
}

//! `codex-harness-mcp __confinement-selftest`: confine exactly as serve does, then attempt each
//! forbidden act (and the acts the server must still be able to do) and report the outcome as
//! one JSON object, with the descriptors the launcher left open and those still open after
//! confinement, and (`notEnforced`) each forbidden act that succeeded because the layer meant
//! to deny it is missing on this kernel, with the reason.
//!
//! This module owns the list of attempts. It must never use a different confinement path from
//! serve ([`super::descriptors::close_inherited`], [`crate::store::Store::open`],
//! [`super::harden_process`], [`super::apply`]), and it must never leave a file behind inside
//! the harness tree.

use super::descriptors::{self, Descriptor};
use super::{apply, harden_process, ConfineOptions, LayerState, Posture};
use crate::cli::ServeOptions;
use crate::store::Store;
use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketAddrV4, SocketType};
use serde_json::{json, Map, Value};
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The file the self-test tries (and must fail) to create in the project root.
const ESCAPE_FILE: &str = "codex-harness-selftest-escape";

fn errno_name(errno: Errno) -> String {
    let name = match errno {
        Errno::ACCESS => "EACCES",
        Errno::PERM => "EPERM",
        Errno::NOENT => "ENOENT",
        Errno::NOSYS => "ENOSYS",
        Errno::XDEV => "EXDEV",
        Errno::LOOP => "ELOOP",
        Errno::INVAL => "EINVAL",
        Errno::EXIST => "EEXIST",
        Errno::AFNOSUPPORT => "EAFNOSUPPORT",
        Errno::CONNREFUSED => "ECONNREFUSED",
        Errno::NOTDIR => "ENOTDIR",
        Errno::BADF => "EBADF",
        Errno::SRCH => "ESRCH",
        other => return format!("errno {}", other.raw_os_error()),
    };
    name.to_string()
}

fn io_error_name(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => errno_name(Errno::from_raw_os_error(code)),
        None => error.to_string(),
    }
}

fn outcome<T>(result: Result<T, Errno>) -> Value {
    match result {
        Ok(_) => json!({"allowed": true}),
        Err(errno) => json!({"allowed": false, "error": errno_name(errno)}),
    }
}

/// Things that must be prepared before confinement because they need paths or calls the
/// confined process no longer has.
struct Prepared {
    /// `/proc/self/status`, opened now and read after confinement (the contents are generated
    /// at read time, so they show the confined state).
    proc_status: Option<OwnedFd>,
    /// A TCP listener on loopback and an unconnected client socket: the connect attempt after
    /// confinement has somewhere real to go.
    listener_addr: Option<SocketAddrV4>,
    _listener: Option<OwnedFd>,
    client: Option<OwnedFd>,
    /// A regular file in the project root (outside the tree) to stat, or the root itself.
    stat_target: PathBuf,
    stat_target_name: String,
    /// `/proc/self/fd`, opened now and listed after confinement.
    fd_listing: Option<OwnedFd>,
    /// The process that started us, asked now (`getppid` is not on the allow-list).
    parent: Option<rustix::process::Pid>,
}

fn prepare(project: &Path) -> Prepared {
    let proc_status = rustix::fs::open(
        "/proc/self/status",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok();
    let listener = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).ok();
    let listener_addr = listener.as_ref().and_then(|fd| {
        rustix::net::bind(fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).ok()?;
        rustix::net::listen(fd, 1).ok()?;
        SocketAddrV4::try_from(rustix::net::getsockname(fd).ok()?).ok()
    });
    let client = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).ok();
    let (stat_target, stat_target_name) = match first_regular_file(project) {
        Some(name) => (project.join(&name), name),
        None => (project.to_path_buf(), ".".to_string()),
    };
    Prepared {
        proc_status,
        listener_addr,
        _listener: listener,
        client,
        stat_target,
        stat_target_name,
        fd_listing: descriptors::open_listing().ok(),
        parent: rustix::process::getppid(),
    }
}

/// The alphabetically first regular file directly in `project`, if any.
fn first_regular_file(project: &Path) -> Option<String> {
    let fd = rustix::fs::open(
        project,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut names: Vec<String> = rustix::fs::Dir::read_from(&fd)
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type() == FileType::RegularFile)
        .filter_map(|entry| entry.file_name().to_str().ok().map(str::to_string))
        .collect();
    names.sort();
    names.into_iter().next()
}

fn read_proc_status(fd: &OwnedFd) -> Value {
    let mut contents = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match rustix::io::pread(fd, &mut buffer, contents.len() as u64) {
            Ok(0) => break,
            Ok(n) => contents.extend_from_slice(&buffer[..n]),
            Err(errno) => return json!({"error": errno_name(errno)}),
        }
    }
    let text = String::from_utf8_lossy(&contents);
    let mut fields = Map::new();
    for line in text.lines() {
        if let Some((key, value)) = line.split_once(':') {
            if matches!(
                key,
                "NoNewPrivs"
                    | "Seccomp"
                    | "Seccomp_filters"
                    | "CapInh"
                    | "CapPrm"
                    | "CapEff"
                    | "CapBnd"
                    | "CapAmb"
            ) {
                fields.insert(key.to_string(), Value::from(value.trim()));
            }
        }
    }
    Value::Object(fields)
}

/// `openat2` without any `RESOLVE_*` restriction: the only system call that opens after
/// confinement (plain `openat` is refused by seccomp), so a denial shown is Landlock's.
fn open_unrestricted<P: rustix::path::Arg>(
    dir: BorrowedFd<'_>,
    path: P,
    flags: OFlags,
    mode: Mode,
) -> Result<OwnedFd, Errno> {
    rustix::fs::openat2(
        dir,
        path,
        flags | OFlags::CLOEXEC,
        mode,
        ResolveFlags::empty(),
    )
}

fn descriptor_json(descriptor: &Descriptor) -> Value {
    json!({
        "fd": descriptor.fd,
        "kind": descriptors::kind_name(descriptor.kind),
        "dev": descriptor.dev,
        "ino": descriptor.ino,
    })
}

/// What the launcher left open (listed before [`descriptors::close_inherited`]), what is open
/// after confinement, and which of the launcher's objects (same device and inode) survived.
fn descriptor_report(
    inherited: &Result<Vec<Descriptor>, Errno>,
    closed: usize,
    listing: Option<OwnedFd>,
) -> (Value, bool) {
    let after = match listing {
        Some(listing) => descriptors::list(listing),
        None => Err(Errno::NOENT),
    };
    let (inherited, after) = match (inherited.as_ref().map_err(|e| *e), after) {
        (Ok(inherited), Ok(after)) => (inherited, after),
        (Err(errno), _) | (_, Err(errno)) => {
            return (
                json!({"error": format!("cannot list /proc/self/fd: {}", errno_name(errno))}),
                false,
            )
        }
    };
    let survivors: Vec<Value> = after
        .iter()
        .filter(|now| {
            inherited
                .iter()
                .any(|was| (was.dev, was.ino) == (now.dev, now.ino))
        })
        .map(descriptor_json)
        .collect();
    let clean = survivors.is_empty();
    (
        json!({
            "inherited": inherited.iter().map(descriptor_json).collect::<Vec<_>>(),
            "closed": closed,
            "afterConfinement": after.iter().map(descriptor_json).collect::<Vec<_>>(),
            "survivors": survivors,
        }),
        clean,
    )
}

fn write_inside_harness(harness: BorrowedFd<'_>) -> Value {
    let mut suffix = [0u8; 8];
    if let Err(e) = getrandom::fill(&mut suffix) {
        return json!({"allowed": false, "error": e.to_string()});
    }
    let name = format!(
        ".selftest-{}",
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let result = (|| {
        let fd = open_unrestricted(
            harness,
            &name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL,
            Mode::from_raw_mode(0o600),
        )?;
        rustix::io::write(&fd, b"confinement self-test\n")?;
        rustix::fs::fsync(&fd)?;
        rustix::fs::unlinkat(harness, &name, rustix::fs::AtFlags::empty())
    })();
    outcome(result)
}

fn write_project_root(project: &Path) -> Value {
    let path = project.join(ESCAPE_FILE);
    let result = open_unrestricted(
        rustix::fs::CWD,
        &path,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL,
        Mode::from_raw_mode(0o600),
    );
    if result.is_ok() {
        // Only reachable without confinement: do not leave the probe behind.
        let _ = rustix::fs::unlinkat(rustix::fs::CWD, &path, rustix::fs::AtFlags::empty());
    }
    outcome(result)
}

fn exec_bin_true() -> Value {
    // stdin/stdout/stderr are inherited (not /dev/null) so that the only thing under test is
    // process creation and exec, not an extra open.
    match std::process::Command::new("/bin/true").status() {
        Ok(status) => json!({"allowed": true, "exitCode": status.code()}),
        Err(error) => json!({"allowed": false, "error": io_error_name(&error)}),
    }
}

/// A real signal to the process that started us. SIGCONT, so that a failure of the filter
/// does no harm: it only wakes a parent that was not stopped.
fn signal_parent(prepared: &Prepared) -> Value {
    match prepared.parent {
        Some(parent) => outcome(rustix::process::kill_process(
            parent,
            rustix::process::Signal::CONT,
        )),
        None => json!({"allowed": false, "error": "no parent process"}),
    }
}

/// The one use of `kill` the filter keeps, the temp-file reaper's question "does this pid
/// exist?": answered for ourselves, and `ESRCH` (not the filter's `EPERM`) for a pid above
/// any pid the kernel hands out.
fn liveness_probe() -> Value {
    let own = rustix::process::test_kill_process(rustix::process::getpid());
    let absent = rustix::process::Pid::from_raw(i32::MAX).map(rustix::process::test_kill_process);
    let absent_error = match absent {
        Some(Err(errno)) => errno_name(errno),
        Some(Ok(())) => "exists".into(),
        None => "no such pid".into(),
    };
    json!({
        "allowed": own.is_ok() && absent_error == "ESRCH",
        "ownProcess": own.map_or_else(errno_name, |()| "exists".into()),
        "absentPid": absent_error,
    })
}

fn connect_tcp_loopback(prepared: &Prepared) -> Value {
    match (&prepared.client, prepared.listener_addr) {
        (Some(client), Some(addr)) => outcome(rustix::net::connect(client.as_fd(), &addr)),
        _ => json!({"allowed": false, "error": "could not prepare a loopback listener"}),
    }
}

/// Each act the confined process must not manage, and the layer meant to deny it.
const FORBIDDEN: [(&str, Layer); 10] = [
    ("read_etc_passwd", Layer::Landlock),
    ("write_project_root", Layer::Landlock),
    ("socket_inet", Layer::Seccomp),
    ("socket_inet6", Layer::Seccomp),
    ("socket_unix", Layer::Seccomp),
    ("connect_tcp_loopback", Layer::Seccomp),
    ("exec_bin_true", Layer::Seccomp),
    ("plain_openat", Layer::Seccomp),
    ("unlisted_syscall_getsid", Layer::Seccomp),
    ("signal_parent", Layer::Seccomp),
];

#[derive(Debug, Clone, Copy)]
enum Layer {
    Landlock,
    Seccomp,
}

/// For a forbidden act that was allowed because its layer is not in force on this kernel:
/// the act, the layer, its state and why (`None` when the layer claims to be in force, which
/// is a plain failure of the self-test, not a missing layer).
fn missing_layer(posture: &Posture, attempt: &str, layer: Layer) -> Option<Value> {
    let (name, state) = match layer {
        Layer::Landlock => ("landlock", &posture.landlock),
        Layer::Seccomp => ("seccomp", &posture.seccomp),
    };
    let reason = match state {
        LayerState::Enforced => return None,
        LayerState::Unavailable { reason } => reason.clone(),
        other => other.to_string(),
    };
    Some(json!({"attempt": attempt, "layer": name, "state": state.as_str(), "reason": reason}))
}

/// Runs the self-test for `options` (project: `--project`, else `$CODEX_WORKDIR`, else the
/// current directory) and returns the JSON report and whether every forbidden act was denied
/// and every needed act allowed.
pub fn selftest(options: &ServeOptions) -> Result<(Value, bool), String> {
    // Listed before they are closed, so the report can show what the launcher left open.
    let inherited = descriptors::open_listing().and_then(descriptors::list);
    let closed = descriptors::close_inherited();
    let project = options
        .project_dir()
        .map_err(|e| format!("current directory: {e}"))?;
    let store =
        Store::open(&project).map_err(|e| format!("cannot open the harness directory: {e}"))?;
    let prepared = prepare(&project);

    harden_process().map_err(|e| format!("process hardening failed: {e}"))?;
    let posture = apply(
        store.root_fd(),
        &ConfineOptions {
            disabled: options.no_confinement,
            required: options.require_confinement,
        },
    )
    .map_err(|e| e.to_string())?;
    if options.no_confinement {
        // Nothing would stop the forbidden acts, so attempting them would only do them for real
        // (a file in the project, a connection, an exec): report the posture and fail.
        return Ok((
            json!({
                "posture": posture.to_json(),
                "attempts": {},
                "skipped": "confinement is disabled by --no-confinement; no forbidden act was attempted",
                "passed": false,
            }),
            false,
        ));
    }

    let mut attempts = Map::new();
    let mut record = |name: &str, value: Value| {
        attempts.insert(name.to_string(), value);
    };
    record(
        "read_etc_passwd",
        outcome(open_unrestricted(
            rustix::fs::CWD,
            "/etc/passwd",
            OFlags::RDONLY,
            Mode::empty(),
        )),
    );
    record(
        "plain_openat",
        outcome(rustix::fs::openat(
            store.root_fd(),
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )),
    );
    record("write_project_root", write_project_root(&project));
    record(
        "write_inside_harness",
        write_inside_harness(store.root_fd()),
    );
    for (name, family) in [
        ("socket_inet", AddressFamily::INET),
        ("socket_inet6", AddressFamily::INET6),
        ("socket_unix", AddressFamily::UNIX),
    ] {
        record(
            name,
            outcome(rustix::net::socket(family, SocketType::STREAM, None)),
        );
    }
    record("connect_tcp_loopback", connect_tcp_loopback(&prepared));
    record("exec_bin_true", exec_bin_true());
    record(
        "stat_outside_tree",
        match rustix::fs::stat(&prepared.stat_target) {
            Ok(_) => json!({"allowed": true, "target": prepared.stat_target_name}),
            Err(errno) => json!({
                "allowed": false,
                "error": errno_name(errno),
                "target": prepared.stat_target_name,
            }),
        },
    );
    let mut random = [0u8; 16];
    record(
        "getrandom",
        match getrandom::fill(&mut random) {
            Ok(()) => json!({"allowed": true}),
            Err(e) => json!({"allowed": false, "error": e.to_string()}),
        },
    );
    let proc_status = match &prepared.proc_status {
        Some(fd) => read_proc_status(fd),
        None => json!({"error": "could not open /proc/self/status before confinement"}),
    };
    record("proc_status", proc_status);
    // getsid is harmless and on neither seccomp list: it shows the default action.
    record(
        "unlisted_syscall_getsid",
        outcome(rustix::process::getsid(None)),
    );
    record("signal_parent", signal_parent(&prepared));
    record("liveness_probe", liveness_probe());
    let (descriptors, no_survivors) = descriptor_report(&inherited, closed, prepared.fd_listing);

    let allowed = |name: &str| {
        attempts
            .get(name)
            .is_some_and(|attempt| attempt["allowed"] == true)
    };
    let denied_ok = FORBIDDEN.iter().all(|(name, _)| !allowed(name));
    let not_enforced: Vec<Value> = FORBIDDEN
        .iter()
        .filter(|(name, _)| allowed(name))
        .filter_map(|(name, layer)| missing_layer(&posture, name, *layer))
        .collect();
    let allowed_ok = [
        "write_inside_harness",
        "stat_outside_tree",
        "getrandom",
        "liveness_probe",
    ]
    .iter()
    .all(|name| allowed(name));
    let passed = posture.fully_enforced() && denied_ok && allowed_ok && no_survivors;
    Ok((
        json!({
            "posture": posture.to_json(),
            "attempts": attempts,
            "descriptors": descriptors,
            "notEnforced": not_enforced,
            "passed": passed,
        }),
        passed,
    ))
}

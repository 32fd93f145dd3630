//! The seccomp allow-list: the exact system calls the confined serve loop may make, each with
//! the reason it is needed, compiled to a BPF program with `seccompiler` and installed last.
//!
//! This module owns the list and its compilation. It must never grow an entry without a reason
//! that names what in the single-threaded request loop needs it, and it must never allow a call
//! that creates a process or thread, opens a socket, executes a program, changes privileges or
//! confinement, or reaches the kernel through a side door (io_uring, bpf, userfaultfd…).
//!
//! Default action: `errno(EPERM)`. A system call that is not on the list returns `EPERM`
//! instead of killing the process, so a call we forgot (for example one a future libc makes on
//! an error path) shows up as a clean I/O error that the request loop reports, instead of a
//! crash that loses the reply. The dangerous calls gain nothing from this: they are simply not
//! on the list, so they fail. Calls made with a foreign architecture's numbering (i386 via
//! `int 0x80`) are killed by seccompiler's architecture check; x32 calls carry bit 30 in their
//! number, so they never equal an allowed number and get `EPERM` too (seccompiler has no
//! explicit x32 check; with an allow-list none is needed).

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;

/// The default action for a system call that is not on the allow-list.
pub const DEFAULT_ACTION: &str = "errno(EPERM)";

/// Extra argument checks for an allowed call. Without one the call is allowed with any
/// arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgCheck {
    /// Any arguments.
    Any,
    /// Only when the protection argument (index given) does not include `PROT_EXEC`: no new
    /// executable memory after confinement.
    NoExec(u8),
    /// `fcntl` only for descriptor-flag and status-flag commands and `F_DUPFD_CLOEXEC`.
    FcntlFlagsOnly,
    /// `ioctl` only for `TCGETS` (is this descriptor a terminal?).
    TcgetsOnly,
    /// `tgkill` only towards this process (the thread-group id equals our pid).
    OwnProcessOnly,
}

/// One allowed system call.
#[derive(Debug, Clone, Copy)]
pub struct AllowedSyscall {
    /// The system call's name as in the kernel's table.
    pub name: &'static str,
    /// Why the serve loop needs it.
    pub reason: &'static str,
    /// Argument restriction, if any.
    pub check: ArgCheck,
    number: i64,
}

/// The terminal-attributes ioctl; libc's type for it differs between architectures.
#[allow(clippy::unnecessary_cast)]
const TCGETS: u64 = libc::TCGETS as u64;

/// `"SYS_read"` → `"read"`, at compile time (an entry not named `SYS_…` fails the build).
const fn strip_sys_prefix(constant_name: &'static str) -> &'static str {
    let (prefix, name) = constant_name.as_bytes().split_at(4);
    assert!(
        matches!(prefix, b"SYS_"),
        "allow! takes a libc::SYS_ constant"
    );
    match std::str::from_utf8(name) {
        Ok(name) => name,
        Err(_) => panic!("system call names are ASCII"),
    }
}

macro_rules! allow {
    ($constant:ident, $check:expr, $reason:literal) => {
        AllowedSyscall {
            name: strip_sys_prefix(stringify!($constant)),
            reason: $reason,
            check: $check,
            number: libc::$constant,
        }
    };
}

/// Every system call the confined process may make, with the reason. Everything else fails
/// with `EPERM`.
pub const ALLOWED_SYSCALLS: &[AllowedSyscall] = &[
    // Reading requests and writing replies and files.
    allow!(
        SYS_read,
        ArgCheck::Any,
        "read requests from stdin and files from the harness tree"
    ),
    allow!(
        SYS_write,
        ArgCheck::Any,
        "write replies to stdout, diagnostics to stderr, file contents"
    ),
    allow!(
        SYS_readv,
        ArgCheck::Any,
        "vectored reads done by the standard library's buffered readers"
    ),
    allow!(
        SYS_writev,
        ArgCheck::Any,
        "vectored writes done by the standard library's buffered writers"
    ),
    allow!(
        SYS_pread64,
        ArgCheck::Any,
        "read a file at an offset without moving the cursor"
    ),
    allow!(
        SYS_pwrite64,
        ArgCheck::Any,
        "write a file at an offset without moving the cursor"
    ),
    allow!(
        SYS_lseek,
        ArgCheck::Any,
        "rewind a directory stream or find a file's size"
    ),
    allow!(
        SYS_close,
        ArgCheck::Any,
        "close descriptors opened beneath the harness directory"
    ),
    // Opening and inspecting files; Landlock limits where these succeed.
    allow!(
        SYS_openat,
        ArgCheck::Any,
        "open beneath the harness directory fd (Landlock confines it)"
    ),
    allow!(
        SYS_openat2,
        ArgCheck::Any,
        "open beneath the harness directory fd with RESOLVE_BENEATH"
    ),
    allow!(
        SYS_newfstatat,
        ArgCheck::Any,
        "metadata of a path (the eval gate stats project files)"
    ),
    allow!(SYS_fstat, ArgCheck::Any, "metadata of an open descriptor"),
    allow!(
        SYS_statx,
        ArgCheck::Any,
        "metadata as the standard library asks for it"
    ),
    allow!(
        SYS_getdents64,
        ArgCheck::Any,
        "list a directory inside the harness tree"
    ),
    // Durable atomic writes inside the tree: tmp + fsync + rename + fsync(dir).
    allow!(
        SYS_mkdirat,
        ArgCheck::Any,
        "create the harness sub-directories"
    ),
    allow!(
        SYS_unlinkat,
        ArgCheck::Any,
        "remove temporary files and stale entries"
    ),
    allow!(
        SYS_renameat,
        ArgCheck::Any,
        "atomically replace a file with its fsynced temporary"
    ),
    allow!(
        SYS_renameat2,
        ArgCheck::Any,
        "atomic rename with RENAME_NOREPLACE"
    ),
    allow!(
        SYS_fsync,
        ArgCheck::Any,
        "make an acknowledged write durable (file and directory)"
    ),
    allow!(SYS_fdatasync, ArgCheck::Any, "make file contents durable"),
    allow!(
        SYS_ftruncate,
        ArgCheck::Any,
        "cut a file opened inside the tree to its new length"
    ),
    allow!(
        SYS_fchmod,
        ArgCheck::Any,
        "give a file created inside the tree its final mode"
    ),
    allow!(
        SYS_flock,
        ArgCheck::Any,
        "cross-process locks released by the kernel on death"
    ),
    allow!(
        SYS_fcntl,
        ArgCheck::FcntlFlagsOnly,
        "descriptor and status flags only (F_GETFD/F_SETFD/F_GETFL/F_SETFL/F_DUPFD_CLOEXEC)"
    ),
    allow!(
        SYS_ioctl,
        ArgCheck::TcgetsOnly,
        "TCGETS only: ask whether a standard stream is a terminal"
    ),
    #[cfg(target_arch = "x86_64")]
    allow!(SYS_poll, ArgCheck::Any, "wait for stdin to become readable"),
    allow!(
        SYS_ppoll,
        ArgCheck::Any,
        "wait for stdin to become readable"
    ),
    // Memory: the allocator. No new executable mappings.
    allow!(SYS_brk, ArgCheck::Any, "heap growth by the allocator"),
    allow!(
        SYS_mmap,
        ArgCheck::NoExec(2),
        "large allocations; never with PROT_EXEC"
    ),
    allow!(SYS_munmap, ArgCheck::Any, "return memory to the kernel"),
    allow!(
        SYS_mremap,
        ArgCheck::Any,
        "grow a large allocation in place"
    ),
    allow!(
        SYS_mprotect,
        ArgCheck::NoExec(2),
        "allocator guard pages; never with PROT_EXEC"
    ),
    allow!(
        SYS_madvise,
        ArgCheck::Any,
        "the allocator returning unused pages"
    ),
    // Synchronisation, randomness and time.
    allow!(
        SYS_futex,
        ArgCheck::Any,
        "the standard library's locks (stdout lock, once cells)"
    ),
    allow!(
        SYS_getrandom,
        ArgCheck::Any,
        "128-bit identifiers without opening /dev/urandom"
    ),
    allow!(
        SYS_clock_gettime,
        ArgCheck::Any,
        "timestamps, when the vDSO falls back to the kernel"
    ),
    allow!(
        SYS_clock_nanosleep,
        ArgCheck::Any,
        "short back-off while waiting for a lock"
    ),
    allow!(
        SYS_nanosleep,
        ArgCheck::Any,
        "short back-off while waiting for a lock"
    ),
    allow!(
        SYS_sched_yield,
        ArgCheck::Any,
        "spin-lock back-off in the standard library"
    ),
    allow!(
        SYS_restart_syscall,
        ArgCheck::Any,
        "resume a sleep interrupted by a stop/continue signal"
    ),
    // Signals and the orderly or aborting end of the process.
    allow!(
        SYS_rt_sigreturn,
        ArgCheck::Any,
        "return from a signal handler"
    ),
    allow!(
        SYS_rt_sigprocmask,
        ArgCheck::Any,
        "signal masking on the abort path"
    ),
    allow!(
        SYS_rt_sigaction,
        ArgCheck::Any,
        "abort() resetting SIGABRT to its default action"
    ),
    allow!(
        SYS_sigaltstack,
        ArgCheck::Any,
        "the stack-overflow handler's alternate stack"
    ),
    allow!(SYS_getpid, ArgCheck::Any, "abort() finding its own process"),
    allow!(SYS_gettid, ArgCheck::Any, "abort() finding its own thread"),
    allow!(
        SYS_tgkill,
        ArgCheck::OwnProcessOnly,
        "abort() raising SIGABRT; only towards this process"
    ),
    allow!(SYS_exit, ArgCheck::Any, "end the (only) thread"),
    allow!(
        SYS_exit_group,
        ArgCheck::Any,
        "end the process at EOF or on a fatal error"
    ),
];

/// Why the filter could not be built or installed.
#[derive(Debug)]
pub enum SeccompError {
    /// This architecture has no seccompiler backend.
    UnsupportedArch(String),
    /// seccompiler refused the filter (a bug in this module).
    Build(String),
    /// The kernel refused the filter.
    Install(String),
}

impl std::fmt::Display for SeccompError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnsupportedArch(arch) => write!(f, "no seccomp filter for architecture {arch}"),
            Self::Build(e) => write!(f, "building the seccomp filter failed: {e}"),
            Self::Install(e) => write!(f, "the kernel refused the seccomp filter: {e}"),
        }
    }
}

fn condition(
    index: u8,
    op: SeccompCmpOp,
    value: u64,
) -> Result<SeccompCondition, seccompiler::BackendError> {
    SeccompCondition::new(index, SeccompCmpArgLen::Dword, op, value)
}

fn rules_for(check: ArgCheck, pid: u32) -> Result<Vec<SeccompRule>, seccompiler::BackendError> {
    let single = |index: u8, op: SeccompCmpOp, value: u64| -> Result<_, _> {
        SeccompRule::new(vec![condition(index, op, value)?])
    };
    Ok(match check {
        ArgCheck::Any => Vec::new(),
        ArgCheck::NoExec(index) => vec![single(
            index,
            SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64),
            0,
        )?],
        ArgCheck::FcntlFlagsOnly => [
            libc::F_GETFD,
            libc::F_SETFD,
            libc::F_GETFL,
            libc::F_SETFL,
            libc::F_DUPFD_CLOEXEC,
        ]
        .into_iter()
        .map(|cmd| single(1, SeccompCmpOp::Eq, cmd as u64))
        .collect::<Result<_, _>>()?,
        ArgCheck::TcgetsOnly => vec![single(1, SeccompCmpOp::Eq, TCGETS)?],
        ArgCheck::OwnProcessOnly => vec![single(0, SeccompCmpOp::Eq, u64::from(pid))?],
    })
}

/// Compiles the allow-list for the running architecture. `pid` is this process's id, used to
/// restrict `tgkill` to ourselves.
pub fn build_program(pid: u32) -> Result<BpfProgram, SeccompError> {
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|_| SeccompError::UnsupportedArch(std::env::consts::ARCH.to_string()))?;
    let mut rules = BTreeMap::new();
    for syscall in ALLOWED_SYSCALLS {
        let chain =
            rules_for(syscall.check, pid).map_err(|e| SeccompError::Build(e.to_string()))?;
        // Inserted one by one (not collected) so a duplicate entry is caught instead of
        // silently replacing an earlier rule chain.
        if rules.insert(syscall.number, chain).is_some() {
            return Err(SeccompError::Build(format!(
                "{} is listed twice",
                syscall.name
            )));
        }
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch,
    )
    .map_err(|e| SeccompError::Build(e.to_string()))?;
    BpfProgram::try_from(filter).map_err(|e| SeccompError::Build(e.to_string()))
}

/// Builds and installs the filter on the calling (only) thread. seccompiler sets
/// `no_new_privs` itself before installing, as the kernel requires.
pub fn install() -> Result<(), SeccompError> {
    let program = build_program(std::process::id())?;
    seccompiler::apply_filter(&program).map_err(|e| SeccompError::Install(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_has_no_duplicates_and_every_entry_has_a_reason() {
        let mut names = std::collections::HashSet::new();
        for syscall in ALLOWED_SYSCALLS {
            assert!(names.insert(syscall.name), "{} listed twice", syscall.name);
            assert!(
                !syscall.reason.trim().is_empty(),
                "{} has no reason",
                syscall.name
            );
        }
    }

    #[test]
    fn allow_list_never_contains_dangerous_calls() {
        let forbidden = [
            "socket",
            "socketpair",
            "connect",
            "bind",
            "listen",
            "accept",
            "accept4",
            "sendto",
            "recvfrom",
            "sendmsg",
            "recvmsg",
            "execve",
            "execveat",
            "fork",
            "vfork",
            "clone",
            "clone3",
            "ptrace",
            "process_vm_readv",
            "process_vm_writev",
            "mount",
            "umount2",
            "keyctl",
            "add_key",
            "request_key",
            "bpf",
            "perf_event_open",
            "userfaultfd",
            "io_uring_setup",
            "io_uring_enter",
            "io_uring_register",
            "landlock_create_ruleset",
            "landlock_add_rule",
            "landlock_restrict_self",
            "seccomp",
            "prctl",
            "unshare",
            "setns",
            "pivot_root",
            "chroot",
            "kexec_load",
            "kexec_file_load",
            "init_module",
            "finit_module",
            "delete_module",
            "kill",
            "memfd_create",
            "open",
            "truncate",
        ];
        for syscall in ALLOWED_SYSCALLS {
            assert!(
                !forbidden.contains(&syscall.name),
                "{} must not be allowed",
                syscall.name
            );
        }
    }

    #[test]
    fn filter_compiles_for_the_running_architecture() {
        let program = build_program(std::process::id()).expect("filter builds");
        assert!(!program.is_empty());
    }
}

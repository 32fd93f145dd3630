//! The seccomp allow-list: the exact system calls the confined serve loop may make, each with
//! the reason it is needed, compiled to a BPF program with `seccompiler` and installed last.
//!
//! This module owns the list and its compilation. It must never grow an entry without a reason
//! that names what in the single-threaded request loop needs it, and it must never allow a call
//! that creates a process or thread, opens a socket, executes a program, changes privileges or
//! confinement, or reaches the kernel through a side door (io_uring, bpf, userfaultfd…).
//!
//! One filter, made of two lists:
//!
//! 1. The deny-list ([`DENIED_SYSCALLS`], plus the complement of every argument check of the
//!    allow-list), checked first: these return `EPERM`, so an attempt to escape (exec,
//!    sockets, process or thread creation, ptrace, io_uring, bpf, namespaces, module
//!    loading…) and a refused argument (`PROT_EXEC`, `MAP_LOCKED`, an unlisted `madvise`
//!    advice…) read as "not permitted", and no libc fallback is tried for them.
//! 2. The allow-list ([`ALLOWED_SYSCALLS`]): a listed call whose arguments pass its check is
//!    allowed; **every other call returns `ENOSYS`**, as a kernel without that call would. A C
//!    library then takes its documented fallback (`faccessat2` → `faccessat`, `statx` →
//!    `fstatat`…) instead of failing where another distribution's libc makes a call this one
//!    does not.
//!
//! seccompiler compiles a filter with one match action, so each list is compiled on its own
//! and the two are chained into one program ([`chain`]): every "allow" exit of the deny-list
//! becomes a jump to the allow-list. One program, rather than two stacked filters, because
//! installing the second filter would need `prctl` and `seccomp`, which the first refuses.
//! Nothing is killed except a call made with a foreign architecture's numbering (i386 via
//! `int 0x80`), which seccompiler's architecture check kills; x32 calls carry bit 30 in their
//! number, never equal a listed number, and get `ENOSYS`.

use seccompiler::{
    BackendError, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition,
    SeccompFilter, SeccompRule, TargetArch,
};
use std::collections::BTreeMap;

/// The action for a system call on neither list.
pub const DEFAULT_ACTION: &str = "errno(ENOSYS)";

/// The action for a call on the deny-list or with a refused argument.
pub const DENIED_ACTION: &str = "errno(EPERM)";

/// Extra argument checks for an allowed call. Without one the call is allowed with any
/// arguments. Each check compares the low 32 bits of an argument (every checked argument is a C
/// `int` or, for `ioctl`, a request number the kernel truncates to 32 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgCheck {
    /// Any arguments.
    Any,
    /// Only when the protection argument (index given) does not include `PROT_EXEC`: no new
    /// executable memory after confinement.
    NoExec(u8),
    /// `mmap`: protection (argument 2) without `PROT_EXEC` and flags (argument 3) without
    /// `MAP_LOCKED` (as root a locked mapping is not bounded by `RLIMIT_MEMLOCK`).
    MmapNoExecNoLock,
    /// Only when the argument (index given) is one of the values.
    OneOf(u8, &'static [u64]),
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

/// The `fcntl` commands the standard library and the store use.
const FCNTL_COMMANDS: &[u64] = &[
    libc::F_GETFD as u64,
    libc::F_SETFD as u64,
    libc::F_GETFL as u64,
    libc::F_SETFL as u64,
    libc::F_DUPFD_CLOEXEC as u64,
];

/// The one `madvise` advice glibc's allocator gives (returning freed pages of a heap; Rust's
/// standard library gives none). No `madvise` call was seen after confinement in a traced run
/// of the whole audit; a refused advice costs an allocator nothing, as advice is optional.
const MADVISE_ADVICE: &[u64] = &[libc::MADV_DONTNEED as u64];

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

/// Every system call the confined process may make, with the reason. A call on neither this
/// list nor [`DENIED_SYSCALLS`] fails with `ENOSYS`.
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
        ArgCheck::OneOf(1, FCNTL_COMMANDS),
        "descriptor and status flags only (F_GETFD/F_SETFD/F_GETFL/F_SETFL/F_DUPFD_CLOEXEC)"
    ),
    allow!(
        SYS_ioctl,
        ArgCheck::OneOf(1, &[TCGETS]),
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
        ArgCheck::MmapNoExecNoLock,
        "large allocations; never with PROT_EXEC or MAP_LOCKED"
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
        ArgCheck::OneOf(2, MADVISE_ADVICE),
        "MADV_DONTNEED only: the allocator returning unused pages"
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
    allow!(
        SYS_kill,
        ArgCheck::OneOf(1, &[0]),
        "the temp-file reaper asking whether a writer's pid still exists (signal 0 sends \
         nothing); every real signal is refused"
    ),
    allow!(SYS_exit, ArgCheck::Any, "end the (only) thread"),
    allow!(
        SYS_exit_group,
        ArgCheck::Any,
        "end the process at EOF or on a fatal error"
    ),
];

/// One system call refused with `EPERM`, with the reason it is refused by name rather than
/// left to the `ENOSYS` default.
#[derive(Debug, Clone, Copy)]
pub struct DeniedSyscall {
    /// The system call's name as in the kernel's table.
    pub name: &'static str,
    /// What it would give a compromised server.
    pub reason: &'static str,
    number: i64,
}

macro_rules! deny {
    ($constant:ident, $reason:literal) => {
        DeniedSyscall {
            name: strip_sys_prefix(stringify!($constant)),
            reason: $reason,
            number: libc::$constant,
        }
    };
}

/// The calls an escape would need, refused with `EPERM` in every form. None is on
/// [`ALLOWED_SYSCALLS`] (a unit test checks), so this list only chooses the error.
pub const DENIED_SYSCALLS: &[DeniedSyscall] = &[
    deny!(SYS_execve, "run a program"),
    deny!(SYS_execveat, "run a program"),
    #[cfg(target_arch = "x86_64")]
    deny!(SYS_fork, "create a process"),
    #[cfg(target_arch = "x86_64")]
    deny!(SYS_vfork, "create a process"),
    deny!(
        SYS_clone,
        "create a process or thread, or enter new namespaces"
    ),
    deny!(
        SYS_clone3,
        "create a process or thread, or enter new namespaces; EPERM, not ENOSYS, so libc does not fall back to clone"
    ),
    deny!(SYS_socket, "open a network or unix socket"),
    deny!(SYS_socketpair, "open a socket pair"),
    deny!(SYS_connect, "talk to another program or host"),
    deny!(SYS_bind, "listen on a port or socket path"),
    deny!(SYS_listen, "accept connections"),
    deny!(SYS_accept, "accept connections"),
    deny!(SYS_accept4, "accept connections"),
    deny!(SYS_sendto, "send over a socket"),
    deny!(SYS_sendmsg, "send over a socket, or pass descriptors"),
    deny!(SYS_sendmmsg, "send over a socket"),
    deny!(SYS_recvfrom, "receive over a socket"),
    deny!(SYS_recvmsg, "receive over a socket, or receive descriptors"),
    deny!(SYS_recvmmsg, "receive over a socket"),
    deny!(SYS_ptrace, "control or read another process"),
    deny!(SYS_process_vm_readv, "read another process's memory"),
    deny!(SYS_process_vm_writev, "write another process's memory"),
    deny!(SYS_process_madvise, "act on another process's memory"),
    deny!(SYS_pidfd_open, "take a handle on another process"),
    deny!(SYS_pidfd_getfd, "copy another process's descriptors"),
    deny!(SYS_pidfd_send_signal, "signal another process"),
    deny!(SYS_tkill, "signal another thread"),
    deny!(SYS_io_uring_setup, "io_uring: every refused operation by another path"),
    deny!(SYS_io_uring_enter, "io_uring: every refused operation by another path"),
    deny!(SYS_io_uring_register, "io_uring: every refused operation by another path"),
    deny!(SYS_bpf, "load kernel programs, read kernel maps"),
    deny!(SYS_perf_event_open, "kernel and hardware observation"),
    deny!(SYS_userfaultfd, "stall the kernel at will (race amplification)"),
    deny!(SYS_keyctl, "the kernel keyrings"),
    deny!(SYS_add_key, "the kernel keyrings"),
    deny!(SYS_request_key, "the kernel keyrings"),
    deny!(SYS_personality, "change the execution domain (READ_IMPLIES_EXEC…)"),
    deny!(SYS_mount, "change the mount table"),
    deny!(SYS_umount2, "change the mount table"),
    deny!(SYS_pivot_root, "change the root"),
    deny!(SYS_chroot, "change the root"),
    deny!(SYS_unshare, "enter new namespaces"),
    deny!(SYS_setns, "enter another namespace"),
    #[cfg(not(target_arch = "riscv64"))]
    deny!(SYS_kexec_file_load, "replace the kernel"),
    deny!(SYS_kexec_load, "replace the kernel"),
    deny!(SYS_init_module, "load a kernel module"),
    deny!(SYS_finit_module, "load a kernel module"),
    deny!(SYS_delete_module, "unload a kernel module"),
    deny!(SYS_prctl, "change this process's security attributes"),
    deny!(SYS_seccomp, "change the filter"),
    deny!(SYS_landlock_create_ruleset, "change the Landlock domain"),
    deny!(SYS_landlock_add_rule, "change the Landlock domain"),
    deny!(SYS_landlock_restrict_self, "change the Landlock domain"),
    deny!(SYS_capset, "change capabilities"),
    deny!(SYS_setuid, "change identity"),
    deny!(SYS_setgid, "change identity"),
    deny!(SYS_setreuid, "change identity"),
    deny!(SYS_setregid, "change identity"),
    deny!(SYS_setresuid, "change identity"),
    deny!(SYS_setresgid, "change identity"),
    deny!(SYS_setgroups, "change identity"),
    deny!(SYS_setfsuid, "change identity"),
    deny!(SYS_setfsgid, "change identity"),
    #[cfg(target_arch = "x86_64")]
    deny!(SYS_open, "open a path without RESOLVE_BENEATH"),
    #[cfg(target_arch = "x86_64")]
    deny!(SYS_creat, "create a path without RESOLVE_BENEATH"),
    deny!(SYS_openat, "open a path without RESOLVE_BENEATH"),
    deny!(SYS_open_by_handle_at, "open a file by handle, bypassing path checks"),
    deny!(SYS_name_to_handle_at, "make file handles for open_by_handle_at"),
    deny!(SYS_memfd_create, "anonymous files (a step towards executing code)"),
    deny!(SYS_mlock, "pin memory"),
    deny!(SYS_mlock2, "pin memory"),
    deny!(SYS_mlockall, "pin memory"),
    deny!(SYS_vmsplice, "page-cache tricks on pipes"),
    deny!(SYS_swapon, "system administration"),
    deny!(SYS_swapoff, "system administration"),
    deny!(SYS_reboot, "system administration"),
    deny!(SYS_acct, "system administration"),
    deny!(SYS_syslog, "read the kernel log"),
    #[cfg(target_arch = "x86_64")]
    deny!(SYS_iopl, "raw I/O port access"),
    #[cfg(target_arch = "x86_64")]
    deny!(SYS_ioperm, "raw I/O port access"),
    #[cfg(target_arch = "x86_64")]
    deny!(SYS_modify_ldt, "x86 segment tricks"),
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

fn condition(index: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, BackendError> {
    SeccompCondition::new(index, SeccompCmpArgLen::Dword, op, value)
}

fn masked_eq(index: u8, mask: u64, value: u64) -> Result<SeccompCondition, BackendError> {
    condition(index, SeccompCmpOp::MaskedEq(mask), value)
}

/// The rules under which the allow-list lets a checked call through (any of them).
fn allow_rules(check: ArgCheck, pid: u32) -> Result<Vec<SeccompRule>, BackendError> {
    let exec = libc::PROT_EXEC as u64;
    let locked = libc::MAP_LOCKED as u64;
    Ok(match check {
        ArgCheck::Any => Vec::new(),
        ArgCheck::NoExec(prot) => vec![SeccompRule::new(vec![masked_eq(prot, exec, 0)?])?],
        ArgCheck::MmapNoExecNoLock => vec![SeccompRule::new(vec![
            masked_eq(2, exec, 0)?,
            masked_eq(3, locked, 0)?,
        ])?],
        ArgCheck::OneOf(index, values) => values
            .iter()
            .map(|&value| SeccompRule::new(vec![condition(index, SeccompCmpOp::Eq, value)?]))
            .collect::<Result<_, _>>()?,
        ArgCheck::OwnProcessOnly => vec![SeccompRule::new(vec![condition(
            0,
            SeccompCmpOp::Eq,
            u64::from(pid),
        )?])?],
    })
}

/// The complement of [`allow_rules`]: the rules under which the deny-list refuses a checked
/// call with `EPERM` (any of them). Empty for [`ArgCheck::Any`].
fn deny_rules(check: ArgCheck, pid: u32) -> Result<Vec<SeccompRule>, BackendError> {
    let exec = libc::PROT_EXEC as u64;
    let locked = libc::MAP_LOCKED as u64;
    Ok(match check {
        ArgCheck::Any => Vec::new(),
        ArgCheck::NoExec(prot) => vec![SeccompRule::new(vec![masked_eq(prot, exec, exec)?])?],
        ArgCheck::MmapNoExecNoLock => vec![
            SeccompRule::new(vec![masked_eq(2, exec, exec)?])?,
            SeccompRule::new(vec![masked_eq(3, locked, locked)?])?,
        ],
        ArgCheck::OneOf(index, values) => vec![SeccompRule::new(
            values
                .iter()
                .map(|&value| condition(index, SeccompCmpOp::Ne, value))
                .collect::<Result<_, _>>()?,
        )?],
        ArgCheck::OwnProcessOnly => vec![SeccompRule::new(vec![condition(
            0,
            SeccompCmpOp::Ne,
            u64::from(pid),
        )?])?],
    })
}

/// Inserts one chain per call, refusing a call listed twice (a plain `collect` would silently
/// keep only the last chain).
fn insert_once(
    rules: &mut BTreeMap<i64, Vec<SeccompRule>>,
    name: &str,
    number: i64,
    chain: Vec<SeccompRule>,
) -> Result<(), SeccompError> {
    if rules.insert(number, chain).is_some() {
        return Err(SeccompError::Build(format!("{name} is listed twice")));
    }
    Ok(())
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    mismatch: SeccompAction,
    matched: SeccompAction,
) -> Result<BpfProgram, SeccompError> {
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|_| SeccompError::UnsupportedArch(std::env::consts::ARCH.to_string()))?;
    let filter = SeccompFilter::new(rules, mismatch, matched, arch)
        .map_err(|e| SeccompError::Build(e.to_string()))?;
    BpfProgram::try_from(filter).map_err(|e| SeccompError::Build(e.to_string()))
}

/// Classic BPF opcodes (seccompiler keeps its own private).
const BPF_RET_K: u16 = 0x06;
const BPF_JMP_JA: u16 = 0x05;
/// The kernel's limit on a filter's length.
const BPF_MAX_LEN: usize = 4096;

/// `first` followed by `then`, with every `return allow` of `first` turned into a jump to the
/// start of `then`: a call `first` lets through is decided by `then`; a call `first` refuses
/// stays refused. Both programs are self-contained (each loads what it compares), so `then`
/// does not depend on where `first` left the accumulator.
pub fn chain(first: BpfProgram, then: BpfProgram) -> Result<BpfProgram, SeccompError> {
    let allow = u32::from(SeccompAction::Allow);
    let length = first.len();
    if length + then.len() > BPF_MAX_LEN {
        return Err(SeccompError::Build(format!(
            "the filter has {} instructions, over the kernel's {BPF_MAX_LEN}",
            length + then.len()
        )));
    }
    let mut program: BpfProgram = first
        .into_iter()
        .enumerate()
        .map(|(index, instruction)| {
            if instruction.code == BPF_RET_K && instruction.k == allow {
                // A jump's offset counts from the next instruction.
                seccompiler::sock_filter {
                    code: BPF_JMP_JA,
                    jt: 0,
                    jf: 0,
                    k: (length - index - 1) as u32,
                }
            } else {
                instruction
            }
        })
        .collect();
    program.extend(then);
    Ok(program)
}

/// The filter for the running architecture: the deny-list (`EPERM`) chained to the allow-list
/// (default `ENOSYS`). `pid` is this process's id, used to restrict `tgkill` to ourselves.
pub fn build_program(pid: u32) -> Result<BpfProgram, SeccompError> {
    let build = |e: BackendError| SeccompError::Build(e.to_string());
    let mut allowed = BTreeMap::new();
    let mut denied = BTreeMap::new();
    for syscall in ALLOWED_SYSCALLS {
        let allow = allow_rules(syscall.check, pid).map_err(build)?;
        insert_once(&mut allowed, syscall.name, syscall.number, allow)?;
        let deny = deny_rules(syscall.check, pid).map_err(build)?;
        if !deny.is_empty() {
            insert_once(&mut denied, syscall.name, syscall.number, deny)?;
        }
    }
    for syscall in DENIED_SYSCALLS {
        if allowed.contains_key(&syscall.number) {
            return Err(SeccompError::Build(format!(
                "{} is both allowed and denied",
                syscall.name
            )));
        }
        insert_once(&mut denied, syscall.name, syscall.number, Vec::new())?;
    }
    chain(
        compile(
            denied,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
        )?,
        compile(
            allowed,
            SeccompAction::Errno(libc::ENOSYS as u32),
            SeccompAction::Allow,
        )?,
    )
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
            "memfd_create",
            "open",
            "openat",
            "truncate",
            "mlock",
            "mlockall",
            "personality",
        ];
        for syscall in ALLOWED_SYSCALLS {
            assert!(
                !forbidden.contains(&syscall.name),
                "{} must not be allowed",
                syscall.name
            );
        }
    }

    /// `kill` is listed only to probe whether a process exists: any real signal is refused.
    #[test]
    fn kill_is_allowed_only_with_signal_zero() {
        let kill = ALLOWED_SYSCALLS.iter().find(|s| s.name == "kill");
        assert_eq!(kill.map(|s| s.check), Some(ArgCheck::OneOf(1, &[0])));
    }

    #[test]
    fn every_dangerous_call_is_denied_by_name() {
        let denied: Vec<&str> = DENIED_SYSCALLS.iter().map(|s| s.name).collect();
        for name in [
            "execve",
            "execveat",
            "clone",
            "clone3",
            "socket",
            "socketpair",
            "connect",
            "bind",
            "ptrace",
            "process_vm_readv",
            "process_vm_writev",
            "io_uring_setup",
            "io_uring_enter",
            "io_uring_register",
            "bpf",
            "perf_event_open",
            "mount",
            "unshare",
            "setns",
            "kexec_load",
            "init_module",
            "finit_module",
            "userfaultfd",
            "keyctl",
            "add_key",
            "personality",
            "openat",
        ] {
            assert!(denied.contains(&name), "{name} is not denied by name");
        }
        let mut names = std::collections::HashSet::new();
        for syscall in DENIED_SYSCALLS {
            assert!(names.insert(syscall.name), "{} listed twice", syscall.name);
            assert!(!syscall.reason.trim().is_empty(), "{}", syscall.name);
            assert!(
                ALLOWED_SYSCALLS.iter().all(|a| a.name != syscall.name),
                "{} is both allowed and denied",
                syscall.name
            );
        }
    }

    #[test]
    fn every_argument_check_has_a_complement_on_the_deny_list() {
        for syscall in ALLOWED_SYSCALLS {
            let deny = deny_rules(syscall.check, 1).expect("rules build");
            assert_eq!(
                deny.is_empty(),
                syscall.check == ArgCheck::Any,
                "{}",
                syscall.name
            );
        }
    }

    #[test]
    fn filter_compiles_for_the_running_architecture() {
        let program = build_program(std::process::id()).expect("filter builds");
        assert!(!program.is_empty() && program.len() <= BPF_MAX_LEN);
    }

    #[test]
    fn chaining_turns_every_allow_of_the_first_program_into_a_jump_to_the_second() {
        let stmt = |code: u16, k: u32| seccompiler::sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        };
        let allow = u32::from(SeccompAction::Allow);
        let eperm = u32::from(SeccompAction::Errno(libc::EPERM as u32));
        let first = vec![
            stmt(0x20, 0),
            stmt(BPF_RET_K, allow),
            stmt(BPF_RET_K, eperm),
        ];
        let then = vec![stmt(0x20, 0), stmt(BPF_RET_K, allow)];
        let program = chain(first, then).expect("chains");
        assert_eq!(program.len(), 5);
        // Instruction 1 jumps over 1 instruction: to index 3, the start of `then`.
        assert_eq!(program[1], stmt(BPF_JMP_JA, 1));
        assert_eq!(program[2], stmt(BPF_RET_K, eperm));
        assert_eq!(program[4], stmt(BPF_RET_K, allow));
    }
}

//! `codex-harness-mcp doctor`: what this host can enforce, checked without confining anything.
//!
//! This module owns the host report. It must never restrict the process, create or modify a
//! file, or report a layer as available without asking the kernel.

use super::ruleset::probe_abi;
use landlock::ABI;
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Filesystem magic numbers (`statfs(2)` `f_type`) that name a network or userspace filesystem:
/// locks, renames and fsync there do not carry the guarantees the store relies on.
const REMOTE_FILESYSTEMS: &[(u64, &str)] = &[
    (0x6969, "nfs"),
    (0x517b, "smb"),
    (0xff53_4d42, "cifs"),
    (0xfe53_4d42, "smb2"),
    (0x6573_5546, "fuse (including sshfs and virtiofs)"),
    (0x0102_1997, "9p"),
    (0x00c3_6400, "ceph"),
    (0x5346_414f, "afs"),
    (0x6b41_4653, "afs (kafs)"),
    (0x7375_7245, "coda"),
    (0x0bd0_0bd0, "lustre"),
    (0x4750_4653, "gpfs"),
];

/// Local filesystems known to work.
const LOCAL_FILESYSTEMS: &[(u64, &str)] = &[
    (0xef53, "ext2/3/4"),
    (0x5846_5342, "xfs"),
    (0x9123_683e, "btrfs"),
    (0x0102_1994, "tmpfs"),
    (0x794c_7630, "overlayfs"),
    (0x2fc1_2fc1, "zfs"),
    (0xf2f5_2010, "f2fs"),
    (0xca45_1a4e, "bcachefs"),
    (0x4d44, "vfat"),
    (0x2011_bab0, "exfat"),
    (0x5346_544e, "ntfs"),
    (0x7366_746e, "ntfs3"),
];

fn fs_name(magic: u64) -> (String, bool) {
    if let Some((_, name)) = REMOTE_FILESYSTEMS.iter().find(|(m, _)| *m == magic) {
        return ((*name).to_string(), true);
    }
    if let Some((_, name)) = LOCAL_FILESYSTEMS.iter().find(|(m, _)| *m == magic) {
        return ((*name).to_string(), false);
    }
    (format!("unrecognised (magic {magic:#x})"), false)
}

/// The statfs magic number of a filesystem (`f_type` is a signed word on some targets; the
/// magic is its low 32 bits).
fn magic_of(stat: &rustix::fs::StatFs) -> u64 {
    (stat.f_type as u64) & 0xffff_ffff
}

/// The filesystem an open directory lives on: its name and whether it is a network or
/// userspace filesystem. Used by `serve` at start-up on the harness directory.
pub fn filesystem_of(dir: std::os::fd::BorrowedFd<'_>) -> Result<(String, bool), Errno> {
    rustix::fs::fstatfs(dir).map(|stat| fs_name(magic_of(&stat)))
}

/// The start-up decision on the harness directory's filesystem (`filesystem` is what
/// [`filesystem_of`] found). `Ok(None)`: local, say nothing. `Ok(Some(warning))`: network,
/// userspace or unknown, and a local filesystem is not required: print the warning loudly.
/// `Err(message)`: a local filesystem is required (`--require-local-fs` or
/// `HARNESS_REQUIRE_LOCAL_FS=1`) and this one is not, or cannot be determined.
pub fn local_fs_check(
    filesystem: Result<&(String, bool), Errno>,
    require_local: bool,
) -> Result<Option<String>, String> {
    let problem = match filesystem {
        Ok((_, false)) => return Ok(None),
        Ok((name, true)) => format!(
            "network filesystem: .codex-harness/ is on {name}, a network or userspace \
             filesystem; locks, renames and fsync may not be reliable there, so concurrent \
             writers can lose or corrupt records"
        ),
        Err(e) => format!(
            "cannot tell whether .codex-harness/ is on a local or a network filesystem \
             (statfs: {e})"
        ),
    };
    if require_local {
        Err(format!(
            "{problem}; refusing to start because a local filesystem is required \
             (--require-local-fs or HARNESS_REQUIRE_LOCAL_FS=1)"
        ))
    } else {
        Ok(Some(format!(
            "codex-harness-mcp: WARNING: {problem}. Move the project to a local disk, or pass \
             --require-local-fs (or set HARNESS_REQUIRE_LOCAL_FS=1) to refuse to start here."
        )))
    }
}

/// The nearest existing ancestor of `path` (doctor never creates the project).
/// Says whether `project` exists and names the filesystem it is (or would be created) on.
fn report_project_filesystem(report: &mut String, project: &Path) {
    let Some(existing) = existing_ancestor(project) else {
        let _ = writeln!(
            report,
            "project filesystem: no existing directory to inspect"
        );
        return;
    };
    if existing != project {
        let _ = writeln!(
            report,
            "project: WARNING: {} does not exist (serving it would create it); the filesystem \
             below is that of {}",
            project.display(),
            existing.display()
        );
    }
    match rustix::fs::statfs(&existing) {
        Ok(stat) => {
            let (name, remote) = fs_name(magic_of(&stat));
            let _ = writeln!(
                report,
                "project filesystem: {name}{}",
                if remote {
                    ": WARNING: network or userspace filesystem; locks, renames and fsync \
                     may not be reliable there"
                } else {
                    ""
                }
            );
        }
        Err(e) => {
            let _ = writeln!(report, "project filesystem: cannot statfs: {e}");
        }
    }
}

fn existing_ancestor(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|p| !p.as_os_str().is_empty() && rustix::fs::stat(*p).is_ok())
        .map(Path::to_path_buf)
}

fn seccomp_filter_available() -> Result<(), String> {
    // The kernel lists the filter return actions it supports here; errno and allow are the two
    // the allow-list needs.
    let fd = rustix::fs::open(
        "/proc/sys/kernel/seccomp/actions_avail",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("cannot read /proc/sys/kernel/seccomp/actions_avail: {e}"))?;
    let mut buffer = [0u8; 256];
    let length = rustix::io::read(&fd, &mut buffer).map_err(|e| e.to_string())?;
    let actions = String::from_utf8_lossy(&buffer[..length]);
    let listed = |action: &str| actions.split_whitespace().any(|a| a == action);
    if listed("errno") && listed("allow") {
        Ok(())
    } else {
        Err(format!(
            "the kernel's filter actions lack errno/allow: {}",
            actions.trim()
        ))
    }
}

fn openat2_available() -> Result<(), Errno> {
    rustix::fs::openat2(
        rustix::fs::CWD,
        "/",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::NO_SYMLINKS,
    )
    .map(drop)
}

/// Checks what this host supports and returns a human report plus whether full confinement
/// (Landlock, `no_new_privs`, seccomp) is possible. `project` defaults to the current
/// directory; it is only inspected, never created.
pub fn doctor(project: Option<&Path>) -> (String, bool) {
    let mut report = String::new();
    let mut confinable = true;
    // Writing to a String cannot fail; the results of writeln! below are ignored for that
    // reason.
    let _ = writeln!(
        report,
        "codex-harness-mcp {} doctor",
        env!("CARGO_PKG_VERSION")
    );

    match probe_abi() {
        Ok(abi) => {
            let coverage = if abi >= ABI::V6 {
                "filesystem rights, TCP bind/connect, abstract-socket and signal scoping"
            } else if abi >= ABI::V4 {
                "filesystem rights and TCP bind/connect (no scoping before ABI 6)"
            } else {
                "filesystem rights only (no TCP mediation before ABI 4)"
            };
            let _ = writeln!(
                report,
                "landlock: available, ABI {} ({coverage})",
                abi as i32
            );
        }
        Err(reason) => {
            confinable = false;
            let _ = writeln!(report, "landlock: UNAVAILABLE: {reason}");
        }
    }
    match seccomp_filter_available() {
        Ok(()) => {
            let _ = writeln!(
                report,
                "seccomp: filter mode available ({} allowed system calls, {} denied with {}, \
                 default {})",
                super::seccomp::ALLOWED_SYSCALLS.len(),
                super::seccomp::DENIED_SYSCALLS.len(),
                super::seccomp::DENIED_ACTION,
                super::seccomp::DEFAULT_ACTION,
            );
        }
        Err(reason) => {
            confinable = false;
            let _ = writeln!(report, "seccomp: UNAVAILABLE: {reason}");
        }
    }
    match rustix::thread::no_new_privs() {
        Ok(_) => {
            let _ = writeln!(report, "no_new_privs: available");
        }
        Err(e) => {
            confinable = false;
            let _ = writeln!(report, "no_new_privs: UNAVAILABLE: {e}");
        }
    }
    match openat2_available() {
        Ok(()) => {
            let _ = writeln!(report, "openat2: available (RESOLVE_BENEATH)");
        }
        Err(e) => {
            let _ = writeln!(report, "openat2: unavailable ({e}); opens are less strict");
        }
    }
    if rustix::process::geteuid().is_root() {
        let _ = writeln!(
            report,
            "user: WARNING: running as uid 0; use an ordinary user"
        );
    }

    // The project as `serve` would choose it (without --project: $CODEX_WORKDIR, else the
    // current directory), made absolute, so the report names what it examined.
    let options = crate::cli::ServeOptions {
        project: project.map(Path::to_path_buf),
        ..Default::default()
    };
    match options.project_dir() {
        Ok(path) => {
            let _ = writeln!(report, "project: {}", path.display());
            report_project_filesystem(&mut report, &path);
        }
        Err(e) => {
            let _ = writeln!(report, "project: cannot determine the directory: {e}");
        }
    }
    let _ = writeln!(
        report,
        "result: {}",
        if confinable {
            "full confinement is possible on this host"
        } else {
            "full confinement is NOT possible on this host; --require-confinement would refuse \
             to start"
        }
    );
    (report, confinable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_filesystems_are_flagged_and_local_ones_are_not() {
        assert!(fs_name(0x6969).1);
        assert!(fs_name(0xff53_4d42).1);
        assert!(fs_name(0x6573_5546).1);
        assert!(fs_name(0x0102_1997).1);
        assert_eq!(fs_name(0xef53), ("ext2/3/4".to_string(), false));
        assert_eq!(fs_name(0x1234).0, "unrecognised (magic 0x1234)");
    }

    #[test]
    fn local_filesystems_start_silently_whatever_is_required() {
        let ext4 = fs_name(0xef53);
        assert_eq!(local_fs_check(Ok(&ext4), false), Ok(None));
        assert_eq!(local_fs_check(Ok(&ext4), true), Ok(None));
    }

    #[test]
    fn network_filesystems_warn_loudly_or_refuse_when_local_is_required() {
        for magic in [0x6969, 0xff53_4d42, 0x6573_5546, 0x0102_1997] {
            let remote = fs_name(magic);
            let warning = local_fs_check(Ok(&remote), false)
                .expect("warn, not refuse")
                .expect("a warning");
            assert!(warning.contains("WARNING: network filesystem"), "{warning}");
            assert!(warning.contains(&remote.0), "{warning}");
            assert!(warning.contains("--require-local-fs"), "{warning}");
            let refusal = local_fs_check(Ok(&remote), true).expect_err("refuse");
            assert!(refusal.contains("refusing to start"), "{refusal}");
        }
    }

    #[test]
    fn an_undeterminable_filesystem_warns_or_refuses_when_local_is_required() {
        assert!(local_fs_check(Err(Errno::NOSYS), false)
            .expect("warn")
            .is_some_and(|w| w.contains("WARNING")));
        assert!(local_fs_check(Err(Errno::NOSYS), true).is_err());
    }

    #[test]
    fn the_directory_under_test_is_classified() {
        let dir = rustix::fs::open(".", OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
        assert!(filesystem_of(std::os::fd::AsFd::as_fd(&dir)).is_ok());
    }
}

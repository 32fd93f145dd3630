//! Descriptors the launcher left open: every one above stderr is closed before this process
//! opens anything, so nothing it was not given survives into the confined serve loop.
//!
//! This module owns that first start-up step and the listing the self-test reports. It must
//! run before this process opens any descriptor of its own (it cannot tell the launcher's from
//! ours, and closes everything above 2), and it must never touch stdin, stdout or stderr.
//!
//! Landlock does not mediate a descriptor that is already open and seccomp allows `read`,
//! `write`, `pwrite64`, `ftruncate` and `fchmod` on any descriptor, so an inherited file or
//! socket would otherwise stay usable by a compromised server after confinement.

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// Where the kernel lists this process's open descriptors.
const PROC_SELF_FD: &str = "/proc/self/fd";

/// Without `/proc`, every number up to this one is closed (the kernel's default
/// `fs.nr_open`); numbers above it cannot be opened on such a host.
const FALLBACK_HIGHEST_FD: RawFd = 1 << 20;

/// One open descriptor, identified by what it refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor {
    pub fd: RawFd,
    pub kind: FileType,
    /// Device and inode of what the descriptor refers to (for a socket: the socket inode).
    pub dev: u64,
    pub ino: u64,
}

/// Closes every descriptor above 2 and returns how many were open. Called first at start-up,
/// before the project directory is opened: the descriptors to close are listed from
/// `/proc/self/fd`, or, when `/proc` is not mounted, every number up to the kernel's default
/// descriptor ceiling is closed.
pub fn close_inherited() -> usize {
    let listed = open_listing()
        .and_then(Dir::new)
        .and_then(|mut dir| numbers_in(&mut dir));
    let numbers: Vec<RawFd> = match listed {
        Ok(numbers) => numbers,
        Err(_) => (3..=FALLBACK_HIGHEST_FD).collect(),
    };
    numbers
        .into_iter()
        .filter(|&fd| fd > 2)
        // Nothing in this process owns these numbers yet (this runs before its first open), so
        // closing them cannot invalidate a descriptor that Rust code holds.
        .filter(|&fd| nix::unistd::close(fd).is_ok())
        .count()
}

/// `/proc/self/fd`, opened for listing. Its listing is generated when it is read, so a
/// descriptor opened before confinement lists what is open at the time of each read.
pub fn open_listing() -> Result<OwnedFd, Errno> {
    rustix::fs::open(
        PROC_SELF_FD,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// The descriptor numbers listed by `dir`, a listing from [`open_listing`], except its own.
fn numbers_in(dir: &mut Dir) -> Result<Vec<RawFd>, Errno> {
    let own = dir.fd()?.as_raw_fd();
    let mut numbers = Vec::new();
    for entry in dir {
        let entry = entry?;
        if let Some(fd) = entry
            .file_name()
            .to_str()
            .ok()
            .and_then(|name| name.parse::<RawFd>().ok())
        {
            if fd != own {
                numbers.push(fd);
            }
        }
    }
    Ok(numbers)
}

/// Every open descriptor above 2 except `listing` itself, each with what it refers to, read
/// through `listing` (from [`open_listing`]). Works after confinement: reading an open
/// directory and `stat` are not mediated by Landlock, and seccomp allows `getdents64` and
/// `newfstatat`.
pub fn list(listing: OwnedFd) -> Result<Vec<Descriptor>, Errno> {
    let mut dir = Dir::new(listing)?;
    let mut found = Vec::new();
    for fd in numbers_in(&mut dir)?.into_iter().filter(|&fd| fd > 2) {
        if let Some(descriptor) = describe(dir.fd()?, fd)? {
            found.push(descriptor);
        }
    }
    Ok(found)
}

/// `stat` through the `/proc/self/fd/<n>` link: the object the descriptor refers to. `None`
/// when it was closed between listing and `stat`.
fn describe(listing: BorrowedFd<'_>, fd: RawFd) -> Result<Option<Descriptor>, Errno> {
    match rustix::fs::statat(listing, fd.to_string(), AtFlags::empty()) {
        Ok(stat) => Ok(Some(Descriptor {
            fd,
            kind: FileType::from_raw_mode(stat.st_mode),
            dev: stat.st_dev,
            ino: stat.st_ino,
        })),
        Err(Errno::NOENT) => Ok(None),
        Err(errno) => Err(errno),
    }
}

/// A stable name for a descriptor's kind, as the self-test reports it.
pub fn kind_name(kind: FileType) -> &'static str {
    match kind {
        FileType::RegularFile => "file",
        FileType::Directory => "directory",
        FileType::Symlink => "symlink",
        FileType::Fifo => "fifo",
        FileType::Socket => "socket",
        FileType::CharacterDevice => "character-device",
        FileType::BlockDevice => "block-device",
        FileType::Unknown => "unknown",
    }
}

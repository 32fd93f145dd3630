//! The seam every mutating system call of the store goes through, and the operation log it
//! can keep for the crash-state tests (`tests/crashstates/`).
//!
//! Each function here makes one system call (`mkdirat`, `renameat2`, `unlinkat`, `fsync`,
//! `ftruncate`, `flock`, a `write` through [`LoggedFile`], an `openat2` that may create) and,
//! only when the log is on, appends one JSON line describing what it changed: directories and
//! files are named by inode number and by name within a directory, data writes carry their
//! offset and bytes. That is enough to rebuild every file state a crash could leave.
//!
//! The log is on only when the hidden `--record-store-ops FILE` option of `serve` started it,
//! before confinement: the file is created then (it must not exist, and a symlink at its name
//! is refused), and afterwards it is reached only through its descriptor. With the log off,
//! each call costs one load of an unset `OnceLock`. This module must never open anything
//! after start-up, record a read, or fail a store operation because the log could not be
//! written (a failed log write is reported once on stderr and the log stops).

use super::error::StoreError;
use rustix::fs::{self, AtFlags, FlockOperation, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use serde_json::{json, Value};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static LOG: OnceLock<File> = OnceLock::new();
static BROKEN: AtomicBool = AtomicBool::new(false);

/// Starts the log in a new file at `path` (created `0600`; an existing file or a symlink there
/// is refused). Call before confinement: this is an absolute-path open.
pub fn start(path: &Path) -> Result<(), StoreError> {
    let display = path.to_string_lossy().into_owned();
    let fd = fs::open(
        path,
        OFlags::WRONLY
            | OFlags::CREATE
            | OFlags::EXCL
            | OFlags::NOFOLLOW
            | OFlags::APPEND
            | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .map_err(|errno| StoreError::from_errno("create the store operation log", &display, errno))?;
    LOG.set(File::from(fd)).map_err(|_| StoreError::Io {
        op: "start the store operation log",
        path: display,
        source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
    })
}

fn recording() -> bool {
    LOG.get().is_some() && !BROKEN.load(Ordering::Relaxed)
}

/// Appends one record, built only when the log is on.
fn record(build: impl FnOnce() -> Value) {
    let Some(mut log) = LOG.get().filter(|_| recording()) else {
        return;
    };
    let mut line = build().to_string();
    line.push('\n');
    if log.write_all(line.as_bytes()).is_err() {
        BROKEN.store(true, Ordering::Relaxed);
        crate::log::line(
            "codex-harness-mcp: the store operation log could not be written; it stops here",
        );
    }
}

fn ino(fd: BorrowedFd<'_>) -> u64 {
    fs::fstat(fd).map_or(0, |stat| stat.st_ino)
}

fn ino_at(dir: BorrowedFd<'_>, name: &str) -> u64 {
    fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).map_or(0, |stat| stat.st_ino)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Names the directory every later record is relative to: the project directory.
pub(crate) fn project(dir: BorrowedFd<'_>) {
    record(|| json!({"op": "project", "ino": ino(dir)}));
}

/// `openat2` beneath `dir`; when `flags` may create, the file it opened is recorded with
/// the path it was opened by (`rel`, resolved from `dir`).
pub(crate) fn openat2(
    dir: BorrowedFd<'_>,
    rel: &str,
    flags: OFlags,
    mode: Mode,
    resolve: fs::ResolveFlags,
) -> Result<std::os::fd::OwnedFd, Errno> {
    let fd = fs::openat2(dir, rel, flags, mode, resolve)?;
    if flags.contains(OFlags::CREATE) {
        record(|| json!({"op": "create", "dir": ino(dir), "path": rel, "ino": ino(fd.as_fd())}));
    }
    Ok(fd)
}

pub(crate) fn mkdirat(dir: BorrowedFd<'_>, name: &str, mode: Mode) -> Result<(), Errno> {
    fs::mkdirat(dir, name, mode)?;
    record(|| json!({"op": "mkdir", "dir": ino(dir), "name": name, "ino": ino_at(dir, name)}));
    Ok(())
}

pub(crate) fn renameat(
    from_dir: BorrowedFd<'_>,
    from: &str,
    to_dir: BorrowedFd<'_>,
    to: &str,
    flags: RenameFlags,
) -> Result<(), Errno> {
    fs::renameat_with(from_dir, from, to_dir, to, flags)?;
    record(|| {
        json!({"op": "rename", "from_dir": ino(from_dir), "from": from,
               "to_dir": ino(to_dir), "to": to})
    });
    Ok(())
}

pub(crate) fn unlinkat(dir: BorrowedFd<'_>, name: &str) -> Result<(), Errno> {
    fs::unlinkat(dir, name, AtFlags::empty())?;
    record(|| json!({"op": "unlink", "dir": ino(dir), "name": name}));
    Ok(())
}

/// `fsync` of a file or a directory.
pub(crate) fn fsync(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    fs::fsync(fd)?;
    record(|| json!({"op": "fsync", "ino": ino(fd)}));
    Ok(())
}

pub(crate) fn ftruncate(fd: BorrowedFd<'_>, len: u64) -> Result<(), Errno> {
    fs::ftruncate(fd, len)?;
    record(|| json!({"op": "truncate", "ino": ino(fd), "len": len}));
    Ok(())
}

pub(crate) fn flock(fd: BorrowedFd<'_>, operation: FlockOperation) -> Result<(), Errno> {
    fs::flock(fd, operation)?;
    record(|| json!({"op": "flock", "ino": ino(fd)}));
    Ok(())
}

/// A file the store writes: every `write` that reaches the kernel is recorded with its
/// offset (taken after the write, so an `O_APPEND` write is placed where it landed).
pub(crate) struct LoggedFile(pub(crate) File);

impl Write for LoggedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.0.write(buf)?;
        record(|| {
            let fd = self.0.as_fd();
            let end = fs::seek(fd, fs::SeekFrom::Current(0)).unwrap_or(written as u64);
            json!({"op": "write", "ino": ino(fd), "off": end - written as u64,
                   "data": hex(&buf[..written])})
        });
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl LoggedFile {
    /// `fsync` through the seam.
    pub(crate) fn sync_all(&self) -> std::io::Result<()> {
        fsync(self.0.as_fd()).map_err(std::io::Error::from)
    }
}

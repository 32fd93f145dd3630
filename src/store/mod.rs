//! The only code that touches the filesystem.
//!
//! A [`Store`] holds one directory fd for `<project>/.codex-harness/` and resolves every path
//! relative to it with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)`:
//! the kernel refuses `..`, absolute paths and symlinks anywhere on the way, so no check and
//! use can race. Files are read only if they are regular files with one link (a FIFO cannot
//! block us, a hard link cannot smuggle an outside file in), writes are durable and atomic,
//! appends never leave a torn line, and cross-process locks use `flock(2)`. Every mutating
//! system call goes through one seam, `oplog`, which can log them for the crash-state tests.
//!
//! It must never: follow a symlink, open anything outside the harness directory (except the
//! metadata-only output check, [`Store::output_exists`]), stat a path outside it other than
//! for the metadata-only checks [`Store::is_project`] and [`harness_dir_exists`], or leave a
//! temp file behind on an error path it controls.

mod error;
mod fsops;
mod listcache;
mod lock;
mod open;
mod oplog;
mod reaper;
mod walk;

pub use error::StoreError;
pub use fsops::{FileId, ReadFile};
pub use lock::{with_lock_wait, LockGuard, LockKind, LockWait, LOCK_STALE_MS, LOCK_TIMEOUT_MS};
pub use open::{create_harness_dir, harness_dir_exists, HARNESS_DIR_NAME};
pub use oplog::start as start_op_log;
pub(crate) use reaper::temp_owner;
pub use reaper::{process_exists, REAPER_MAX_DEPTH, TEMP_MAX_AGE_MS};
pub use walk::{Entry, EntryKind};

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// Largest file the store will read, and so the largest it will write: a write or append
/// that would make a file larger is refused, so the server never writes what it then refuses
/// to read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The opened `.codex-harness/` directory of the pinned project.
#[derive(Debug)]
pub struct Store {
    root: OwnedFd,
    /// The project directory itself, opened `O_PATH`: used only for metadata-only checks.
    project: OwnedFd,
    project_path: PathBuf,
    /// Device and inode of the project directory, taken when it was opened.
    project_identity: (u64, u64),
    harness_path: PathBuf,
    /// The working directory at start-up, against which a relative `project_path` argument
    /// is resolved (captured once: the process never asks the kernel again).
    launch_dir: PathBuf,
    /// Set once the harness layout has been created in this process; later calls skip the
    /// seventeen `mkdirat`s (a directory removed meanwhile is recreated on first write).
    layout_ready: std::sync::atomic::AtomicBool,
    /// The size bound of every file read and written ([`MAX_FILE_BYTES`] unless a test
    /// lowers it with [`Store::with_file_limit`]).
    file_limit: u64,
    /// How long a lock is awaited ([`LOCK_TIMEOUT_MS`] unless a test or fuzz target shortens
    /// it with [`Store::with_lock_timeout`]).
    lock_timeout: std::time::Duration,
    /// Record directories' listings, kept while each directory is unchanged.
    listings: listcache::ListCache,
}

impl Store {
    /// Opens (creating if needed) the project directory and its `.codex-harness/`. Must run
    /// before confinement: it is the last time the process resolves an absolute path.
    pub fn open(project_path: &Path) -> Result<Store, StoreError> {
        let (project, root) = open::open_project(project_path)?;
        let project_identity = rustix::fs::fstat(&project)
            .map(|st| (st.st_dev, st.st_ino))
            .map_err(|errno| {
                StoreError::from_errno(
                    "stat project directory",
                    &project_path.to_string_lossy(),
                    errno,
                )
            })?;
        Ok(Store {
            root,
            project,
            project_path: project_path.to_path_buf(),
            project_identity,
            harness_path: project_path.join(HARNESS_DIR_NAME),
            launch_dir: std::env::current_dir().unwrap_or_else(|_| project_path.to_path_buf()),
            layout_ready: std::sync::atomic::AtomicBool::new(false),
            file_limit: MAX_FILE_BYTES,
            lock_timeout: std::time::Duration::from_millis(LOCK_TIMEOUT_MS),
            listings: listcache::ListCache::default(),
        })
    }

    /// The same store with a lower file size bound, so tests can reach the bound (and
    /// everything sized from it) without writing 64 MiB. The bound is never raised.
    #[doc(hidden)]
    pub fn with_file_limit(mut self, bytes: u64) -> Store {
        self.file_limit = bytes.min(MAX_FILE_BYTES);
        self
    }

    /// The same store giving up on a held lock sooner, so the lock-wait path (progress,
    /// cancellation, timeout) can be driven many times a second. Never lengthened.
    #[doc(hidden)]
    pub fn with_lock_timeout(mut self, timeout: std::time::Duration) -> Store {
        self.lock_timeout = timeout.min(self.lock_timeout);
        self
    }

    /// The size bound of every file this store reads or writes.
    pub fn file_limit(&self) -> u64 {
        self.file_limit
    }

    pub fn project_path(&self) -> &Path {
        &self.project_path
    }

    /// Whether the absolute `path` names the pinned project: the same spelling, or the same
    /// directory by device and inode however it is spelled (through a symlink, a bind
    /// mount). `path` is only stat'ed, never opened: metadata, which Landlock does not
    /// mediate and the seccomp filter allows. A path that does not exist or cannot be
    /// stat'ed is not the project, and the caller refuses both alike, so the check tells a
    /// client nothing about the outside beyond "this is the project".
    pub fn is_project(&self, path: &Path) -> bool {
        path == self.project_path
            || rustix::fs::stat(path)
                .is_ok_and(|st| (st.st_dev, st.st_ino) == self.project_identity)
    }

    /// Whether the harness layout was already created by this process.
    pub fn layout_ready(&self) -> bool {
        self.layout_ready.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn mark_layout_ready(&self) {
        self.layout_ready
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn launch_dir(&self) -> &Path {
        &self.launch_dir
    }

    pub fn harness_path(&self) -> &Path {
        &self.harness_path
    }

    /// The harness directory fd, for confinement (Landlock's one rule is beneath it).
    pub fn root_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.root.as_fd()
    }

    /// The absolute path of `rel`, for results that report file locations.
    pub fn absolute(&self, rel: &str) -> String {
        self.harness_path.join(rel).to_string_lossy().into_owned()
    }
}

//! Opening beneath the harness directory fd, and opening that fd in the first place.

use super::error::StoreError;
use super::oplog;
use rustix::fs::{self, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// The harness directory's name inside the project.
pub const HARNESS_DIR_NAME: &str = ".codex-harness";

/// Whether `project` and its harness directory both exist as real directories (`lstat`, so a
/// symlink at either is not one). Metadata only, and without creating anything, unlike
/// [`super::Store::open`]: for commands that must not bring a missing tree into being.
pub fn harness_dir_exists(project: &Path) -> bool {
    let is_dir = |path: &Path| {
        fs::lstat(path).is_ok_and(|st| fs::FileType::from_raw_mode(st.st_mode).is_dir())
    };
    is_dir(project) && is_dir(&project.join(HARNESS_DIR_NAME))
}

/// How many times a resolution racing with a rename elsewhere on the host is retried.
const EAGAIN_RETRIES: usize = 8;

/// Every resolution beneath the root: no `..` past it, no absolute paths, no symlinks, no
/// `/proc` magic links.
pub(crate) fn resolve_flags() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS
}

/// Rejects, before any system call, relative paths the store never builds itself: empty,
/// absolute, or holding `.`/`..`/empty components. The kernel would refuse the escapes too;
/// this makes the error precise and keeps `.` out of file names.
pub(crate) fn check_relative(rel: &str) -> Result<(), StoreError> {
    let bad = rel.is_empty()
        || rel.starts_with('/')
        || rel.contains('\0')
        || rel
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..");
    if bad && rel != "." {
        return Err(StoreError::Escape {
            path: rel.to_string(),
        });
    }
    Ok(())
}

/// `openat2(dir, rel, flags, mode, BENEATH|NO_SYMLINKS|NO_MAGICLINKS)` with `O_CLOEXEC`, the
/// bounded EAGAIN retry, and errno mapped to [`StoreError`].
pub(crate) fn open_beneath(
    dir: BorrowedFd<'_>,
    rel: &str,
    flags: OFlags,
    mode: Mode,
) -> Result<OwnedFd, StoreError> {
    check_relative(rel)?;
    let mut attempts = 0;
    loop {
        match oplog::openat2(dir, rel, flags | OFlags::CLOEXEC, mode, resolve_flags()) {
            Ok(fd) => return Ok(fd),
            Err(Errno::AGAIN) if attempts < EAGAIN_RETRIES => attempts += 1,
            Err(errno) => return Err(StoreError::from_errno("open", rel, errno)),
        }
    }
}

/// A directory of the tree to run `*at` calls in: the harness root itself (borrowed, no system
/// call) or a subdirectory opened for the occasion.
pub(crate) enum DirFd<'a> {
    Root(BorrowedFd<'a>),
    Opened(OwnedFd),
}

impl AsFd for DirFd<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            DirFd::Root(fd) => *fd,
            DirFd::Opened(fd) => fd.as_fd(),
        }
    }
}

/// Opens a directory beneath `dir` for listing, fsync and `*at` calls.
pub(crate) fn open_dir(dir: BorrowedFd<'_>, rel: &str) -> Result<OwnedFd, StoreError> {
    open_beneath(dir, rel, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())
}

/// Creates `.codex-harness` inside the opened project directory if it is missing, refusing a
/// symlink in its place, and returns it opened.
pub fn create_harness_dir(project: BorrowedFd<'_>) -> Result<OwnedFd, StoreError> {
    match oplog::mkdirat(project, HARNESS_DIR_NAME, Mode::from_raw_mode(0o755)) {
        // Synced into the project directory (reopened readable: `project` may be `O_PATH`),
        // or a power cut could lose the whole tree with every record acknowledged in it.
        Ok(()) => oplog::fsync(open_dir(project, ".")?.as_fd())
            .map_err(|errno| StoreError::from_errno("fsync", "..", errno))?,
        Err(Errno::EXIST) => {}
        Err(errno) => return Err(StoreError::from_errno("mkdir", HARNESS_DIR_NAME, errno)),
    }
    open_dir(project, HARNESS_DIR_NAME)
}

/// Resolves the pinned project directory (creating it, as the original does) and opens it and
/// its harness directory. This is the one place an absolute path is resolved.
pub(crate) fn open_project(project_path: &Path) -> Result<(OwnedFd, OwnedFd), StoreError> {
    let display = project_path.to_string_lossy().into_owned();
    // The one path-based call: creating the pinned project before confinement, as the
    // original creates a missing project directory.
    #[allow(clippy::disallowed_methods)]
    std::fs::create_dir_all(project_path).map_err(|source| StoreError::Io {
        op: "create project directory",
        path: display.clone(),
        source,
    })?;
    let project = fs::open(
        project_path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| StoreError::from_errno("open project directory", &display, errno))?;
    oplog::project(project.as_fd());
    let root = create_harness_dir(project.as_fd())?;
    Ok((project, root))
}

#[cfg(test)]
mod tests {
    use super::check_relative;

    #[test]
    fn lexically_unsafe_relative_paths_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "..",
            "a//b",
            "./a",
            "a/",
            "a\0b",
        ] {
            assert!(check_relative(bad).is_err(), "{bad:?}");
        }
        for good in ["state.json", "knowledge/items/x.json", ".", ".state.lock"] {
            assert!(check_relative(good).is_ok(), "{good:?}");
        }
    }
}

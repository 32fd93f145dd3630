//! The installer's filesystem access: opening each configuration file's directory without
//! following symlinks (creating missing ones), reading the current file, keeping a backup of
//! it under the user's state directory, and replacing it durably and atomically.
//!
//! Every access below an anchor directory (home, `CODEX_HOME`, the project or the state
//! directory, which the user chose) goes through a directory descriptor with `O_NOFOLLOW`, so a
//! planted symlink is refused rather than followed. It must never write anywhere but beneath
//! those descriptors, never put a backup inside a project (where it would be committed), and
//! never leave a half-written configuration: a crash leaves the old or the new file.

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

/// A configuration file larger than this is refused rather than read.
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// Mode of a configuration file the installer creates: owner only, whatever the umask (a
/// configuration names a command the client runs, so no other user may write it, and it may
/// hold tokens, so no other user may read it). An existing file keeps its own mode.
const NEW_FILE_MODE: u32 = 0o600;

/// Mode of a directory the installer creates: owner only, whatever the umask.
const NEW_DIR_MODE: u32 = 0o700;

fn describe(path: &Path, errno: Errno) -> String {
    format!("{}: {}", path.display(), std::io::Error::from(errno))
}

/// Opens `anchor` (symlinks followed: it is the user's own home or project), then each of
/// `subdirs` beneath it without following symlinks. Missing directories are created when
/// `create` is set; otherwise a missing one gives `Ok(None)`.
pub fn open_parent(
    anchor: &Path,
    subdirs: &[&str],
    create: bool,
) -> Result<Option<OwnedFd>, String> {
    if create {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(NEW_DIR_MODE)
            .create(anchor)
            .map_err(|e| format!("{}: {e}", anchor.display()))?;
    }
    let dir = match rustix::fs::open(anchor, DIR_FLAGS, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) if !create => return Ok(None),
        Err(e) => return Err(describe(anchor, e)),
    };
    descend(dir, anchor, subdirs.iter().map(OsStr::new), create)
}

// O_RDONLY rather than O_PATH: the descriptor must also serve `fsync` after the rename.
const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);

/// Opens each of `names` in turn beneath `dir` (whose path is `path`, for messages) without
/// following symlinks, creating missing ones when `create` is set.
fn descend<'a>(
    mut dir: OwnedFd,
    path: &Path,
    names: impl Iterator<Item = &'a OsStr>,
    create: bool,
) -> Result<Option<OwnedFd>, String> {
    let mut path = path.to_path_buf();
    for name in names {
        path.push(name);
        let open = |dir: &OwnedFd| {
            rustix::fs::openat(dir, name, DIR_FLAGS | OFlags::NOFOLLOW, Mode::empty())
        };
        let next = match open(&dir) {
            Err(Errno::NOENT) if create => {
                match rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(NEW_DIR_MODE)) {
                    Ok(()) | Err(Errno::EXIST) => open(&dir),
                    Err(e) => Err(e),
                }
            }
            other => other,
        };
        dir = match next {
            Ok(fd) => fd,
            Err(Errno::NOENT) if !create => return Ok(None),
            Err(Errno::LOOP) => {
                return Err(format!(
                    "{} is a symlink; refusing to follow it",
                    path.display()
                ))
            }
            Err(Errno::NOTDIR) => {
                return Err(format!(
                    "{} is not a directory (or is a symlink); refusing it",
                    path.display()
                ))
            }
            Err(e) => return Err(describe(&path, e)),
        };
    }
    Ok(Some(dir))
}

/// Whether `name` exists in `dir` (as anything, a symlink included).
pub fn exists(dir: &OwnedFd, name: &str) -> bool {
    rustix::fs::statat(dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).is_ok()
}

/// Where previous versions are kept: `<state>/codex-harness-mcp/backups`, outside every
/// project, so a backup of a project's configuration can never be committed with it.
pub struct Backups {
    dir: OwnedFd,
    path: PathBuf,
}

/// The directories of [`Backups`] beneath the state directory.
const BACKUP_SUBDIRS: [&str; 2] = ["codex-harness-mcp", "backups"];

impl Backups {
    /// Opens (creating) the backup directory beneath `state` (`$XDG_STATE_HOME`, else
    /// `~/.local/state`; symlinks in it are followed, none beneath it).
    pub fn open(state: &Path) -> Result<Backups, String> {
        let dir = open_parent(state, &BACKUP_SUBDIRS, true)?
            .ok_or_else(|| format!("{}: cannot be created", state.display()))?;
        let mut path = state.to_path_buf();
        path.extend(BACKUP_SUBDIRS);
        Ok(Backups { dir, path })
    }

    /// The descriptor Landlock must allow.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }

    /// Saves `text` (with `mode`) as the backup of the file at `original`: the same absolute
    /// path mirrored beneath the backup directory, one backup per file, replaced atomically on
    /// each change. Returns where it went.
    pub fn save(&self, original: &Path, text: &str, mode: u32) -> Result<PathBuf, String> {
        let (Some(parent), Some(name)) = (original.parent(), original.file_name()) else {
            return Err(format!("{}: has no file name", original.display()));
        };
        let mirrored = || {
            parent.components().filter_map(|c| match c {
                Component::Normal(name) => Some(name),
                _ => None,
            })
        };
        let dir =
            rustix::io::fcntl_dupfd_cloexec(&self.dir, 0).map_err(|e| describe(&self.path, e))?;
        let dir = descend(dir, &self.path, mirrored(), true)?
            .ok_or_else(|| format!("{}: cannot be created", self.path.display()))?;
        let mut path = self.path.clone();
        path.extend(mirrored());
        path.push(name);
        let name = name.to_string_lossy();
        replace_atomically(&dir, &name, text, Some(mode))
            .map_err(|e| format!("backup {}: {e}", path.display()))?;
        Ok(path)
    }
}

/// The current file: its text and permission bits, or `None` when it does not exist. A
/// symlink, a non-regular file, an oversized file or non-UTF-8 text is refused.
pub fn read_existing(
    dir: &OwnedFd,
    name: &str,
    path: &Path,
) -> Result<Option<(String, u32)>, String> {
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(Errno::LOOP) => {
            return Err(format!(
                "{} is a symlink; refusing to follow or replace it",
                path.display()
            ))
        }
        Err(e) => return Err(describe(path, e)),
    };
    let stat = rustix::fs::fstat(&fd).map_err(|e| describe(path, e))?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(format!(
            "{} is not a regular file; refusing it",
            path.display()
        ));
    }
    let size = u64::try_from(stat.st_size).unwrap_or(u64::MAX);
    if size > MAX_CONFIG_BYTES {
        return Err(format!(
            "{} is larger than {MAX_CONFIG_BYTES} bytes; refusing it",
            path.display()
        ));
    }
    let mut bytes = Vec::new();
    File::from(fd)
        .take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{} is not UTF-8 text; refusing it", path.display()))?;
    Ok(Some((text, stat.st_mode & 0o7777)))
}

/// Replaces `name` in `dir` with `content`: a fresh temp file in the same directory, written,
/// given `mode` (or [`NEW_FILE_MODE`]), `fsync`ed, renamed over `name`, and the
/// directory `fsync`ed. On any error the temp file is removed and `name` is untouched.
pub fn replace_atomically(
    dir: &OwnedFd,
    name: &str,
    content: &str,
    mode: Option<u32>,
) -> std::io::Result<()> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| std::io::Error::other(e.to_string()))?;
    let temp = format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        nonce.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, &temp, flags, Mode::from_raw_mode(NEW_FILE_MODE))?;
    let result = (|| -> std::io::Result<()> {
        if let Some(mode) = mode {
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))?;
        }
        let mut file = File::from(fd);
        file.write_all(content.as_bytes())?;
        file.sync_all()?;
        rustix::fs::renameat(dir, &temp, dir, name)?;
        Ok(())
    })();
    if let Err(error) = result {
        let _ = rustix::fs::unlinkat(dir, &temp, rustix::fs::AtFlags::empty());
        return Err(error);
    }
    rustix::fs::fsync(dir.as_fd())?;
    Ok(())
}

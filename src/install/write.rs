//! The installer's filesystem access: opening each configuration file's directory without
//! following symlinks (creating missing ones), reading the current file, and replacing it
//! durably and atomically with a backup of the previous version beside it.
//!
//! Every access below the anchor directory (home, `CODEX_HOME` or the project, which the user
//! chose) goes through a directory descriptor with `O_NOFOLLOW`, so a planted symlink is
//! refused rather than followed. It must never write anywhere but beneath those descriptors,
//! and never leave a half-written configuration: a crash leaves the old or the new file.

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// A configuration file larger than this is refused rather than read.
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// Suffix of the backup of the previous version, written next to the file.
pub const BACKUP_SUFFIX: &str = ".bak";

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
    // O_RDONLY rather than O_PATH: the descriptor must also serve `fsync` after the rename.
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut dir = match rustix::fs::open(anchor, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) if !create => return Ok(None),
        Err(e) => return Err(describe(anchor, e)),
    };
    let mut path = anchor.to_path_buf();
    for name in subdirs {
        path.push(name);
        let open =
            |dir: &OwnedFd| rustix::fs::openat(dir, *name, flags | OFlags::NOFOLLOW, Mode::empty());
        let next = match open(&dir) {
            Err(Errno::NOENT) if create => {
                match rustix::fs::mkdirat(&dir, *name, Mode::from_raw_mode(NEW_DIR_MODE)) {
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

/// Saves `previous` as `<name>.bak` (atomically, with the same mode), then replaces `name`
/// with `content`. With no previous version there is nothing to back up.
pub fn write_with_backup(
    dir: &OwnedFd,
    name: &str,
    content: &str,
    previous: Option<(&str, u32)>,
) -> std::io::Result<()> {
    match previous {
        Some((old, mode)) => {
            replace_atomically(dir, &format!("{name}{BACKUP_SUFFIX}"), old, Some(mode))?;
            replace_atomically(dir, name, content, Some(mode))
        }
        None => replace_atomically(dir, name, content, None),
    }
}

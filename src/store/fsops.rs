//! File operations beneath the harness root: read, durable atomic write, append, list, mkdir,
//! rename, unlink, and the one metadata-only probe outside the tree.

use super::error::StoreError;
use super::listcache::Stamp;
use super::open::{check_relative, open_beneath, open_dir, DirFd};
use super::oplog::{self, LoggedFile};
use super::Store;
use crate::sanitize::random_hex;
use rustix::fs::{self, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

/// Splits `a/b/c.json` into (`a/b`, `c.json`); a bare name lives in `.`.
fn split_parent(rel: &str) -> (&str, &str) {
    match rel.rsplit_once('/') {
        Some((parent, name)) => (parent, name),
        None => (".", rel),
    }
}

/// A directory stream over `dir`. The harness root is reopened as `.` with `openat2`, never
/// with the plain `openat` of `Dir::read_from`: plain `openat` is refused after confinement.
fn listing(dir: DirFd<'_>, rel: &str) -> Result<fs::Dir, StoreError> {
    let owned = match dir {
        DirFd::Opened(fd) => fd,
        DirFd::Root(root) => open_dir(root, ".")?,
    };
    fs::Dir::new(owned).map_err(|e| StoreError::from_errno("list", rel, e))
}

/// Sorts names in UTF-16 code-unit order (the original's default JS sort). Without a
/// character from U+E000 up (UTF-8 lead byte 0xEE or above) that is byte order, which sorts
/// 200,000 names several times faster; names in a directory are distinct, so the sort need
/// not be stable.
fn sort_utf16(names: &mut [String]) {
    if names.iter().all(|name| name.bytes().all(|b| b < 0xEE)) {
        names.sort_unstable();
    } else {
        names.sort_unstable_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    }
}

/// The names in an opened directory (not `.`/`..`, UTF-8 only), sorted as [`Store::list`].
fn read_names(dir: DirFd<'_>, rel: &str) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    for entry in listing(dir, rel)? {
        let entry = entry.map_err(|e| StoreError::from_errno("list", rel, e))?;
        if let Ok(name) = entry.file_name().to_str() {
            if name != "." && name != ".." {
                names.push(name.to_string());
            }
        }
    }
    sort_utf16(&mut names);
    Ok(names)
}

fn io_error(op: &'static str, path: &str, source: std::io::Error) -> StoreError {
    StoreError::Io {
        op,
        path: path.to_string(),
        source,
    }
}

/// Refuses anything but a regular file with a single link.
fn check_regular(fd: BorrowedFd<'_>, rel: &str) -> Result<fs::Stat, StoreError> {
    let stat = fs::fstat(fd).map_err(|errno| StoreError::from_errno("stat", rel, errno))?;
    let file_type = FileType::from_raw_mode(stat.st_mode);
    if file_type != FileType::RegularFile {
        let what = match file_type {
            FileType::Directory => "a directory",
            FileType::Fifo => "a FIFO",
            FileType::Socket => "a socket",
            FileType::CharacterDevice | FileType::BlockDevice => "a device",
            _ => "not a regular file",
        };
        return Err(StoreError::NotRegular {
            path: rel.to_string(),
            what,
        });
    }
    if stat.st_nlink > 1 {
        return Err(StoreError::NotRegular {
            path: rel.to_string(),
            what: "a file with several hard links",
        });
    }
    Ok(stat)
}

impl Store {
    /// Reads a whole file; `Ok(None)` when it does not exist. The checks are
    /// [`Store::open_read`]'s; the read itself stops one byte past [`Store::file_limit`], so a
    /// file that grows after the check is refused rather than read without bound.
    pub fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(opened) = self.open_read(rel)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        (&opened.file)
            .take(self.file_limit() + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| io_error("read", rel, source))?;
        if bytes.len() as u64 > self.file_limit() {
            return Err(StoreError::TooLarge {
                path: rel.to_string(),
                limit: self.file_limit(),
            });
        }
        Ok(Some(bytes))
    }

    /// True if `rel` exists as anything (never follows a symlink).
    pub fn exists(&self, rel: &str) -> Result<bool, StoreError> {
        check_relative(rel)?;
        let (parent, name) = split_parent(rel);
        let dir = match self.dir(parent) {
            Ok(dir) => dir,
            Err(error) if error.is_not_found() => return Ok(false),
            Err(error) => return Err(error),
        };
        match fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => Ok(true),
            Err(Errno::NOENT) => Ok(false),
            Err(errno) => Err(StoreError::from_errno("stat", rel, errno)),
        }
    }

    /// Modification time of `rel` in epoch milliseconds, without following symlinks.
    pub fn modified_ms(&self, rel: &str) -> Result<Option<i64>, StoreError> {
        check_relative(rel)?;
        let (parent, name) = split_parent(rel);
        let dir = self.dir(parent)?;
        match fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(
                stat.st_mtime * 1000 + stat.st_mtime_nsec as i64 / 1_000_000,
            )),
            Err(Errno::NOENT) => Ok(None),
            Err(errno) => Err(StoreError::from_errno("stat", rel, errno)),
        }
    }

    /// Size of `rel` in bytes, without following symlinks; `None` if absent.
    pub fn size(&self, rel: &str) -> Result<Option<u64>, StoreError> {
        check_relative(rel)?;
        let (parent, name) = split_parent(rel);
        let dir = self.dir(parent)?;
        match fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(stat.st_size as u64)),
            Err(Errno::NOENT) => Ok(None),
            Err(errno) => Err(StoreError::from_errno("stat", rel, errno)),
        }
    }

    /// Creates `rel` and any missing parents, one component at a time beneath the root.
    pub fn create_dir_all(&self, rel: &str) -> Result<(), StoreError> {
        check_relative(rel)?;
        let mut done = String::new();
        for part in rel.split('/') {
            let parent = self.dir(if done.is_empty() { "." } else { &done })?;
            match oplog::mkdirat(parent.as_fd(), part, Mode::from_raw_mode(0o755)) {
                // A new directory's name is durable only once its parent is synced; without
                // it a power cut can take the directory and every record later made in it.
                Ok(()) => oplog::fsync(parent.as_fd())
                    .map_err(|errno| StoreError::from_errno("fsync", rel, errno))?,
                Err(Errno::EXIST) => {}
                Err(errno) => return Err(StoreError::from_errno("mkdir", rel, errno)),
            }
            if !done.is_empty() {
                done.push('/');
            }
            done.push_str(part);
        }
        // Proves the result is a real directory, not a planted symlink or file.
        open_dir(self.root.as_fd(), rel).map(drop)
    }

    /// Durable atomic replace: temp file in the same directory (named as the original names
    /// it), write, fsync, `renameat` over the target, fsync the directory. A crash at any
    /// instant leaves the old or the new content, never a mix. A symlink at the target is
    /// refused; a failure removes the temp file.
    pub fn write_atomic(&self, rel: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.write_durably(rel, bytes, Placement::Replace, Sync::Durable)
            .map(drop)
    }

    /// Durable atomic creation of a file that must not exist yet (a new record): as
    /// [`Store::write_atomic`], but the rename is `RENAME_NOREPLACE`, so an id collision or
    /// a planted entry is an error, never an overwrite. The content is complete before the
    /// name appears.
    pub fn create_new(&self, rel: &str, bytes: &[u8]) -> Result<(), StoreError> {
        match self.write_durably(rel, bytes, Placement::CreateNew, Sync::Durable)? {
            true => Ok(()),
            false => Err(StoreError::Io {
                op: "create",
                path: rel.to_string(),
                source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            }),
        }
    }

    /// The shared write path for whole contents.
    fn write_durably(
        &self,
        rel: &str,
        bytes: &[u8],
        placement: Placement,
        sync: Sync,
    ) -> Result<bool, StoreError> {
        self.write_durably_with(rel, placement, sync, &mut |out| {
            out.write_all(bytes)
                .map_err(|source| io_error("write", rel, source))
        })
    }

    /// The shared write path; `fill` writes the content. `Ok(false)` when `CreateNew` found
    /// the name taken.
    fn write_durably_with(
        &self,
        rel: &str,
        placement: Placement,
        sync: Sync,
        fill: &mut dyn FnMut(&mut dyn Write) -> Result<(), StoreError>,
    ) -> Result<bool, StoreError> {
        check_relative(rel)?;
        let (parent_rel, name) = split_parent(rel);
        let parent = self.open_parent_dir(parent_rel)?;
        if placement == Placement::Replace {
            match fs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink => {
                    return Err(StoreError::Symlink {
                        path: rel.to_string(),
                    });
                }
                Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Directory => {
                    return Err(StoreError::NotRegular {
                        path: rel.to_string(),
                        what: "a directory",
                    });
                }
                Ok(_) | Err(Errno::NOENT) => {}
                Err(errno) => return Err(StoreError::from_errno("stat", rel, errno)),
            }
        }
        let suffix = random_hex(4).map_err(|source| io_error("random", rel, source))?;
        let temp = format!("{name}.tmp.{}.{suffix}", std::process::id());
        let file = open_beneath(
            parent.as_fd(),
            &temp,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW,
            Mode::from_raw_mode(0o644),
        )?;
        let flags = match placement {
            Placement::Replace => fs::RenameFlags::empty(),
            Placement::CreateNew => fs::RenameFlags::NOREPLACE,
        };
        let limit = self.file_limit();
        let placed =
            write_with(file, sync, rel, limit, fill).and_then(|()| {
                match oplog::renameat(parent.as_fd(), &temp, parent.as_fd(), name, flags) {
                    Ok(()) => Ok(true),
                    Err(Errno::EXIST) if placement == Placement::CreateNew => Ok(false),
                    Err(errno) => Err(StoreError::from_errno("rename", rel, errno)),
                }
            });
        if !matches!(placed, Ok(true)) {
            let _ = oplog::unlinkat(parent.as_fd(), &temp);
        }
        let placed = placed?;
        if sync == Sync::Durable {
            oplog::fsync(parent.as_fd())
                .map_err(|errno| StoreError::from_errno("fsync", parent_rel, errno))?;
        }
        Ok(placed)
    }

    /// Appends one line (`line` must end with `\n`) durably. If a crash left the file ending
    /// in a partial line, that fragment (never acknowledged) is cut off first, so lines are
    /// never torn or glued together. Callers hold the state lock.
    pub fn append_line(&self, rel: &str, line: &[u8]) -> Result<(), StoreError> {
        let open = || {
            open_beneath(
                self.root.as_fd(),
                rel,
                OFlags::RDWR | OFlags::CREATE | OFlags::APPEND | OFlags::NONBLOCK,
                Mode::from_raw_mode(0o644),
            )
        };
        let fd = match open() {
            Err(error) if error.is_not_found() => {
                self.create_dir_all(split_parent(rel).0)?;
                open()?
            }
            other => other?,
        };
        let stat = check_regular(fd.as_fd(), rel)?;
        let size = stat.st_size as u64;
        if size + line.len() as u64 > self.file_limit() {
            return Err(StoreError::WouldExceed {
                path: rel.to_string(),
                limit: self.file_limit(),
            });
        }
        if size > 0 {
            let mut last = [0u8; 1];
            fs::seek(&fd, fs::SeekFrom::End(-1))
                .map_err(|e| StoreError::from_errno("seek", rel, e))?;
            rustix::io::read(&fd, &mut last).map_err(|e| StoreError::from_errno("read", rel, e))?;
            if last[0] != b'\n' {
                cut_partial_line(fd.as_fd(), rel, size)?;
            }
        }
        write_all(fd, line, Sync::Durable).map_err(|source| io_error("append", rel, source))?;
        if size == 0 {
            // The file may have just been created: its name must be as durable as its line.
            let (parent, _) = split_parent(rel);
            oplog::fsync(self.dir(parent)?.as_fd())
                .map_err(|errno| StoreError::from_errno("fsync", parent, errno))?;
        }
        Ok(())
    }

    /// `rel` as a directory to work in; the root itself costs no system call.
    fn dir(&self, rel: &str) -> Result<DirFd<'_>, StoreError> {
        if rel == "." {
            Ok(DirFd::Root(self.root.as_fd()))
        } else {
            open_dir(self.root.as_fd(), rel).map(DirFd::Opened)
        }
    }

    /// Opens the directory a file is written into, recreating it (and its parents) if someone
    /// removed it while the server runs.
    fn open_parent_dir(&self, parent_rel: &str) -> Result<DirFd<'_>, StoreError> {
        match self.dir(parent_rel) {
            Err(error) if error.is_not_found() => {
                self.create_dir_all(parent_rel)?;
                self.dir(parent_rel)
            }
            other => other,
        }
    }

    /// Names in directory `rel` (not `.`/`..`), sorted as JavaScript sorts strings. Names that
    /// are not UTF-8 are skipped: the store never creates them. A missing directory is empty.
    pub fn list(&self, rel: &str) -> Result<Vec<String>, StoreError> {
        match self.dir(rel) {
            Ok(dir) => read_names(dir, rel),
            Err(error) if error.is_not_found() => Ok(Vec::new()),
            Err(error) => Err(error),
        }
    }

    /// The names of [`Store::list`] that end in `suffix`, shared with later calls for as
    /// long as the directory is unchanged (see `listcache`): a record directory is read from
    /// the kernel once, not on every listing.
    pub fn list_suffixed(&self, rel: &str, suffix: &str) -> Result<Arc<Vec<String>>, StoreError> {
        let dir = match self.dir(rel) {
            Ok(dir) => dir,
            Err(error) if error.is_not_found() => return Ok(Arc::default()),
            Err(error) => return Err(error),
        };
        // Taken before listing: a change made while listing moves the stamp past this one.
        let stat =
            fs::fstat(dir.as_fd()).map_err(|errno| StoreError::from_errno("stat", rel, errno))?;
        let stamp = Stamp::of(&stat);
        if let Some(names) = self.listings.get(rel, suffix, &stamp) {
            return Ok(names);
        }
        let mut names = read_names(dir, rel)?;
        names.retain(|name| name.ends_with(suffix));
        let names = Arc::new(names);
        self.listings.put(rel, suffix, stamp, &names);
        Ok(names)
    }

    /// Directory entries of `rel` with their types (symlinks reported, never followed).
    pub(crate) fn list_typed(&self, rel: &str) -> Result<Vec<(String, FileType)>, StoreError> {
        let entries = listing(self.dir(rel)?, rel)?;
        let mut out = Vec::new();
        for entry in entries.flatten() {
            if let Ok(name) = entry.file_name().to_str() {
                if name != "." && name != ".." {
                    out.push((name.to_string(), entry.file_type()));
                }
            }
        }
        Ok(out)
    }

    /// Renames within the tree (both ends beneath the root, neither followed if a symlink).
    pub fn rename(&self, from: &str, to: &str) -> Result<(), StoreError> {
        check_relative(from)?;
        check_relative(to)?;
        let (from_parent, from_name) = split_parent(from);
        let (to_parent, to_name) = split_parent(to);
        let source = self.dir(from_parent)?;
        let target = self.dir(to_parent)?;
        oplog::renameat(
            source.as_fd(),
            from_name,
            target.as_fd(),
            to_name,
            fs::RenameFlags::empty(),
        )
        .map_err(|errno| StoreError::from_errno("rename", from, errno))?;
        oplog::fsync(target.as_fd())
            .map_err(|errno| StoreError::from_errno("fsync", to_parent, errno))
    }

    /// Removes a file (a symlink is removed itself, never its target). Absent is fine.
    pub fn remove(&self, rel: &str) -> Result<(), StoreError> {
        check_relative(rel)?;
        let (parent, name) = split_parent(rel);
        let dir = self.dir(parent)?;
        match oplog::unlinkat(dir.as_fd(), name) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(errno) => Err(StoreError::from_errno("remove", rel, errno)),
        }
    }

    /// Creates `rel` with `content` unless the name is taken (`Ok(false)`). The content is
    /// complete before the name appears, so a crash can never leave a half-written lock file.
    pub(crate) fn create_exclusive(&self, rel: &str, content: &[u8]) -> Result<bool, StoreError> {
        // Lock files only need to be whole, not durable: after a power loss an empty one is
        // reclaimed at once and a stale one by age (see the lock module).
        self.write_durably(rel, content, Placement::CreateNew, Sync::PageCache)
    }

    /// Opens a directory beneath the root, for flock.
    pub(crate) fn open_dir_fd(&self, rel: &str) -> Result<OwnedFd, StoreError> {
        open_dir(self.root.as_fd(), rel)
    }

    /// Whether a contract output path exists. `rel` is relative to the *project* directory
    /// and must already have been checked to stay inside it lexically. The probe is an
    /// `O_PATH` `openat2` beneath the project fd with `RESOLVE_NO_SYMLINKS`: it reads nothing,
    /// Landlock does not restrict it (so it works under confinement), and a symlink anywhere
    /// on the path answers "missing" instead of revealing whether something exists outside
    /// the project (the original followed links).
    pub fn output_exists(&self, rel: &str) -> bool {
        let target = if rel.is_empty() { "." } else { rel };
        oplog::openat2(
            self.project.as_fd(),
            target,
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            super::open::resolve_flags(),
        )
        .is_ok()
    }
}

/// How [`Store::write_durably`] places the finished temp file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    Replace,
    CreateNew,
}

/// Whether a write waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sync {
    Durable,
    PageCache,
}

/// A writer that refuses to take more than `limit` bytes.
struct Capped<W> {
    inner: W,
    written: u64,
    limit: u64,
    exceeded: bool,
}

impl<W: Write> Write for Capped<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.written + bytes.len() as u64 > self.limit {
            self.exceeded = true;
            return Err(std::io::Error::other("file size limit"));
        }
        let count = self.inner.write(bytes)?;
        self.written += count as u64;
        Ok(count)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Fills a new file through a buffer; content past `limit` bytes is refused
/// ([`StoreError::WouldExceed`]), before it is placed.
fn write_with(
    fd: OwnedFd,
    sync: Sync,
    rel: &str,
    limit: u64,
    fill: &mut dyn FnMut(&mut dyn Write) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut out = Capped {
        inner: std::io::BufWriter::with_capacity(64 * 1024, LoggedFile(File::from(fd))),
        written: 0,
        limit,
        exceeded: false,
    };
    let filled = fill(&mut out);
    if out.exceeded {
        return Err(StoreError::WouldExceed {
            path: rel.to_string(),
            limit,
        });
    }
    filled?;
    let file = out
        .inner
        .into_inner()
        .map_err(|error| io_error("write", rel, error.into_error()))?;
    if sync == Sync::Durable {
        file.sync_all()
            .map_err(|source| io_error("fsync", rel, source))?;
    }
    Ok(())
}

fn write_all(fd: OwnedFd, bytes: &[u8], sync: Sync) -> std::io::Result<()> {
    let mut file = LoggedFile(File::from(fd));
    file.write_all(bytes)?;
    if sync == Sync::Durable {
        file.sync_all()?;
    }
    Ok(())
}

/// Truncates the file to just after its last newline (or to empty if it has none).
fn cut_partial_line(fd: BorrowedFd<'_>, rel: &str, size: u64) -> Result<(), StoreError> {
    const WINDOW: u64 = 64 * 1024;
    let mut end = size;
    let mut buffer = vec![0u8; WINDOW as usize];
    while end > 0 {
        let start = end.saturating_sub(WINDOW);
        let chunk = &mut buffer[..(end - start) as usize];
        let read = fs::seek(fd, fs::SeekFrom::Start(start))
            .and_then(|_| rustix::io::read(fd, &mut *chunk))
            .map_err(|errno| StoreError::from_errno("read", rel, errno))?;
        if let Some(newline) = chunk[..read].iter().rposition(|b| *b == b'\n') {
            return oplog::ftruncate(fd, start + newline as u64 + 1)
                .map_err(|errno| StoreError::from_errno("truncate", rel, errno));
        }
        end = start;
    }
    oplog::ftruncate(fd, 0).map_err(|errno| StoreError::from_errno("truncate", rel, errno))
}

/// What identifies one version of a file cheaply: a file replaced by a rename has a new inode,
/// and one rewritten in place has a new size or modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, i64),
}

impl FileId {
    fn of(stat: &fs::Stat) -> FileId {
        FileId {
            dev: stat.st_dev,
            ino: stat.st_ino,
            size: stat.st_size as u64,
            mtime: (stat.st_mtime, stat.st_mtime_nsec as i64),
        }
    }

    /// The same file (dev, inode), whatever its size or time.
    pub fn same_file(&self, other: &FileId) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

/// A file opened for reading by [`Store::open_read`]: a regular file with one link, read
/// sequentially from any offset or at positions, so a large file need never be held whole.
#[derive(Debug)]
pub struct ReadFile {
    file: File,
    id: FileId,
    rel: String,
}

impl ReadFile {
    /// The path it was opened by, relative to the harness directory.
    pub fn rel(&self) -> &str {
        &self.rel
    }

    /// The identity of the opened file, taken when it was opened.
    pub fn id(&self) -> FileId {
        self.id
    }

    /// A buffered reader starting at `offset`.
    pub fn reader_from(&mut self, offset: u64) -> Result<impl std::io::BufRead + '_, StoreError> {
        use std::io::{Seek, SeekFrom};
        self.file
            .seek(SeekFrom::Start(offset))
            .map_err(|source| io_error("seek", &self.rel, source))?;
        Ok(std::io::BufReader::with_capacity(64 * 1024, &self.file))
    }

    /// `len` bytes at `offset`.
    pub fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, StoreError> {
        use std::os::unix::fs::FileExt;
        let mut bytes = vec![0u8; len];
        self.file
            .read_exact_at(&mut bytes, offset)
            .map_err(|source| io_error("read", &self.rel, source))?;
        Ok(bytes)
    }
}

impl Store {
    /// The identity of `rel` from a metadata-only stat (never follows a symlink); `None` if
    /// absent.
    pub fn file_id(&self, rel: &str) -> Result<Option<FileId>, StoreError> {
        check_relative(rel)?;
        let (parent, name) = split_parent(rel);
        let dir = match self.dir(parent) {
            Ok(dir) => dir,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(error) => return Err(error),
        };
        match fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(FileId::of(&stat))),
            Err(Errno::NOENT) => Ok(None),
            Err(errno) => Err(StoreError::from_errno("stat", rel, errno)),
        }
    }

    /// Opens `rel` for streaming reads, with the checks of [`Store::read`] (regular file, one
    /// link, at most [`Store::file_limit`]); `Ok(None)` when it does not exist.
    pub fn open_read(&self, rel: &str) -> Result<Option<ReadFile>, StoreError> {
        // O_NONBLOCK: opening a planted FIFO must not hang the server; it is refused below.
        let fd = match open_beneath(
            self.root.as_fd(),
            rel,
            OFlags::RDONLY | OFlags::NONBLOCK,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(error) => return Err(error),
        };
        let stat = check_regular(fd.as_fd(), rel)?;
        if stat.st_size as u64 > self.file_limit() {
            return Err(StoreError::TooLarge {
                path: rel.to_string(),
                limit: self.file_limit(),
            });
        }
        Ok(Some(ReadFile {
            file: File::from(fd),
            id: FileId::of(&stat),
            rel: rel.to_string(),
        }))
    }

    /// [`Store::write_atomic`] with the content produced by `fill` into a buffered writer, so
    /// a large file is never held whole in memory. Returns the new file's identity.
    pub fn write_atomic_with(
        &self,
        rel: &str,
        fill: &mut dyn FnMut(&mut dyn Write) -> Result<(), StoreError>,
    ) -> Result<FileId, StoreError> {
        self.write_durably_with(rel, Placement::Replace, Sync::Durable, fill)?;
        self.file_id(rel)?.ok_or_else(|| StoreError::Io {
            op: "stat",
            path: rel.to_string(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::sort_utf16;

    #[test]
    fn names_sort_in_utf16_order_on_both_paths() {
        let utf16 = |names: &[&str]| {
            let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            expected.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            let mut sorted: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            sort_utf16(&mut sorted);
            assert_eq!(sorted, expected);
        };
        utf16(&[
            "b.json", "a-2.json", "a.json", "A.json", "é.json", "\u{D7FF}",
        ]);
        // U+FF61 sorts after an astral character in UTF-16, before it in UTF-8.
        utf16(&["\u{FF61}.json", "\u{1F600}.json", "z.json", "\u{E000}"]);
    }
}

//! Store errors. Paths in messages are relative to `.codex-harness/`, so an error never carries
//! the project's absolute location (the protocol layer redacts again, as a second line).

use std::io;

#[derive(Debug)]
pub enum StoreError {
    /// A symlink was met where the kernel was told to refuse one.
    Symlink { path: String },
    /// A path tried to leave the harness directory.
    Escape { path: String },
    /// The entry exists but is not what the store will read or write (FIFO, device, directory
    /// where a file should be, a file with several hard links).
    NotRegular { path: String, what: &'static str },
    /// A file is larger than the store reads into memory.
    TooLarge { path: String, limit: u64 },
    /// A write or append would make a file larger than the store reads back.
    WouldExceed { path: String, limit: u64 },
    /// A JSON record could not be parsed.
    Corrupt { path: String, reason: String },
    /// A lock was held by someone else for too long.
    LockTimeout { kind: &'static str, waited_ms: u64 },
    /// The client cancelled the request while it waited for a lock.
    LockWaitCancelled { kind: &'static str },
    /// Any other system error, with the operation that failed.
    Io {
        op: &'static str,
        path: String,
        source: io::Error,
    },
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Symlink { path } => {
                write!(
                    f,
                    "Refusing to follow a symlink in the harness directory: {path}"
                )
            }
            StoreError::Escape { path } => write!(f, "Path escapes harness root: {path}"),
            StoreError::NotRegular { path, what } => {
                write!(f, "Refusing to use {path}: it is {what}")
            }
            StoreError::TooLarge { path, limit } => {
                write!(f, "Refusing to read {path}: larger than {limit} bytes")
            }
            StoreError::WouldExceed { path, limit } => write!(
                f,
                "Refusing to write {path}: it would exceed {limit} bytes, the largest file the server reads back; nothing was written"
            ),
            StoreError::Corrupt { path, reason } => write!(f, "Invalid JSON in {path}: {reason}"),
            StoreError::LockTimeout { kind, waited_ms } => {
                write!(f, "harness {kind} lock timeout after {waited_ms}ms")
            }
            StoreError::LockWaitCancelled { kind } => {
                write!(f, "harness {kind} lock wait cancelled by the client")
            }
            StoreError::Io { op, path, source } => write!(f, "{op} {path}: {source}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    /// Maps a raw errno from an operation on `path` to the most precise variant.
    pub(crate) fn from_errno(op: &'static str, path: &str, errno: rustix::io::Errno) -> StoreError {
        let path = path.to_string();
        match errno {
            rustix::io::Errno::LOOP => StoreError::Symlink { path },
            rustix::io::Errno::XDEV => StoreError::Escape { path },
            other => StoreError::Io {
                op,
                path,
                source: io::Error::from(other),
            },
        }
    }

    /// True when the error means "no such file": callers treat that as "absent".
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

//! Cross-process locks.
//!
//! The lock itself is `flock(2)` on a directory of the tree (the harness root for state, the
//! `knowledge/` directory for the index): the kernel releases it when the holder dies, so a
//! crashed server never makes the next one wait. While holding it, we also create the Node
//! server's lock file (`.state.lock` / `.knowledge-index.lock`, `O_EXCL`) so a Node 0.2.0
//! server sharing the project waits for us and we wait for it. Our lock files carry a
//! third line, `flock`: finding one while holding the flock proves its writer is dead, so it
//! is removed at once; a Node lock file is honoured until it is 30 s old, as Node does. An
//! empty lock file more than a moment old (or dated in the future) is a power cut's leftover
//! (the name reached the disk, the unsynced content did not) and is removed at once too.

use super::error::StoreError;
use super::oplog::flock;
use super::Store;
use crate::clock::{epoch_ms, now_iso};
use rustix::fs::FlockOperation;
use rustix::io::Errno;
use std::cell::RefCell;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

/// What runs between two attempts at a held lock instead of a plain sleep: given how long
/// the lock has been awaited and how long to pause, it pauses and says whether to keep
/// waiting (`false`: the request was cancelled).
pub type LockWait = Box<dyn FnMut(Duration, Duration) -> bool>;

thread_local! {
    static LOCK_WAIT: RefCell<Option<LockWait>> = const { RefCell::new(None) };
}

/// Runs `run` with `wait` called between lock attempts made on this thread.
pub fn with_lock_wait<R>(wait: LockWait, run: impl FnOnce() -> R) -> R {
    let previous = LOCK_WAIT.with(|slot| slot.replace(Some(wait)));
    let result = run();
    LOCK_WAIT.with(|slot| *slot.borrow_mut() = previous);
    result
}

/// Give up waiting for a lock after this long (the original's figure).
pub const LOCK_TIMEOUT_MS: u64 = 8_000;
/// A Node lock file older than this is considered abandoned (the original's figure).
pub const LOCK_STALE_MS: i64 = 30_000;
/// An empty lock file is a live holder's only between its creation and its write: Node
/// writes right after `open(O_EXCL)` and we place ours whole. One whose mtime is further than
/// this from now, either way, was left by a power cut.
const EMPTY_LOCK_GRACE_MS: i64 = 1_000;
/// Marker line identifying lock files written by this server.
const FLOCK_MARKER: &str = "flock";

/// Which lock. State comes first whenever both are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    State,
    KnowledgeIndex,
}

impl LockKind {
    fn lock_file(self) -> &'static str {
        match self {
            LockKind::State => ".state.lock",
            LockKind::KnowledgeIndex => ".knowledge-index.lock",
        }
    }

    fn flock_dir(self) -> &'static str {
        match self {
            LockKind::State => ".",
            LockKind::KnowledgeIndex => "knowledge",
        }
    }

    fn label(self) -> &'static str {
        match self {
            LockKind::State => "state",
            LockKind::KnowledgeIndex => "knowledge-index",
        }
    }
}

/// A held lock; dropping it releases both the lock file and the flock.
#[derive(Debug)]
pub struct LockGuard<'a> {
    store: &'a Store,
    kind: LockKind,
    _flocked: OwnedFd,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Best effort: if this fails the file carries our marker and the next holder of the
        // flock removes it immediately.
        let _ = self.store.remove(self.kind.lock_file());
    }
}

/// Longest pause between two attempts at a held lock.
const MAX_BACKOFF_US: u64 = 32_000;

/// Pauses before retry number `attempt`: 0.5 ms doubling up to 32 ms, with up to 50% random
/// jitter so contending servers do not retry in lockstep. (The original slept 25–99 ms from
/// the first retry, which caps a contended project at a few dozen writes a second.) With a
/// [`LockWait`] installed it does the pausing; `false` means the wait was cancelled.
fn backoff(attempt: u32, waited: Duration) -> bool {
    let base = (500u64 << attempt.min(6)).min(MAX_BACKOFF_US);
    let mut byte = [0u8; 1];
    let jitter = getrandom::fill(&mut byte)
        .map(|()| base * u64::from(byte[0]) / 510)
        .unwrap_or(base / 4);
    let pause = Duration::from_micros(base + jitter);
    let hooked = LOCK_WAIT.with(|slot| slot.borrow_mut().as_mut().map(|wait| wait(waited, pause)));
    hooked.unwrap_or_else(|| {
        std::thread::sleep(pause);
        true
    })
}

impl Store {
    /// Takes `kind`, waiting at most [`LOCK_TIMEOUT_MS`] (or the store's shorter timeout).
    pub fn lock(&self, kind: LockKind) -> Result<LockGuard<'_>, StoreError> {
        let started = Instant::now();
        let timeout = || StoreError::LockTimeout {
            kind: kind.label(),
            waited_ms: u64::try_from(self.lock_timeout.as_millis()).unwrap_or(u64::MAX),
        };
        let cancelled = || StoreError::LockWaitCancelled { kind: kind.label() };
        if kind == LockKind::KnowledgeIndex {
            self.create_dir_all("knowledge")?;
        }
        let dir = self.open_dir_fd(kind.flock_dir())?;
        let mut attempt = 0;
        loop {
            match flock(dir.as_fd(), FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => break,
                Err(Errno::WOULDBLOCK) | Err(Errno::INTR) => {}
                Err(errno) => return Err(StoreError::from_errno("lock", kind.lock_file(), errno)),
            }
            if started.elapsed() > self.lock_timeout {
                return Err(timeout());
            }
            if !backoff(attempt, started.elapsed()) {
                return Err(cancelled());
            }
            attempt += 1;
        }
        let content = format!("{}\n{}\n{FLOCK_MARKER}\n", std::process::id(), now_iso());
        loop {
            if self.create_exclusive(kind.lock_file(), content.as_bytes())? {
                return Ok(LockGuard {
                    store: self,
                    kind,
                    _flocked: dir,
                });
            }
            if self.lock_file_is_abandoned(kind)? {
                self.remove(kind.lock_file())?;
                continue;
            }
            if started.elapsed() > self.lock_timeout {
                return Err(timeout());
            }
            if !backoff(attempt, started.elapsed()) {
                return Err(cancelled());
            }
            attempt += 1;
        }
    }

    /// A lock file we may delete: ours (we hold the flock, so its writer is gone), an empty one
    /// dated more than [`EMPTY_LOCK_GRACE_MS`] from now, or Node's and older than
    /// [`LOCK_STALE_MS`]. A vanished file counts as abandoned (retry at once).
    fn lock_file_is_abandoned(&self, kind: LockKind) -> Result<bool, StoreError> {
        let content = match self.read(kind.lock_file()) {
            Ok(Some(content)) => content,
            Ok(None) => return Ok(true),
            // A lock "file" that is a symlink, FIFO or directory is never ours to remove.
            Err(error) => return Err(error),
        };
        let ours = String::from_utf8_lossy(&content).lines().nth(2) == Some(FLOCK_MARKER);
        if ours {
            return Ok(true);
        }
        Ok(match self.modified_ms(kind.lock_file())? {
            Some(modified) if content.is_empty() => {
                (epoch_ms() - modified).abs() > EMPTY_LOCK_GRACE_MS
            }
            Some(modified) => epoch_ms() - modified > LOCK_STALE_MS,
            None => true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock held by another open of the same project (flock is per open file description).
    #[test]
    fn a_shortened_lock_timeout_is_used_and_never_lengthened() {
        let project = std::env::temp_dir().join(format!("chm-lock-timeout-{}", std::process::id()));
        let holder = Store::open(&project).expect("open");
        let held = holder.lock(LockKind::State).expect("lock");
        let default = Duration::from_millis(LOCK_TIMEOUT_MS);
        for (asked, kept) in [
            (Duration::from_millis(20), Duration::from_millis(20)),
            (default, default),
            (default * 2, default),
        ] {
            let store = Store::open(&project)
                .expect("open")
                .with_lock_timeout(asked);
            assert_eq!(store.lock_timeout, kept, "{asked:?}");
        }
        let short = Store::open(&project)
            .expect("open")
            .with_lock_timeout(Duration::from_millis(20));
        let started = Instant::now();
        let error = short.lock(LockKind::State).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("harness state lock timeout after 20ms")
        );
        assert!(
            started.elapsed() < default,
            "waited {:?}",
            started.elapsed()
        );
        drop(held);
        let _ = std::fs::remove_dir_all(&project);
    }
}

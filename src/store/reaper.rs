//! Removal of orphaned temp files left by a crash in the middle of an atomic write.
//!
//! A temp file is an orphan when it is older than [`TEMP_MAX_AGE_MS`] (the original's rule)
//! or when the process whose pid is in its name no longer exists. The liveness check is
//! `kill(pid, 0)`, which the seccomp filter allows with signal 0 only; under Landlock's signal
//! scoping a process outside our domain answers `EPERM`, which still means "exists". A pid
//! reused by an unrelated live process only makes us keep a file.
//!
//! Reaping walks every record directory, which at 200,000 knowledge items is a quarter of a
//! second of `getdents`; so the server runs it at its first idle pause (or at exit), never
//! before its first reply. Until then an orphan is only a file no tool can see: record names
//! end in `.json`/`.jsonl` and a temp name never does.

use super::EntryKind;
use super::Store;
use crate::clock::epoch_ms;

/// Temp files older than this are orphans (no live write takes that long).
pub const TEMP_MAX_AGE_MS: i64 = 5 * 60 * 1000;
/// Directory levels below the root that are examined (root = 0), as the original does.
pub const REAPER_MAX_DEPTH: usize = 3;

/// The writer's pid if `name` is `<anything>.tmp.<digits>.<hex>`, the temp names this server
/// and the Node server create.
pub(crate) fn temp_owner(name: &str) -> Option<u32> {
    let mut parts = name.rsplitn(3, '.');
    let (Some(hex), Some(pid), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let well_formed = rest.ends_with(".tmp")
        && !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit());
    // An absurd pid still marks a temp name; it names no process.
    well_formed.then(|| pid.parse().unwrap_or(0))
}

/// Whether a process with this pid exists (`kill(pid, 0)`; EPERM means it exists).
pub fn process_exists(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

impl Store {
    /// Deletes orphaned regular temp files down to [`REAPER_MAX_DEPTH`]: older than
    /// [`TEMP_MAX_AGE_MS`], or written by a process for which `is_alive` says no. Symlinks are
    /// neither followed nor deleted. Errors are ignored: reaping is hygiene, and must never
    /// stop the server from starting. Returns how many files were removed.
    pub fn reap_temp_files(&self, is_alive: &dyn Fn(u32) -> bool) -> usize {
        let now = epoch_ms();
        let mut removed = 0;
        // Reaping is hygiene: an unreadable root only means nothing is reaped.
        let _ = self.walk(
            REAPER_MAX_DEPTH,
            |entry| {
                if entry.kind != EntryKind::File {
                    return true;
                }
                let Some(owner) = temp_owner(&entry.name) else {
                    return true;
                };
                let old = self
                    .modified_ms(&entry.rel)
                    .ok()
                    .flatten()
                    .is_some_and(|modified| now - modified > TEMP_MAX_AGE_MS);
                if (old || !is_alive(owner)) && self.remove(&entry.rel).is_ok() {
                    removed += 1;
                }
                true
            },
            |_, _| {},
        );
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::{process_exists, temp_owner};

    #[test]
    fn temp_names_match_the_original_pattern() {
        assert_eq!(temp_owner("state.json.tmp.1234.deadbeef"), Some(1234));
        assert_eq!(temp_owner("x.tmp.1.a"), Some(1));
        assert_eq!(temp_owner("state.json"), None);
        assert_eq!(temp_owner("x.tmp.12a.beef"), None);
        assert_eq!(temp_owner("x.tmp.12.BEEF"), None);
        assert_eq!(temp_owner("x.tmpx.12.beef"), None);
    }

    #[test]
    fn liveness_check_sees_this_process_and_not_a_free_pid() {
        assert!(process_exists(std::process::id()));
        assert!(!process_exists(0));
        assert!(!process_exists(u32::MAX));
    }
}

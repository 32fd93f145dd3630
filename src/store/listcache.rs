//! Remembered directory listings: the sorted names of a record directory that end in a
//! suffix, kept while the directory stays the same, so a family of 100,000 records is read
//! from the kernel once and not on every listing.
//!
//! "The same" is the directory's device, inode, modification and change times, taken with
//! `fstat` on the opened directory *before* it is listed: any entry created, removed or
//! renamed in it (by this process or any other, Node included) moves both times. The change
//! time cannot be set back by a user (`utimensat` moves it to now), so a listing cannot be
//! kept by forging times. A listing is kept only once its directory's change time is at
//! least [`SETTLE_NS`] in the past: a change within the same timestamp tick as the one
//! already seen would leave the times equal, so the listing of a directory that just changed
//! is used once and not remembered.
//!
//! It must never: hand out a listing taken before the directory's current times, or keep
//! anything but names (records are always opened and checked by the store).

use rustix::fs::Stat;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// How long a directory must have been unchanged for its listing to be remembered: far
/// above any filesystem timestamp granularity (a jiffy on Linux, 2 s on FAT).
const SETTLE_NS: i128 = 3_000_000_000;

/// What identifies one state of a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    dev: u64,
    ino: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    pub(super) fn of(stat: &Stat) -> Stamp {
        Stamp {
            dev: stat.st_dev,
            ino: stat.st_ino,
            mtime: (stat.st_mtime, stat.st_mtime_nsec as i64),
            ctime: (stat.st_ctime, stat.st_ctime_nsec as i64),
        }
    }

    /// True when the directory last changed at least [`SETTLE_NS`] before `now_ns`.
    fn settled(&self, now_ns: i128) -> bool {
        let changed = i128::from(self.ctime.0) * 1_000_000_000 + i128::from(self.ctime.1);
        now_ns - changed >= SETTLE_NS
    }
}

/// A kept listing: the directory state it was taken in, and the names.
type Kept = (Stamp, Arc<Vec<String>>);

/// The remembered listings of one store, by directory and suffix.
#[derive(Debug, Default)]
pub(super) struct ListCache {
    entries: Mutex<HashMap<(String, String), Kept>>,
}

impl ListCache {
    /// The listing of `rel` (names ending in `suffix`) taken in the state `stamp`, if kept.
    pub(super) fn get(&self, rel: &str, suffix: &str, stamp: &Stamp) -> Option<Arc<Vec<String>>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&(rel.to_string(), suffix.to_string()))
            .filter(|(kept, _)| kept == stamp)
            .map(|(_, names)| Arc::clone(names))
    }

    /// Keeps `names`, listed after `stamp` was taken, when the directory has settled; a
    /// listing of an unsettled directory drops what was kept for it.
    pub(super) fn put(&self, rel: &str, suffix: &str, stamp: Stamp, names: &Arc<Vec<String>>) {
        let key = (rel.to_string(), suffix.to_string());
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if stamp.settled(now_ns()) {
            entries.insert(key, (stamp, Arc::clone(names)));
        } else {
            entries.remove(&key);
        }
    }
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(ctime_s: i64) -> Stamp {
        Stamp {
            dev: 1,
            ino: 2,
            mtime: (ctime_s, 0),
            ctime: (ctime_s, 0),
        }
    }

    #[test]
    fn a_listing_is_kept_only_for_a_settled_directory_and_its_exact_state() {
        let cache = ListCache::default();
        let names = Arc::new(vec!["a.json".to_string()]);
        let now_s = (now_ns() / 1_000_000_000) as i64;
        cache.put("gates", ".json", stamp(now_s), &names);
        assert!(
            cache.get("gates", ".json", &stamp(now_s)).is_none(),
            "just changed"
        );
        cache.put("gates", ".json", stamp(now_s - 60), &names);
        assert_eq!(
            cache.get("gates", ".json", &stamp(now_s - 60)),
            Some(names.clone())
        );
        assert!(
            cache.get("gates", ".json", &stamp(now_s - 59)).is_none(),
            "changed since"
        );
        assert!(
            cache.get("gates", ".md", &stamp(now_s - 60)).is_none(),
            "other suffix"
        );
        // A later, unsettled listing forgets the kept one.
        cache.put("gates", ".json", stamp(now_s), &names);
        assert!(cache.get("gates", ".json", &stamp(now_s - 60)).is_none());
    }
}

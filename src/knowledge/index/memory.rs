//! The in-memory index: what ranking, listing and paging read, so that none of them re-reads
//! a file. It is built once per process by streaming every segment and the journal (see
//! [`super`]), and kept current before each use at the cost of a directory listing and a
//! `stat`:
//!
//! * the sealed segments must still be those it read, in order (a rebuild or a removal
//!   changes them: everything is reloaded); new segments are read, and one that is the
//!   journal it was following (the same inode: a seal is a rename) is read on from where it
//!   stopped;
//! * the journal's new complete lines are read from the offset where the last read stopped;
//! * index.json is read only when its identity is neither one this process read nor the one
//!   the export mark names (the last index.json a server of ours wrote): the entries another
//!   writer (a Node server) added are appended to the journal (ingested), so they become
//!   ours; a corrupt or oversized one makes a rebuild from the item files.
//!
//! Entries are compact ([`super::compact`]): ids and terms packed end to end in one buffer
//! each, found through maps that hold only a hash and a number; `ts` as a number; tag ids in
//! one shared list; and the place of the entry's line (segment, offset, length), so a page
//! of the index reads exactly its lines. Field lengths, time rank and liveness sit in a
//! dense array of their own. An inverted map (term id → (entry slot, frequency in each
//! field, saturated at 255), 9 bytes an occurrence) holds the ranking statistics. Slots
//! keep fold order while the files are read (an entry replaced by a later one with the same
//! id is retired and the replacement takes a new slot; the retired entry's postings are
//! dropped before the next use); after a load they are renumbered in time order, keeping
//! fold order among equal times, so ties break as a fold of the files would, and
//! neighbouring slots have neighbouring times (a rebuild folds the item files in name order).
//!
//! **Ranking is pruned, and exact.** A query returns the best `k` entries in the order
//! (score descending, then newer, then slot ascending), scores rounded to four decimals.
//!
//! * *The bound.* The slots are cut into windows ([`super::postings`]); for each window and
//!   term the index knows the largest frequency in each field and the smallest field length
//!   among the window's entries with that term, so [`Ranker::term_bound`] gives what the
//!   term can add at most to the score of any entry of the window (BM25F grows with the
//!   frequency and falls with the length, field by field). An entry scores at most the sum
//!   of the bounds of the terms it has. Each window also knows the latest time of its slots.
//! * *What may be skipped.* Windows are scored newest slot first, so every entry not yet
//!   scored has a smaller slot than every kept one. Once `k` are kept, a set of entries can
//!   be skipped when its bound, rounded as scores are after a relative margin of 10⁻⁹
//!   (float rounding moves a score by a few ulps, never that much), is below the worst kept
//!   score, or equal to it while none of the set is as new as the worst kept entry: each
//!   then ranks below all `k` kept ones. (An equal score and time would not be enough: its
//!   smaller slot would rank it above.)
//! * *How.* A whole window is skipped when the sum of all the query terms' bounds in it
//!   cannot enter. Otherwise max-score: the terms of smallest bounds whose sum cannot enter
//!   are not essential, and only the entries of the essential terms' postings are
//!   candidates (one that has only the others cannot enter); a candidate is dropped before
//!   the other terms' postings are searched when the bounds of the terms it has, plus all
//!   the non-essential ones, cannot enter. A candidate is scored with all its terms, exactly
//!   as an exhaustive merge scores it.
//!
//! Nothing else is skipped, so the result is exactly that of scoring every posting; a
//! property test compares the two on random corpora and queries, with filters, retired
//! entries, renumbering, and ties.
//!
//! The index lives in a thread-local (the server is single-threaded), keyed by the harness
//! directory it describes. It must never be used with the index lock held by the caller
//! except through the `_locked` paths here, which never take it again.

use super::compact::{Stamp, Stamps, StrMap, Strings};
use super::postings::{
    extend_windows, window_of, window_slots, windows_of, Frequencies, Postings, Run, Window,
    LONG_LIST,
};
use super::{
    export_locked, is_own_export, ranked_entry, read_rank, rebuild_locked, scan_index, scan_lines,
    seal_if_due_locked, segments, EntryReader, RankedEntry, INDEX_FILE, JOURNAL_FILE,
};
use crate::harness::records::Skipped;
use crate::harness::ToolError;
use crate::knowledge::{Bm25Params, Ranker};
use crate::log;
use crate::sanitize::js_string;
use crate::store::{FileId, LockKind, Store, StoreError};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BinaryHeap, HashMap};
use std::path::PathBuf;

/// One indexed item. Its terms are in the postings, and what ranking reads for every
/// candidate is in [`Hot`], not here.
#[derive(Clone, Copy)]
struct Entry {
    ts: Stamp,
    /// Its id: string `id` of [`KnowledgeCache::ids`].
    id: u32,
    /// Its lowercased tags, as tag ids: `tag_count` of them from `tags` in
    /// [`KnowledgeCache::tag_list`].
    tags: u32,
    tag_count: u16,
    /// Its line: the source it was read from, offset and length.
    source: u32,
    offset: u32,
    length: u32,
}

/// What ranking reads of each candidate entry, kept apart from [`Entry`] so that a query over
/// many postings touches 28 bytes per entry.
#[derive(Clone, Copy)]
struct Hot {
    lengths: [u32; 5],
    /// The dense rank of `ts` among live entries (equal times, equal ranks), once in order.
    time: u32,
    /// False once a later entry with the same id replaced it.
    live: bool,
}

/// A file the index was read from: a sealed segment, or the journal.
struct Source {
    path: String,
    id: FileId,
    /// Where its unread part starts.
    offset: u64,
}

/// How one synchronisation attempt ended.
enum Synced {
    Current,
    /// A file it followed changed under it in a way a retry may explain (a seal in between).
    Retry,
    /// Something it read is gone: reload everything.
    Reload,
}

/// The in-memory index of one harness directory.
pub struct KnowledgeCache {
    harness: PathBuf,
    /// Whether the files have been read at all.
    loaded: bool,
    sources: Vec<Source>,
    /// Which source is the journal, if it exists.
    journal: Option<usize>,
    entries: Vec<Entry>,
    hot: Vec<Hot>,
    /// The entries' ids, and the latest slot of each id.
    ids: Strings,
    slots: StrMap,
    stamps: Stamps,
    tag_list: Vec<u32>,
    /// Each term id's term, and the id of each term.
    terms: Strings,
    dictionary: StrMap,
    /// For each term id, the entries that have it.
    postings: Vec<Postings>,
    /// The window bounds of the terms with long lists.
    windows: HashMap<u32, Vec<Window>>,
    /// For each window, the latest `time` of its slots (of every slot, live or not, so that
    /// it is never below the latest live one), and how many slots it accounts for.
    window_time: Vec<u32>,
    timed: usize,
    /// Whether an entry was retired since its postings were last purged.
    retired: bool,
    /// Lowercased tag → tag id.
    tag_ids: HashMap<Box<str>, u32>,
    /// Field lengths summed over live entries, and their number.
    total_lengths: [u64; 5],
    live: usize,
    /// Live slots by (`ts`, slot), once `in_order`.
    by_time: Vec<u32>,
    in_order: bool,
    /// The identity of an index.json whose entries are all in the segments.
    ingested: Option<FileId>,
    /// Whether this process recorded since it last wrote index.json.
    unexported: bool,
}

thread_local! {
    static CACHE: RefCell<Option<KnowledgeCache>> = const { RefCell::new(None) };
}

/// Runs `f` on the cache of `store`'s harness directory, in its slot (created if needed).
fn with_slot<T>(
    store: &Store,
    f: impl FnOnce(&mut KnowledgeCache) -> Result<T, ToolError>,
) -> Result<T, ToolError> {
    CACHE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let cache = match &mut *slot {
            Some(cache) if cache.harness == store.harness_path() => cache,
            other => other.insert(KnowledgeCache::new(store)),
        };
        f(cache)
    })
}

/// Runs `f` on the index of `store`'s harness directory, synchronised with the files
/// (the caller must not hold the index lock).
pub fn with_cache<T>(
    store: &Store,
    f: impl FnOnce(&KnowledgeCache) -> Result<T, ToolError>,
) -> Result<T, ToolError> {
    with_slot(store, |cache| {
        cache.sync(store)?;
        cache.ingest(store)?;
        f(cache)
    })
}

/// Records one segment line: appends it to the journal under the index lock, seals the
/// journal if it is due, and after a seal rewrites index.json. The line is durable when this
/// returns `Ok`; a failed export only delays what a Node server sees (a warning, retried at
/// the next seal or exit).
pub fn record(store: &Store, line: &str) -> Result<(), ToolError> {
    with_cache(store, |_| Ok(()))?;
    let _lock = store.lock(LockKind::KnowledgeIndex)?;
    super::append_locked(store, line)?;
    let sealed = seal_if_due_locked(store)?;
    with_slot(store, |cache| {
        cache.unexported = true;
        cache.sync_locked(store)?;
        if sealed.is_some() {
            cache.export_or_warn(store, "after a seal");
        }
        Ok(())
    })
}

/// Writes index.json if this process recorded since it last did, or the journal changed
/// after index.json was written (a server was killed before it exported): at an idle pause
/// and at exit, so a Node server sees the newest items. Two `stat`s when nothing is pending.
pub fn export_if_pending(store: &Store) -> Result<(), ToolError> {
    let recorded = with_slot(store, |cache| Ok(cache.loaded && cache.unexported))?;
    let journal = store.file_id(JOURNAL_FILE)?.filter(|id| id.size > 0);
    let left = match (journal, store.file_id(INDEX_FILE)?) {
        (Some(journal), Some(index)) => journal.mtime > index.mtime,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if recorded || left {
        export(store)?;
    }
    Ok(())
}

/// Writes index.json from the current index.
pub fn export(store: &Store) -> Result<(), ToolError> {
    with_cache(store, |_| Ok(()))?;
    let _lock = store.lock(LockKind::KnowledgeIndex)?;
    with_slot(store, |cache| {
        cache.sync_locked(store)?;
        cache.export_locked(store)
    })
}

/// Rebuilds the segments from the item files, reloads, and writes index.json; returns how
/// many items were indexed and the item files left out.
pub fn rebuild(store: &Store) -> Result<(usize, Vec<Skipped>), ToolError> {
    let rebuilt = {
        let _lock = store.lock(LockKind::KnowledgeIndex)?;
        rebuild_locked(store)?
    };
    with_slot(store, |cache| {
        cache.loaded = false;
        Ok(())
    })?;
    export(store)?;
    Ok(rebuilt)
}

impl KnowledgeCache {
    fn new(store: &Store) -> KnowledgeCache {
        KnowledgeCache::empty(store.harness_path().to_path_buf())
    }

    fn empty(harness: PathBuf) -> KnowledgeCache {
        KnowledgeCache {
            harness,
            loaded: false,
            sources: Vec::new(),
            journal: None,
            entries: Vec::new(),
            hot: Vec::new(),
            ids: Strings::default(),
            slots: StrMap::default(),
            stamps: Stamps::default(),
            tag_list: Vec::new(),
            terms: Strings::default(),
            dictionary: StrMap::default(),
            postings: Vec::new(),
            windows: HashMap::new(),
            window_time: Vec::new(),
            timed: 0,
            retired: false,
            tag_ids: HashMap::new(),
            total_lengths: [0; 5],
            live: 0,
            by_time: Vec::new(),
            in_order: true,
            ingested: None,
            unexported: false,
        }
    }

    /// Brings the index up to date with the segments and the journal (index lock not held).
    fn sync(&mut self, store: &Store) -> Result<(), ToolError> {
        for _ in 0..3 {
            if !self.loaded {
                self.reload(store)?;
            }
            match self.follow(store)? {
                Synced::Current => return self.finish(),
                Synced::Retry => continue,
                Synced::Reload => self.loaded = false,
            }
        }
        self.reload(store)?;
        self.finish()
    }

    /// As [`Self::sync`] with the index lock held: nothing can change meanwhile, so a file
    /// that moved means a reload, done here (reloading takes no lock).
    fn sync_locked(&mut self, store: &Store) -> Result<(), ToolError> {
        if self.loaded && matches!(self.follow(store)?, Synced::Current) {
            return self.finish();
        }
        self.reload(store)?;
        self.finish()
    }

    /// Reads what was added since the last read.
    fn follow(&mut self, store: &Store) -> Result<Synced, ToolError> {
        let listed = segments(store)?;
        let known: Vec<&str> = self
            .sources
            .iter()
            .enumerate()
            .filter(|(n, _)| Some(*n) != self.journal)
            .map(|(_, source)| source.path.as_str())
            .collect();
        let mut unseen = Vec::new();
        for (_, path) in &listed {
            if !known.contains(&path.as_str()) {
                unseen.push(path.clone());
            }
        }
        if known.len() + unseen.len() != listed.len() {
            return Ok(Synced::Reload);
        }
        for path in unseen {
            let Some(mut file) = store.open_read(&path)? else {
                return Ok(Synced::Reload);
            };
            let id = file.id();
            let followed = self.journal.filter(|n| self.sources[*n].id.same_file(&id));
            let source = match followed {
                Some(n) => {
                    self.journal = None;
                    self.sources[n].path = path;
                    n
                }
                None => {
                    self.sources.push(Source {
                        path,
                        id,
                        offset: 0,
                    });
                    self.sources.len() - 1
                }
            };
            self.read_source(&mut file, source)?;
        }
        let journal = store.open_read(JOURNAL_FILE)?;
        match (self.journal, journal) {
            (Some(_), None) => Ok(Synced::Retry),
            (Some(n), Some(mut file)) => {
                let id = file.id();
                if !self.sources[n].id.same_file(&id) || id.size < self.sources[n].offset {
                    return Ok(Synced::Retry);
                }
                self.read_source(&mut file, n)?;
                Ok(Synced::Current)
            }
            (None, Some(mut file)) => {
                self.sources.push(Source {
                    path: JOURNAL_FILE.to_string(),
                    id: file.id(),
                    offset: 0,
                });
                self.journal = Some(self.sources.len() - 1);
                self.read_source(&mut file, self.sources.len() - 1)?;
                Ok(Synced::Current)
            }
            (None, None) => Ok(Synced::Current),
        }
    }

    /// Reads source `n` on from where its last read stopped.
    fn read_source(
        &mut self,
        file: &mut crate::store::ReadFile,
        n: usize,
    ) -> Result<(), ToolError> {
        let from = self.sources[n].offset;
        let end = scan_lines(file, from, &mut |offset, line| {
            if let Some(entry) = ranked_entry(line) {
                self.upsert(entry, n as u32, offset, line.len());
            }
        })?;
        self.sources[n].offset = end;
        self.sources[n].id = file.id();
        Ok(())
    }

    /// Reloads everything from the segments and the journal.
    fn reload(&mut self, store: &Store) -> Result<(), ToolError> {
        let keep = (self.ingested, self.unexported);
        for _ in 0..3 {
            *self = KnowledgeCache::new(store);
            (self.ingested, self.unexported) = keep;
            self.loaded = true;
            if !matches!(self.follow(store)?, Synced::Reload) {
                break;
            }
        }
        self.finish()?;
        self.renumber();
        self.compact();
        Ok(())
    }

    /// Returns the growth slack of a fresh load (a third of the memory at 200,000 items),
    /// but for an eighth on each large array: cut to the byte, the first record after a load
    /// would reallocate them all at once, and the copies would raise the peak more.
    fn compact(&mut self) {
        fn headroom<T>(items: &mut Vec<T>) {
            items.shrink_to(items.len() + items.len() / 8);
        }
        for postings in &mut self.postings {
            postings.shrink_to_fit();
        }
        headroom(&mut self.postings);
        headroom(&mut self.entries);
        headroom(&mut self.hot);
        headroom(&mut self.by_time);
        headroom(&mut self.tag_list);
        self.ids.shrink_to_headroom();
        self.terms.shrink_to_headroom();
    }

    /// Renumbers the live entries in time order (their order in `by_time`) and drops the
    /// retired ones, after a load. Ranking is unchanged: it orders by time before slot, and
    /// `by_time` keeps fold order among equal times. But a rebuild folds the item files in
    /// name order, not time order, so without this every window would hold recent entries
    /// and pruning could skip none of them on ties. In place but for a slot map.
    fn renumber(&mut self) {
        let live = self.by_time.len();
        let mut old_of = std::mem::take(&mut self.by_time);
        let mut new_of = vec![u32::MAX; self.entries.len()];
        for (new, old) in old_of.iter().enumerate() {
            new_of[*old as usize] = new as u32;
        }
        // Retired slots go last, to be cut off.
        old_of
            .extend((0..self.entries.len() as u32).filter(|old| new_of[*old as usize] == u32::MAX));
        permute(&mut self.entries, &old_of);
        permute(&mut self.hot, &old_of);
        self.entries.truncate(live);
        self.hot.truncate(live);
        self.slots.renumber(|old| new_of[old as usize]);
        let hot = &self.hot;
        self.windows.clear();
        for (term, postings) in self.postings.iter_mut().enumerate() {
            postings.renumber(|old| new_of[old as usize]);
            if postings.len() >= LONG_LIST {
                let windows = windows_of(postings, |slot| hot[slot as usize].lengths);
                self.windows.insert(term as u32, windows);
            }
        }
        self.by_time = (0..live as u32).collect();
        self.window_time.clear();
        self.timed = 0;
        self.retired = false;
    }

    /// Puts the live slots back in time order after changes, drops the postings of retired
    /// entries (so that a list's length is its document frequency) and brings the windows'
    /// latest times up to date.
    fn finish(&mut self) -> Result<(), ToolError> {
        if self.retired {
            let hot = &self.hot;
            for postings in &mut self.postings {
                postings.retain(|slot| hot[slot as usize].live);
            }
            self.retired = false;
        }
        if !self.in_order {
            self.window_time.clear();
            self.timed = 0;
            let (entries, hot, stamps) = (&self.entries, &self.hot, &self.stamps);
            self.by_time.retain(|slot| hot[*slot as usize].live);
            self.by_time.sort_by(|a, b| {
                stamps
                    .cmp(entries[*a as usize].ts, entries[*b as usize].ts)
                    .then(a.cmp(b))
            });
            let mut time = 0;
            for n in 0..self.by_time.len() {
                let slot = self.by_time[n] as usize;
                if n > 0 && self.entries[self.by_time[n - 1] as usize].ts != self.entries[slot].ts {
                    time += 1;
                }
                self.hot[slot].time = time;
            }
            self.in_order = true;
        }
        for slot in self.timed..self.hot.len() {
            let window = window_of(slot as u32);
            if self.window_time.len() <= window {
                self.window_time.resize(window + 1, 0);
            }
            self.window_time[window] = self.window_time[window].max(self.hot[slot].time);
        }
        self.timed = self.hot.len();
        Ok(())
    }

    /// Folds in what another writer added to index.json (index lock not held): entries whose
    /// id the segments lack are appended to the journal. A corrupt index.json, or one larger
    /// than the store reads, makes a rebuild from the item files (and an export replaces it).
    fn ingest(&mut self, store: &Store) -> Result<(), ToolError> {
        let Some(current) = store.file_id(INDEX_FILE)? else {
            return Ok(());
        };
        if Some(current) == self.ingested {
            return Ok(());
        }
        if is_own_export(store, &current)? {
            self.ingested = Some(current);
            return Ok(());
        }
        let lock = store.lock(LockKind::KnowledgeIndex)?;
        self.sync_locked(store)?;
        let mut file = match store.open_read(INDEX_FILE) {
            Ok(Some(file)) => file,
            Ok(None) => return Ok(()),
            Err(StoreError::TooLarge { path, limit }) => {
                log::line(format_args!(
                    "codex-harness-mcp: {path} is larger than {limit} bytes: not read; the index is rebuilt from the item files"
                ));
                return self.rebuild_and_export(store, lock);
            }
            Err(error) => return Err(error.into()),
        };
        let read = file.id();
        let mut failure = None;
        let mut added = 0usize;
        let scanned = scan_index(&mut file, &mut |_, _, entry| {
            let id = entry.get("id").map(js_string).unwrap_or_default();
            if failure.is_some() || id.is_empty() || self.slot_of(&id).is_some() {
                return;
            }
            let appended = super::append_locked(store, &super::entry_line(&entry))
                .and_then(|()| seal_if_due_locked(store).map(drop));
            match appended {
                Ok(()) => added += 1,
                Err(error) => failure = Some(error),
            }
        })?;
        if let Some(error) = failure {
            return Err(error);
        }
        if scanned.is_none() {
            return self.rebuild_and_export(store, lock);
        }
        self.ingested = Some(read);
        if added > 0 {
            self.unexported = true;
            self.sync_locked(store)?;
        }
        Ok(())
    }

    fn rebuild_and_export(
        &mut self,
        store: &Store,
        lock: crate::store::LockGuard<'_>,
    ) -> Result<(), ToolError> {
        rebuild_locked(store)?;
        self.reload(store)?;
        self.finish()?;
        self.export_locked(store)?;
        drop(lock);
        Ok(())
    }

    /// Writes index.json from the live entries, newest first (index lock held).
    fn export_locked(&mut self, store: &Store) -> Result<(), ToolError> {
        let mut newest_first = self.by_time.iter().rev().map(|slot| {
            let entry = &self.entries[*slot as usize];
            (
                self.sources[entry.source as usize].path.clone(),
                u64::from(entry.offset),
                entry.length as usize,
            )
        });
        let written = export_locked(store, &mut newest_first)?;
        self.ingested = Some(written);
        self.unexported = false;
        Ok(())
    }

    fn export_or_warn(&mut self, store: &Store, when: &str) {
        if let Err(error) = self.export_locked(store) {
            log::line(format_args!(
                "codex-harness-mcp: warning: index.json not rewritten {when}: {}",
                error.0
            ));
        }
    }

    fn tag_id(&mut self, tag: &str) -> u32 {
        if let Some(id) = self.tag_ids.get(tag) {
            return *id;
        }
        let id = self.tag_ids.len() as u32;
        self.tag_ids.insert(tag.into(), id);
        id
    }

    fn term_id(&mut self, term: &str) -> u32 {
        if let Some(id) = self.term(term) {
            return id;
        }
        let id = self.terms.push(term);
        let terms = &self.terms;
        self.dictionary.insert(term, id, |n| terms.get(n));
        self.postings.push(Postings::default());
        id
    }

    fn term(&self, term: &str) -> Option<u32> {
        self.dictionary.get(term, |n| self.terms.get(n))
    }

    /// The latest slot of `id`.
    fn slot_of(&self, id: &str) -> Option<u32> {
        self.slots.get(id, |slot| self.id(slot))
    }

    /// The id of `slot`.
    fn id(&self, slot: u32) -> &str {
        self.ids.get(self.entries[slot as usize].id)
    }

    /// The tag ids of `slot`.
    fn tags(&self, slot: u32) -> &[u32] {
        let entry = &self.entries[slot as usize];
        let start = entry.tags as usize;
        &self.tag_list[start..start + usize::from(entry.tag_count)]
    }

    /// Adds an index entry at a new slot; an entry with the same id is retired (its postings
    /// stay but are skipped), as a fold puts the replacement last.
    fn upsert(&mut self, value: RankedEntry, source: u32, offset: u64, length: usize) {
        let RankedEntry { id, ts, tags, rank } = value;
        let slot = self.entries.len() as u32;
        if let Some(old) = self.slot_of(&id) {
            let old = &mut self.hot[old as usize];
            old.live = false;
            for (total, length) in self.total_lengths.iter_mut().zip(old.lengths) {
                *total -= u64::from(length);
            }
            self.live -= 1;
            self.in_order = false;
            self.retired = true;
        }
        let mut terms: Vec<(u32, Frequencies)> = Vec::new();
        let lengths = read_rank(&rank, &mut |term, frequencies| {
            let term = self.term_id(term);
            terms.push((
                term,
                frequencies.map(|n| u8::try_from(n).unwrap_or(u8::MAX)),
            ));
        });
        // A term named twice counts once, as its last statistics (as a decoded rank has it).
        terms.reverse();
        terms.sort_by_key(|(term, _)| *term);
        terms.dedup_by_key(|(term, _)| *term);
        for (term, frequencies) in terms {
            let postings = &mut self.postings[term as usize];
            postings.push(slot, frequencies);
            if let Some(windows) = self.windows.get_mut(&term) {
                extend_windows(windows, slot, frequencies, lengths);
            } else if postings.len() >= LONG_LIST {
                let hot = &self.hot;
                let windows = windows_of(postings, |s| match hot.get(s as usize) {
                    Some(hot) => hot.lengths,
                    None => lengths,
                });
                self.windows.insert(term, windows);
            }
        }
        for (total, length) in self.total_lengths.iter_mut().zip(lengths) {
            *total += u64::from(length);
        }
        self.live += 1;
        let (ids, entries) = (&self.ids, &self.entries);
        self.slots
            .insert(&id, slot, |slot| ids.get(entries[slot as usize].id));
        let id = self.ids.push(&id);
        let ts = self.stamps.stamp(&ts);
        let last = self.by_time.last().map(|last| *last as usize);
        let time = match last.map(|last| (self.entries[last].ts, self.hot[last].time)) {
            Some((last, time)) => match self.stamps.cmp(last, ts) {
                std::cmp::Ordering::Greater => {
                    self.in_order = false;
                    0
                }
                std::cmp::Ordering::Equal => time,
                std::cmp::Ordering::Less => time + 1,
            },
            None => 0,
        };
        self.by_time.push(slot);
        let start = u32::try_from(self.tag_list.len()).unwrap_or(u32::MAX);
        let tag_count = u16::try_from(tags.len()).unwrap_or(u16::MAX);
        for tag in tags.iter().take(usize::from(tag_count)) {
            let tag = self.tag_id(tag);
            self.tag_list.push(tag);
        }
        self.entries.push(Entry {
            ts,
            id,
            tags: start,
            tag_count,
            source,
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
            length: u32::try_from(length).unwrap_or(0),
        });
        self.hot.push(Hot {
            lengths,
            time,
            live: true,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// How many items are indexed.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Ids of the newest `limit` entries, newest first (ties in index order).
    pub fn recent(&self, limit: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut slots = self.by_time.iter().rev().peekable();
        while out.len() < limit {
            let Some(first) = slots.next() else { break };
            // A run of equal times, in index order.
            let ts = self.entries[*first as usize].ts;
            let mut run = vec![*first];
            while let Some(next) = slots.next_if(|s| self.entries[**s as usize].ts == ts) {
                run.push(*next);
            }
            run.reverse();
            out.extend(run.iter().map(|slot| self.id(*slot).to_string()));
        }
        out.truncate(limit);
        out
    }

    /// Ids of the entries `start..end` in time order (all of them: `0..usize::MAX`).
    pub fn ids(&self, start: usize, end: usize) -> Vec<String> {
        self.by_time
            .iter()
            .skip(start)
            .take(end.saturating_sub(start))
            .map(|slot| self.id(*slot).to_string())
            .collect()
    }

    /// The entries `start..start + count` in time order, read from their lines.
    pub fn page(&self, store: &Store, start: usize, count: usize) -> Result<Vec<Value>, ToolError> {
        let mut reader = EntryReader::new(store);
        let mut out = Vec::new();
        for slot in self.by_time.iter().skip(start).take(count) {
            let entry = &self.entries[*slot as usize];
            let path = &self.sources[entry.source as usize].path;
            if let Some(value) =
                reader.entry(path, u64::from(entry.offset), entry.length as usize)?
            {
                out.push(value);
            }
        }
        Ok(out)
    }

    /// The tag ids an entry must carry one of, or `None` for no tag filter. A tag the index
    /// has never seen has no id, so a filter of unknown tags admits nothing.
    fn tag_filter(&self, tags: &[String]) -> Option<Vec<u32>> {
        (!tags.is_empty()).then(|| {
            tags.iter()
                .filter_map(|tag| self.tag_ids.get(tag.as_str()).copied())
                .collect()
        })
    }

    /// Ranks entries for weighted query `terms`: the best `limit` as (score, id), best first,
    /// then newest, then in index order.
    /// `everything` scores every entry 1, `unscored` every entry 0 (the original's rules for
    /// an empty query and a query of stop words); otherwise only entries sharing a term with
    /// the query are scored and those above zero kept. `tags` (lowercase) filters entries; the
    /// collection statistics are those of the filtered set.
    ///
    /// Scoring is pruned by window (see the module doc): the result is exactly that of
    /// scoring every posting of the query's terms.
    pub fn rank(
        &self,
        terms: &[(String, f64)],
        tags: &[String],
        everything: bool,
        unscored: bool,
        limit: usize,
    ) -> Vec<(f64, String)> {
        let wanted = self.tag_filter(tags);
        let filter = wanted.as_deref();
        let mut top = TopK::new(limit);
        if everything || unscored {
            let score = if everything { 1.0 } else { 0.0 };
            for slot in 0..self.entries.len() as u32 {
                if self.admits(filter, slot) {
                    top.offer(self.candidate(score, slot));
                }
            }
        } else {
            self.pruned(terms, filter, &mut top);
        }
        top.into_best()
            .into_iter()
            .map(|c| (c.score, self.id(c.slot).to_string()))
            .collect()
    }

    /// Whether `slot` is live and passes the tag filter (any of the `filter` tag ids).
    fn admits(&self, filter: Option<&[u32]>, slot: u32) -> bool {
        self.hot[slot as usize].live
            && filter.is_none_or(|wanted| self.tags(slot).iter().any(|tag| wanted.contains(tag)))
    }

    fn candidate(&self, score: f64, slot: u32) -> Candidate {
        Candidate {
            score,
            time: self.hot[slot as usize].time,
            slot,
        }
    }

    /// Each query term's list (with its term id) and the collection statistics of the
    /// admitted entries.
    fn statistics(
        &self,
        terms: &[(String, f64)],
        filter: Option<&[u32]>,
    ) -> (Vec<Option<(u32, &Postings)>>, Ranker) {
        let lists: Vec<Option<(u32, &Postings)>> = terms
            .iter()
            .map(|(term, _)| {
                let id = self.term(term)?;
                Some((id, &self.postings[id as usize]))
            })
            .collect();
        // Lists hold live entries only (retired ones are purged), so unfiltered their length
        // is the document frequency.
        let df: Vec<usize> = lists
            .iter()
            .map(|list| match (list, filter) {
                (None, _) => 0,
                (Some((_, list)), None) => list.len(),
                (Some((_, list)), Some(_)) => list
                    .iter()
                    .filter(|(slot, _)| self.admits(filter, *slot))
                    .count(),
            })
            .collect();
        let ranker = match filter {
            None => Ranker::new(self.live, self.total_lengths, &df, Bm25Params::default()),
            Some(_) => {
                let mut documents = 0;
                let mut totals = [0u64; 5];
                for slot in (0..self.hot.len() as u32).filter(|slot| self.admits(filter, *slot)) {
                    documents += 1;
                    for (total, length) in totals.iter_mut().zip(self.hot[slot as usize].lengths) {
                        *total += u64::from(length);
                    }
                }
                Ranker::new(documents, totals, &df, Bm25Params::default())
            }
        };
        (lists, ranker)
    }

    /// Scores the admitted entries of `runs` (one per query term, each slots ascending), each
    /// entry once with all its terms, and offers those above zero to `top`. Candidates are
    /// the entries of the runs marked essential, merged by slot; an entry of the others only
    /// is never looked at, so together their bounds must not be able to enter `top` (the
    /// caller's max-score split). A candidate whose bound (`bounds` of the runs it is in,
    /// plus all the other runs') cannot enter either is dropped before the other runs are
    /// searched for it.
    #[allow(clippy::too_many_arguments)]
    fn merge(
        &self,
        runs: &[Run<'_>],
        essential: &[bool],
        bounds: &[f64],
        terms: &[(String, f64)],
        ranker: &Ranker,
        filter: Option<&[u32]>,
        top: &mut TopK,
    ) {
        let others: f64 = (0..runs.len())
            .filter(|n| !essential[*n])
            .map(|n| bounds[n])
            .sum();
        let mut cursors = vec![0usize; runs.len()];
        let mut found: Vec<Option<[u32; 5]>> = vec![None; runs.len()];
        loop {
            let mut next = None;
            for n in (0..runs.len()).filter(|n| essential[*n]) {
                if cursors[n] < runs[n].len() {
                    let slot = runs[n].slot(cursors[n]);
                    next = Some(next.map_or(slot, |next: u32| next.min(slot)));
                }
            }
            let Some(slot) = next else { break };
            let mut bound = others;
            for n in (0..runs.len()).filter(|n| essential[*n]) {
                found[n] = None;
                if cursors[n] < runs[n].len() && runs[n].slot(cursors[n]) == slot {
                    found[n] = Some(runs[n].frequencies(cursors[n]).map(u32::from));
                    cursors[n] += 1;
                    bound += bounds[n];
                }
            }
            if filter.is_some() && !self.admits(filter, slot) {
                continue;
            }
            if others > 0.0 && !top.can_beat(bound, self.hot[slot as usize].time) {
                continue;
            }
            for n in (0..runs.len()).filter(|n| !essential[*n]) {
                let run = &runs[n];
                while cursors[n] < run.len() && run.slot(cursors[n]) < slot {
                    cursors[n] += 1;
                }
                found[n] = (cursors[n] < run.len() && run.slot(cursors[n]) == slot)
                    .then(|| run.frequencies(cursors[n]).map(u32::from));
            }
            let frequencies = terms.iter().zip(&found).map(|((_, w), f)| (*w, *f));
            let score = rounded(ranker.score(self.hot[slot as usize].lengths, frequencies));
            if score > 0.0 {
                top.offer(self.candidate(score, slot));
            }
        }
    }

    /// The pruned ranking: windows newest first, each skipped when its bound shows that no
    /// entry in it can displace the worst of a full `top`, and otherwise scored from its
    /// essential terms only (see the module doc). Returns how many entries it scored or
    /// bounded one by one (what the tests read to see that it prunes).
    fn pruned(&self, terms: &[(String, f64)], filter: Option<&[u32]>, top: &mut TopK) -> usize {
        let (lists, ranker) = self.statistics(terms, filter);
        let windows = self.window_time.len();
        // Each term's bound in each window.
        let mut bounds = vec![vec![0.0f64; lists.len()]; windows];
        for (n, ((_, weight), list)) in terms.iter().zip(&lists).enumerate() {
            let Some((id, list)) = list else { continue };
            let mut add = |window: &Window| {
                if let Some(bounds) = bounds.get_mut(window.window as usize) {
                    bounds[n] =
                        ranker.term_bound(n, *weight, window.max_frequencies, window.min_lengths);
                }
            };
            match self.windows.get(id) {
                Some(windows) => windows.iter().for_each(&mut add),
                None => windows_of(list, |slot| self.hot[slot as usize].lengths)
                    .iter()
                    .for_each(&mut add),
            }
        }
        let mut runs: Vec<Run<'_>> = vec![Run::default(); lists.len()];
        let mut order: Vec<usize> = (0..lists.len()).collect();
        let mut essential = vec![true; lists.len()];
        let mut scored = 0;
        for window in (0..windows).rev() {
            let bounds = &bounds[window];
            let latest = self.window_time[window];
            if !top.can_beat(bounds.iter().sum(), latest) {
                continue;
            }
            // Max-score: the terms of smallest bounds that together cannot enter are not
            // essential; an entry that has none of the others need not be looked at.
            order.sort_by(|a, b| bounds[*a].total_cmp(&bounds[*b]));
            essential.fill(true);
            let mut sum = 0.0;
            for n in &order {
                sum += bounds[*n];
                if top.can_beat(sum, latest) {
                    break;
                }
                essential[*n] = false;
            }
            let (start, end) = window_slots(window);
            for (run, list) in runs.iter_mut().zip(&lists) {
                *run = list
                    .map(|(_, list)| list.range(start, end))
                    .unwrap_or_default();
            }
            scored += (0..runs.len())
                .filter(|n| essential[*n])
                .map(|n| runs[n].len())
                .sum::<usize>();
            self.merge(&runs, &essential, bounds, terms, &ranker, filter, top);
        }
        scored
    }
}

/// The relative margin added to a window's bound before it is compared: far above what float
/// rounding can make a score exceed its bound by (a few ulps per term).
const BOUND_MARGIN: f64 = 1e-9;

/// A scored entry; the greater of two is the worse (ranking order: score descending, then
/// newer, then index order), so that a max-heap keeps the worst of the best on top.
#[derive(Clone, Copy)]
struct Candidate {
    score: f64,
    time: u32,
    slot: u32,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(other.time.cmp(&self.time))
            .then(self.slot.cmp(&other.slot))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Candidate {}

/// The best `limit` candidates offered so far.
struct TopK {
    limit: usize,
    heap: BinaryHeap<Candidate>,
}

impl TopK {
    fn new(limit: usize) -> TopK {
        TopK {
            limit,
            heap: BinaryHeap::with_capacity(limit.min(64)),
        }
    }

    fn offer(&mut self, candidate: Candidate) {
        if self.heap.len() < self.limit {
            self.heap.push(candidate);
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if candidate < *worst {
                *worst = candidate;
            }
        }
    }

    /// The worst kept candidate, once `limit` are kept.
    fn worst(&self) -> Option<&Candidate> {
        self.heap.peek().filter(|_| self.heap.len() >= self.limit)
    }

    /// Whether an entry whose score is at most `bound`, no newer than `time` and of a slot
    /// below those kept (they are scored newest slot first) could still be kept: it must
    /// score above zero, and once `limit` are kept, above the worst or as much while at
    /// least as new (then its smaller slot ranks it first). The bound is rounded as scores
    /// are, after [`BOUND_MARGIN`].
    fn can_beat(&self, bound: f64, time: u32) -> bool {
        if bound.is_nan() || bound <= 0.0 || self.limit == 0 {
            return false;
        }
        let Some(worst) = self.worst() else {
            return true;
        };
        let bound = rounded(bound * (1.0 + BOUND_MARGIN));
        bound > worst.score || (bound == worst.score && time >= worst.time)
    }

    fn into_best(self) -> Vec<Candidate> {
        self.heap.into_sorted_vec()
    }
}

/// Reorders `items` so that item `n` is the one that was at `order[n]` (`order` is a
/// permutation of the indices), in place: each cycle of the permutation is followed once.
fn permute<T: Copy>(items: &mut [T], order: &[u32]) {
    let mut done = vec![false; items.len()];
    for start in 0..items.len() {
        if done[start] {
            continue;
        }
        let first = items[start];
        let mut at = start;
        loop {
            done[at] = true;
            let from = order[at] as usize;
            if from == start {
                items[at] = first;
                break;
            }
            items[at] = items[from];
            at = from;
        }
    }
}

fn rounded(score: f64) -> f64 {
    (score * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    impl KnowledgeCache {
        /// The oracle: every admitted posting of the query's terms scored in one merge, then
        /// the best `limit` selected (the ranking before pruning).
        fn rank_exhaustive(
            &self,
            terms: &[(String, f64)],
            tags: &[String],
            limit: usize,
        ) -> Vec<(f64, String)> {
            let wanted = self.tag_filter(tags);
            let filter = wanted.as_deref();
            let (lists, ranker) = self.statistics(terms, filter);
            let runs: Vec<Run<'_>> = lists
                .iter()
                .map(|list| {
                    list.map(|(_, list)| list.range(0, u32::MAX))
                        .unwrap_or_default()
                })
                .collect();
            let mut all = TopK::new(usize::MAX);
            let everything = vec![true; runs.len()];
            let bounds = vec![0.0; runs.len()];
            self.merge(
                &runs,
                &everything,
                &bounds,
                terms,
                &ranker,
                filter,
                &mut all,
            );
            let mut scored = all.into_best();
            scored.truncate(limit);
            scored
                .into_iter()
                .map(|c| (c.score, self.id(c.slot).to_string()))
                .collect()
        }
    }

    /// A seeded xorshift generator: the same corpora on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }
    }

    const VOCABULARY: [&str; 8] = ["cach", "flaki", "test", "timeout", "build", "e1", "e2", "x"];
    const TAGS: [&str; 4] = ["red", "green", "blue", "area-1"];

    /// A random `rank` string, often one of a few shared ones (equal scores, and bounds that
    /// equal a score: the cases where pruning must break ties as the exhaustive ranking does).
    fn statistics(rng: &mut Rng, skewed: bool) -> String {
        let profile = rng.below(8);
        let mut own = Rng(if profile < 3 {
            0x5151 + profile as u64
        } else {
            rng.next() | 1
        });
        let rng = &mut own;
        let lengths: Vec<u32> = (0..5).map(|_| rng.below(12) as u32).collect();
        let mut rank = lengths
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        for term in VOCABULARY {
            // Skewed corpora make a few terms common, as real ones have.
            let percent = if skewed && term.len() > 4 { 70 } else { 25 };
            if rng.chance(percent) {
                let frequencies: Vec<String> = (0..5)
                    .map(|_| {
                        if rng.chance(40) {
                            let most = if rng.chance(5) { 300 } else { 4 };
                            (1 + rng.below(most)).to_string()
                        } else {
                            "0".to_string()
                        }
                    })
                    .collect();
                rank.push_str(&format!(" {term}:{}", frequencies.join(",")));
            }
        }
        rank
    }

    /// A random entry: ids from a small pool (so later entries replace earlier ones), times
    /// from a small pool (ties, and out of order), tags and statistics.
    fn entry(rng: &mut Rng, skewed: bool) -> RankedEntry {
        let rank = statistics(rng, skewed);
        let tags = TAGS
            .iter()
            .filter(|_| rng.chance(30))
            .map(|t| t.to_string())
            .collect();
        let days = if rng.chance(80) { 3 } else { 9 };
        RankedEntry {
            id: format!("k-{}", rng.below(60)),
            // Now and then a time not in the canonical form (kept as text, ordered as text).
            ts: if rng.chance(10) {
                format!("2026-01-0{}", 1 + rng.below(days))
            } else {
                format!("2026-01-0{}T00:00:00.000Z", 1 + rng.below(days))
            },
            tags,
            rank,
        }
    }

    fn query(rng: &mut Rng) -> (Vec<(String, f64)>, Vec<String>) {
        let mut terms = Vec::new();
        for _ in 0..1 + rng.below(5) {
            let term = if rng.chance(10) {
                "absent".to_string()
            } else {
                VOCABULARY[rng.below(VOCABULARY.len())].to_string()
            };
            let weight = [1.0, 0.5, 1.5, 2.0][rng.below(4)];
            terms.push((term, weight));
        }
        let tags = if rng.chance(30) {
            let mut tags: Vec<String> = TAGS
                .iter()
                .filter(|_| rng.chance(40))
                .map(|t| t.to_string())
                .collect();
            if rng.chance(20) {
                tags.push("unknown".into());
            }
            tags
        } else {
            Vec::new()
        };
        (terms, tags)
    }

    fn same(pruned: &[(f64, String)], exhaustive: &[(f64, String)]) -> bool {
        pruned.len() == exhaustive.len()
            && pruned
                .iter()
                .zip(exhaustive)
                .all(|(a, b)| a.0.to_bits() == b.0.to_bits() && a.1 == b.1)
    }

    #[test]
    fn pruned_ranking_is_exactly_the_exhaustive_one() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut compared = 0;
        let mut nonempty = 0;
        let mut renumbered = 0;
        for corpus in 0..300 {
            let mut cache = KnowledgeCache::empty(PathBuf::from("corpus"));
            let skewed = corpus % 2 == 0;
            let size = 1 + rng.below(if corpus % 10 == 0 { 400 } else { 80 });
            for n in 0..size {
                let value = entry(&mut rng, skewed);
                cache.upsert(value, 0, n as u64, 1);
                // Rank between records too: the window bounds and times are kept up to date
                // incrementally, not only after a load.
                if rng.chance(3) || n + 1 == size {
                    cache.finish().unwrap();
                    for _ in 0..10 {
                        let (terms, tags) = query(&mut rng);
                        let limit = 1 + rng.below(20);
                        let pruned = cache.rank(&terms, &tags, false, false, limit);
                        let exhaustive = cache.rank_exhaustive(&terms, &tags, limit);
                        assert!(
                            same(&pruned, &exhaustive),
                            "corpus {corpus} at {n}: {terms:?} {tags:?} k={limit}\n\
                             pruned {pruned:?}\nexhaustive {exhaustive:?}"
                        );
                        compared += 1;
                        nonempty += usize::from(!exhaustive.is_empty());
                    }
                    // A load renumbers the slots in time order: the same rankings after it.
                    if rng.chance(40) {
                        let queries: Vec<_> = (0..5)
                            .map(|_| (query(&mut rng), 1 + rng.below(20)))
                            .collect();
                        let rank = |cache: &KnowledgeCache| -> Vec<Vec<(f64, String)>> {
                            queries
                                .iter()
                                .map(|((terms, tags), k)| cache.rank(terms, tags, false, false, *k))
                                .collect()
                        };
                        let (before, recent, ids) =
                            (rank(&cache), cache.recent(10), cache.ids(0, usize::MAX));
                        cache.renumber();
                        cache.finish().unwrap();
                        assert_eq!(rank(&cache), before, "corpus {corpus} at {n}");
                        assert_eq!(cache.recent(10), recent);
                        assert_eq!(cache.ids(0, usize::MAX), ids);
                        renumbered += 1;
                    }
                }
            }
        }
        // The comparisons must include both outcomes, or they show little.
        assert!(compared > 3_000 && nonempty > compared / 2 && nonempty < compared);
        assert!(renumbered > 100);
    }

    #[test]
    fn pruning_skips_windows_that_cannot_enter() {
        // Equal entries in many windows, newest last: the top 5 come from the newest window,
        // and every older window is skipped, whatever its bound.
        let mut cache = KnowledgeCache::empty(PathBuf::from("ties"));
        for n in 0..200 {
            let value = RankedEntry {
                id: format!("k-{n}"),
                ts: format!("2026-01-01T00:00:{:02}.{:03}Z", n / 1000, n % 1000),
                tags: Vec::new(),
                rank: "2,0,0,0,5 flaki:1,0,0,0,1 test:1,0,0,0,0".into(),
            };
            cache.upsert(value, 0, n, 1);
        }
        cache.finish().unwrap();
        let terms = vec![("flaki".to_string(), 1.0), ("test".to_string(), 1.0)];
        let mut top = TopK::new(5);
        // 200 slots in windows of 4: the newest two windows are scored (the second because
        // its bound ties the worst kept and its newest entry is as new), 2 × 4 entries with
        // both terms; the other 48 windows not.
        assert_eq!(cache.pruned(&terms, None, &mut top), 16);
        let best: Vec<u32> = top.into_best().iter().map(|c| c.slot).collect();
        assert_eq!(best, vec![199, 198, 197, 196, 195]);
        assert_eq!(
            cache.rank(&terms, &[], false, false, 5),
            cache.rank_exhaustive(&terms, &[], 5)
        );
    }
}

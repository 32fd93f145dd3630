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
//! Entries are compact: id, `ts`, tag ids (for the tag filter) and the place of their line
//! (segment, offset, length), so a page of the index reads exactly its lines; field lengths,
//! time order and liveness sit in a dense array of their own. Terms are interned once in a
//! dictionary, and an inverted map (term id → (entry slot, frequency in each field,
//! saturated at 255), 9 bytes an occurrence) holds the ranking statistics, so a query only
//! touches the entries that share a term with it, merging the query terms' postings by slot. Slots keep fold order (an entry
//! replaced by a later one with the same id is retired and the replacement takes a new
//! slot), so ties break as a fold of the files would. Live slots are also kept in time order.
//!
//! The index lives in a thread-local (the server is single-threaded), keyed by the harness
//! directory it describes. It must never be used with the index lock held by the caller
//! except through the `_locked` paths here, which never take it again.

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
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

/// One indexed item. Its terms are in the postings, and what ranking reads for every
/// candidate is in [`Hot`], not here.
struct Entry {
    id: Rc<str>,
    ts: Box<str>,
    /// Lowercased tags, as ids in the tag dictionary.
    tags: Box<[u32]>,
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

/// A term's frequency in each field, saturated at 255 (BM25 saturates long before).
type Frequencies = [u8; 5];

/// The entries that have one term, slots ascending: each occurrence is the slot (4 bytes,
/// little-endian) then the term's frequencies, packed in 9 bytes, in one allocation.
#[derive(Default)]
struct Postings(Vec<[u8; 9]>);

impl Postings {
    fn push(&mut self, slot: u32, frequencies: Frequencies) {
        let mut packed = [0u8; 9];
        packed[..4].copy_from_slice(&slot.to_le_bytes());
        packed[4..].copy_from_slice(&frequencies);
        self.0.push(packed);
    }

    fn iter(&self) -> impl Iterator<Item = (u32, Frequencies)> + '_ {
        self.0.iter().map(|packed| {
            let (slot, frequencies) = packed.split_at(4);
            (
                u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]),
                [
                    frequencies[0],
                    frequencies[1],
                    frequencies[2],
                    frequencies[3],
                    frequencies[4],
                ],
            )
        })
    }
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
    slots: HashMap<Rc<str>, u32>,
    dictionary: HashMap<Box<str>, u32>,
    /// For each term id, the entries that have it.
    postings: Vec<Postings>,
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
        KnowledgeCache {
            harness: store.harness_path().to_path_buf(),
            loaded: false,
            sources: Vec::new(),
            journal: None,
            entries: Vec::new(),
            hot: Vec::new(),
            slots: HashMap::new(),
            dictionary: HashMap::new(),
            postings: Vec::new(),
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
        self.compact();
        Ok(())
    }

    /// Returns the growth slack of a fresh load (a third of the memory at 200,000 items).
    fn compact(&mut self) {
        for postings in &mut self.postings {
            postings.0.shrink_to_fit();
        }
        self.postings.shrink_to_fit();
        self.entries.shrink_to_fit();
        self.hot.shrink_to_fit();
    }

    /// Puts the live slots back in time order after changes.
    fn finish(&mut self) -> Result<(), ToolError> {
        if !self.in_order {
            let (entries, hot) = (&self.entries, &self.hot);
            self.by_time.retain(|slot| hot[*slot as usize].live);
            self.by_time.sort_by(|a, b| {
                entries[*a as usize]
                    .ts
                    .cmp(&entries[*b as usize].ts)
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
            if failure.is_some() || id.is_empty() || self.slots.contains_key(id.as_str()) {
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
        if let Some(id) = self.dictionary.get(term) {
            return *id;
        }
        let id = self.postings.len() as u32;
        self.dictionary.insert(term.into(), id);
        self.postings.push(Postings::default());
        id
    }

    /// Adds an index entry at a new slot; an entry with the same id is retired (its postings
    /// stay but are skipped), as a fold puts the replacement last.
    fn upsert(&mut self, value: RankedEntry, source: u32, offset: u64, length: usize) {
        let RankedEntry { id, ts, tags, rank } = value;
        let slot = self.entries.len() as u32;
        if let Some(old) = self.slots.get(id.as_str()).copied() {
            let old = &mut self.hot[old as usize];
            old.live = false;
            for (total, length) in self.total_lengths.iter_mut().zip(old.lengths) {
                *total -= u64::from(length);
            }
            self.live -= 1;
            self.in_order = false;
        }
        let lengths = read_rank(&rank, &mut |term, frequencies| {
            let term = self.term_id(term);
            self.postings[term as usize].push(
                slot,
                frequencies.map(|n| u8::try_from(n).unwrap_or(u8::MAX)),
            );
        });
        for (total, length) in self.total_lengths.iter_mut().zip(lengths) {
            *total += u64::from(length);
        }
        self.live += 1;
        let id: Rc<str> = Rc::from(id.as_str());
        self.slots.insert(id.clone(), slot);
        let ts: Box<str> = ts.into();
        let last = self.by_time.last().map(|last| *last as usize);
        let time = match last.map(|last| (&self.entries[last].ts, self.hot[last].time)) {
            Some((last, _)) if *last > ts => {
                self.in_order = false;
                0
            }
            Some((last, time)) if *last == ts => time,
            Some((_, time)) => time + 1,
            None => 0,
        };
        self.by_time.push(slot);
        let tags = tags.iter().map(|tag| self.tag_id(tag)).collect();
        self.entries.push(Entry {
            id,
            ts,
            tags,
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
            let ts = &self.entries[*first as usize].ts;
            let mut run = vec![*first];
            while let Some(next) = slots.next_if(|s| self.entries[**s as usize].ts == *ts) {
                run.push(*next);
            }
            run.reverse();
            out.extend(
                run.iter()
                    .map(|slot| self.entries[*slot as usize].id.to_string()),
            );
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
            .map(|slot| self.entries[*slot as usize].id.to_string())
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

    /// Ranks entries for weighted query `terms`: the best `limit` as (score, id), best first,
    /// then newest.
    /// `everything` scores every entry 1, `unscored` every entry 0 (the original's rules for
    /// an empty query and a query of stop words); otherwise only entries sharing a term with
    /// the query are scored and those above zero kept. `tags` (lowercase) filters entries; the
    /// collection statistics are those of the filtered set.
    pub fn rank(
        &self,
        terms: &[(String, f64)],
        tags: &[String],
        everything: bool,
        unscored: bool,
        limit: usize,
    ) -> Vec<(f64, Rc<str>)> {
        let wanted: Vec<u32> = tags
            .iter()
            .filter_map(|tag| self.tag_ids.get(tag.as_str()).copied())
            .collect();
        let admitted = |slot: u32| {
            self.hot[slot as usize].live
                && (tags.is_empty()
                    || self.entries[slot as usize]
                        .tags
                        .iter()
                        .any(|tag| wanted.contains(tag)))
        };
        let mut scored: Vec<(f64, u32)> = Vec::new();
        if everything || unscored {
            let score = if everything { 1.0 } else { 0.0 };
            scored.extend(
                (0..self.entries.len() as u32)
                    .filter(|slot| admitted(*slot))
                    .map(|slot| (score, slot)),
            );
        } else {
            // For each query term, the admitted entries that have it, slots ascending.
            let lists: Vec<Vec<(u32, Frequencies)>> = terms
                .iter()
                .map(|(term, _)| {
                    let Some(id) = self.dictionary.get(term.as_str()) else {
                        return Vec::new();
                    };
                    self.postings[*id as usize]
                        .iter()
                        .filter(|(slot, _)| admitted(*slot))
                        .collect()
                })
                .collect();
            let df: Vec<usize> = lists.iter().map(Vec::len).collect();
            let ranker = if tags.is_empty() {
                Ranker::new(self.live, self.total_lengths, &df, Bm25Params::default())
            } else {
                let mut documents = 0;
                let mut totals = [0u64; 5];
                for slot in (0..self.hot.len() as u32).filter(|slot| admitted(*slot)) {
                    documents += 1;
                    for (total, length) in totals.iter_mut().zip(self.hot[slot as usize].lengths) {
                        *total += u64::from(length);
                    }
                }
                Ranker::new(documents, totals, &df, Bm25Params::default())
            };
            // A merge of the lists by slot: each entry is scored once, with all its terms.
            let mut cursors = vec![0usize; lists.len()];
            let head = |cursors: &[usize], n: usize| lists[n].get(cursors[n]).map(|p| p.0);
            let mut found: Vec<Option<[u32; 5]>> = Vec::with_capacity(lists.len());
            scored.reserve(lists.iter().map(Vec::len).max().unwrap_or(0));
            while let Some(slot) = (0..lists.len()).filter_map(|n| head(&cursors, n)).min() {
                let lengths = self.hot[slot as usize].lengths;
                found.clear();
                for (n, cursor) in cursors.iter_mut().enumerate() {
                    match lists[n].get(*cursor) {
                        Some((at, frequencies)) if *at == slot => {
                            *cursor += 1;
                            found.push(Some(frequencies.map(u32::from)));
                        }
                        _ => found.push(None),
                    }
                }
                let frequencies = terms.iter().zip(&found).map(|((_, w), f)| (*w, *f));
                let score = rounded(ranker.score(lengths, frequencies));
                if score > 0.0 {
                    scored.push((score, slot));
                }
            }
        }
        let order = |a: &(f64, u32), b: &(f64, u32)| {
            b.0.total_cmp(&a.0)
                .then_with(|| {
                    self.hot[b.1 as usize]
                        .time
                        .cmp(&self.hot[a.1 as usize].time)
                })
                .then_with(|| a.1.cmp(&b.1))
        };
        if scored.len() > limit {
            scored.select_nth_unstable_by(limit, order);
            scored.truncate(limit);
        }
        scored.sort_by(order);
        scored
            .into_iter()
            .map(|(score, slot)| (score, self.entries[slot as usize].id.clone()))
            .collect()
    }
}

fn rounded(score: f64) -> f64 {
    (score * 10_000.0).round() / 10_000.0
}

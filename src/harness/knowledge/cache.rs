//! The in-memory knowledge index: what queries and listings read, so that neither re-reads
//! index.json. It is built once (streaming index.json then the journal) and kept current:
//!
//! * before each use, [`KnowledgeCache::sync`] compares index.json's identity (device, inode,
//!   size, modification time, from a metadata-only stat) with the one it loaded: if another
//!   process compacted or rebuilt it (or anyone replaced it), everything is reloaded;
//! * otherwise only the journal's new complete lines are read, from the offset where the last
//!   read stopped (a journal with another inode, or shorter than that offset, means a
//!   compaction happened: reload). index.json is checked again after the journal was read, so
//!   the two are always a consistent pair;
//! * records made by this process are journal lines like any other and are folded in by the
//!   same tail read, under the index lock; a compaction this process makes is adopted without
//!   a reload when the cache held exactly what was compacted.
//!
//! Entries are compact: id, `ts`, lowercased tags (for the tag filter) and field lengths. Terms
//! are interned once in a dictionary, and an inverted map (term id → (entry slot, frequency in
//! each field, saturated at 255)) holds the ranking statistics, so a query only touches the
//! entries that share a term with it. Slots keep fold order (index.json's order, then journal
//! order; an entry replaced by a later one with the same id is retired and the replacement
//! takes a new slot), so ties break as a fold of the files would.
//!
//! The cache lives in a thread-local (the server is single-threaded), keyed by the harness
//! directory it describes.

use super::index::{
    self, entry_stats, scan_index, scan_journal, Compaction, INDEX_FILE, JOURNAL_FILE,
};
use crate::harness::records::strings;
use crate::harness::ToolError;
use crate::knowledge::{Bm25Params, Ranker};
use crate::sanitize::js_string;
use crate::store::{FileId, Store};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

/// One indexed item. Its terms are in the postings, not here.
struct Entry {
    id: Rc<str>,
    ts: Box<str>,
    tags: Box<[Box<str>]>,
    lengths: [u32; 5],
    /// False once a later entry with the same id replaced it.
    live: bool,
}

/// A term's frequency in each field, saturated at 255 (BM25 saturates long before).
type Frequencies = [u8; 5];

/// The in-memory index of one harness directory.
pub struct KnowledgeCache {
    harness: PathBuf,
    /// Whether the files have been read at all.
    loaded: bool,
    /// index.json as loaded (`None`: absent).
    index_id: Option<FileId>,
    /// The journal read so far (`None`: absent) and where its unread part starts.
    journal_id: Option<FileId>,
    journal_offset: u64,
    entries: Vec<Entry>,
    slots: HashMap<Rc<str>, u32>,
    dictionary: HashMap<Box<str>, u32>,
    /// For each term id, the entries that have it: (slot, frequencies), slots ascending.
    postings: Vec<Vec<(u32, Frequencies)>>,
    /// Field lengths summed over live entries, and their number.
    total_lengths: [u64; 5],
    live: usize,
}

thread_local! {
    static CACHE: RefCell<Option<KnowledgeCache>> = const { RefCell::new(None) };
}

/// Runs `f` on the cache of `store`'s harness directory, synchronised with the files.
pub fn with_cache<T>(
    store: &Store,
    f: impl FnOnce(&KnowledgeCache) -> Result<T, ToolError>,
) -> Result<T, ToolError> {
    CACHE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let cache = match &mut *slot {
            Some(cache) if cache.harness == store.harness_path() => cache,
            other => other.insert(KnowledgeCache::new(store)),
        };
        cache.sync(store, true)?;
        f(cache)
    })
}

/// After this process appended a journal line (index lock held): fold it in if the cache
/// is loaded, so it stays current without a reload.
pub fn note_append(store: &Store) -> Result<(), ToolError> {
    CACHE.with(|cell| match cell.borrow_mut().as_mut() {
        Some(cache) if cache.harness == store.harness_path() => cache.sync(store, false),
        _ => Ok(()),
    })
}

/// After this process compacted (index lock held): adopt the new index.json if the cache
/// held exactly the compacted files.
pub fn note_compaction(store: &Store, compaction: &Compaction) {
    CACHE.with(|cell| {
        if let Some(cache) = cell.borrow_mut().as_mut() {
            let current = cache.harness == store.harness_path()
                && cache.index_id == compaction.index_before
                && cache.journal_id == Some(compaction.journal_before)
                && cache.journal_offset == compaction.journal_before.size;
            if current {
                cache.index_id = Some(compaction.index_after);
                cache.journal_id = None;
                cache.journal_offset = 0;
            }
        }
    })
}

impl KnowledgeCache {
    fn new(store: &Store) -> KnowledgeCache {
        KnowledgeCache {
            harness: store.harness_path().to_path_buf(),
            loaded: false,
            index_id: None,
            journal_id: None,
            journal_offset: 0,
            entries: Vec::new(),
            slots: HashMap::new(),
            dictionary: HashMap::new(),
            postings: Vec::new(),
            total_lengths: [0; 5],
            live: 0,
        }
    }

    /// Brings the cache up to date with index.json and the journal. When a full reload is
    /// needed but not `reload_allowed` (the index lock is held, and recovering a corrupt file
    /// would take it again), the cache is only marked stale for the next use.
    fn sync(&mut self, store: &Store, reload_allowed: bool) -> Result<(), ToolError> {
        if !self.loaded || store.file_id(INDEX_FILE)? != self.index_id {
            return self.refresh(store, reload_allowed);
        }
        let Some(mut journal) = store.open_read(JOURNAL_FILE)? else {
            if self.journal_id.is_some() {
                return self.refresh(store, reload_allowed);
            }
            return Ok(());
        };
        let id = journal.id();
        let same = match self.journal_id {
            Some(known) => known.same_file(&id) && id.size >= self.journal_offset,
            None => true,
        };
        if !same {
            return self.refresh(store, reload_allowed);
        }
        let from = if self.journal_id.is_some() {
            self.journal_offset
        } else {
            0
        };
        let end = scan_journal(&mut journal, from, &mut |_, _, _, entry| {
            self.upsert(&entry)
        })?;
        if store.file_id(INDEX_FILE)? != self.index_id {
            return self.refresh(store, reload_allowed);
        }
        self.journal_id = Some(id);
        self.journal_offset = end;
        Ok(())
    }

    fn refresh(&mut self, store: &Store, reload_allowed: bool) -> Result<(), ToolError> {
        if reload_allowed {
            self.reload(store)
        } else {
            self.loaded = false;
            Ok(())
        }
    }

    /// Reloads everything: index.json streamed entry by entry (recovered from the item
    /// files if it is corrupt), then the journal. Memory holds one file entry at a time.
    fn reload(&mut self, store: &Store) -> Result<(), ToolError> {
        let mut recovered = false;
        loop {
            *self = KnowledgeCache::new(store);
            self.loaded = true;
            let mut journal = store.open_read(JOURNAL_FILE)?;
            if let Some(mut file) = store.open_read(INDEX_FILE)? {
                let scanned = scan_index(&mut file, &mut |_, _, entry| self.upsert(&entry))?;
                if scanned.is_none() && !recovered {
                    index::recover(store)?;
                    recovered = true;
                    continue;
                }
                self.index_id = Some(file.id());
            }
            if let Some(file) = journal.as_mut() {
                self.journal_offset =
                    scan_journal(file, 0, &mut |_, _, _, entry| self.upsert(&entry))?;
                self.journal_id = Some(file.id());
            }
            return Ok(());
        }
    }

    fn term_id(&mut self, term: &str) -> u32 {
        if let Some(id) = self.dictionary.get(term) {
            return *id;
        }
        let id = self.postings.len() as u32;
        self.dictionary.insert(term.into(), id);
        self.postings.push(Vec::new());
        id
    }

    /// Adds an index entry at a new slot; an entry with the same id is retired (its postings
    /// stay but are skipped), as a fold puts the replacement last.
    fn upsert(&mut self, value: &Value) {
        let Some(id) = value.get("id").map(js_string) else {
            return;
        };
        let stats = entry_stats(value);
        let slot = self.entries.len() as u32;
        if let Some(old) = self.slots.get(id.as_str()).copied() {
            let old = &mut self.entries[old as usize];
            old.live = false;
            for (total, length) in self.total_lengths.iter_mut().zip(old.lengths) {
                *total -= u64::from(length);
            }
            self.live -= 1;
        }
        for (term, frequencies) in &stats.terms {
            let term = self.term_id(term);
            let saturated = frequencies.map(|n| u8::try_from(n).unwrap_or(u8::MAX));
            self.postings[term as usize].push((slot, saturated));
        }
        for (total, length) in self.total_lengths.iter_mut().zip(stats.lengths) {
            *total += u64::from(length);
        }
        self.live += 1;
        let id: Rc<str> = Rc::from(id.as_str());
        self.slots.insert(id.clone(), slot);
        self.entries.push(Entry {
            id,
            ts: value.get("ts").map(js_string).unwrap_or_default().into(),
            tags: strings(value.get("tags"))
                .iter()
                .map(|t| t.to_lowercase().into())
                .collect(),
            lengths: stats.lengths,
            live: true,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Ids of the newest `limit` entries, newest first (ties in index order).
    pub fn recent(&self, limit: usize) -> Vec<String> {
        let mut order: Vec<&Entry> = self.entries.iter().filter(|e| e.live).collect();
        order.sort_by(|a, b| b.ts.cmp(&a.ts));
        order.iter().take(limit).map(|e| e.id.to_string()).collect()
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
        let admitted = |entry: &Entry| {
            entry.live
                && (tags.is_empty()
                    || entry
                        .tags
                        .iter()
                        .any(|tag| tags.iter().any(|t| **t == **tag)))
        };
        let mut scored: Vec<(f64, u32)> = Vec::new();
        if everything || unscored {
            let score = if everything { 1.0 } else { 0.0 };
            scored.extend(
                (0..self.entries.len() as u32)
                    .filter(|slot| admitted(&self.entries[*slot as usize]))
                    .map(|slot| (score, slot)),
            );
        } else {
            // (slot, query term, frequencies) of every admitted entry sharing a query term.
            let mut matches: Vec<(u32, usize, Frequencies)> = Vec::new();
            let mut df = vec![0usize; terms.len()];
            for (index, (term, _)) in terms.iter().enumerate() {
                let Some(id) = self.dictionary.get(term.as_str()) else {
                    continue;
                };
                for (slot, frequencies) in &self.postings[*id as usize] {
                    if admitted(&self.entries[*slot as usize]) {
                        df[index] += 1;
                        matches.push((*slot, index, *frequencies));
                    }
                }
            }
            let ranker = if tags.is_empty() {
                Ranker::new(self.live, self.total_lengths, &df, Bm25Params::default())
            } else {
                let mut documents = 0;
                let mut totals = [0u64; 5];
                for entry in self.entries.iter().filter(|e| admitted(e)) {
                    documents += 1;
                    for (total, length) in totals.iter_mut().zip(entry.lengths) {
                        *total += u64::from(length);
                    }
                }
                Ranker::new(documents, totals, &df, Bm25Params::default())
            };
            matches.sort_unstable_by_key(|(slot, index, _)| (*slot, *index));
            for group in matches.chunk_by(|a, b| a.0 == b.0) {
                let slot = group[0].0;
                let entry = &self.entries[slot as usize];
                let frequencies = terms.iter().enumerate().map(|(index, (_, weight))| {
                    let found = group.iter().find(|(_, i, _)| *i == index);
                    (*weight, found.map(|(_, _, f)| f.map(u32::from)))
                });
                let score = rounded(ranker.score(entry.lengths, frequencies));
                if score > 0.0 {
                    scored.push((score, slot));
                }
            }
        }
        let order = |a: &(f64, u32), b: &(f64, u32)| {
            b.0.total_cmp(&a.0)
                .then_with(|| {
                    self.entries[b.1 as usize]
                        .ts
                        .cmp(&self.entries[a.1 as usize].ts)
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

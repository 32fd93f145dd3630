//! The knowledge index on disk: no file of it grows with the project.
//!
//! * **Segments.** This server's index is a sequence of JSONL files of index entries, one
//!   line `{"op":"upsert","at":<iso>,"entry":<index entry>}` per record, folded in order (a
//!   later line replaces an earlier one with the same id). The active segment is the
//!   journal, `knowledge/index.journal.jsonl`; a record appends one line to it (durable,
//!   index lock held inside the state lock). Once the journal passes [`segment_budget`] of
//!   the store's file bound it is **sealed**: renamed, in one atomic step, to
//!   `knowledge/segments/<10-digit sequence>.jsonl`, and a new journal starts with the next
//!   record. A sealed segment is never written again, so a segment ends at most one line past
//!   its budget: far below the bound the store reads. Recording costs one append, and a seal
//!   one rename, at any size.
//! * **index.json is an export**, in the original's version-1 format (without our `rank`), for
//!   a Node 0.2.0 server sharing the project: it holds the newest entries that fit in
//!   [`export_budget`] of the bound (about 8,000 typical items at the shipped bound; a Node
//!   server needs about 0.2 ms per item per query, so a few seconds a query there). It is
//!   rewritten (atomically, streaming) after a seal, on rebuild and at clean exit when this
//!   process recorded since its last export. A Node server therefore sees the newest items
//!   that fit, never a file too large for it or for us; older items stay in `knowledge/items/`
//!   and in the segments. This server reads index.json only to **ingest** what another writer
//!   (a Node server) added: entries whose id the segments lack are appended to the journal.
//! * **Memory.** Ranking, listing and paging read the in-memory index ([`memory`]), built by
//!   streaming every segment once and then following the journal's new lines.
//! * **Rebuild** writes fresh segments from the item files (numbered after the existing
//!   ones), then removes the old ones and the journal: a crash in between leaves both, and
//!   folding them is idempotent.
//! * **Corruption**: an unparsable line or unterminated last line is skipped; an index.json
//!   that does not parse, is not an object, or whose `items` is not an array is rebuilt from
//!   `knowledge/items/*.json`; one larger than the bound (only another writer can make one)
//!   is not read, and the next export replaces it.

mod compact;
mod entry;
pub mod memory;
mod postings;
mod scan;

pub use entry::{
    empty_index, encode_rank, entry_stats, index_entry, node_entry, read_rank, INDEX_VERSION,
    MAX_RANKED_TERMS, MAX_RANK_BYTES, MAX_TERM_COUNTS, MAX_TERM_LENGTH, SUMMARY_PREVIEW,
};

use crate::clock::now_iso;
use crate::harness::records::{names_with_suffix, read_listed, Skipped};
use crate::harness::ToolError;
use crate::json::{parse_lenient, to_compact, to_pretty_at};
use crate::store::{FileId, ReadFile, Store, StoreError};
use serde_json::{json, Value};

pub const INDEX_FILE: &str = "knowledge/index.json";
pub const JOURNAL_FILE: &str = "knowledge/index.journal.jsonl";
pub const SEGMENTS_DIR: &str = "knowledge/segments";
pub const ITEMS_DIR: &str = "knowledge/items";
/// The identity of the index.json this server last wrote, so that a new process need not
/// read it back to learn that it holds nothing the segments lack.
pub const EXPORT_MARK: &str = "knowledge/segments/exported.json";
/// Item files read at once while rebuilding.
const REBUILD_BATCH: usize = 256;

/// The size past which the journal is sealed into a segment: 1/16 of the file bound.
pub fn segment_budget(file_limit: u64) -> u64 {
    file_limit / 16
}

/// The most bytes index.json is written with: 1/8 of the file bound.
pub fn export_budget(file_limit: u64) -> u64 {
    file_limit / 8
}

/// The path of sealed segment `sequence`.
pub fn segment_path(sequence: u64) -> String {
    format!("{SEGMENTS_DIR}/{sequence:010}.jsonl")
}

/// The sealed segments, oldest first: (sequence, path). Other names are ignored.
pub fn segments(store: &Store) -> Result<Vec<(u64, String)>, ToolError> {
    let mut found: Vec<(u64, String)> = store
        .list(SEGMENTS_DIR)?
        .iter()
        .filter_map(|name| {
            let digits = name.strip_suffix(".jsonl")?;
            let valid = digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit());
            let sequence = digits.parse().ok().filter(|_| valid)?;
            Some((sequence, segment_path(sequence)))
        })
        .collect();
    found.sort();
    Ok(found)
}

fn read_error(path: &str, source: std::io::Error) -> ToolError {
    StoreError::Io {
        op: "read",
        path: path.to_string(),
        source,
    }
    .into()
}

/// Streams the entries of an open index.json: `entry(offset, length, value)` for each.
/// Returns `updatedAt`, or `None` if the file is corrupt.
pub fn scan_index(
    file: &mut ReadFile,
    entry: &mut dyn FnMut(u64, usize, Value),
) -> Result<Option<Value>, ToolError> {
    let reader = file.reader_from(0)?;
    scan::index_items(reader, &mut |offset, bytes| match parse_lenient(bytes) {
        Ok(value) => {
            entry(offset, bytes.len(), value);
            true
        }
        Err(_) => false,
    })
    .map_err(|error| read_error(INDEX_FILE, error))
}

/// The entry of one segment line, if it is a usable record.
pub fn line_entry(line: &[u8]) -> Option<Value> {
    let mut record = parse_lenient(line).ok()?;
    let entry = record.get_mut("entry").map(Value::take)?;
    entry.get("id").filter(|id| id.is_string())?;
    Some(entry)
}

/// Streams the usable records of an open segment (or the journal) from `offset`:
/// `record(offset, length, entry)` for each. Returns the offset after the last complete line.
pub fn scan_segment(
    file: &mut ReadFile,
    offset: u64,
    record: &mut dyn FnMut(u64, usize, Value),
) -> Result<u64, ToolError> {
    scan_lines(file, offset, &mut |at, line| {
        if let Some(entry) = line_entry(line) {
            record(at, line.len(), entry);
        }
    })
}

/// Streams the complete lines of an open segment (or the journal) from `offset`:
/// `line(offset, bytes)` for each. Returns the offset after the last complete line.
pub fn scan_lines(
    file: &mut ReadFile,
    offset: u64,
    line: &mut dyn FnMut(u64, &[u8]),
) -> Result<u64, ToolError> {
    let rel = file.rel().to_string();
    let reader = file.reader_from(offset)?;
    scan::journal_lines(reader, offset, line).map_err(|error| read_error(&rel, error))
}

/// What the in-memory index keeps of a segment line. The lines this server writes (strict
/// JSON, with `rank`) are read without building a JSON tree; any other usable line (an entry
/// a Node server wrote, lenient JSON) through [`line_entry`].
pub fn ranked_entry(line: &[u8]) -> Option<RankedEntry> {
    fast_ranked_entry(line).or_else(|| line_entry(line).map(|entry| RankedEntry::of(&entry)))
}

fn fast_ranked_entry(line: &[u8]) -> Option<RankedEntry> {
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        #[serde(borrow)]
        entry: Fields<'a>,
    }
    #[derive(serde::Deserialize)]
    struct Fields<'a> {
        #[serde(borrow)]
        id: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        ts: std::borrow::Cow<'a, str>,
        #[serde(borrow, default)]
        tags: Vec<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        rank: std::borrow::Cow<'a, str>,
    }
    let line: Line<'_> = serde_json::from_slice(line).ok()?;
    Some(RankedEntry {
        id: line.entry.id.into_owned(),
        ts: line.entry.ts.into_owned(),
        tags: line.entry.tags.iter().map(|t| t.to_lowercase()).collect(),
        rank: line.entry.rank.into_owned(),
    })
}

/// An entry as [`ranked_entry`] reads it: id, `ts`, lowercased tags and its ranking
/// statistics as a `rank` string (see [`encode_rank`]; [`read_rank`] reads it).
pub struct RankedEntry {
    pub id: String,
    pub ts: String,
    pub tags: Vec<String>,
    pub rank: String,
}

impl RankedEntry {
    fn of(entry: &Value) -> RankedEntry {
        use crate::sanitize::js_string;
        RankedEntry {
            id: entry.get("id").map(js_string).unwrap_or_default(),
            ts: entry.get("ts").map(js_string).unwrap_or_default(),
            tags: crate::harness::records::strings(entry.get("tags"))
                .iter()
                .map(|t| t.to_lowercase())
                .collect(),
            rank: match entry.get("rank") {
                Some(Value::String(rank)) => rank.clone(),
                _ => encode_rank(&entry_stats(entry)),
            },
        }
    }
}

/// The segment line recording an index entry.
pub fn entry_line(entry: &Value) -> String {
    let line = json!({"op": "upsert", "at": now_iso(), "entry": entry});
    format!("{}\n", to_compact(&line))
}

/// Appends a segment line to the journal (caller holds the index lock).
pub fn append_locked(store: &Store, line: &str) -> Result<(), ToolError> {
    Ok(store.append_line(JOURNAL_FILE, line.as_bytes())?)
}

/// A sealed journal: its identity (unchanged by the rename) and where it now is.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub journal: FileId,
    pub path: String,
}

/// Seals the journal into the next segment if it has passed its budget (caller holds the
/// index lock).
pub fn seal_if_due_locked(store: &Store) -> Result<Option<Sealed>, ToolError> {
    let Some(journal) = store.file_id(JOURNAL_FILE)? else {
        return Ok(None);
    };
    if journal.size <= segment_budget(store.file_limit()) {
        return Ok(None);
    }
    let next = segments(store)?
        .last()
        .map_or(1, |(sequence, _)| sequence + 1);
    let path = segment_path(next);
    store.create_dir_all(SEGMENTS_DIR)?;
    store.rename(JOURNAL_FILE, &path)?;
    Ok(Some(Sealed { journal, path }))
}

/// Reads located segment lines back as entries, keeping the files open between reads.
pub struct EntryReader<'a> {
    store: &'a Store,
    open: Option<ReadFile>,
}

impl<'a> EntryReader<'a> {
    pub fn new(store: &'a Store) -> EntryReader<'a> {
        EntryReader { store, open: None }
    }

    /// The entry in the line at `offset` of `path`; `None` if it is gone or unusable.
    pub fn entry(
        &mut self,
        path: &str,
        offset: u64,
        length: usize,
    ) -> Result<Option<Value>, ToolError> {
        if self.open.as_ref().is_none_or(|file| file.rel() != path) {
            self.open = self.store.open_read(path)?;
        }
        let Some(file) = &self.open else {
            return Ok(None);
        };
        Ok(match file.read_at(offset, length) {
            Ok(bytes) => line_entry(&bytes),
            Err(_) => None,
        })
    }
}

/// Writes index.json from located entries given newest first: the newest that fit in
/// [`export_budget`], oldest first in the file, each in the original's shape. Returns the
/// new file's identity.
pub fn export_locked(
    store: &Store,
    newest_first: &mut dyn Iterator<Item = (String, u64, usize)>,
) -> Result<FileId, ToolError> {
    let budget = export_budget(store.file_limit()) as usize;
    let updated_at = json!(now_iso());
    let head = format!(
        "{{\n  \"version\": {INDEX_VERSION},\n  \"updatedAt\": {},\n  \"items\": [",
        to_compact(&updated_at)
    );
    let tail = "\n  ]\n}\n";
    let mut used = head.len() + tail.len();
    let mut reader = EntryReader::new(store);
    let mut chosen: Vec<(String, u64, usize)> = Vec::new();
    for (path, offset, length) in newest_first {
        let Some(entry) = reader.entry(&path, offset, length)? else {
            continue;
        };
        let size = ",\n    ".len() + to_pretty_at(&node_entry(&entry), 2).len();
        if used + size > budget {
            break;
        }
        used += size;
        chosen.push((path, offset, length));
    }
    chosen.reverse();
    let mut failure = None;
    let written = store.write_atomic_with(INDEX_FILE, &mut |out| {
        let io = |source| StoreError::Io {
            op: "write",
            path: INDEX_FILE.to_string(),
            source,
        };
        out.write_all(head.as_bytes()).map_err(io)?;
        for (n, (path, offset, length)) in chosen.iter().enumerate() {
            let entry = match reader.entry(path, *offset, *length) {
                Ok(entry) => entry.unwrap_or(Value::Null),
                Err(error) => {
                    failure = Some(error);
                    return Err(io(std::io::Error::other("entry unreadable")));
                }
            };
            let separator = if n == 0 { "\n    " } else { ",\n    " };
            out.write_all(separator.as_bytes()).map_err(io)?;
            out.write_all(to_pretty_at(&node_entry(&entry), 2).as_bytes())
                .map_err(io)?;
        }
        let tail = if chosen.is_empty() { "]\n}\n" } else { tail };
        out.write_all(tail.as_bytes()).map_err(io)
    });
    let written = match (written, failure) {
        (_, Some(error)) => return Err(error),
        (written, None) => written?,
    };
    store.create_dir_all(SEGMENTS_DIR)?;
    store.write_atomic(EXPORT_MARK, to_compact(&file_id_json(&written)).as_bytes())?;
    Ok(written)
}

fn file_id_json(id: &FileId) -> Value {
    json!([id.dev, id.ino, id.size, id.mtime.0, id.mtime.1])
}

/// Whether `index` is the index.json this server last wrote (see [`EXPORT_MARK`]).
pub fn is_own_export(store: &Store, index: &FileId) -> Result<bool, ToolError> {
    let Some(bytes) = store.read(EXPORT_MARK)? else {
        return Ok(false);
    };
    Ok(parse_lenient(&bytes).is_ok_and(|mark| mark == file_id_json(index)))
}

/// Rebuilds the segments from every item file (caller holds the index lock): fresh segments
/// numbered after the existing ones, then the old ones and the journal are removed. An item
/// file the store refuses or that is not valid JSON is left out and returned as skipped.
/// Returns how many items were indexed.
pub fn rebuild_locked(store: &Store) -> Result<(usize, Vec<Skipped>), ToolError> {
    let old = segments(store)?;
    let mut next = old.last().map_or(1, |(sequence, _)| sequence + 1);
    let names = names_with_suffix(store, ITEMS_DIR, ".json")?;
    let budget = segment_budget(store.file_limit()) as usize;
    let mut skipped = Vec::new();
    let mut count = 0;
    let mut buffer = String::new();
    store.create_dir_all(SEGMENTS_DIR)?;
    let mut flush = |buffer: &mut String| -> Result<(), ToolError> {
        if !buffer.is_empty() {
            store.create_new(&segment_path(next), buffer.as_bytes())?;
            next += 1;
            buffer.clear();
        }
        Ok(())
    };
    for batch in names.chunks(REBUILD_BATCH) {
        let listing = read_listed(store, ITEMS_DIR, batch)?;
        skipped.extend(listing.skipped);
        for item in &listing.records {
            buffer.push_str(&entry_line(&index_entry(item)));
            count += 1;
            if buffer.len() > budget {
                flush(&mut buffer)?;
            }
        }
    }
    flush(&mut buffer)?;
    for (_, path) in old {
        store.remove(&path)?;
    }
    store.remove(JOURNAL_FILE)?;
    Ok((count, skipped))
}

/// index.json as the value a tool returns (it is bounded by [`export_budget`]).
pub fn read_export(store: &Store) -> Result<Value, ToolError> {
    let bytes = store.read(INDEX_FILE)?.unwrap_or_default();
    Ok(parse_lenient(&bytes).unwrap_or_else(|_| empty_index()))
}

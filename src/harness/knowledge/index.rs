//! The knowledge index: `knowledge/index.json` in the original's version-1 format, plus an
//! append-only journal, `knowledge/index.journal.jsonl`, so that recording costs the same at
//! the 10,000th item as at the 100th.
//!
//! * **Record** (index lock held, nested inside the state lock): append one line
//!   `{"op":"upsert","at":<iso>,"entry":<index entry>}` to the journal (durable). index.json is
//!   not touched, unless the journal has outgrown half of index.json (and at least
//!   [`JOURNAL_MIN_BYTES`]): then it is compacted. Compaction rewrites O(N) bytes only after
//!   Θ(N) records, so the amortised bytes written per record stay constant.
//! * **Compaction** (index lock held): fold the journal into the index, write index.json
//!   atomically, then remove the journal. It happens at the threshold above, on
//!   `harness_rebuild_knowledge_index`, and when the server exits cleanly
//!   ([`compact_if_pending`]) — never on a query. A Node server reading the project sees
//!   journaled items after the next compaction.
//! * **Streaming**: index.json and the journal are never held whole in memory. Compaction
//!   first locates every entry (offset and length in index.json or the journal, with its id
//!   and `ts`, see [`scan`](super::scan)), folds and sorts those small records, then copies
//!   the entries one at a time into the new file.
//! * **Folding**: a journal entry replaces the entry with the same id; the result is sorted by
//!   `ts` (stable). Unparsable journal lines and an unterminated last line are ignored.
//! * **Crash safety**: an append is durable before it is acknowledged; compaction is an
//!   atomic replace followed by removal of the journal; a crash between the two leaves entries
//!   in both, and replay is idempotent.
//! * **Corruption**: an index.json that does not parse, is not an object, or whose `items` is
//!   not an array is rebuilt from `knowledge/items/*.json` under the index lock.
//!
//! Index entries keep every field of the original (`id, ts, kind, title, summary, tags,
//! confidence, source, termCounts, tokenTotal`) and add `rank`, our ranking statistics in one
//! compact string (see [`encode_rank`]): the field lengths, then each ranked term with its
//! frequency in title, tags, summary, key findings and body, at most [`MAX_RANK_BYTES`] bytes.
//! A Node reader ignores it. Entries written by a Node server lack it and are ranked from what
//! they have.

use super::scan;
use crate::clock::now_iso;
use crate::harness::records::{names_with_suffix, read_listed, strings, Skipped};
use crate::harness::{truthy, ToolError};
use crate::json::{parse_lenient, to_compact, to_pretty_at, to_pretty_file};
use crate::knowledge::{analyze, collate, is_integer_key, tokenize, FieldStats};
use crate::sanitize::{js_string, utf16_len, utf16_prefix};
use crate::store::{FileId, LockKind, ReadFile, Store, StoreError};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub const INDEX_FILE: &str = "knowledge/index.json";
pub const JOURNAL_FILE: &str = "knowledge/index.journal.jsonl";
pub const ITEMS_DIR: &str = "knowledge/items";
pub const INDEX_VERSION: i64 = 1;
/// `termCounts` keeps this many terms (the original's figure).
pub const MAX_TERM_COUNTS: usize = 40;
/// Longer tokens are left out of `termCounts` (still counted in `tokenTotal`).
pub const MAX_TERM_LENGTH: usize = 80;
/// The index's summary preview, in UTF-16 units, before `…`.
pub const SUMMARY_PREVIEW: usize = 280;
/// The journal is never compacted below this size.
pub const JOURNAL_MIN_BYTES: u64 = 64 * 1024;
/// Ranked terms kept per entry (the highest weighted frequencies)...
pub const MAX_RANKED_TERMS: usize = 160;
/// ...within this many bytes of `rank`, so an entry stays small whatever the item holds.
pub const MAX_RANK_BYTES: usize = 1_536;
/// Tokens read per field when computing ranking statistics.
const MAX_FIELD_TOKENS: usize = 2_000;

/// The empty index.
pub fn empty_index() -> Value {
    json!({"version": INDEX_VERSION, "updatedAt": null, "items": []})
}

/// The original's `knowledgeSearchText`: truthy fields joined by newlines.
fn search_text(item: &Value) -> String {
    let scalar = |key: &str| item.get(key).filter(|v| truthy(v)).map(js_string);
    let source = |key: &str| {
        item.get("source")
            .and_then(|s| s.get(key))
            .filter(|v| truthy(v))
            .map(js_string)
    };
    let mut parts: Vec<String> = Vec::new();
    parts.extend(scalar("kind"));
    parts.extend(scalar("title"));
    parts.extend(scalar("summary"));
    parts.extend(scalar("content"));
    for key in ["tags", "keyFindings", "filesChanged", "evidence"] {
        parts.extend(strings(item.get(key)).into_iter().filter(|s| !s.is_empty()));
    }
    parts.extend(source("url"));
    parts.extend(source("path"));
    parts.join("\n")
}

/// `termCounts` in the original's order: count descending, then ICU order; the JSON object
/// then puts integer-like keys first, ascending, as a JavaScript object does.
fn term_counts(tokens: &[String]) -> Map<String, Value> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for token in tokens.iter().filter(|t| t.len() <= MAX_TERM_LENGTH) {
        *counts.entry(token).or_default() += 1;
    }
    let mut ranked: Vec<(&str, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| collate(a.0, b.0)));
    ranked.truncate(MAX_TERM_COUNTS);
    let (mut integers, others): (Vec<_>, Vec<_>) =
        ranked.into_iter().partition(|(t, _)| is_integer_key(t));
    integers.sort_by_key(|(t, _)| t.parse::<u64>().unwrap_or(0));
    integers
        .into_iter()
        .chain(others)
        .map(|(t, n)| (t.to_string(), json!(n)))
        .collect()
}

/// The text of each ranked field of an item.
fn field_texts(item: &Value) -> [String; 5] {
    let text = |key: &str| {
        item.get(key)
            .filter(|v| truthy(v))
            .map(js_string)
            .unwrap_or_default()
    };
    let list = |key: &str| strings(item.get(key)).join("\n");
    let source = |key: &str| {
        item.get("source")
            .and_then(|s| s.get(key))
            .filter(|v| truthy(v))
            .map(js_string)
            .unwrap_or_default()
    };
    [
        text("title"),
        list("tags"),
        text("summary"),
        list("keyFindings"),
        [
            text("content"),
            list("filesChanged"),
            list("evidence"),
            source("url"),
            source("path"),
        ]
        .join("\n"),
    ]
}

/// Ranking statistics from field texts.
fn stats_from_texts(texts: &[String; 5]) -> FieldStats {
    let mut stats = FieldStats::default();
    for (field, text) in texts.iter().enumerate() {
        let terms = analyze(text, MAX_FIELD_TOKENS);
        stats.lengths[field] = terms.len() as u32;
        for term in terms {
            stats.terms.entry(term).or_default()[field] += 1;
        }
    }
    stats
}

/// One ranked term as `rank` writes it: `term:f0,f1,…` with trailing zero counts left out.
fn rank_term(term: &str, frequencies: &[u32; 5]) -> String {
    let used = frequencies
        .iter()
        .rposition(|f| *f > 0)
        .map_or(0, |last| last + 1);
    let counts: Vec<String> = frequencies[..used].iter().map(u32::to_string).collect();
    format!("{term}:{}", counts.join(","))
}

/// The `rank` string of an entry: its five field lengths joined by commas, then, separated by
/// spaces, the terms with the highest weighted frequency (at most [`MAX_RANKED_TERMS`], and at
/// most [`MAX_RANK_BYTES`] in all) in byte order, each as `term:title,tags,summary,findings,body`
/// with trailing zeros left out. Terms never contain `:`, `,` or a space.
pub fn encode_rank(stats: &FieldStats) -> String {
    let weights = crate::knowledge::Bm25Params::default().weights;
    let weight =
        |f: &[u32; 5]| -> f64 { f.iter().zip(weights).map(|(n, w)| f64::from(*n) * w).sum() };
    let mut terms: Vec<(&String, &[u32; 5])> = stats.terms.iter().collect();
    terms.sort_by(|a, b| {
        weight(b.1)
            .total_cmp(&weight(a.1))
            .then_with(|| collate(a.0, b.0))
    });
    let lengths: Vec<String> = stats.lengths.iter().map(u32::to_string).collect();
    let mut out = lengths.join(",");
    let mut kept: Vec<String> = Vec::new();
    let mut bytes = out.len();
    for (term, frequencies) in terms.into_iter().take(MAX_RANKED_TERMS) {
        let piece = rank_term(term, frequencies);
        if bytes + 1 + piece.len() > MAX_RANK_BYTES {
            continue;
        }
        bytes += 1 + piece.len();
        kept.push(piece);
    }
    kept.sort();
    for piece in kept {
        out.push(' ');
        out.push_str(&piece);
    }
    out
}

/// Reads a `rank` string; malformed parts are skipped.
fn decode_rank(text: &str) -> FieldStats {
    let mut stats = FieldStats::default();
    let mut parts = text.split(' ');
    for (slot, length) in stats
        .lengths
        .iter_mut()
        .zip(parts.next().unwrap_or("").split(','))
    {
        *slot = length.parse().unwrap_or(0);
    }
    for part in parts {
        let Some((term, counts)) = part.split_once(':') else {
            continue;
        };
        let mut frequencies = [0u32; 5];
        for (slot, count) in frequencies.iter_mut().zip(counts.split(',')) {
            *slot = count.parse().unwrap_or(0);
        }
        if !term.is_empty() {
            stats.terms.insert(term.to_string(), frequencies);
        }
    }
    stats
}

/// The index entry of an item: the original's fields, then our ranking statistics.
pub fn index_entry(item: &Value) -> Value {
    let tokens = tokenize(&search_text(item));
    let summary = match item.get("summary") {
        Some(Value::String(s)) if utf16_len(s) > SUMMARY_PREVIEW => {
            json!(format!("{}…", utf16_prefix(s, SUMMARY_PREVIEW)))
        }
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let or = |key: &str, default: Value| {
        item.get(key)
            .filter(|v| truthy(v))
            .cloned()
            .unwrap_or(default)
    };
    let field = |key: &str| item.get(key).cloned().unwrap_or(Value::Null);
    let mut entry = Map::new();
    entry.insert("id".into(), field("id"));
    entry.insert("ts".into(), field("ts"));
    entry.insert("kind".into(), field("kind"));
    entry.insert("title".into(), field("title"));
    entry.insert("summary".into(), summary);
    entry.insert("tags".into(), or("tags", json!([])));
    entry.insert("confidence".into(), field("confidence"));
    entry.insert("source".into(), or("source", json!({})));
    entry.insert("termCounts".into(), Value::Object(term_counts(&tokens)));
    entry.insert("tokenTotal".into(), json!(tokens.len()));
    entry.insert(
        "rank".into(),
        json!(encode_rank(&stats_from_texts(&field_texts(item)))),
    );
    Value::Object(entry)
}

/// The ranking statistics of an index entry: stored ones, or (for an entry a Node server
/// wrote) derived from its title, tags, summary preview and `termCounts`.
pub fn entry_stats(entry: &Value) -> FieldStats {
    if let Some(Value::String(rank)) = entry.get("rank") {
        return decode_rank(rank);
    }
    let text = |key: &str| {
        entry
            .get(key)
            .filter(|v| truthy(v))
            .map(js_string)
            .unwrap_or_default()
    };
    let mut stats = stats_from_texts(&[
        text("title"),
        strings(entry.get("tags")).join("\n"),
        text("summary"),
        String::new(),
        String::new(),
    ]);
    if let Some(Value::Object(counts)) = entry.get("termCounts") {
        for (token, count) in counts {
            let count = count.as_u64().unwrap_or(0) as u32;
            for term in analyze(token, 1) {
                stats.terms.entry(term).or_default()[4] += count;
            }
        }
    }
    stats.lengths[4] = entry.get("tokenTotal").and_then(Value::as_u64).unwrap_or(0) as u32;
    stats
}

fn ts_key(entry: &Value) -> String {
    entry.get("ts").map(js_string).unwrap_or_default()
}

fn id_key(entry: &Value) -> String {
    entry.get("id").map(js_string).unwrap_or_default()
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

/// The `(at, entry)` of one journal line, if it is a usable record.
fn journal_record(line: &[u8]) -> Option<(Value, Value)> {
    let mut record = parse_lenient(line).ok()?;
    let entry = record.get_mut("entry").map(Value::take)?;
    entry.get("id").filter(|id| id.is_string())?;
    Some((record.get("at").cloned().unwrap_or(Value::Null), entry))
}

/// Streams the usable journal records of an open journal from `offset`:
/// `record(offset, length, at, entry)` for each. Returns the offset after the last complete line.
pub fn scan_journal(
    file: &mut ReadFile,
    offset: u64,
    record: &mut dyn FnMut(u64, usize, Value, Value),
) -> Result<u64, ToolError> {
    let reader = file.reader_from(offset)?;
    scan::journal_lines(reader, offset, &mut |at, line| {
        if let Some((time, entry)) = journal_record(line) {
            record(at, line.len(), time, entry);
        }
    })
    .map_err(|error| read_error(JOURNAL_FILE, error))
}

/// Where one folded entry is: in index.json or in a journal line.
struct Located {
    ts: Box<str>,
    in_journal: bool,
    offset: u64,
    length: usize,
}

/// The folded index without its entries: where each one is, in order.
struct Layout {
    updated_at: Value,
    entries: Vec<Located>,
    index: Option<ReadFile>,
    journal: Option<ReadFile>,
}

impl Layout {
    /// Locates every entry of index.json and the journal (journal opened first, so a
    /// compaction by another process in between shows entries twice, never not at all; a
    /// journal entry then replaces its twin).
    /// `None` if index.json is corrupt.
    fn read(store: &Store) -> Result<Option<Layout>, ToolError> {
        let mut journal = store.open_read(JOURNAL_FILE)?;
        let mut index = store.open_read(INDEX_FILE)?;
        // The journal first: its ids are the only ones that can replace an entry, so index
        // entries need no id map.
        let mut journaled: Vec<Option<Located>> = Vec::new();
        let mut positions: HashMap<String, usize> = HashMap::new();
        let mut journal_at = Value::Null;
        if let Some(file) = journal.as_mut() {
            scan_journal(file, 0, &mut |offset, length, at, entry| {
                if truthy(&at) && js_string(&at) > js_string(&journal_at) {
                    journal_at = at;
                }
                if let Some(old) = positions.insert(id_key(&entry), journaled.len()) {
                    journaled[old] = None;
                }
                journaled.push(Some(Located {
                    ts: ts_key(&entry).into(),
                    in_journal: true,
                    offset,
                    length,
                }));
            })?;
        }
        let mut entries = Vec::new();
        let mut updated_at = Value::Null;
        if let Some(file) = index.as_mut() {
            let scanned = scan_index(file, &mut |offset, length, entry| {
                if !positions.contains_key(&id_key(&entry)) {
                    entries.push(Located {
                        ts: ts_key(&entry).into(),
                        in_journal: false,
                        offset,
                        length,
                    });
                }
            })?;
            match scanned {
                Some(updated) => updated_at = updated,
                None => return Ok(None),
            }
        }
        if truthy(&journal_at) && js_string(&journal_at) > js_string(&updated_at) {
            updated_at = journal_at;
        }
        entries.extend(journaled.into_iter().flatten());
        entries.sort_by(|a, b| a.ts.cmp(&b.ts));
        Ok(Some(Layout {
            updated_at,
            entries,
            index,
            journal,
        }))
    }

    /// Reads one located entry back.
    fn entry(&self, located: &Located) -> Result<Value, ToolError> {
        let file = if located.in_journal {
            &self.journal
        } else {
            &self.index
        };
        let Some(file) = file else {
            return Ok(Value::Null);
        };
        let bytes = file.read_at(located.offset, located.length)?;
        Ok(if located.in_journal {
            journal_record(&bytes).map_or(Value::Null, |(_, entry)| entry)
        } else {
            parse_lenient(&bytes).unwrap_or(Value::Null)
        })
    }
}

/// Writes index.json atomically from entries produced one at a time; returns its identity.
fn write_index(
    store: &Store,
    updated_at: &Value,
    count: usize,
    entry: &mut dyn FnMut(usize) -> Result<Value, ToolError>,
) -> Result<FileId, ToolError> {
    let mut failure = None;
    let written = store.write_atomic_with(INDEX_FILE, &mut |out| {
        let io = |source| StoreError::Io {
            op: "write",
            path: INDEX_FILE.to_string(),
            source,
        };
        let head = format!(
            "{{\n  \"version\": {INDEX_VERSION},\n  \"updatedAt\": {},\n  \"items\": [",
            to_compact(updated_at)
        );
        out.write_all(head.as_bytes()).map_err(io)?;
        for n in 0..count {
            let value = match entry(n) {
                Ok(value) => value,
                Err(error) => {
                    failure = Some(error);
                    return Err(io(std::io::Error::other("entry unreadable")));
                }
            };
            let separator = if n == 0 { "\n    " } else { ",\n    " };
            out.write_all(separator.as_bytes()).map_err(io)?;
            out.write_all(to_pretty_at(&value, 2).as_bytes())
                .map_err(io)?;
        }
        let tail = if count == 0 { "]\n}\n" } else { "\n  ]\n}\n" };
        out.write_all(tail.as_bytes()).map_err(io)
    });
    match (written, failure) {
        (_, Some(error)) => Err(error),
        (written, None) => Ok(written?),
    }
}

/// Rebuilds index.json from every item file (caller holds the index lock); an item file the
/// store refuses or that is not valid JSON is left out and returned as skipped.
fn rebuild_locked(store: &Store) -> Result<(Value, Vec<Skipped>), ToolError> {
    let names = names_with_suffix(store, ITEMS_DIR, ".json")?;
    let listing = read_listed(store, ITEMS_DIR, &names)?;
    let mut entries: Vec<Value> = listing.records.iter().map(index_entry).collect();
    entries.sort_by_key(ts_key);
    let index = json!({"version": INDEX_VERSION, "updatedAt": now_iso(), "items": entries});
    store.write_atomic(INDEX_FILE, to_pretty_file(&index).as_bytes())?;
    store.remove(JOURNAL_FILE)?;
    Ok((index, listing.skipped))
}

/// The layout under the index lock, recovering a corrupt index.json from the item files
/// (an empty index if that fails).
fn layout_locked(store: &Store) -> Result<Layout, ToolError> {
    if let Some(layout) = Layout::read(store)? {
        return Ok(layout);
    }
    if rebuild_locked(store).is_err() {
        store.write_atomic(INDEX_FILE, to_pretty_file(&empty_index()).as_bytes())?;
    }
    Ok(Layout::read(store)?.unwrap_or(Layout {
        updated_at: Value::Null,
        entries: Vec::new(),
        index: None,
        journal: None,
    }))
}

/// Recovers a corrupt index.json from the item files under the index lock (an empty index if
/// that fails); a file another process already repaired is left alone.
pub fn recover(store: &Store) -> Result<(), ToolError> {
    let _lock = store.lock(LockKind::KnowledgeIndex)?;
    let corrupt = match store.open_read(INDEX_FILE)? {
        Some(mut file) => scan_index(&mut file, &mut |_, _, _| {})?.is_none(),
        None => false,
    };
    if corrupt && rebuild_locked(store).is_err() {
        store.write_atomic(INDEX_FILE, to_pretty_file(&empty_index()).as_bytes())?;
    }
    Ok(())
}

/// The current index as one value (index.json with the journal folded in), recovering a
/// corrupt file. It holds every entry: for the resources and reports that show them all;
/// queries and listings use the in-memory [`super::cache`] instead.
pub fn read_index(store: &Store) -> Result<Value, ToolError> {
    let layout = match Layout::read(store)? {
        Some(layout) => layout,
        None => {
            let _lock = store.lock(LockKind::KnowledgeIndex)?;
            layout_locked(store)?
        }
    };
    let mut items = Vec::with_capacity(layout.entries.len());
    for located in &layout.entries {
        items.push(layout.entry(located)?);
    }
    Ok(json!({"version": INDEX_VERSION, "updatedAt": layout.updated_at, "items": items}))
}

/// What a compaction replaced: the cache can adopt the new file if it had folded exactly
/// the old ones.
#[derive(Debug, Clone, Copy)]
pub struct Compaction {
    pub index_before: Option<FileId>,
    pub journal_before: FileId,
    pub index_after: FileId,
}

/// Folds a non-empty journal into index.json (caller holds the index lock), streaming.
pub fn compact_locked(store: &Store) -> Result<Option<Compaction>, ToolError> {
    let journal_before = match store.file_id(JOURNAL_FILE)? {
        Some(id) if id.size > 0 => id,
        _ => return Ok(None),
    };
    let index_before = store.file_id(INDEX_FILE)?;
    let layout = layout_locked(store)?;
    let index_after = write_index(store, &json!(now_iso()), layout.entries.len(), &mut |n| {
        layout.entry(&layout.entries[n])
    })?;
    store.remove(JOURNAL_FILE)?;
    Ok(Some(Compaction {
        index_before,
        journal_before,
        index_after,
    }))
}

/// Compacts a non-empty journal (at clean shutdown: a Node server then sees every item).
pub fn compact_if_pending(store: &Store) -> Result<(), ToolError> {
    if store.file_id(JOURNAL_FILE)?.is_none_or(|id| id.size == 0) {
        return Ok(());
    }
    let _lock = store.lock(LockKind::KnowledgeIndex)?;
    compact_locked(store).map(drop)
}

/// The journal line recording an item's entry.
pub fn journal_line(item: &Value) -> String {
    let line = json!({"op": "upsert", "at": now_iso(), "entry": index_entry(item)});
    format!("{}\n", to_compact(&line))
}

/// Appends a journal line (caller holds the index lock).
pub fn append_locked(store: &Store, line: &str) -> Result<(), ToolError> {
    Ok(store.append_line(JOURNAL_FILE, line.as_bytes())?)
}

/// Whether the journal has outgrown half of index.json (and [`JOURNAL_MIN_BYTES`]).
pub fn journal_due(store: &Store) -> Result<bool, ToolError> {
    let journal = store.size(JOURNAL_FILE)?.unwrap_or(0);
    let index = store.size(INDEX_FILE)?.unwrap_or(0);
    Ok(journal > JOURNAL_MIN_BYTES.max(index / 2))
}

/// Rebuilds index.json from the item files under the index lock; returns it and the item
/// files it left out.
pub fn rebuild(store: &Store) -> Result<(Value, Vec<Skipped>), ToolError> {
    let _lock = store.lock(LockKind::KnowledgeIndex)?;
    rebuild_locked(store)
}

/// The index as the original wrote it: our ranking statistics removed from each entry.
pub fn original_shape(index: &Value) -> Value {
    let mut out = index.clone();
    if let Some(items) = out.get_mut("items").and_then(Value::as_array_mut) {
        for entry in items.iter_mut().filter_map(Value::as_object_mut) {
            entry.remove("rank");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_counts_put_integer_keys_first_then_count_then_collation() {
        let tokens: Vec<String> = ["cache", "b-x", "b_x", "2024", "10", "cache", "05"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let keys: Vec<String> = term_counts(&tokens).keys().cloned().collect();
        assert_eq!(keys, vec!["10", "2024", "cache", "05", "b_x", "b-x"]);
    }

    #[test]
    fn summary_preview_is_cut_at_280_units() {
        let at = index_entry(&json!({"id": "k", "summary": "x".repeat(280)}));
        assert_eq!(at["summary"], json!("x".repeat(280)));
        let over = index_entry(&json!({"id": "k", "summary": "x".repeat(281)}));
        assert_eq!(over["summary"], json!(format!("{}…", "x".repeat(280))));
    }

    #[test]
    fn rank_round_trips_and_is_bounded() {
        let entry = index_entry(&json!({"id": "k", "title": "Cache builds", "tags": ["ci"],
            "content": "restore the cache keyed on the lockfile"}));
        let stats = entry_stats(&entry);
        assert_eq!(stats.lengths, [2, 1, 0, 0, 4]);
        assert_eq!(stats.terms["cach"], [1, 0, 0, 0, 1]);
        assert_eq!(stats.terms["ci"], [0, 1, 0, 0, 0]);
        assert_eq!(decode_rank(&encode_rank(&stats)), stats);
        let words: Vec<String> = (0..3000).map(|i| format!("word{i}x")).collect();
        let big = index_entry(&json!({"id": "k", "title": "t", "content": words.join(" ")}));
        let rank = big["rank"].as_str().expect("rank");
        assert!(rank.len() <= MAX_RANK_BYTES, "{}", rank.len());
    }
}

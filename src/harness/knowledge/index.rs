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
//!   atomically, then remove the journal. Queries and rebuilds compact too, so a Node server
//!   reading index.json sees every item once anyone has queried.
//! * **Readers** fold the journal over index.json by id (a journal entry replaces the entry with
//!   the same id; the result is sorted by `ts`). They read the journal *before* index.json, so a
//!   compaction between the two reads shows the same entries twice (harmless) and never none.
//!   An unterminated last line (an append cut short) and unparsable lines are ignored.
//! * **Crash safety**: an append is durable before it is acknowledged; compaction is an
//!   atomic replace followed by removal of the journal; a crash between the two leaves entries
//!   in both, and replay is idempotent.
//! * **Corruption**: an index.json that does not parse, is not an object, or whose `items` is
//!   not an array is rebuilt from `knowledge/items/*.json` under the index lock (an empty index
//!   if that fails).
//!
//! Index entries keep every field of the original (`id, ts, kind, title, summary, tags,
//! confidence, source, termCounts, tokenTotal`) and add `fieldTerms` (per ranked term, its
//! frequency in title, tags, summary, key findings and body) and `fieldLengths`, which the
//! ranker needs; a Node reader ignores them. Entries written by a Node server lack them and are
//! ranked from what they have.

use crate::clock::now_iso;
use crate::harness::records::{names_with_suffix, read_json, strings};
use crate::harness::{truthy, ToolError};
use crate::json::{parse_lenient, to_compact, to_pretty_file};
use crate::knowledge::{analyze, collate, is_integer_key, tokenize, FieldStats};
use crate::sanitize::{js_string, utf16_len, utf16_prefix};
use crate::store::{LockKind, Store};
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
/// Ranked terms kept per entry (the highest weighted frequencies).
pub const MAX_RANKED_TERMS: usize = 160;
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

/// Keeps the [`MAX_RANKED_TERMS`] terms with the highest weighted frequency.
fn bounded(mut stats: FieldStats) -> FieldStats {
    if stats.terms.len() <= MAX_RANKED_TERMS {
        return stats;
    }
    let weights = crate::knowledge::Bm25Params::default().weights;
    let weight =
        |f: &[u32; 5]| -> f64 { f.iter().zip(weights).map(|(n, w)| f64::from(*n) * w).sum() };
    let mut terms: Vec<(String, [u32; 5])> = stats.terms.drain().collect();
    terms.sort_by(|a, b| {
        weight(&b.1)
            .total_cmp(&weight(&a.1))
            .then_with(|| collate(&a.0, &b.0))
    });
    terms.truncate(MAX_RANKED_TERMS);
    stats.terms = terms.into_iter().collect();
    stats
}

fn stats_to_json(stats: &FieldStats) -> (Value, Value) {
    let mut terms: Vec<(&String, &[u32; 5])> = stats.terms.iter().collect();
    terms.sort_by(|a, b| collate(a.0, b.0));
    let map: Map<String, Value> = terms
        .into_iter()
        .map(|(t, f)| (t.clone(), json!(f)))
        .collect();
    (Value::Object(map), json!(stats.lengths))
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
    let (field_terms, field_lengths) =
        stats_to_json(&bounded(stats_from_texts(&field_texts(item))));
    let mut entry = Map::new();
    entry.insert("id".into(), item.get("id").cloned().unwrap_or(Value::Null));
    entry.insert("ts".into(), item.get("ts").cloned().unwrap_or(Value::Null));
    entry.insert(
        "kind".into(),
        item.get("kind").cloned().unwrap_or(Value::Null),
    );
    entry.insert(
        "title".into(),
        item.get("title").cloned().unwrap_or(Value::Null),
    );
    entry.insert("summary".into(), summary);
    entry.insert("tags".into(), or("tags", json!([])));
    entry.insert(
        "confidence".into(),
        item.get("confidence").cloned().unwrap_or(Value::Null),
    );
    entry.insert("source".into(), or("source", json!({})));
    entry.insert("termCounts".into(), Value::Object(term_counts(&tokens)));
    entry.insert("tokenTotal".into(), json!(tokens.len()));
    entry.insert("fieldTerms".into(), field_terms);
    entry.insert("fieldLengths".into(), field_lengths);
    Value::Object(entry)
}

/// The ranking statistics of an index entry: stored ones, or (for an entry a Node server
/// wrote) derived from its title, tags, summary preview and `termCounts`.
pub fn entry_stats(entry: &Value) -> FieldStats {
    if let (Some(Value::Object(terms)), Some(Value::Array(lengths))) =
        (entry.get("fieldTerms"), entry.get("fieldLengths"))
    {
        let mut stats = FieldStats::default();
        for (slot, length) in stats.lengths.iter_mut().zip(lengths) {
            *slot = length.as_u64().unwrap_or(0) as u32;
        }
        for (term, frequencies) in terms {
            let mut counts = [0u32; 5];
            if let Value::Array(values) = frequencies {
                for (slot, value) in counts.iter_mut().zip(values) {
                    *slot = value.as_u64().unwrap_or(0) as u32;
                }
            }
            stats.terms.insert(term.clone(), counts);
        }
        return stats;
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

/// A parsed index.json if it is usable: absent → the empty index; corrupt → `None`.
fn read_index_file(store: &Store) -> Result<Option<Value>, ToolError> {
    let Some(bytes) = store.read(INDEX_FILE)? else {
        return Ok(Some(empty_index()));
    };
    Ok(parse_lenient(&bytes)
        .ok()
        .filter(|index| index.get("items").is_some_and(Value::is_array)))
}

/// The journal's complete, parsable lines: `(at, entry)`.
fn read_journal(store: &Store) -> Result<Vec<(Value, Value)>, ToolError> {
    let Some(bytes) = store.read(JOURNAL_FILE)? else {
        return Ok(Vec::new());
    };
    let complete = match bytes.iter().rposition(|b| *b == b'\n') {
        Some(end) => &bytes[..=end],
        None => &[][..],
    };
    Ok(complete
        .split(|b| *b == b'\n')
        .filter_map(|line| parse_lenient(line).ok())
        .filter_map(|mut record| {
            let entry = record.get_mut("entry").map(Value::take)?;
            entry.get("id").filter(|id| id.is_string())?;
            Some((record.get("at").cloned().unwrap_or(Value::Null), entry))
        })
        .collect())
}

/// Folds journal entries over an index: same id replaced, sorted by `ts` (stable).
fn fold(mut index: Value, journal: Vec<(Value, Value)>) -> Value {
    if journal.is_empty() {
        return index;
    }
    let mut items: Vec<Value> = index
        .get_mut("items")
        .and_then(Value::as_array_mut)
        .map(std::mem::take)
        .unwrap_or_default();
    let mut positions: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, entry)| (id_key(entry), i))
        .collect();
    let mut updated = index.get("updatedAt").cloned().unwrap_or(Value::Null);
    for (at, entry) in journal {
        let id = id_key(&entry);
        if let Some(old) = positions.get(&id) {
            items[*old] = Value::Null;
        }
        positions.insert(id, items.len());
        items.push(entry);
        if truthy(&at) && js_string(&at) > js_string(&updated) {
            updated = at;
        }
    }
    items.retain(|entry| !entry.is_null());
    items.sort_by_key(ts_key);
    json!({"version": INDEX_VERSION, "updatedAt": updated, "items": items})
}

/// Rebuilds index.json from every item file (caller holds the index lock). A parse error in
/// an item file is returned.
fn rebuild_locked(store: &Store) -> Result<Value, ToolError> {
    let mut entries = Vec::new();
    for name in names_with_suffix(store, ITEMS_DIR, ".json")? {
        if let Some(item) = read_json(store, &format!("{ITEMS_DIR}/{name}"))? {
            entries.push(index_entry(&item));
        }
    }
    entries.sort_by_key(ts_key);
    let index = json!({"version": INDEX_VERSION, "updatedAt": now_iso(), "items": entries});
    store.write_atomic(INDEX_FILE, to_pretty_file(&index).as_bytes())?;
    store.remove(JOURNAL_FILE)?;
    Ok(index)
}

/// index.json under the index lock, recovering it from the item files if it is corrupt.
fn index_file_locked(store: &Store) -> Result<Value, ToolError> {
    match read_index_file(store)? {
        Some(index) => Ok(index),
        None => Ok(rebuild_locked(store).unwrap_or_else(|_| empty_index())),
    }
}

/// The current index (index.json with the journal folded in), recovering a corrupt file.
pub fn read_index(store: &Store) -> Result<Value, ToolError> {
    let journal = read_journal(store)?;
    let index = match read_index_file(store)? {
        Some(index) => index,
        None => {
            let _lock = store.lock(LockKind::KnowledgeIndex)?;
            return Ok(fold(index_file_locked(store)?, read_journal(store)?));
        }
    };
    Ok(fold(index, journal))
}

/// Folds the journal into index.json (caller holds the index lock).
fn compact_locked(store: &Store) -> Result<Value, ToolError> {
    let journal = read_journal(store)?;
    let index = index_file_locked(store)?;
    if journal.is_empty() {
        return Ok(index);
    }
    let mut folded = fold(index, journal);
    folded["updatedAt"] = json!(now_iso());
    store.write_atomic(INDEX_FILE, to_pretty_file(&folded).as_bytes())?;
    store.remove(JOURNAL_FILE)?;
    Ok(folded)
}

/// Folds a non-empty journal into index.json; returns the current index.
pub fn compact(store: &Store) -> Result<Value, ToolError> {
    if store.size(JOURNAL_FILE)?.unwrap_or(0) == 0 {
        return read_index(store);
    }
    let _lock = store.lock(LockKind::KnowledgeIndex)?;
    compact_locked(store)
}

/// Records an item's entry: one journal line, and a compaction once the journal has grown
/// past half of index.json. Called with the state lock held; takes the index lock.
pub fn upsert(store: &Store, item: &Value) -> Result<(), ToolError> {
    let line = json!({"op": "upsert", "at": now_iso(), "entry": index_entry(item)});
    let _lock = store.lock(LockKind::KnowledgeIndex)?;
    store.append_line(JOURNAL_FILE, format!("{}\n", to_compact(&line)).as_bytes())?;
    let journal = store.size(JOURNAL_FILE)?.unwrap_or(0);
    let index = store.size(INDEX_FILE)?.unwrap_or(0);
    if journal > JOURNAL_MIN_BYTES.max(index / 2) {
        compact_locked(store)?;
    }
    Ok(())
}

/// Rebuilds index.json from the item files under the index lock.
pub fn rebuild(store: &Store) -> Result<Value, ToolError> {
    let _lock = store.lock(LockKind::KnowledgeIndex)?;
    rebuild_locked(store)
}

/// The index as the original wrote it: our ranking statistics removed from each entry.
pub fn original_shape(index: &Value) -> Value {
    let mut out = index.clone();
    if let Some(items) = out.get_mut("items").and_then(Value::as_array_mut) {
        for entry in items.iter_mut().filter_map(Value::as_object_mut) {
            entry.remove("fieldTerms");
            entry.remove("fieldLengths");
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
    fn journal_entries_replace_same_id_and_sort_by_ts() {
        let index = json!({"version": 1, "updatedAt": "2026-01-01T00:00:00.000Z", "items": [
            {"id": "a", "ts": "2026-01-02"}, {"id": "b", "ts": "2026-01-03"}]});
        let journal = vec![
            (
                json!("2026-02-01T00:00:00.000Z"),
                json!({"id": "a", "ts": "2026-01-04"}),
            ),
            (
                json!("2026-02-02T00:00:00.000Z"),
                json!({"id": "c", "ts": "2026-01-01"}),
            ),
        ];
        let folded = fold(index, journal);
        let ids: Vec<&str> = folded["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec!["c", "b", "a"]);
        assert_eq!(folded["updatedAt"], "2026-02-02T00:00:00.000Z");
    }
}

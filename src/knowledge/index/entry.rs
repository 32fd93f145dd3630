//! Index entries: what the index holds for one item. The fields of the original's version-1
//! index (`id, ts, kind, title, summary, tags, confidence, source, termCounts, tokenTotal`),
//! computed bit for bit as it does, and `rank`, our ranking statistics in one compact string
//! (see [`encode_rank`]): the field lengths, then each ranked term with its frequency in title,
//! tags, summary, key findings and body, at most [`MAX_RANK_BYTES`] bytes. A Node reader
//! ignores it; entries written by a Node server lack it and are ranked from what they have.
//! Pure functions: no I/O.

use crate::harness::records::strings;
use crate::harness::truthy;
use crate::knowledge::{analyze, collate, is_integer_key, tokenize, FieldStats};
use crate::sanitize::{js_string, utf16_len, utf16_prefix};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub const INDEX_VERSION: i64 = 1;
/// `termCounts` keeps this many terms (the original's figure).
pub const MAX_TERM_COUNTS: usize = 40;
/// Longer tokens are left out of `termCounts` (still counted in `tokenTotal`).
pub const MAX_TERM_LENGTH: usize = 80;
/// The index's summary preview, in UTF-16 units, before `…`.
pub const SUMMARY_PREVIEW: usize = 280;
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

/// Reads a `rank` string without building a map: the field lengths, and `term(term,
/// frequencies)` for each ranked term. Malformed parts are skipped.
pub fn read_rank(text: &str, term: &mut dyn FnMut(&str, [u32; 5])) -> [u32; 5] {
    let mut lengths = [0u32; 5];
    let mut parts = text.split(' ');
    for (slot, length) in lengths
        .iter_mut()
        .zip(parts.next().unwrap_or("").split(','))
    {
        *slot = length.parse().unwrap_or(0);
    }
    for part in parts {
        let Some((name, counts)) = part.split_once(':') else {
            continue;
        };
        let mut frequencies = [0u32; 5];
        for (slot, count) in frequencies.iter_mut().zip(counts.split(',')) {
            *slot = count.parse().unwrap_or(0);
        }
        if !name.is_empty() {
            term(name, frequencies);
        }
    }
    lengths
}

/// Reads a `rank` string into ranking statistics; malformed parts are skipped.
fn decode_rank(text: &str) -> FieldStats {
    let mut stats = FieldStats::default();
    stats.lengths = read_rank(text, &mut |term, frequencies| {
        stats.terms.insert(term.to_string(), frequencies);
    });
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

/// An index entry as the original wrote it: our ranking statistics removed.
pub fn node_entry(entry: &Value) -> Value {
    let mut out = entry.clone();
    if let Some(fields) = out.as_object_mut() {
        fields.remove("rank");
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

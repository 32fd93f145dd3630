//! Serving knowledge: building an item from tool arguments, where its files go, its
//! agent-safe projection and Markdown companion, listing, paging and retrieval.
//!
//! Retrieval ranks the in-memory index ([`memory`]), scoring only the entries that share a
//! term with the query, then opens only the item files of the results it returns; listing
//! and paging read only the entries they return. Nothing here reads a whole index file. It
//! must never write an item file after creating it, and never take the state lock while
//! holding the index lock.

use super::index::{self, memory};
use crate::agent_text;
use crate::clock::{now_iso, today};
use crate::harness::records::{
    bullet_list, load_record, strings, wrap, wrap_list, wrap_or_null, UNTRUSTED_NOTICE,
};
use crate::harness::{truthy, Args, ToolError};
use crate::json::to_pretty_file;
use crate::knowledge::{analyze, tokenize};
use crate::sanitize::{
    js_string, random_hex, sanitize_list, sanitize_nullable, sanitize_text, slugify, utf16_slice,
    AgentText, Form, MAX_TEXT_LENGTH,
};
use crate::store::Store;
use serde_json::{json, Map, Value};

pub use index::ITEMS_DIR;
pub use memory::{export_if_pending, rebuild};

/// The kinds an item may have; anything else is stored as `knowledge`.
pub const KINDS: [&str; 7] = [
    "knowledge",
    "research",
    "implementation_lesson",
    "decision",
    "source",
    "pattern",
    "project_note",
];
/// The confidence levels; anything else is stored as `unknown`.
pub const CONFIDENCES: [&str; 4] = ["low", "medium", "high", "unknown"];

/// Query results: default and largest count.
pub const DEFAULT_MAX_RESULTS: i64 = 5;
pub const MAX_MAX_RESULTS: i64 = 20;

/// Weight of a query term's abbreviation/expansion relative to the term itself.
const EXPANSION_WEIGHT: f64 = 0.5;
/// Common software abbreviations and their long forms, matched after stemming. A query term
/// also searches its counterpart at [`EXPANSION_WEIGHT`].
const ABBREVIATIONS: [(&str, &str); 12] = [
    ("db", "database"),
    ("auth", "authentication"),
    ("config", "configuration"),
    ("env", "environment"),
    ("repo", "repository"),
    ("deps", "dependency"),
    ("dep", "dependency"),
    ("perf", "performance"),
    ("k8s", "kubernetes"),
    ("msg", "message"),
    ("err", "error"),
    ("tz", "timezone"),
];

fn random(bytes: usize) -> Result<String, ToolError> {
    random_hex(bytes).map_err(|error| ToolError::new(format!("random source failed: {error}")))
}

fn one_of(value: Option<String>, allowed: &[&str], fallback: &str) -> String {
    match value {
        Some(v) if allowed.contains(&v.as_str()) => v,
        _ => fallback.to_string(),
    }
}

/// Builds a knowledge item from tool arguments (the original's `buildKnowledgeItem`).
pub fn build_item(args: Args<'_>, state: &Map<String, Value>) -> Result<Value, ToolError> {
    let title = args.sanitized("title", 240);
    if title.is_empty() {
        return Err(ToolError::new("title is required."));
    }
    let content = args.sanitized("content", MAX_TEXT_LENGTH);
    if content.is_empty()
        && args.truthy("summary").is_none()
        && args.value("key_findings").is_none()
    {
        return Err(ToolError::new(
            "content, summary, or key_findings is required.",
        ));
    }
    let kind = one_of(
        args.text("kind").map(|k| sanitize_text(&k, 80)),
        &KINDS,
        "knowledge",
    );
    let confidence = one_of(
        args.text("confidence").map(|c| sanitize_text(&c, 40)),
        &CONFIDENCES,
        "unknown",
    );
    let contract = args
        .truthy("contract_id")
        .or_else(|| state.get("activeContractId").filter(|v| truthy(v)));
    Ok(json!({
        "id": format!("knowledge-{}-{}-{}", today(), slugify(&title), random(6)?),
        "ts": now_iso(),
        "kind": kind,
        "contractId": sanitize_nullable(contract, 120),
        "title": title,
        "summary": args.nullable("summary", 1000),
        "content": content,
        "tags": args.list("tags", 80),
        "keyFindings": args.list("key_findings", 1000),
        "filesChanged": args.list("files_changed", 500),
        "evidence": sanitize_list(args.value("evidence"), 500),
        "confidence": confidence,
        "source": {
            "type": args.nullable("source_type", 80),
            "url": args.nullable("source_url", 500),
            "path": args.nullable("source_path", 500)
        }
    }))
}

/// Where an item's Markdown companion goes: research and lessons have their own folders.
pub fn markdown_path(item: &Value) -> String {
    let folder = match item.get("kind").and_then(Value::as_str) {
        Some("research") => "research",
        Some("implementation_lesson") => "lessons",
        _ => "items",
    };
    format!("knowledge/{folder}/{}.md", js_string(&item["id"]))
}

/// Writes an item's JSON and Markdown and records it in the index. The caller holds the
/// state lock (the index lock is taken inside it, see [`memory::record`]).
pub fn store_item(store: &Store, item: &Value) -> Result<(), ToolError> {
    let id = js_string(&item["id"]);
    store.create_new(
        &format!("{ITEMS_DIR}/{id}.json"),
        to_pretty_file(item).as_bytes(),
    )?;
    store.create_new(
        &markdown_path(item),
        render_knowledge_item(item).as_str().as_bytes(),
    )?;
    memory::record(store, &index::entry_line(&index::index_entry(item)))
}

/// A stored item by id; `None` if the id is unsafe or the file is missing.
pub fn load_item(store: &Store, id: &str) -> Result<Option<Value>, ToolError> {
    load_record(store, ITEMS_DIR, id)
}

/// `agentSafeKnowledgeItem`: every piece of stored text wrapped as untrusted data.
pub fn agent_safe_knowledge_item(item: &Value) -> Value {
    let field = |key: &str| item.get(key);
    let source = |key: &str| item.get("source").and_then(|s| s.get(key));
    json!({
        "id": field("id"),
        "ts": field("ts"),
        "kind": field("kind"),
        "contractId": field("contractId"),
        "confidence": field("confidence"),
        "title": wrap(field("title"), "knowledge.title"),
        "summary": wrap_or_null(field("summary"), "knowledge.summary"),
        "content": wrap_or_null(field("content"), "knowledge.content"),
        "tags": wrap_list(field("tags"), "knowledge.tags"),
        "keyFindings": wrap_list(field("keyFindings"), "knowledge.keyFindings"),
        "filesChanged": wrap_list(field("filesChanged"), "knowledge.filesChanged"),
        "evidence": wrap_list(field("evidence"), "knowledge.evidence"),
        "source": {
            "type": source("type").filter(|v| truthy(v)).cloned().unwrap_or(Value::Null),
            "url": wrap_or_null(source("url"), "knowledge.source.url"),
            "path": wrap_or_null(source("path"), "knowledge.source.path")
        }
    })
}

fn block(value: Option<&Value>, label: &str) -> AgentText {
    AgentText::block_value(value.filter(|v| !v.is_null()), label)
}

/// The item's Markdown companion (also `harness://knowledge/item/{id}`).
pub fn render_knowledge_item(item: &Value) -> AgentText {
    let field = |key: &str| item.get(key);
    let present = |key: &str| field(key).is_some_and(truthy);
    let source = |key: &str| {
        item.get("source")
            .and_then(|s| s.get(key))
            .filter(|v| truthy(v))
    };
    let mut lines: Vec<AgentText> = vec![
        AgentText::literal("# Harness Knowledge Item"),
        AgentText::default(),
        agent_text!(
            "Knowledge ID: `{}`",
            AgentText::stored(field("id"), Form::Id, "knowledge.id")
        ),
        agent_text!(
            "Kind: `{}`",
            AgentText::stored(field("kind"), Form::Word("kind"), "knowledge.kind")
        ),
        agent_text!(
            "Confidence: `{}`",
            AgentText::stored(
                field("confidence"),
                Form::Word("confidence"),
                "knowledge.confidence"
            )
        ),
        agent_text!(
            "Timestamp: {}",
            AgentText::stored(field("ts"), Form::Timestamp, "knowledge.ts")
        ),
        AgentText::default(),
        agent_text!(
            "{} This includes text taken from the sources it cites.",
            AgentText::literal(UNTRUSTED_NOTICE)
        ),
        AgentText::default(),
        AgentText::literal("## Title"),
        AgentText::default(),
        block(field("title"), "knowledge.title"),
    ];
    if present("summary") {
        lines.extend([
            AgentText::literal(""),
            AgentText::literal("## Summary"),
            AgentText::literal(""),
            block(field("summary"), "knowledge.summary"),
        ]);
    }
    if source("url").is_some() || source("path").is_some() {
        lines.extend([
            AgentText::literal(""),
            AgentText::literal("## Source"),
            AgentText::literal(""),
        ]);
        if let Some(url) = source("url") {
            lines.push(block(Some(url), "knowledge.source.url"));
        }
        if let Some(path) = source("path") {
            lines.push(block(Some(path), "knowledge.source.path"));
        }
    }
    for (key, heading) in [
        ("tags", "Tags"),
        ("keyFindings", "Key Findings"),
        ("filesChanged", "Files Changed"),
        ("evidence", "Evidence"),
    ] {
        let items = strings(field(key));
        if !items.is_empty() {
            lines.extend([
                AgentText::default(),
                agent_text!("## {}", AgentText::literal(heading)),
                AgentText::default(),
                bullet_list(&items, &format!("knowledge.{key}")),
            ]);
        }
    }
    if present("content") {
        lines.extend([
            AgentText::literal(""),
            AgentText::literal("## Content"),
            AgentText::literal(""),
            block(field("content"), "knowledge.content"),
        ]);
    }
    agent_text!("{}\n", AgentText::join(lines, "\n"))
}

/// The newest `limit` items, agent-safe, newest first (as `harness_list_knowledge`): entries
/// come from the index (no rebuild when it is empty), items whose file is gone are skipped.
pub fn list_recent_knowledge(store: &Store, limit: usize) -> Result<Vec<Value>, ToolError> {
    let ids = memory::with_cache(store, |cache| Ok(cache.recent(limit)))?;
    let mut items = Vec::new();
    for id in ids {
        if let Some(item) = load_item(store, &id)? {
            items.push(agent_safe_knowledge_item(&item));
        }
    }
    Ok(items)
}

/// One query result, before projection.
pub struct Hit {
    pub score: f64,
    pub item: Value,
    pub snippet: String,
}

/// The original's snippet: up to 520 units around the first query token found in the text.
fn snippet(item: &Value, tokens: &[String]) -> String {
    let text_of = |key: &str| item.get(key).filter(|v| truthy(v)).map(js_string);
    let source = text_of("content")
        .or_else(|| text_of("summary"))
        .or_else(|| item.get("title").map(js_string))
        .unwrap_or_default();
    let text = sanitize_text(&source, 4000);
    if text.is_empty() {
        return item.get("title").map(js_string).unwrap_or_default();
    }
    let lower = text.to_lowercase();
    let Some(offset) = tokens.iter().find_map(|token| lower.find(token.as_str())) else {
        return utf16_slice(&text, 0, 500).to_string();
    };
    let start = crate::sanitize::utf16_len(&lower[..offset]).saturating_sub(180);
    utf16_slice(&text, start, 520).to_string()
}

/// The query's weighted ranking terms: each analysed term once per occurrence, and its
/// abbreviation counterpart at a lower weight.
fn query_terms(query: &str) -> Vec<(String, f64)> {
    let mut weights: Vec<(String, f64)> = Vec::new();
    let mut add = |term: String, weight: f64| match weights.iter_mut().find(|(t, _)| *t == term) {
        Some((_, w)) => *w += weight,
        None => weights.push((term, weight)),
    };
    for term in analyze(query, 200) {
        for (short, long) in ABBREVIATIONS {
            let (short, long) = (analyze(short, 1), analyze(long, 1));
            if short.contains(&term) {
                long.into_iter().for_each(|t| add(t, EXPANSION_WEIGHT));
            } else if long.contains(&term) {
                short.into_iter().for_each(|t| add(t, EXPANSION_WEIGHT));
            }
        }
        add(term, 1.0);
    }
    weights
}

/// Ranks the index for `query` and loads the best `max_results` items. `query` is already
/// sanitised; `tags` filters entries (any tag matches, case-insensitively). An empty index is
/// rebuilt from the item files first (the original's rule).
pub fn query(
    store: &Store,
    query: &str,
    tags: &[String],
    max_results: usize,
) -> Result<Vec<Hit>, ToolError> {
    let tokens = tokenize(query);
    if memory::with_cache(store, |cache| Ok(cache.is_empty()))? {
        memory::rebuild(store)?;
    }
    let filter: Vec<String> = tags.iter().map(|t| t.to_lowercase()).collect();
    let terms = query_terms(query);
    let everything = query.is_empty() && tokens.is_empty();
    let rank = |limit: usize| {
        memory::with_cache(store, |cache| {
            Ok(cache.rank(&terms, &filter, everything, tokens.is_empty(), limit))
        })
    };
    // The best few first; all of them only if item files are missing.
    let mut ranked = rank(max_results)?;
    let mut complete = ranked.len() < max_results;
    loop {
        let mut hits = Vec::new();
        for (score, id) in &ranked {
            if hits.len() >= max_results {
                break;
            }
            if let Some(item) = load_item(store, id)? {
                let snippet = snippet(&item, &tokens);
                hits.push(Hit {
                    score: *score,
                    item,
                    snippet,
                });
            }
        }
        if hits.len() >= max_results || complete {
            return Ok(hits);
        }
        ranked = rank(usize::MAX)?;
        complete = true;
    }
}

/// A page of the index in time order, as index entries, and how many there are in all.
pub fn index_page(
    store: &Store,
    start: usize,
    count: usize,
) -> Result<(Vec<Value>, usize), ToolError> {
    memory::with_cache(store, |cache| {
        Ok((cache.page(store, start, count)?, cache.len()))
    })
}

/// The newest `count` index entries, newest first.
pub fn newest_entries(store: &Store, count: usize) -> Result<Vec<Value>, ToolError> {
    memory::with_cache(store, |cache| {
        let total = cache.len();
        let mut page = cache.page(store, total.saturating_sub(count), count)?;
        page.reverse();
        Ok(page)
    })
}

/// The ids of the indexed items `start..end`, oldest first, and how many there are in all.
pub fn indexed_ids(
    store: &Store,
    start: usize,
    end: usize,
) -> Result<(Vec<String>, usize), ToolError> {
    memory::with_cache(store, |cache| Ok((cache.ids(start, end), cache.len())))
}

/// `harness_query_knowledge`'s `max_results`: `x || 5`, clamped to [1, 20].
pub fn max_results(args: Args<'_>) -> usize {
    args.count("max_results", DEFAULT_MAX_RESULTS, MAX_MAX_RESULTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_centres_on_the_first_query_token_found() {
        let content = format!("{}needle{}", "a ".repeat(200), "b".repeat(600));
        let item = json!({"title": "t", "content": content});
        let text = snippet(&item, &["zzz".into(), "needle".into()]);
        assert_eq!(crate::sanitize::utf16_len(&text), 520);
        assert!(text.starts_with("a a"));
        assert_eq!(text.find("needle"), Some(180));
        let none = snippet(&item, &["zzz".into()]);
        assert_eq!(crate::sanitize::utf16_len(&none), 500);
    }

    #[test]
    fn abbreviations_expand_at_half_weight() {
        let terms = query_terms("db auth");
        assert!(terms.contains(&("db".to_string(), 1.0)));
        assert!(terms
            .iter()
            .any(|(t, w)| t == "databas" && *w == EXPANSION_WEIGHT));
        assert!(terms
            .iter()
            .any(|(t, w)| t.starts_with("authenticat") && *w == EXPANSION_WEIGHT));
    }
}

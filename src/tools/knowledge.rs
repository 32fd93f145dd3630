//! Knowledge tools: record_knowledge, record_research, record_lesson, query_knowledge,
//! list_knowledge and rebuild_knowledge_index. Argument handling and result shapes only; the
//! files, the index and the ranking live in [`crate::knowledge`].

use super::workspace::project_path;
use super::ToolOutput;
use crate::harness::records::Listing;
use crate::harness::state::{bump, mutate_state, push_event};
use crate::harness::{Args, ToolError};
use crate::knowledge::index::read_export;
use crate::knowledge::serve::{
    agent_safe_knowledge_item, build_item, list_recent_knowledge, max_results, query, rebuild,
    store_item,
};
use crate::sanitize::untrusted_block;
use crate::store::Store;
use serde_json::{json, Map, Value};

/// Largest and default `harness_list_knowledge` limit.
const LIST_DEFAULT: i64 = 10;
const LIST_MAX: i64 = 50;

/// Builds, stores and indexes an item under the state lock, counting it and logging the event.
fn record(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let (item, _) = mutate_state(store, |state| {
        let item = build_item(args, state)?;
        store_item(store, &item)?;
        bump(state, "knowledgeItems");
        push_event(
            state,
            "knowledge_recorded",
            json!({"ts": item["ts"], "knowledgeId": item["id"], "kind": item["kind"], "summary": item["title"]}),
        );
        Ok(item)
    })?;
    Ok(ToolOutput::Object(json!({
        "projectPath": project_path(store),
        "item": agent_safe_knowledge_item(&item)
    })))
}

pub fn record_knowledge(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    record(store, args)
}

pub fn record_research(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let mut input = args.0.clone();
    input.insert("kind".into(), json!("research"));
    let source_type = args.truthy("source_type").cloned().unwrap_or(json!("web"));
    input.insert("source_type".into(), source_type);
    record(store, Args(&input))
}

pub fn record_lesson(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let text = |key: &str| args.text(key).unwrap_or_default();
    let mut input: Map<String, Value> = args.0.clone();
    input.insert("kind".into(), json!("implementation_lesson"));
    let summary = args.truthy("summary").or_else(|| args.value("problem"));
    input.insert("summary".into(), summary.cloned().unwrap_or(Value::Null));
    input.insert(
        "content".into(),
        json!(format!(
            "Problem:\n{}\n\nSolution:\n{}",
            text("problem"),
            text("solution")
        )),
    );
    let findings = match args.truthy("key_findings") {
        Some(list) => list.clone(),
        None => json!(args.truthy("solution").into_iter().collect::<Vec<_>>()),
    };
    input.insert("key_findings".into(), findings);
    input.insert("source_type".into(), json!("implementation"));
    record(store, Args(&input))
}

pub fn query_knowledge(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let text = args.sanitized("query", 500);
    let tags = args.list("tags", 80);
    let hits = query(store, &text, &tags, max_results(args))?;
    mutate_state(store, |state| {
        bump(state, "knowledgeQueries");
        push_event(state, "knowledge_queried", json!({"summary": text}));
        Ok(())
    })?;
    let results: Vec<Value> = hits
        .iter()
        .map(|hit| {
            json!({
                "score": hit.score,
                "item": agent_safe_knowledge_item(&hit.item),
                "snippet": untrusted_block(Some(&hit.snippet), "knowledge.snippet")
            })
        })
        .collect();
    Ok(ToolOutput::Object(json!({
        "projectPath": project_path(store),
        "query": untrusted_block(Some(&text), "knowledge.query"),
        "results": results
    })))
}

pub fn list_knowledge(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let items = list_recent_knowledge(store, args.count("limit", LIST_DEFAULT, LIST_MAX))?;
    Ok(ToolOutput::Object(
        json!({"projectPath": project_path(store), "items": items}),
    ))
}

/// `harness://knowledge/recent`: the list with `limit = max_results || 8`.
pub fn recent_knowledge(store: &Store, limit: usize) -> Result<Value, ToolError> {
    let items = list_recent_knowledge(store, limit.clamp(1, LIST_MAX as usize))?;
    Ok(json!({"projectPath": project_path(store), "items": items}))
}

pub fn rebuild_knowledge_index(store: &Store, _args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let (item_count, skipped) = rebuild(store)?;
    let mut result = json!({
        "projectPath": project_path(store),
        "itemCount": item_count,
        "index": read_export(store)?
    });
    Listing::report_into(&skipped, &mut result);
    Ok(ToolOutput::Object(result))
}

//! The tool registry and dispatch. Each family module exposes plain functions of
//! `(store, args)`; this module owns the catalogue (names, descriptions, schemas, in the
//! original's `tools/list` order), validation before any handler runs, and the implicit
//! bootstrap every tool starts with.

mod contracts;
mod evals;
mod governance;
pub mod knowledge;
mod reports;
mod traces;
mod workspace;

use crate::harness::{ensure_harness, Args, ToolError};
use crate::json::to_pretty;
use crate::sanitize::{echo, AgentJson, AgentText};
use crate::schema;
use crate::store::Store;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// What a handler returns: an object (passed through the [`AgentJson`] sink, then sent
/// pretty-printed and as `structuredContent`) or a Markdown text (sent as text and as
/// `{"text": …}`).
pub enum ToolOutput {
    Object(Value),
    Text(AgentText),
}

type Handler = fn(&Store, Args<'_>) -> Result<ToolOutput, ToolError>;

/// A tool: its catalogue entry and its handler.
pub struct Tool {
    pub definition: Value,
    handler: Handler,
}

/// Why a `tools/call` could not run its handler (JSON-RPC -32602).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidCall(pub String);

fn handler_for(name: &str) -> Option<Handler> {
    Some(match name {
        "harness_bootstrap" => workspace::bootstrap,
        "harness_migrate" => workspace::migrate,
        "harness_update_state" => workspace::update_state,
        "harness_list" => workspace::list,
        "harness_compact_context" => workspace::compact_context,
        "harness_create_contract" => contracts::create_contract,
        "harness_next_step" => contracts::next_step,
        "harness_eval_gate" => contracts::eval_gate,
        "harness_record_trace" => traces::record_trace,
        "harness_record_verification" => traces::record_verification,
        "harness_record_harness_profile" => evals::record_harness_profile,
        "harness_list_harness_profiles" => evals::list_harness_profiles,
        "harness_record_eval_case" => evals::record_eval_case,
        "harness_record_eval_run" => evals::record_eval_run,
        "harness_compare_eval_runs" => evals::compare_eval_runs,
        "harness_record_harness_proposal" => evals::record_harness_proposal,
        "harness_list_harness_proposals" => evals::list_harness_proposals,
        "harness_record_promotion_decision" => evals::record_promotion_decision,
        "harness_list_promotion_decisions" => evals::list_promotion_decisions,
        "harness_write_governance_policy" => governance::write_policy,
        "harness_audit_governance" => governance::audit,
        "harness_export_governance_report" => governance::export_report,
        "harness_export_observability_report" => reports::observability_report,
        "harness_export_nl_harness" => reports::nl_harness,
        "harness_record_knowledge" => knowledge::record_knowledge,
        "harness_record_research" => knowledge::record_research,
        "harness_record_lesson" => knowledge::record_lesson,
        "harness_query_knowledge" => knowledge::query_knowledge,
        "harness_list_knowledge" => knowledge::list_knowledge,
        "harness_rebuild_knowledge_index" => knowledge::rebuild_knowledge_index,
        _ => return None,
    })
}

/// Every tool with a handler, in catalogue order.
pub fn registry() -> &'static [Tool] {
    static TOOLS: OnceLock<Vec<Tool>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let catalogue: Vec<Value> =
            serde_json::from_str(include_str!("catalog.json")).unwrap_or_default();
        catalogue
            .into_iter()
            .filter_map(|definition| {
                let handler = handler_for(definition.get("name")?.as_str()?)?;
                Some(Tool {
                    definition,
                    handler,
                })
            })
            .collect()
    })
}

pub fn find(name: &str) -> Option<&'static Tool> {
    registry()
        .iter()
        .find(|tool| tool.definition["name"] == name)
}

/// The `tools/list` result.
pub fn list() -> Value {
    json!({"tools": registry().iter().map(|tool| tool.definition.clone()).collect::<Vec<_>>()})
}

/// Runs `tools/call`: resolve the tool, check the arguments, bootstrap, run the handler and
/// shape the result. A handler failure is an `isError` result, not a protocol error.
pub fn call(
    store: &Store,
    name: Option<&str>,
    arguments: Option<&Value>,
) -> Result<Value, InvalidCall> {
    let tool = name.and_then(find).ok_or_else(|| {
        InvalidCall(format!(
            "Unknown tool: {}",
            name.filter(|n| !n.is_empty()).map_or_else(
                || "missing name".to_string(),
                |name| echo(name, "tool.name")
            )
        ))
    })?;
    let tool_name = tool.definition["name"].as_str().unwrap_or_default();
    let empty = Map::new();
    let args = match arguments {
        None => &empty,
        Some(Value::Object(map)) => map,
        Some(_) => {
            return Err(InvalidCall(format!(
                "Tool arguments for \"{tool_name}\" must be an object."
            )))
        }
    };
    schema::validate(
        &tool.definition["inputSchema"],
        &Value::Object(args.clone()),
    )
    .map_err(|message| InvalidCall(format!("Invalid params for \"{tool_name}\": {message}")))?;
    let outcome = check_project(store, Args(args)).and_then(|()| {
        if tool_name != "harness_bootstrap" {
            ensure_harness(store, None, false)?;
        }
        (tool.handler)(store, Args(args))
    });
    Ok(match outcome {
        Ok(ToolOutput::Object(value)) => {
            let shown = AgentJson::from_result(value).into_value();
            json!({
                "content": [{"type": "text", "text": to_pretty(&shown)}],
                "structuredContent": shown
            })
        }
        Ok(ToolOutput::Text(text)) => {
            let text = text.into_string();
            json!({
                "content": [{"type": "text", "text": text}],
                "structuredContent": {"text": text}
            })
        }
        Err(error) => json!({"isError": true, "content": [{"type": "text", "text": error.0}]}),
    })
}

/// One process serves one project: a `project_path` that resolves elsewhere is refused before
/// anything is touched.
fn check_project(store: &Store, args: Args<'_>) -> Result<(), ToolError> {
    let Some(requested) = args.text("project_path") else {
        return Ok(());
    };
    if crate::harness::records::names_pinned_project(store, &requested) {
        Ok(())
    } else {
        Err(ToolError::new(
            "project_path names a different project than the one this server was started for; \
             start one server per project (--project DIR) instead.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camel_case(name: &str) -> String {
        let mut out = String::new();
        let mut upper = false;
        for ch in name.chars() {
            if ch == '_' {
                upper = true;
            } else if upper {
                out.extend(ch.to_uppercase());
                upper = false;
            } else {
                out.push(ch);
            }
        }
        out
    }

    /// A value a client may choose from an enum is stored under the camel-cased key and shown
    /// unwrapped only if the sink's vocabulary for that key knows it.
    #[test]
    fn every_catalogue_enum_is_in_the_sinks_vocabulary() {
        let mut checked = 0;
        for tool in registry() {
            let properties = tool.definition["inputSchema"]["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            for (name, property) in properties {
                let Some(options) = property["enum"].as_array() else {
                    continue;
                };
                let key = camel_case(&name);
                let words = crate::sanitize::vocabulary(&key)
                    .unwrap_or_else(|| panic!("no vocabulary for {key}"));
                for option in options {
                    let option = option.as_str().expect("string enum");
                    assert!(words.contains(&option), "{key}: {option} missing");
                    checked += 1;
                }
            }
        }
        assert!(checked > 40, "only {checked} enum values checked");
    }
}

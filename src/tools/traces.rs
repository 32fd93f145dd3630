//! Trace tools: record_trace and record_verification, both appended to `traces/<date>.jsonl`.

use super::workspace::project_path;
use super::ToolOutput;
use crate::clock::{now_iso, today};
use crate::harness::injection::annotate;
use crate::harness::records::agent_safe_trace;
use crate::harness::state::{bump, mutate_state, push_event};
use crate::harness::{Args, ToolError};
use crate::json::to_compact;
use crate::sanitize::{random_hex, sanitize_text, MAX_TEXT_LENGTH};
use crate::store::Store;
use serde_json::{json, Map, Value};

/// The trace's contract: the argument (sanitised as an id-sized text), else the active one.
fn contract_id(args: Args<'_>, state: &Map<String, Value>) -> Value {
    match args.text("contract_id") {
        Some(id) => json!(sanitize_text(&id, 180)),
        None => state
            .get("activeContractId")
            .filter(|v| crate::harness::truthy(v))
            .cloned()
            .unwrap_or(Value::Null),
    }
}

/// Appends `entry` under the state lock (already held by the caller's `mutate_state`).
fn append_trace(store: &Store, entry: &Value) -> Result<(), ToolError> {
    let line = format!("{}\n", to_compact(entry));
    store.append_line(&format!("traces/{}.jsonl", today()), line.as_bytes())?;
    Ok(())
}

fn new_trace_id() -> Result<String, ToolError> {
    let hex =
        random_hex(4).map_err(|error| ToolError::new(format!("random source failed: {error}")))?;
    Ok(format!("trace-{}-{hex}", today()))
}

pub fn record_trace(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let (entry, _) = mutate_state(store, |state| {
        let mut entry = json!({
            "id": new_trace_id()?,
            "ts": now_iso(),
            "contractId": contract_id(args, state),
            "kind": args.sanitized("kind", 50),
            "summary": args.sanitized("summary", 500),
            "raw": args.sanitized("raw", MAX_TEXT_LENGTH),
            "evidencePaths": args.list("evidence_paths", 500),
            "followUp": args.nullable("follow_up", 1000)
        });
        annotate(&mut entry);
        append_trace(store, &entry)?;
        bump(state, "traces");
        push_event(
            state,
            "trace_recorded",
            json!({"traceId": entry["id"], "contractId": entry["contractId"], "kind": entry["kind"], "summary": entry["summary"]}),
        );
        Ok(entry)
    })?;
    Ok(ToolOutput::Object(
        json!({"projectPath": project_path(store), "entry": agent_safe_trace(&entry)}),
    ))
}

pub fn record_verification(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let command = args.sanitized("command_or_check", 500);
    if command.is_empty() {
        return Err(ToolError::new("command_or_check is required."));
    }
    let status = match args.text("status").as_deref() {
        Some(status @ ("pass" | "fail" | "unknown")) => status.to_string(),
        _ => "unknown".to_string(),
    };
    let exit_code = args
        .value("exit_code")
        .filter(|v| v.as_f64().is_some_and(|f| f.fract() == 0.0))
        .cloned();
    let (entry, _) = mutate_state(store, |state| {
        let summary = args
            .text("summary")
            .unwrap_or_else(|| format!("{status}: {command}"));
        let mut entry = json!({
            "id": new_trace_id()?,
            "ts": now_iso(),
            "contractId": contract_id(args, state),
            "kind": "verification",
            "summary": sanitize_text(&summary, 500),
            "raw": args.sanitized("raw_output", MAX_TEXT_LENGTH),
            "evidencePaths": args.list("evidence_paths", 500),
            "followUp": args.nullable("follow_up", 1000),
            "verification": {
                "commandOrCheck": command,
                "status": status,
                "exitCode": exit_code,
                "startedAt": args.nullable("started_at", 80),
                "finishedAt": args.nullable("finished_at", 80)
            }
        });
        annotate(&mut entry);
        append_trace(store, &entry)?;
        bump(state, "traces");
        bump(state, "verifications");
        push_event(
            state,
            "verification_recorded",
            json!({"traceId": entry["id"], "contractId": entry["contractId"], "status": status, "summary": entry["summary"]}),
        );
        Ok(entry)
    })?;
    Ok(ToolOutput::Object(
        json!({"projectPath": project_path(store), "entry": agent_safe_trace(&entry)}),
    ))
}

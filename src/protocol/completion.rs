//! `completion/complete`: suggestions for every resource-template variable and prompt
//! argument that names a stored record (contract, knowledge item, eval case and run,
//! profile, proposal, decision ids).
//!
//! Owns the mapping from a completion reference to a record family and the prefix filter.
//! It never reads a record's content (only the ids the resource layer lists), and never
//! returns more than [`MAX_COMPLETION_VALUES`] values.

use super::jsonrpc::{RpcError, INVALID_PARAMS};
use crate::resources::{self, ResourceError};
use crate::store::Store;
use serde_json::{json, Map, Value};

/// The specification's bound on `completion.values`.
pub const MAX_COMPLETION_VALUES: usize = 100;

/// The template whose ids a prompt argument names, if it names a record.
fn prompt_argument_template(argument: &str) -> Option<&'static str> {
    Some(match argument {
        "contract_id" => "harness://contract/{id}",
        "baseline_run_id" | "candidate_run_id" => "harness://eval-run/{id}",
        _ => return None,
    })
}

fn invalid(message: &str) -> RpcError {
    RpcError::new(INVALID_PARAMS, message)
}

pub fn complete(store: &Store, params: &Map<String, Value>) -> Result<Value, RpcError> {
    let reference = params
        .get("ref")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("ref must be an object."))?;
    let argument = params
        .get("argument")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("argument must be an object."))?;
    let name = argument
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("argument.name must be a string."))?;
    let prefix = argument
        .get("value")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let listed = match reference.get("type").and_then(Value::as_str) {
        Some("ref/resource") => {
            let uri = reference
                .get("uri")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let ids = (name == "id")
                .then(|| resources::template_ids(store, uri))
                .flatten();
            Some(ids.ok_or_else(|| {
                invalid(
                    "ref.uri is not a resource template of this server, or has no such variable.",
                )
            })?)
        }
        Some("ref/prompt") => {
            let prompt = reference
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !crate::prompts::has_argument(prompt, name) {
                return Err(invalid(
                    "ref.name is not a prompt of this server, or has no such argument.",
                ));
            }
            prompt_argument_template(name).and_then(|t| resources::template_ids(store, t))
        }
        _ => return Err(invalid("ref.type must be ref/resource or ref/prompt.")),
    };
    let ids = match listed {
        None | Some(Err(ResourceError::NotFound(_))) => Vec::new(),
        Some(Ok(ids)) => ids,
        Some(Err(error)) => return Err(super::methods::resource_error(error)),
    };
    let mut matching: Vec<String> = ids
        .into_iter()
        .filter(|id| id.starts_with(prefix))
        .collect();
    matching.sort();
    let total = matching.len();
    matching.truncate(MAX_COMPLETION_VALUES);
    Ok(
        json!({"completion": {"values": matching, "total": total, "hasMore": total > MAX_COMPLETION_VALUES}}),
    )
}

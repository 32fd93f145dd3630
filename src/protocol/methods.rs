//! The MCP method table: lifecycle, tools, resources and prompts.

use super::jsonrpc::{
    RpcError, INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND, RESOURCE_NOT_FOUND,
};
use super::Server;
use crate::resources::{self, ResourceError};
use crate::{prompts, tools};
use serde_json::{json, Map, Value};

/// Protocol versions this server implements completely.
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = ["2024-11-05", "2025-03-26", "2025-06-18"];
/// What an unknown or missing version is answered with.
pub const PREFERRED_PROTOCOL_VERSION: &str = "2025-06-18";

/// Key of the confinement posture in `initialize`'s `_meta`.
pub const POSTURE_META_KEY: &str = "codex-harness-mcp/posture";

fn params_object(params: Option<&Value>) -> Result<Map<String, Value>, RpcError> {
    match params {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(_) => Err(RpcError::new(INVALID_PARAMS, "params must be an object.")),
    }
}

fn resource_error(error: ResourceError) -> RpcError {
    match error {
        ResourceError::InvalidUri(message) => RpcError::new(INVALID_PARAMS, message),
        ResourceError::NotFound(message) => RpcError::new(RESOURCE_NOT_FOUND, message),
        ResourceError::Failed(message) => RpcError::new(INTERNAL_ERROR, message),
    }
}

fn initialize(server: &Server, params: &Map<String, Value>) -> Value {
    let requested = params.get("protocolVersion").and_then(Value::as_str);
    let version = requested
        .filter(|v| SUPPORTED_PROTOCOL_VERSIONS.contains(v))
        .unwrap_or(PREFERRED_PROTOCOL_VERSION);
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {}, "resources": {}, "prompts": {}},
        "serverInfo": {"name": "codex-harness-mcp", "version": env!("CARGO_PKG_VERSION")},
        "_meta": {POSTURE_META_KEY: server.posture}
    })
}

/// Resources honour `project_path` only when it names the pinned project.
fn check_resource_project(server: &Server, params: &Map<String, Value>) -> Result<(), RpcError> {
    let Some(requested) = params
        .get("project_path")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    else {
        return Ok(());
    };
    let resolved = crate::harness::records::resolve_lexically(server.store.launch_dir(), requested);
    if resolved == server.store.project_path() {
        Ok(())
    } else {
        Err(RpcError::new(
            INVALID_PARAMS,
            "project_path names a different project than the one this server was started for.",
        ))
    }
}

pub fn dispatch(server: &Server, method: &str, params: Option<&Value>) -> Result<Value, RpcError> {
    match method {
        "initialize" => Ok(initialize(
            server,
            &params_object(params).unwrap_or_default(),
        )),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(tools::list()),
        "tools/call" => {
            let params = params_object(params)?;
            let name = params.get("name").and_then(Value::as_str);
            tools::call(&server.store, name, params.get("arguments"))
                .map_err(|e| RpcError::new(INVALID_PARAMS, e.0))
        }
        "resources/list" => {
            let params = params_object(params)?;
            check_resource_project(server, &params)?;
            resources::list(&server.store, &params).map_err(resource_error)
        }
        "resources/templates/list" => Ok(resources::templates()),
        "resources/read" => {
            let params = params_object(params)?;
            check_resource_project(server, &params)?;
            resources::read(&server.store, &server.posture, &params).map_err(resource_error)
        }
        "prompts/list" => Ok(prompts::list()),
        "prompts/get" => {
            let params = params_object(params)?;
            let name = params.get("name").and_then(Value::as_str);
            prompts::get(name, params.get("arguments").and_then(Value::as_object))
                .map_err(|e| RpcError::new(INVALID_PARAMS, e.0))
        }
        other => Err(RpcError::new(
            METHOD_NOT_FOUND,
            format!("Unknown method: {}", crate::sanitize::echo(other, "method")),
        )),
    }
}

//! Every property of every tool's input schema, as `tools/list` serves it, carries a
//! non-empty description: it is what a model reads to fill the argument in.
#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs.

mod common;

use common::{Server, TempProject};
use serde_json::{json, Value};

fn undescribed(path: &str, schema: &Value, out: &mut Vec<String>) {
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let here = format!("{path}.{name}");
            let described = property
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.trim().is_empty());
            if !described {
                out.push(here.clone());
            }
            undescribed(&here, property, out);
        }
    }
    if let Some(items) = schema.get("items") {
        undescribed(&format!("{path}[]"), items, out);
    }
}

#[test]
fn every_property_of_every_tool_has_a_description() {
    let project = TempProject::new("descriptions");
    let mut server = Server::start(&project.path);
    let reply = server.request("tools/list", json!({}));
    let tools = reply["result"]["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), 30);
    let mut missing = Vec::new();
    let mut properties = 0;
    for tool in tools {
        let name = tool["name"].as_str().expect("name");
        properties += tool["inputSchema"]["properties"]
            .as_object()
            .map_or(0, |p| p.len());
        undescribed(name, &tool["inputSchema"], &mut missing);
    }
    assert!(properties > 200, "only {properties} properties seen");
    assert!(missing.is_empty(), "no description: {missing:?}");
    assert_eq!(server.finish(), 0);
}

#[test]
fn the_default_sub_agent_policy_asks_for_role_scope_output_budget_and_stop_rule() {
    let project = TempProject::new("subagent-policy");
    let mut server = Server::start(&project.path);
    server.call_ok("harness_bootstrap", json!({}));
    let policy = project.read_json("policy.json");
    let text = policy["subagentPolicy"]
        .as_str()
        .expect("subagentPolicy")
        .to_lowercase();
    for needed in ["role", "write", "output", "budget", "stop"] {
        assert!(text.contains(needed), "{needed:?} missing from {text:?}");
    }
    assert_eq!(server.finish(), 0);
}

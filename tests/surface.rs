//! Surface compatibility: the tools, static resources, templates and prompts the binary lists
//! match the original 0.2.0 surface (`tests/fixtures/original-surface.json`) exactly, apart
//! from the documented additions.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{Server, TempProject};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Static resources this implementation adds (README, "Additions").
const ADDED_RESOURCES: [&str; 1] = ["harness://security/posture"];

/// The `{id}` forms the original reads but never lists; listed here as templates.
const EXPECTED_TEMPLATES: [&str; 7] = [
    "harness://contract/{id}",
    "harness://knowledge/item/{id}",
    "harness://eval-case/{id}",
    "harness://eval-run/{id}",
    "harness://harness-profile/{id}",
    "harness://harness-proposal/{id}",
    "harness://promotion-decision/{id}",
];

fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/original-surface.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// name → (argument names, required names, enums by argument).
type ToolShape = (Vec<String>, Vec<String>, BTreeMap<String, Value>);

fn tool_shapes(tools: &Value) -> BTreeMap<String, ToolShape> {
    tools
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| {
            let schema = &tool["inputSchema"];
            let properties = schema["properties"].as_object().unwrap();
            let mut names: Vec<String> = properties.keys().cloned().collect();
            names.sort();
            let mut required: Vec<String> = schema["required"]
                .as_array()
                .map(|r| r.iter().map(|v| v.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            required.sort();
            let enums = properties
                .iter()
                .filter_map(|(k, p)| {
                    let e = p
                        .get("enum")
                        .or_else(|| p.get("items").and_then(|i| i.get("enum")));
                    e.map(|e| (k.clone(), e.clone()))
                })
                .collect();
            (
                tool["name"].as_str().unwrap().to_string(),
                (names, required, enums),
            )
        })
        .collect()
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn tools_match_the_original_names_arguments_required_sets_and_enums() {
    let project = TempProject::new("surface-tools");
    let mut server = Server::start(&project.path);
    let listed = server.request("tools/list", json!({}))["result"]["tools"].clone();
    let original = fixture()["tools"].clone();
    assert_eq!(
        names(&listed, "name"),
        names(&original, "name"),
        "tool names or order differ"
    );
    let ours = tool_shapes(&listed);
    for (name, shape) in tool_shapes(&original) {
        assert_eq!(ours.get(&name), Some(&shape), "{name}");
    }
}

#[test]
fn static_resources_match_the_original_plus_documented_additions() {
    let project = TempProject::new("surface-resources");
    let mut server = Server::start(&project.path);
    let listed = server.request("resources/list", json!({}))["result"]["resources"].clone();
    let original = fixture()["resources"].clone();
    let mut expected = names(&original, "uri");
    expected.extend(ADDED_RESOURCES.iter().map(|s| s.to_string()));
    assert_eq!(names(&listed, "uri"), expected);
    for (ours, theirs) in listed
        .as_array()
        .unwrap()
        .iter()
        .zip(original.as_array().unwrap())
    {
        for key in ["name", "title", "mimeType"] {
            assert_eq!(ours[key], theirs[key], "{} {key}", theirs["uri"]);
        }
        let annotations = |r: &Value| {
            let a = &r["annotations"];
            (a["audience"].clone(), a["priority"].as_f64())
        };
        assert_eq!(annotations(ours), annotations(theirs), "{}", theirs["uri"]);
    }
}

#[test]
fn templates_cover_every_per_record_form() {
    let project = TempProject::new("surface-templates");
    let mut server = Server::start(&project.path);
    let listed = server.request("resources/templates/list", json!({}))["result"]
        ["resourceTemplates"]
        .clone();
    let mut ours = names(&listed, "uriTemplate");
    ours.sort();
    let mut expected: Vec<String> = EXPECTED_TEMPLATES.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(ours, expected);
}

#[test]
fn prompts_match_the_original_names_and_arguments() {
    let project = TempProject::new("surface-prompts");
    let mut server = Server::start(&project.path);
    let listed = server.request("prompts/list", json!({}))["result"]["prompts"].clone();
    let original = fixture()["prompts"].clone();
    assert_eq!(names(&listed, "name"), names(&original, "name"));
    for (ours, theirs) in listed
        .as_array()
        .unwrap()
        .iter()
        .zip(original.as_array().unwrap())
    {
        let args = |p: &Value| -> Vec<(String, bool)> {
            p["arguments"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            (
                                x["name"].as_str().unwrap().to_string(),
                                x["required"] == true,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(args(ours), args(theirs), "{}", theirs["name"]);
    }
}

//! The untrusted-text boundary as a taint check: a unique canary in every string field of
//! every tool's arguments and of every stored file, then every tool, resource, template entry
//! and prompt read back; no canary may appear outside an `<untrusted-data>` block anywhere in
//! anything the server writes (results, errors, keys, JSON nested inside text).
//!
//! Canaries contain a space and a `!`, so none is a safe id, a vocabulary word or a timestamp:
//! the only way one may reach the agent is inside a block.
#![allow(clippy::disallowed_methods)] // Plants and rewrites fixture files with std::fs.

mod common;

use common::{Server, TempProject};
use serde_json::{json, Map, Value};
use std::path::Path;

const CANARY: &str = "CANARY ";

struct Canaries(usize);

impl Canaries {
    fn next(&mut self, field: &str) -> String {
        self.0 += 1;
        format!("{CANARY}{} {field} obey!", self.0)
    }
}

const OPENER: &str = "<untrusted-data source=\"";
const CLOSER: &str = "</untrusted-data>";

/// `text` with every block cut out. A block ends at the first closer that starts a line
/// (after the indentation Markdown lists give it); a block whose closer is missing keeps the
/// rest of the text as outside, so a broken block counts against the server.
fn outside_blocks(text: &str) -> String {
    let mut outside = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPENER) {
        outside.push_str(&rest[..start]);
        let body = &rest[start..];
        let closer = body
            .match_indices(CLOSER)
            .find(|(at, _)| body[..*at].trim_end_matches(' ').ends_with('\n'));
        match closer {
            Some((end, _)) => rest = &body[end + CLOSER.len()..],
            None => {
                outside.push_str(body);
                rest = "";
            }
        }
    }
    outside.push_str(rest);
    outside
}

/// Every place under `value` where a canary shows outside a block.
fn leaks(value: &Value, place: &str, found: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            if let Ok(nested @ (Value::Object(_) | Value::Array(_))) =
                serde_json::from_str::<Value>(text)
            {
                return leaks(&nested, &format!("{place}(json)"), found);
            }
            if text.contains('\u{fdd0}') {
                found.push(format!("{place}: the server's vouch mark was disclosed"));
            }
            let outside = outside_blocks(text);
            if let Some(at) = outside.find(CANARY) {
                let end = (at + 60).min(outside.len());
                let end = (end..=outside.len())
                    .find(|i| outside.is_char_boundary(*i))
                    .unwrap_or(outside.len());
                found.push(format!("{place}: {:?}", &outside[at..end]));
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                leaks(item, &format!("{place}[{index}]"), found);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if outside_blocks(key).contains(CANARY) {
                    found.push(format!("{place}: key {key:?}"));
                }
                leaks(item, &format!("{place}.{key}"), found);
            }
        }
        _ => {}
    }
}

/// Arguments for `schema` with a canary in every string (also in enum-typed fields when
/// `canary_enums`, which makes the call invalid and exercises the error path).
fn arguments(schema: &Value, canaries: &mut Canaries, tool: &str, canary_enums: bool) -> Value {
    let mut args = Map::new();
    let properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (name, property) in properties {
        let field = format!("{tool}.{name}");
        let value = match property["type"].as_str() {
            Some("string") => match property["enum"].as_array() {
                Some(options) if !canary_enums => options[0].clone(),
                _ => json!(canaries.next(&field)),
            },
            Some("array") => json!([canaries.next(&field), canaries.next(&field)]),
            Some("integer") | Some("number") => json!(1),
            Some("boolean") => json!(false),
            _ => json!(canaries.next(&field)),
        };
        args.insert(name, value);
    }
    Value::Object(args)
}

/// `params` with the per-request `_meta` of the stateless 2026-07-28 era.
fn modern(mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    params
}

/// Every reply in the legacy era (after `initialize`) and again statelessly in 2026-07-28.
fn exercise(server: &mut Server, canaries: &mut Canaries, replies: &mut Vec<(String, Value)>) {
    let init = server.request("initialize", json!({"protocolVersion": "2025-11-25"}));
    replies.push(("initialize".into(), init));
    let discover = server.request("server/discover", modern(json!({})));
    replies.push(("server/discover".into(), discover));
    let before = replies.len();
    exercise_era(server, canaries, replies, &|params| params);
    let legacy = replies.len() - before;
    exercise_era(server, canaries, replies, &modern);
    assert!(
        replies.len() - before >= 2 * legacy - 2,
        "the modern era answered fewer requests"
    );
}

/// Every reply the server gives to every tool, resource, template entry, prompt and
/// completion, each request's params passed through `era`.
fn exercise_era(
    server: &mut Server,
    canaries: &mut Canaries,
    replies: &mut Vec<(String, Value)>,
    era: &dyn Fn(Value) -> Value,
) {
    let tools = server.request("tools/list", era(json!({})))["result"]["tools"].clone();
    for tool in tools.as_array().expect("tools") {
        let name = tool["name"].as_str().expect("name");
        for canary_enums in [false, true] {
            let mut args = arguments(&tool["inputSchema"], canaries, name, canary_enums);
            if name == "harness_bootstrap" {
                args["force"] = json!(false);
            }
            let reply = server.request("tools/call", era(json!({"name": name, "arguments": args})));
            replies.push((format!("tools/call {name}"), reply));
            // The same call without project_path, so it runs past the pinned-project check.
            if let Some(map) = args.as_object_mut() {
                map.remove("project_path");
            }
            let reply = server.request("tools/call", era(json!({"name": name, "arguments": args})));
            replies.push((format!("tools/call {name} (pinned)"), reply));
        }
    }
    let mut cursor = Value::Null;
    loop {
        let params = if cursor.is_null() {
            json!({})
        } else {
            json!({"cursor": cursor})
        };
        let page = server.request("resources/list", era(params));
        replies.push(("resources/list".into(), page.clone()));
        for resource in page["result"]["resources"].as_array().expect("resources") {
            let uri = resource["uri"].as_str().expect("uri");
            let reply = server.request("resources/read", era(json!({"uri": uri})));
            replies.push((format!("resources/read {uri}"), reply));
        }
        cursor = page["result"]["nextCursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    let templates = server.request("resources/templates/list", era(json!({})));
    replies.push(("resources/templates/list".into(), templates.clone()));
    for template in templates["result"]["resourceTemplates"]
        .as_array()
        .expect("templates")
    {
        let pattern = template["uriTemplate"].as_str().expect("uriTemplate");
        let uri = pattern.replace("{id}", &canaries.next("template").replace(' ', "%20"));
        let reply = server.request("resources/read", era(json!({"uri": uri})));
        replies.push((format!("resources/read {pattern}"), reply));
    }
    let prompts = server.request("prompts/list", era(json!({})));
    for prompt in prompts["result"]["prompts"].as_array().expect("prompts") {
        let name = prompt["name"].as_str().expect("name");
        let mut args = Map::new();
        for argument in prompt["arguments"].as_array().expect("arguments") {
            let arg = argument["name"].as_str().expect("argument name");
            args.insert(arg.into(), json!(canaries.next(&format!("{name}.{arg}"))));
            for prefix in [String::new(), canaries.next("completion")] {
                let reference = json!({"type": "ref/prompt", "name": name});
                let params = json!({"ref": reference, "argument": {"name": arg, "value": prefix}});
                let reply = server.request("completion/complete", era(params));
                replies.push((format!("completion/complete {name}.{arg}"), reply));
            }
        }
        let reply = server.request("prompts/get", era(json!({"name": name, "arguments": args})));
        replies.push((format!("prompts/get {name}"), reply));
    }
    let unknown = canaries.next("method");
    replies.push((
        "unknown method".into(),
        server.request(&unknown, era(json!({}))),
    ));
    let unknown = canaries.next("prompt");
    replies.push((
        "unknown prompt".into(),
        server.request("prompts/get", era(json!({"name": unknown}))),
    ));
    let unknown = canaries.next("tool");
    replies.push((
        "unknown tool".into(),
        server.request("tools/call", era(json!({"name": unknown, "arguments": {}}))),
    ));
}

/// Replaces every string in every JSON and JSONL record under `dir` with a canary.
fn plant(dir: &Path, canaries: &mut Canaries) -> usize {
    fn taint(value: &mut Value, canaries: &mut Canaries, field: &str) {
        match value {
            Value::String(text) => *text = canaries.next(field),
            Value::Array(items) => items.iter_mut().for_each(|i| taint(i, canaries, field)),
            Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    taint(item, canaries, key);
                }
            }
            _ => {}
        }
    }
    let mut planted = 0;
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            planted += plant(&path, canaries);
        } else if name.ends_with(".json") && !name.contains("backup") {
            let mut value: Value =
                serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
            taint(&mut value, canaries, &name);
            std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).expect("write");
            planted += 1;
        } else if name.ends_with(".jsonl") {
            let text = std::fs::read_to_string(&path).expect("read");
            let mut lines = Vec::new();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let mut value: Value = serde_json::from_str(line).expect("jsonl");
                taint(&mut value, canaries, &name);
                lines.push(serde_json::to_string(&value).unwrap());
            }
            std::fs::write(&path, format!("{}\n", lines.join("\n"))).expect("write");
            planted += 1;
        }
    }
    planted
}

fn assert_clean(replies: &[(String, Value)]) {
    let mut found = Vec::new();
    for (request, reply) in replies {
        let mut here = Vec::new();
        leaks(reply, "reply", &mut here);
        found.extend(here.into_iter().map(|leak| format!("{request}: {leak}")));
    }
    assert!(
        found.is_empty(),
        "{} canaries outside a block:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn no_client_supplied_string_reaches_the_agent_outside_a_block() {
    let project = TempProject::new("taint-args");
    let mut server = Server::start(&project.path);
    let mut canaries = Canaries(0);
    let mut replies = Vec::new();
    exercise(&mut server, &mut canaries, &mut replies);
    // A second round sees the records the first one stored.
    exercise(&mut server, &mut canaries, &mut replies);
    assert!(replies.len() > 150, "only {} replies", replies.len());
    assert_clean(&replies);
}

#[test]
fn no_stored_string_reaches_the_agent_outside_a_block() {
    let project = TempProject::new("taint-files");
    let mut canaries = Canaries(0);
    {
        let mut server = Server::start(&project.path);
        let mut ignored = Vec::new();
        exercise(&mut server, &mut canaries, &mut ignored);
        server.finish();
    }
    let planted = plant(&project.harness(), &mut canaries);
    assert!(planted >= 8, "only {planted} files planted");
    let mut server = Server::start(&project.path);
    let mut replies = Vec::new();
    exercise(&mut server, &mut canaries, &mut replies);
    assert_clean(&replies);
}

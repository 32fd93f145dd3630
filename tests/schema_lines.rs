#![allow(clippy::disallowed_methods)] // Tests read the vendored schemas and plant a lock with std::fs.
//! Every line the server writes, validated against the official JSON Schema of the MCP
//! version it answers at (vendored under tests/fixtures/mcp-schema, see its README).
//!
//! One broad session per version drives the real binary over its pipes: the handshake (or
//! `server/discover`), every list, every tool with valid arguments and with invalid ones,
//! every resource page, resource, template, prompt and completion, a lock wait that reports
//! progress and is cancelled, and the errors (parse error, invalid request, unknown method,
//! tool, resource and prompt, bad cursor, bad completion reference, and in 2026-07-28 the
//! removed methods and the version errors). Each line is checked against the envelope
//! (`JSONRPCMessage` and the response, error or notification definition), the definition of
//! the result of the method it answers (`CallToolResult`, `DiscoverResult`, ...), the
//! method's `…ResultResponse` where the version defines one, and, in 2026-07-28, the
//! error definition of its code (`InvalidParamsError`, `UnsupportedProtocolVersionError`, ...).
//!
//! One deliberate exception: a reply to a line whose id could not be read carries
//! `"id": null`, as JSON-RPC 2.0 §5 requires (and the official Python SDK expects), while the
//! schemas type a response id as string or integer only. Such a line is validated with its
//! id taken as readable; everything else in it must still match.

mod common;

use common::{Server, TempProject};
use jsonschema::ValidatorMap;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mcp-schema");
const MODERN: &str = "2026-07-28";

/// One version's schema, compiled once: every definition by its pointer.
struct Schema {
    version: &'static str,
    definitions: &'static str,
    names: BTreeSet<String>,
    validators: ValidatorMap,
    notifications_declare_jsonrpc: bool,
}

impl Schema {
    fn load(version: &'static str) -> Schema {
        let path = format!("{FIXTURES}/{version}/schema.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let document: Value = serde_json::from_str(&text).unwrap();
        // Draft-07 schemas (up to 2025-06-18) keep them under `definitions`.
        let definitions = if document.get("$defs").is_some() {
            "$defs"
        } else {
            "definitions"
        };
        let names = document[definitions]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let keyword = if definitions == "$defs" {
            "unevaluatedProperties"
        } else {
            "additionalProperties"
        };
        let mut closed = document.clone();
        for (name, definition) in closed[definitions].as_object_mut().unwrap() {
            if !name.ends_with("MetaObject") {
                close(definition, keyword, true);
            }
        }
        // Before 2025-11-25 a notification's definition leaves `jsonrpc` to the envelope.
        let notifications_declare_jsonrpc =
            document[definitions]["ProgressNotification"]["properties"]["jsonrpc"].is_object();
        let validators = jsonschema::options()
            .should_validate_formats(true)
            .build_map(&closed)
            .unwrap_or_else(|e| panic!("{path} does not compile: {e}"));
        Schema {
            version,
            definitions,
            names,
            validators,
            notifications_declare_jsonrpc,
        }
    }

    fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Every way `instance` breaks definition `name`.
    fn violations(&self, name: &str, instance: &Value) -> Vec<String> {
        let pointer = format!("#/{}/{name}", self.definitions);
        let Some(validator) = self.validators.get(&pointer) else {
            return vec![format!("schema {} has no {name}", self.version)];
        };
        validator
            .iter_errors(instance)
            .map(|e| format!("{name}: {e} at {}", e.instance_path()))
            .collect()
    }
}

/// `schema` with every object closed to the properties it declares, unless it says itself
/// what else it admits (`additionalProperties`, as `Result` does). The schemas leave most
/// objects open, so a field one revision added would pass in a reply to an older one;
/// closed, each reply may carry only what its version defines. Open by design and left so:
/// the `…MetaObject` definitions (`_meta` takes any well-named key), the tool's own
/// `inputSchema` and `outputSchema` (JSON Schemas of any shape), and the direct members of
/// an `allOf` (each sees only its own properties; the whole is closed where it is declared).
/// 2020-12 closes with `unevaluatedProperties`, which sees through `$ref` and `anyOf`;
/// draft-07 (whose MCP schemas use no `allOf`) with `additionalProperties`.
fn close(schema: &mut Value, keyword: &str, close_self: bool) {
    match schema {
        Value::Object(node) => {
            if close_self
                && node.contains_key("properties")
                && !node.contains_key("additionalProperties")
            {
                node.insert(keyword.into(), json!(false));
            }
            for (key, child) in node.iter_mut() {
                match (key.as_str(), child) {
                    ("properties", Value::Object(properties)) => {
                        for (name, property) in properties.iter_mut() {
                            if name != "inputSchema" && name != "outputSchema" {
                                close(property, keyword, true);
                            }
                        }
                    }
                    ("allOf", Value::Array(members)) => {
                        for member in members {
                            close(member, keyword, false);
                        }
                    }
                    (_, child) => close(child, keyword, true),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                close(item, keyword, true);
            }
        }
        _ => {}
    }
}

/// The result definition of each method this server answers.
fn result_definition(method: &str) -> &'static str {
    match method {
        "initialize" => "InitializeResult",
        "server/discover" => "DiscoverResult",
        "ping" => "EmptyResult",
        "tools/list" => "ListToolsResult",
        "tools/call" => "CallToolResult",
        "resources/list" => "ListResourcesResult",
        "resources/read" => "ReadResourceResult",
        "resources/templates/list" => "ListResourceTemplatesResult",
        "prompts/list" => "ListPromptsResult",
        "prompts/get" => "GetPromptResult",
        "completion/complete" => "CompleteResult",
        other => panic!("the session never expects a result for {other}"),
    }
}

/// 2026-07-28's definition of an error object with this code, if it names one.
fn error_definition(code: i64) -> Option<&'static str> {
    Some(match code {
        -32700 => "ParseError",
        -32600 => "InvalidRequestError",
        -32601 => "MethodNotFoundError",
        -32602 => "InvalidParamsError",
        -32603 => "InternalError",
        _ => return None,
    })
}

/// The server's pipes, with every line it writes validated as it is read.
struct Wire {
    server: Server,
    schema: Schema,
    /// The `_meta` every request carries (2026-07-28), or none (the legacy era).
    meta: Option<Value>,
    next_id: i64,
    lines: usize,
    null_ids: usize,
    failures: Vec<String>,
}

impl Wire {
    fn start(project: &TempProject, schema: Schema, meta: Option<Value>) -> Wire {
        Wire {
            server: Server::start(&project.path),
            schema,
            meta,
            next_id: 0,
            lines: 0,
            null_ids: 0,
            failures: Vec::new(),
        }
    }

    fn is_modern(&self) -> bool {
        self.meta.is_some()
    }

    fn fail(&mut self, what: String) {
        self.failures.push(what);
    }

    /// `params` with this era's `_meta` merged in.
    fn params(&self, mut params: Value) -> Value {
        if let Some(meta) = &self.meta {
            let entry = params
                .as_object_mut()
                .unwrap()
                .entry("_meta")
                .or_insert_with(|| json!({}));
            for (key, value) in meta.as_object().unwrap() {
                entry[key] = value.clone();
            }
        }
        params
    }

    /// Sends a request as written (no `_meta` added) and returns its reply; every line read
    /// on the way (notifications included) is validated.
    fn exchange(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.server.send_raw(format!("{line}\n").as_bytes());
        self.reply_to(&json!(id), method)
    }

    /// Sends a request of this era and returns its reply.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let params = self.params(params);
        self.exchange(method, params)
    }

    /// A request that must succeed; returns its result.
    fn result(&mut self, method: &str, params: Value) -> Value {
        let reply = self.request(method, params.clone());
        if reply.get("result").is_none() {
            self.fail(format!("{method} {params} failed: {reply}"));
        }
        reply["result"].clone()
    }

    /// A request that must fail with `code`.
    fn error(&mut self, method: &str, params: Value, code: i64) {
        let reply = self.request(method, params.clone());
        if reply["error"]["code"] != code {
            self.fail(format!("{method} {params}: expected error {code}: {reply}"));
        }
    }

    /// Reads (and validates) lines until the reply with `id`.
    fn reply_to(&mut self, id: &Value, method: &str) -> Value {
        loop {
            let line = self.read_line(Some(method));
            if line.get("id") == Some(id) {
                return line;
            }
            if line.get("id").is_some() {
                self.fail(format!(
                    "a reply to another request while waiting for {id}: {line}"
                ));
            }
        }
    }

    /// Reads one line and validates it; `answering` is the method of the request it may
    /// answer.
    fn read_line(&mut self, answering: Option<&str>) -> Value {
        let text = self.server.recv_line();
        self.lines += 1;
        let line: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let mut failures = self.validate(&line, answering);
        for failure in failures.drain(..) {
            self.fail(format!(
                "{} line {text}\n    {failure}",
                self.schema.version
            ));
        }
        line
    }

    fn validate(&mut self, line: &Value, answering: Option<&str>) -> Vec<String> {
        let schema = &self.schema;
        let mut found = Vec::new();
        if line.get("method").is_some() {
            found.extend(schema.violations("JSONRPCMessage", line));
            found.extend(schema.violations("JSONRPCNotification", line));
            let mut notification = line.clone();
            if !schema.notifications_declare_jsonrpc {
                notification.as_object_mut().unwrap().remove("jsonrpc");
            }
            found.extend(schema.violations("ServerNotification", &notification));
            if line["method"] == "notifications/progress" {
                found.extend(schema.violations("ProgressNotification", &notification));
            }
            return found;
        }
        let mut envelope = line.clone();
        if line.get("error").is_some() && line["id"].is_null() {
            self.null_ids += 1;
            envelope["id"] = json!(0);
        }
        found.extend(schema.violations("JSONRPCMessage", &envelope));
        let modern_envelopes = schema.has("JSONRPCResultResponse");
        if let Some(error) = line.get("error") {
            let name = if modern_envelopes {
                "JSONRPCErrorResponse"
            } else {
                "JSONRPCError"
            };
            found.extend(schema.violations(name, &envelope));
            let code = error["code"].as_i64().unwrap_or_default();
            if schema.version == MODERN {
                if code == -32022 {
                    found.extend(schema.violations("UnsupportedProtocolVersionError", &envelope));
                } else if let Some(name) = error_definition(code) {
                    found.extend(schema.violations(name, error));
                }
            }
            return found;
        }
        let name = if modern_envelopes {
            "JSONRPCResultResponse"
        } else {
            "JSONRPCResponse"
        };
        found.extend(schema.violations(name, &envelope));
        let method = answering.expect("a result answers a request");
        let definition = result_definition(method);
        found.extend(schema.violations(definition, &line["result"]));
        let response = format!("{definition}Response");
        if schema.has(&response) {
            found.extend(schema.violations(&response, &envelope));
        }
        found
    }

    /// Every id stored under a template, by completing its variable from nothing.
    fn ids(&mut self, template: &str) -> Vec<String> {
        let result = self.result(
            "completion/complete",
            json!({"ref": {"type": "ref/resource", "uri": template},
                   "argument": {"name": "id", "value": ""}}),
        );
        result["completion"]["values"]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn only_id(&mut self, template: &str) -> String {
        let ids = self.ids(template);
        if ids.len() != 1 {
            self.fail(format!("{template}: expected one id, got {ids:?}"));
        }
        ids.into_iter().next().unwrap_or_default()
    }

    fn call(&mut self, called: &mut BTreeSet<String>, tool: &str, arguments: Value) {
        called.insert(tool.to_string());
        let result = self.result("tools/call", json!({"name": tool, "arguments": arguments}));
        if result.get("isError").is_some() {
            self.fail(format!("{tool} returned an error: {result}"));
        }
    }
}

/// Every tool with valid arguments, in an order where each finds what it needs; the ids of
/// new records are read back through `completion/complete` (the older versions strip
/// `structuredContent`).
fn every_tool(wire: &mut Wire) -> BTreeSet<String> {
    let mut called = BTreeSet::new();
    let c = &mut called;
    wire.call(
        c,
        "harness_bootstrap",
        json!({"project_name": "schema-lines"}),
    );
    wire.call(c, "harness_migrate", json!({}));
    wire.call(
        c,
        "harness_create_contract",
        json!({"title": "Schema lines", "goal": "Validate every line",
               "completion_conditions": ["every line validates"], "output_paths": ["README.md"],
               "verification_commands": ["cargo test --test schema_lines"]}),
    );
    wire.call(
        c,
        "harness_update_state",
        json!({"focus": "schemas", "decision": "Vendor them", "note": "n"}),
    );
    wire.call(
        c,
        "harness_record_trace",
        json!({"kind": "attempt", "summary": "first try", "raw": "output"}),
    );
    wire.call(
        c,
        "harness_record_verification",
        json!({"command_or_check": "cargo test", "status": "pass", "exit_code": 0, "raw_output": "ok"}),
    );
    wire.call(c, "harness_next_step", json!({}));
    wire.call(
        c,
        "harness_eval_gate",
        json!({"checked_conditions": ["every line validates"]}),
    );
    wire.call(c, "harness_compact_context", json!({}));
    wire.call(c, "harness_list", json!({}));
    wire.call(
        c,
        "harness_record_harness_profile",
        json!({"name": "Baseline", "mode": "standard"}),
    );
    let profile = wire.only_id("harness://harness-profile/{id}");
    wire.call(c, "harness_list_harness_profiles", json!({}));
    wire.call(
        c,
        "harness_record_eval_case",
        json!({"title": "Case one", "split": "holdout"}),
    );
    let case = wire.only_id("harness://eval-case/{id}");
    wire.call(
        c,
        "harness_record_eval_run",
        json!({"eval_case_id": case, "harness_profile_id": profile, "verdict": "fail", "score": 0.5}),
    );
    wire.call(
        c,
        "harness_record_eval_run",
        json!({"eval_case_id": case, "verdict": "pass", "score": 0.75, "cost_usd": 0.1}),
    );
    let runs = wire.ids("harness://eval-run/{id}");
    let (first, second) = match runs.as_slice() {
        [first, second] => (first.clone(), second.clone()),
        other => panic!("expected two runs, got {other:?}"),
    };
    wire.call(
        c,
        "harness_compare_eval_runs",
        json!({"baseline_run_id": first, "candidate_run_id": second}),
    );
    wire.call(
        c,
        "harness_record_harness_proposal",
        json!({"title": "Smaller prompts", "proposed_change": "Trim the system prompt", "holdout_run_ids": [second]}),
    );
    let proposal = wire.only_id("harness://harness-proposal/{id}");
    wire.call(c, "harness_list_harness_proposals", json!({}));
    wire.call(
        c,
        "harness_record_promotion_decision",
        json!({"proposal_id": proposal, "decision": "hold", "rationale": "Needs another holdout run"}),
    );
    wire.call(c, "harness_list_promotion_decisions", json!({}));
    wire.call(c, "harness_export_nl_harness", json!({}));
    wire.call(c, "harness_export_observability_report", json!({}));
    wire.call(
        c,
        "harness_write_governance_policy",
        json!({"network_allowed": false}),
    );
    wire.call(c, "harness_audit_governance", json!({}));
    wire.call(c, "harness_export_governance_report", json!({}));
    wire.call(
        c,
        "harness_record_knowledge",
        json!({"title": "Flaky test fix", "content": "Pin the clock", "tags": ["tests"]}),
    );
    wire.call(
        c,
        "harness_record_research",
        json!({"title": "Landlock ABI notes", "summary": "ABI 7 scopes signals"}),
    );
    wire.call(
        c,
        "harness_record_lesson",
        json!({"title": "Lock order", "problem": "Deadlock risk", "solution": "State lock first"}),
    );
    wire.call(
        c,
        "harness_query_knowledge",
        json!({"query": "flaky clock"}),
    );
    wire.call(c, "harness_list_knowledge", json!({}));
    wire.call(c, "harness_rebuild_knowledge_index", json!({}));
    called
}

fn names(list: &Value, field: &str, key: &str) -> Vec<String> {
    list[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} missing: {list}"))
        .iter()
        .map(|item| item[key].as_str().unwrap().to_string())
        .collect()
}

/// Every method both eras share, with valid and invalid requests. `version` is the version
/// the session answers at.
fn every_method(wire: &mut Wire, version: &str) {
    let tools = wire.result("tools/list", json!({}));
    let listed: BTreeSet<String> = names(&tools, "tools", "name").into_iter().collect();
    let called = every_tool(wire);
    assert_eq!(listed, called, "the session must call every listed tool");

    // A schema violation is a readable tool result from 2025-11-25 (SEP-1303), a protocol
    // error before; an unknown tool is always a protocol error.
    let bad = json!({"name": "harness_bootstrap", "arguments": {"force": "yes"}});
    if version >= "2025-11-25" {
        let result = wire.result("tools/call", bad);
        if result["isError"] != true {
            wire.fail(format!("invalid arguments at {version}: {result}"));
        }
    } else {
        wire.error("tools/call", bad, -32602);
    }
    wire.error(
        "tools/call",
        json!({"name": "harness_nope", "arguments": {}}),
        -32602,
    );

    let mut cursor = Value::Null;
    let mut uris = Vec::new();
    loop {
        let params = if cursor.is_null() {
            json!({"page_size": 4})
        } else {
            json!({"page_size": 4, "cursor": cursor})
        };
        let page = wire.result("resources/list", params);
        uris.extend(names(&page, "resources", "uri"));
        cursor = page["nextCursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert!(uris.len() >= 15, "{uris:?}");
    for uri in &uris {
        wire.result("resources/read", json!({"uri": uri}));
    }
    wire.error("resources/list", json!({"cursor": "not-a-cursor"}), -32602);
    wire.error("tools/list", json!({"cursor": "x"}), -32602);
    let missing = if wire.is_modern() { -32602 } else { -32002 };
    wire.error(
        "resources/read",
        json!({"uri": "harness://contract/nope"}),
        missing,
    );
    wire.error(
        "resources/read",
        json!({"uri": "file:///etc/passwd"}),
        -32602,
    );

    let templates = wire.result("resources/templates/list", json!({}));
    for template in names(&templates, "resourceTemplates", "uriTemplate") {
        let ids = wire.ids(&template);
        match ids.first() {
            Some(id) => {
                wire.result(
                    "resources/read",
                    json!({"uri": template.replace("{id}", id)}),
                );
            }
            None => wire.fail(format!("{template}: no id to read")),
        }
    }

    let prompts = wire.result("prompts/list", json!({}));
    for prompt in prompts["prompts"].as_array().unwrap() {
        let name = prompt["name"].as_str().unwrap();
        let arguments: Vec<String> = prompt["arguments"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|a| a["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let values: serde_json::Map<String, Value> = arguments
            .iter()
            .map(|a| (a.clone(), json!("value")))
            .collect();
        wire.result("prompts/get", json!({"name": name, "arguments": values}));
        for argument in &arguments {
            wire.result(
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": name},
                       "argument": {"name": argument, "value": ""}}),
            );
        }
    }
    wire.error("prompts/get", json!({"name": "no_such_prompt"}), -32602);
    wire.error(
        "completion/complete",
        json!({"ref": {"type": "ref/resource", "uri": "harness://nope/{id}"},
               "argument": {"name": "id", "value": ""}}),
        -32602,
    );
    wire.error("no/such/method", json!({}), -32601);
}

/// Lines the server must answer without a usable id or method.
fn malformed_lines(wire: &mut Wire) {
    for (line, code) in [
        ("{not json", -32700),
        ("[]", -32600),
        (
            r#"{"jsonrpc":"2.0","id":[1],"method":"tools/list"}"#,
            -32600,
        ),
    ] {
        wire.server.send_raw(format!("{line}\n").as_bytes());
        let reply = wire.read_line(None);
        if reply["error"]["code"] != code || !reply["id"].is_null() {
            wire.fail(format!(
                "{line}: expected error {code} with a null id: {reply}"
            ));
        }
    }
    wire.server
        .send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":\"no-method\"}\n");
    let reply = wire.read_line(None);
    if reply["error"]["code"] != -32600 || reply["id"] != "no-method" {
        wire.fail(format!("a request without a method: {reply}"));
    }
}

/// A write that waits on a lock held by another process reports progress, and a
/// cancellation ends the wait without a reply. Last in a session: the lock stays.
fn progress_then_cancel(wire: &mut Wire, project: &TempProject, sync: &str) {
    std::fs::write(
        project.harness().join(".state.lock"),
        "999999\n2026-01-01T00:00:00.000Z\n",
    )
    .unwrap();
    let params = wire.params(json!({"name": "harness_update_state",
        "arguments": {"focus": "never written"}, "_meta": {"progressToken": "wait-1"}}));
    let call = json!({"jsonrpc": "2.0", "id": "waits", "method": "tools/call", "params": params});
    wire.server.send_raw(format!("{call}\n").as_bytes());
    let progress = wire.read_line(None);
    if progress["method"] != "notifications/progress" {
        wire.fail(format!("expected progress: {progress}"));
    }
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                        "params": {"requestId": "waits", "reason": "test"}});
    wire.server.send_raw(format!("{cancel}\n").as_bytes());
    let reply = wire.request(sync, json!({}));
    if reply.get("result").is_none() {
        wire.fail(format!("after the cancel: {reply}"));
    }
}

fn finish(wire: Wire, label: &str) {
    let Wire {
        server,
        lines,
        null_ids,
        failures,
        ..
    } = wire;
    assert_eq!(server.finish(), 0);
    assert!(
        failures.is_empty(),
        "{label}: {} violations or wrong answers in {lines} lines:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{label}: {lines} lines validated ({null_ids} with a null id)");
}

fn legacy_session(version: &'static str) {
    let project = TempProject::new("schema-lines");
    let mut wire = Wire::start(&project, Schema::load(version), None);
    let init = wire.result(
        "initialize",
        json!({"protocolVersion": version, "capabilities": {},
               "clientInfo": {"name": "schema-lines", "version": "0"}}),
    );
    assert_eq!(init["protocolVersion"], version, "{init}");
    wire.server
        .send_raw(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
    wire.result("ping", json!({}));
    every_method(&mut wire, version);
    // server/discover is 2026-07-28 only: without its `_meta` it is refused.
    wire.error("server/discover", json!({}), -32602);
    malformed_lines(&mut wire);
    progress_then_cancel(&mut wire, &project, "ping");
    finish(wire, version);
}

#[test]
fn every_line_of_a_2025_11_25_session_matches_the_2025_11_25_schema() {
    legacy_session("2025-11-25");
}

#[test]
fn every_line_of_a_2025_06_18_session_matches_the_2025_06_18_schema() {
    legacy_session("2025-06-18");
}

#[test]
fn every_line_of_a_2025_03_26_session_matches_the_2025_03_26_schema() {
    legacy_session("2025-03-26");
}

#[test]
fn every_line_of_a_2024_11_05_session_matches_the_2024_11_05_schema() {
    legacy_session("2024-11-05");
}

/// The control: each schema, compiled as the sessions compile it, refuses lines that break
/// it, so a session that passes has been checked.
#[test]
fn each_schema_refuses_what_breaks_it() {
    for version in [
        "2024-11-05",
        "2025-03-26",
        "2025-06-18",
        "2025-11-25",
        MODERN,
    ] {
        let schema = Schema::load(version);
        let refused = |name: &str, instance: Value| {
            assert!(
                !schema.violations(name, &instance).is_empty(),
                "{version} {name} accepts {instance}"
            );
        };
        refused("CallToolResult", json!({"content": [{"type": "text"}]}));
        refused(
            "InitializeResult",
            json!({"capabilities": {}, "serverInfo": {"name": "x"}}),
        );
        refused(
            "ReadResourceResult",
            json!({"contents": [{"uri": "not a uri", "text": "x"}]}),
        );
        refused(
            "JSONRPCMessage",
            json!({"jsonrpc": "2.0", "id": true, "result": {}}),
        );
        refused(
            if schema.has("JSONRPCErrorResponse") {
                "JSONRPCErrorResponse"
            } else {
                "JSONRPCError"
            },
            json!({"jsonrpc": "2.0", "id": 1, "error": {"code": "-32602", "message": "x"}}),
        );
        // Closed to what the version declares, open where the specification is.
        let tool =
            json!({"name": "t", "inputSchema": {"type": "object", "additionalProperties": false}});
        let mut unknown = tool.clone();
        unknown["bogus"] = json!(1);
        let mut listing = json!({"tools": [tool], "_meta": {"example.com/any": {"x": 1}}});
        if version == MODERN {
            listing["resultType"] = json!("complete");
            listing["ttlMs"] = json!(0);
            listing["cacheScope"] = json!("public");
        }
        let violations = schema.violations("ListToolsResult", &listing);
        assert!(violations.is_empty(), "{version}: {violations:?}");
        listing["tools"][0] = unknown;
        refused("ListToolsResult", listing);
        if version == MODERN {
            refused("ListToolsResult", json!({"tools": []}));
            refused(
                "InvalidParamsError",
                json!({"code": -32002, "message": "x"}),
            );
        }
    }
}

#[test]
fn every_line_of_a_stateless_2026_07_28_session_matches_the_2026_07_28_schema() {
    let project = TempProject::new("schema-lines");
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "schema-lines", "version": "0"}
    });
    let mut wire = Wire::start(&project, Schema::load(MODERN), Some(meta));
    let discover = wire.result("server/discover", json!({}));
    assert_eq!(discover["supportedVersions"], json!([MODERN]), "{discover}");
    every_method(&mut wire, MODERN);
    // The handshake and ping are gone.
    wire.error(
        "initialize",
        json!({"protocolVersion": MODERN, "capabilities": {},
        "clientInfo": {"name": "schema-lines", "version": "0"}}),
        -32601,
    );
    wire.error("ping", json!({}), -32601);
    // A modern request at a version served only by `initialize`, or missing a key.
    let stale = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2025-11-25",
                                 "io.modelcontextprotocol/clientCapabilities": {}}});
    let reply = wire.exchange("tools/list", stale);
    if reply["error"]["code"] != -32022 {
        wire.fail(format!("an unsupported version: {reply}"));
    }
    let half = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}});
    let reply = wire.exchange("tools/list", half);
    if reply["error"]["code"] != -32602 {
        wire.fail(format!("a request missing its capabilities: {reply}"));
    }
    let reply = wire.exchange("server/discover", json!({}));
    if reply["error"]["code"] != -32602 {
        wire.fail(format!("server/discover without _meta: {reply}"));
    }
    malformed_lines(&mut wire);
    progress_then_cancel(&mut wire, &project, "tools/list");
    finish(wire, MODERN);
}

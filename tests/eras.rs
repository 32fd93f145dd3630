//! The MCP eras over raw JSON-RPC lines: every legacy version negotiated by `initialize`,
//! and 2026-07-28 served statelessly from each request's `_meta`. Each reply is checked for
//! the shape its version defines (src/protocol/era.rs holds the table).

mod common;

use common::{Server, TempProject};
use serde_json::{json, Value};

const LEGACY: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
const MODERN: &str = "2026-07-28";

fn modern_meta(version: &str) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw-test", "version": "0"}
    })
}

/// `params` with the modern per-request `_meta` added.
fn modern(params: Value) -> Value {
    let mut params = params;
    params["_meta"] = modern_meta(MODERN);
    params
}

fn error_code(reply: &Value) -> i64 {
    reply["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error in {reply}"))
}

fn at_least(version: &str, since: &str) -> bool {
    version >= since
}

/// A tool call whose arguments break the tool's schema (`force` must be a boolean).
fn bad_arguments() -> Value {
    json!({"name": "harness_bootstrap", "arguments": {"force": "yes"}})
}

#[test]
fn every_legacy_version_is_negotiated_and_shapes_its_replies() {
    for version in LEGACY {
        let project = TempProject::new("era-legacy");
        let mut server = Server::start(&project.path);
        let init = server.request(
            "initialize",
            json!({"protocolVersion": version, "capabilities": {},
                   "clientInfo": {"name": "raw-test", "version": "0"}}),
        );
        let result = &init["result"];
        assert_eq!(result["protocolVersion"], version);
        assert!(result["instructions"]
            .as_str()
            .unwrap()
            .contains("harness_create_contract"));
        let info = result["serverInfo"].as_object().unwrap();
        assert_eq!(info["name"], "codex-harness-mcp");
        assert_eq!(
            info.contains_key("title"),
            at_least(version, "2025-06-18"),
            "{version}"
        );
        assert_eq!(
            info.contains_key("description"),
            at_least(version, "2025-11-25"),
            "{version}"
        );
        server.send_raw(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");

        let tools = server.request("tools/list", json!({}))["result"].clone();
        assert!(tools.get("resultType").is_none() && tools.get("ttlMs").is_none());
        for tool in tools["tools"].as_array().unwrap() {
            let tool = tool.as_object().unwrap();
            let modern_fields = at_least(version, "2025-06-18");
            assert_eq!(
                tool.contains_key("outputSchema"),
                modern_fields,
                "{version}"
            );
        }
        let templates = server.request("resources/templates/list", json!({}))["result"].clone();
        for template in templates["resourceTemplates"].as_array().unwrap() {
            assert_eq!(
                template.get("title").is_some(),
                at_least(version, "2025-06-18")
            );
        }

        let boot = server.call("harness_bootstrap", json!({}));
        assert_eq!(
            boot.get("structuredContent").is_some(),
            at_least(version, "2025-06-18"),
            "{version}: {boot}"
        );
        assert!(boot.get("resultType").is_none());

        let bad = server.request("tools/call", bad_arguments());
        if at_least(version, "2025-11-25") {
            assert_eq!(bad["result"]["isError"], true, "{version}: {bad}");
            let text = bad["result"]["content"][0]["text"].as_str().unwrap();
            assert!(text.contains("force"), "{text}");
        } else {
            assert_eq!(error_code(&bad), -32602, "{version}: {bad}");
        }
        let unknown = server.request("tools/call", json!({"name": "harness_nope"}));
        assert_eq!(error_code(&unknown), -32602);
        let missing = server.request("resources/read", json!({"uri": "harness://contract/none"}));
        assert_eq!(error_code(&missing), -32002, "{version}");
        assert_eq!(server.request("ping", json!({}))["result"], json!({}));
        let discover = server.request("server/discover", json!({}));
        assert_eq!(error_code(&discover), -32602, "{discover}");
        assert_eq!(server.finish(), 0);
    }
}

#[test]
fn an_unknown_or_modern_initialize_version_gets_2025_11_25() {
    let project = TempProject::new("era-unknown");
    let mut server = Server::start(&project.path);
    for requested in [json!("2099-01-01"), json!(MODERN), json!(5), Value::Null] {
        let reply = server.request("initialize", json!({"protocolVersion": requested}));
        assert_eq!(reply["result"]["protocolVersion"], "2025-11-25");
    }
}

#[test]
fn the_modern_era_is_stateless_and_shapes_every_result() {
    let project = TempProject::new("era-modern");
    let mut server = Server::start(&project.path);
    let discover = server.request("server/discover", modern(json!({})));
    let result = &discover["result"];
    assert_eq!(result["resultType"], "complete", "{discover}");
    assert_eq!(result["supportedVersions"], json!([MODERN]));
    assert!(result["capabilities"]["tools"].is_object());
    assert!(result["instructions"]
        .as_str()
        .unwrap()
        .contains("harness_bootstrap"));
    let info = &result["_meta"]["io.modelcontextprotocol/serverInfo"];
    assert_eq!(info["name"], "codex-harness-mcp");
    assert!(info["description"].is_string() && info["title"].is_string());
    assert!(result["ttlMs"].as_u64().is_some() && result["cacheScope"].is_string());

    // Catalogues are compiled in (cacheable); stored records may change under us (ttl 0).
    for (method, ttl_zero) in [
        ("tools/list", false),
        ("prompts/list", false),
        ("resources/templates/list", false),
        ("resources/list", true),
    ] {
        let reply = server.request(method, modern(json!({})));
        let result = &reply["result"];
        assert_eq!(result["resultType"], "complete", "{method}");
        assert_eq!(
            result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
            "codex-harness-mcp"
        );
        assert_eq!(result["ttlMs"].as_u64() == Some(0), ttl_zero, "{method}");
        assert!(["public", "private"].contains(&result["cacheScope"].as_str().unwrap()));
    }

    let boot = server.request(
        "tools/call",
        modern(json!({"name": "harness_bootstrap", "arguments": {}})),
    );
    assert_eq!(boot["result"]["resultType"], "complete");
    assert!(boot["result"]["structuredContent"].is_object());
    assert!(boot["result"].get("ttlMs").is_none());
    let read = server.request("resources/read", modern(json!({"uri": "harness://state"})));
    assert_eq!(read["result"]["ttlMs"], 0);
    assert_eq!(read["result"]["cacheScope"], "private");

    let bad = server.request("tools/call", modern(bad_arguments()));
    assert_eq!(bad["result"]["isError"], true, "{bad}");
    assert_eq!(bad["result"]["resultType"], "complete");
    let missing = server.request(
        "resources/read",
        modern(json!({"uri": "harness://contract/none"})),
    );
    assert_eq!(error_code(&missing), -32602, "{missing}");
    let unknown = server.request(
        "resources/read",
        modern(json!({"uri": "harness://nothing"})),
    );
    assert_eq!(error_code(&unknown), -32602);
    for removed in ["ping", "initialize"] {
        let reply = server.request(removed, modern(json!({})));
        assert_eq!(error_code(&reply), -32601, "{removed}: {reply}");
    }
    assert_eq!(server.finish(), 0);
}

/// A read of a URI that names no resource carries that URI in `error.data.uri` in every era
/// (the resources spec's not-found example; SEP-2164 makes it a SHOULD, and the conformance
/// suite's sep-2164-data-uri checks it). A `uri` that is not a string has nothing to echo.
#[test]
fn a_read_of_nothing_names_the_uri_in_the_error_data() {
    let project = TempProject::new("era-read-nothing");
    let mut server = Server::start(&project.path);
    server.request(
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "raw-test", "version": "0"}}),
    );
    let cases = [
        ("harness://contract/none", json!({}), -32002),
        ("harness://nothing", json!({}), -32002),
        ("test://static-text", json!({}), -32602),
        ("harness://contract/none", modern(json!({})), -32602),
        ("test://nonexistent-resource", modern(json!({})), -32602),
    ];
    for (uri, params, code) in cases {
        let mut params = params;
        params["uri"] = json!(uri);
        let reply = server.request("resources/read", params);
        assert_eq!(error_code(&reply), code, "{uri}: {reply}");
        assert_eq!(reply["error"]["data"]["uri"], uri, "{reply}");
    }
    let not_a_string = server.request("resources/read", json!({"uri": 7}));
    assert_eq!(error_code(&not_a_string), -32602);
    assert!(
        not_a_string["error"].get("data").is_none(),
        "{not_a_string}"
    );
    assert_eq!(server.finish(), 0);
}

#[test]
fn modern_requests_without_both_keys_or_at_an_unsupported_version_are_refused() {
    let project = TempProject::new("era-refused");
    let mut server = Server::start(&project.path);
    let only_version = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}});
    let only_caps = json!({"_meta": {"io.modelcontextprotocol/clientCapabilities": {}}});
    let bad_caps = json!({"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                                     "io.modelcontextprotocol/clientCapabilities": []}});
    for params in [only_version, only_caps, bad_caps] {
        let reply = server.request("tools/list", params.clone());
        assert_eq!(error_code(&reply), -32602, "{params}: {reply}");
    }
    assert_eq!(
        error_code(&server.request("server/discover", json!({}))),
        -32602
    );
    for requested in ["1900-01-01", "2025-11-25"] {
        let mut params = json!({});
        params["_meta"] = modern_meta(requested);
        let reply = server.request("server/discover", params);
        assert_eq!(error_code(&reply), -32022, "{reply}");
        assert_eq!(
            reply["error"]["data"],
            json!({"supported": [MODERN], "requested": requested})
        );
    }
}

#[test]
fn modern_requests_leave_the_legacy_negotiation_alone() {
    let project = TempProject::new("era-mixed");
    let mut server = Server::start(&project.path);
    server.request("initialize", json!({"protocolVersion": "2024-11-05"}));
    let legacy = |server: &mut Server| {
        server.request("tools/list", json!({}))["result"]["tools"][0]
            .get("outputSchema")
            .is_some()
    };
    assert!(!legacy(&mut server));
    let modern_list = server.request("tools/list", modern(json!({})));
    assert!(modern_list["result"]["tools"][0]["outputSchema"].is_object());
    assert!(
        !legacy(&mut server),
        "a modern request changed the legacy version"
    );
}

/// Keywords the server's validator implements, plus the annotations it ignores. All are JSON
/// Schema 2020-12; anything else (`$ref`, composition, formats) fails here, loudly, because
/// the validator would silently not enforce it.
const VALIDATED_KEYWORDS: [&str; 15] = [
    "type",
    "required",
    "properties",
    "additionalProperties",
    "enum",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "items",
    "minItems",
    "maxItems",
    "default",
    "description",
    "title",
];

fn schema_keywords(schema: &Value, path: &str, out: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        return;
    };
    for (key, value) in object {
        if !VALIDATED_KEYWORDS.contains(&key.as_str()) {
            out.push(format!("{path}/{key}"));
        }
        match key.as_str() {
            "properties" => {
                for (name, sub) in value.as_object().into_iter().flatten() {
                    schema_keywords(sub, &format!("{path}/properties/{name}"), out);
                }
            }
            "items" | "additionalProperties" => {
                schema_keywords(value, &format!("{path}/{key}"), out)
            }
            _ => {}
        }
    }
}

#[test]
fn every_tool_schema_uses_only_keywords_the_validator_enforces() {
    let project = TempProject::new("era-schemas");
    let mut server = Server::start(&project.path);
    let tools = server.request("tools/list", modern(json!({})))["result"]["tools"].clone();
    let mut outside = Vec::new();
    for tool in tools.as_array().unwrap() {
        for key in ["inputSchema", "outputSchema"] {
            schema_keywords(&tool[key], &format!("{}/{key}", tool["name"]), &mut outside);
        }
        assert_eq!(tool["inputSchema"]["type"], "object");
    }
    assert!(
        outside.is_empty(),
        "keywords the validator does not enforce: {outside:#?}"
    );
}

#[test]
fn a_cursor_the_server_never_handed_out_is_invalid_params_on_every_list() {
    let project = TempProject::new("era-cursor");
    let mut server = Server::start(&project.path);
    server.call("harness_bootstrap", json!({}));
    let first = server.request("resources/list", json!({"page_size": 1}));
    let next = first["result"]["nextCursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let second = server.request("resources/list", json!({"page_size": 1, "cursor": next}));
    assert_ne!(second["result"]["resources"], first["result"]["resources"]);
    for method in [
        "resources/list",
        "tools/list",
        "prompts/list",
        "resources/templates/list",
    ] {
        for cursor in [json!("garbage"), json!(5), json!("b2Zmc2V0Og")] {
            let legacy = server.request(method, json!({"cursor": cursor}));
            assert_eq!(error_code(&legacy), -32602, "{method} {cursor}: {legacy}");
            let modern = server.request(method, modern(json!({"cursor": cursor})));
            assert_eq!(error_code(&modern), -32602, "{method} {cursor}: {modern}");
        }
    }
}

/// Plants a fresh Node-format lock file: this server honours it for 30 s, so a state write
/// waits on it (up to the 8 s lock timeout).
fn hold_state_lock_as_node(project: &TempProject) {
    #[allow(clippy::disallowed_methods)]
    std::fs::write(
        project.harness().join(".state.lock"),
        "999999\n2026-01-01T00:00:00.000Z\n",
    )
    .unwrap();
}

#[test]
fn a_cancelled_lock_wait_stops_at_once_and_gets_no_reply_after_reporting_progress() {
    let project = TempProject::new("era-cancel");
    let mut server = Server::start(&project.path);
    server.call("harness_bootstrap", json!({}));
    hold_state_lock_as_node(&project);
    let started = std::time::Instant::now();
    let call = json!({"jsonrpc": "2.0", "id": 41, "method": "tools/call", "params": {
        "name": "harness_update_state", "arguments": {"focus": "never written"},
        "_meta": {"progressToken": "wait-1"}}});
    server.send_raw(format!("{call}\n").as_bytes());
    let progress = server.recv();
    assert_eq!(progress["method"], "notifications/progress", "{progress}");
    assert_eq!(progress["params"]["progressToken"], "wait-1");
    assert!(progress["params"]["progress"].as_f64().unwrap() > 0.0);
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                        "params": {"requestId": 41, "reason": "test"}});
    server.send_raw(
        format!("{cancel}\n{{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"ping\"}}\n").as_bytes(),
    );
    let mut last_progress = progress["params"]["progress"].as_f64().unwrap();
    let reply = loop {
        let line = server.recv();
        if line.get("id").is_some() {
            break line;
        }
        let progress = line["params"]["progress"].as_f64().unwrap();
        assert!(progress > last_progress, "progress must increase: {line}");
        last_progress = progress;
    };
    assert_eq!(
        reply["id"], 42,
        "the cancelled request was answered: {reply}"
    );
    assert_eq!(reply["result"], json!({}));
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(4),
        "cancel took {waited:?}"
    );
    let state = project.read_json("state.json");
    assert_ne!(state["focus"], "never written");
    assert_eq!(server.finish(), 0);
}

/// A client that cancels at once sends the cancellation right behind its request, so both
/// arrive in one read: the wait must see a cancellation queued behind the request in flight,
/// not only one read while it waits (found by the session fuzz target's contended pass).
#[test]
fn a_cancellation_that_arrives_with_its_request_stops_the_lock_wait() {
    let project = TempProject::new("era-cancel-queued");
    let mut server = Server::start(&project.path);
    server.call("harness_bootstrap", json!({}));
    hold_state_lock_as_node(&project);
    let started = std::time::Instant::now();
    let call = json!({"jsonrpc": "2.0", "id": 51, "method": "tools/call", "params": {
        "name": "harness_update_state", "arguments": {"focus": "never written"}}});
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                        "params": {"requestId": 51, "reason": "test"}});
    let ping = json!({"jsonrpc": "2.0", "id": 52, "method": "ping"});
    server.send_raw(format!("{call}\n{cancel}\n{ping}\n").as_bytes());
    let reply = server.recv();
    assert_eq!(
        reply["id"], 52,
        "the cancelled request was answered: {reply}"
    );
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(4),
        "cancel took {waited:?}"
    );
    assert_ne!(project.read_json("state.json")["focus"], "never written");
    assert_eq!(server.finish(), 0);
}

#[test]
fn a_lock_wait_that_is_not_cancelled_still_times_out_with_an_error() {
    let project = TempProject::new("era-nocancel");
    let mut server = Server::start(&project.path);
    server.call("harness_bootstrap", json!({}));
    hold_state_lock_as_node(&project);
    // A cancellation naming another request changes nothing.
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": "harness_update_state", "arguments": {"focus": "x"}}});
    let other = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                       "params": {"requestId": 8}});
    server.send_raw(format!("{call}\n{other}\n").as_bytes());
    let reply = server.recv();
    assert_eq!(reply["id"], 7);
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    assert!(reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("lock timeout"));
}

fn complete(server: &mut Server, reference: Value, name: &str, value: &str) -> Value {
    server.request(
        "completion/complete",
        modern(json!({"ref": reference, "argument": {"name": name, "value": value}})),
    )
}

#[test]
fn completion_offers_stored_ids_by_prefix_bounded_to_one_hundred() {
    let project = TempProject::new("era-complete");
    let mut server = Server::start(&project.path);
    let init = server.request("initialize", json!({"protocolVersion": "2025-11-25"}));
    assert!(init["result"]["capabilities"]["completions"].is_object());
    let contract = server.call_ok(
        "harness_create_contract",
        json!({"title": "Complete me", "goal": "Offer this id"}),
    )["contract"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let template = json!({"type": "ref/resource", "uri": "harness://contract/{id}"});
    let reply = complete(&mut server, template.clone(), "id", &contract[..4]);
    let completion = &reply["result"]["completion"];
    assert_eq!(completion["values"], json!([contract]), "{reply}");
    assert_eq!(completion["total"], 1);
    assert_eq!(completion["hasMore"], false);
    assert_eq!(reply["result"]["resultType"], "complete");
    let none = complete(&mut server, template, "id", "zzz");
    assert_eq!(none["result"]["completion"]["values"], json!([]));
    let prompt = json!({"type": "ref/prompt", "name": "harness_failure_recovery"});
    let by_prompt = complete(&mut server, prompt.clone(), "contract_id", "");
    assert_eq!(
        by_prompt["result"]["completion"]["values"],
        json!([contract])
    );
    let free_text = complete(&mut server, prompt, "failure_summary", "x");
    assert_eq!(free_text["result"]["completion"]["values"], json!([]));
    for (reference, name) in [
        (json!({"type": "ref/prompt", "name": "nope"}), "contract_id"),
        (
            json!({"type": "ref/resource", "uri": "harness://state"}),
            "id",
        ),
        (json!({"type": "ref/other"}), "id"),
    ] {
        assert_eq!(
            error_code(&complete(&mut server, reference, name, "")),
            -32602
        );
    }

    for i in 0..101 {
        server.call_ok(
            "harness_record_eval_case",
            json!({"title": format!("Case {i}")}),
        );
    }
    let cases = json!({"type": "ref/resource", "uri": "harness://eval-case/{id}"});
    let many = complete(&mut server, cases, "id", "");
    let completion = &many["result"]["completion"];
    assert_eq!(completion["values"].as_array().unwrap().len(), 100);
    assert_eq!(completion["total"], 101);
    assert_eq!(completion["hasMore"], true);
}

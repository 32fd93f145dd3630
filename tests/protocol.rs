#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs.
//! The JSON-RPC transport and MCP lifecycle, driven over the real binary's pipes.

mod common;

use codex_harness_mcp::json::MAX_JSON_DEPTH;
use codex_harness_mcp::transport::MAX_LINE_BYTES;
use common::{Server, TempProject};
use serde_json::{json, Value};

fn error_code(reply: &Value) -> i64 {
    reply["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error in {reply}"))
}

/// A ping request padded with spaces inside its params to exactly `total` bytes.
fn padded_ping(id: i64, total: usize) -> String {
    let base = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping","params":{{"pad":""}}}}"#);
    let pad = "x".repeat(total - base.len());
    let line = base.replace(r#""pad":"""#, &format!(r#""pad":"{pad}""#));
    assert_eq!(line.len(), total);
    line
}

#[test]
fn initialize_negotiates_known_versions_and_never_echoes_unknown_ones() {
    let project = TempProject::new("init");
    let mut server = Server::start(&project.path);
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let reply = server.request("initialize", json!({"protocolVersion": version}));
        assert_eq!(reply["result"]["protocolVersion"], version);
    }
    for unknown in [json!("2099-01-01"), json!(5), Value::Null] {
        let reply = server.request("initialize", json!({"protocolVersion": unknown}));
        assert_eq!(reply["result"]["protocolVersion"], "2025-11-25");
    }
    // Implementation.title and .description are 2025-06-18 and 2025-11-25 fields.
    let reply = server.request("initialize", json!({"protocolVersion": "2025-03-26"}));
    let result = &reply["result"];
    assert_eq!(
        result["serverInfo"],
        json!({"name": "codex-harness-mcp", "version": env!("CARGO_PKG_VERSION")})
    );
    assert_eq!(
        result["capabilities"],
        json!({"tools": {}, "resources": {}, "prompts": {}, "completions": {}})
    );
    assert_eq!(
        result["_meta"]["codex-harness-mcp/posture"]["landlock"]["state"],
        "enforced"
    );
    assert_eq!(server.finish(), 0);
}

#[test]
fn ping_answers_an_empty_object_and_unknown_methods_are_32601() {
    let project = TempProject::new("ping");
    let mut server = Server::start(&project.path);
    assert_eq!(server.request("ping", json!({}))["result"], json!({}));
    let reply = server.request("logging/setLevel", json!({}));
    assert_eq!(error_code(&reply), -32601);
    assert_eq!(
        reply["error"]["message"],
        "Unknown method: <untrusted-data source=\"method\">\nlogging/setLevel\n</untrusted-data>"
    );
}

#[test]
fn malformed_json_is_a_parse_error_with_null_id_and_the_stream_goes_on() {
    let project = TempProject::new("badjson");
    let mut server = Server::start(&project.path);
    server.send_raw(b"{\"jsonrpc\": \"2.0\", \"id\": 1,\n");
    let reply = server.recv();
    assert_eq!(error_code(&reply), -32700);
    assert_eq!(reply["id"], Value::Null);
    assert!(reply["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid JSON: "));
    assert_eq!(server.request("ping", json!({}))["result"], json!({}));
}

#[test]
fn invalid_utf8_is_a_parse_error_never_a_panic() {
    let project = TempProject::new("utf8");
    let mut server = Server::start(&project.path);
    server.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\xfe\"}\n");
    let reply = server.recv();
    assert_eq!(error_code(&reply), -32700);
    assert_eq!(server.request("ping", json!({}))["result"], json!({}));
    assert_eq!(server.finish(), 0);
}

#[test]
fn non_objects_wrong_version_and_missing_method_are_invalid_requests() {
    let project = TempProject::new("invalid");
    let mut server = Server::start(&project.path);
    for (line, id) in [
        ("null", Value::Null),
        ("42", Value::Null),
        ("\"str\"", Value::Null),
        (r#"{"jsonrpc":"1.0","id":3,"method":"ping"}"#, json!(3)),
        (r#"{"jsonrpc":"2.0","id":5}"#, json!(5)),
        (r#"{"jsonrpc":"2.0","id":"a","method":7}"#, json!("a")),
    ] {
        server.send_raw(format!("{line}\n").as_bytes());
        let reply = server.recv();
        assert_eq!(error_code(&reply), -32600, "{line}");
        assert_eq!(reply["id"], id, "{line}");
    }
}

#[test]
fn a_batch_array_gets_one_clear_error() {
    let project = TempProject::new("batch");
    let mut server = Server::start(&project.path);
    server.send_raw(b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]\n");
    let reply = server.recv();
    assert_eq!(error_code(&reply), -32600);
    assert_eq!(reply["id"], Value::Null);
    assert!(reply["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Batch arrays are not supported"));
}

#[test]
fn notifications_get_no_reply_and_null_id_requests_do() {
    let project = TempProject::new("notify");
    let mut server = Server::start(&project.path);
    server.send_raw(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
    server.send_raw(b"{\"jsonrpc\":\"2.0\",\"method\":\"no/such/method\"}\n");
    server.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}\n");
    let reply = server.recv();
    assert_eq!(reply, json!({"jsonrpc": "2.0", "id": null, "result": {}}));
}

#[test]
fn a_line_at_the_limit_is_served_and_one_byte_more_is_rejected_while_the_stream_continues() {
    let project = TempProject::new("limit");
    let mut server = Server::start(&project.path);
    server.send_raw(format!("{}\n", padded_ping(1, MAX_LINE_BYTES - 1)).as_bytes());
    assert_eq!(server.recv()["id"], 1);
    server.send_raw(format!("{}\n", padded_ping(2, MAX_LINE_BYTES)).as_bytes());
    assert_eq!(server.recv()["id"], 2);
    server.send_raw(format!("{}\n", padded_ping(3, MAX_LINE_BYTES + 1)).as_bytes());
    let reply = server.recv();
    assert_eq!(error_code(&reply), -32700);
    assert_eq!(reply["id"], Value::Null);
    assert_eq!(
        reply["error"]["message"],
        "JSON-RPC line exceeds maximum allowed size."
    );
    assert_eq!(server.request("ping", json!({}))["result"], json!({}));
}

#[test]
fn a_five_megabyte_line_is_rejected_and_the_process_stays_small() {
    let project = TempProject::new("fivemb");
    let mut server = Server::start(&project.path);
    let big = vec![b'x'; 5 * 1024 * 1024];
    server.send_raw(&big);
    server.send_raw(b"\n");
    let reply = server.recv();
    assert_eq!(error_code(&reply), -32700);
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(rss_kb < 4 * 1024 + 16 * 1024, "peak RSS {rss_kb} kB");
    assert_eq!(server.request("ping", json!({}))["result"], json!({}));
    // An unterminated oversize tail at EOF is reported too, then the process exits cleanly.
    server.send_raw(&big);
    server.close_stdin();
    assert_eq!(error_code(&server.recv()), -32700);
    assert_eq!(server.finish(), 0);
}

#[test]
fn nesting_beyond_the_limit_is_an_error_not_a_stack_overflow() {
    let project = TempProject::new("deep");
    let mut server = Server::start(&project.path);
    let deep = |depth: usize| {
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"a":{}{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    // The envelope and params objects take two levels.
    server.send_raw(format!("{}\n", deep(MAX_JSON_DEPTH - 2)).as_bytes());
    assert_eq!(server.recv()["result"], json!({}));
    server.send_raw(format!("{}\n", deep(MAX_JSON_DEPTH - 1)).as_bytes());
    assert_eq!(error_code(&server.recv()), -32700);
    server.send_raw(format!("{}\n", deep(400_000)).as_bytes());
    let reply = server.recv();
    assert_eq!(error_code(&reply), -32700);
    assert!(reply["error"]["message"]
        .as_str()
        .unwrap()
        .contains("maximum depth"));
    assert_eq!(server.finish(), 0);
}

#[test]
fn pipelined_requests_are_answered_in_request_order() {
    let project = TempProject::new("order");
    let mut server = Server::start(&project.path);
    let mut batch = String::new();
    for id in 0..50 {
        let message = if id % 2 == 0 {
            json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "harness_record_trace", "arguments": {"kind": "attempt", "summary": "step", "raw": "x"}}})
        } else {
            json!({"jsonrpc": "2.0", "id": id, "method": "ping"})
        };
        batch.push_str(&format!("{message}\n"));
    }
    for (id, reply) in server.pipelined(batch.as_bytes(), 50).iter().enumerate() {
        assert_eq!(reply["id"], id);
    }
}

#[test]
fn eof_ends_the_process_with_status_zero() {
    let project = TempProject::new("eof");
    let server = Server::start(&project.path);
    assert_eq!(server.finish(), 0);
}

#[test]
fn tool_call_errors_are_32602_with_precise_messages() {
    let project = TempProject::new("toolerr");
    let mut server = Server::start(&project.path);
    let reply = server.request("tools/call", json!({"name": "harness_nope"}));
    assert_eq!(error_code(&reply), -32602);
    assert_eq!(reply["error"]["message"], "Unknown tool: harness_nope");
    let reply = server.request("tools/call", json!({}));
    assert_eq!(reply["error"]["message"], "Unknown tool: missing name");
    for arguments in [json!("x"), json!([1]), json!(null), json!(3)] {
        let reply = server.request(
            "tools/call",
            json!({"name": "harness_list", "arguments": arguments}),
        );
        assert_eq!(error_code(&reply), -32602);
        assert_eq!(
            reply["error"]["message"],
            "Tool arguments for \"harness_list\" must be an object."
        );
    }
    let reply = server.request(
        "tools/call",
        json!({"name": "harness_create_contract", "arguments": {"title": "ab", "goal": "a goal"}}),
    );
    assert_eq!(
        reply["error"]["message"],
        "Invalid params for \"harness_create_contract\": args.title: string shorter than minLength=3 (got 2)"
    );
    let reply = server.request(
        "tools/call",
        json!({"name": "harness_list", "arguments": {"bogus": 1}}),
    );
    assert_eq!(
        reply["error"]["message"],
        "Invalid params for \"harness_list\": args: unexpected property \"bogus\""
    );
    // Validation happens before the handler: nothing was created.
    assert!(!project.harness().join("state.json").exists());
}

#[test]
fn error_messages_never_contain_the_project_path() {
    let project = TempProject::new("redact");
    let mut server = Server::start(&project.path);
    let secret = project.path.to_string_lossy().into_owned();
    let reply = server.request("resources/read", json!({"uri": format!("{secret}/x")}));
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(!message.contains(&secret), "{message}");
    assert!(message.contains("<project>"), "{message}");
    let reply = server.request("tools/call", json!({"name": format!("{secret}-tool")}));
    assert!(!reply["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&secret));
}

#[test]
fn a_project_path_naming_another_directory_is_refused_and_touches_nothing() {
    let project = TempProject::new("pinned");
    let other = TempProject::new("other");
    let mut server = Server::start(&project.path);
    let result = server.call("harness_bootstrap", json!({"project_path": other.path}));
    assert_eq!(result["isError"], true);
    assert!(result["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("different project"));
    assert!(!other.path.join(".codex-harness").exists());
    let same = server.call_ok("harness_bootstrap", json!({"project_path": project.path}));
    assert_eq!(same["projectPath"], project.path.to_string_lossy().as_ref());
    let reply = server.request(
        "resources/read",
        json!({"uri": "harness://state", "project_path": other.path}),
    );
    assert_eq!(error_code(&reply), -32602);
}

#[test]
fn resources_templates_unknown_resources_and_prompts_use_mcp_codes() {
    let project = TempProject::new("mcpcodes");
    let mut server = Server::start(&project.path);
    let templates = server.request("resources/templates/list", json!({}));
    let forms: Vec<&str> = templates["result"]["resourceTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["uriTemplate"].as_str().unwrap())
        .collect();
    assert!(forms.contains(&"harness://contract/{id}"), "{forms:?}");
    assert_eq!(
        error_code(&server.request("resources/read", json!({"uri": "harness://nothing"}))),
        -32002
    );
    assert_eq!(
        error_code(&server.request(
            "resources/read",
            json!({"uri": "harness://contract/..%2Fx"})
        )),
        -32002
    );
    assert_eq!(
        error_code(&server.request("resources/read", json!({"uri": "file:///etc/passwd"}))),
        -32602
    );
    assert_eq!(
        error_code(&server.request("resources/read", json!({}))),
        -32602
    );
    assert_eq!(
        error_code(&server.request("prompts/get", json!({"name": "nope"}))),
        -32602
    );
    let prompts = server.request("prompts/list", json!({}));
    assert_eq!(prompts["result"]["prompts"].as_array().unwrap().len(), 18);
}

#[test]
fn stdout_carries_only_protocol_lines() {
    let project = TempProject::new("stdout");
    let output = std::process::Command::new(common::BINARY)
        .arg("--project")
        .arg(&project.path)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("landlock enforced"), "{stderr}");
    assert!(output.status.success());
}

/// Id texts a double would alter (or that two of which a double would merge), and string,
/// null and escape forms; each must come back exactly as written.
const ID_FORMS: [&str; 22] = [
    "18446744073709551617",
    "18446744073709551616",
    "9007199254740993",
    "9007199254740992",
    "123456789012345678901234567890",
    "-0",
    "0",
    "-0.0",
    "1e2",
    "1E2",
    "1e+2",
    "100",
    "1.0",
    "1",
    "1.50",
    "0.1",
    "1e-7",
    "-1",
    "\"a\\u0062\"",
    "\"\\/\\ud83d\\ude00é\"",
    "\"\"",
    "null",
];

#[test]
fn every_id_form_is_echoed_byte_for_byte_or_refused_with_null_id() {
    let project = TempProject::new("ids");
    let mut server = Server::start(&project.path);
    for id in ID_FORMS {
        server.send_raw(
            format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}\n").as_bytes(),
        );
        let line = server.recv_line();
        let echoed = format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{}}}}");
        let reply: Value = serde_json::from_str(&line).unwrap();
        let refused = || reply["id"].is_null() && reply["error"]["code"] == -32600;
        assert!(line == echoed || refused(), "id {id} came back as {line}");
    }
    // Whitespace around the id is not part of it; an invalid request keeps its id exactly too.
    server.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\" :  1e2 ,\"method\":\"ping\"}\n");
    assert_eq!(
        server.recv_line(),
        r#"{"jsonrpc":"2.0","id":1e2,"result":{}}"#
    );
    server.send_raw(b"{\"jsonrpc\":\"1.0\",\"id\":-0,\"method\":\"ping\"}\n");
    assert!(server
        .recv_line()
        .starts_with(r#"{"jsonrpc":"2.0","id":-0,"error":{"code":-32600"#));
    assert_eq!(server.finish(), 0);
}

#[test]
fn distinct_ids_never_collide() {
    let project = TempProject::new("collide");
    let mut server = Server::start(&project.path);
    let batch: String = ID_FORMS
        .iter()
        .map(|id| format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}\n"))
        .collect();
    server.send_raw(batch.as_bytes());
    let mut seen = std::collections::HashSet::new();
    for id in ID_FORMS {
        let line = server.recv_line();
        let prefix = r#"{"jsonrpc":"2.0","id":"#;
        let echoed = line
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(r#","result":{}}"#))
            .unwrap_or_else(|| panic!("{line}"));
        assert_eq!(echoed, id);
        assert!(seen.insert(echoed.to_string()), "{echoed} answered twice");
    }
    assert_eq!(server.finish(), 0);
}

#[test]
fn a_key_repeated_in_the_envelope_is_32600_and_in_params_32602() {
    let project = TempProject::new("dupkeys");
    let mut server = Server::start(&project.path);
    let envelope = [
        r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":1,"\u0069d":2,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}"#,
        r#"{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{},"params":{}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"ping","extra":{"k":1,"k":2}}"#,
    ];
    for line in envelope {
        server.send_raw(format!("{line}\n").as_bytes());
        let reply = server.recv();
        assert_eq!(error_code(&reply), -32600, "{line}: {reply}");
        assert_eq!(reply["id"], Value::Null, "{line}: {reply}");
    }
    let params = [
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"harness_list","name":"harness_bootstrap","arguments":{}}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"harness_bootstrap","arguments":{},"arguments":{}}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"harness_record_trace","arguments":{"kind":"attempt","summary":"s","raw":"r","summary":"t"}}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"harness_bootstrap","arguments":{"x":[{"k":1,"k":2}]}}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"resources/read","params":{"uri":"harness://state","uri":"harness://security"}}"#,
    ];
    for line in params {
        server.send_raw(format!("{line}\n").as_bytes());
        let reply = server.recv();
        assert_eq!(error_code(&reply), -32602, "{line}: {reply}");
        assert_eq!(reply["id"], 7, "{line}: {reply}");
    }
    // Nothing ran: no harness directory content was written by the refused calls.
    assert!(project.files_in("traces").is_empty());
    assert!(!project.harness().join("state.json").exists());
    // The same key in sibling objects is no repeat, and the stream goes on.
    server.send_raw(
        br#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"harness_bootstrap","arguments":{}},"x":{"name":1,"arguments":[{"k":1},{"k":1}]}}"#,
    );
    server.send_raw(b"\n");
    let ok = server.recv();
    assert_eq!(ok["id"], 8);
    assert!(ok.get("error").is_none(), "{ok}");
    assert_eq!(server.finish(), 0);
}

//! A whole MCP session driven through `protocol::Server::handle_frame` against a real project.
//!
//! Each input is a sequence of JSON-RPC lines: initialize, ping, tools/list, tools/call of every
//! catalogue tool (arguments usually built to satisfy its schema, sometimes mutated or
//! arbitrary), resources/list|read of hostile URIs, prompts/list|get, completion/complete,
//! notifications and garbage. The lines are joined and framed by the real `Framer`. Checks:
//! - every request with an id gets exactly one well-formed JSON-RPC 2.0 reply carrying that id
//!   and exactly one of `result` / `error` (an integer code and a string message);
//!   notifications and blank lines get none; garbage gets none or a well-formed error;
//! - a tool with a handler never answers "Invalid params" to arguments that satisfy its schema;
//! - after every message `state.json` (when present) parses as a JSON object, and nothing but
//!   `.codex-harness/` exists in the project directory;
//! - no error message and no `isError` text contains the project's absolute path;
//! - both eras: legacy requests (served at the version the latest `initialize` negotiated,
//!   2025-06-18 before any, which each input restores first) and modern ones carrying
//!   `params._meta` with the 2026-07-28 keys (well-formed, half-formed or naming an unsupported
//!   version). Every reply is a message of its request's era: a legacy result has no
//!   `resultType`, `ttlMs` or `cacheScope`, `initialize` answers the negotiated version and
//!   `tools/list` carries only the fields that version defines; a modern result has
//!   `resultType: "complete"` and the server's identity in `_meta`, a modern `ping` or
//!   `initialize` is -32601, a half-formed `_meta` -32602 and an unsupported version -32022
//!   with `data.supported`.
//!
//! A quarter of the inputs (by the stream's length modulo 16) are then served again from the
//! start through `Server::serve`, the stdio loop itself, reading the stream from a file and
//! writing to memory, in one of three ways (one in 16, one in 16 and one in 8):
//! - plainly: it writes exactly as many lines as the frame-by-frame pass answered, each one
//!   JSON-RPC 2.0 message with exactly one of `result` / `error`, and ends cleanly;
//! - with failing stdio (stdin failing after some bytes, or stdout refusing after some bytes,
//!   as a closed pipe or another error): the session ends with that error, nothing is written
//!   after a failed write, and the error's text names no absolute path;
//! - contended: a live Node lock is planted on state and on the knowledge index, and a second
//!   server on the project gives up on a lock after [`CONTENDED_LOCK_TIMEOUT`], so every
//!   request that writes waits in the session's lock-wait path. The stream keeps its
//!   well-formed requests (renumbered), a third of them asking for progress and a third
//!   followed by their own `notifications/cancelled`: every request is answered once, in
//!   order, unless it was cancelled; progress notifications name only tokens requests gave,
//!   rise strictly, and stop at their request's reply.
//!
//! Raw mode (for seeds): the input after its first byte is a JSONL session, and what a reply
//! must look like follows from JSON-RPC alone (see `expect_raw`).
//!
//! The project is created once per process in the temp directory (tmpfs when available) and
//! its harness directory is emptied before each input, so every input starts from scratch and
//! a crash reproduces. No confinement is applied in the fuzz process.
#![no_main]

use arbitrary::{Result, Unstructured};
use codex_harness_mcp::protocol::Server;
use codex_harness_mcp::sanitize::Redactor;
use codex_harness_mcp::store::Store;
use codex_harness_mcp::transport::{Frame, Framer, StdioError};
use fuzz_support::{catalogue, hostile_string, near, number, piece_string, satisfying, value};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::OnceLock;

struct Fixture {
    project: PathBuf,
    project_text: String,
    server: Server,
    /// A second server on the same project, quick to give up on a held lock.
    contended: Server,
}

/// How long the contended server awaits a lock: a few of the store's back-off pauses (0.5 ms
/// doubling), so each waiting request runs the lock-wait path several times.
const CONTENDED_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(4);

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let base = if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        };
        let project = base.join(format!("chm-fuzz-session-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&project);
        let store = Store::open(&project).expect("open the fuzz project");
        let project_text = project.to_string_lossy().into_owned();
        let server = Server::new(
            store,
            Redactor::new([project_text.clone()]),
            json!({"fuzzing": true}),
        );
        let contended = Server::new(
            Store::open(&project)
                .expect("open the fuzz project again")
                .with_lock_timeout(CONTENDED_LOCK_TIMEOUT),
            Redactor::new([project_text.clone()]),
            json!({"fuzzing": true}),
        );
        Fixture {
            project,
            project_text,
            server,
            contended,
        }
    })
}

/// Empties `.codex-harness/` (the store keeps its directory fd, so the directory stays).
fn reset(fixture: &Fixture) {
    let harness = fixture.project.join(".codex-harness");
    for entry in std::fs::read_dir(&harness).expect("list harness").flatten() {
        let path = entry.path();
        let _ = if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

/// The era a request is served in, as the session so far determines it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Era {
    /// Legacy at this negotiated version (`None`: not tracked, raw mode).
    Legacy(Option<&'static str>),
    Modern,
    /// `_meta` with only one of the two keys, or the version not a string.
    HalfModern,
    /// `_meta` naming a version not served statelessly.
    Unsupported,
}

const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";
const MODERN: &str = "2026-07-28";
const LEGACY_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
/// What `initialize` negotiates for a version it does not serve in the legacy era.
const PREFERRED_LEGACY: &str = "2025-11-25";
/// The version every input starts at (restored by an `initialize` before the input).
const START_LEGACY: &str = "2025-06-18";

/// The era `params` selects, given the legacy version negotiated so far (mirrors the rule in
/// the protocol's era table: both `_meta` keys, or neither; `server/discover` is modern only).
fn era_of(method: &str, params: Option<&Value>, legacy: Option<&'static str>) -> Era {
    let meta = params
        .and_then(|p| p.get("_meta"))
        .and_then(Value::as_object);
    let version = meta.and_then(|m| m.get(PROTOCOL_VERSION_KEY));
    let capabilities = meta.and_then(|m| m.get(CLIENT_CAPABILITIES_KEY));
    match (version, capabilities) {
        (None, None) if method != "server/discover" => Era::Legacy(legacy),
        (Some(Value::String(v)), Some(Value::Object(_))) if v == MODERN => Era::Modern,
        (Some(Value::String(_)), Some(Value::Object(_))) => Era::Unsupported,
        _ => Era::HalfModern,
    }
}

/// What the reply to one line must look like.
enum Expect {
    Reply {
        id: Value,
        schema_valid_tool: bool,
        method: String,
        era: Era,
    },
    /// A request repeating a key somewhere: refused with an error (never run), carrying its
    /// id or, when the envelope itself is in doubt, id null.
    Refused {
        id: Value,
    },
    Nothing,
    Anything,
}

fn id(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=5)? {
        0 | 1 => Value::from(u.int_in_range(0i64..=1000)?),
        2 => Value::String(hostile_string(u, 4)?),
        3 => Value::Null,
        4 => number(u)?,
        _ => Value::from(*u.choose(&[i64::MAX, i64::MIN, -1])?),
    })
}

const URIS: &[&str] = &[
    "harness://state",
    "harness://contracts",
    "harness://traces/recent",
    "harness://gates/recent",
    "harness://contract/",
    "harness://contract/..",
    "harness://contract/%2e%2e%2fstate",
    "harness://contract/a%2Fb?x#y",
    "harness://contract/%FF",
    "harness://knowledge/item/x",
    "harness:///etc/passwd",
    "file:///etc/passwd",
    "",
];

const PROMPTS: &[&str] = &[
    "harness_bootstrap_project",
    "harness_contract_from_request",
    "harness_failure_recovery",
    "harness_verify_and_close",
    "harness_handoff_context",
    "harness_deep_research",
    "harness_learn_from_implementation",
    "harness_query_knowledge",
    "nope",
];

const PROMPT_ARGS: &[&str] = &[
    "project_name",
    "task",
    "contract_id",
    "failure_summary",
    "topic",
    "lesson",
    "query",
    "profile",
];

fn request(method: &str, id: Value, params: Option<Value>) -> Value {
    let mut message = Map::new();
    message.insert("jsonrpc".into(), json!("2.0"));
    message.insert("id".into(), id);
    message.insert("method".into(), json!(method));
    if let Some(params) = params {
        message.insert("params".into(), params);
    }
    Value::Object(message)
}

/// `_meta` for a modern request: usually well-formed, sometimes naming another version,
/// missing a key or holding the wrong type.
fn modern_meta(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut meta = Map::new();
    let version = match u.int_in_range(0..=7)? {
        0 => json!(u.choose(&LEGACY_VERSIONS)?),
        1 => json!(u.choose(&["2099-01-01", "", "2026-07-28 "])?),
        2 => Value::from(20260728),
        _ => json!(MODERN),
    };
    if u.ratio(15, 16)? {
        meta.insert(PROTOCOL_VERSION_KEY.into(), version);
    }
    if u.ratio(15, 16)? {
        let capabilities = if u.ratio(15, 16)? {
            json!({})
        } else {
            json!([])
        };
        meta.insert(CLIENT_CAPABILITIES_KEY.into(), capabilities);
    }
    if u.arbitrary()? {
        meta.insert(
            "io.modelcontextprotocol/clientInfo".into(),
            json!({"name": "fuzz", "version": "0"}),
        );
    }
    if u.ratio(1, 4)? {
        meta.insert("progressToken".into(), id(u)?);
    }
    Ok(Value::Object(meta))
}

/// Gives `message` a `params._meta`: the modern keys (1 in 3) or a legacy one (1 in 8).
fn add_meta(u: &mut Unstructured<'_>, message: &mut Value) -> Result<()> {
    let meta = if u.ratio(1, 3)? {
        modern_meta(u)?
    } else if u.ratio(1, 8)? {
        json!({"progressToken": id(u)?})
    } else {
        return Ok(());
    };
    match message.get_mut("params") {
        Some(Value::Object(params)) => {
            params.insert("_meta".into(), meta);
        }
        Some(_) => {}
        None => message["params"] = json!({"_meta": meta}),
    }
    Ok(())
}

/// One protocol line and what its reply must be. `legacy` is the version the latest
/// `initialize` negotiated; an `initialize` served in the legacy era updates it.
fn message(
    u: &mut Unstructured<'_>,
    project: &str,
    legacy: &mut &'static str,
) -> Result<(Vec<u8>, Expect)> {
    let reply = |id: &Value| Expect::Reply {
        id: id.clone(),
        schema_valid_tool: false,
        method: String::new(),
        era: Era::Legacy(None),
    };
    let (mut message, mut expect) = match u.int_in_range(0..=13)? {
        13 => {
            let id = id(u)?;
            let reference = if u.arbitrary()? {
                json!({"type": "ref/resource", "uri": u.choose(&[
                    "harness://contract/{id}",
                    "harness://knowledge/item/{id}",
                    "harness://eval-run/{id}",
                    "harness://nope/{id}",
                ])?})
            } else {
                json!({"type": u.choose(&["ref/prompt", "ref/other"])?, "name": u.choose(PROMPTS)?})
            };
            let name = u.choose(&["id", "contract_id", "baseline_run_id", "x"])?;
            let params = json!({"ref": reference,
                                "argument": {"name": name, "value": piece_string(u, 2)?}});
            (
                request("completion/complete", id.clone(), Some(params)),
                reply(&id),
            )
        }
        0 => {
            let id = id(u)?;
            let version = u.choose(&[
                "2024-11-05",
                "2025-03-26",
                "2025-06-18",
                "2025-11-25",
                "2026-07-28",
                "1999-01-01",
            ])?;
            let params = json!({"protocolVersion": version, "capabilities": {},
                                "clientInfo": {"name": "fuzz", "version": "0"}});
            (request("initialize", id.clone(), Some(params)), reply(&id))
        }
        12 => {
            let id = id(u)?;
            let method = u.choose(&[
                "server/discover",
                "tools/list",
                "resources/list",
                "resources/templates/list",
                "prompts/list",
                "ping",
                "initialize",
                "completion/complete",
            ])?;
            let params = json!({"_meta": modern_meta(u)?});
            (request(method, id.clone(), Some(params)), reply(&id))
        }
        1 => {
            let method = u.choose(&[
                "notifications/initialized",
                "notifications/cancelled",
                "tools/call",
                "ping",
            ])?;
            let note = json!({"jsonrpc": "2.0", "method": method, "params": {}});
            (note, Expect::Nothing)
        }
        2 | 3 | 4 | 5 => {
            let id = id(u)?;
            let tools = catalogue();
            let tool = u.choose(tools)?;
            let name = tool["name"].as_str().unwrap_or_default();
            let schema = &tool["inputSchema"];
            let (mut arguments, valid) = match u.int_in_range(0..=5)? {
                0 => (value(u, 3)?, false),
                1 | 2 => (near(u, schema, 4)?, false),
                _ => (satisfying(u, schema, 4)?, true),
            };
            if let Some(args) = arguments.as_object_mut() {
                if args.contains_key("project_path") || u.ratio(1, 8)? {
                    let path = match u.int_in_range(0..=2)? {
                        0 => project.to_string(),
                        1 => format!("{project}/"),
                        _ => piece_string(u, 3)?,
                    };
                    args.insert("project_path".into(), Value::String(path));
                }
            }
            let registered = codex_harness_mcp::tools::find(name).is_some();
            let params = json!({"name": name, "arguments": arguments});
            let expect = Expect::Reply {
                id: id.clone(),
                schema_valid_tool: valid && registered,
                method: String::new(),
                era: Era::Legacy(None),
            };
            (request("tools/call", id, Some(params)), expect)
        }
        6 => {
            let id = id(u)?;
            let method = u.choose(&[
                "ping",
                "tools/list",
                "resources/list",
                "resources/templates/list",
                "prompts/list",
            ])?;
            (request(method, id.clone(), None), reply(&id))
        }
        7 | 8 => {
            let id = id(u)?;
            let mut uri = u.choose(URIS)?.to_string();
            if u.arbitrary()? {
                uri.push_str(&hostile_string(u, 3)?);
            }
            let mut params = json!({"uri": uri});
            if u.ratio(1, 4)? {
                params["project_path"] = Value::String(project.to_string() + "/../x");
            }
            (
                request("resources/read", id.clone(), Some(params)),
                reply(&id),
            )
        }
        9 => {
            let id = id(u)?;
            let mut arguments = Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let key = u.choose(PROMPT_ARGS)?.to_string();
                arguments.insert(key, Value::String(hostile_string(u, 6)?));
            }
            let params = json!({"name": u.choose(PROMPTS)?, "arguments": arguments});
            (request("prompts/get", id.clone(), Some(params)), reply(&id))
        }
        10 => {
            let id = id(u)?;
            let method = hostile_string(u, 3)?;
            let params = if u.arbitrary()? {
                Some(value(u, 2)?)
            } else {
                None
            };
            (request(&method, id.clone(), params), reply(&id))
        }
        _ => {
            let mut garbage: Vec<u8> = u.arbitrary()?;
            garbage.retain(|b| *b != b'\n');
            return Ok((garbage, Expect::Anything));
        }
    };
    if !matches!(expect, Expect::Nothing) && message.get("id").is_some() && u.arbitrary()? {
        add_meta(u, &mut message)?;
    }
    if let Expect::Reply { method, era, .. } = &mut expect {
        *method = message["method"].as_str().unwrap_or_default().to_string();
        *era = era_of(method, message.get("params"), Some(*legacy));
        if method == "initialize" && matches!(era, Era::Legacy(_)) {
            let requested = message["params"]["protocolVersion"].as_str();
            *legacy = LEGACY_VERSIONS
                .into_iter()
                .find(|v| Some(*v) == requested)
                .unwrap_or(PREFERRED_LEGACY);
            // Its reply already speaks the version it negotiates.
            *era = Era::Legacy(Some(*legacy));
        }
    }
    let mut line = serde_json::to_vec(&message).unwrap_or_default();
    if u.ratio(1, 8)? {
        line.extend_from_slice(b"\r");
    }
    Ok((line, expect))
}

fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn check_reply(fixture: &Fixture, text: &str, expect: &Expect) {
    let reply: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("reply is not JSON ({e}): {text}"));
    assert_eq!(reply["jsonrpc"], "2.0", "{text}");
    let object = reply.as_object().expect("reply is an object");
    assert!(object.contains_key("id"), "reply without id: {text}");
    let has_result = object.contains_key("result");
    let has_error = object.contains_key("error");
    assert!(
        has_result != has_error,
        "need exactly one of result/error: {text}"
    );
    if let Some(error) = object.get("error") {
        assert!(error["code"].is_i64(), "{text}");
        let message = error["message"]
            .as_str()
            .expect("error message is a string");
        assert!(
            !message.contains(&fixture.project_text),
            "project path leaked in an error: {text}"
        );
    }
    if reply["result"]["isError"] == true {
        for item in reply["result"]["content"].as_array().into_iter().flatten() {
            let text_item = item["text"].as_str().unwrap_or_default();
            assert!(
                !text_item.contains(&fixture.project_text),
                "project path leaked in isError text: {text}"
            );
        }
    }
    if let Expect::Refused { id } = expect {
        let refused = reply["error"]["code"].is_i64();
        let id_kept = reply["id"].is_null() || numbers_equal(&reply["id"], id);
        assert!(refused && id_kept, "repeated key not refused: {text}");
        return;
    }
    if let Expect::Reply {
        id,
        schema_valid_tool,
        method,
        era,
    } = expect
    {
        if id.is_array() || id.is_object() {
            // JSON-RPC ids are strings, numbers or null: anything else is an invalid request,
            // answered with id null (the id cannot be echoed safely).
            assert_eq!(reply["id"], Value::Null, "non-scalar id echoed: {text}");
            assert_eq!(
                reply["error"]["code"], -32600,
                "non-scalar id accepted: {text}"
            );
            return;
        }
        assert!(
            numbers_equal(&reply["id"], id),
            "reply id {} for request id {id}",
            reply["id"]
        );
        if *schema_valid_tool && matches!(era, Era::Legacy(_) | Era::Modern) {
            assert!(has_result, "schema-valid tool call refused: {text}");
        }
        check_era(&reply, method, *era, text);
    }
}

fn newer(version: &str, since: &str) -> bool {
    version >= since
}

/// The reply is a message of its request's era (see the module documentation).
fn check_era(reply: &Value, method: &str, era: Era, text: &str) {
    let result = reply.get("result");
    let code = reply["error"]["code"].as_i64();
    match era {
        Era::Legacy(version) => {
            if let Some(result) = result.and_then(Value::as_object) {
                for key in ["resultType", "ttlMs", "cacheScope"] {
                    assert!(!result.contains_key(key), "legacy reply with {key}: {text}");
                }
                let Some(version) = version else { return };
                if method == "initialize" {
                    assert_eq!(result["protocolVersion"], version, "{text}");
                }
                if method == "tools/list" {
                    for tool in result["tools"].as_array().into_iter().flatten() {
                        let fields = newer(version, "2025-06-18");
                        assert_eq!(
                            tool.get("outputSchema").is_some(),
                            fields,
                            "{version}: {text}"
                        );
                        assert_eq!(tool.get("title").is_some(), fields, "{version}: {text}");
                        if !newer(version, "2025-03-26") {
                            assert!(tool.get("annotations").is_none(), "{version}: {text}");
                        }
                    }
                }
            }
        }
        Era::Modern => {
            if matches!(method, "ping" | "initialize") {
                assert_eq!(code, Some(-32601), "modern {method} served: {text}");
            }
            if let Some(result) = result {
                assert_eq!(result["resultType"], "complete", "modern result: {text}");
                assert!(
                    result["_meta"][SERVER_INFO_KEY]["name"].is_string(),
                    "modern result without server identity: {text}"
                );
            }
        }
        Era::HalfModern => {
            if code != Some(-32600) {
                assert_eq!(code, Some(-32602), "half-formed _meta served: {text}");
            }
        }
        Era::Unsupported => {
            if code != Some(-32600) {
                assert_eq!(code, Some(-32022), "unsupported version served: {text}");
                assert_eq!(
                    reply["error"]["data"]["supported"],
                    json!([MODERN]),
                    "{text}"
                );
            }
        }
    }
}

fn check_disk(fixture: &Fixture) {
    let names: Vec<String> = std::fs::read_dir(&fixture.project)
        .expect("list project")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [".codex-harness"],
        "created outside the harness directory"
    );
    let state = fixture.project.join(".codex-harness/state.json");
    if let Ok(bytes) = std::fs::read(&state) {
        let parsed: Value = serde_json::from_slice(&bytes).expect("state.json parses");
        assert!(parsed.is_object(), "state.json is not an object");
    }
}

/// What JSON-RPC 2.0 itself says about a raw line: an object with an `id` is answered with
/// that id; a well-formed notification is not answered; anything else may get an error.
fn expect_raw(frame: &Frame) -> Expect {
    let Frame::Line(bytes) = frame else {
        return Expect::Anything;
    };
    let Ok(Value::Object(message)) = serde_json::from_slice::<Value>(bytes) else {
        return Expect::Anything;
    };
    if fuzz_support::has_duplicate_key(bytes) {
        return match message.get("id") {
            Some(id) => Expect::Refused { id: id.clone() },
            None => Expect::Anything,
        };
    }
    match message.get("id") {
        Some(id) => {
            let method = message
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Expect::Reply {
                id: id.clone(),
                schema_valid_tool: false,
                method: method.to_string(),
                era: era_of(method, message.get("params"), None),
            }
        }
        None if message.get("jsonrpc") == Some(&json!("2.0"))
            && message.get("method").is_some_and(Value::is_string) =>
        {
            Expect::Nothing
        }
        None => Expect::Anything,
    }
}

/// The serve pass's stdout: lines collected in memory.
#[derive(Default)]
struct Collected(Rc<RefCell<Vec<u8>>>);

impl Write for Collected {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `stream` as the stdio loop's input: a file beside the project, opened for reading.
fn stream_input(fixture: &Fixture, stream: &[u8]) -> std::fs::File {
    let file = fixture.project.with_extension("stream");
    std::fs::write(&file, stream).expect("write the stream");
    std::fs::File::open(&file).expect("open the stream")
}

/// `stream` served from the start by the stdio loop: `answered` lines, each a well-formed
/// JSON-RPC 2.0 reply.
fn serve_pass(fixture: &Fixture, stream: &[u8], answered: usize) {
    reset(fixture);
    restore_legacy(&fixture.server);
    let input = stream_input(fixture, &stream);
    let output = Rc::new(RefCell::new(Vec::new()));
    let served = fixture
        .server
        .serve(input, Collected(Rc::clone(&output)), None);
    assert!(served.is_ok(), "serve failed: {served:?}");
    let output = output.borrow();
    let lines: Vec<&[u8]> = output
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), answered, "serve answered differently");
    for line in lines {
        let reply: Value = serde_json::from_slice(line).expect("serve wrote JSON");
        assert_eq!(reply["jsonrpc"], "2.0");
        assert!(
            reply.get("result").is_some() != reply.get("error").is_some(),
            "{reply}"
        );
    }
}

/// stdin that fails once `left` bytes have been read (the descriptor stays pollable).
struct FailingInput {
    file: std::fs::File,
    left: usize,
}

impl Read for FailingInput {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("stdin failed"));
        }
        let want = buffer.len().min(self.left);
        let read = self.file.read(&mut buffer[..want])?;
        self.left -= read;
        Ok(read)
    }
}

impl AsFd for FailingInput {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// stdout that takes `limit` bytes and then fails every write with `kind`, counting the
/// writes it was asked for after its first failure.
struct RefusingOutput {
    taken: usize,
    limit: usize,
    kind: std::io::ErrorKind,
    failed: Rc<Cell<bool>>,
    writes_after_failure: Rc<Cell<usize>>,
}

impl Write for RefusingOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.failed.get() {
            self.writes_after_failure
                .set(self.writes_after_failure.get() + 1);
        }
        if self.taken + bytes.len() > self.limit {
            self.failed.set(true);
            return Err(std::io::Error::from(self.kind));
        }
        self.taken += bytes.len();
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `stream` served by the stdio loop over stdio that fails: stdin after half the stream, or
/// stdout after as many bytes as the stream has (as a closed pipe or another error, by the
/// stream's length). The session ends with exactly that error, nothing is written after a
/// failed write, and the error's text names no absolute path.
fn failing_stdio_pass(fixture: &Fixture, stream: &[u8]) {
    reset(fixture);
    restore_legacy(&fixture.server);
    let opened = stream_input(fixture, &stream);
    let served = if (stream.len() / 16) % 2 == 0 {
        let input = FailingInput {
            file: opened,
            left: stream.len() / 2,
        };
        let served = fixture.server.serve(input, Collected::default(), None);
        let failed_read = matches!(served, Err(StdioError::Read(_)));
        // An empty stream ends (read of 0 bytes) before the input can fail.
        assert_eq!(failed_read, !stream.is_empty(), "{served:?}");
        served
    } else {
        let failed = Rc::new(Cell::new(false));
        let writes_after_failure = Rc::new(Cell::new(0));
        let output = RefusingOutput {
            taken: 0,
            limit: stream.len(),
            kind: if (stream.len() / 32) % 2 == 0 {
                std::io::ErrorKind::BrokenPipe
            } else {
                std::io::ErrorKind::StorageFull
            },
            failed: Rc::clone(&failed),
            writes_after_failure: Rc::clone(&writes_after_failure),
        };
        let served = fixture.server.serve(opened, output, None);
        assert_eq!(
            matches!(served, Err(StdioError::Write(_))),
            failed.get(),
            "{served:?}"
        );
        assert_eq!(writes_after_failure.get(), 0, "wrote after a failed write");
        served
    };
    if let Err(error) = served {
        let text = error.to_string();
        assert!(
            !text.is_empty() && !text.contains(&fixture.project_text),
            "{text}"
        );
    }
}

/// A request of the contended pass, renumbered with its position.
struct Tracked {
    id: i64,
    cancelled: bool,
}

/// The well-formed requests of `stream` (JSON objects with `jsonrpc: "2.0"`, a string method,
/// an `id` and no duplicate key), renumbered 1, 2, 3…; every third asks for progress (with a
/// token of ours; any token of its own is removed) and every third is followed by a
/// cancellation of itself. Everything else is dropped: the
/// other passes serve it.
fn contended_stream(stream: &[u8]) -> (Vec<u8>, Vec<Tracked>, HashSet<String>) {
    let mut out = Vec::new();
    let mut tracked = Vec::new();
    let mut tokens = HashSet::new();
    for line in stream.split(|b| *b == b'\n') {
        if fuzz_support::has_duplicate_key(line) {
            continue;
        }
        let Ok(Value::Object(mut request)) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        let well_formed = request.get("jsonrpc") == Some(&json!("2.0"))
            && request.get("method").is_some_and(Value::is_string)
            && request.contains_key("id")
            && request.get("params").is_none_or(Value::is_object);
        if !well_formed {
            continue;
        }
        let id = tracked.len() as i64 + 1;
        request.insert("id".into(), json!(id));
        let cancelled = id % 3 == 2;
        // Tokens are ours alone (one per request), so progress can be told apart.
        if let Some(Value::Object(meta)) = request
            .get_mut("params")
            .and_then(|params| params.get_mut("_meta"))
        {
            meta.remove("progressToken");
        }
        if id % 3 == 1 {
            let token = format!("p{id}");
            let params = request.entry("params").or_insert_with(|| json!({}));
            let meta = params
                .as_object_mut()
                .map(|p| p.entry("_meta").or_insert_with(|| json!({})));
            if let Some(Value::Object(meta)) = meta {
                meta.insert("progressToken".into(), json!(token));
                tokens.insert(token);
            }
        }
        out.extend_from_slice(&serde_json::to_vec(&Value::Object(request)).unwrap_or_default());
        out.push(b'\n');
        if cancelled {
            let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                                "params": {"requestId": id, "reason": "fuzz"}});
            out.extend_from_slice(&serde_json::to_vec(&cancel).unwrap_or_default());
            out.push(b'\n');
        }
        tracked.push(Tracked { id, cancelled });
    }
    (out, tracked, tokens)
}

/// The well-formed requests of `stream` served by the contended server while another
/// (Node) process holds both locks. Every request is answered once, in order, unless it was
/// cancelled; progress notifications name a token some request gave, rise strictly per
/// token, and none follows its request's reply.
fn contended_pass(fixture: &Fixture, stream: &[u8]) {
    let (stream, tracked, tokens) = contended_stream(stream);
    reset(fixture);
    restore_legacy(&fixture.contended);
    let node_lock = format!(
        "{}\n{}\n",
        std::process::id(),
        codex_harness_mcp::clock::now_iso()
    );
    let harness = fixture.project.join(".codex-harness");
    std::fs::create_dir_all(harness.join("knowledge")).expect("knowledge directory");
    std::fs::write(harness.join(".state.lock"), &node_lock).expect("plant the state lock");
    std::fs::write(harness.join("knowledge/.knowledge-index.lock"), &node_lock)
        .expect("plant the index lock");
    let input = stream_input(fixture, &stream);
    let output = Collected::default();
    let collected = Rc::clone(&output.0);
    let served = fixture.contended.serve(input, output, None);
    assert!(served.is_ok(), "serve failed: {served:?}");
    let output = collected.borrow();
    let mut replies = Vec::new();
    let mut progress: HashMap<String, u64> = HashMap::new();
    let mut finished = HashSet::new();
    for line in output.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let message: Value = serde_json::from_slice(line).expect("serve wrote JSON");
        assert_eq!(message["jsonrpc"], "2.0", "{message}");
        if message["method"] == "notifications/progress" {
            let token = message["params"]["progressToken"]
                .as_str()
                .unwrap_or_default();
            assert!(tokens.contains(token), "progress for no request: {message}");
            let id: i64 = token[1..].parse().expect("a token names its request");
            assert!(
                !finished.contains(&id),
                "progress after the reply: {message}"
            );
            let value = message["params"]["progress"].as_u64().expect("progress");
            let previous = progress.insert(token.to_string(), value);
            assert!(
                previous.is_none_or(|p| p < value),
                "progress fell: {message}"
            );
            assert!(message["params"]["total"].is_u64(), "{message}");
            continue;
        }
        assert!(
            message.get("result").is_some() != message.get("error").is_some(),
            "{message}"
        );
        let id = message["id"].as_i64().expect("a renumbered request's id");
        finished.insert(id);
        replies.push(id);
    }
    let mut next = 0;
    for request in &tracked {
        if replies.get(next) == Some(&request.id) {
            next += 1;
        } else {
            assert!(request.cancelled, "request {} got no reply", request.id);
        }
    }
    assert_eq!(next, replies.len(), "replies out of order: {replies:?}");
}

/// Restores the legacy era's starting version (the server outlives inputs).
fn restore_legacy(server: &Server) {
    let line = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                      "params": {"protocolVersion": START_LEGACY, "capabilities": {},
                                 "clientInfo": {"name": "fuzz", "version": "0"}}});
    let frame = Frame::Line(serde_json::to_vec(&line).unwrap_or_default());
    let reply = server.handle_frame(&frame).expect("initialize is answered");
    assert!(reply.contains(START_LEGACY), "{reply}");
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let fixture = fixture();
    reset(fixture);
    restore_legacy(&fixture.server);
    let mut legacy = START_LEGACY;
    let mut stream = Vec::new();
    let mut expectations = Vec::new();
    let raw = u.ratio(1, 4)?;
    if raw {
        // Raw mode, for seeds: the rest of the input is a JSONL session.
        stream.extend_from_slice(u.bytes(u.len())?);
    } else {
        for _ in 0..u.int_in_range(1..=8)? {
            let (line, expect) = message(u, &fixture.project_text, &mut legacy)?;
            stream.extend_from_slice(&line);
            stream.push(b'\n');
            expectations.push(expect);
        }
    }
    let mut framer = Framer::new();
    let mut frames = Vec::new();
    framer.push(&stream, &mut frames);
    framer.finish(&mut frames);
    if raw {
        expectations = frames.iter().map(expect_raw).collect();
    }
    assert_eq!(frames.len(), expectations.len(), "one frame per line");
    let mut answered = 0;
    for (frame, expect) in frames.iter().zip(&expectations) {
        let reply = fixture.server.handle_frame(frame);
        answered += usize::from(reply.is_some());
        let blank = matches!(frame, Frame::Line(l) if l.iter().all(u8::is_ascii_whitespace));
        match (&reply, expect) {
            (Some(text), _) => {
                assert!(
                    !matches!(expect, Expect::Nothing),
                    "notification answered: {text}"
                );
                assert!(!blank, "blank line answered: {text}");
                check_reply(fixture, text, expect);
            }
            (None, Expect::Reply { id, .. } | Expect::Refused { id }) => {
                panic!("request {id} got no reply")
            }
            (None, _) => {}
        }
        check_disk(fixture);
    }
    match stream.len() % 16 {
        0 => serve_pass(fixture, &stream, answered),
        8 => failing_stdio_pass(fixture, &stream),
        4 | 12 => contended_pass(fixture, &stream),
        _ => {}
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});

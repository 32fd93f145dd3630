//! Every crash or invariant failure the fuzz targets (`fuzz/`) found, pinned as an ordinary
//! test so CI without nightly still guards it. Each test names the target that found it; the
//! raw libFuzzer input is kept next to the readable fixture under `tests/fixtures/fuzz/` and
//! can be replayed with `cargo +nightly fuzz run <target> <file>`.
//!
//! Every file under `tests/fixtures/fuzz/<target>/` is replayed here (`every_kept_input_is_
//! replayed`) through that target's invariant restated on the file read plainly (bytes, text
//! or lines, as each `replay_*` says), and also, exactly as the fuzzer decoded it, through the
//! target binary by `fuzz/ci.sh`. A directory with no replay here fails the test.

mod common;

#[allow(dead_code)] // Only the detector itself is used here.
#[path = "support/loose_marker.rs"]
mod loose_marker;

#[allow(dead_code)] // Only the JSONC reading is used here.
#[path = "../fuzz/src/jsonc.rs"]
mod jsonc;

use codex_harness_mcp::install::{json as json_editor, toml as toml_editor};
use codex_harness_mcp::json::{parse_lenient, parse_message, MAX_JSON_DEPTH};
use codex_harness_mcp::knowledge::{analyze, tokenize};
use codex_harness_mcp::resources::parse_uri;
use codex_harness_mcp::sanitize::{safe_file_id, sanitize_text};
use codex_harness_mcp::schema::validate;
use codex_harness_mcp::transport::{Frame, Framer, MAX_LINE_BYTES};
use serde_json::{json, Value};
use std::path::Path;

fn fixture(text: &str) -> (Value, Value) {
    let case: Value = serde_json::from_str(text).expect("fixture is JSON");
    (case["schema"].clone(), case["instance"].clone())
}

/// install_json target (CI seed 183426392): the independent JSONC reading dropped the comma of
/// `{,}` as if it were a trailing one and called the file editable, while the editor rightly
/// refuses it (JSONC allows a comma only after a member or element).
#[test]
fn a_comma_with_nothing_before_it_is_not_jsonc() {
    let lone = r#"{"a": /* c */ {,\t}}"#;
    assert!(jsonc::parse(r#"{"a": [1,], "b": {"c": 2,},}"#).is_some());
    for text in [lone, "[,]", r#"{"a": 1,,}"#] {
        assert_eq!(jsonc::parse(text), None, "{text}");
        let entry = json!({"command": "x"});
        assert!(
            json_editor::upsert(text, "mcpServers", "n", &entry).is_err(),
            "{text}"
        );
    }
}

/// schema_validator: `{"enum":[-1]}` refused `-1.0` although JSON Schema and JavaScript both
/// treat them as the same number (enum membership compared serde_json representations).
#[test]
fn enum_membership_compares_numbers_by_value() {
    let (schema, instance) = fixture(include_str!(
        "fixtures/fuzz/schema_enum_integral_double.json"
    ));
    assert!(instance.is_f64(), "the fixture must keep the double form");
    assert_eq!(validate(&schema, &instance), Ok(()));
    assert_eq!(
        validate(&serde_json::json!({"enum": [0]}), &serde_json::json!(-0.0)),
        Ok(())
    );
    assert_eq!(
        validate(
            &serde_json::json!({"enum": [[1, {"a": 2}]]}),
            &serde_json::json!([1.0, {"a": 2.0}])
        ),
        Ok(())
    );
    assert!(validate(&schema, &serde_json::json!(-1.5)).is_err());
    assert!(validate(&schema, &serde_json::json!("-1")).is_err());
}

/// sanitizer: `sanitize_text(x, usize::MAX)` overflowed computing its capacity hint
/// (`max * 4 + 64`), a panic under overflow checks for any caller asking for "no limit".
#[test]
fn sanitize_text_accepts_the_largest_limit() {
    assert_eq!(sanitize_text("a\u{200b}b", usize::MAX), "ab");
    assert_eq!(sanitize_text("", usize::MAX), "");
}

/// sanitizer: truncating `…</untrusted-datax` right after its marker word left
/// `</untrusted-data` followed by the suffix's newline: a live closing marker in "sanitised"
/// text. The partial opener is now left out of the kept prefix (and since markers need no
/// word boundary any more, `</untrusted-datax` is itself redacted before the cut).
#[test]
fn truncation_cannot_complete_a_block_marker() {
    let text = include_str!("fixtures/fuzz/sanitizer_truncated_closer.txt");
    for max in 0..text.len() {
        let out = sanitize_text(text, max);
        let lower = out.to_ascii_lowercase();
        assert!(!lower.contains("</untrusted-data\n"), "{max}: {out:?}");
        assert!(!lower.contains("<untrusted-data\n"), "{max}: {out:?}");
    }
    assert_eq!(
        sanitize_text(text, 16),
        "[untrusted-data-\n[truncated 17 characters]"
    );
}

/// sanitizer: with markers matched after NFKC folding, a marker word followed by U+017F
/// (which folds to "s") was taken as the word continuing, so `</UNTRUSTED-DATAſ` survived
/// although the original's ASCII `\b` makes it a marker. The boundary is now judged on the
/// character as written.
#[test]
fn a_non_ascii_letter_after_the_marker_word_is_a_boundary() {
    let text = include_str!("fixtures/fuzz/sanitizer_long_s_boundary.txt");
    let out = sanitize_text(text, 12_000);
    assert!(
        !out.to_ascii_lowercase().contains("</untrusted-data"),
        "{out:?}"
    );
    assert!(out.starts_with("[untrusted-data-marker-redacted]"));
}

/// sanitizer: every raw input the target kept (`tests/fixtures/fuzz/sanitizer/`), read as its
/// text (the bytes after the target's 4-byte header, lossily), leaves nothing the loose
/// detector takes for a marker, whole or cut at any length. The first run of the loose-marker
/// invariant found that the detector itself sliced `&` + a 4-byte character mid-character
/// (`crash-90aed9d6…`: `&#…;&\u{b3123}`); the sanitiser was right, the oracle now is too.
#[test]
fn kept_sanitizer_inputs_leave_no_marker_like_text() {
    assert!(replay_dir("sanitizer", replay_sanitizer) >= 4);
}

/// sanitizer: the text after the target's 4-byte header (lossily) leaves nothing the loose
/// detector takes for a marker, whole or cut at any length.
fn replay_sanitizer(path: &Path, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes.get(4..).unwrap_or_default()).into_owned();
    // The finding: the detector must read the raw text without panicking.
    loose_marker::marker_offsets(&text);
    for max in (0..text.len() + 2).chain([12_000]) {
        let out = sanitize_text(&text, max);
        assert!(
            loose_marker::marker_offsets(&out).is_empty(),
            "{}: cut at {max}: {out:?}",
            path.display()
        );
    }
}

/// Replays one kept input (its path, its bytes).
type Replay = fn(&Path, &[u8]);

/// The replay of each target's kept inputs, by directory name.
const REPLAYS: &[(&str, Replay)] = &[
    ("install_json", replay_install_json),
    ("install_toml", replay_install_toml),
    ("json_reader", replay_json_reader),
    ("jsonrpc_framer", replay_framer),
    ("knowledge_rank", replay_knowledge),
    ("mcp_session", replay_session),
    ("resource_uri", replay_resource_uri),
    ("sanitizer", replay_sanitizer),
    ("schema_validator", replay_schema),
];

fn fixture_dir(target: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target)
}

/// Replays every file of `tests/fixtures/fuzz/<target>/`; the number replayed.
fn replay_dir(target: &str, replay: Replay) -> usize {
    #[allow(clippy::disallowed_methods)] // Reads committed fixtures.
    let entries = std::fs::read_dir(fixture_dir(target)).expect("fixture directory");
    let mut replayed = 0;
    for entry in entries {
        let path = entry.expect("entry").path();
        #[allow(clippy::disallowed_methods)]
        let bytes = std::fs::read(&path).expect("fixture");
        replay(&path, &bytes);
        replayed += 1;
    }
    replayed
}

#[test]
fn every_kept_input_is_replayed() {
    #[allow(clippy::disallowed_methods)] // Lists committed fixtures.
    let entries = std::fs::read_dir(fixture_dir("")).expect("fixtures/fuzz");
    let mut replayed = 0;
    for entry in entries {
        let path = entry.expect("entry").path();
        if !path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some((_, replay)) = REPLAYS.iter().find(|(target, _)| *target == name) else {
            panic!("no replay for the kept inputs of fuzz target {name:?}");
        };
        replayed += replay_dir(name, *replay);
    }
    assert!(replayed >= 11, "only {replayed} kept inputs replayed");
}

fn text_of<'a>(path: &Path, bytes: &'a [u8]) -> &'a str {
    std::str::from_utf8(bytes).unwrap_or_else(|_| panic!("{}: not UTF-8", path.display()))
}

/// install_json: the file is a client configuration. Installing our entry gives JSONC whose
/// value is the file's plus the entry and keeps every comment; uninstalling gives the file
/// back byte for byte, except that a whitespace-only object interior comes back as `{}`.
fn replay_install_json(path: &Path, bytes: &[u8]) {
    let text = text_of(path, bytes);
    let entry = json!({"command": "/bin/x", "args": ["--project", "/p"]});
    let (before, comments) = jsonc::parse(text).expect("fixture is JSONC");
    let had_container = before
        .as_ref()
        .is_some_and(|v| v.get("mcpServers").is_some());
    let out = json_editor::upsert(text, "mcpServers", "codex-harness", &entry)
        .unwrap_or_else(|e| panic!("{}: install refused: {e}", path.display()));
    let (after, kept) = jsonc::parse(&out).expect("install output is JSONC");
    let mut expected = before.unwrap_or_else(|| json!({}));
    expected["mcpServers"]["codex-harness"] = entry;
    assert_eq!(after, Some(expected), "{}: {out:?}", path.display());
    assert_eq!(kept, comments, "{}: {out:?}", path.display());
    let back =
        json_editor::remove(&out, "mcpServers", "codex-harness", had_container).expect("uninstall");
    let collapsed = text.replace("{  }", "{}");
    assert!(
        back == text || back == collapsed,
        "{}: {back:?}",
        path.display()
    );
}

/// install_toml: the file is a `config.toml`. Installing parses and keeps every comment line;
/// uninstalling gives the file back byte for byte.
fn replay_install_toml(path: &Path, bytes: &[u8]) {
    let text = text_of(path, bytes);
    let installed = toml_editor::upsert(text, "codex-harness", "/bin/x", &["--p".into()])
        .unwrap_or_else(|e| panic!("{}: install refused: {e}", path.display()));
    let document: toml_edit::DocumentMut = installed.parse().expect("install output parses");
    let entry = &document["mcp_servers"]["codex-harness"];
    assert_eq!(entry["command"].as_str(), Some("/bin/x"));
    for comment in text.lines().filter(|l| l.trim_start().starts_with('#')) {
        assert!(
            installed.lines().any(|l| l == comment),
            "{}: lost {comment:?}",
            path.display()
        );
    }
    if text.contains("[mcp_servers.codex-harness]") {
        return;
    }
    let back = toml_editor::remove(&installed, "codex-harness").expect("uninstall");
    assert_eq!(back, text, "{}: {installed:?}", path.display());
}

/// resource_uri: each line is a URI. An id that `safe_file_id` accepts makes record file
/// names that are one normal path component.
fn replay_resource_uri(path: &Path, bytes: &[u8]) {
    for uri in text_of(path, bytes).lines() {
        let Ok(parsed) = parse_uri(uri) else { continue };
        if let Some(safe) = safe_file_id(&parsed.id) {
            for file in [format!("{safe}.json"), format!("{safe}.md")] {
                let parts: Vec<_> = Path::new(&file).components().collect();
                assert!(
                    matches!(parts.as_slice(), [std::path::Component::Normal(_)]),
                    "{uri}: {file:?}"
                );
            }
        }
    }
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// json_reader: the file is a document. Where serde_json reads it within the depth limit,
/// both readers give the same value; otherwise the strict reader refuses it.
fn replay_json_reader(path: &Path, bytes: &[u8]) {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) if depth(&value) <= MAX_JSON_DEPTH => {
            assert_eq!(
                parse_lenient(bytes).as_ref(),
                Ok(&value),
                "{}",
                path.display()
            );
            let text = text_of(path, bytes);
            assert_eq!(parse_message(text).map(|m| m.value).as_ref(), Ok(&value));
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(bytes) {
                assert!(parse_message(text).is_err(), "{}", path.display());
            }
            let _ = parse_lenient(bytes);
        }
    }
}

/// jsonrpc_framer: the file is a stream. At several limits (and the shipped one) the frames
/// are the stream's lines, oversize past the limit, however it is chunked.
fn replay_framer(path: &Path, bytes: &[u8]) {
    for limit in [1, 7, 64, 4096, MAX_LINE_BYTES] {
        let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        if bytes.ends_with(b"\n") || bytes.is_empty() {
            lines.pop();
        }
        let model: Vec<Frame> = lines
            .into_iter()
            .map(|line| match line.len() {
                length if length > limit => Frame::Oversize { length },
                _ => Frame::Line(line.to_vec()),
            })
            .collect();
        for chunk in [1, 3, bytes.len().max(1)] {
            let mut framer = Framer::with_limit(limit);
            let mut frames = Vec::new();
            for piece in bytes.chunks(chunk) {
                framer.push(piece, &mut frames);
                assert!(framer.buffered() <= limit);
            }
            framer.finish(&mut frames);
            assert_eq!(
                frames,
                model,
                "{}: limit {limit}, chunks of {chunk}",
                path.display()
            );
        }
    }
}

/// knowledge_rank: the file is field text. Tokens are bounded and of the token alphabet;
/// analysis emits at most two terms per token plus one per compound part.
fn replay_knowledge(path: &Path, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let tokens = tokenize(&text);
    assert!(tokens.len() <= 400, "{}", path.display());
    let terms = analyze(&text, tokens.len());
    let steps: usize = tokens
        .iter()
        .map(|t| 2 + t.matches(['.', '/', '-', '_']).count())
        .sum();
    assert!(terms.len() <= steps, "{}", path.display());
    assert!(terms.iter().all(|t| t.len() <= 80), "{}", path.display());
}

/// mcp_session: the file is a JSONL session, sent to the real binary over its pipes. Every
/// line it writes back is one JSON-RPC 2.0 message with exactly one of result and error.
fn replay_session(path: &Path, bytes: &[u8]) {
    let project = common::TempProject::new("fuzz-replay");
    let mut server = common::Server::start(&project.path);
    server.send_raw(bytes);
    if !bytes.ends_with(b"\n") {
        server.send_raw(b"\n");
    }
    let requests = bytes
        .split(|b| *b == b'\n')
        .filter(|l| serde_json::from_slice::<Value>(l).is_ok_and(|v| v.get("id").is_some()));
    for _ in requests {
        let reply = server.recv();
        assert_eq!(reply["jsonrpc"], "2.0", "{}: {reply}", path.display());
        assert!(
            reply.get("result").is_some() != reply.get("error").is_some(),
            "{reply}"
        );
    }
    assert_eq!(server.finish(), 0, "{}", path.display());
}

/// schema_validator: a file that is JSON `{"schema", "instance"}` is validated without panic
/// and the verdict agrees with `jsonschema`; any other file (a raw libFuzzer input, decoded
/// exactly only by the target binary) is validated, as a string instance, against every tool
/// schema of the catalogue without panic.
fn replay_schema(path: &Path, bytes: &[u8]) {
    if let Ok(case) = serde_json::from_slice::<Value>(bytes) {
        if let (Some(schema), Some(instance)) = (case.get("schema"), case.get("instance")) {
            let oracle = jsonschema::is_valid(schema, instance);
            assert_eq!(
                validate(schema, instance).is_ok(),
                oracle,
                "{}",
                path.display()
            );
            return;
        }
    }
    let catalogue: Vec<Value> =
        serde_json::from_str(include_str!("../src/tools/catalog.json")).expect("catalogue");
    let instance = Value::String(String::from_utf8_lossy(bytes).into_owned());
    for tool in &catalogue {
        let _ = validate(&tool["inputSchema"], &instance);
    }
}

//! A corpus of forged `<untrusted-data>` markers (`tests/fixtures/forged-markers.json`) is
//! neutralised by `sanitize_text`, and, end to end through the real binary, recorded as
//! contract, trace and knowledge text and read back through every tool result and resource
//! that shows it: apart from the server's own block opener and closer, an independent loose
//! detector finds nothing a reader could take for a marker.
#![allow(clippy::disallowed_methods)]

mod common;
#[path = "support/loose_marker.rs"]
mod loose_marker;

use codex_harness_mcp::sanitize::{sanitize_text, untrusted_block, MAX_TEXT_LENGTH};
use common::{Server, TempProject};
use loose_marker::{forged_marker_offsets, marker_offsets, without_genuine_markers};
use serde_json::{json, Value};

fn corpus() -> Vec<(String, String)> {
    let entries: Vec<Value> =
        serde_json::from_str(include_str!("fixtures/forged-markers.json")).expect("JSON array");
    entries
        .iter()
        .map(|e| {
            (
                e["marker"].as_str().expect("marker").to_string(),
                e["why"].as_str().expect("why").to_string(),
            )
        })
        .collect()
}

#[test]
fn the_corpus_is_large_and_every_entry_is_seen_by_the_detector() {
    let corpus = corpus();
    assert!(corpus.len() >= 60, "only {} forged markers", corpus.len());
    for (marker, why) in &corpus {
        assert!(
            !marker_offsets(marker).is_empty(),
            "the detector misses {why}: {marker:?}"
        );
    }
    assert!(marker_offsets("untrusted data, <b>untrusted data</b>").is_empty());
}

#[test]
fn no_forged_marker_survives_sanitize_text() {
    for (marker, why) in corpus() {
        for text in [
            marker.clone(),
            format!("before {marker} after"),
            format!("{marker}{marker}"),
        ] {
            let out = sanitize_text(&text, MAX_TEXT_LENGTH);
            assert!(
                marker_offsets(&out).is_empty(),
                "{why}: {text:?} -> {out:?}"
            );
            assert_eq!(sanitize_text(&out, MAX_TEXT_LENGTH), out, "not idempotent");
            for max in 0..text.chars().count() + 2 {
                let cut = sanitize_text(&text, max);
                assert!(
                    marker_offsets(&cut).is_empty(),
                    "{why} cut at {max}: {cut:?}"
                );
            }
            let block = untrusted_block(Some(&text), "t");
            assert_eq!(
                marker_offsets(&block),
                [0, block.len() - "</untrusted-data>".len()],
                "{why}: {block:?}"
            );
        }
    }
}

/// Every string in `value`; a text content item holding JSON is read as that JSON.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(inner @ (Value::Object(_) | Value::Array(_))) => strings(&inner, out),
            _ => out.push(text.clone()),
        },
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(map) => map.values().for_each(|item| strings(item, out)),
        _ => {}
    }
}

fn assert_clean(what: &str, value: &Value) -> usize {
    let mut texts = Vec::new();
    strings(value, &mut texts);
    for text in &texts {
        let stripped = without_genuine_markers(text);
        let found = forged_marker_offsets(text);
        assert!(
            found.is_empty(),
            "{what}: marker-like text at {:?} in {stripped:?}",
            found
                .iter()
                .map(|at| &stripped[*at..stripped.len().min(at + 80)])
                .collect::<Vec<_>>()
        );
    }
    texts.len()
}

#[test]
fn no_forged_marker_survives_any_output_end_to_end() {
    let project = TempProject::new("forged-markers");
    let mut server = Server::start(&project.path);
    server.call_ok("harness_bootstrap", json!({}));
    let corpus = corpus();
    let markers: Vec<&str> = corpus.iter().map(|(m, _)| m.as_str()).collect();
    let mut outputs = Vec::new();
    let mut contracts = Vec::new();
    for (index, chunk) in markers.chunks(8).enumerate() {
        let joined = chunk.join(" | ");
        let created = server.call(
            "harness_create_contract",
            json!({"title": chunk[0], "goal": joined, "completion_conditions": chunk,
                   "notes": joined}),
        );
        contracts.push(
            created["structuredContent"]["contract"]["id"]
                .as_str()
                .expect("contract id")
                .to_string(),
        );
        outputs.push((format!("create_contract {index}"), created));
        for marker in chunk {
            let trace = server.call(
                "harness_record_trace",
                json!({"kind": "attempt", "summary": marker, "raw": joined, "follow_up": marker}),
            );
            outputs.push((format!("record_trace {marker:?}"), trace));
        }
        let knowledge = server.call(
            "harness_record_knowledge",
            json!({"title": chunk[0], "content": joined, "summary": chunk[0],
                   "key_findings": chunk, "tags": ["forged"]}),
        );
        outputs.push((format!("record_knowledge {index}"), knowledge));
        let gate = server.call(
            "harness_eval_gate",
            json!({"checked_conditions": chunk, "evidence": chunk, "notes": joined}),
        );
        outputs.push((format!("eval_gate {index}"), gate));
    }
    for (tool, args) in [
        ("harness_list", json!({})),
        ("harness_next_step", json!({})),
        ("harness_compact_context", json!({})),
        ("harness_list_knowledge", json!({})),
        (
            "harness_query_knowledge",
            json!({"query": "untrusted data"}),
        ),
        ("harness_audit_governance", json!({})),
        ("harness_export_governance_report", json!({})),
        ("harness_export_observability_report", json!({})),
        ("harness_export_nl_harness", json!({})),
    ] {
        let result = server.call(tool, args);
        assert!(result.get("isError").is_none(), "{tool}: {result}");
        outputs.push((tool.to_string(), result));
    }
    let listed = server.request("resources/list", json!({}));
    let mut uris: Vec<String> = listed["result"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["uri"].as_str().expect("uri").to_string())
        .collect();
    uris.extend(
        contracts
            .iter()
            .map(|id| format!("harness://contract/{id}")),
    );
    for uri in &uris {
        let reply = server.request("resources/read", json!({"uri": uri}));
        outputs.push((format!("resource {uri}"), reply));
    }
    let mut checked = 0;
    for (what, output) in &outputs {
        checked += assert_clean(what, output);
    }
    let shown: String = outputs.iter().map(|(_, o)| o.to_string()).collect();
    assert!(
        shown.contains("[untrusted-data-marker-redacted]"),
        "the markers were never shown back"
    );
    assert!(checked > 1000, "only {checked} strings checked");
}

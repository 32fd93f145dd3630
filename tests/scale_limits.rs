#![allow(clippy::disallowed_methods)] // Tests inspect fixtures with std::fs.
//! No size limit the server can cross by itself. The store reads no file larger than its
//! bound and writes none either; these tests lower the bound (everything the knowledge index
//! sizes itself by follows it), then record far past it through the tool layer, on real
//! files, and check that recording, querying, listing and the index resource keep working,
//! in this process and in a fresh one, and that no file the server wrote exceeds the bound.
//! Files that grow only by appends the server cannot shard (a day of traces) are refused at
//! write time with a clear error that leaves the project usable.

mod common;

use codex_harness_mcp::store::{Store, MAX_FILE_BYTES};
use codex_harness_mcp::tools;
use common::TempProject;
use serde_json::{json, Value};
use std::path::Path;

/// The lowered bound: a few hundred typical items' worth of index.
const LIMIT: u64 = 192 * 1024;

fn store(project: &Path) -> Store {
    Store::open(project)
        .expect("open store")
        .with_file_limit(LIMIT)
}

fn call(store: &Store, tool: &str, arguments: Value) -> Value {
    tools::call(store, Some(tool), Some(&arguments)).expect("valid call")
}

fn ok(store: &Store, tool: &str, arguments: Value) -> Value {
    let reply = call(store, tool, arguments);
    assert!(reply.get("isError").is_none(), "{tool}: {reply}");
    serde_json::from_str(reply["content"][0]["text"].as_str().expect("text")).expect("json")
}

fn item(n: usize) -> Value {
    json!({
        "title": format!("Note {n} about the cache"),
        "content": format!("When the cache misbehaves in module {} we saw error E{} after the deploy; pin version {}; marker zq{n}x.", n % 97, n % 1013, n % 31),
        "tags": ["cache", format!("area-{}", n % 17)]
    })
}

/// Every file under the harness directory, with its size.
fn sizes(dir: &Path, out: &mut Vec<(String, u64)>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let meta = entry.metadata().expect("metadata");
        if meta.is_dir() {
            sizes(&entry.path(), out);
        } else {
            out.push((entry.path().display().to_string(), meta.len()));
        }
    }
}

fn query_finds(store: &Store, n: usize) {
    let found = ok(
        store,
        "harness_query_knowledge",
        json!({"query": format!("zq{n}x"), "max_results": 5}),
    );
    let titles: Vec<String> = found["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|hit| hit["item"]["title"].to_string())
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t.contains(&format!("Note {n} about"))),
        "{n}: {titles:?}"
    );
}

#[test]
fn knowledge_recorded_far_past_the_file_bound_keeps_working() {
    let project = TempProject::new("scale-knowledge");
    let items = 900;
    {
        let store = store(&project.path);
        ok(&store, "harness_bootstrap", json!({}));
        for n in 0..items {
            let reply = call(&store, "harness_record_knowledge", item(n));
            assert!(reply.get("isError").is_none(), "record {n}: {reply}");
        }
        query_finds(&store, 3);
        query_finds(&store, items - 1);
        let listed = ok(&store, "harness_list_knowledge", json!({"limit": 5}));
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(5));
    }
    let mut files = Vec::new();
    sizes(&project.harness(), &mut files);
    for (path, size) in &files {
        assert!(*size <= LIMIT, "{path} is {size} bytes, over {LIMIT}");
    }
    // A fresh process (a fresh thread has a fresh in-memory index) reads it all back.
    let path = project.path.clone();
    std::thread::spawn(move || {
        let store = store(&path);
        query_finds(&store, 1);
        query_finds(&store, items - 2);
        let listed = ok(&store, "harness_list_knowledge", json!({"limit": 1}));
        assert!(listed["items"]
            .to_string()
            .contains(&format!("Note {}", items - 1)));
        let reply = call(&store, "harness_record_knowledge", item(items));
        assert!(reply.get("isError").is_none(), "{reply}");
        query_finds(&store, items);
    })
    .join()
    .expect("fresh reader");
}

#[test]
fn a_rebuild_far_past_the_file_bound_keeps_every_item() {
    let project = TempProject::new("scale-rebuild");
    let store = store(&project.path);
    ok(&store, "harness_bootstrap", json!({}));
    let items = 500;
    for n in 0..items {
        ok(&store, "harness_record_knowledge", item(n));
    }
    let rebuilt = ok(&store, "harness_rebuild_knowledge_index", json!({}));
    assert_eq!(rebuilt["itemCount"], json!(items));
    query_finds(&store, 0);
    query_finds(&store, items - 1);
    let mut files = Vec::new();
    sizes(&project.harness(), &mut files);
    for (path, size) in &files {
        assert!(*size <= LIMIT, "{path} is {size} bytes, over {LIMIT}");
    }
}

#[test]
fn a_day_of_traces_is_refused_at_the_bound_with_a_clear_error_and_the_project_stays_usable() {
    let project = TempProject::new("scale-traces");
    let store = store(&project.path);
    ok(&store, "harness_bootstrap", json!({}));
    let summary = "s".repeat(3_000);
    let mut refused = None;
    for n in 0..200 {
        let reply = call(
            &store,
            "harness_record_trace",
            json!({"kind": "attempt", "summary": format!("trace {n}"), "raw": format!("{n} {summary}")}),
        );
        if reply.get("isError").is_some() {
            refused = Some(reply.to_string());
            break;
        }
    }
    let refused = refused.expect("a day of traces past the bound is refused");
    assert!(refused.contains("would exceed"), "{refused}");
    let mut files = Vec::new();
    sizes(&project.harness(), &mut files);
    for (path, size) in &files {
        assert!(*size <= LIMIT, "{path} is {size} bytes, over {LIMIT}");
    }
    // Everything else keeps working, reading the full day included.
    ok(&store, "harness_record_knowledge", item(1));
    ok(&store, "harness_list", json!({}));
    let params = json!({"uri": "harness://traces/recent"});
    let recent =
        codex_harness_mcp::resources::read(&store, &json!({}), params.as_object().expect("params"));
    assert!(recent.is_ok(), "{:?}", recent.err());
}

#[test]
fn a_whole_file_write_past_the_bound_is_refused_and_leaves_the_old_file() {
    let project = TempProject::new("scale-write");
    let store = store(&project.path);
    ok(&store, "harness_bootstrap", json!({}));
    let before = std::fs::read(project.harness().join("state.json")).expect("state");
    let big = vec![b'x'; LIMIT as usize + 1];
    let error = store.write_atomic("state.json", &big).expect_err("refused");
    assert!(error.to_string().contains("would exceed"), "{error}");
    assert_eq!(
        std::fs::read(project.harness().join("state.json")).expect("state"),
        before
    );
    assert!(
        project.files_in(".").iter().all(|n| !n.contains(".tmp.")),
        "no temp file left"
    );
    ok(&store, "harness_list", json!({}));
}

/// The shipped bound and everything sized from it: the knowledge layer's own files stay
/// far below what the store reads back.
#[test]
fn shipped_bounds_are_consistent() {
    use codex_harness_mcp::knowledge::index::{export_budget, segment_budget};
    assert_eq!(MAX_FILE_BYTES, 64 * 1024 * 1024);
    let segment = segment_budget(MAX_FILE_BYTES);
    let export = export_budget(MAX_FILE_BYTES);
    assert!(segment > 0 && export > 0);
    // A segment is sealed once it passes its budget, so it ends at most one line later;
    // one line is bounded by the tool input bound, far below the rest.
    assert!(segment + codex_harness_mcp::transport::MAX_LINE_BYTES as u64 <= MAX_FILE_BYTES);
    assert!(export <= MAX_FILE_BYTES / 2);
}

#![allow(clippy::disallowed_methods)] // Tests snapshot the harness directory with std::fs.
//! Tool annotations are claims a client may act on (auto-approving read-only tools), so each
//! one is derived here from what the tool does: every tool is called, twice, with valid
//! arguments, and every byte under `.codex-harness/` is compared before and after.
//! `readOnlyHint` must equal "changed nothing"; `destructiveHint: false` must mean every
//! change only added (new files, appended bytes); `idempotentHint: true` must mean the second
//! identical call changed nothing more. `openWorldHint` is false for all: the kernel confines
//! the process to the project (tests/confinement.rs).

mod common;

use common::{Server, TempProject};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Whether `after` differs from `before`, and whether every difference was additive.
fn compare(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>) -> (bool, bool) {
    let changed = before != after;
    let additive = before
        .iter()
        .all(|(path, old)| after.get(path).is_some_and(|new| new.starts_with(old)));
    (changed, additive)
}

struct Observed {
    changed: bool,
    additive: bool,
    repeat_changed: bool,
}

/// Calls `tool` twice with `arguments`; returns the first call's structuredContent.
fn observe(
    server: &mut Server,
    project: &TempProject,
    seen: &mut BTreeMap<String, Observed>,
    tool: &str,
    arguments: Value,
) -> Value {
    let before = snapshot(&project.harness());
    let first = server.call_ok(tool, arguments.clone());
    let middle = snapshot(&project.harness());
    server.call_ok(tool, arguments);
    let after = snapshot(&project.harness());
    let (changed, additive) = compare(&before, &middle);
    let (repeat_changed, repeat_additive) = compare(&middle, &after);
    seen.insert(
        tool.to_string(),
        Observed {
            changed: changed || repeat_changed,
            additive: additive && repeat_additive,
            repeat_changed,
        },
    );
    first
}

#[test]
fn every_tool_annotation_matches_what_the_tool_does_to_the_project() {
    let project = TempProject::new("annotations");
    let mut server = Server::start(&project.path);
    let mut seen = BTreeMap::new();
    let s = &mut server;
    let p = &project;
    let o = &mut seen;
    observe(
        s,
        p,
        o,
        "harness_bootstrap",
        json!({"project_name": "annotations"}),
    );
    // An older state.json, so migrate has something to do (and to do only once).
    let mut state = p.read_json("state.json");
    state["version"] = json!(3);
    std::fs::write(p.harness().join("state.json"), state.to_string()).unwrap();
    observe(s, p, o, "harness_migrate", json!({}));
    let contract = observe(
        s,
        p,
        o,
        "harness_create_contract",
        json!({
        "title": "Annotations", "goal": "Observe every tool", "completion_conditions": ["done"],
        "output_paths": ["README.md"], "verification_commands": ["true"]}),
    );
    assert!(contract["contract"]["id"].is_string());
    observe(
        s,
        p,
        o,
        "harness_update_state",
        json!({"focus": "observe", "decision": "Use snapshots", "note": "note"}),
    );
    observe(
        s,
        p,
        o,
        "harness_record_trace",
        json!({"kind": "attempt", "summary": "first try", "raw": "output"}),
    );
    observe(
        s,
        p,
        o,
        "harness_record_verification",
        json!({
        "command_or_check": "true", "status": "pass", "exit_code": 0, "raw_output": "ok"}),
    );
    observe(s, p, o, "harness_next_step", json!({}));
    observe(
        s,
        p,
        o,
        "harness_eval_gate",
        json!({"checked_conditions": ["done"]}),
    );
    observe(s, p, o, "harness_compact_context", json!({}));
    observe(s, p, o, "harness_list", json!({}));
    let profile = observe(
        s,
        p,
        o,
        "harness_record_harness_profile",
        json!({"name": "Base", "mode": "standard"}),
    );
    let profile_id = profile["profile"]["id"].clone();
    observe(s, p, o, "harness_list_harness_profiles", json!({}));
    let case = observe(
        s,
        p,
        o,
        "harness_record_eval_case",
        json!({"title": "Case", "split": "holdout"}),
    );
    let case_id = case["case"]["id"].clone();
    let run = observe(
        s,
        p,
        o,
        "harness_record_eval_run",
        json!({
        "eval_case_id": case_id, "harness_profile_id": profile_id, "verdict": "pass", "score": 0.5}),
    );
    let run_id = run["run"]["id"].clone();
    observe(
        s,
        p,
        o,
        "harness_compare_eval_runs",
        json!({"baseline_run_id": run_id, "candidate_run_id": run_id}),
    );
    let proposal = observe(
        s,
        p,
        o,
        "harness_record_harness_proposal",
        json!({
        "title": "Change", "proposed_change": "Trim", "holdout_run_ids": [run_id]}),
    );
    let proposal_id = proposal["proposal"]["id"].clone();
    observe(s, p, o, "harness_list_harness_proposals", json!({}));
    observe(
        s,
        p,
        o,
        "harness_record_promotion_decision",
        json!({
        "proposal_id": proposal_id, "decision": "hold", "rationale": "Needs another holdout run"}),
    );
    observe(s, p, o, "harness_list_promotion_decisions", json!({}));
    observe(s, p, o, "harness_export_nl_harness", json!({}));
    observe(s, p, o, "harness_export_observability_report", json!({}));
    observe(
        s,
        p,
        o,
        "harness_write_governance_policy",
        json!({"network_allowed": false}),
    );
    observe(s, p, o, "harness_audit_governance", json!({}));
    observe(s, p, o, "harness_export_governance_report", json!({}));
    observe(
        s,
        p,
        o,
        "harness_record_knowledge",
        json!({"title": "Flaky test fix", "content": "Pin the clock in tests", "tags": ["tests"]}),
    );
    observe(
        s,
        p,
        o,
        "harness_record_research",
        json!({"title": "Landlock notes", "summary": "ABI 7 scopes signals"}),
    );
    observe(
        s,
        p,
        o,
        "harness_record_lesson",
        json!({"title": "Lock order", "problem": "Deadlock risk", "solution": "State lock first"}),
    );
    observe(
        s,
        p,
        o,
        "harness_query_knowledge",
        json!({"query": "clock"}),
    );
    observe(s, p, o, "harness_list_knowledge", json!({}));
    observe(s, p, o, "harness_rebuild_knowledge_index", json!({}));

    let tools = server.request("tools/list", json!({}))["result"]["tools"].clone();
    let tools = tools.as_array().unwrap();
    assert_eq!(seen.len(), tools.len(), "every tool is observed");
    let mut lies = Vec::new();
    for tool in tools {
        let name = tool["name"].as_str().unwrap();
        let observed = &seen[name];
        let hints = &tool["annotations"];
        let hint = |key: &str| hints[key].as_bool();
        let title = tool["title"].as_str().unwrap_or_default();
        if title.is_empty() || hints["title"] != tool["title"] {
            lies.push(format!(
                "{name}: needs a title (and the same annotations.title)"
            ));
        }
        if hint("readOnlyHint") != Some(!observed.changed) {
            lies.push(format!(
                "{name}: readOnlyHint {:?}, changed {}",
                hint("readOnlyHint"),
                observed.changed
            ));
        }
        if hint("openWorldHint") != Some(false) {
            lies.push(format!("{name}: openWorldHint must be false"));
        }
        if observed.changed {
            if hint("destructiveHint") != Some(!observed.additive) {
                lies.push(format!(
                    "{name}: destructiveHint {:?}, additive {}",
                    hint("destructiveHint"),
                    observed.additive
                ));
            }
            if hint("idempotentHint") != Some(!observed.repeat_changed) {
                lies.push(format!(
                    "{name}: idempotentHint {:?}, repeat changed {}",
                    hint("idempotentHint"),
                    observed.repeat_changed
                ));
            }
        } else if hint("destructiveHint") != Some(false) || hint("idempotentHint") != Some(true) {
            lies.push(format!(
                "{name}: a read-only tool is neither destructive nor repeatable-with-effect"
            ));
        }
    }
    assert!(lies.is_empty(), "{lies:#?}");
}

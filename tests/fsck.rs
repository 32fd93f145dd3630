//! `codex-harness-mcp fsck` over real projects written by the real server: a clean tree
//! passes, each kind of damage is named with its path, `--repair` fixes only what is safe
//! (after a backup) and leaves every record byte-for-byte alone.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{Server, TempProject, BINARY};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

/// A project holding one record of every family, written by the server.
fn populated(label: &str) -> TempProject {
    let project = TempProject::new(label);
    let mut server = Server::start(&project.path);
    let contract = server.call_ok(
        "harness_create_contract",
        json!({"title": "Fix the cache", "goal": "Make builds fast"}),
    )["contract"]["id"]
        .as_str()
        .expect("contract id")
        .to_string();
    server.call_ok(
        "harness_record_trace",
        json!({"kind": "attempt", "summary": "tried", "raw": "log"}),
    );
    server.call_ok(
        "harness_record_verification",
        json!({"command_or_check": "cargo test", "status": "pass", "raw_output": "ok"}),
    );
    server.call_ok("harness_eval_gate", json!({"contract_id": contract}));
    for title in ["Cache keys", "Lockfile"] {
        server.call_ok(
            "harness_record_knowledge",
            json!({"title": title, "content": "restore the cache keyed on the lockfile"}),
        );
    }
    let profile = server.call_ok("harness_record_harness_profile", json!({"name": "Lean"}))
        ["profile"]["id"]
        .as_str()
        .expect("profile id")
        .to_string();
    let case = server.call_ok(
        "harness_record_eval_case",
        json!({"title": "Cold build", "prompt": "build"}),
    )["case"]["id"]
        .as_str()
        .expect("case id")
        .to_string();
    server.call_ok(
        "harness_record_eval_run",
        json!({"eval_case_id": case, "harness_profile_id": profile, "verdict": "pass"}),
    );
    let proposal = server.call_ok(
        "harness_record_harness_proposal",
        json!({"title": "Cache more", "proposed_change": "cache target/", "target_profile_id": profile}),
    )["proposal"]["id"]
        .as_str()
        .expect("proposal id")
        .to_string();
    server.call_ok(
        "harness_record_promotion_decision",
        json!({"proposal_id": proposal, "decision": "promote", "rationale": "faster"}),
    );
    assert_eq!(server.finish(), 0);
    project
}

struct Run {
    code: i32,
    stdout: String,
}

fn fsck(project: &Path, extra: &[&str]) -> Run {
    let output = Command::new(BINARY)
        .arg("fsck")
        .args(extra)
        .arg("--project")
        .arg(project)
        .output()
        .expect("run fsck");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

/// The one file of `dir` (relative to the harness) ending in `suffix`.
fn first(project: &TempProject, dir: &str, suffix: &str) -> String {
    let name = project
        .files_in(dir)
        .into_iter()
        .find(|n| n.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} in {dir}"));
    format!("{dir}/{name}")
}

/// Every file of the tree outside the derived index (index.json, journal, segments) and fsck's backups, with
/// its bytes: what `--repair` must never change.
fn records(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("list").flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .expect("beneath")
                .to_string_lossy()
                .into_owned();
            let kind = entry.file_type().expect("type");
            if rel == "backups" {
                continue;
            } else if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file()
                && !rel.starts_with("knowledge/index.")
                && !rel.starts_with("knowledge/segments/")
                && !rel.contains(".tmp.")
            {
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

fn assert_names(run: &Run, path: &str) {
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with(&format!(".codex-harness/{path}: "))),
        "no finding for {path}:\n{}",
        run.stdout
    );
}

fn index_entries(project: &TempProject) -> Vec<Value> {
    project.read_json("knowledge/index.json")["items"]
        .as_array()
        .expect("items")
        .clone()
}

fn write_index(project: &TempProject, items: Vec<Value>) {
    let index = json!({"version": 1, "updatedAt": "2024-01-01T00:00:00.000Z", "items": items});
    std::fs::write(
        project.harness().join("knowledge/index.json"),
        index.to_string(),
    )
    .expect("write index");
}

#[test]
fn a_tree_written_by_the_server_is_clean() {
    let project = populated("fsck-clean");
    let run = fsck(&project.path, &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(run.stdout.starts_with("fsck: clean ("), "{}", run.stdout);
}

#[test]
fn a_missing_project_or_harness_directory_cannot_be_checked_and_is_not_created() {
    let project = TempProject::new("fsck-missing");
    let absent = project.path.join("nowhere");
    assert_eq!(fsck(&absent, &[]).code, 2);
    assert!(!absent.exists(), "fsck created the project");
    assert_eq!(fsck(&project.path, &[]).code, 2);
    assert!(!project.harness().exists(), "fsck created .codex-harness");
}

#[test]
fn damaged_records_are_each_named_with_their_path() {
    let project = populated("fsck-damage");
    let harness = project.harness();
    let contract = first(&project, "contracts", ".json");
    let gate = first(&project, "gates", ".json");
    let run_record = first(&project, "evals/runs", ".json");
    // Bad JSON in a profile.
    let profile = first(&project, "harness-profiles", ".json");
    std::fs::write(harness.join(&profile), b"{\"id\": ").expect("corrupt");
    // A FIFO among the proposals' companions.
    let fifo = "harness-proposals/pipe.json";
    assert!(Command::new("mkfifo")
        .arg(harness.join(fifo))
        .status()
        .expect("mkfifo")
        .success());
    // A hard link to a contract from outside the tree.
    std::fs::hard_link(harness.join(&contract), project.path.join("outside")).expect("link");
    // A counter off by one.
    let mut state = project.read_json("state.json");
    state["counters"]["gates"] = json!(2);
    std::fs::write(harness.join("state.json"), state.to_string()).expect("state");
    // A dangling reference: the eval run's case is gone (moved outside the tree).
    let case = first(&project, "evals/cases", ".json");
    std::fs::rename(harness.join(&case), project.path.join("case.json")).expect("move");
    let before = records(&harness);

    let run = fsck(&project.path, &[]);
    for path in [profile.as_str(), fifo, &contract, "state.json", &run_record] {
        assert_names(&run, path);
    }
    assert!(
        run.stdout
            .contains("counters.gates is 2 but gates/ holds 1"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("evalCaseId names"), "{}", run.stdout);
    assert!(
        !run.stdout.contains(&gate),
        "a sound gate was flagged:\n{}",
        run.stdout
    );
    // --repair has nothing safe to do here: every finding remains, no record changes.
    let repaired = fsck(&project.path, &["--repair"]);
    assert_eq!(repaired.code, 1, "{}", repaired.stdout);
    assert_eq!(records(&harness), before);
}

#[test]
fn repair_rebuilds_an_index_missing_an_item_and_backs_it_up() {
    let project = populated("fsck-index");
    let mut items = index_entries(&project);
    let dropped = items.pop().expect("an entry");
    write_index(&project, items);
    // index.json as the only index (as a Node server leaves it), lacking one item.
    let _ = std::fs::remove_file(project.harness().join("knowledge/index.journal.jsonl"));
    let _ = std::fs::remove_dir_all(project.harness().join("knowledge/segments"));
    let damaged = std::fs::read(project.harness().join("knowledge/index.json")).expect("read");
    let run = fsck(&project.path, &[]);
    assert_names(&run, "knowledge/index.json");
    assert!(
        run.stdout.contains(dropped["id"].as_str().expect("id")),
        "{}",
        run.stdout
    );

    let before = records(&project.harness());
    let repaired = fsck(&project.path, &["--repair"]);
    assert_eq!(repaired.code, 0, "{}", repaired.stdout);
    assert!(repaired
        .stdout
        .contains("repaired: .codex-harness/knowledge/index.json"));
    assert_eq!(index_entries(&project).len(), 2);
    assert_eq!(records(&project.harness()), before, "a record changed");
    let backups = project.files_in("backups");
    assert_eq!(backups.len(), 1, "{backups:?}");
    let saved = project
        .harness()
        .join("backups")
        .join(&backups[0])
        .join("knowledge/index.json");
    assert_eq!(std::fs::read(saved).expect("backup"), damaged);
    assert_eq!(fsck(&project.path, &[]).code, 0);
}

#[test]
fn repair_folds_a_pending_journal() {
    let project = populated("fsck-journal");
    let mut items = index_entries(&project);
    let entry = items.pop().expect("an entry");
    write_index(&project, items);
    let line = json!({"op": "upsert", "at": "2024-01-01T00:00:00.000Z", "entry": entry});
    std::fs::write(
        project.harness().join("knowledge/index.journal.jsonl"),
        format!("{line}\n"),
    )
    .expect("journal");
    let run = fsck(&project.path, &[]);
    assert_names(&run, "knowledge/index.journal.jsonl");
    assert!(!run.stdout.contains("lacks the item"), "{}", run.stdout);
    let repaired = fsck(&project.path, &["--repair"]);
    assert_eq!(repaired.code, 0, "{}", repaired.stdout);
    // The journal is the index's active segment and stays; index.json now holds its entry.
    assert_eq!(index_entries(&project).len(), 2);
    assert_eq!(fsck(&project.path, &[]).code, 0);
}

#[test]
fn repair_removes_only_an_orphaned_temp_file_older_than_the_reapers_age() {
    let project = populated("fsck-temp");
    let harness = project.harness();
    let old = "contracts/x.json.tmp.4194303.beef";
    let young = "gates/y.json.tmp.4194303.cafe";
    for temp in [old, young] {
        std::fs::write(harness.join(temp), b"half a write").expect("temp");
    }
    std::fs::File::options()
        .write(true)
        .open(harness.join(old))
        .expect("open")
        .set_modified(SystemTime::now() - Duration::from_secs(600))
        .expect("age");
    let run = fsck(&project.path, &[]);
    assert_names(&run, old);
    assert!(
        !run.stdout.contains(young),
        "a live write was flagged:\n{}",
        run.stdout
    );
    let before = records(&harness);
    let repaired = fsck(&project.path, &["--repair"]);
    assert_eq!(repaired.code, 0, "{}", repaired.stdout);
    assert!(!harness.join(old).exists());
    assert!(harness.join(young).exists());
    assert_eq!(records(&harness), before);
    let backup = harness
        .join("backups")
        .join(&project.files_in("backups")[0])
        .join(old);
    assert_eq!(std::fs::read(backup).expect("backup"), b"half a write");
    assert_eq!(fsck(&project.path, &[]).code, 0);
}

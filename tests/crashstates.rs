//! The store's operation log (`--record-store-ops`, see `store::oplog`) read as a
//! durability proof: at every success reply of a session that calls every mutating tool,
//! each name the tree holds was made by an operation whose directory was fsynced since, and
//! each byte of each file was fsynced since it was written. Under the weak persistence model
//! of `tests/crashstates/run.py` (which enumerates the crash states themselves), that is what
//! makes an acknowledged record survive any crash. Also: the log is a new file or nothing.
#![allow(clippy::disallowed_methods)]

mod common;

use common::{Server, TempProject, BINARY};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};

/// Every mutating tool, in an order that satisfies their references.
fn session() -> Vec<(&'static str, Value)> {
    vec![
        ("harness_bootstrap", json!({"project_name": "crash"})),
        ("harness_migrate", json!({})),
        (
            "harness_create_contract",
            json!({"title": "Crash", "goal": "Survive every crash state",
                   "completion_conditions": ["nothing lost"], "output_paths": ["README.md"]}),
        ),
        (
            "harness_update_state",
            json!({"focus": "crash", "decision": "Sync every parent"}),
        ),
        (
            "harness_record_trace",
            json!({"kind": "attempt", "summary": "first try", "raw": "out"}),
        ),
        (
            "harness_record_verification",
            json!({"command_or_check": "true", "status": "pass", "raw_output": "ok"}),
        ),
        (
            "harness_eval_gate",
            json!({"checked_conditions": ["nothing lost"]}),
        ),
        (
            "harness_record_knowledge",
            json!({"title": "Crash note", "content": "Sync the parent after mkdir"}),
        ),
        (
            "harness_record_research",
            json!({"title": "Crash research", "summary": "ALICE"}),
        ),
        (
            "harness_record_lesson",
            json!({"title": "Crash lesson", "problem": "Lost names", "solution": "Sync"}),
        ),
        ("harness_query_knowledge", json!({"query": "sync"})),
        ("harness_rebuild_knowledge_index", json!({})),
        (
            "harness_record_harness_profile",
            json!({"name": "Crash profile", "mode": "standard"}),
        ),
        (
            "harness_record_eval_case",
            json!({"title": "Crash case", "split": "holdout"}),
        ),
        (
            "harness_write_governance_policy",
            json!({"network_allowed": false, "notes": "crash"}),
        ),
    ]
}

/// The tree the log describes, kept as the running server sees it, with for every name the
/// record that made it and for every file the record of its last unsynced change.
#[derive(Default)]
struct Model {
    /// Inode number to object (renumbered at each create: inode numbers are reused).
    objects: HashMap<u64, usize>,
    dirs: HashMap<usize, BTreeMap<String, usize>>,
    /// Object to (directory object, index of the record that linked it there).
    linked: HashMap<usize, (usize, usize)>,
    /// File object to the index of its last write or truncate.
    changed: HashMap<usize, usize>,
    /// Indices of the fsyncs of each object.
    fsyncs: HashMap<usize, Vec<usize>>,
    next: usize,
}

impl Model {
    fn object(&self, record: &Value, key: &str) -> usize {
        let ino = record[key].as_u64().expect("inode number");
        *self
            .objects
            .get(&ino)
            .unwrap_or_else(|| panic!("unknown inode in {record}"))
    }

    fn fresh(&mut self, ino: u64, dir: bool) -> usize {
        self.next += 1;
        self.objects.insert(ino, self.next);
        if dir {
            self.dirs.insert(self.next, BTreeMap::new());
        }
        self.next
    }

    fn link(&mut self, dir: usize, name: &str, object: usize, at: usize) {
        self.dirs
            .get_mut(&dir)
            .expect("directory")
            .insert(name.into(), object);
        self.linked.insert(object, (dir, at));
    }

    fn apply(&mut self, at: usize, record: &Value) {
        let name = |key: &str| record[key].as_str().expect("name").to_string();
        match record["op"].as_str().expect("op") {
            "project" => {
                let ino = record["ino"].as_u64().expect("inode");
                self.objects.insert(ino, 0);
                self.dirs.insert(0, BTreeMap::new());
            }
            "mkdir" => {
                let dir = self.object(record, "dir");
                let new = self.fresh(record["ino"].as_u64().expect("inode"), true);
                self.link(dir, &name("name"), new, at);
            }
            "create" => {
                let mut dir = self.object(record, "dir");
                let path = name("path");
                let (parents, file) = path.rsplit_once('/').unwrap_or(("", &path));
                for part in parents.split('/').filter(|p| !p.is_empty()) {
                    dir = self.dirs[&dir][part];
                }
                let ino = record["ino"].as_u64().expect("inode");
                let existing = self.dirs[&dir].get(file).copied();
                if existing.is_none() || existing != self.objects.get(&ino).copied() {
                    let new = self.fresh(ino, false);
                    self.link(dir, file, new, at);
                }
            }
            "write" | "truncate" => {
                let file = self.object(record, "ino");
                self.changed.insert(file, at);
            }
            "fsync" => {
                let object = self.object(record, "ino");
                self.fsyncs.entry(object).or_default().push(at);
            }
            "rename" => {
                let (from, to) = (
                    self.object(record, "from_dir"),
                    self.object(record, "to_dir"),
                );
                let moved = self
                    .dirs
                    .get_mut(&from)
                    .and_then(|d| d.remove(&name("from")))
                    .expect("renamed name");
                self.link(to, &name("to"), moved, at);
            }
            "unlink" => {
                let dir = self.object(record, "dir");
                self.dirs
                    .get_mut(&dir)
                    .expect("directory")
                    .remove(&name("name"));
            }
            "flock" => {}
            other => panic!("unknown operation {other}"),
        }
    }

    fn synced_since(&self, object: usize, since: usize) -> bool {
        self.fsyncs
            .get(&object)
            .is_some_and(|at| at.iter().any(|&s| s > since))
    }

    /// What a crash right now could lose: names whose directory was not fsynced since they
    /// were made, files whose last change was not fsynced.
    fn undurable(&self, dir: usize, prefix: &str, out: &mut Vec<String>) {
        for (name, &object) in &self.dirs[&dir] {
            let path = format!("{prefix}{name}");
            let (parent, at) = self.linked[&object];
            if !self.synced_since(parent, at) {
                out.push(format!("the name {path} (record {at})"));
            }
            if let Some(&at) = self.changed.get(&object) {
                if !self.synced_since(object, at) {
                    out.push(format!("the content of {path} (record {at})"));
                }
            }
            if self.dirs.contains_key(&object) {
                self.undurable(object, &format!("{path}/"), out);
            }
        }
    }
}

fn read_log(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("read the operation log")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a log line is JSON"))
        .collect()
}

#[test]
fn every_name_and_byte_an_acknowledged_call_leaves_is_durable_at_its_reply() {
    let project = TempProject::new("crash-lint");
    let scratch = TempProject::new("crash-lint-log");
    let log = scratch.path.join("ops.jsonl");
    let log_arg = log.to_string_lossy().into_owned();
    let mut server = Server::start_with(&project.path, &["--record-store-ops", &log_arg]);
    let mut model = Model::default();
    let mut applied = 0;
    let mut problems = Vec::new();
    for (tool, arguments) in session() {
        server.call_ok(tool, arguments);
        let records = read_log(&log);
        for (at, record) in records.iter().enumerate().skip(applied) {
            model.apply(at, record);
        }
        applied = records.len();
        let mut lost = Vec::new();
        model.undurable(0, "", &mut lost);
        problems.extend(lost.into_iter().map(|what| format!("after {tool}: {what}")));
    }
    assert_eq!(server.finish(), 0);
    assert!(applied > 100, "the log holds only {applied} records");
    assert!(
        problems.is_empty(),
        "a crash at a reply could lose:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_operation_log_is_a_new_file_never_an_existing_one_or_a_symlink() {
    let project = TempProject::new("crash-log-file");
    let scratch = TempProject::new("crash-log-target");
    let existing = scratch.path.join("existing");
    std::fs::write(&existing, b"keep").expect("plant");
    let link = scratch.path.join("link");
    std::os::unix::fs::symlink(scratch.path.join("elsewhere"), &link).expect("symlink");
    for target in [&existing, &link] {
        let status = Command::new(BINARY)
            .arg("--project")
            .arg(&project.path)
            .arg("--record-store-ops")
            .arg(target)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .status()
            .expect("run");
        assert_eq!(status.code(), Some(1), "{}", target.display());
    }
    assert_eq!(std::fs::read(&existing).expect("read"), b"keep");
    assert!(!scratch.path.join("elsewhere").exists());
}

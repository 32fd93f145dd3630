//! Round 11, crash states: what the store's own operation log (the hidden
//! `--record-store-ops` option) shows about names that a power cut could take back. A name
//! (a directory, a file) is on disk only once the directory holding it was fsynced; these
//! replays find, for every name an acknowledged call depends on, that fsync before the reply.
//! `tests/crashstates/run.py` enumerates the crash states themselves.

use crate::ensure;
use crate::harness::{Fixture, Launch, Outcome, Session};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Runs `calls` with the operation log on; returns the log and, per call, how many log
/// records preceded its (successful) reply.
fn recorded(fx: &Fixture, calls: &[(&str, Value)]) -> Result<(Vec<Value>, Vec<usize>), String> {
    let log = fx.base.join("ops.jsonl");
    let launch = Launch {
        args: vec![
            "--project".into(),
            fx.project.display().to_string(),
            "--record-store-ops".into(),
            log.display().to_string(),
        ],
        ..Launch::default()
    };
    let mut session = Session::launch(fx, &launch);
    session.init(1);
    session.reply(1)?;
    let read = || -> Result<Vec<Value>, String> {
        let text = std::fs::read_to_string(&log).map_err(|e| format!("read the log: {e}"))?;
        text.lines()
            .map(|line| serde_json::from_str(line).map_err(|e| format!("log line {line}: {e}")))
            .collect()
    };
    let mut acks = Vec::new();
    for (n, (tool, arguments)) in calls.iter().enumerate() {
        session.tool_ok(n as i64 + 2, tool, arguments.clone())?;
        acks.push(read()?.len());
    }
    session.finish()?;
    let records = read()?;
    std::fs::remove_file(&log).map_err(|e| format!("remove the log: {e}"))?;
    Ok((records, acks))
}

/// Whether the directory with inode `dir` was fsynced between log records `after` and `before`.
fn synced(records: &[Value], dir: &Value, after: usize, before: usize) -> bool {
    records[after + 1..before]
        .iter()
        .any(|r| r["op"] == "fsync" && &r["ino"] == dir)
}

/// CS-1 — hypothesis: the directories the store creates (`.codex-harness/` itself in the
/// project, then `traces/`, `contracts/`, … inside it) are never synced into their parent,
/// so a power cut after an acknowledged record can take the directory, and the record in it,
/// away (the file's own fsync and its directory's do not make the directory's name durable).
/// Replayed by recording a first `harness_record_trace` in a new project: every `mkdir` in
/// the log is followed by an fsync of its parent before the reply.
pub fn cs_1() -> Outcome {
    let fx = Fixture::new("cs-1");
    let trace = json!({"kind": "attempt", "summary": "first trace", "raw": "log"});
    let (records, acks) = recorded(&fx, &[("harness_record_trace", trace)])?;
    let mkdirs: Vec<usize> = (0..acks[0])
        .filter(|&i| records[i]["op"] == "mkdir")
        .collect();
    ensure!(
        mkdirs
            .iter()
            .any(|&i| records[i]["name"] == ".codex-harness"),
        "the log shows no mkdir of .codex-harness: {records:?}"
    );
    for &i in &mkdirs {
        ensure!(
            synced(&records, &records[i]["dir"], i, acks[0]),
            "mkdir {} (record {i}) was not synced into its parent before the reply",
            records[i]["name"]
        );
    }
    fx.verify()?;
    Ok(format!(
        "{} new directories, each synced into its parent before the reply",
        mkdirs.len()
    ))
}

/// CS-2 — hypothesis: a file an append creates (the day's `traces/<date>.jsonl`, the
/// knowledge journal) is fsynced, but the directory holding its new name is not, so a power
/// cut can lose an acknowledged trace or knowledge entry with the whole file. Replayed by
/// recording a trace and a knowledge item: every file created and still named at a reply
/// has had the directory it was created in fsynced after its creation and before the reply.
pub fn cs_2() -> Outcome {
    let fx = Fixture::new("cs-2");
    let calls = [
        (
            "harness_record_trace",
            json!({"kind": "attempt", "summary": "first trace", "raw": "log"}),
        ),
        (
            "harness_record_knowledge",
            json!({"title": "Sync the parent", "content": "A new name needs its directory synced"}),
        ),
    ];
    let (records, acks) = recorded(&fx, &calls)?;
    // Directory inode by (parent inode, name), from the mkdirs, to find where a path lands.
    let mut dirs: HashMap<(String, String), Value> = HashMap::new();
    let mut created = std::collections::HashSet::new();
    let mut checked = 0;
    let mut start = 0;
    for &ack in &acks {
        for i in start..ack {
            let record = &records[i];
            if record["op"] == "mkdir" {
                dirs.insert(
                    (
                        record["dir"].to_string(),
                        record["name"].as_str().unwrap_or("").into(),
                    ),
                    record["ino"].clone(),
                );
            }
            let path = record["path"].as_str().unwrap_or("");
            // Temp files become names by a rename (synced); a later append opens it again.
            let fresh = record["op"] == "create" && created.insert(path.to_string());
            if !fresh || path.contains(".tmp.") {
                continue;
            }
            let mut parent = record["dir"].clone();
            let parts: Vec<&str> = path.split('/').collect();
            for part in &parts[..parts.len() - 1] {
                parent = dirs
                    .get(&(parent.to_string(), (*part).to_string()))
                    .cloned()
                    .ok_or_else(|| format!("no mkdir for {part} of {path} in the log"))?;
            }
            ensure!(
                synced(&records, &parent, i, ack),
                "{path} (record {i}) was created but its directory was not synced before the reply"
            );
            checked += 1;
        }
        start = ack;
    }
    ensure!(
        checked >= 2,
        "the log shows {checked} appended files, want the trace day file and the journal"
    );
    fx.verify()?;
    Ok(format!(
        "{checked} files created by appends, each name synced before the reply"
    ))
}

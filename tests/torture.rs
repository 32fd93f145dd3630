#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs.
//! Torture: random SIGKILLs in the middle of writes, several servers writing at once, and a
//! disk that is full or read-only. Short by default so CI runs it on every submission; set
//! `TORTURE_KILLS` (e.g. 200) and `TORTURE_WRITES` (e.g. 1000) for the long mode.

mod common;

use common::{Server, TempProject, BINARY};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn random_below(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes) % bound
}

/// Every file under `dir`, relative names.
fn all_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files
}

/// Every `.json` under the harness parses, every `.jsonl` line parses.
fn assert_every_file_parses(harness: &Path) {
    for path in all_files(harness) {
        let name = path.to_string_lossy().into_owned();
        if name.contains(".tmp.") {
            continue;
        }
        if name.ends_with(".json") {
            let text = std::fs::read_to_string(&path).unwrap();
            serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{name} torn: {e}"));
        } else if name.ends_with(".jsonl") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.is_empty() || text.ends_with('\n'),
                "{name} ends in a partial line (repaired on next append)"
            );
            for line in text.lines() {
                serde_json::from_str::<Value>(line)
                    .unwrap_or_else(|e| panic!("{name} has a torn line: {e}"));
            }
        }
    }
}

fn trace_summaries(harness: &Path) -> HashSet<String> {
    let mut summaries = HashSet::new();
    for path in all_files(&harness.join("traces")) {
        for line in std::fs::read_to_string(path).unwrap().lines() {
            if let Ok(trace) = serde_json::from_str::<Value>(line) {
                summaries.insert(trace["summary"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    summaries
}

/// What a write left behind once acknowledged.
enum Acked {
    Trace(String),
    Contract(String),
    Decision(String),
}

fn mixed_write(n: usize) -> (Value, &'static str) {
    match n % 3 {
        0 => (
            json!({"name": "harness_record_trace", "arguments": {"kind": "attempt", "summary": format!("write {n}"), "raw": "x".repeat(2000)}}),
            "trace",
        ),
        1 => (
            json!({"name": "harness_create_contract", "arguments": {"title": format!("Contract {n}"), "goal": "Survive a crash"}}),
            "contract",
        ),
        _ => (
            json!({"name": "harness_update_state", "arguments": {"decision": format!("decision {n}"), "focus": format!("f{n}")}}),
            "decision",
        ),
    }
}

fn acked_from(kind: &str, n: usize, reply: &Value) -> Option<Acked> {
    let content = &reply["result"]["structuredContent"];
    match kind {
        "trace" => Some(Acked::Trace(format!("write {n}"))),
        "contract" => content["contract"]["id"]
            .as_str()
            .map(|id| Acked::Contract(id.to_string())),
        _ => content["state"]["decisions"].as_array()?.last()?["id"]
            .as_str()
            .map(|id| Acked::Decision(id.to_string())),
    }
}

#[test]
fn acknowledged_writes_survive_random_sigkills() {
    let kills = env_count("TORTURE_KILLS", 12);
    let project = TempProject::new("crash");
    let harness = project.harness();
    let mut acknowledged = Vec::new();
    let mut write = 0usize;
    for _ in 0..kills {
        let mut child = Command::new(BINARY)
            .arg("--project")
            .arg(&project.path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let pid = child.id();
        let delay = Duration::from_millis(20 + random_below(80));
        let killer = std::thread::spawn(move || {
            std::thread::sleep(delay);
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        });
        loop {
            let (params, kind) = mixed_write(write);
            let request =
                json!({"jsonrpc": "2.0", "id": write, "method": "tools/call", "params": params});
            if stdin.write_all(format!("{request}\n").as_bytes()).is_err() {
                break;
            }
            let mut line = String::new();
            // A reply cut short by the kill (no newline) was never received: not acknowledged.
            if stdout.read_line(&mut line).unwrap_or(0) == 0 || !line.ends_with('\n') {
                break;
            }
            let reply: Value = serde_json::from_str(&line).unwrap();
            assert!(reply["result"].get("isError").is_none(), "{reply}");
            if let Some(acked) = acked_from(kind, write, &reply) {
                acknowledged.push(acked);
            }
            write += 1;
        }
        killer.join().unwrap();
        let _ = child.wait();
        assert_every_file_parses(&harness);
    }
    // A fresh server reaps what the dead writers left (at its first pause, or as here at the
    // end of its input); everything acknowledged is there.
    let mut server = Server::start(&project.path);
    server.request("ping", json!({}));
    assert_eq!(server.finish(), 0);
    let mut server = Server::start(&project.path);
    let leftovers: Vec<_> = all_files(&harness)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let summaries = trace_summaries(&harness);
    let mut lost = 0;
    for acked in &acknowledged {
        let present = match acked {
            Acked::Trace(summary) => summaries.contains(summary),
            Acked::Contract(id) => harness.join(format!("contracts/{id}.json")).exists(),
            Acked::Decision(id) => harness.join(format!("decisions/{id}.md")).exists(),
        };
        lost += usize::from(!present);
    }
    eprintln!(
        "torture: {kills} kills, {} writes acknowledged, {lost} lost",
        acknowledged.len()
    );
    assert_eq!(lost, 0);
    assert!(!acknowledged.is_empty());
    server.call_ok(
        "harness_record_trace",
        json!({"kind": "success", "summary": "after the storm", "raw": "x"}),
    );
    assert_every_file_parses(&harness);
}

#[test]
fn four_servers_writing_at_once_keep_every_acknowledged_write() {
    let writes = env_count("TORTURE_WRITES", 250);
    let project = TempProject::new("four");
    Server::start(&project.path).call_ok("harness_bootstrap", json!({}));
    let started = Instant::now();
    let mut servers: Vec<Server> = (0..4).map(|_| Server::start(&project.path)).collect();
    let replies: Vec<Vec<Value>> = std::thread::scope(|scope| {
        let handles: Vec<_> = servers
            .iter_mut()
            .enumerate()
            .map(|(index, server)| {
                scope.spawn(move || {
                    let mut batch = String::new();
                    for n in 0..writes {
                        let (mut params, _) = mixed_write(n);
                        if let Some(summary) = params["arguments"].get_mut("summary") {
                            *summary = json!(format!("server {index} write {n}"));
                        }
                        batch.push_str(&format!("{}\n", json!({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params})));
                    }
                    server.pipelined(batch.as_bytes(), writes)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut contracts = 0;
    for server_replies in &replies {
        for (n, reply) in server_replies.iter().enumerate() {
            assert_eq!(reply["id"], n);
            assert!(reply["result"].get("isError").is_none(), "{reply}");
            contracts += usize::from(n % 3 == 1);
        }
    }
    let elapsed = started.elapsed();
    let state = project.read_json("state.json");
    let traces_per_server = writes.div_ceil(3);
    assert_eq!(state["counters"]["traces"], 4 * traces_per_server);
    assert_eq!(state["counters"]["contracts"], contracts);
    assert_eq!(
        project
            .files_in("contracts")
            .iter()
            .filter(|n| n.ends_with(".json"))
            .count(),
        contracts
    );
    assert_eq!(
        trace_summaries(&project.harness()).len(),
        4 * traces_per_server
    );
    assert_every_file_parses(&project.harness());
    eprintln!(
        "concurrency: 4 servers x {writes} writes in {:.2}s ({:.0} writes/s)",
        elapsed.as_secs_f64(),
        (4 * writes) as f64 / elapsed.as_secs_f64()
    );
}

/// Runs `script` (with `$P` the project) in a private mount namespace, exec'ing the server
/// at its end, and returns a client for it. Needs mount rights (root) or user namespaces.
fn start_in_mount_namespace(project: &Path, script: &str) -> Server {
    let full = format!(
        "set -e; P='{}'; {script}; exec '{BINARY}' --project \"$P\"",
        project.display()
    );
    let direct_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let mut command = Command::new("unshare");
    command.args(if direct_root {
        vec!["-m", "sh", "-c", &full]
    } else {
        vec!["-rm", "sh", "-c", &full]
    });
    Server::from_command(command)
}

#[test]
fn a_full_disk_gives_clean_tool_errors_and_no_torn_or_temp_files() {
    let project = TempProject::new("enospc");
    std::fs::create_dir_all(project.harness()).unwrap();
    let mut server = start_in_mount_namespace(
        &project.path,
        "mount -t tmpfs -o size=256k tmpfs \"$P/.codex-harness\"",
    );
    server.call_ok("harness_bootstrap", json!({}));
    let mut failures = 0;
    for n in 0..200 {
        let result = server.call(
            "harness_record_trace",
            json!({"kind": "attempt", "summary": format!("fill {n}"), "raw": "y".repeat(11_000)}),
        );
        if result.get("isError").is_some() {
            let text = result["content"][0]["text"].as_str().unwrap();
            assert!(
                text.contains("No space left") || text.contains("os error 28"),
                "{text}"
            );
            failures += 1;
            if failures >= 3 {
                break;
            }
        }
    }
    assert!(failures >= 3, "the disk never filled");
    let failed = server.call(
        "harness_create_contract",
        json!({"title": "No room", "goal": "There is no room left"}),
    );
    assert_eq!(failed["isError"], true);
    assert_eq!(server.request("ping", json!({}))["result"], json!({}));
    // Inspect the tmpfs from inside the namespace before it disappears.
    let listing = server.call("harness_list", json!({"max_traces": 1000}));
    assert!(
        listing.get("isError").is_none()
            || listing["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("space")
    );
    let state = server.read_resource("harness://state");
    let state: Value = serde_json::from_str(&state).unwrap();
    assert!(state["state"]["counters"]["traces"].as_u64().unwrap() > 0);
    let traces: Value =
        serde_json::from_str(&server.read_resource("harness://traces/recent")).unwrap();
    for trace in traces["recentTraces"].as_array().unwrap() {
        assert_ne!(trace["kind"], "parse-error", "torn trace line: {trace}");
    }
    assert_eq!(server.finish(), 0);
}

#[test]
fn a_read_only_harness_gives_clean_tool_errors_and_reads_still_work() {
    let project = TempProject::new("erofs");
    Server::start(&project.path).call_ok(
        "harness_create_contract",
        json!({"title": "Read only", "goal": "Stay readable"}),
    );
    let mut server = start_in_mount_namespace(
        &project.path,
        "mount --bind \"$P/.codex-harness\" \"$P/.codex-harness\"; mount -o remount,bind,ro \"$P/.codex-harness\"",
    );
    let failed = server.call(
        "harness_record_trace",
        json!({"kind": "attempt", "summary": "abc", "raw": "x"}),
    );
    assert_eq!(failed["isError"], true);
    assert!(
        failed["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Read-only file system"),
        "{failed}"
    );
    let contracts: Value =
        serde_json::from_str(&server.read_resource("harness://contracts")).unwrap();
    assert_eq!(contracts["contracts"].as_array().unwrap().len(), 1);
    assert_eq!(server.finish(), 0);
    assert_every_file_parses(&project.harness());
}

//! Knowledge recorded by this server must reach `knowledge/index.json`, the only knowledge
//! file a Node 0.2.0 server reads, without waiting for a clean end of input: within a second
//! of the session going idle, when the server is told to terminate (SIGTERM, SIGINT,
//! SIGHUP: exit 0), and, after a SIGKILL, at the next server's first idle pause (after its
//! first replies, which do not wait for it).
#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs.

mod common;

use common::{Server, TempProject};
use rustix::fs::{flock, FlockOperation};
use rustix::process::{kill_process, Pid, Signal};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// What the tests allow between the session going idle and the items being in index.json.
const VISIBLE_WITHIN: Duration = Duration::from_secs(1);

fn record_items(server: &mut Server, count: usize) -> HashSet<String> {
    (0..count)
        .map(|i| {
            let out = server.call_ok(
                "harness_record_knowledge",
                json!({"title": format!("Visible note {i}"), "summary": "seen by a Node server"}),
            );
            out["item"]["id"].as_str().expect("id").to_string()
        })
        .collect()
}

/// The ids in index.json, as a Node server would read them (none when it does not exist).
fn index_json_ids(project: &TempProject) -> HashSet<String> {
    let path = project.harness().join("knowledge/index.json");
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashSet::new();
    };
    let index: Value = serde_json::from_str(&text).expect("index.json is JSON");
    index["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|entry| entry["id"].as_str().expect("id").to_string())
        .collect()
}

/// Polls until index.json holds every id in `ids`, or `within` has passed; returns the time
/// it took.
fn wait_until_indexed(
    project: &TempProject,
    ids: &HashSet<String>,
    within: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if index_json_ids(project).is_superset(ids) {
            return Some(start.elapsed());
        }
        if start.elapsed() > within {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether the journal holds records index.json may lack: it is newer than index.json.
fn journal_pending(project: &TempProject) -> bool {
    let modified = |rel: &str| {
        std::fs::metadata(project.harness().join(rel))
            .and_then(|m| m.modified())
            .ok()
    };
    match (
        modified("knowledge/index.journal.jsonl"),
        modified("knowledge/index.json"),
    ) {
        (Some(journal), Some(index)) => journal > index,
        (journal, _) => journal.is_some(),
    }
}

fn signal(server: &Server, signal: Signal) {
    let pid = Pid::from_child(&server.child);
    kill_process(pid, signal).expect("send the signal");
}

#[test]
fn items_reach_index_json_within_a_second_of_the_session_going_idle() {
    let project = TempProject::new("nv-idle");
    let mut server = Server::start(&project.path);
    let ids = record_items(&mut server, 5);
    let took = wait_until_indexed(&project, &ids, VISIBLE_WITHIN);
    println!("5 items in index.json {took:?} after the last reply");
    assert!(
        took.is_some(),
        "index.json holds {:?} of 5 items a second after the last reply",
        index_json_ids(&project).intersection(&ids).count()
    );
    assert!(
        !journal_pending(&project),
        "index.json was written after the journal"
    );
    // Still serving: the fold did not end the session, and a later burst is indexed too.
    let more = record_items(&mut server, 3);
    assert!(wait_until_indexed(&project, &more, VISIBLE_WITHIN).is_some());
    assert_eq!(server.finish(), 0);
}

fn assert_signal_folds_and_exits_0(label: &str, sent: Signal) {
    let project = TempProject::new(label);
    let mut server = Server::start(&project.path);
    let ids = record_items(&mut server, 3);
    signal(&server, sent);
    let status = server.child.wait().expect("wait");
    assert_eq!(
        status.code(),
        Some(0),
        "{sent:?} must end the server with 0"
    );
    assert!(
        index_json_ids(&project).is_superset(&ids),
        "after {sent:?}, index.json holds {} of 3 items",
        index_json_ids(&project).intersection(&ids).count()
    );
    assert!(!journal_pending(&project));
}

#[test]
fn sigterm_folds_the_journal_and_exits_0() {
    assert_signal_folds_and_exits_0("nv-term", Signal::TERM);
}

#[test]
fn sigint_folds_the_journal_and_exits_0() {
    assert_signal_folds_and_exits_0("nv-int", Signal::INT);
}

#[test]
fn sighup_folds_the_journal_and_exits_0() {
    assert_signal_folds_and_exits_0("nv-hup", Signal::HUP);
}

#[test]
fn a_request_in_flight_when_the_signal_comes_is_answered_and_indexed() {
    let project = TempProject::new("nv-inflight");
    let mut server = Server::start(&project.path);
    let mut ids = record_items(&mut server, 1);
    // Hold the knowledge-index lock (as another server would) so the next record waits.
    let knowledge = std::fs::File::open(project.harness().join("knowledge")).expect("open");
    flock(&knowledge, FlockOperation::LockExclusive).expect("flock");
    let request = json!({"jsonrpc": "2.0", "id": "late", "method": "tools/call", "params":
        {"name": "harness_record_knowledge", "arguments": {"title": "In flight", "summary": "s"}}});
    server.send_raw(format!("{request}\n").as_bytes());
    std::thread::sleep(Duration::from_millis(200));
    signal(&server, Signal::TERM);
    std::thread::sleep(Duration::from_millis(100));
    drop(knowledge);
    let reply = server.recv();
    assert_eq!(reply["id"], "late");
    let id = reply["result"]["structuredContent"]["item"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("the request in flight was answered: {reply}"));
    ids.insert(id.to_string());
    let status = server.child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    assert!(index_json_ids(&project).is_superset(&ids));
}

#[test]
fn after_sigkill_the_next_server_folds_the_journal_at_start_up() {
    let project = TempProject::new("nv-kill");
    let mut server = Server::start(&project.path);
    let ids = record_items(&mut server, 3);
    signal(&server, Signal::KILL);
    server.child.wait().expect("wait");
    // Killed long before the idle pause: the items exist only in the journal.
    assert!(
        journal_pending(&project),
        "the killed server left a journal"
    );
    assert!(index_json_ids(&project).is_disjoint(&ids));
    // The next server writes index.json at its first idle pause, with no request at all.
    let next = Server::start(&project.path);
    assert!(
        wait_until_indexed(&project, &ids, VISIBLE_WITHIN).is_some(),
        "the next server did not fold the journal at start-up"
    );
    assert_eq!(next.finish(), 0);
}

//! The checks of `fsck`: a walk of the whole tree (file types, links, JSON and JSONL that
//! parse, orphaned temp and lock files), then the cross-checks over what it read (state
//! counters against the records, the knowledge index against the items, references between
//! records). Read-only: it never writes, removes or locks anything.

use super::{Finding, Repair};
use crate::clock::epoch_ms;
use crate::harness::state::STATE_FILE;
use crate::harness::ToolError;
use crate::json::parse_lenient;
use crate::knowledge::index::{
    scan_index, scan_segment, segments, INDEX_FILE, ITEMS_DIR, JOURNAL_FILE, SEGMENTS_DIR,
};
use crate::sanitize::safe_file_id;
use crate::store::{EntryKind, Store, StoreError, LOCK_STALE_MS, TEMP_MAX_AGE_MS};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Where `--repair` keeps what it replaced; fsck's own, so not checked.
pub const BACKUPS_DIR: &str = "backups";
/// Directory levels examined below the root (the layout uses three).
const MAX_DEPTH: usize = 8;
/// The lock files a Node server or this one creates at the root.
const LOCK_FILES: [&str; 2] = [".state.lock", ".knowledge-index.lock"];

/// What a check found, and how many files it read.
pub struct Checked {
    pub findings: Vec<Finding>,
    pub files: usize,
}

/// What the walk read: every regular file's path, and the parsed JSON records.
#[derive(Default)]
struct Tree {
    files: BTreeSet<String>,
    json: BTreeMap<String, Value>,
    /// Complete, parsed lines of each `traces/*.jsonl`.
    traces: Vec<Value>,
}

fn finding(path: &str, problem: String, fix: &str, repair: Option<Repair>) -> Finding {
    Finding {
        path: path.to_string(),
        problem,
        fix: fix.to_string(),
        repair,
    }
}

/// Runs every check. An error means the tree could not be read at all.
pub fn run(store: &Store) -> Result<Checked, StoreError> {
    let mut findings = Vec::new();
    let tree = walk(store, &mut findings)?;
    counters(&tree, &mut findings);
    if let Err(error) = knowledge_index(store, &tree, &mut findings) {
        findings.push(finding(
            INDEX_FILE,
            format!("the knowledge index could not be read ({error})"),
            "run with --repair to rebuild it from knowledge/items",
            Some(Repair::RebuildIndex),
        ));
    }
    references(&tree, &mut findings);
    Ok(Checked {
        findings,
        files: tree.files.len(),
    })
}

/// The writer of a temp file names it `<target>.tmp.<pid>.<hex>`.
fn is_temp_name(name: &str) -> bool {
    crate::store::temp_owner(name).is_some()
}

fn walk(store: &Store, findings: &mut Vec<Finding>) -> Result<Tree, StoreError> {
    let now = epoch_ms();
    let mut tree = Tree::default();
    let mut unlisted = Vec::new();
    store.walk(
        MAX_DEPTH,
        |entry| {
            let refuse = |what: &str| {
                finding(
                    &entry.rel,
                    format!("is {what}, which the server refuses to read"),
                    "remove it (the server never creates one)",
                    None,
                )
            };
            match entry.kind {
                EntryKind::Directory => return entry.rel != BACKUPS_DIR,
                // An unknown type (a filesystem without d_type) is read like a file: the
                // store's fstat then refuses whatever is not a regular single-link file.
                EntryKind::File | EntryKind::Unknown => {
                    let at_root = !entry.rel.contains('/');
                    if is_temp_name(&entry.name) {
                        temp_file(store, &entry.rel, now, findings);
                    } else if at_root && LOCK_FILES.contains(&entry.name.as_str()) {
                        lock_file(store, &entry.rel, now, findings);
                    } else {
                        regular_file(store, &entry.rel, &mut tree, findings);
                    }
                }
                EntryKind::Symlink => findings.push(refuse("a symlink")),
                EntryKind::Fifo => findings.push(refuse("a FIFO")),
                EntryKind::Socket => findings.push(refuse("a socket")),
                EntryKind::Device => findings.push(refuse("a device")),
            }
            false
        },
        |dir, error| unlisted.push((dir.to_string(), error)),
    )?;
    for (dir, error) in unlisted {
        findings.push(finding(
            &dir,
            format!("cannot be listed ({error})"),
            "check its permissions",
            None,
        ));
    }
    Ok(tree)
}

fn age_ms(store: &Store, rel: &str, now: i64) -> i64 {
    store
        .modified_ms(rel)
        .ok()
        .flatten()
        .map_or(0, |modified| now - modified)
}

/// A temp file older than the reaper's age is an orphan; a younger one may be a live write.
fn temp_file(store: &Store, rel: &str, now: i64, findings: &mut Vec<Finding>) {
    if age_ms(store, rel, now) > TEMP_MAX_AGE_MS {
        findings.push(finding(
            rel,
            "is an orphaned temp file (a write interrupted by a crash)".into(),
            "run with --repair to remove it (it is backed up first)",
            Some(Repair::RemoveTemp(rel.to_string())),
        ));
    }
}

/// A lock file older than a Node server honours one is left by a writer that died.
fn lock_file(store: &Store, rel: &str, now: i64, findings: &mut Vec<Finding>) {
    if age_ms(store, rel, now) > LOCK_STALE_MS {
        findings.push(finding(
            rel,
            "is a stale lock file".into(),
            "none needed: the next writer reclaims it; remove it by hand only when no server runs",
            None,
        ));
    }
}

/// Reads a regular file through the store (which refuses several links) and parses JSON and
/// JSONL. The index, its journal and segments are the knowledge check's.
fn regular_file(store: &Store, rel: &str, tree: &mut Tree, findings: &mut Vec<Finding>) {
    tree.files.insert(rel.to_string());
    let bytes = match store.read(rel) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return,
        Err(error) => {
            findings.push(finding(
                rel,
                format!("cannot be read ({error})"),
                "replace it with a single-link regular copy of its content",
                None,
            ));
            return;
        }
    };
    if rel == INDEX_FILE || rel == JOURNAL_FILE || rel.starts_with(SEGMENTS_DIR) {
        return;
    }
    if rel.ends_with(".json") {
        match parse_lenient(&bytes) {
            Ok(value) => {
                tree.json.insert(rel.to_string(), value);
            }
            Err(error) => findings.push(finding(
                rel,
                format!("is not valid JSON ({error})"),
                "restore it from a backup or a copy; fsck never rewrites a record",
                None,
            )),
        }
    } else if rel.ends_with(".jsonl") {
        jsonl(rel, &bytes, tree, findings);
    }
}

fn jsonl(rel: &str, bytes: &[u8], tree: &mut Tree, findings: &mut Vec<Finding>) {
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let unterminated = lines.pop().filter(|last| !last.is_empty());
    if unterminated.is_some() {
        findings.push(finding(
            rel,
            "ends in an unterminated line (an append never acknowledged)".into(),
            "none needed: the next append cuts it off",
            None,
        ));
    }
    for (n, line) in lines.into_iter().enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_lenient(line) {
            Ok(value) if rel.starts_with("traces/") => tree.traces.push(value),
            Ok(_) => {}
            Err(error) => findings.push(finding(
                rel,
                format!("line {} is not valid JSON ({error})", n + 1),
                "restore it from a backup or a copy; fsck never rewrites a record",
                None,
            )),
        }
    }
}

/// The JSON records of `dir` (its direct `*.json` children).
fn records<'a>(tree: &'a Tree, dir: &str) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
    let prefix = format!("{dir}/");
    tree.json.iter().filter(move |(rel, _)| {
        rel.strip_prefix(&prefix)
            .is_some_and(|name| !name.contains('/') && name.ends_with(".json"))
    })
}

/// Each `state.json` counter that counts records against the records on disk.
fn counters(tree: &Tree, findings: &mut Vec<Finding>) {
    let Some(Value::Object(counters)) = tree.json.get(STATE_FILE).and_then(|s| s.get("counters"))
    else {
        return;
    };
    let by_dir = |dir: &str| records(tree, dir).count();
    let verifications = tree
        .traces
        .iter()
        .filter(|t| t.get("kind").and_then(Value::as_str) == Some("verification"))
        .count();
    let on_disk = [
        ("contracts", by_dir("contracts"), "contracts/"),
        ("traces", tree.traces.len(), "traces/*.jsonl lines"),
        ("verifications", verifications, "verification traces"),
        ("gates", by_dir("gates"), "gates/"),
        ("knowledgeItems", by_dir(ITEMS_DIR), "knowledge/items/"),
        ("evalCases", by_dir("evals/cases"), "evals/cases/"),
        ("evalRuns", by_dir("evals/runs"), "evals/runs/"),
        (
            "harnessProfiles",
            by_dir("harness-profiles"),
            "harness-profiles/",
        ),
        (
            "harnessProposals",
            by_dir("harness-proposals"),
            "harness-proposals/",
        ),
        (
            "promotionDecisions",
            by_dir("promotion-decisions"),
            "promotion-decisions/",
        ),
    ];
    for (counter, count, what) in on_disk {
        let Some(value) = counters.get(counter) else {
            continue;
        };
        if value.as_f64() != Some(count as f64) {
            findings.push(finding(
                STATE_FILE,
                format!("counters.{counter} is {value} but {what} holds {count}"),
                "find the missing or extra record (a crash between writing a record and counting it leaves the counter one behind), then set the counter by hand",
                None,
            ));
        }
    }
}

/// The ids the index names: index.json's entries (`None` if it is corrupt), those of the
/// segments and the journal, and how many journal entries index.json lacks.
struct Indexed {
    index: Option<BTreeSet<String>>,
    journal: BTreeSet<String>,
    journal_lines: usize,
}

fn indexed_ids(store: &Store) -> Result<Indexed, ToolError> {
    let id_of = |entry: &Value| entry.get("id").and_then(Value::as_str).map(str::to_string);
    let mut index = BTreeSet::new();
    let index = match store.open_read(INDEX_FILE)? {
        Some(mut file) => {
            scan_index(&mut file, &mut |_, _, entry| index.extend(id_of(&entry)))?.map(|_| index)
        }
        None => None,
    };
    let mut journal = BTreeSet::new();
    let mut journaled = BTreeSet::new();
    for (_, path) in segments(store)? {
        if let Some(mut file) = store.open_read(&path)? {
            scan_segment(&mut file, 0, &mut |_, _, entry| {
                journal.extend(id_of(&entry))
            })?;
        }
    }
    if let Some(mut file) = store.open_read(JOURNAL_FILE)? {
        scan_segment(&mut file, 0, &mut |_, _, entry| {
            journaled.extend(id_of(&entry));
        })?;
    }
    let journal_lines = index
        .as_ref()
        .map_or(journaled.len(), |index| journaled.difference(index).count());
    journal.extend(journaled);
    Ok(Indexed {
        index,
        journal,
        journal_lines,
    })
}

/// index.json, the segments and the journal name exactly the items in `knowledge/items/`.
fn knowledge_index(
    store: &Store,
    tree: &Tree,
    findings: &mut Vec<Finding>,
) -> Result<(), ToolError> {
    let items: BTreeMap<String, &String> = records(tree, ITEMS_DIR)
        .map(|(rel, item)| {
            let stem = rel
                .trim_start_matches(ITEMS_DIR)
                .trim_start_matches('/')
                .trim_end_matches(".json");
            (
                item.get("id")
                    .and_then(Value::as_str)
                    .unwrap_or(stem)
                    .to_string(),
                rel,
            )
        })
        .collect();
    let index_exists = tree.files.contains(INDEX_FILE);
    if !index_exists && items.is_empty() && !tree.files.contains(JOURNAL_FILE) {
        return Ok(());
    }
    let Indexed {
        index,
        journal,
        journal_lines,
    } = indexed_ids(store)?;
    let rebuild = |problem: String| {
        finding(
            INDEX_FILE,
            problem,
            "run with --repair to rebuild it from knowledge/items",
            Some(Repair::RebuildIndex),
        )
    };
    let Some(index) = (match (index_exists, index) {
        (false, _) => Some(BTreeSet::new()),
        (true, index) => index,
    }) else {
        findings.push(rebuild("is not a readable version-1 index".into()));
        return Ok(());
    };
    if journal_lines > 0 {
        findings.push(finding(
            JOURNAL_FILE,
            format!("holds {journal_lines} entries not yet written to index.json (a server was killed, or has not sealed or exited since)"),
            "run with --repair to write index.json (a Node server sees the newest items only after that)",
            Some(Repair::FoldJournal),
        ));
    }
    let folded: BTreeSet<&String> = index.iter().chain(journal.iter()).collect();
    for (id, rel) in &items {
        if !folded.contains(id) {
            findings.push(rebuild(format!("lacks the item {id} ({rel})")));
        }
    }
    for id in folded {
        if !items.contains_key(id) {
            findings.push(rebuild(format!(
                "names the item {id}, but {ITEMS_DIR}/ does not hold it"
            )));
        }
    }
    Ok(())
}

/// Every id a record names points at a record that exists.
fn references(tree: &Tree, findings: &mut Vec<Finding>) {
    let links: [(&str, &str, &str); 6] = [
        ("gates", "contractId", "contracts"),
        ("contracts", "parentContractId", "contracts"),
        ("evals/runs", "evalCaseId", "evals/cases"),
        ("evals/runs", "harnessProfileId", "harness-profiles"),
        ("harness-proposals", "targetProfileId", "harness-profiles"),
        ("promotion-decisions", "proposalId", "harness-proposals"),
    ];
    let mut check = |rel: &str, field: &str, value: Option<&Value>, target_dir: &str| {
        let Some(id) = value.and_then(Value::as_str).filter(|id| !id.is_empty()) else {
            return;
        };
        let target = safe_file_id(id).map(|safe| format!("{target_dir}/{safe}.json"));
        if !target.as_ref().is_some_and(|t| tree.files.contains(t)) {
            findings.push(finding(
                rel,
                format!(
                    "{field} names {id:?}, but {} does not exist",
                    target.unwrap_or_else(|| format!("{target_dir}/ (not a safe id)"))
                ),
                "restore the missing record from a backup; fsck never rewrites a record",
                None,
            ));
        }
    };
    for (dir, field, target_dir) in links {
        for (rel, record) in records(tree, dir) {
            check(rel, field, record.get(field), target_dir);
        }
    }
    if let Some(state) = tree.json.get(STATE_FILE) {
        check(
            STATE_FILE,
            "activeContractId",
            state.get("activeContractId"),
            "contracts",
        );
    }
}

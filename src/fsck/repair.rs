//! The safe repairs of `fsck --repair`: rebuild the knowledge index from the items, write
//! index.json from the index, remove an orphaned temp file. Each first copies what it will replace or
//! remove to `backups/fsck-<epoch ms>/<same path>`; a repair whose backup fails is not made.
//!
//! It must never: delete or rewrite a record (contracts, traces, gates, items, evals,
//! profiles, proposals, decisions, state.json), or write outside the harness directory.

use super::check::BACKUPS_DIR;
use super::{Finding, Repair};
use crate::harness::ToolError;
use crate::knowledge::index::{memory, segments, INDEX_FILE, JOURNAL_FILE};
use crate::store::{Store, HARNESS_DIR_NAME};

/// What the repairs did: a line for each, and how many findings they resolved.
pub struct Outcome {
    pub lines: Vec<String>,
    pub repaired: usize,
}

/// Copies each of `paths` that exists into `backup`.
fn back_up(store: &Store, backup: &str, paths: &[&str]) -> Result<(), ToolError> {
    for rel in paths {
        if let Some(bytes) = store.read(rel)? {
            store.create_new(&format!("{backup}/{rel}"), &bytes)?;
        }
    }
    Ok(())
}

/// Makes every repair `findings` allow, index repairs once for all of them.
pub fn run(store: &Store, findings: &[Finding]) -> Outcome {
    let backup = format!("{BACKUPS_DIR}/fsck-{}", crate::clock::epoch_ms());
    let mut outcome = Outcome {
        lines: Vec::new(),
        repaired: 0,
    };
    let mut record = |result: Result<(), ToolError>, done: String, count: usize| match result {
        Ok(()) => {
            outcome.lines.push(format!(
                "repaired: {done} (backup in {HARNESS_DIR_NAME}/{backup}/)"
            ));
            outcome.repaired += count;
        }
        Err(error) => outcome.lines.push(format!("not repaired: {done}: {error}")),
    };
    let count = |wanted: &Repair| {
        findings
            .iter()
            .filter(|f| f.repair.as_ref() == Some(wanted))
            .count()
    };
    let (rebuilds, folds) = (count(&Repair::RebuildIndex), count(&Repair::FoldJournal));
    if rebuilds > 0 {
        let result = segments(store)
            .and_then(|sealed| {
                let mut paths = vec![INDEX_FILE, JOURNAL_FILE];
                paths.extend(sealed.iter().map(|(_, path)| path.as_str()));
                back_up(store, &backup, &paths)
            })
            .and_then(|()| memory::rebuild(store).map(drop));
        record(
            result,
            format!("{HARNESS_DIR_NAME}/{INDEX_FILE} rebuilt from the items"),
            rebuilds + folds,
        );
    } else if folds > 0 {
        let result = back_up(store, &backup, &[INDEX_FILE]).and_then(|()| memory::export(store));
        record(
            result,
            format!(
                "{HARNESS_DIR_NAME}/{INDEX_FILE} written with the newest entries of {JOURNAL_FILE}"
            ),
            folds,
        );
    }
    for finding in findings {
        if let Some(Repair::RemoveTemp(rel)) = &finding.repair {
            let result = back_up(store, &backup, &[rel])
                .and_then(|()| store.remove(rel).map_err(ToolError::from));
            record(result, format!("{HARNESS_DIR_NAME}/{rel} removed"), 1);
        }
    }
    outcome
}

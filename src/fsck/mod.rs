//! `codex-harness-mcp fsck [--repair] [--project DIR]`: an offline integrity check of one
//! project's `.codex-harness/`.
//!
//! It owns the check's start-up (the same order as `serve`: close inherited descriptors,
//! pin the project, [`Store::open`], harden, [`confine::apply`]), the report on stdout (one
//! line per finding naming the path and the fix, then a summary) and the exit status: 0
//! clean, 1 findings remain, 2 the tree could not be checked. The checks live in [`check`],
//! the safe repairs in [`repair`].
//!
//! It must never: create a missing project or harness directory (that is exit 2, not an
//! empty tree), touch a file another way than through the [`Store`], follow a symlink, open
//! a FIFO or device, or delete or rewrite a record. `--repair` only rebuilds or folds the
//! derived knowledge index and drops orphaned temp files, each after a backup.

mod check;
mod repair;

use crate::cli::FsckOptions;
use crate::confine;
use crate::store::{Store, HARNESS_DIR_NAME};
use std::io::Write;

/// Exit status: nothing found.
pub const EXIT_CLEAN: u8 = 0;
/// Exit status: findings remain.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status: the tree could not be checked.
pub const EXIT_UNCHECKED: u8 = 2;

/// A safe repair `--repair` may make for a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// Rebuild the knowledge index (segments, journal, index.json) from `knowledge/items/`.
    RebuildIndex,
    /// Write `knowledge/index.json` from the current index (the journal's newest entries are
    /// not in it yet).
    FoldJournal,
    /// Remove an orphaned temp file (its relative path).
    RemoveTemp(String),
}

/// One problem: where (relative to `.codex-harness/`), what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: String,
    pub problem: String,
    pub fix: String,
    pub repair: Option<Repair>,
}

impl Finding {
    fn line(&self) -> String {
        format!(
            "{HARNESS_DIR_NAME}/{}: {}; fix: {}",
            self.path, self.problem, self.fix
        )
    }
}

/// Runs the command and returns its exit status. Progress and posture go to stderr; the
/// findings and the summary to stdout.
pub fn run(options: &FsckOptions) -> u8 {
    match start(options) {
        Ok((store, out)) => report(&store, options.repair, out),
        Err(message) => {
            crate::log::line(format_args!(
                "codex-harness-mcp fsck: could not check: {message}"
            ));
            EXIT_UNCHECKED
        }
    }
}

/// The start-up order of `serve`, minus what only a server needs; the project and its
/// harness directory must already exist.
fn start(options: &FsckOptions) -> Result<(Store, std::io::StdoutLock<'static>), String> {
    confine::descriptors::close_inherited();
    let project = options
        .serve
        .project_dir()
        .map_err(|e| format!("cannot determine the project directory: {e}"))?;
    // Before the Store exists: Store::open would create what is missing.
    if !crate::store::harness_dir_exists(&project) {
        return Err(format!(
            "{} has no {HARNESS_DIR_NAME}/ directory",
            project.display()
        ));
    }
    let store =
        Store::open(&project).map_err(|e| format!("cannot open the harness directory: {e}"))?;
    confine::harden_process().map_err(|e| format!("process hardening failed: {e}"))?;
    let output = std::io::stdout().lock();
    let posture = confine::apply(
        store.root_fd(),
        &confine::ConfineOptions {
            disabled: options.serve.no_confinement,
            required: options.serve.require_confinement,
        },
    )
    .map_err(|e| e.to_string())?;
    for warning in posture.warnings() {
        crate::log::line(warning);
    }
    Ok((store, output))
}

/// Checks, repairs when asked, prints, and decides the exit status.
fn report(store: &Store, repair: bool, mut out: impl Write) -> u8 {
    let mut lines = Vec::new();
    let checked = match check::run(store) {
        Ok(checked) => checked,
        Err(error) => {
            crate::log::line(format_args!(
                "codex-harness-mcp fsck: could not check: {error}"
            ));
            return EXIT_UNCHECKED;
        }
    };
    for finding in &checked.findings {
        lines.push(finding.line());
    }
    let mut remaining = checked.findings.len();
    let mut repaired = 0;
    if repair && checked.findings.iter().any(|f| f.repair.is_some()) {
        let outcome = repair::run(store, &checked.findings);
        lines.extend(outcome.lines);
        repaired = outcome.repaired;
        remaining = match check::run(store) {
            Ok(after) => after.findings.len(),
            Err(error) => {
                crate::log::line(format_args!(
                    "codex-harness-mcp fsck: could not re-check after repair: {error}"
                ));
                return EXIT_UNCHECKED;
            }
        };
    }
    let summary = if remaining == 0 && checked.findings.is_empty() {
        format!("fsck: clean ({} files checked)", checked.files)
    } else {
        format!(
            "fsck: {} finding(s) in {} files checked; {repaired} repaired; {remaining} remain",
            checked.findings.len(),
            checked.files
        )
    };
    lines.push(summary);
    let mut text = lines.join("\n");
    text.push('\n');
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return EXIT_UNCHECKED;
    }
    if remaining == 0 {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    }
}

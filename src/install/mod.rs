//! The `install` and `uninstall` subcommands: add (or remove) this server's entry in the MCP
//! configuration of Codex CLI and nine other clients, editing each file in place.
//!
//! Order of work: resolve every path (this binary, home, project, state directory) while the
//! process is unconfined; open each target's directory without following symlinks, creating
//! missing ones, and, if any target exists, the backup directory under the state directory;
//! confine the process with Landlock to exactly those directories; then read, edit, back up
//! and atomically replace each file. It never starts a process and never touches the network.
//!
//! Path-based `std::fs` calls are confined to [`write`], which runs before Landlock applies.

// The installer is the one place outside the store allowed to create directories by path
// (the user's home and project); everything beneath them goes through directory descriptors.
#![allow(clippy::disallowed_methods)]

pub mod clients;
mod diff;
pub mod json;
pub mod toml;
mod write;

pub use clients::{Client, Scope};

use crate::confine::{self, LayerState};
use clients::{Format, Places, Target};
use std::fmt;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Whether the entry is added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Install,
    Uninstall,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Self::Install => "install",
            Self::Uninstall => "uninstall",
        }
    }
}

/// One requested client, and whether it came from `all` (then a scope it does not support
/// is skipped rather than failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub client: Client,
    pub from_all: bool,
}

/// The options of `install` and `uninstall`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallOptions {
    /// Empty means Codex CLI only, as the original.
    pub clients: Vec<Request>,
    pub scope: Scope,
    /// `--project DIR` for project-scoped files; default the current directory.
    pub project: Option<PathBuf>,
    pub dry_run: bool,
    /// `--name`: the server name instead of `codex-harness` / `codexHarness`.
    pub name: Option<String>,
    pub list_clients: bool,
}

/// Why an edit could not be made; the file is then left untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// The file does not parse; 1-based line and column (in characters).
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// It parses but has a shape we cannot edit safely.
    Shape(String),
}

impl EditError {
    /// A syntax error at byte `offset` of `text`.
    pub fn at(text: &str, offset: usize, message: &str) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self::Syntax {
            line,
            column,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax {
                line,
                column,
                message,
            } => write!(f, "line {line}, column {column}: {message}"),
            Self::Shape(message) => f.write_str(message),
        }
    }
}

/// What happened to one client.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// With where the previous version was saved, if there was one.
    Written(Option<PathBuf>),
    WouldWrite,
    Unchanged,
    Skipped(String),
    Failed(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Written(None) => f.write_str("written"),
            Self::Written(Some(backup)) => {
                write!(f, "written; previous version saved as {}", backup.display())
            }
            Self::WouldWrite => f.write_str("would write (dry run)"),
            Self::Unchanged => f.write_str("unchanged"),
            Self::Skipped(why) => write!(f, "skipped: {why}"),
            Self::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

/// The client ids, one per line, as `--list-clients` prints them.
pub fn client_list() -> String {
    clients::ALL
        .iter()
        .map(|c| format!("{}\n", c.id()))
        .collect()
}

fn env_dir(name: &str, cwd: &std::path::Path) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(|v| crate::harness::records::resolve_lexically(cwd, PathBuf::from(v)))
}

/// The text the file should hold after the action, from its current text (`""` if absent).
fn edit(
    action: Action,
    target: &Target,
    current: &str,
    command: &str,
    args: &[String],
) -> Result<String, EditError> {
    let name = &target.server_name;
    match (target.format, action) {
        (Format::Toml, Action::Install) => toml::upsert(current, name, command, args),
        (Format::Toml, Action::Uninstall) => toml::remove(current, name),
        (Format::Json { container }, Action::Install) => {
            let entry = clients::json_entry(target.client, command, args);
            json::upsert(current, container, name, &entry)
        }
        (Format::Json { container }, Action::Uninstall) => {
            json::remove(current, container, name, target.client.requires_container())
        }
    }
}

/// One target, resolved and (unless skipped) with its directory open.
struct Job {
    request: Request,
    target: Result<Target, Outcome>,
    dir: Option<OwnedFd>,
}

impl Job {
    /// Whether the target's file exists now, so a backup will be needed to change it.
    fn file_exists(&self) -> bool {
        match (&self.target, &self.dir) {
            (Ok(target), Some(dir)) => write::exists(dir, target.file_name),
            _ => false,
        }
    }
}

/// The user's state directory: `$XDG_STATE_HOME` when it is an absolute path (the XDG rule),
/// else `<home>/.local/state`.
fn state_dir(home: Option<&Path>) -> Option<PathBuf> {
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| home.map(|home| home.join(".local/state")))
}

/// What an install says about the project a user-scoped entry serves.
fn user_scope_note(pinned: Option<&Path>) -> String {
    match pinned {
        Some(project) => format!(
            "; the entry passes --project {}, so every session of this client serves that project",
            project.display()
        ),
        None => "; the entry passes no --project: the server serves the directory the client starts it in".into(),
    }
}

/// Runs `install` or `uninstall`; prints diffs (dry run) on stdout and the summary on stderr.
/// Returns the exit status: 0 when every client is fine, 1 when any failed.
pub fn run(action: Action, options: &InstallOptions) -> u8 {
    if options.list_clients {
        return if crate::log::report(client_list()) {
            0
        } else {
            1
        };
    }
    let verb = action.verb();
    let prepared = (|| -> Result<(String, Places, bool), String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot locate this binary: {e}"))?;
        let cwd = std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?;
        let pinned = options.project.is_some();
        let project = match &options.project {
            Some(dir) => crate::harness::records::resolve_lexically(&cwd, dir),
            None => cwd.clone(),
        };
        let places = Places {
            home: env_dir("HOME", &cwd),
            codex_home: env_dir("CODEX_HOME", &cwd),
            project,
        };
        Ok((exe.to_string_lossy().into_owned(), places, pinned))
    })();
    let (command, places, pinned) = match prepared {
        Ok(found) => found,
        Err(error) => {
            crate::log::line(format_args!("codex-harness-mcp {verb}: {error}"));
            return 1;
        }
    };
    let requests = if options.clients.is_empty() {
        vec![Request {
            client: Client::Codex,
            from_all: false,
        }]
    } else {
        options.clients.clone()
    };

    // Resolve every target and open its directory while the process is still unconfined.
    let create = action == Action::Install && !options.dry_run;
    let mut jobs: Vec<Job> = requests
        .into_iter()
        .map(|request| {
            let name = options
                .name
                .clone()
                .unwrap_or_else(|| request.client.default_server_name().to_string());
            let target = request
                .client
                .target(options.scope, &places, &name)
                .map_err(|why| {
                    if request.from_all {
                        Outcome::Skipped(why)
                    } else {
                        Outcome::Failed(why)
                    }
                });
            let mut job = Job {
                request,
                target,
                dir: None,
            };
            if let Ok(target) = &job.target {
                match write::open_parent(&target.anchor, &target.subdirs, create) {
                    Ok(dir) => job.dir = dir,
                    Err(why) => job.target = Err(Outcome::Failed(why)),
                }
            }
            job
        })
        .collect();

    // A changed file's previous version is saved under the state directory, which must be
    // opened (and allowed) now if any target already exists.
    let backups = if !options.dry_run && jobs.iter().any(Job::file_exists) {
        state_dir(places.home.as_deref())
            .ok_or_else(|| {
                "no state directory for the backup ($XDG_STATE_HOME and $HOME are unset)"
                    .to_string()
            })
            .and_then(|state| write::Backups::open(&state))
    } else {
        Err("the file appeared during this run; run it again".to_string())
    };

    let landlock = if options.dry_run {
        "not applied (dry run: nothing is written)".to_string()
    } else {
        let fds: Vec<_> = jobs
            .iter()
            .filter_map(|j| j.dir.as_ref().map(|d| d.as_fd()))
            .chain(backups.as_ref().ok().map(write::Backups::fd))
            .collect();
        match confine::restrict_to_directories(&fds) {
            Ok(state @ (LayerState::Enforced | LayerState::Partial { .. })) => {
                let backup = if backups.is_ok() {
                    " and the backup directory"
                } else {
                    ""
                };
                format!("{state}, only the target directories{backup} are writable")
            }
            Ok(LayerState::Unavailable { reason }) => {
                format!("unavailable ({reason}); the edits run unconfined")
            }
            Ok(state) => format!("{state}; the edits run unconfined"),
            Err(error) => {
                crate::log::line(format_args!(
                    "codex-harness-mcp {verb}: {error}; nothing was written"
                ));
                return 1;
            }
        }
    };

    let mut failed = false;
    for job in &mut jobs {
        let outcome = match &job.target {
            Err(outcome) => outcome.clone(),
            Ok(target) => process(
                action,
                target,
                job.dir.as_ref(),
                &Entry {
                    command: &command,
                    args: clients::server_args(target.scope, &places.project, pinned),
                },
                backups.as_ref(),
                options.dry_run,
            ),
        };
        failed |= matches!(outcome, Outcome::Failed(_));
        let place = match &job.target {
            Ok(target) => format!(
                " ({}) {}",
                match target.scope {
                    clients::ResolvedScope::User => "user",
                    clients::ResolvedScope::Project => "project",
                },
                target.path().display()
            ),
            Err(_) => String::new(),
        };
        let configured = matches!(
            outcome,
            Outcome::Written(_) | Outcome::WouldWrite | Outcome::Unchanged
        );
        let (note, next) = match &job.target {
            Ok(target) if action == Action::Install && configured => (
                if target.scope == clients::ResolvedScope::User {
                    user_scope_note(pinned.then_some(places.project.as_path()))
                } else {
                    String::new()
                },
                target
                    .client
                    .next_step(target.scope, &places.project, &target.server_name),
            ),
            _ => (String::new(), None),
        };
        let id = job.request.client.id();
        crate::log::line(format_args!(
            "codex-harness-mcp {verb}: {id}{place}: {outcome}{note}"
        ));
        if let Some(next) = next {
            crate::log::line(format_args!("codex-harness-mcp {verb}: {id}: next: {next}"));
        }
    }
    crate::log::line(format_args!(
        "codex-harness-mcp {verb}: Landlock: {landlock}"
    ));
    u8::from(failed)
}

/// What the entry runs: this binary and its arguments.
struct Entry<'a> {
    command: &'a str,
    args: Vec<String>,
}

/// Reads, edits and (unless dry) writes one target whose directory is `dir` (`None`: absent),
/// saving the previous version in `backups` first.
fn process(
    action: Action,
    target: &Target,
    dir: Option<&OwnedFd>,
    entry: &Entry<'_>,
    backups: Result<&write::Backups, &String>,
    dry_run: bool,
) -> Outcome {
    let path = target.path();
    let current = match dir {
        Some(dir) => match write::read_existing(dir, target.file_name, &path) {
            Ok(current) => current,
            Err(why) => return Outcome::Failed(why),
        },
        None => None,
    };
    if action == Action::Uninstall && current.is_none() {
        return Outcome::Unchanged;
    }
    let old_text = current.as_ref().map(|(text, _)| text.as_str());
    let new_text = match edit(
        action,
        target,
        old_text.unwrap_or(""),
        entry.command,
        &entry.args,
    ) {
        Ok(text) => text,
        Err(error) => {
            return Outcome::Failed(format!(
                "{}: {error}; the file was left untouched",
                path.display()
            ))
        }
    };
    if old_text == Some(new_text.as_str()) {
        return Outcome::Unchanged;
    }
    if dry_run {
        if !crate::log::report(diff::unified(&path.to_string_lossy(), old_text, &new_text)) {
            return Outcome::Failed("the diff could not be written to stdout".into());
        }
        return Outcome::WouldWrite;
    }
    let Some(dir) = dir else {
        return Outcome::Failed(format!("{}: its directory is missing", path.display()));
    };
    let (backup, mode) = match &current {
        Some((text, mode)) => {
            let saved = backups
                .map_err(String::clone)
                .and_then(|b| b.save(&path, text, *mode));
            match saved {
                Ok(backup) => (Some(backup), Some(*mode)),
                Err(why) => {
                    return Outcome::Failed(format!(
                        "{}: cannot save its previous version: {why}; the file was left untouched",
                        path.display()
                    ))
                }
            }
        }
        None => (None, None),
    };
    match write::replace_atomically(dir, target.file_name, &new_text, mode) {
        Ok(()) => Outcome::Written(backup),
        Err(error) => Outcome::Failed(format!(
            "{}: {error}; the file was left untouched",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_position_counts_lines_and_characters() {
        let error = EditError::at("a\nbé c", 5, "bad");
        assert_eq!(error.to_string(), "line 2, column 3: bad");
        assert_eq!(EditError::at("", 9, "x").to_string(), "line 1, column 1: x");
    }

    #[test]
    fn list_clients_prints_codex_first_then_the_json_clients() {
        let list = client_list();
        assert!(list.starts_with("codex\nclaude-code\nopencode\n"), "{list}");
        assert_eq!(list.lines().count(), 10);
    }
}

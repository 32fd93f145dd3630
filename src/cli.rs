//! Command-line parsing. Owns the grammar of `argv` and nothing else: it never touches the
//! filesystem, so it can run before anything else in `main`.

use crate::install::{Client, InstallOptions, Request, Scope};
use std::ffi::OsString;
use std::path::PathBuf;

/// What the process was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve MCP on stdin/stdout (the default).
    Serve(ServeOptions),
    /// Print what this host supports and exit.
    Doctor {
        project: Option<PathBuf>,
    },
    /// Add this server to MCP clients' configuration files.
    Install(InstallOptions),
    /// Remove this server's entry from MCP clients' configuration files.
    Uninstall(InstallOptions),
    /// Check the integrity of the project's `.codex-harness/` offline, and optionally make
    /// the safe repairs.
    Fsck(FsckOptions),
    /// Hidden: apply the serve-time confinement, then try every forbidden act and report.
    ConfinementSelftest(ServeOptions),
    Version,
    Help,
}

/// Options shared by `serve` and the confinement self-test.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeOptions {
    /// `--project DIR`; `None` means `CODEX_WORKDIR`, else the current directory.
    pub project: Option<PathBuf>,
    /// `--require-confinement`: a missing kernel layer is a start-up error.
    pub require_confinement: bool,
    /// `--no-confinement`: debugging only; the server says so loudly.
    pub no_confinement: bool,
    /// `--require-local-fs`: a `.codex-harness/` on a network or userspace filesystem is a
    /// start-up error instead of a warning (also `HARNESS_REQUIRE_LOCAL_FS=1`).
    pub require_local_fs: bool,
    /// Hidden, for the crash-state tests only: `--record-store-ops FILE` logs every mutating
    /// store operation to a new file (see `store::oplog` and SECURITY.md). Not in `--help`.
    pub record_store_ops: Option<PathBuf>,
}

impl ServeOptions {
    /// The project directory to serve: `--project`, else `$CODEX_WORKDIR`, else the current
    /// directory; made absolute and normalised lexically (`.`/`..` collapsed, symlinks not
    /// resolved), as the original's `path.resolve` does.
    pub fn project_dir(&self) -> std::io::Result<PathBuf> {
        let chosen = match &self.project {
            Some(path) => path.clone(),
            None => match std::env::var_os("CODEX_WORKDIR") {
                Some(dir) if !dir.is_empty() => PathBuf::from(dir),
                _ => PathBuf::from("."),
            },
        };
        let cwd = std::env::current_dir()?;
        Ok(crate::harness::records::resolve_lexically(&cwd, &chosen))
    }

    /// Whether a local filesystem is required: `--require-local-fs`, or
    /// `HARNESS_REQUIRE_LOCAL_FS=1` in the environment.
    pub fn local_fs_required(&self) -> bool {
        local_fs_required_by(
            self.require_local_fs,
            std::env::var_os("HARNESS_REQUIRE_LOCAL_FS").as_deref(),
        )
    }
}

/// The options of `fsck`: the project and confinement flags of `serve`, and `--repair`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FsckOptions {
    pub serve: ServeOptions,
    /// `--repair`: make the safe repairs (after a backup) instead of only reporting.
    pub repair: bool,
}

/// The flag, or the environment variable set to exactly `1`.
fn local_fs_required_by(flag: bool, env: Option<&std::ffi::OsStr>) -> bool {
    flag || env.is_some_and(|value| value == "1")
}

/// A usage error, printed with the help text's first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub const HELP: &str = "\
codex-harness-mcp: a hardened, kernel-confined MCP server for one project's .codex-harness/

USAGE:
    codex-harness-mcp [serve] [--project DIR] [--require-confinement] [--no-confinement]
                             [--require-local-fs]
    codex-harness-mcp doctor [--project DIR]
    codex-harness-mcp fsck [--repair] [--project DIR]
    codex-harness-mcp install|uninstall [--clients LIST|all] [--scope user|project|auto]
                      [--project DIR] [--name NAME] [--dry-run] [--list-clients]
    codex-harness-mcp --version | --help

With no subcommand the server speaks newline-delimited JSON-RPC (MCP) on stdin/stdout.
The project is --project DIR, else $CODEX_WORKDIR, else the current directory; the server
serves that one project and confines itself to its .codex-harness/ directory.

OPTIONS:
    --project DIR            the project root to serve (created if missing)
    --require-confinement    refuse to start unless Landlock, no_new_privs and seccomp all apply
    --no-confinement         debugging only: skip kernel confinement (warns loudly)
    --require-local-fs       refuse to start when .codex-harness/ is on a network or userspace
                             filesystem (NFS, SMB/CIFS, FUSE, 9p, ...) instead of warning;
                             also HARNESS_REQUIRE_LOCAL_FS=1
    --version                print the version

FSCK:
    Checks the project's .codex-harness/ offline, confined to it like the server: every file
    is a regular single-link file and parses, state.json counters match the records, the
    knowledge index matches knowledge/items, no orphaned temp or lock file, no record names a
    missing one. Prints one line per finding with its fix, then a summary; exit 0 clean,
    1 findings, 2 could not check (no such project or .codex-harness/).
    --repair                 also make the safe repairs: rebuild or fold the knowledge index,
                             remove orphaned temp files; what changes is first copied to
                             .codex-harness/backups/fsck-<ms>/; no record is ever deleted

INSTALL / UNINSTALL:
    --clients LIST           comma-separated clients or aliases, or `all` (default: codex)
    --scope SCOPE            user, project or auto (default: each client's usual file)
    --project DIR            the project for project-scoped files (default: current directory)
    --name NAME              server name (default: codex-harness; VS Code: codexHarness)
    --dry-run                print the unified diff that would be applied; write nothing
    --list-clients           print the client ids and exit
    --help                   print this help
";

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let mut args = args.into_iter().peekable();
    let mut subcommand = "serve".to_string();
    if let Some(first) = args.peek() {
        let first = first.to_string_lossy();
        if !first.starts_with('-') {
            subcommand = first.into_owned();
            args.next();
        }
    }
    match subcommand.as_str() {
        "install" => return parse_install(args).map(|o| o.map_or(Command::Help, Command::Install)),
        "uninstall" => {
            return parse_install(args).map(|o| o.map_or(Command::Help, Command::Uninstall))
        }
        _ => {}
    }
    let mut options = ServeOptions::default();
    let mut repair = false;
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        match text.as_str() {
            "--version" | "-V" => return Ok(Command::Version),
            "--help" | "-h" => return Ok(Command::Help),
            "--require-confinement" => options.require_confinement = true,
            "--no-confinement" => options.no_confinement = true,
            "--require-local-fs" => options.require_local_fs = true,
            "--repair" if subcommand == "fsck" => repair = true,
            "--record-store-ops" if subcommand == "serve" => {
                let value = args
                    .next()
                    .ok_or_else(|| UsageError("--record-store-ops requires a file".into()))?;
                options.record_store_ops = Some(non_empty_path(value)?);
            }
            "--project" => {
                let value = args
                    .next()
                    .ok_or_else(|| UsageError("--project requires a directory".into()))?;
                options.project = Some(non_empty_path(value)?);
            }
            _ if text.starts_with("--project=") => {
                let value = arg
                    .to_string_lossy()
                    .trim_start_matches("--project=")
                    .to_string();
                options.project = Some(non_empty_path(value.into())?);
            }
            _ => return Err(UsageError(format!("unknown argument: {text}"))),
        }
    }
    if options.require_confinement && options.no_confinement {
        return Err(UsageError(
            "--require-confinement and --no-confinement contradict each other".into(),
        ));
    }
    match subcommand.as_str() {
        "serve" => Ok(Command::Serve(options)),
        "doctor" => Ok(Command::Doctor {
            project: options.project,
        }),
        "fsck" => Ok(Command::Fsck(FsckOptions {
            serve: options,
            repair,
        })),
        "__confinement-selftest" => Ok(Command::ConfinementSelftest(options)),
        other => Err(UsageError(format!("unknown subcommand: {other}"))),
    }
}

/// The value of `--flag VALUE` or `--flag=VALUE`, if `text` is that flag.
fn flag_value(
    flag: &str,
    text: &str,
    args: &mut impl Iterator<Item = OsString>,
) -> Result<Option<String>, UsageError> {
    if text == flag {
        let value = args
            .next()
            .ok_or_else(|| UsageError(format!("{flag} requires a value")))?;
        return Ok(Some(value.to_string_lossy().into_owned()));
    }
    Ok(text
        .strip_prefix(flag)
        .and_then(|rest| rest.strip_prefix('='))
        .map(str::to_string))
}

/// A server name usable unquoted in every client's file: 1 to 64 ASCII letters, digits, `-`
/// or `_`.
fn valid_server_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The options of `install` / `uninstall`; `None` for `--help`.
fn parse_install(
    mut args: impl Iterator<Item = OsString>,
) -> Result<Option<InstallOptions>, UsageError> {
    let mut options = InstallOptions::default();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        match text.as_str() {
            "--help" | "-h" => return Ok(None),
            "--dry-run" => options.dry_run = true,
            "--list-clients" => options.list_clients = true,
            _ => {
                if let Some(list) = match flag_value("--clients", &text, &mut args)? {
                    Some(list) => Some(list),
                    None => flag_value("--client", &text, &mut args)?,
                } {
                    add_clients(&mut options.clients, &list)?;
                } else if let Some(scope) = flag_value("--scope", &text, &mut args)? {
                    options.scope = Scope::parse(&scope).ok_or_else(|| {
                        UsageError(format!(
                            "unsupported scope: {scope} (use user, project or auto)"
                        ))
                    })?;
                } else if let Some(project) = flag_value("--project", &text, &mut args)? {
                    options.project = Some(non_empty_path(project.into())?);
                } else if let Some(name) = flag_value("--name", &text, &mut args)? {
                    if !valid_server_name(&name) {
                        return Err(UsageError(format!(
                            "invalid --name {name:?}: use 1 to 64 letters, digits, '-' or '_'"
                        )));
                    }
                    options.name = Some(name);
                } else {
                    return Err(UsageError(format!("unknown argument: {text}")));
                }
            }
        }
    }
    Ok(Some(options))
}

/// Adds the clients named in a comma-separated `list` (aliases, case-insensitive; `all` for
/// every client) once each, in order.
fn add_clients(requests: &mut Vec<Request>, list: &str) -> Result<(), UsageError> {
    let mut add =
        |client: Client, from_all: bool| match requests.iter_mut().find(|r| r.client == client) {
            Some(existing) => existing.from_all &= from_all,
            None => requests.push(Request { client, from_all }),
        };
    let names: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Err(UsageError("--clients requires a value".into()));
    }
    for name in names {
        if name.eq_ignore_ascii_case("all") {
            for client in crate::install::clients::ALL {
                add(client, true);
            }
        } else {
            let client = Client::from_alias(name).ok_or_else(|| {
                UsageError(format!("unknown MCP client: {name} (see --list-clients)"))
            })?;
            add(client, false);
        }
    }
    Ok(())
}

fn non_empty_path(value: OsString) -> Result<PathBuf, UsageError> {
    if value.is_empty() {
        return Err(UsageError(
            "--project requires a non-empty directory".into(),
        ));
    }
    Ok(PathBuf::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn no_arguments_means_serve_with_defaults() {
        assert_eq!(parse_strs(&[]), Ok(Command::Serve(ServeOptions::default())));
    }

    #[test]
    fn project_flag_in_both_spellings() {
        let want = Command::Serve(ServeOptions {
            project: Some(PathBuf::from("/p")),
            ..ServeOptions::default()
        });
        assert_eq!(parse_strs(&["--project", "/p"]), Ok(want.clone()));
        assert_eq!(parse_strs(&["serve", "--project=/p"]), Ok(want));
    }

    #[test]
    fn missing_or_empty_project_value_is_a_usage_error() {
        assert!(parse_strs(&["--project"]).is_err());
        assert!(parse_strs(&["--project="]).is_err());
    }

    #[test]
    fn contradictory_confinement_flags_are_refused() {
        assert!(parse_strs(&["--require-confinement", "--no-confinement"]).is_err());
    }

    #[test]
    fn unknown_argument_and_subcommand_are_refused() {
        assert!(parse_strs(&["--frobnicate"]).is_err());
        assert!(parse_strs(&["frobnicate"]).is_err());
    }

    fn install_options(args: &[&str]) -> Option<InstallOptions> {
        match parse_strs(args) {
            Ok(Command::Install(options)) | Ok(Command::Uninstall(options)) => Some(options),
            _ => None,
        }
    }

    #[test]
    fn install_flags_in_both_spellings() {
        let options = install_options(&[
            "install",
            "--clients=Claude, cursor",
            "--client",
            "cascade",
            "--scope",
            "GLOBAL",
            "--project=/p",
            "--name",
            "h2",
            "--dry-run",
        ])
        .unwrap_or_default();
        let clients: Vec<_> = options.clients.iter().map(|r| r.client.id()).collect();
        assert_eq!(clients, ["claude-code", "cursor", "windsurf"]);
        assert_eq!(options.scope, Scope::User);
        assert_eq!(options.project, Some(PathBuf::from("/p")));
        assert_eq!(options.name.as_deref(), Some("h2"));
        assert!(options.dry_run);
    }

    #[test]
    fn all_expands_to_every_client_and_explicit_names_stay_explicit() {
        let options =
            install_options(&["uninstall", "--clients", "cursor,all"]).unwrap_or_default();
        assert_eq!(options.clients.len(), 10);
        let explicit: Vec<_> = options.clients.iter().filter(|r| !r.from_all).collect();
        assert_eq!(explicit.len(), 1);
        assert_eq!(explicit[0].client, Client::Cursor);
        assert!(matches!(
            parse_strs(&["uninstall"]),
            Ok(Command::Uninstall(_))
        ));
    }

    #[test]
    fn bad_install_arguments_are_usage_errors() {
        for args in [
            &["install", "--clients", "emacs"][..],
            &["install", "--clients", " , "],
            &["install", "--clients"],
            &["install", "--scope", "galaxy"],
            &["install", "--name", "a.b"],
            &["install", "--name="],
            &["install", "--frobnicate"],
        ] {
            assert!(parse_strs(args).is_err(), "{args:?}");
        }
        assert_eq!(parse_strs(&["install", "--help"]), Ok(Command::Help));
    }

    #[test]
    fn the_hidden_store_log_option_is_for_serve_only_and_not_in_the_help() {
        assert_eq!(
            parse_strs(&["--record-store-ops", "/tmp/ops.jsonl"]),
            Ok(Command::Serve(ServeOptions {
                record_store_ops: Some(PathBuf::from("/tmp/ops.jsonl")),
                ..ServeOptions::default()
            }))
        );
        assert!(parse_strs(&["--record-store-ops"]).is_err());
        assert!(parse_strs(&["fsck", "--record-store-ops", "/tmp/x"]).is_err());
        assert!(!HELP.contains("record-store-ops"));
    }

    #[test]
    fn require_local_fs_by_flag_or_by_the_environment_set_to_one() {
        assert!(matches!(
            parse_strs(&["--require-local-fs"]),
            Ok(Command::Serve(ServeOptions {
                require_local_fs: true,
                ..
            }))
        ));
        assert!(local_fs_required_by(true, None));
        assert!(local_fs_required_by(false, Some("1".as_ref())));
        assert!(!local_fs_required_by(false, Some("0".as_ref())));
        assert!(!local_fs_required_by(false, Some("".as_ref())));
        assert!(!local_fs_required_by(false, None));
    }

    #[test]
    fn fsck_takes_repair_and_project_and_repair_belongs_to_fsck_only() {
        assert_eq!(
            parse_strs(&["fsck", "--repair", "--project", "/p"]),
            Ok(Command::Fsck(FsckOptions {
                serve: ServeOptions {
                    project: Some(PathBuf::from("/p")),
                    ..ServeOptions::default()
                },
                repair: true,
            }))
        );
        assert_eq!(
            parse_strs(&["fsck"]),
            Ok(Command::Fsck(FsckOptions::default()))
        );
        assert!(parse_strs(&["--repair"]).is_err());
        assert!(parse_strs(&["doctor", "--repair"]).is_err());
    }

    #[test]
    fn doctor_and_selftest_subcommands() {
        assert_eq!(
            parse_strs(&["doctor"]),
            Ok(Command::Doctor { project: None })
        );
        assert!(matches!(
            parse_strs(&["__confinement-selftest", "--project", "/x"]),
            Ok(Command::ConfinementSelftest(_))
        ));
    }
}

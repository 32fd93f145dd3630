//! Command-line parsing. Owns the grammar of `argv` and nothing else: it never touches the
//! filesystem, so it can run before anything else in `main`.

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
    let mut options = ServeOptions::default();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        match text.as_str() {
            "--version" | "-V" => return Ok(Command::Version),
            "--help" | "-h" => return Ok(Command::Help),
            "--require-confinement" => options.require_confinement = true,
            "--no-confinement" => options.no_confinement = true,
            "--require-local-fs" => options.require_local_fs = true,
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
        "__confinement-selftest" => Ok(Command::ConfinementSelftest(options)),
        other => Err(UsageError(format!("unknown subcommand: {other}"))),
    }
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

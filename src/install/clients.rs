//! The clients the installer knows: their ids and aliases, where each keeps its MCP
//! configuration in each scope, and the shape of the entry written there.
//!
//! Pure data and path arithmetic: this module never touches the filesystem.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Default server name in every client but VS Code.
pub const SERVER_NAME: &str = "codex-harness";
/// Default server name in VS Code (its `servers` keys are conventionally camelCase).
pub const VSCODE_SERVER_NAME: &str = "codexHarness";

/// One client the installer can configure, in `--list-clients` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Codex,
    ClaudeCode,
    OpenCode,
    Kilo,
    Gemini,
    Cursor,
    VsCode,
    Cline,
    Windsurf,
    Roo,
}

/// Every client, in the order `all` installs them.
pub const ALL: [Client; 10] = [
    Client::Codex,
    Client::ClaudeCode,
    Client::OpenCode,
    Client::Kilo,
    Client::Gemini,
    Client::Cursor,
    Client::VsCode,
    Client::Cline,
    Client::Windsurf,
    Client::Roo,
];

const ALIASES: &[(&str, Client)] = &[
    ("codex", Client::Codex),
    ("codex-cli", Client::Codex),
    ("claude", Client::ClaudeCode),
    ("claude-code", Client::ClaudeCode),
    ("claude_code", Client::ClaudeCode),
    ("opencode", Client::OpenCode),
    ("open-code", Client::OpenCode),
    ("kilo", Client::Kilo),
    ("kilo-cli", Client::Kilo),
    ("kilo-code", Client::Kilo),
    ("kilocode", Client::Kilo),
    ("gemini", Client::Gemini),
    ("gemini-cli", Client::Gemini),
    ("cursor", Client::Cursor),
    ("vscode", Client::VsCode),
    ("vs-code", Client::VsCode),
    ("copilot", Client::VsCode),
    ("github-copilot", Client::VsCode),
    ("cline", Client::Cline),
    ("windsurf", Client::Windsurf),
    ("cascade", Client::Windsurf),
    ("roo", Client::Roo),
    ("roo-code", Client::Roo),
    ("roocode", Client::Roo),
];

/// Which configuration file to write: the user's own (the original's "global"), the
/// project's, or whichever the client prefers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    Auto,
    User,
    Project,
}

impl Scope {
    /// Parses `user`, `project` or `auto` (case-insensitive; `global` is accepted as the
    /// original's name for `user`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "user" | "global" => Some(Self::User),
            "project" => Some(Self::Project),
            _ => None,
        }
    }
}

/// The scope a configuration actually lives in, once `auto` is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolvedScope {
    User,
    Project,
}

/// How the entry is laid out in the client's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `[mcp_servers.<name>]` in TOML.
    Toml,
    /// `{"<container>": {"<name>": {…}}}` in JSON (comments tolerated).
    Json { container: &'static str },
}

/// Where one client's entry goes and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub client: Client,
    pub scope: ResolvedScope,
    /// The directory the client's paths are relative to (home, `CODEX_HOME` or the project);
    /// symlinks in it are the user's own choice and are followed.
    pub anchor: PathBuf,
    /// The directories beneath `anchor` leading to the file; none may be a symlink.
    pub subdirs: Vec<&'static str>,
    pub file_name: &'static str,
    pub format: Format,
    pub server_name: String,
}

impl Target {
    /// The configuration file's full path.
    pub fn path(&self) -> PathBuf {
        let mut path = self.anchor.clone();
        path.extend(&self.subdirs);
        path.push(self.file_name);
        path
    }
}

/// The directories a target may be resolved against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Places {
    pub home: Option<PathBuf>,
    /// `$CODEX_HOME` when set; else `<home>/.codex` is used.
    pub codex_home: Option<PathBuf>,
    pub project: PathBuf,
}

impl Client {
    /// Resolves a user-supplied name or alias (case-insensitive, trimmed).
    pub fn from_alias(name: &str) -> Option<Self> {
        let wanted = name.trim().to_ascii_lowercase();
        ALIASES
            .iter()
            .find(|(alias, _)| *alias == wanted)
            .map(|(_, client)| *client)
    }

    /// The canonical id, as `--list-clients` prints it.
    pub fn id(self) -> &'static str {
        match self {
            Self::Codex => "codex",
            Self::ClaudeCode => "claude-code",
            Self::OpenCode => "opencode",
            Self::Kilo => "kilo",
            Self::Gemini => "gemini",
            Self::Cursor => "cursor",
            Self::VsCode => "vscode",
            Self::Cline => "cline",
            Self::Windsurf => "windsurf",
            Self::Roo => "roo",
        }
    }

    /// The server name used when `--name` is not given.
    pub fn default_server_name(self) -> &'static str {
        match self {
            Self::VsCode => VSCODE_SERVER_NAME,
            _ => SERVER_NAME,
        }
    }

    fn format(self) -> Format {
        match self {
            Self::Codex => Format::Toml,
            Self::OpenCode | Self::Kilo => Format::Json { container: "mcp" },
            Self::VsCode => Format::Json {
                container: "servers",
            },
            _ => Format::Json {
                container: "mcpServers",
            },
        }
    }

    /// Whether the client refuses its file when the servers object is missing (Claude Code:
    /// "mcpServers: expected record"), so uninstall must leave it empty rather than remove it.
    /// These are the files that hold nothing but MCP servers; the general settings files of
    /// Gemini CLI, OpenCode and Kilo (and Codex's TOML) accept a file without it.
    pub fn requires_container(self) -> bool {
        match self {
            Self::ClaudeCode
            | Self::Cursor
            | Self::VsCode
            | Self::Cline
            | Self::Windsurf
            | Self::Roo => true,
            Self::Codex | Self::OpenCode | Self::Kilo | Self::Gemini => false,
        }
    }

    /// The one thing the user must still do before the client starts the server from a
    /// project file, or `None` when it starts it as written.
    pub fn next_step(self, scope: ResolvedScope, project: &Path, name: &str) -> Option<String> {
        if scope != ResolvedScope::Project {
            return None;
        }
        let project = project.display();
        match self {
            Self::ClaudeCode => Some(format!(
                "Claude Code starts a .mcp.json server only once it is approved: run `claude` once in {project}, trust the folder and approve \"{name}\" (in a trusted folder, \"enabledMcpjsonServers\": [\"{name}\"] in {project}/.claude/settings.local.json approves it too)"
            )),
            Self::Gemini => Some(format!(
                "Gemini CLI runs a project's servers only in a trusted folder: trust {project} when `gemini` asks (or with /permissions), or add \"{project}\": \"TRUST_FOLDER\" to ~/.gemini/trustedFolders.json"
            )),
            Self::Codex => Some(format!(
                "Codex reads {project}/.codex/config.toml only once the project is trusted: accept the trust prompt when `codex` first starts in {project}, or add trust_level = \"trusted\" under [projects.\"{project}\"] in $CODEX_HOME/config.toml (default ~/.codex)"
            )),
            _ => None,
        }
    }

    /// Which scope `auto` picks for this client.
    fn preferred_scope(self) -> ResolvedScope {
        match self {
            Self::Codex | Self::Cline | Self::Windsurf => ResolvedScope::User,
            _ => ResolvedScope::Project,
        }
    }

    /// The file for `scope`, or why this client has none there.
    pub fn target(self, scope: Scope, places: &Places, name: &str) -> Result<Target, String> {
        let scope = match scope {
            Scope::Auto => self.preferred_scope(),
            Scope::User => ResolvedScope::User,
            Scope::Project => ResolvedScope::Project,
        };
        let (anchor, subdirs, file_name): (PathBuf, Vec<&'static str>, &'static str) = match scope {
            ResolvedScope::Project => {
                let (subdirs, file) = self.project_file()?;
                (places.project.clone(), subdirs, file)
            }
            ResolvedScope::User => {
                let (anchor, subdirs, file) = self.user_file(places)?;
                (anchor, subdirs, file)
            }
        };
        Ok(Target {
            client: self,
            scope,
            anchor,
            subdirs,
            file_name,
            format: self.format(),
            server_name: name.to_string(),
        })
    }

    fn project_file(self) -> Result<(Vec<&'static str>, &'static str), String> {
        Ok(match self {
            Self::ClaudeCode => (vec![], ".mcp.json"),
            Self::OpenCode => (vec![], "opencode.json"),
            Self::Kilo => (vec![".kilo"], "kilo.jsonc"),
            Self::Gemini => (vec![".gemini"], "settings.json"),
            Self::Cursor => (vec![".cursor"], "mcp.json"),
            Self::VsCode => (vec![".vscode"], "mcp.json"),
            Self::Roo => (vec![".roo"], "mcp.json"),
            Self::Codex => (vec![".codex"], "config.toml"),
            Self::Cline => {
                return Err(
                    "Cline does not have a stable project MCP config path; use --scope user".into(),
                )
            }
            Self::Windsurf => {
                return Err("Windsurf Cascade MCP config is user-wide; use --scope user".into())
            }
        })
    }

    fn user_file(
        self,
        places: &Places,
    ) -> Result<(PathBuf, Vec<&'static str>, &'static str), String> {
        if self == Self::Codex {
            if let Some(codex_home) = &places.codex_home {
                return Ok((codex_home.clone(), vec![], "config.toml"));
            }
        }
        let home = places.home.clone().ok_or_else(|| {
            "Home directory is required for user client config ($HOME is unset)".to_string()
        })?;
        let (subdirs, file) = match self {
            Self::Codex => (vec![".codex"], "config.toml"),
            Self::OpenCode => (vec![".config", "opencode"], "opencode.json"),
            Self::Kilo => (vec![".config", "kilo"], "kilo.jsonc"),
            Self::Gemini => (vec![".gemini"], "settings.json"),
            Self::Cursor => (vec![".cursor"], "mcp.json"),
            Self::Cline => (vec![".cline", "data", "settings"], "cline_mcp_settings.json"),
            Self::Windsurf => (vec![".codeium", "windsurf"], "mcp_config.json"),
            Self::ClaudeCode => {
                return Err("use `claude mcp add` for user scope; this installer writes Claude Code's project .mcp.json only".into())
            }
            Self::VsCode => {
                return Err("VS Code user-profile config path varies by profile; use --scope project".into())
            }
            Self::Roo => {
                return Err("Roo Code user config path varies; use --scope project".into())
            }
        };
        Ok((home, subdirs, file))
    }
}

/// The arguments the client passes to this binary: `--project <dir>` for a project-scoped
/// file, and for a user-scoped one only when the user named a project with `--project`
/// (`pinned`); otherwise none, and the server serves `$CODEX_WORKDIR`, else the directory the
/// client starts it in.
pub fn server_args(scope: ResolvedScope, project: &Path, pinned: bool) -> Vec<String> {
    if scope == ResolvedScope::Project || pinned {
        vec!["--project".into(), project.to_string_lossy().into_owned()]
    } else {
        Vec::new()
    }
}

/// The JSON entry (the value under `<container>.<name>`) for a JSON client.
pub fn json_entry(client: Client, command: &str, args: &[String]) -> Value {
    match client {
        Client::ClaudeCode | Client::VsCode => {
            json!({"type": "stdio", "command": command, "args": args})
        }
        Client::OpenCode | Client::Kilo => {
            let mut full = vec![command.to_string()];
            full.extend(args.iter().cloned());
            json!({"type": "local", "command": full, "enabled": true})
        }
        Client::Gemini => {
            json!({"command": command, "args": args, "timeout": 30000, "trust": false})
        }
        Client::Codex | Client::Cursor | Client::Cline | Client::Windsurf | Client::Roo => {
            json!({"command": command, "args": args})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> Places {
        Places {
            home: Some(PathBuf::from("/h")),
            codex_home: None,
            project: PathBuf::from("/p"),
        }
    }

    #[test]
    fn aliases_resolve_case_insensitively_to_canonical_ids() {
        assert_eq!(Client::from_alias(" Claude "), Some(Client::ClaudeCode));
        assert_eq!(Client::from_alias("CASCADE"), Some(Client::Windsurf));
        assert_eq!(Client::from_alias("github-copilot"), Some(Client::VsCode));
        assert_eq!(Client::from_alias("kilocode"), Some(Client::Kilo));
        assert_eq!(Client::from_alias("emacs"), None);
        for client in ALL {
            assert_eq!(Client::from_alias(client.id()), Some(client));
        }
    }

    #[test]
    fn auto_scope_picks_the_original_defaults() {
        let p = places();
        let path = |c: Client| c.target(Scope::Auto, &p, "n").map(|t| t.path());
        assert_eq!(
            path(Client::Codex),
            Ok(PathBuf::from("/h/.codex/config.toml"))
        );
        assert_eq!(path(Client::ClaudeCode), Ok(PathBuf::from("/p/.mcp.json")));
        assert_eq!(path(Client::Kilo), Ok(PathBuf::from("/p/.kilo/kilo.jsonc")));
        assert_eq!(
            path(Client::Cline),
            Ok(PathBuf::from(
                "/h/.cline/data/settings/cline_mcp_settings.json"
            ))
        );
        assert_eq!(
            path(Client::Windsurf),
            Ok(PathBuf::from("/h/.codeium/windsurf/mcp_config.json"))
        );
    }

    #[test]
    fn codex_home_overrides_the_codex_directory() {
        let mut p = places();
        p.codex_home = Some(PathBuf::from("/c"));
        let target = Client::Codex.target(Scope::User, &p, "n");
        assert_eq!(
            target.map(|t| t.path()),
            Ok(PathBuf::from("/c/config.toml"))
        );
    }

    #[test]
    fn unsupported_scopes_say_which_scope_to_use() {
        let p = places();
        let err = |c: Client, s: Scope| c.target(s, &p, "n").err().unwrap_or_default();
        assert!(err(Client::ClaudeCode, Scope::User).contains("claude mcp add"));
        assert!(Client::Codex.target(Scope::Project, &p, "n").is_ok());
        assert!(err(Client::VsCode, Scope::User).contains("--scope project"));
        assert!(err(Client::Cline, Scope::Project).contains("--scope user"));
        assert!(err(Client::Windsurf, Scope::Project).contains("--scope user"));
    }

    #[test]
    fn missing_home_is_reported_for_user_scope() {
        let mut p = places();
        p.home = None;
        assert!(Client::Cursor.target(Scope::User, &p, "n").is_err());
    }

    #[test]
    fn entries_follow_the_original_shapes_with_this_binary() {
        let args = server_args(ResolvedScope::Project, Path::new("/p"), false);
        assert_eq!(
            json_entry(Client::OpenCode, "/bin/x", &args),
            json!({"type": "local", "command": ["/bin/x", "--project", "/p"], "enabled": true})
        );
        assert_eq!(
            json_entry(Client::Gemini, "/bin/x", &[]),
            json!({"command": "/bin/x", "args": [], "timeout": 30000, "trust": false})
        );
        assert_eq!(
            json_entry(Client::ClaudeCode, "/bin/x", &args),
            json!({"type": "stdio", "command": "/bin/x", "args": ["--project", "/p"]})
        );
    }
}

//! `install` / `uninstall` driven through the real binary against real files, with HOME and
//! CODEX_HOME pointed at temporary directories.
#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs.

mod common;

use common::{TempProject, BINARY};
use serde_json::{json, Value};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A home, a Codex home and a project, all under one temporary directory.
struct Setup {
    root: TempProject,
}

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Setup {
    fn new(label: &str) -> Setup {
        let root = TempProject::new(label);
        for dir in ["home", "project", "outside"] {
            std::fs::create_dir_all(root.path.join(dir)).unwrap();
        }
        Setup { root }
    }

    fn home(&self) -> PathBuf {
        self.root.path.join("home")
    }

    fn codex_home(&self) -> PathBuf {
        self.root.path.join("home/codex-home")
    }

    fn project(&self) -> PathBuf {
        self.root.path.join("project")
    }

    fn run(&self, args: &[&str]) -> Ran {
        let output = Command::new(BINARY)
            .args(args)
            .env("HOME", self.home())
            .env("CODEX_HOME", self.codex_home())
            .env_remove("CODEX_WORKDIR")
            .env_remove("XDG_STATE_HOME")
            .current_dir(self.project())
            .output()
            .unwrap();
        Ran {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Where the backup of the file at `original` goes: beneath the state directory
    /// (`~/.local/state` here), at the same absolute path.
    fn backup_of(&self, original: &Path) -> PathBuf {
        let relative = original.strip_prefix("/").unwrap();
        self.home()
            .join(".local/state/codex-harness-mcp/backups")
            .join(relative)
    }

    fn install(&self, client: &str) -> Ran {
        self.run(&["install", "--clients", client])
    }

    /// Where `client`'s file lives with the default (auto) scope.
    fn path(&self, client: &str) -> PathBuf {
        let (base, rel) = client_file(client);
        match base {
            Base::Home => self.home().join(rel),
            Base::CodexHome => self.codex_home().join(rel),
            Base::Project => self.project().join(rel),
        }
    }
}

enum Base {
    Home,
    CodexHome,
    Project,
}

const JSON_CLIENTS: [&str; 9] = [
    "claude-code",
    "opencode",
    "kilo",
    "gemini",
    "cursor",
    "vscode",
    "cline",
    "windsurf",
    "roo",
];

fn client_file(client: &str) -> (Base, &'static str) {
    match client {
        "codex" => (Base::CodexHome, "config.toml"),
        "claude-code" => (Base::Project, ".mcp.json"),
        "opencode" => (Base::Project, "opencode.json"),
        "kilo" => (Base::Project, ".kilo/kilo.jsonc"),
        "gemini" => (Base::Project, ".gemini/settings.json"),
        "cursor" => (Base::Project, ".cursor/mcp.json"),
        "vscode" => (Base::Project, ".vscode/mcp.json"),
        "cline" => (Base::Home, ".cline/data/settings/cline_mcp_settings.json"),
        "windsurf" => (Base::Home, ".codeium/windsurf/mcp_config.json"),
        "roo" => (Base::Project, ".roo/mcp.json"),
        other => panic!("unknown client {other}"),
    }
}

fn exe() -> String {
    std::fs::canonicalize(BINARY)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// `(container, name, entry)` the installer must write for `client` with the default scope.
fn expected_entry(client: &str, project: &Path) -> (&'static str, &'static str, Value) {
    let exe = exe();
    let project = project.to_string_lossy().into_owned();
    let args = json!(["--project", project]);
    match client {
        "claude-code" => (
            "mcpServers",
            "codex-harness",
            json!({"type": "stdio", "command": exe, "args": args}),
        ),
        "opencode" | "kilo" => (
            "mcp",
            "codex-harness",
            json!({"type": "local", "command": [exe, "--project", project], "enabled": true}),
        ),
        "gemini" => (
            "mcpServers",
            "codex-harness",
            json!({"command": exe, "args": args, "timeout": 30000, "trust": false}),
        ),
        "cursor" | "roo" => (
            "mcpServers",
            "codex-harness",
            json!({"command": exe, "args": args}),
        ),
        "vscode" => (
            "servers",
            "codexHarness",
            json!({"type": "stdio", "command": exe, "args": args}),
        ),
        "cline" | "windsurf" => (
            "mcpServers",
            "codex-harness",
            json!({"command": exe, "args": []}),
        ),
        other => panic!("no JSON entry for {other}"),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// JSON with `//` and `/* */` comments (outside strings) and trailing commas stripped.
fn parse_jsonc(text: &str) -> Value {
    let mut plain = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if rest.starts_with('"') {
            let mut end = 1;
            let bytes = rest.as_bytes();
            while bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            plain.push_str(&rest[..=end]);
            rest = &rest[end + 1..];
        } else if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else if rest.starts_with(',') && rest[1..].trim_start().starts_with(['}', ']']) {
            rest = &rest[1..];
        } else {
            let c = rest.chars().next().unwrap();
            plain.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    serde_json::from_str(&plain).unwrap_or_else(|e| panic!("{e}: {plain}"))
}

/// Asserts that `after` is `before` with one run of bytes inserted: every original byte is
/// kept, in order, around a single insertion.
fn assert_only_inserted(before: &str, after: &str) {
    let prefix = before
        .bytes()
        .zip(after.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = before[prefix..]
        .bytes()
        .rev()
        .zip(after.bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    assert_eq!(
        prefix + suffix,
        before.len(),
        "original bytes changed:\n--- before\n{before}\n--- after\n{after}"
    );
}

fn no_stray_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "temp file left behind: {name}");
    }
}

/// An original config for `client` with another server, other keys, a non-default indent
/// and (for the JSONC client) comments.
fn existing_config(client: &str) -> String {
    match client {
        "kilo" => "// Kilo settings\n{\n    \"model\": \"x\", /* inline */\n    \"mcp\": {\n        // keep this server\n        \"other\": {\"type\": \"local\", \"command\": [\"o\"]},\n    },\n}\n".into(),
        "opencode" => "{\n  \"$schema\": \"https://opencode.ai/config.json\",\n  \"mcp\": {\n    \"other\": {\"type\": \"local\", \"command\": [\"o\"]}\n  }\n}\n".into(),
        "vscode" => "{\n\t\"servers\": {\n\t\t\"other\": {\n\t\t\t\"command\": \"o\"\n\t\t}\n\t},\n\t\"inputs\": []\n}".into(),
        _ => "{\n    \"theme\": \"dark\",\n    \"mcpServers\": {\n        \"other\": {\n            \"command\": \"o\",\n            \"args\": [\"a\", \"b\"]\n        }\n    },\n    \"z\": 1\n}\n".into(),
    }
}

const EXISTING_TOML: &str = "# Codex settings\nmodel = \"o3\"  # pinned\n\n[mcp_servers.other]\ncommand = \"o\"\nargs = [\"a\"]\n\n[profiles.fast]\nmodel = \"mini\"\n";

#[test]
fn fresh_install_writes_the_exact_entry_for_every_json_client() {
    for client in JSON_CLIENTS {
        let setup = Setup::new("fresh");
        let ran = setup.install(client);
        assert_eq!(ran.code, 0, "{client}: {}", ran.stderr);
        assert!(
            ran.stderr.contains(&format!("{client} (")),
            "{}",
            ran.stderr
        );
        assert!(ran.stderr.contains(": written"), "{}", ran.stderr);
        let (container, name, entry) = expected_entry(client, &setup.project());
        let mut servers = serde_json::Map::new();
        servers.insert(name.into(), entry);
        let mut document = serde_json::Map::new();
        document.insert(container.into(), Value::Object(servers));
        let text = read(&setup.path(client));
        assert_eq!(
            text,
            format!("{}\n", serde_json::to_string_pretty(&document).unwrap()),
            "{client}"
        );
    }
}

#[test]
fn fresh_install_writes_the_exact_codex_table() {
    let setup = Setup::new("fresh-codex");
    let ran = setup.run(&["install"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        read(&setup.path("codex")),
        format!(
            "[mcp_servers.codex-harness]\ncommand = \"{}\"\nargs = []\n",
            exe()
        )
    );
}

#[test]
fn install_next_to_existing_entries_keeps_every_other_byte() {
    for client in JSON_CLIENTS {
        let setup = Setup::new("beside");
        let path = setup.path(client);
        let original = existing_config(client);
        write(&path, &original);
        let ran = setup.install(client);
        assert_eq!(ran.code, 0, "{client}: {}", ran.stderr);
        let installed = read(&path);
        assert_only_inserted(&original, &installed);
        let (container, name, entry) = expected_entry(client, &setup.project());
        let value = parse_jsonc(&installed);
        assert_eq!(value[container][name], entry, "{client}: {installed}");
        assert!(value[container]["other"].is_object(), "{client}");
        let backup = setup.backup_of(&path);
        assert_eq!(read(&backup), original);
        assert!(
            ran.stderr
                .contains(&format!("previous version saved as {}", backup.display())),
            "{}",
            ran.stderr
        );
        no_backup_beside(&path);
    }
}

/// Nothing but the configuration itself (and its directory's other files) beside `path`:
/// no `.bak` or other copy a `git add .` would pick up.
fn no_backup_beside(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    for entry in std::fs::read_dir(path.parent().unwrap()).unwrap().flatten() {
        let other = entry.file_name().to_string_lossy().into_owned();
        assert!(
            other == name || !other.starts_with(&name) && !other.starts_with(&format!(".{name}")),
            "copy of {name} left beside it: {other}"
        );
    }
}

#[test]
fn codex_install_next_to_existing_tables_keeps_every_other_byte() {
    let setup = Setup::new("beside-codex");
    let path = setup.path("codex");
    write(&path, EXISTING_TOML);
    let ran = setup.install("codex");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let installed = read(&path);
    assert_only_inserted(EXISTING_TOML, &installed);
    assert!(installed.contains(&format!(
        "[mcp_servers.codex-harness]\ncommand = \"{}\"\nargs = []\n",
        exe()
    )));
}

#[test]
fn second_install_changes_no_byte_and_keeps_the_mtime() {
    let setup = Setup::new("twice");
    for client in ["codex"].into_iter().chain(JSON_CLIENTS) {
        let path = setup.path(client);
        if client == "codex" {
            write(&path, EXISTING_TOML);
        } else {
            write(&path, &existing_config(client));
        }
    }
    assert_eq!(setup.run(&["install", "--clients", "all"]).code, 0);
    let snapshot = |client: &str| {
        let path = setup.path(client);
        let meta = std::fs::metadata(&path).unwrap();
        (read(&path), meta.modified().unwrap(), meta.ino())
    };
    use std::os::unix::fs::MetadataExt;
    let before: Vec<_> = ["codex"]
        .into_iter()
        .chain(JSON_CLIENTS)
        .map(snapshot)
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let ran = setup.run(&["install", "--clients", "all"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        ran.stderr.matches(": unchanged").count(),
        10,
        "{}",
        ran.stderr
    );
    let after: Vec<_> = ["codex"]
        .into_iter()
        .chain(JSON_CLIENTS)
        .map(snapshot)
        .collect();
    assert_eq!(before, after);
}

#[test]
fn uninstall_restores_the_original_file() {
    for client in ["codex"].into_iter().chain(JSON_CLIENTS) {
        let setup = Setup::new("undo");
        let path = setup.path(client);
        let original = if client == "codex" {
            EXISTING_TOML.to_string()
        } else {
            existing_config(client)
        };
        write(&path, &original);
        assert_eq!(setup.install(client).code, 0);
        assert_ne!(read(&path), original);
        let ran = setup.run(&["uninstall", "--clients", client]);
        assert_eq!(ran.code, 0, "{client}: {}", ran.stderr);
        assert_eq!(read(&path), original, "{client}");
    }
}

/// What uninstall leaves of a file the installer created: an empty servers object where
/// the client refuses a file without one (Claude Code: "mcpServers: expected record"), else
/// an empty object.
fn emptied(client: &str) -> &'static str {
    match client {
        "claude-code" | "cursor" | "cline" | "windsurf" | "roo" => "{\n  \"mcpServers\": {}\n}\n",
        "vscode" => "{\n  \"servers\": {}\n}\n",
        "opencode" | "kilo" | "gemini" => "{}\n",
        other => panic!("unknown client {other}"),
    }
}

#[test]
fn uninstall_of_a_fresh_install_leaves_a_file_each_client_accepts() {
    let setup = Setup::new("undo-fresh");
    assert_eq!(setup.run(&["install", "--clients", "all"]).code, 0);
    let ran = setup.run(&["uninstall", "--clients", "all"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(read(&setup.path("codex")), "");
    for client in JSON_CLIENTS {
        assert_eq!(read(&setup.path(client)), emptied(client), "{client}");
    }
    let again = setup.run(&["uninstall", "--clients", "all"]);
    assert_eq!(
        again.stderr.matches(": unchanged").count(),
        10,
        "{}",
        again.stderr
    );
}

#[test]
fn uninstall_without_a_config_creates_nothing() {
    let setup = Setup::new("undo-none");
    let ran = setup.run(&["uninstall", "--clients", "cursor,codex"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(!setup.project().join(".cursor").exists());
    assert!(!setup.codex_home().exists());
}

#[test]
fn uninstall_removes_only_our_entry_and_honours_name() {
    let setup = Setup::new("name");
    let path = setup.path("cursor");
    write(&path, &existing_config("cursor"));
    assert_eq!(
        setup
            .run(&["install", "--clients", "cursor", "--name", "h2"])
            .code,
        0
    );
    assert_eq!(setup.install("cursor").code, 0);
    let both = parse_jsonc(&read(&path));
    assert!(
        both["mcpServers"]["h2"].is_object() && both["mcpServers"]["codex-harness"].is_object()
    );
    assert_eq!(
        setup
            .run(&["uninstall", "--clients", "cursor", "--name", "h2"])
            .code,
        0
    );
    let left = parse_jsonc(&read(&path));
    assert!(left["mcpServers"]["h2"].is_null());
    assert!(left["mcpServers"]["codex-harness"].is_object());
    assert!(left["mcpServers"]["other"].is_object());
}

#[test]
fn malformed_config_is_reported_with_line_and_column_and_left_untouched() {
    for (client, text, position) in [
        (
            "cursor",
            "{\n  \"mcpServers\": {\n    \"a\": 1,,\n  }\n}\n",
            "line 3, column 12",
        ),
        ("kilo", "// c\n{ \"mcp\": [1, }\n", "line 2, column 14"),
        (
            "codex",
            "model = \"o3\"\n[mcp_servers\n",
            "line 2, column 13",
        ),
    ] {
        let setup = Setup::new("malformed");
        let path = setup.path(client);
        write(&path, text);
        let ran = setup.install(client);
        assert_eq!(ran.code, 1, "{client}: {}", ran.stderr);
        assert!(
            ran.stderr.contains(&format!("{client} (")),
            "{}",
            ran.stderr
        );
        assert!(ran.stderr.contains("failed: "), "{}", ran.stderr);
        assert!(ran.stderr.contains(position), "{client}: {}", ran.stderr);
        assert!(ran.stderr.contains("left untouched"), "{}", ran.stderr);
        assert_eq!(read(&path), text);
        assert!(
            !path.with_extension("json.bak").exists() && !path.with_extension("toml.bak").exists()
        );
        no_stray_files(path.parent().unwrap());
    }
}

#[test]
fn root_that_is_not_an_object_is_refused() {
    let setup = Setup::new("array-root");
    let path = setup.path("gemini");
    write(&path, "[1, 2]\n");
    let ran = setup.install("gemini");
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr.contains("config root must be a JSON object"),
        "{}",
        ran.stderr
    );
    assert_eq!(read(&path), "[1, 2]\n");
}

#[test]
fn symlinked_config_file_is_refused_and_its_target_untouched() {
    let setup = Setup::new("link-file");
    let target = setup.root.path.join("outside/real.json");
    write(&target, "{}\n");
    let link = setup.path("claude-code");
    symlink(&target, &link).unwrap();
    let ran = setup.install("claude");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("symlink"), "{}", ran.stderr);
    assert_eq!(read(&target), "{}\n");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn symlinked_parent_directory_is_refused_and_nothing_is_written_through_it() {
    let setup = Setup::new("link-dir");
    let outside = setup.root.path.join("outside");
    symlink(&outside, setup.project().join(".cursor")).unwrap();
    std::fs::create_dir_all(setup.home().join(".codeium")).unwrap();
    symlink(&outside, setup.home().join(".codeium/windsurf")).unwrap();
    for client in ["cursor", "windsurf"] {
        let ran = setup.install(client);
        assert_eq!(ran.code, 1, "{client}: {}", ran.stderr);
        assert!(ran.stderr.contains("is a symlink"), "{}", ran.stderr);
    }
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

/// Makes a directory immutable (`chattr +i`) for the guard's lifetime: even root cannot
/// create, rename or remove entries in it.
struct Immutable(PathBuf);

impl Immutable {
    fn new(dir: &Path) -> Option<Immutable> {
        let status = Command::new("chattr").arg("+i").arg(dir).status().ok()?;
        status.success().then(|| Immutable(dir.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn unwritable_directory_fails_cleanly_with_nothing_half_written() {
    let setup = Setup::new("readonly");
    let path = setup.path("cursor");
    let original = existing_config("cursor");
    write(&path, &original);
    let dir = path.parent().unwrap().to_path_buf();
    let guard = Immutable::new(&dir);
    if guard.is_none() {
        // Without chattr (or on a filesystem without the flag) fall back to a permission
        // check, which only binds an unprivileged user.
        let mut perms = std::fs::metadata(&dir).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
        std::fs::set_permissions(&dir, perms).unwrap();
        assert!(
            !rustix_is_root(),
            "chattr +i is unavailable and root ignores permissions: cannot test this here"
        );
    }
    let ran = setup.install("cursor");
    drop(guard);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("cursor (project)"), "{}", ran.stderr);
    assert!(ran.stderr.contains("failed: "), "{}", ran.stderr);
    assert!(ran.stderr.contains("left untouched"), "{}", ran.stderr);
    assert_eq!(read(&path), original);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["mcp.json"]);
}

fn rustix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[test]
fn one_failing_client_does_not_stop_the_others_and_exits_one() {
    let setup = Setup::new("partial");
    write(&setup.path("cursor"), "{ nope");
    let ran = setup.run(&["install", "--clients", "cursor,roo"]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("roo (project)"), "{}", ran.stderr);
    assert!(setup.path("roo").exists());
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let setup = Setup::new("dry");
    let cursor = setup.path("cursor");
    let original = existing_config("cursor");
    write(&cursor, &original);
    let ran = setup.run(&["install", "--clients", "codex,cursor,claude", "--dry-run"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let cursor_path = cursor.to_string_lossy();
    assert!(
        ran.stdout
            .contains(&format!("--- {cursor_path}\n+++ {cursor_path}\n@@ ")),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("+        \"codex-harness\": {"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains(&format!(
            "--- /dev/null\n+++ {}",
            setup.path("codex").display()
        )),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains(&format!("+command = \"{}\"", exe())),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stderr.contains("would write (dry run)"),
        "{}",
        ran.stderr
    );
    assert_eq!(read(&cursor), original);
    assert!(!setup.codex_home().exists());
    assert!(!setup.path("claude-code").exists());
    assert_eq!(
        std::fs::read_dir(cursor.parent().unwrap()).unwrap().count(),
        1
    );
}

#[test]
fn summary_reports_landlock_enforced() {
    let setup = Setup::new("landlock");
    let ran = setup.install("gemini");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stderr.contains("Landlock: enforced"), "{}", ran.stderr);
}

#[test]
fn scope_user_writes_user_files_without_project_and_skips_unsupported_clients_of_all() {
    let setup = Setup::new("scope-user");
    let ran = setup.run(&["install", "--clients", "all", "--scope", "user"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("claude-code: skipped: use `claude mcp add`"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("vscode: skipped:"), "{}", ran.stderr);
    let cursor = parse_jsonc(&read(&setup.home().join(".cursor/mcp.json")));
    assert_eq!(cursor["mcpServers"]["codex-harness"]["args"], json!([]));
    assert!(std::fs::read_dir(setup.project()).unwrap().next().is_none());
}

#[test]
fn explicitly_named_client_without_the_scope_fails() {
    let setup = Setup::new("scope-fail");
    let ran = setup.run(&["install", "--clients", "windsurf", "--scope", "project"]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("windsurf: failed: "), "{}", ran.stderr);
}

#[test]
fn project_flag_points_project_files_at_that_directory() {
    let setup = Setup::new("project-flag");
    let other = setup.root.path.join("outside/proj");
    std::fs::create_dir_all(&other).unwrap();
    let ran = setup.run(&[
        "install",
        "--clients",
        "gemini",
        "--project",
        other.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let value = parse_jsonc(&read(&other.join(".gemini/settings.json")));
    assert_eq!(
        value["mcpServers"]["codex-harness"]["args"],
        json!(["--project", other.to_string_lossy()])
    );
}

#[test]
fn usage_errors_exit_two_and_write_nothing() {
    let setup = Setup::new("usage");
    for args in [
        &["install", "--clients", "emacs"][..],
        &["install", "--scope", "galaxy"],
        &["uninstall", "--bogus"],
    ] {
        let ran = setup.run(args);
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.stderr);
    }
    assert!(std::fs::read_dir(setup.project()).unwrap().next().is_none());
    assert!(!setup.codex_home().exists());
}

#[test]
fn list_clients_prints_every_client_id() {
    let setup = Setup::new("list");
    let ran = setup.run(&["install", "--list-clients"]);
    assert_eq!(ran.code, 0);
    let ids: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(ids.first(), Some(&"codex"));
    assert_eq!(&ids[1..], &JSON_CLIENTS[..]);
}

/// Every directory and file beneath `dir`, with its permission bits.
fn modes_beneath(dir: &Path, out: &mut Vec<(PathBuf, u32)>) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        out.push((entry.path(), meta.permissions().mode() & 0o7777));
        if meta.is_dir() {
            modes_beneath(&entry.path(), out);
        }
    }
}

#[test]
fn under_umask_000_new_files_are_0600_new_directories_0700_and_existing_modes_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let setup = Setup::new("umask");
    // One existing file with its own mode; everything else (including CODEX_HOME itself and
    // every client's subdirectories) is created by the installer.
    let existing = setup.path("claude-code");
    write(&existing, &existing_config("claude-code"));
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o640)).unwrap();
    let output = Command::new("sh")
        .args(["-c", "umask 000; exec \"$0\" \"$@\""])
        .arg(BINARY)
        .args(["install", "--clients", "all"])
        .env("HOME", setup.home())
        .env("CODEX_HOME", setup.codex_home())
        .env_remove("CODEX_WORKDIR")
        .env_remove("XDG_STATE_HOME")
        .current_dir(setup.project())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let mut modes = Vec::new();
    modes_beneath(&setup.home(), &mut modes);
    modes_beneath(&setup.project(), &mut modes);
    let backup = setup.backup_of(&existing);
    let mut files = 0;
    for (path, mode) in &modes {
        let expected = if path.is_dir() {
            0o700
        } else if *path == existing || *path == backup {
            0o640
        } else {
            files += 1;
            0o600
        };
        assert_eq!(*mode, expected, "{}: {mode:o}", path.display());
        assert_eq!(mode & 0o002, 0, "world-writable: {}", path.display());
    }
    // Nine new configuration files, the replaced one and its backup.
    assert_eq!(files, 9, "{modes:?}");
    assert!(modes.iter().any(|(p, _)| *p == backup), "{modes:?}");
    assert!(
        modes.iter().any(|(p, _)| *p == setup.codex_home()),
        "{modes:?}"
    );
}

#[test]
fn codex_project_scope_writes_the_projects_codex_config_and_says_it_needs_trust() {
    let setup = Setup::new("codex-project");
    let ran = setup.run(&["install", "--clients", "codex", "--scope", "project"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let path = setup.project().join(".codex/config.toml");
    assert_eq!(
        read(&path),
        format!(
            "[mcp_servers.codex-harness]\ncommand = \"{}\"\nargs = [\"--project\", \"{}\"]\n",
            exe(),
            setup.project().display()
        )
    );
    assert!(
        ran.stderr
            .contains(&format!("codex (project) {}: written", path.display())),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("codex: next: Codex reads")
            && ran.stderr.contains("only once the project is trusted"),
        "{}",
        ran.stderr
    );
    assert!(!setup.codex_home().exists());
    let ran = setup.run(&["uninstall", "--clients", "codex", "--scope", "project"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(read(&path), "");
}

#[test]
fn user_scope_entry_passes_project_only_when_asked_and_the_summary_says_which() {
    let setup = Setup::new("user-pin");
    let ran = setup.run(&["install", "--clients", "cline,codex"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        ran.stderr
            .matches(": written; the entry passes no --project: the server serves the directory the client starts it in")
            .count(),
        2,
        "{}",
        ran.stderr
    );
    let other = setup.root.path.join("outside/proj");
    std::fs::create_dir_all(&other).unwrap();
    let other_text = other.to_string_lossy().into_owned();
    let ran = setup.run(&[
        "install",
        "--clients",
        "cline,codex,windsurf",
        "--project",
        &other_text,
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    for client in ["cline", "codex", "windsurf"] {
        assert!(
            ran.stderr.contains(&format!(
                "{client} (user) {}: written",
                setup.path(client).display()
            )),
            "{}",
            ran.stderr
        );
    }
    assert_eq!(
        ran.stderr
            .matches(&format!(
                "; the entry passes --project {other_text}, so every session of this client serves that project"
            ))
            .count(),
        3,
        "{}",
        ran.stderr
    );
    for client in ["cline", "windsurf"] {
        let value = parse_jsonc(&read(&setup.path(client)));
        assert_eq!(
            value["mcpServers"]["codex-harness"]["args"],
            json!(["--project", other_text]),
            "{client}"
        );
    }
    assert!(
        read(&setup.path("codex")).contains(&format!("args = [\"--project\", \"{other_text}\"]"))
    );
    assert!(std::fs::read_dir(&other).unwrap().next().is_none());
}

#[test]
fn install_prints_the_step_each_client_still_needs_before_it_starts_the_server() {
    let setup = Setup::new("next-steps");
    let ran = setup.run(&["install", "--clients", "claude,gemini,cursor,codex"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let project = setup.project().display().to_string();
    let next: Vec<&str> = ran
        .stderr
        .lines()
        .filter(|l| l.contains(": next: "))
        .collect();
    assert_eq!(next.len(), 2, "{}", ran.stderr);
    assert!(
        next[0].starts_with("codex-harness-mcp install: claude-code: next: ")
            && next[0].contains(&format!("run `claude` once in {project}"))
            && next[0].contains("\"enabledMcpjsonServers\""),
        "{}",
        next[0]
    );
    assert!(
        next[1].starts_with("codex-harness-mcp install: gemini: next: ")
            && next[1].contains("only in a trusted folder")
            && next[1].contains("trustedFolders.json"),
        "{}",
        next[1]
    );
    // Already configured: the step is still owed, so it is printed again; uninstall owes none.
    let again = setup.run(&["install", "--clients", "claude"]);
    assert!(
        again.stderr.contains("claude-code: next: "),
        "{}",
        again.stderr
    );
    let removed = setup.run(&["uninstall", "--clients", "claude,gemini"]);
    assert!(!removed.stderr.contains(": next: "), "{}", removed.stderr);
}

#[test]
fn backups_go_under_xdg_state_home_when_it_is_absolute() {
    let setup = Setup::new("xdg-state");
    let path = setup.path("claude-code");
    write(&path, &existing_config("claude-code"));
    let state = setup.root.path.join("outside/state");
    let output = Command::new(BINARY)
        .args(["install", "--clients", "claude"])
        .env("HOME", setup.home())
        .env("XDG_STATE_HOME", &state)
        .env_remove("CODEX_WORKDIR")
        .current_dir(setup.project())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let backup = state
        .join("codex-harness-mcp/backups")
        .join(path.strip_prefix("/").unwrap());
    assert_eq!(read(&backup), existing_config("claude-code"));
    assert!(
        stderr.contains(
            "Landlock: enforced, only the target directories and the backup directory are writable"
        ),
        "{stderr}"
    );
    assert!(!setup.home().join(".local").exists());
    no_backup_beside(&path);
}

#[test]
fn without_a_state_directory_an_existing_file_is_left_untouched() {
    let setup = Setup::new("no-state");
    let path = setup.path("cursor");
    let original = existing_config("cursor");
    write(&path, &original);
    let output = Command::new(BINARY)
        .args(["install", "--clients", "cursor,roo"])
        .env_remove("HOME")
        .env_remove("XDG_STATE_HOME")
        .env_remove("CODEX_WORKDIR")
        .current_dir(setup.project())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot save its previous version: no state directory for the backup"),
        "{stderr}"
    );
    assert_eq!(read(&path), original);
    // A new file needs no backup, so Roo's is still written.
    assert!(setup.path("roo").exists(), "{stderr}");
}

#[test]
fn symlinked_backup_directory_is_refused_and_the_file_left_untouched() {
    let setup = Setup::new("backup-link");
    let path = setup.path("cursor");
    let original = existing_config("cursor");
    write(&path, &original);
    let outside = setup.root.path.join("outside");
    std::fs::create_dir_all(setup.home().join(".local/state/codex-harness-mcp")).unwrap();
    symlink(
        &outside,
        setup.home().join(".local/state/codex-harness-mcp/backups"),
    )
    .unwrap();
    let ran = setup.install("cursor");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("is a symlink"), "{}", ran.stderr);
    assert_eq!(read(&path), original);
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

//! The installer (IN-1): what `install` leaves behind in a project besides the entries it
//! was asked to write.

use crate::ensure;
use crate::harness::{server_binary, Fixture, Outcome};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A token a user keeps in a client configuration (an `env` of another server).
const SECRET: &str = "sk-audit-in1-5f0c9d";

/// Every regular file beneath `dir`, symlinks not followed.
fn files_beneath(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if meta.is_dir() {
            files_beneath(&entry.path(), out);
        } else {
            out.push(entry.path());
        }
    }
}

/// IN-1 — hypothesis: installing over a project's existing client configurations leaves a
/// copy of each (a `.bak` beside it) inside the project tree, where one `git add .` commits
/// the tokens they hold.
pub fn in_1() -> Outcome {
    let fx = Fixture::new("in-1");
    let home = fx.other.join("home");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let config = format!(
        "{{\"mcpServers\": {{\"other\": {{\"command\": \"o\", \"env\": {{\"TOKEN\": \"{SECRET}\"}}}}}}}}\n"
    );
    let planted = [
        ".mcp.json",
        ".cursor/mcp.json",
        ".gemini/settings.json",
        ".roo/mcp.json",
    ];
    for rel in planted {
        let path = fx.project.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, &config).map_err(|e| e.to_string())?;
    }
    let output = Command::new(server_binary())
        .args(["install", "--clients", "claude,cursor,gemini,roo"])
        .env("HOME", &home)
        .env_remove("XDG_STATE_HOME")
        .env_remove("CODEX_WORKDIR")
        .current_dir(&fx.project)
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.code() == Some(0),
        "install exited {:?}: {stderr}",
        output.status
    );
    let mut files = Vec::new();
    files_beneath(&fx.project, &mut files);
    let expected: Vec<PathBuf> = planted.iter().map(|rel| fx.project.join(rel)).collect();
    for file in &files {
        ensure!(
            expected.contains(file),
            "{} left in the project: {stderr}",
            file.display()
        );
    }
    let backups = home.join(".local/state/codex-harness-mcp/backups");
    for original in &expected {
        let relative = original.strip_prefix("/").map_err(|e| e.to_string())?;
        let backup = backups.join(relative);
        let saved = std::fs::read_to_string(&backup)
            .map_err(|e| format!("{}: {e}: {stderr}", backup.display()))?;
        ensure!(
            saved == config,
            "{} is not the previous version",
            backup.display()
        );
        ensure!(
            stderr.contains(&format!("previous version saved as {}", backup.display())),
            "summary does not name {}: {stderr}",
            backup.display()
        );
    }
    Ok(format!(
        "{} configurations replaced, no copy left in the project; backups under ~/.local/state",
        expected.len()
    ))
}

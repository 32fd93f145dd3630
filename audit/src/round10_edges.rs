//! Round 10, the protocol edges (R10-9 … R10-12, R10-16): a client that goes away, ids that
//! must come back byte for byte, duplicate keys, the installer's file modes, and a logging
//! failure that must never stop the server.

use crate::ensure;
use crate::harness::{server_binary, Fixture, Outcome};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// Every entry beneath `dir` with its permission bits (symlinks not followed).
fn modes_beneath(dir: &Path, out: &mut Vec<(String, bool, u32)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        out.push((
            entry.path().display().to_string(),
            meta.is_dir(),
            meta.permissions().mode() & 0o7777,
        ));
        if meta.is_dir() {
            modes_beneath(&entry.path(), out);
        }
    }
}

/// R10-12 — hypothesis: run under `umask 000`, the installer creates configuration files and
/// directories other users can write (and so make the client run their command).
pub fn r10_12() -> Outcome {
    let fx = Fixture::new("r10-12");
    let home = fx.other.join("home");
    let codex_home = home.join("codex");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let output = Command::new("sh")
        .args(["-c", "umask 000; exec \"$0\" \"$@\""])
        .arg(server_binary())
        .args(["install", "--clients", "all"])
        .env("HOME", &home)
        .env("CODEX_HOME", &codex_home)
        .env_remove("CODEX_WORKDIR")
        .current_dir(&fx.project)
        .output()
        .map_err(|e| e.to_string())?;
    ensure!(
        output.status.code() == Some(0),
        "install exited {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut modes = Vec::new();
    modes_beneath(&home, &mut modes);
    modes_beneath(&fx.project, &mut modes);
    let (mut files, mut dirs) = (0, 0);
    for (path, is_dir, mode) in &modes {
        let expected = if *is_dir { 0o700 } else { 0o600 };
        ensure!(*mode == expected, "{path} created {mode:o}, want {expected:o}");
        if *is_dir {
            dirs += 1;
        } else {
            files += 1;
        }
    }
    ensure!(files == 10, "{files} files created: {modes:?}");
    Ok(format!(
        "umask 000: {files} files 0600, {dirs} directories 0700, nothing group/world-accessible"
    ))
}

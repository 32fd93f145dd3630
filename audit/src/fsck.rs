//! FSCK-1: `fsck --repair` over a tree planted to make it reach outside or hang: a symlink
//! to a victim file named like a record, an "orphaned temp file" that is a symlink to the
//! victim directory, a hard link to a victim file, and a FIFO named like a record. The check
//! must name each, finish promptly, follow nothing, remove nothing it did not create, and
//! leave every victim byte alone.

use crate::ensure;
use crate::harness::{server_binary, Fixture, Outcome, REPLY_TIMEOUT};
use std::os::unix::fs::symlink;
use std::process::{Command, Stdio};
use std::time::Instant;

pub fn fsck_1() -> Outcome {
    let mut fx = Fixture::new("fsck1");
    fx.plant("state.json", br#"{"version":5,"counters":{}}"#);
    let planted = [
        "contracts/stolen.json",
        "state.json.tmp.1.ab",
        "gates/linked.json",
        "evals/runs/pipe.json",
    ];
    std::fs::create_dir_all(fx.h("evals/runs")).map_err(|e| format!("mkdir: {e}"))?;
    std::fs::create_dir_all(fx.h("gates")).map_err(|e| format!("mkdir: {e}"))?;
    std::fs::create_dir_all(fx.h("contracts")).map_err(|e| format!("mkdir: {e}"))?;
    symlink(fx.victim.join("secret.json"), fx.h(planted[0])).map_err(|e| e.to_string())?;
    symlink(&fx.victim, fx.h(planted[1])).map_err(|e| e.to_string())?;
    std::fs::hard_link(fx.victim.join("secret.json"), fx.h(planted[2]))
        .map_err(|e| format!("hard link: {e}"))?;
    let made = Command::new("mkfifo")
        .arg(fx.h(planted[3]))
        .status()
        .map_err(|e| format!("mkfifo: {e}"))?;
    ensure!(made.success(), "mkfifo failed");
    fx.seal();

    let started = Instant::now();
    let mut child = Command::new(server_binary())
        .args(["fsck", "--repair", "--project"])
        .arg(&fx.project)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn fsck: {e}"))?;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > REPLY_TIMEOUT {
            let _ = child.kill();
            return Err("fsck hung on the planted tree".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let output = child
        .wait_with_output()
        .map_err(|e| format!("fsck output: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(status.code() == Some(1), "exit {status}, want 1:\n{stdout}");
    for rel in planted {
        ensure!(
            stdout.contains(&format!(".codex-harness/{rel}: ")),
            "{rel} not named:\n{stdout}"
        );
        ensure!(
            std::fs::symlink_metadata(fx.h(rel)).is_ok(),
            "--repair removed the planted {rel}"
        );
    }
    ensure!(
        !stdout.contains("SENTINEL"),
        "victim content leaked:\n{stdout}"
    );
    ensure!(fx.victim_intact(), "victim files changed");
    Ok(format!(
        "all {} planted entries named, none followed or removed, exit 1",
        planted.len()
    ))
}

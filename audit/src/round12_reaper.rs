//! Round 12: the temp-file reaper moved from before confinement to the first idle pause, so
//! the seccomp filter now lets `kill` through with signal 0 (the reaper's "does this writer
//! still exist?"). Replayed: that opening signals no one, and the reaper still tells a dead
//! writer's temp file from a live one's while confined.

use crate::confinement::selftest;
use crate::ensure;
use crate::harness::{Fixture, Outcome, Session};
use serde_json::json;

/// SIG-1 — hypothesis: with `kill` on the allow-list, a compromised server can signal the
/// client that started it (or any process of the user), or the probe answers wrongly under
/// confinement and the reaper deletes a live writer's temp file or keeps a dead one's.
pub fn sig_1() -> Outcome {
    let fx = Fixture::new("sig-1");
    let report = selftest(&fx)?;
    let signal = &report["attempts"]["signal_parent"];
    ensure!(
        signal["allowed"] == false && signal["error"] == "EPERM",
        "a real signal to the parent: {signal}"
    );
    let probe = &report["attempts"]["liveness_probe"];
    ensure!(
        probe["ownProcess"] == "exists" && probe["absentPid"] == "ESRCH",
        "the probe under confinement: {probe}"
    );
    // A fresh temp file of a live writer outside the server's domain (this process) is kept;
    // one of a pid no process can have is reaped, after the requests are served.
    let live = format!("state.json.tmp.{}.cafe", std::process::id());
    let dead = "policy.json.tmp.4294967294.beef";
    fx.plant(&live, b"partial");
    fx.plant(dead, b"partial");
    let mut s = Session::start(&fx);
    s.tool_ok(1, "harness_update_state", json!({"note": "reaper"}))?;
    s.finish()?;
    ensure!(
        fx.h(&live).exists(),
        "a live writer's temp file was deleted"
    );
    ensure!(!fx.h(dead).exists(), "a dead writer's temp file was kept");
    // The live writer is this replay: its temp file is its own to clean up.
    std::fs::remove_file(fx.h(&live)).map_err(|e| e.to_string())?;
    fx.verify()?;
    Ok("SIGCONT to the parent EPERM; probe ESRCH/exists; live temp kept, dead reaped".into())
}

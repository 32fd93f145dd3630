//! Drop-in replays: the behaviours that let this server replace the Node one on the same
//! project without opening a way around the confinement. DI-1: `project_path` is compared
//! by identity, so a symlink to the project is accepted, and a symlink anywhere else is
//! still refused. DI-2: a terminating signal in the middle of a session neither loses an
//! acknowledged knowledge item nor leaves a torn index for a Node server to read.

use crate::ensure;
use crate::harness::{tool_error, Fixture, Outcome, Session};
use serde_json::json;
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

/// DI-1 — hypothesis: once `project_path` is compared by device and inode rather than by
/// spelling, a symlink that leads elsewhere (planted in the project, or beside it, pointing
/// at the victim directory) passes as "the project", or the stat of the client's path makes
/// the server touch it. Replayed with both links and a link to the project itself.
pub fn di_1() -> Outcome {
    let mut fx = Fixture::new("di1");
    let into_victim = fx.project.join("looks-local");
    let beside = fx.other.join("to-victim");
    let alias = fx.other.join("alias-of-project");
    for (target, link) in [
        (&fx.victim, &into_victim),
        (&fx.victim, &beside),
        (&fx.project, &alias),
    ] {
        symlink(target, link).map_err(|e| format!("symlink: {e}"))?;
    }
    fx.seal();
    let mut s = Session::start(&fx);
    s.init(1);
    s.reply(1)?;
    for (n, link) in [&into_victim, &beside].into_iter().enumerate() {
        let id = 10 + n as i64;
        let reply = s.tool(
            id,
            "harness_record_knowledge",
            json!({"title": "planted", "summary": "must not land", "project_path": link}),
        )?;
        let text = tool_error(&reply).map_err(|e| format!("{}: {e}", link.display()))?;
        ensure!(
            text.contains("different project"),
            "{}: {text}",
            link.display()
        );
    }
    let reply = s.tool_ok(
        20,
        "harness_record_knowledge",
        json!({"title": "through the alias", "summary": "lands in P", "project_path": alias}),
    )?;
    let id = reply["item"]["id"]
        .as_str()
        .ok_or("no item id")?
        .to_string();
    s.finish()?;
    ensure!(fx.victim_intact(), "victim files changed");
    ensure!(
        !fx.victim.join(".codex-harness").exists(),
        "a harness appeared in the victim directory"
    );
    ensure!(
        fx.knowledge_index_ids()?.contains(&id),
        "the item recorded through the alias is not in P's index"
    );
    fx.verify()?;
    Ok("2 symlinks leading out refused; the alias of P served, writing only P".into())
}

/// DI-2 — hypothesis: a SIGTERM while requests are flowing kills the server between the
/// journal append and the fold (an acknowledged item never reaches index.json, the file a
/// Node server reads) or mid-write (a torn index.json, a temp file left behind). Replayed by
/// recording items, sending SIGTERM at once, and checking exit status 0, every acknowledged
/// item in index.json itself (not only in the journal) and G4-G6.
pub fn di_2() -> Outcome {
    let fx = Fixture::new("di2");
    let mut s = Session::start(&fx);
    s.init(1);
    s.reply(1)?;
    let mut ids = Vec::new();
    for n in 0..8 {
        let reply = s.tool_ok(
            10 + n,
            "harness_record_knowledge",
            json!({"title": format!("Acknowledged {n}"), "summary": "must reach index.json"}),
        )?;
        ids.push(
            reply["item"]["id"]
                .as_str()
                .ok_or("no item id")?
                .to_string(),
        );
    }
    let pid = rustix::process::Pid::from_raw(i32::try_from(s.pid()).map_err(|e| e.to_string())?)
        .ok_or("no pid")?;
    rustix::process::kill_process(pid, rustix::process::Signal::TERM)
        .map_err(|e| format!("SIGTERM: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = s.try_wait()? {
            break status.code();
        }
        ensure!(
            Instant::now() < deadline,
            "server still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    ensure!(status == Some(0), "exit after SIGTERM: {status:?}");
    let index = fx.json("knowledge/index.json")?;
    let indexed: Vec<&str> = index["items"]
        .as_array()
        .ok_or("index.json has no items")?
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| !indexed.contains(&id.as_str()))
        .collect();
    ensure!(
        missing.is_empty(),
        "not in index.json after SIGTERM: {missing:?}"
    );
    fx.verify()?;
    Ok(format!(
        "SIGTERM: exit 0, all {} acknowledged items in index.json",
        ids.len()
    ))
}

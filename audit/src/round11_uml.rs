//! Round 11: what a real power cut left behind (tests/uml/powercut.py kills a user-mode-linux
//! guest running the server on an ext4 image), replayed here on the host's file system.

use crate::ensure;
use crate::harness::Outcome;
use crate::harness::{
    backdate, boot, bootstrap_run, create_contract, resource_json, Fixture, Session,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// UML-1 — hypothesis: a power cut that persisted a lock file's name but not its content (lock
/// files are placed without an fsync) leaves an empty `.state.lock` that the next server
/// honours as a live Node lock for 30 s, so every write after a quick reboot times out.
pub fn uml_1() -> Outcome {
    let fx = Fixture::new("uml-1");
    bootstrap_run(&fx)?;
    fx.plant(".state.lock", b"");
    backdate(&fx.h(".state.lock"), 3);
    let mut s = Session::start(&fx);
    let started = Instant::now();
    s.tool_ok(
        1,
        "harness_update_state",
        json!({"note": "after the power cut"}),
    )?;
    let took = started.elapsed();
    s.finish()?;
    ensure!(
        took < Duration::from_secs(3),
        "the empty lock held the write for {took:?}"
    );
    ensure!(
        !fx.h(".state.lock").exists(),
        "the empty lock file was left"
    );
    ensure!(
        fx.json("state.json")?
            .to_string()
            .contains("after the power cut"),
        "the write was lost"
    );
    fx.verify()?;
    Ok(format!(
        "3 s-old empty lock reclaimed in {} ms",
        took.as_millis()
    ))
}

/// UML-2 — hypothesis: gate ids are `gate-<date>-<random>`, so a day's gate files are in
/// random name order; a listing that takes the last names hides the newest gate from
/// harness://gates/recent, and the governance audit then reports a passed contract's
/// completion gate as missing.
pub fn uml_2() -> Outcome {
    let fx = Fixture::new("uml-2");
    let mut s = boot(&fx)?;
    let other = create_contract(&mut s, 3, json!({"title": "Another contract"}))?;
    let first = s.tool_ok(4, "harness_eval_gate", json!({}))?;
    let first_id = first["gate"]["id"].as_str().unwrap_or_default().to_string();
    ensure!(first_id.starts_with("gate-"), "no gate id: {first}");
    let day = &first_id["gate-".len()..first_id.len() - "-000000000000".len()];
    let template: Value = fx.json(&format!("gates/{first_id}.json"))?;
    for n in 0..20 {
        let mut older = template.clone();
        let id = format!("gate-{day}-ffffffffff{n:02}");
        older["id"] = json!(id);
        older["contractId"] = json!(other);
        older["ts"] = json!(format!("{day}T00:00:{n:02}.000Z"));
        fx.plant(
            &format!("gates/{id}.json"),
            &serde_json::to_vec(&older).map_err(|e| e.to_string())?,
        );
    }
    let contract = create_contract(&mut s, 5, json!({"title": "Passed contract"}))?;
    let gate = s.tool_ok(6, "harness_eval_gate", json!({"contract_id": contract}))?;
    let newest = gate["gate"]["id"].as_str().unwrap_or_default().to_string();
    ensure!(
        gate["gate"]["verdict"] == "pass",
        "the gate did not pass: {gate}"
    );
    let recent = resource_json(&s.read(7, "harness://gates/recent")?)?;
    let listed: Vec<&str> = recent["recentGates"]
        .as_array()
        .map(|gates| gates.iter().filter_map(|g| g["id"].as_str()).collect())
        .unwrap_or_default();
    let audit = s.tool_ok(
        8,
        "harness_audit_governance",
        json!({"contract_id": contract}),
    )?;
    s.finish()?;
    ensure!(
        listed.last() == Some(&newest.as_str()),
        "the newest gate {newest} is not last in {listed:?}"
    );
    let findings = audit.to_string();
    ensure!(
        findings.contains("completion_gate_passed")
            && !findings.contains("completion_gate_missing"),
        "the audit missed the passing gate: {audit}"
    );
    fx.verify()?;
    Ok(format!(
        "newest of {} gates listed last; audit sees it",
        listed.len()
    ))
}

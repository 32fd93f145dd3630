//! Round 12: record families far past their everyday size, planted in the original's formats.

use crate::ensure;
use crate::harness::Outcome;
use crate::harness::{boot, resource_json, Fixture};
use serde_json::json;

/// Peak memory the recent views may reach on the planted day (the day itself is ~60 MB).
const PEAK_KIB: u64 = 48 * 1024;

/// FAM-1 — hypothesis: a trace day file just under the 64 MiB read bound (planted, or a busy
/// day) makes every view of the recent traces read and parse the whole day, so three small
/// calls hold hundreds of megabytes; the server should read the day from its end.
pub fn fam_1() -> Outcome {
    let fx = Fixture::new("fam-1");
    let mut s = boot(&fx)?;
    let first = s.tool_ok(
        3,
        "harness_record_trace",
        json!({"kind": "attempt", "summary": "first trace", "raw": "x"}),
    )?;
    let day = first["entry"]["ts"].as_str().unwrap_or_default();
    ensure!(day.len() >= 10, "no trace time: {first}");
    let day = day[..10].to_string();
    let raw = "r".repeat(450);
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 60 * 1024 * 1024 {
        let trace = json!({"id": format!("trace-{day}-{n:08x}"), "ts": format!("{day}T00:00:00.000Z"),
            "contractId": null, "kind": "attempt", "summary": format!("planted {n}"), "raw": raw,
            "evidencePaths": [], "followUp": null});
        text.push_str(&trace.to_string());
        text.push('\n');
        n += 1;
    }
    fx.plant(&format!("traces/{day}.jsonl"), text.as_bytes());
    drop(text);
    let listed = s.tool_ok(4, "harness_list", json!({"max_traces": 2}))?;
    s.tool_ok(5, "harness_audit_governance", json!({}))?;
    let recent = resource_json(&s.read(6, "harness://traces/recent")?)?;
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid()))
        .map_err(|e| format!("read the server's status: {e}"))?;
    let peak: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or("no VmHWM in the server's status")?;
    s.finish()?;
    let last = format!("trace-{day}-{:08x}", n - 1);
    ensure!(
        listed["recentTraces"][1]["id"] == last.as_str(),
        "harness_list does not end with the day's last trace {last}"
    );
    ensure!(
        recent["recentTraces"][7]["id"] == last.as_str(),
        "traces/recent does not end with {last}"
    );
    ensure!(
        peak < PEAK_KIB,
        "peak RSS {peak} KiB for three recent views of a {n}-trace day"
    );
    fx.verify()?;
    Ok(format!("{n} planted traces; peak RSS {} MiB", peak / 1024))
}

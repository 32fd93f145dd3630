//! The record families that grow with use (trace days, contracts, gates, eval records) stay
//! bounded: a recent view reads the end of a day file, not the day; the newest-first lists
//! open only the newest days' records; the full listings are paged. Each test drives the
//! release binary over pipes on planted Node-format files.
#![allow(clippy::disallowed_methods)] // Fixtures are planted with std::fs.

mod common;

use common::{Server, TempProject};
use serde_json::{json, Value};

fn today() -> String {
    let reply = {
        let project = TempProject::new("fam-date");
        let mut server = Server::start(&project.path);
        server.call_ok("harness_bootstrap", json!({}));
        server.call_ok(
            "harness_record_trace",
            json!({"kind": "attempt", "summary": "date", "raw": "date"}),
        )
    };
    let text = reply["entry"]["ts"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no trace ts in {reply}"));
    text[..10].to_string()
}

fn peak_rss_kib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .expect("read the server's status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

fn resource(server: &mut Server, params: Value) -> Value {
    let reply = server.request("resources/read", params);
    let text = reply["result"]["contents"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {reply}"));
    serde_json::from_str(text).expect("JSON resource")
}

/// A day of 120,000 traces (about 48 MB, under the read bound) costs the recent views the
/// lines they show: the list, the audit and `traces/recent` keep the server under 40 MiB,
/// where reading and parsing the whole day took several times that.
#[test]
fn recent_traces_read_a_large_day_from_its_end() {
    let project = TempProject::new("fam-traces");
    let mut server = Server::start(&project.path);
    server.call_ok("harness_bootstrap", json!({}));
    drop(server);
    let date = today();
    let padding = "p".repeat(300);
    let mut day = String::new();
    for n in 0..120_000 {
        let trace = json!({"id": format!("trace-{date}-{n:08x}"), "ts": format!("{date}T00:00:00.000Z"),
            "contractId": null, "kind": "attempt", "summary": format!("step {n}"), "raw": padding,
            "evidencePaths": [], "followUp": null});
        day.push_str(&trace.to_string());
        day.push('\n');
    }
    day.push_str("{\"unacknowledged\": ");
    std::fs::write(project.harness().join(format!("traces/{date}.jsonl")), day).unwrap();

    let mut server = Server::start(&project.path);
    let listed = server.call_ok("harness_list", json!({"max_traces": 3}));
    let ids: Vec<&str> = listed["recentTraces"]
        .as_array()
        .expect("recentTraces")
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    let last = |n: usize| format!("trace-{date}-{n:08x}");
    assert_eq!(ids, [last(119_997), last(119_998), last(119_999)]);
    let audit = server.call_ok("harness_audit_governance", json!({}));
    assert_eq!(audit["counts"]["traces"], 20, "{audit}");
    let recent = resource(&mut server, json!({"uri": "harness://traces/recent"}));
    assert_eq!(recent["recentTraces"].as_array().unwrap().len(), 8);
    assert_eq!(recent["recentTraces"][7]["id"], last(119_999).as_str());
    let peak = peak_rss_kib(&server);
    assert!(
        peak < 40 * 1024,
        "peak RSS {peak} KiB for three recent views"
    );
}

/// The newest-first lists open the records of the newest days only: a broken record named
/// in 2020 is never read (so never reported), while the same record named today is.
#[test]
fn newest_first_lists_open_only_the_newest_days() {
    let project = TempProject::new("fam-newest");
    let log = project.path.join("stderr.log");
    let mut server = Server::start(&project.path);
    server.call_ok("harness_bootstrap", json!({}));
    for name in ["first", "second", "third"] {
        server.call_ok("harness_record_harness_profile", json!({"name": name}));
    }
    server.call_ok(
        "harness_create_contract",
        json!({"title": "Gated", "goal": "Have gates"}),
    );
    for _ in 0..2 {
        server.call_ok("harness_eval_gate", json!({"verdict": "pass"}));
    }
    drop(server);
    let date = today();
    let harness = project.harness();
    for rel in [
        "harness-profiles/profile-2020-01-01-old-000000000000.json".to_string(),
        "gates/gate-2020-01-01-000000000000.json".to_string(),
        format!("evals/runs/eval-run-{date}-0000000000.json"),
    ] {
        std::fs::write(harness.join(rel), "{ broken").unwrap();
    }

    let mut server = Server::start_logging(&project.path, &log);
    let profiles = server.call_ok("harness_list_harness_profiles", json!({"limit": 2}));
    let names: Vec<String> = profiles["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| common::inside_block(&p["name"]))
        .collect();
    assert_eq!(names, ["third", "second"], "{profiles}");
    let gates = resource(
        &mut server,
        json!({"uri": "harness://gates/recent", "max_gates": 1}),
    );
    assert_eq!(gates["recentGates"].as_array().unwrap().len(), 1, "{gates}");
    assert!(gates.get("skipped").is_none(), "{gates}");
    // The control: a broken record of today is opened, and reported.
    server.call_ok("harness_list", json!({}));
    let runs = resource(&mut server, json!({"uri": "harness://evals/runs"}));
    assert_eq!(runs["runs"], json!([]), "{runs}");
    assert_eq!(server.finish(), 0);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(
        stderr.contains(&format!(
            "skipped evals/runs/eval-run-{date}-0000000000.json"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("2020-01-01"),
        "an old record was opened:\n{stderr}"
    );
}

/// `harness_list` shows the newest 200 contracts and counts the rest; `harness://contracts`
/// and the eval lists page by `offset` and `page_size`, with `nextOffset` while more remain.
#[test]
fn full_listings_are_bounded_and_paged() {
    let project = TempProject::new("fam-pages");
    let mut server = Server::start(&project.path);
    server.call_ok("harness_bootstrap", json!({}));
    drop(server);
    let harness = project.harness();
    for n in 0..250 {
        let id = format!("2026-01-{:02}-contract-{n:03}-{n:012x}", 1 + n / 10);
        let contract = json!({"id": id, "title": format!("Contract {n}"), "goal": "g",
            "createdAt": "2026-01-01T00:00:00.000Z", "status": "active"});
        std::fs::write(
            harness.join(format!("contracts/{id}.json")),
            contract.to_string(),
        )
        .unwrap();
    }
    for n in 0..3 {
        let id = format!("eval-run-2026-01-01-{n:010x}");
        std::fs::write(
            harness.join(format!("evals/runs/{id}.json")),
            json!({"id": id, "ts": "2026-01-01T00:00:00.000Z", "evalCaseId": "c"}).to_string(),
        )
        .unwrap();
    }

    let mut server = Server::start(&project.path);
    let listed = server.call_ok("harness_list", json!({}));
    let contracts = listed["contracts"].as_array().unwrap();
    assert_eq!(contracts.len(), 200);
    assert_eq!(
        contracts[0]["id"],
        format!("2026-01-06-contract-050-{:012x}", 50)
    );
    assert_eq!(listed["contractsOmitted"], 50);

    let first = resource(&mut server, json!({"uri": "harness://contracts"}));
    assert_eq!(first["contracts"].as_array().unwrap().len(), 200);
    assert_eq!(first["nextOffset"], 200);
    let rest = resource(
        &mut server,
        json!({"uri": "harness://contracts", "offset": 200}),
    );
    assert_eq!(rest["contracts"].as_array().unwrap().len(), 50);
    assert_eq!(
        rest["contracts"][49]["id"],
        format!("2026-01-25-contract-249-{:012x}", 249)
    );
    assert!(rest.get("nextOffset").is_none(), "{rest}");

    let runs = resource(
        &mut server,
        json!({"uri": "harness://evals/runs", "page_size": 2}),
    );
    assert_eq!(runs["runs"].as_array().unwrap().len(), 2);
    assert_eq!(runs["nextOffset"], 2);
}

/// A kept listing never hides a record: one written by this server or planted by another
/// process after the directory settled is listed on the next call.
#[test]
fn a_kept_listing_follows_new_records() {
    let project = TempProject::new("fam-cache");
    let mut server = Server::start(&project.path);
    server.call_ok("harness_bootstrap", json!({}));
    server.call_ok("harness_record_harness_profile", json!({"name": "one"}));
    // Past the settling time, so the next listing is kept.
    std::thread::sleep(std::time::Duration::from_millis(3_500));
    let count = |server: &mut Server| {
        let listed = server.call_ok("harness_list_harness_profiles", json!({}));
        listed["profiles"].as_array().unwrap().len()
    };
    assert_eq!(count(&mut server), 1);
    assert_eq!(count(&mut server), 1);
    server.call_ok("harness_record_harness_profile", json!({"name": "two"}));
    assert_eq!(count(&mut server), 2);
    let date = today();
    let id = format!("profile-{date}-planted-000000000000");
    std::fs::write(
        project
            .harness()
            .join(format!("harness-profiles/{id}.json")),
        json!({"id": id, "ts": format!("{date}T00:00:00.000Z"), "name": "planted"}).to_string(),
    )
    .unwrap();
    assert_eq!(count(&mut server), 3);
}

/// The natural-language spec describes the active contract and the newest eval records
/// without opening the others: with five newer ones of each family, broken records named in
/// 2020 are never read.
#[test]
fn the_spec_opens_only_what_it_shows() {
    let project = TempProject::new("fam-spec");
    let log = project.path.join("stderr.log");
    let mut server = Server::start(&project.path);
    server.call_ok("harness_bootstrap", json!({}));
    server.call_ok(
        "harness_create_contract",
        json!({"title": "Shown contract", "goal": "Be described"}),
    );
    let proposal = server.call_ok(
        "harness_record_harness_proposal",
        json!({"title": "A proposal", "hypothesis": "It helps", "proposed_change": "Change it"}),
    );
    let proposal = proposal["proposal"]["id"]
        .as_str()
        .expect("proposal id")
        .to_string();
    for n in 0..5 {
        server.call_ok(
            "harness_record_harness_profile",
            json!({"name": format!("shown {n}")}),
        );
        server.call_ok(
            "harness_record_promotion_decision",
            json!({"proposal_id": proposal, "decision": "hold", "rationale": "wait"}),
        );
    }
    drop(server);
    let harness = project.harness();
    for rel in [
        "contracts/2020-01-01-old-000000000000.json",
        "harness-profiles/profile-2020-01-01-old-000000000000.json",
        "promotion-decisions/promotion-decision-2020-01-01-0000000000.json",
    ] {
        std::fs::write(harness.join(rel), "{ broken").unwrap();
    }
    let mut server = Server::start_logging(&project.path, &log);
    let spec = server.read_resource("harness://harness/spec");
    assert!(spec.contains("Shown contract"), "{spec}");
    assert!(spec.contains("shown 4"), "{spec}");
    assert_eq!(server.finish(), 0);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(
        !stderr.contains("2020-01-01"),
        "an old record was opened:\n{stderr}"
    );
}

/// The observability report counts every eval run by verdict without holding them: 2,000
/// runs of 40 KB each (80 MB) keep the server under 48 MiB, where holding them all took
/// several times that.
#[test]
fn the_observability_report_counts_runs_without_holding_them() {
    let project = TempProject::new("fam-observe");
    let mut server = Server::start(&project.path);
    server.call_ok("harness_bootstrap", json!({}));
    drop(server);
    let notes = "n".repeat(40_000);
    for n in 0..2_000 {
        let id = format!("eval-run-2026-01-01-{n:010x}");
        let verdict = if n % 4 == 0 { "fail" } else { "pass" };
        let run = json!({"id": id, "ts": format!("2026-01-01T00:{:02}:{:02}.000Z", n / 60 % 60, n % 60),
            "evalCaseId": "eval-case-x", "verdict": verdict, "notes": notes});
        std::fs::write(
            project.harness().join(format!("evals/runs/{id}.json")),
            run.to_string(),
        )
        .unwrap();
    }
    let mut server = Server::start(&project.path);
    let report = server.read_resource("harness://observability/report");
    assert!(
        report.contains("pass</untrusted-data>: 1500") || report.contains("pass: 1500"),
        "{report}"
    );
    assert!(
        report.contains(&format!("eval-run-2026-01-01-{:010x}", 1_999)),
        "{report}"
    );
    let peak = peak_rss_kib(&server);
    assert!(peak < 48 * 1024, "peak RSS {peak} KiB for the report");
}

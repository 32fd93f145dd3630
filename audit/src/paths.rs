//! Path traversal and scope: ids, URIs, output paths and `project_path` (PT-*, SC-1, R2-1,
//! R2-3, R6-3, X-4, X-7).

use crate::ensure;
use crate::harness::{
    boot, create_contract, leaks_sentinel, ok_payload, percent_encode, rpc_error, tool_error,
    trace_args, Fixture, Outcome,
};
use serde_json::json;

const NOT_FOUND_CODES: [i64; 3] = [-32602, -32603, -32002];

const TRAVERSAL_IDS: [&str; 6] = [
    "../../etc/passwd",
    "..\\..\\windows\\system32\\config",
    "/etc/passwd",
    "contract/../../escape",
    "..",
    "abc/../def",
];

/// PT-1 — hypothesis: a percent-encoded separator in `harness://contract/<id>` survives URL
/// parsing, is decoded afterwards and walks out of `H/contracts` to any readable `.json`.
pub fn pt_1() -> Outcome {
    let fx = Fixture::new("pt1");
    let mut s = boot(&fx)?;
    let id = create_contract(&mut s, 3, json!({}))?;
    let uris = [
        "harness://contract/..%2F..%2F..%2Fetc%2Fhostname".to_string(),
        "harness://contract/..%2F..%2Fpasswd".into(),
        "harness://contract/%2Fetc%2Fpasswd".into(),
        "harness://contract/..%5C..%5Cwindows".into(),
        "harness://contract/foo%2F..%2Fbar".into(),
        "harness://contract/%252e%252e%252fsecret".into(),
        format!("harness://contract/{}", percent_encode("../../../V/secret")),
    ];
    for (n, uri) in uris.iter().enumerate() {
        let reply = s.read(10 + n as i64, uri)?;
        rpc_error(&reply, &NOT_FOUND_CODES).map_err(|e| format!("{uri}: {e}"))?;
        ensure!(
            !leaks_sentinel(&reply.to_string()),
            "{uri} leaked the sentinel"
        );
    }
    let reply = s.read(30, &format!("harness://contract/{}", percent_encode(&id)))?;
    ensure!(
        reply["result"]["contents"][0]["mimeType"] == "text/markdown",
        "legitimate contract URI failed: {reply}"
    );
    s.finish()?;
    fx.verify()?;
    Ok(format!(
        "{} traversal URIs refused, legitimate URI served",
        uris.len()
    ))
}

/// PT-2 — hypothesis: a traversal `contract_id` (argument or stored active contract) makes the
/// contract loader read an outside `.json` and the gate persist a record for it.
pub fn pt_2() -> Outcome {
    let fx = Fixture::new("pt2");
    let mut s = boot(&fx)?;
    let mut ids: Vec<String> = TRAVERSAL_IDS.iter().map(|s| s.to_string()).collect();
    ids.push("../../../V/secret".into());
    let mut n = 100;
    for id in &ids {
        n += 1;
        let reply = s.tool(
            n,
            "harness_eval_gate",
            json!({"contract_id": id, "verdict": "pass"}),
        )?;
        let text = tool_error(&reply).map_err(|e| format!("eval_gate {id}: {e}"))?;
        ensure!(
            text.contains("No active contract"),
            "eval_gate {id}: {text}"
        );
        n += 1;
        let next = s.tool_ok(n, "harness_next_step", json!({"contract_id": id}))?;
        ensure!(
            next["recommendation"]
                .as_str()
                .is_some_and(|r| r.contains("Create a small execution contract")),
            "next_step {id}: {next}"
        );
        n += 1;
        let audit = s.tool_ok(n, "harness_audit_governance", json!({"contract_id": id}))?;
        ensure!(audit["status"] == "block", "audit {id}: {audit}");
        let text = audit.to_string();
        ensure!(
            text.contains("missing_contract"),
            "audit {id} lacks missing_contract: {audit}"
        );
        ensure!(!leaks_sentinel(&text), "audit leaked the sentinel");
    }
    s.tool_ok(
        200,
        "harness_update_state",
        json!({"active_contract_id": "../../../V/secret"}),
    )?;
    let next = s.tool_ok(201, "harness_next_step", json!({}))?;
    ensure!(
        !leaks_sentinel(&next.to_string()),
        "stored traversal id leaked the sentinel"
    );
    let gate = s.tool(202, "harness_eval_gate", json!({}))?;
    tool_error(&gate).map_err(|e| format!("gate with stored traversal id: {e}"))?;
    let legit = create_contract(&mut s, 203, json!({}))?;
    s.tool_ok(204, "harness_eval_gate", json!({"contract_id": legit}))?;
    s.finish()?;
    let gates = fx
        .list("gates")
        .iter()
        .filter(|n| n.ends_with(".json"))
        .count();
    ensure!(
        gates == 1,
        "expected exactly the legitimate gate record, found {gates}"
    );
    fx.verify()?;
    Ok(format!(
        "{} traversal ids treated as no contract by gate/next_step/audit",
        ids.len()
    ))
}

/// PT-3 — hypothesis: an unvalidated `parent_contract_id` is persisted and later used as a
/// filename component.
pub fn pt_3() -> Outcome {
    let fx = Fixture::new("pt3");
    let mut s = boot(&fx)?;
    let reply = s.tool(
        3,
        "harness_create_contract",
        json!({"title": "Child", "goal": "Child goal", "parent_contract_id": "../etc/passwd"}),
    )?;
    let text = tool_error(&reply)?;
    ensure!(
        text.contains("parent_contract_id must be a safe stored contract id"),
        "message: {text}"
    );
    ensure!(
        fx.list("contracts").is_empty(),
        "files written: {:?}",
        fx.list("contracts")
    );
    let counters = fx.json("state.json")?["counters"]["contracts"].clone();
    ensure!(counters == json!(0), "contracts counter moved: {counters}");
    let parent = create_contract(&mut s, 4, json!({}))?;
    let child = s.tool_ok(
        5,
        "harness_create_contract",
        json!({"title": "Child", "goal": "Child goal", "parent_contract_id": parent}),
    )?;
    ensure!(
        child["contract"]["parentContractId"] == json!(parent),
        "parent not kept: {child}"
    );
    let ghost = s.tool_ok(6, "harness_create_contract", json!({"title": "Ghost", "goal": "Ghost goal", "parent_contract_id": "2026-01-01-nonexistent-abcdef"}))?;
    ensure!(
        ghost["contract"]["parentContractId"] == "2026-01-01-nonexistent-abcdef",
        "{ghost}"
    );
    s.finish()?;
    fx.verify()?;
    Ok("traversal parent refused with nothing written; valid and narrative parents kept".into())
}

/// PT-4 — hypothesis: the eval, profile, proposal and decision loaders accept traversal ids
/// and read outside JSON.
pub fn pt_4() -> Outcome {
    let fx = Fixture::new("pt4");
    let mut s = boot(&fx)?;
    let bad = "../../../V/secret";
    let calls = [
        (
            "harness_record_eval_run",
            json!({"eval_case_id": bad, "verdict": "pass"}),
        ),
        (
            "harness_record_eval_run",
            json!({"eval_case_id": "../../state", "verdict": "pass"}),
        ),
        (
            "harness_compare_eval_runs",
            json!({"baseline_run_id": bad, "candidate_run_id": bad}),
        ),
        (
            "harness_record_harness_proposal",
            json!({"title": "Proposal", "proposed_change": "Change it", "target_profile_id": bad}),
        ),
        (
            "harness_record_promotion_decision",
            json!({"proposal_id": bad, "decision": "promote", "rationale": "Because"}),
        ),
    ];
    for (n, (tool, args)) in calls.iter().enumerate() {
        let reply = s.tool(10 + n as i64, tool, args.clone())?;
        tool_error(&reply).map_err(|e| format!("{tool}: {e}"))?;
        ensure!(
            !leaks_sentinel(&reply.to_string()),
            "{tool} leaked the sentinel"
        );
    }
    let kinds = [
        "eval-case",
        "eval-run",
        "harness-profile",
        "harness-proposal",
        "promotion-decision",
    ];
    for (n, kind) in kinds.iter().enumerate() {
        for (m, target) in [bad, "../../state", "..%2F..%2Fstate"].iter().enumerate() {
            let uri = format!("harness://{kind}/{}", percent_encode(target));
            let reply = s.read(100 + (n * 10 + m) as i64, &uri)?;
            rpc_error(&reply, &NOT_FOUND_CODES).map_err(|e| format!("{uri}: {e}"))?;
            ensure!(
                !leaks_sentinel(&reply.to_string()),
                "{uri} leaked the sentinel"
            );
        }
    }
    s.finish()?;
    fx.verify()?;
    Ok("5 tool ids and 15 record URIs refused".into())
}

/// SC-1 — hypothesis: the gate tests existence of absolute or `..` output paths, an oracle for
/// any file and a way to pass on someone else's artifacts.
pub fn sc_1() -> Outcome {
    let mut fx = Fixture::new("sc1");
    std::fs::create_dir_all(fx.project.join("build")).map_err(|e| e.to_string())?;
    std::fs::write(fx.project.join("build/result.txt"), "ok").map_err(|e| e.to_string())?;
    fx.seal();
    let outside = fx.victim.join("secret.txt").display().to_string();
    let mut s = boot(&fx)?;
    let paths = json!([
        "build/result.txt",
        outside,
        "../../etc/hostname",
        "/etc/hostname"
    ]);
    create_contract(
        &mut s,
        3,
        json!({"output_paths": paths, "completion_conditions": ["done"]}),
    )?;
    let gate = s.tool_ok(
        4,
        "harness_eval_gate",
        json!({"checked_conditions": ["done"]}),
    )?;
    ensure!(
        gate["gate"]["verdict"] == "unknown",
        "verdict with out-of-scope outputs: {}",
        gate["gate"]
    );
    s.finish()?;
    let record_name = fx
        .list("gates")
        .into_iter()
        .find(|n| n.ends_with(".json"))
        .ok_or("no gate record")?;
    let record = fx.json(&format!("gates/{record_name}"))?;
    let checks = record["outputChecks"].as_array().ok_or("no outputChecks")?;
    ensure!(checks.len() == 4, "outputChecks: {checks:?}");
    ensure!(
        checks[0]["exists"] == true,
        "in-scope file not found: {}",
        checks[0]
    );
    for check in &checks[1..] {
        ensure!(
            check["exists"] == false && check["outOfScope"] == true,
            "outside path probed: {check}"
        );
    }
    fx.verify()?;
    Ok("in-scope exists, 3 outside paths exists=false outOfScope=true, verdict unknown".into())
}

/// R2-1 — hypothesis: `next_step` and `audit_governance` still resolve outside output paths.
pub fn r2_1() -> Outcome {
    let fx = Fixture::new("r21");
    let outside = fx.victim.join("secret.txt").display().to_string();
    let mut s = boot(&fx)?;
    let id = create_contract(
        &mut s,
        3,
        json!({"output_paths": ["build/result.txt", outside, "../../etc/hostname"]}),
    )?;
    let next = s.tool_ok(4, "harness_next_step", json!({"contract_id": id}))?;
    ensure!(
        next["recommendation"]
            == "Produce the missing contract artifacts before declaring progress.",
        "{}",
        next["recommendation"]
    );
    let missing = next["missingOutputs"]
        .as_array()
        .ok_or("no missingOutputs")?;
    ensure!(missing.len() == 3, "missingOutputs: {missing:?}");
    let outside_entries = missing
        .iter()
        .filter(|m| m["outOfScope"] == true && m["exists"] == false)
        .count();
    ensure!(
        outside_entries == 2,
        "outside entries not flagged: {missing:?}"
    );
    let audit = s.tool_ok(5, "harness_audit_governance", json!({"contract_id": id}))?;
    let findings = audit["findings"]
        .as_array()
        .ok_or_else(|| format!("no findings: {audit}"))?;
    let finding = findings
        .iter()
        .find(|f| f["id"] == "missing_required_outputs")
        .ok_or("no missing_required_outputs finding")?;
    ensure!(finding["level"] == "block", "{finding}");
    ensure!(
        finding.to_string().contains("secret.txt"),
        "outside path not reported: {finding}"
    );
    s.finish()?;
    fx.verify()?;
    Ok("outside outputs reported missing+outOfScope by next_step and audit".into())
}

/// The R2-3 traversal corpus.
fn traversal_corpus() -> Vec<String> {
    let mut corpus: Vec<String> = [
        "..",
        ".",
        "",
        "../x",
        "/etc/passwd",
        "%2e%2e%2f",
        "..%c0%af",
        "....//",
        "a/..",
        "\\..\\",
        "abc\u{0}def",
        "../../../V/secret",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    corpus.push("a".repeat(200));
    corpus
}

/// R2-3 — hypothesis: some id-like parameter or per-record URI kind reaches a path join
/// unfiltered and escapes the harness root.
pub fn r2_3() -> Outcome {
    let fx = Fixture::new("r23");
    let mut s = boot(&fx)?;
    let mut n = 10;
    let mut ok_calls = 0;
    for bad in traversal_corpus() {
        let calls = [
            ("harness_eval_gate", json!({"contract_id": bad})),
            ("harness_next_step", json!({"contract_id": bad})),
            ("harness_compact_context", json!({"contract_id": bad})),
            (
                "harness_record_trace",
                json!({"contract_id": bad, "kind": "attempt", "summary": "probe", "raw": "x"}),
            ),
            (
                "harness_create_contract",
                json!({"title": "Probe", "goal": "Probe goal", "parent_contract_id": bad}),
            ),
            ("harness_record_eval_run", json!({"eval_case_id": bad})),
            (
                "harness_record_promotion_decision",
                json!({"proposal_id": bad, "decision": "hold", "rationale": "why"}),
            ),
        ];
        for (tool, args) in calls {
            n += 1;
            let reply = s.tool(n, tool, args)?;
            ensure!(
                !leaks_sentinel(&reply.to_string()),
                "{tool} {bad:?} leaked the sentinel"
            );
            if ok_payload(&reply).is_ok() {
                ok_calls += 1;
            }
        }
        for kind in [
            "contract",
            "knowledge/item",
            "eval-case",
            "eval-run",
            "harness-profile",
            "harness-proposal",
            "promotion-decision",
        ] {
            n += 1;
            let reply = s.read(n, &format!("harness://{kind}/{}", percent_encode(&bad)))?;
            ensure!(
                reply.get("error").is_some(),
                "harness://{kind}/{bad:?} answered: {reply}"
            );
        }
    }
    s.finish()?;
    fx.verify()?;
    Ok(format!(
        "{} probes, {ok_calls} harmless OK (no contract / narrative), nothing outside H",
        n - 10
    ))
}

/// R6-3 — hypothesis: a free-text parameter that looks like a path (`evidence_paths`,
/// `files_changed`, `source_path`, `../` titles) is opened somewhere.
pub fn r6_3() -> Outcome {
    let fx = Fixture::new("r63");
    let outside = fx.victim.join("secret.json").display().to_string();
    let mut s = boot(&fx)?;
    let paths = json!([outside, "../../../V/secret.json", "/etc/shadow"]);
    let mut trace = trace_args("../../../V/owned");
    trace["evidence_paths"] = paths.clone();
    s.tool_ok(3, "harness_record_trace", trace)?;
    s.tool_ok(4, "harness_record_verification", json!({"command_or_check": "cat ../../../V/secret.json", "status": "pass", "raw_output": "ok", "evidence_paths": paths}))?;
    create_contract(
        &mut s,
        5,
        json!({"title": "../../../V/evil", "goal": "../../../V/evil goal"}),
    )?;
    s.tool(
        6,
        "harness_record_knowledge",
        json!({"title": "../../../V/k", "content": "x", "files_changed": paths}),
    )?;
    s.tool(7, "harness_record_research", json!({"title": "../../../V/r", "source_path": outside, "source_url": "file:///etc/passwd"}))?;
    let list = s.tool_ok(8, "harness_list", json!({}))?;
    ensure!(!leaks_sentinel(&list.to_string()), "sentinel reflected");
    s.finish()?;
    for name in fx.list("contracts") {
        ensure!(
            !name.contains(".."),
            "contract file name not path-safe: {name}"
        );
    }
    fx.verify()?;
    Ok("path-like free text stored as text only; slugs path-safe; V untouched".into())
}

/// X-4 — hypothesis: an in-project symlink to `V` passes the lexical scope check and the gate
/// reports existence of files in `V`.
pub fn x_4() -> Outcome {
    let mut fx = Fixture::new("x4");
    std::os::unix::fs::symlink(&fx.victim, fx.project.join("link")).map_err(|e| e.to_string())?;
    fx.seal();
    let mut s = boot(&fx)?;
    create_contract(
        &mut s,
        3,
        json!({"output_paths": ["link/secret.txt", "link/nothere.txt"], "completion_conditions": ["c"]}),
    )?;
    let gate = s.tool_ok(4, "harness_eval_gate", json!({"checked_conditions": ["c"]}))?;
    ensure!(
        gate["gate"]["verdict"] != "pass",
        "gate passed on a linked file: {}",
        gate["gate"]
    );
    s.finish()?;
    let name = fx
        .list("gates")
        .into_iter()
        .find(|n| n.ends_with(".json"))
        .ok_or("no gate record")?;
    let record = fx.json(&format!("gates/{name}"))?;
    let checks = record["outputChecks"].as_array().ok_or("no outputChecks")?;
    for check in checks {
        ensure!(
            check["exists"] == false,
            "existence leaked through the link: {check}"
        );
    }
    fx.verify()?;
    Ok("both linked paths exists=false; gate not pass".into())
}

/// X-7 — hypothesis: `project_path` can name any directory (`/`, magic links, `..` escapes)
/// and the server plants a `.codex-harness` tree there.
pub fn x_7() -> Outcome {
    let fx = Fixture::new("x7");
    let mut s = boot(&fx)?;
    let targets = [
        "/".to_string(),
        fx.victim.display().to_string(),
        "/proc/self/cwd/../V".into(),
        "/proc/self/root/tmp".into(),
        "/dev/fd/0".into(),
        format!("/proc/{}/fd/0", s.pid()),
        format!("{}/../V", fx.project.display()),
        format!("{}/sub", fx.project.display()),
    ];
    for (n, target) in targets.iter().enumerate() {
        let reply = s.tool(
            10 + n as i64,
            "harness_bootstrap",
            json!({"project_path": target}),
        )?;
        let refused = tool_error(&reply).is_ok() || reply.get("error").is_some();
        ensure!(refused, "project_path {target} accepted: {reply}");
    }
    let same = s.tool(
        30,
        "harness_list",
        json!({"project_path": fx.project.display().to_string()}),
    )?;
    ok_payload(&same).map_err(|e| format!("the pinned project itself: {e}"))?;
    s.finish()?;
    ensure!(
        !fx.victim.join(".codex-harness").exists(),
        "tree created in V"
    );
    ensure!(
        !std::path::Path::new("/.codex-harness").exists(),
        "tree created at /"
    );
    fx.verify()?;
    Ok(format!(
        "{} foreign project paths refused; pinned project served",
        targets.len()
    ))
}

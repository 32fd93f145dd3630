//! The agent loop: gates, reports, policy, redaction, project pinning and exec (GV-1, OBS-1,
//! EXEC-1, R2-POL, R4-4, R6-1, R8-1, R8-3).

use crate::ensure;
use crate::harness::{
    boot, create_contract, ok_payload, peak_rss_kib, rpc_error, tool_error, Fixture, Launch,
    Outcome, Session,
};
use serde_json::json;

/// GV-1 — hypothesis: an arbitrary verdict string is persisted in gate records.
pub fn gv_1() -> Outcome {
    let fx = Fixture::new("gv1");
    let mut s = boot(&fx)?;
    create_contract(&mut s, 3, json!({"completion_conditions": ["one"]}))?;
    let m = rpc_error(
        &s.tool(4, "harness_eval_gate", json!({"verdict": "i-cheated-haha"}))?,
        &[-32602],
    )?;
    ensure!(m.contains("not in enum"), "{m}");
    ensure!(
        fx.list("gates").is_empty(),
        "gate written for a rejected call"
    );
    let unknown = s.tool_ok(5, "harness_eval_gate", json!({}))?;
    ensure!(
        unknown["gate"]["verdict"] == "unknown",
        "{}",
        unknown["gate"]
    );
    let pass = s.tool_ok(
        6,
        "harness_eval_gate",
        json!({"checked_conditions": ["one"]}),
    )?;
    ensure!(pass["gate"]["verdict"] == "pass", "{}", pass["gate"]);
    s.finish()?;
    fx.verify()?;
    Ok("bogus verdict -32602, no gate; unchecked -> unknown; satisfied -> pass".into())
}

/// OBS-1 — hypothesis: the observability report hides an incomplete gate.
pub fn obs_1() -> Outcome {
    let fx = Fixture::new("obs1");
    let mut s = boot(&fx)?;
    let id = create_contract(&mut s, 3, json!({"completion_conditions": ["a", "b", "c"]}))?;
    s.tool_ok(
        4,
        "harness_record_trace",
        json!({"contract_id": id, "kind": "attempt", "summary": "did a", "raw": "r"}),
    )?;
    s.tool_ok(5, "harness_record_verification", json!({"contract_id": id, "command_or_check": "cargo test", "status": "pass", "raw_output": "ok"}))?;
    s.tool_ok(
        6,
        "harness_eval_gate",
        json!({"contract_id": id, "checked_conditions": ["a"], "verdict": "unknown"}),
    )?;
    let report = s.tool_ok(
        7,
        "harness_export_observability_report",
        json!({"contract_id": id, "max_traces": 5}),
    )?;
    s.finish()?;
    let text = report.to_string();
    ensure!(
        text.to_lowercase()
            .contains("unchecked completion conditions"),
        "no unchecked conditions"
    );
    ensure!(
        text.contains("Last completion gate verdict is `unknown`"),
        "verdict blind spot missing"
    );
    fx.verify()?;
    Ok("report names unchecked conditions and the unknown verdict".into())
}

/// EXEC-1 — hypothesis: some tool "helpfully" runs stored verification commands.
pub fn exec_1() -> Outcome {
    let fx = Fixture::new("exec1");
    let pwned = fx.project.join("pwned");
    let command = format!("touch {}", pwned.display());
    let mut s = boot(&fx)?;
    let id = create_contract(
        &mut s,
        3,
        json!({"verification_commands": [command, "sh -c 'touch pwned'"], "permissions": [command], "notes": command}),
    )?;
    s.tool_ok(4, "harness_record_verification", json!({"contract_id": id, "command_or_check": command, "status": "unknown", "raw_output": "none"}))?;
    s.tool_ok(5, "harness_next_step", json!({"contract_id": id}))?;
    s.tool_ok(6, "harness_eval_gate", json!({"contract_id": id}))?;
    s.tool_ok(7, "harness_compact_context", json!({"contract_id": id}))?;
    for (n, tool) in [
        "harness_export_observability_report",
        "harness_export_governance_report",
        "harness_export_nl_harness",
        "harness_audit_governance",
    ]
    .iter()
    .enumerate()
    {
        s.tool(10 + n as i64, tool, json!({}))?;
    }
    let prompts = s.ask(20, "prompts/list", json!({}))?;
    for (n, prompt) in prompts["result"]["prompts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        s.ask(
            30 + n as i64,
            "prompts/get",
            json!({"name": prompt["name"], "arguments": {}}),
        )?;
    }
    let threads = crate::harness::proc_status_field(s.pid(), "Threads:").unwrap_or_default();
    s.finish()?;
    ensure!(!pwned.exists(), "a stored command was executed");
    ensure!(threads == "1", "server has {threads} threads");
    let selftest = crate::confinement::selftest(&fx)?;
    ensure!(
        selftest["attempts"]["exec_bin_true"]["allowed"] == false,
        "exec not denied: {}",
        selftest["attempts"]["exec_bin_true"]
    );
    fx.verify()?;
    Ok("no pwned file, single thread, exec denied by seccomp (EPERM)".into())
}

/// R2-POL — hypothesis (pinned): policy roots are expected to bind the server; they are
/// advisory and writes stay in `H` whatever they say.
pub fn r2_pol() -> Outcome {
    let fx = Fixture::new("r2pol");
    let mut s = boot(&fx)?;
    s.tool_ok(
        3,
        "harness_write_governance_policy",
        json!({"allowed_write_roots": ["/"], "forbidden_paths": [".codex-harness/**"]}),
    )?;
    create_contract(&mut s, 4, json!({}))?;
    s.tool_ok(
        5,
        "harness_record_trace",
        crate::harness::trace_args("after policy"),
    )?;
    let policy = s.read(6, "harness://governance/policy")?;
    s.finish()?;
    let text = policy.to_string();
    ensure!(
        text.contains(".codex-harness/**"),
        "policy not returned: {text}"
    );
    fx.verify()?;
    Ok("policy stored and returned; writes still only in H".into())
}

/// R4-4 — hypothesis: filesystem error messages leak absolute paths (and a `PWD` that is a
/// string prefix of the project garbles them).
pub fn r4_4() -> Outcome {
    let fx = Fixture::new("r44");
    boot(&fx)?.finish()?;
    std::fs::remove_file(fx.h("HARNESS.md")).map_err(|e| e.to_string())?;
    std::os::unix::fs::symlink(fx.victim.join("bashrc"), fx.h("HARNESS.md"))
        .map_err(|e| e.to_string())?;
    std::fs::remove_file(fx.h("state.json")).map_err(|e| e.to_string())?;
    std::os::unix::fs::symlink(fx.victim.join("outside-state.json"), fx.h("state.json"))
        .map_err(|e| e.to_string())?;
    let project = fx.project.display().to_string();
    let prefix = project[..project.len() - 1].to_string();
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let mut messages = Vec::new();
    for pwd in [fx.other.display().to_string(), prefix] {
        let mut s = Session::launch(
            &fx,
            &Launch {
                env: vec![("PWD".into(), pwd)],
                ..Launch::default()
            },
        );
        for (n, (tool, args)) in [
            ("harness_bootstrap", json!({"force": true})),
            ("harness_update_state", json!({"note": "x"})),
        ]
        .into_iter()
        .enumerate()
        {
            let reply = s.tool(1 + n as i64, tool, args)?;
            if let Ok(text) = tool_error(&reply) {
                ensure!(
                    !text.contains(&project),
                    "absolute project path leaked: {text}"
                );
                ensure!(
                    home.len() < 2 || !text.contains(&format!("{home}/")),
                    "home leaked: {text}"
                );
                messages.push(text);
            }
        }
        s.finish()?;
    }
    ensure!(!messages.is_empty(), "no filesystem error was provoked");
    let _ = std::fs::remove_file(fx.h("HARNESS.md"));
    let _ = std::fs::remove_file(fx.h("state.json"));
    fx.verify()?;
    Ok(format!(
        "{} error(s), all redacted, e.g. {:?}",
        messages.len(),
        crate::harness::clip(&messages[0], 120)
    ))
}

/// R6-1 — hypothesis: one server handling 1,000 distinct `project_path` values grows without
/// bound (here every foreign path must be refused, so nothing can accumulate).
pub fn r6_1() -> Outcome {
    let fx = Fixture::new("r61");
    let mut s = boot(&fx)?;
    let mut rss_100 = 0;
    for n in 0..1000 {
        let path = fx.project.join(format!("projects/p{n:04}"));
        s.call(10 + n, "harness_bootstrap", json!({"project_path": path}));
        if n == 99 {
            for m in 0..100 {
                tool_error(&s.reply(10 + m)?)?;
            }
            rss_100 = peak_rss_kib(s.pid()).unwrap_or(0);
        }
    }
    for m in 100..1000 {
        tool_error(&s.reply(10 + m)?)?;
    }
    let rss_1000 = peak_rss_kib(s.pid()).unwrap_or(0);
    for n in 0..20 {
        s.call(
            2000 + n,
            "harness_record_trace",
            crate::harness::trace_args(&format!("after projects {n}")),
        );
    }
    for n in 0..20 {
        ok_payload(&s.reply(2000 + n)?)?;
    }
    s.finish()?;
    ensure!(
        rss_1000.saturating_sub(rss_100) < 4096,
        "RSS grew {rss_100} -> {rss_1000} KiB"
    );
    ensure!(
        !fx.project.join("projects").exists(),
        "foreign project trees created"
    );
    ensure!(
        fx.json("state.json")?["counters"]["traces"] == 20,
        "traces counter"
    );
    fx.verify()?;
    Ok(format!(
        "1000 foreign paths refused; VmHWM {rss_100} -> {rss_1000} KiB; 20 traces counted"
    ))
}

/// R8-1 — hypothesis: an inherited `PWD` pointing at another project redirects writes.
pub fn r8_1() -> Outcome {
    let fx = Fixture::new("r81");
    let mut s = Session::start(&fx);
    let payload = s.tool_ok(
        1,
        "harness_create_contract",
        json!({"title": "Where am I", "goal": "Land in P only"}),
    )?;
    s.finish()?;
    ensure!(
        payload["projectPath"] == json!(fx.project.display().to_string()),
        "projectPath {}",
        payload["projectPath"]
    );
    ensure!(!fx.other.join(".codex-harness").exists(), "wrote into PWD");
    ensure!(fx.list("contracts").len() == 2, "contract not in P");
    let workdir = fx.base.join("W");
    std::fs::create_dir_all(&workdir).map_err(|e| e.to_string())?;
    let mut s = Session::launch(
        &fx,
        &Launch {
            env: vec![("CODEX_WORKDIR".into(), workdir.display().to_string())],
            ..Launch::default()
        },
    );
    let payload = s.tool_ok(1, "harness_list", json!({}))?;
    s.finish()?;
    ensure!(
        payload["projectPath"] == json!(workdir.display().to_string()),
        "CODEX_WORKDIR ignored: {}",
        payload["projectPath"]
    );
    std::fs::remove_dir_all(&workdir).map_err(|e| e.to_string())?;
    fx.verify()?;
    Ok("cwd wins over PWD; CODEX_WORKDIR wins over both".into())
}

/// R8-3 — hypothesis (pinned): eval scores outside 0–1 are stored verbatim.
pub fn r8_3() -> Outcome {
    let fx = Fixture::new("r83");
    let mut s = boot(&fx)?;
    let case = s.tool_ok(
        3,
        "harness_record_eval_case",
        json!({"title": "score range case"}),
    )?;
    let case_id = case["evalCase"]["id"]
        .as_str()
        .or(case["case"]["id"].as_str())
        .ok_or_else(|| format!("no case id: {case}"))?
        .to_string();
    let low = s.tool_ok(
        4,
        "harness_record_eval_run",
        json!({"eval_case_id": case_id, "score": -1.5, "verdict": "fail"}),
    )?;
    let high = s.tool_ok(
        5,
        "harness_record_eval_run",
        json!({"eval_case_id": case_id, "score": 1e9, "verdict": "pass"}),
    )?;
    s.finish()?;
    ensure!(low["run"]["score"] == json!(-1.5), "{}", low["run"]);
    ensure!(
        high["run"]["score"].as_f64() == Some(1e9),
        "{}",
        high["run"]
    );
    fx.verify()?;
    Ok("scores -1.5 and 1e9 stored verbatim".into())
}

//! Eval and harness-change tools: profiles, eval cases, eval runs and their comparison,
//! harness proposals and promotion decisions. Each record is written as JSON plus its Markdown
//! companion, then counted in the state with an event.

use super::workspace::project_path;
use super::ToolOutput;
use crate::harness::evals::{self, Kind};
use crate::harness::state::{bump, mutate_state, push_event};
use crate::harness::{Args, ToolError};
use crate::json::{js_number, to_pretty_file};
use crate::store::Store;
use serde_json::{json, Map, Value};

/// Writes `<dir>/<id>.json` and `<dir>/<id>.md`.
fn persist(store: &Store, kind: Kind, record: &Value) -> Result<(), ToolError> {
    let id = record["id"].as_str().unwrap_or_default();
    let base = format!("{}/{id}", kind.dir());
    store.create_new(&format!("{base}.json"), to_pretty_file(record).as_bytes())?;
    store.create_new(
        &format!("{base}.md"),
        evals::render(kind, record).as_str().as_bytes(),
    )?;
    Ok(())
}

/// Persists the record, bumps `counter` and pushes `event` (its `ts` is the record's).
fn record(
    store: &Store,
    kind: Kind,
    record: &Value,
    counter: &str,
    event: &str,
    mut fields: Map<String, Value>,
) -> Result<(), ToolError> {
    persist(store, kind, record)?;
    let mut with_ts = Map::new();
    with_ts.insert("ts".into(), record["ts"].clone());
    with_ts.append(&mut fields);
    mutate_state(store, |state| {
        bump(state, counter);
        push_event(state, event, Value::Object(with_ts));
        Ok(())
    })?;
    Ok(())
}

fn output(store: &Store, key: &str, value: Value) -> ToolOutput {
    let mut out = Map::new();
    out.insert("projectPath".into(), json!(project_path(store)));
    out.insert(key.into(), value);
    ToolOutput::Object(Value::Object(out))
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn list(store: &Store, args: Args<'_>, kind: Kind, key: &str) -> Result<ToolOutput, ToolError> {
    let limit = args.count("limit", 20, 100);
    let items: Vec<Value> = evals::read_newest(store, kind, limit)?
        .iter()
        .map(|r| evals::agent_safe(kind, r))
        .collect();
    Ok(output(store, key, Value::Array(items)))
}

pub fn record_harness_profile(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let profile = evals::build_profile(args)?;
    record(
        store,
        Kind::Profile,
        &profile,
        "harnessProfiles",
        "harness_profile_recorded",
        fields(
            json!({"harnessProfileId": profile["id"], "mode": profile["mode"], "summary": profile["name"]}),
        ),
    )?;
    Ok(output(
        store,
        "profile",
        evals::agent_safe_profile(&profile),
    ))
}

pub fn list_harness_profiles(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    list(store, args, Kind::Profile, "profiles")
}

pub fn record_eval_case(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let case = evals::build_eval_case(args)?;
    record(
        store,
        Kind::EvalCase,
        &case,
        "evalCases",
        "eval_case_recorded",
        fields(json!({"evalCaseId": case["id"], "split": case["split"], "summary": case["title"]})),
    )?;
    Ok(output(store, "case", evals::agent_safe_eval_case(&case)))
}

pub fn record_eval_run(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let run = evals::build_eval_run(args)?;
    let verdict = run["verdict"].as_str().unwrap_or_default();
    let summary = match run["score"].as_f64() {
        Some(score) => format!("{verdict} score={}", js_number(score)),
        None => verdict.to_string(),
    };
    record(
        store,
        Kind::EvalRun,
        &run,
        "evalRuns",
        "eval_run_recorded",
        fields(json!({
            "evalRunId": run["id"], "evalCaseId": run["evalCaseId"],
            "harnessProfileId": run["harnessProfileId"], "verdict": run["verdict"], "summary": summary
        })),
    )?;
    Ok(output(store, "run", evals::agent_safe_eval_run(&run)))
}

pub fn compare_eval_runs(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let load = |key: &str| match args.text(key) {
        Some(id) => evals::load(store, Kind::EvalRun, &id),
        None => Ok(None),
    };
    let baseline = load("baseline_run_id")?;
    let candidate = load("candidate_run_id")?;
    let Some(baseline) = baseline else {
        return Err(ToolError::new(
            "baseline_run_id does not match a stored eval run.",
        ));
    };
    let Some(candidate) = candidate else {
        return Err(ToolError::new(
            "candidate_run_id does not match a stored eval run.",
        ));
    };
    let mut out = Map::new();
    out.insert("projectPath".into(), json!(project_path(store)));
    out.append(&mut evals::compare(&baseline, &candidate));
    Ok(ToolOutput::Object(Value::Object(out)))
}

pub fn record_harness_proposal(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let proposal = evals::build_proposal(args)?;
    record(
        store,
        Kind::Proposal,
        &proposal,
        "harnessProposals",
        "harness_proposal_recorded",
        fields(json!({
            "harnessProposalId": proposal["id"], "status": proposal["status"],
            "riskLevel": proposal["riskLevel"], "summary": proposal["title"]
        })),
    )?;
    Ok(output(
        store,
        "proposal",
        evals::agent_safe_proposal(&proposal),
    ))
}

pub fn list_harness_proposals(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    list(store, args, Kind::Proposal, "proposals")
}

pub fn record_promotion_decision(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let decision = evals::build_decision(args)?;
    let proposal_id = decision["proposalId"].as_str().unwrap_or_default();
    if evals::load(store, Kind::Proposal, proposal_id)?.is_none() {
        return Err(ToolError::new(
            "proposal_id does not match a stored harness proposal.",
        ));
    }
    record(
        store,
        Kind::Decision,
        &decision,
        "promotionDecisions",
        "promotion_decision_recorded",
        fields(json!({
            "promotionDecisionId": decision["id"], "harnessProposalId": decision["proposalId"],
            "decision": decision["decision"], "summary": decision["rationale"]
        })),
    )?;
    Ok(output(
        store,
        "decision",
        evals::agent_safe_decision(&decision),
    ))
}

pub fn list_promotion_decisions(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    list(store, args, Kind::Decision, "decisions")
}

//! Harness evaluation records: profiles, eval cases, eval runs, harness proposals and
//! promotion decisions. Builds each record from tool arguments (the original's shapes, key
//! order, enums and id formats), projects it for agents, renders its Markdown companion, and
//! compares two runs.

use super::records::UNTRUSTED_NOTICE;
use super::records::{bullet_list, strings, wrap, wrap_list, wrap_or_null};
use super::{truthy, Args, ToolError};
use crate::agent_text;
use crate::clock::{now_iso, today};
use crate::json::{number_value, rounded_number};
use crate::sanitize::{
    js_string, random_hex, reference_id_list, safe_file_id, sanitize_list, sanitize_nullable,
    sanitize_text, slugify, untrusted_list, AgentText, MAX_TEXT_LENGTH,
};
use crate::store::Store;
use serde_json::{json, Value};

pub const EVAL_SPLITS: [&str; 5] = [
    "optimization",
    "holdout",
    "regression",
    "production",
    "unknown",
];
pub const EVAL_VERDICTS: [&str; 3] = ["pass", "fail", "unknown"];
pub const PROFILE_MODES: [&str; 6] = [
    "minimal",
    "standard",
    "verification_heavy",
    "research_heavy",
    "meta_harness_lite",
    "custom",
];
pub const PROPOSAL_STATUSES: [&str; 6] = [
    "proposed",
    "testing",
    "accepted",
    "rejected",
    "superseded",
    "unknown",
];
pub const PROMOTION_DECISIONS: [&str; 4] = ["promote", "reject", "hold", "needs_more_evidence"];
pub const RISK_LEVELS: [&str; 4] = ["low", "medium", "high", "unknown"];

/// One family of stored evaluation records: its folder and resource noun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Profile,
    EvalCase,
    EvalRun,
    Proposal,
    Decision,
}

impl Kind {
    /// The folder under the harness root.
    pub fn dir(self) -> &'static str {
        match self {
            Kind::Profile => "harness-profiles",
            Kind::EvalCase => "evals/cases",
            Kind::EvalRun => "evals/runs",
            Kind::Proposal => "harness-proposals",
            Kind::Decision => "promotion-decisions",
        }
    }
}

/// The `limit` newest records of a family, newest first (stable for equal timestamps),
/// opening only the records of the newest days (see [`super::window::newest_days`]).
pub fn read_newest(store: &Store, kind: Kind, limit: usize) -> Result<Vec<Value>, ToolError> {
    Ok(super::window::read_newest(store, kind.dir(), limit)?.records)
}

/// A record by id (`None` when the id is unsafe or nothing is stored under it).
pub fn load(store: &Store, kind: Kind, id: &str) -> Result<Option<Value>, ToolError> {
    super::records::load_record(store, kind.dir(), id)
}

fn random(bytes: usize) -> Result<String, ToolError> {
    random_hex(bytes).map_err(|error| ToolError::new(format!("random source failed: {error}")))
}

/// `normalizeX(value)`: `value || default`, sanitised, kept only when listed, else `fallback`.
fn normalise_enum(
    value: Option<&Value>,
    default: &str,
    allowed: &[&str],
    fallback: &str,
) -> String {
    let text = match value.filter(|v| truthy(v)) {
        Some(v) => sanitize_text(&js_string(v), 80),
        None => default.to_string(),
    };
    if allowed.contains(&text.as_str()) {
        text
    } else {
        fallback.to_string()
    }
}

fn enum_arg(args: Args<'_>, key: &str, default: &str, allowed: &[&str], fallback: &str) -> String {
    normalise_enum(args.value(key), default, allowed, fallback)
}

/// `normalizeNumber`: a finite number, else `null`.
fn finite_number(value: Option<&Value>) -> Value {
    match value.and_then(Value::as_f64) {
        Some(number) if number.is_finite() => number_value(number),
        _ => Value::Null,
    }
}

/// `normalizeInteger`: a non-negative integral number, else `null`.
fn count_number(value: Option<&Value>) -> Value {
    match value.and_then(Value::as_f64) {
        Some(number) if number.is_finite() && number.fract() == 0.0 && number >= 0.0 => {
            number_value(number)
        }
        _ => Value::Null,
    }
}

/// `sanitizeNullableText(a || b, max)`.
fn either_nullable(args: Args<'_>, first: &str, second: &str, max: usize) -> Value {
    let value = args.truthy(first).or_else(|| args.0.get(second));
    json!(sanitize_nullable(value, max))
}

fn source(args: Args<'_>) -> Value {
    json!({"type": args.nullable("source_type", 80), "path": args.nullable("source_path", 500)})
}

pub fn build_profile(args: Args<'_>) -> Result<Value, ToolError> {
    let name = args.sanitized("name", 240);
    if name.is_empty() {
        return Err(ToolError::new("name is required."));
    }
    Ok(json!({
        "id": format!("profile-{}-{}-{}", today(), slugify(&name), random(6)?),
        "ts": now_iso(),
        "name": name,
        "mode": enum_arg(args, "mode", "custom", &PROFILE_MODES, "custom"),
        "summary": either_nullable(args, "summary", "description", 1000),
        "enabledStages": args.list("enabled_stages", 160),
        "disabledStages": args.list("disabled_stages", 160),
        "verifierPolicy": args.nullable("verifier_policy", 1200),
        "budgetNotes": args.nullable("budget_notes", 1200),
        "tags": args.list("tags", 80),
        "source": source(args)
    }))
}

pub fn build_eval_case(args: Args<'_>) -> Result<Value, ToolError> {
    let title = args.sanitized("title", 240);
    if title.is_empty() {
        return Err(ToolError::new("title is required."));
    }
    Ok(json!({
        "id": format!("eval-case-{}-{}-{}", today(), slugify(&title), random(6)?),
        "ts": now_iso(),
        "title": title,
        "taskFamily": args.nullable("task_family", 160),
        "split": enum_arg(args, "split", "unknown", &EVAL_SPLITS, "unknown"),
        "prompt": either_nullable(args, "prompt", "task", MAX_TEXT_LENGTH),
        "acceptanceCriteria": args.list("acceptance_criteria", 1000),
        "expectedArtifacts": args.list("expected_artifacts", 500),
        "verificationChecks": args.list("verification_checks", 500),
        "tags": args.list("tags", 80),
        "source": source(args)
    }))
}

pub fn build_eval_run(args: Args<'_>) -> Result<Value, ToolError> {
    let eval_case_id = args.sanitized("eval_case_id", 180);
    if safe_file_id(&eval_case_id).is_none() {
        return Err(ToolError::new(
            "eval_case_id is required and must be a safe stored eval case id.",
        ));
    }
    let profile_id = args.nullable("harness_profile_id", 180);
    if profile_id
        .as_deref()
        .is_some_and(|id| !id.is_empty() && safe_file_id(id).is_none())
    {
        return Err(ToolError::new(
            "harness_profile_id must be a safe stored harness profile id.",
        ));
    }
    let number = |key: &str| finite_number(args.value(key));
    let count = |key: &str| count_number(args.value(key));
    Ok(json!({
        "id": format!("eval-run-{}-{}", today(), random(5)?),
        "ts": now_iso(),
        "evalCaseId": eval_case_id,
        "harnessProfileId": profile_id,
        "model": args.nullable("model", 160),
        "provider": args.nullable("provider", 160),
        "reasoningEffort": args.nullable("reasoning_effort", 80),
        "verdict": enum_arg(args, "verdict", "unknown", &EVAL_VERDICTS, "unknown"),
        "score": number("score"),
        "metrics": {
            "promptTokens": count("prompt_tokens"),
            "completionTokens": count("completion_tokens"),
            "totalTokens": count("total_tokens"),
            "costUsd": number("cost_usd"),
            "wallClockSeconds": number("wall_clock_seconds"),
            "toolCalls": count("tool_calls"),
            "llmCalls": count("llm_calls")
        },
        "traceIds": args.list("trace_ids", 180),
        "verificationIds": args.list("verification_ids", 180),
        "regressions": args.list("regressions", 1000),
        "notes": args.nullable("notes", 2000)
    }))
}

pub fn build_proposal(args: Args<'_>) -> Result<Value, ToolError> {
    let title = args.sanitized("title", 240);
    if title.is_empty() {
        return Err(ToolError::new("title is required."));
    }
    let proposed_change = args.sanitized("proposed_change", 4000);
    if proposed_change.is_empty() {
        return Err(ToolError::new("proposed_change is required."));
    }
    let target = sanitize_nullable(args.truthy("target_profile_id"), 180);
    if target
        .as_deref()
        .is_some_and(|id| !id.is_empty() && safe_file_id(id).is_none())
    {
        return Err(ToolError::new(
            "target_profile_id must be a safe stored harness profile id.",
        ));
    }
    let ids = |key: &str| reference_id_list(args.value(key));
    Ok(json!({
        "id": format!("proposal-{}-{}-{}", today(), slugify(&title), random(6)?),
        "ts": now_iso(),
        "title": title,
        "hypothesis": args.nullable("hypothesis", 4000),
        "proposedChange": proposed_change,
        "status": enum_arg(args, "status", "proposed", &PROPOSAL_STATUSES, "unknown"),
        "riskLevel": enum_arg(args, "risk_level", "unknown", &RISK_LEVELS, "unknown"),
        "targetProfileId": target,
        "baselineRunIds": ids("baseline_run_ids"),
        "candidateRunIds": ids("candidate_run_ids"),
        "holdoutRunIds": ids("holdout_run_ids"),
        "regressionRunIds": ids("regression_run_ids"),
        "expectedGain": sanitize_nullable(args.truthy("expected_gain"), 2000),
        "affectedStages": args.list("affected_stages", 160),
        "evidence": args.list("evidence", 1000),
        "sourceTraceIds": args.list("source_trace_ids", 180),
        "tags": args.list("tags", 80)
    }))
}

pub fn build_decision(args: Args<'_>) -> Result<Value, ToolError> {
    let proposal_id = args.sanitized("proposal_id", 180);
    if safe_file_id(&proposal_id).is_none() {
        return Err(ToolError::new(
            "proposal_id is required and must be a safe stored harness proposal id.",
        ));
    }
    let rationale = args.sanitized("rationale", 4000);
    if rationale.is_empty() {
        return Err(ToolError::new("rationale is required."));
    }
    let ids = |key: &str| reference_id_list(args.value(key));
    Ok(json!({
        "id": format!("promotion-decision-{}-{}", today(), random(5)?),
        "ts": now_iso(),
        "proposalId": proposal_id,
        "decision": enum_arg(args, "decision", "needs_more_evidence", &PROMOTION_DECISIONS, "needs_more_evidence"),
        "rationale": rationale,
        "optimizationRunIds": ids("optimization_run_ids"),
        "holdoutRunIds": ids("holdout_run_ids"),
        "regressionRunIds": ids("regression_run_ids"),
        "acceptedRisks": sanitize_list(args.value("accepted_risks"), 1000),
        "followUp": sanitize_nullable(args.truthy("follow_up"), 2000),
        "evidence": args.list("evidence", 1000)
    }))
}

/// `source.type || null`.
fn source_type(record: &Value) -> Value {
    record
        .get("source")
        .and_then(|s| s.get("type"))
        .filter(|v| truthy(v))
        .cloned()
        .unwrap_or(Value::Null)
}

fn source_path(record: &Value, label: &str) -> Value {
    wrap_or_null(record.get("source").and_then(|s| s.get("path")), label)
}

/// Builds a projection: `field` copies raw, `block`/`maybe`/`list` wrap with `<prefix>.<key>`.
struct Projector<'a> {
    record: &'a Value,
    prefix: &'a str,
}

impl Projector<'_> {
    fn raw(&self, key: &str) -> Value {
        self.record.get(key).cloned().unwrap_or(Value::Null)
    }
    fn block(&self, key: &str) -> Value {
        wrap(self.record.get(key), &format!("{}.{key}", self.prefix))
    }
    fn maybe(&self, key: &str) -> Value {
        wrap_or_null(self.record.get(key), &format!("{}.{key}", self.prefix))
    }
    fn list(&self, key: &str) -> Value {
        wrap_list(self.record.get(key), &format!("{}.{key}", self.prefix))
    }
}

pub fn agent_safe_profile(profile: &Value) -> Value {
    let p = Projector {
        record: profile,
        prefix: "harnessProfile",
    };
    json!({
        "id": p.raw("id"), "ts": p.raw("ts"), "name": p.block("name"), "mode": p.raw("mode"),
        "summary": p.maybe("summary"), "enabledStages": p.list("enabledStages"),
        "disabledStages": p.list("disabledStages"), "verifierPolicy": p.maybe("verifierPolicy"),
        "budgetNotes": p.maybe("budgetNotes"), "tags": p.list("tags"),
        "source": {"type": source_type(profile), "path": source_path(profile, "harnessProfile.source.path")}
    })
}

pub fn agent_safe_eval_case(case: &Value) -> Value {
    let p = Projector {
        record: case,
        prefix: "evalCase",
    };
    json!({
        "id": p.raw("id"), "ts": p.raw("ts"), "title": p.block("title"),
        "taskFamily": p.maybe("taskFamily"), "split": p.raw("split"), "prompt": p.maybe("prompt"),
        "acceptanceCriteria": p.list("acceptanceCriteria"),
        "expectedArtifacts": p.list("expectedArtifacts"),
        "verificationChecks": p.list("verificationChecks"), "tags": p.list("tags"),
        "source": {"type": source_type(case), "path": source_path(case, "evalCase.source.path")}
    })
}

pub fn agent_safe_eval_run(run: &Value) -> Value {
    let p = Projector {
        record: run,
        prefix: "evalRun",
    };
    json!({
        "id": p.raw("id"), "ts": p.raw("ts"), "evalCaseId": p.raw("evalCaseId"),
        "harnessProfileId": p.raw("harnessProfileId"), "model": p.maybe("model"),
        "provider": p.maybe("provider"), "reasoningEffort": p.maybe("reasoningEffort"),
        "verdict": p.raw("verdict"), "score": p.raw("score"), "metrics": p.raw("metrics"),
        "traceIds": p.list("traceIds"), "verificationIds": p.list("verificationIds"),
        "regressions": p.list("regressions"), "notes": p.maybe("notes")
    })
}

pub fn agent_safe_proposal(proposal: &Value) -> Value {
    let p = Projector {
        record: proposal,
        prefix: "harnessProposal",
    };
    json!({
        "id": p.raw("id"), "ts": p.raw("ts"), "status": p.raw("status"),
        "riskLevel": p.raw("riskLevel"), "targetProfileId": p.raw("targetProfileId"),
        "title": p.block("title"), "hypothesis": p.maybe("hypothesis"),
        "proposedChange": p.block("proposedChange"), "baselineRunIds": p.list("baselineRunIds"),
        "candidateRunIds": p.list("candidateRunIds"), "holdoutRunIds": p.list("holdoutRunIds"),
        "regressionRunIds": p.list("regressionRunIds"), "expectedGain": p.maybe("expectedGain"),
        "affectedStages": p.list("affectedStages"), "evidence": p.list("evidence"),
        "sourceTraceIds": p.list("sourceTraceIds"), "tags": p.list("tags")
    })
}

pub fn agent_safe_decision(decision: &Value) -> Value {
    let p = Projector {
        record: decision,
        prefix: "promotionDecision",
    };
    json!({
        "id": p.raw("id"), "ts": p.raw("ts"), "proposalId": p.raw("proposalId"),
        "decision": p.raw("decision"), "rationale": p.block("rationale"),
        "optimizationRunIds": p.list("optimizationRunIds"), "holdoutRunIds": p.list("holdoutRunIds"),
        "regressionRunIds": p.list("regressionRunIds"), "acceptedRisks": p.list("acceptedRisks"),
        "followUp": p.maybe("followUp"), "evidence": p.list("evidence")
    })
}

/// The agent-safe projection of a record of `kind`.
pub fn agent_safe(kind: Kind, record: &Value) -> Value {
    match kind {
        Kind::Profile => agent_safe_profile(record),
        Kind::EvalCase => agent_safe_eval_case(record),
        Kind::EvalRun => agent_safe_eval_run(record),
        Kind::Proposal => agent_safe_proposal(record),
        Kind::Decision => agent_safe_decision(record),
    }
}

/// `${value}` of a template literal (`null` and missing print as such); the value itself is
/// shown as [`AgentText::scalar`] shows it.
pub fn template(value: Option<&Value>, source: &str) -> AgentText {
    match value {
        None => AgentText::literal("undefined"),
        Some(Value::Null) => AgentText::literal("null"),
        Some(other) => AgentText::scalar(other, source),
    }
}

/// `${value ?? "unknown"}`.
pub fn or_unknown(value: Option<&Value>, source: &str) -> AgentText {
    match value {
        None | Some(Value::Null) => AgentText::literal("unknown"),
        Some(other) => AgentText::scalar(other, source),
    }
}

/// `${value || "none"}`.
pub fn or_none(value: Option<&Value>, source: &str) -> AgentText {
    match value.filter(|v| truthy(v)) {
        Some(v) => AgentText::scalar(v, source),
        None => AgentText::literal("none"),
    }
}

/// Backticked ids joined by `, `, or `none`; an entry that is not a safe id is wrapped.
fn id_list(value: Option<&Value>, source: &str) -> AgentText {
    let ids = strings(value);
    if ids.is_empty() {
        return AgentText::literal("none");
    }
    let shown = ids.iter().enumerate().map(|(index, id)| {
        AgentText::id(id)
            .map(|id| agent_text!("`{}`", id))
            .unwrap_or_else(|| AgentText::block(id, &format!("{source}[{index}]")))
    });
    AgentText::join(shown, ", ")
}

/// A wrapped scalar, or `None` when absent or empty.
pub fn block_or_none(value: Option<&Value>, label: &str) -> AgentText {
    match value.filter(|v| truthy(v)) {
        Some(v) => AgentText::block_value(Some(v), label),
        None => AgentText::literal("None"),
    }
}

/// A wrapped scalar (empty block when absent).
pub fn block(value: Option<&Value>, label: &str) -> AgentText {
    AgentText::block_value(value.filter(|v| !v.is_null()), label)
}

/// The untrusted bullet list of a stored list.
pub fn bullets(value: Option<&Value>, label: &str) -> AgentText {
    bullet_list(&strings(value), label)
}

/// A stored record's fields shown as agent text, each labelled `<noun>.<key>` (so a field
/// that is not in its safe form arrives in a block that says where it came from).
pub struct Fields<'a> {
    record: &'a Value,
    noun: &'static str,
}

impl<'a> Fields<'a> {
    pub fn new(record: &'a Value, noun: &'static str) -> Self {
        Fields { record, noun }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.record.get(key)
    }

    fn label(&self, key: &str) -> String {
        format!("{}.{key}", self.noun)
    }

    pub fn template(&self, key: &str) -> AgentText {
        template(self.get(key), &self.label(key))
    }

    pub fn or_none(&self, key: &str) -> AgentText {
        or_none(self.get(key), &self.label(key))
    }

    pub fn or_unknown(&self, key: &str) -> AgentText {
        or_unknown(self.get(key), &self.label(key))
    }

    pub fn ids(&self, key: &str) -> AgentText {
        id_list(self.get(key), &self.label(key))
    }

    pub fn block(&self, key: &str) -> AgentText {
        block(self.get(key), &self.label(key))
    }

    pub fn block_or_none(&self, key: &str) -> AgentText {
        block_or_none(self.get(key), &self.label(key))
    }

    pub fn bullets(&self, key: &str) -> AgentText {
        bullets(self.get(key), &self.label(key))
    }
}

/// Joins `# Heading`, the header lines, the notice and `## Section` bodies, ending in `\n`.
fn document(
    heading: &'static str,
    header: Vec<AgentText>,
    sections: Vec<(&'static str, AgentText)>,
) -> AgentText {
    let mut out = agent_text!(
        "# {}\n\n{}\n\n{}\n",
        AgentText::literal(heading),
        AgentText::join(header, "\n"),
        AgentText::literal(UNTRUSTED_NOTICE)
    );
    for (title, body) in sections {
        out.push(&agent_text!(
            "\n## {}\n\n{}\n",
            AgentText::literal(title),
            body
        ));
    }
    out
}

pub fn render_profile(profile: &Value) -> AgentText {
    let f = Fields::new(profile, "harnessProfile");
    document(
        "Harness Profile",
        vec![
            agent_text!("Profile ID: `{}`", f.template("id")),
            agent_text!("Mode: `{}`", f.template("mode")),
            agent_text!("Timestamp: {}", f.template("ts")),
        ],
        vec![
            ("Name", f.block("name")),
            ("Summary", f.block_or_none("summary")),
            ("Enabled Stages", f.bullets("enabledStages")),
            ("Disabled Stages", f.bullets("disabledStages")),
            ("Verifier Policy", f.block_or_none("verifierPolicy")),
            ("Budget Notes", f.block_or_none("budgetNotes")),
            ("Tags", f.bullets("tags")),
        ],
    )
}

pub fn render_eval_case(case: &Value) -> AgentText {
    let f = Fields::new(case, "evalCase");
    document(
        "Harness Eval Case",
        vec![
            agent_text!("Eval Case ID: `{}`", f.template("id")),
            agent_text!("Split: `{}`", f.template("split")),
            agent_text!("Timestamp: {}", f.template("ts")),
        ],
        vec![
            ("Title", f.block("title")),
            ("Task Family", f.block_or_none("taskFamily")),
            ("Prompt", f.block_or_none("prompt")),
            ("Acceptance Criteria", f.bullets("acceptanceCriteria")),
            ("Expected Artifacts", f.bullets("expectedArtifacts")),
            ("Verification Checks", f.bullets("verificationChecks")),
            ("Tags", f.bullets("tags")),
        ],
    )
}

pub fn render_eval_run(run: &Value) -> AgentText {
    let f = Fields::new(run, "evalRun");
    let metric = |key: &str| {
        or_unknown(
            run.get("metrics").and_then(|m| m.get(key)),
            &format!("evalRun.metrics.{key}"),
        )
    };
    let metrics = [
        ("Prompt tokens", "promptTokens"),
        ("Completion tokens", "completionTokens"),
        ("Total tokens", "totalTokens"),
        ("Cost USD", "costUsd"),
        ("Wall clock seconds", "wallClockSeconds"),
        ("Tool calls", "toolCalls"),
        ("LLM calls", "llmCalls"),
    ]
    .map(|(label, key)| agent_text!("- {}: {}", AgentText::literal(label), metric(key)));
    let metrics = AgentText::join(metrics, "\n");
    document(
        "Harness Eval Run",
        vec![
            agent_text!("Eval Run ID: `{}`", f.template("id")),
            agent_text!("Eval Case ID: `{}`", f.template("evalCaseId")),
            agent_text!("Harness Profile ID: `{}`", f.or_none("harnessProfileId")),
            agent_text!("Verdict: `{}`", f.template("verdict")),
            agent_text!("Score: `{}`", f.or_unknown("score")),
            agent_text!("Timestamp: {}", f.template("ts")),
        ],
        vec![
            ("Model", f.block_or_none("model")),
            ("Provider", f.block_or_none("provider")),
            ("Reasoning Effort", f.block_or_none("reasoningEffort")),
            ("Metrics", metrics),
            ("Trace IDs", f.bullets("traceIds")),
            ("Verification IDs", f.bullets("verificationIds")),
            ("Regressions", f.bullets("regressions")),
            ("Notes", f.block_or_none("notes")),
        ],
    )
}

pub fn render_proposal(proposal: &Value) -> AgentText {
    let f = Fields::new(proposal, "harnessProposal");
    let evidence = agent_text!(
        "- Baseline runs: {}\n- Candidate runs: {}\n- Holdout runs: {}\n- Regression runs: {}",
        f.ids("baselineRunIds"),
        f.ids("candidateRunIds"),
        f.ids("holdoutRunIds"),
        f.ids("regressionRunIds")
    );
    document(
        "Harness Proposal",
        vec![
            agent_text!("Proposal ID: `{}`", f.template("id")),
            agent_text!("Status: `{}`", f.template("status")),
            agent_text!("Risk: `{}`", f.template("riskLevel")),
            agent_text!("Target Profile ID: `{}`", f.or_none("targetProfileId")),
            agent_text!("Timestamp: {}", f.template("ts")),
        ],
        vec![
            ("Title", f.block("title")),
            ("Hypothesis", f.block_or_none("hypothesis")),
            ("Proposed Change", f.block("proposedChange")),
            ("Eval Evidence", evidence),
            ("Expected Gain", f.block_or_none("expectedGain")),
            ("Affected Stages", f.bullets("affectedStages")),
            ("Evidence", f.bullets("evidence")),
            ("Source Trace IDs", f.bullets("sourceTraceIds")),
            ("Tags", f.bullets("tags")),
        ],
    )
}

pub fn render_decision(decision: &Value) -> AgentText {
    let f = Fields::new(decision, "promotionDecision");
    let evidence = agent_text!(
        "- Optimization runs: {}\n- Holdout runs: {}\n- Regression runs: {}",
        f.ids("optimizationRunIds"),
        f.ids("holdoutRunIds"),
        f.ids("regressionRunIds")
    );
    document(
        "Harness Promotion Decision",
        vec![
            agent_text!("Decision ID: `{}`", f.template("id")),
            agent_text!("Proposal ID: `{}`", f.template("proposalId")),
            agent_text!("Decision: `{}`", f.template("decision")),
            agent_text!("Timestamp: {}", f.template("ts")),
        ],
        vec![
            ("Rationale", f.block("rationale")),
            ("Eval Evidence", evidence),
            ("Accepted Risks", f.bullets("acceptedRisks")),
            ("Follow Up", f.block_or_none("followUp")),
            ("Evidence", f.bullets("evidence")),
        ],
    )
}

/// The Markdown companion of a record of `kind`.
pub fn render(kind: Kind, record: &Value) -> AgentText {
    match kind {
        Kind::Profile => render_profile(record),
        Kind::EvalCase => render_eval_case(record),
        Kind::EvalRun => render_eval_run(record),
        Kind::Proposal => render_proposal(record),
        Kind::Decision => render_decision(record),
    }
}

/// `candidate − baseline` rounded as `Number(x.toFixed(6))`; `null` if either side is absent.
pub fn nullable_delta(candidate: Option<&Value>, baseline: Option<&Value>) -> Value {
    match (
        candidate.filter(|v| !v.is_null()),
        baseline.filter(|v| !v.is_null()),
    ) {
        (Some(c), Some(b)) => {
            let difference = js_to_number(c) - js_to_number(b);
            if difference.is_finite() {
                rounded_number(difference, 6)
            } else {
                Value::Null
            }
        }
        _ => Value::Null,
    }
}

fn js_to_number(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) if s.trim().is_empty() => 0.0,
        Value::String(s) => s.trim().parse().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

/// The comparison verdict; the first rule that applies wins.
pub fn interpret(baseline: &Value, candidate: &Value, score: &Value, cost: &Value) -> &'static str {
    let passed = |run: &Value| run.get("verdict").and_then(Value::as_str) == Some("pass");
    let positive = |v: &Value| v.as_f64().is_some_and(|n| n > 0.0);
    let negative = |v: &Value| v.as_f64().is_some_and(|n| n < 0.0);
    if !passed(baseline) && passed(candidate) {
        "candidate_improved_verdict"
    } else if passed(baseline) && !passed(candidate) {
        "candidate_regressed_verdict"
    } else if positive(score) {
        if positive(cost) {
            "candidate_improved_score_with_cost_increase"
        } else {
            "candidate_improved_score"
        }
    } else if negative(score) {
        "candidate_regressed_score"
    } else {
        "no_clear_change"
    }
}

/// The `harness_compare_eval_runs` result (after the project path).
pub fn compare(baseline: &Value, candidate: &Value) -> serde_json::Map<String, Value> {
    let metric = |run: &Value, key: &str| run.get("metrics").and_then(|m| m.get(key)).cloned();
    let delta = |key: &str| {
        nullable_delta(
            metric(candidate, key).as_ref(),
            metric(baseline, key).as_ref(),
        )
    };
    let score = nullable_delta(candidate.get("score"), baseline.get("score"));
    let cost = delta("costUsd");
    let regressions = strings(candidate.get("regressions"));
    let mut out = serde_json::Map::new();
    out.insert("baseline".into(), agent_safe_eval_run(baseline));
    out.insert("candidate".into(), agent_safe_eval_run(candidate));
    out.insert("scoreDelta".into(), score.clone());
    out.insert("costDeltaUsd".into(), cost.clone());
    out.insert("totalTokenDelta".into(), delta("totalTokens"));
    out.insert("wallClockDeltaSeconds".into(), delta("wallClockSeconds"));
    out.insert("toolCallDelta".into(), delta("toolCalls"));
    out.insert("llmCallDelta".into(), delta("llmCalls"));
    out.insert(
        "verdictChange".into(),
        agent_text!(
            "{} -> {}",
            template(baseline.get("verdict"), "baseline.verdict"),
            template(candidate.get("verdict"), "candidate.verdict")
        )
        .into_json(),
    );
    out.insert(
        "interpretation".into(),
        AgentText::literal_json(interpret(baseline, candidate, &score, &cost)),
    );
    out.insert("regressionCount".into(), json!(regressions.len()));
    out.insert(
        "regressions".into(),
        untrusted_list(&regressions, "evalComparison.regressions"),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn unknown_enum_values_fall_back_per_field() {
        assert_eq!(
            normalise_enum(
                Some(&json!("bogus")),
                "proposed",
                &PROPOSAL_STATUSES,
                "unknown"
            ),
            "unknown"
        );
        assert_eq!(
            normalise_enum(None, "proposed", &PROPOSAL_STATUSES, "unknown"),
            "proposed"
        );
        assert_eq!(
            normalise_enum(Some(&json!("")), "custom", &PROFILE_MODES, "custom"),
            "custom"
        );
    }

    #[test]
    fn run_ids_and_numbers_follow_the_original_widths_and_rules() {
        let map = args(
            json!({"eval_case_id": "case-1", "score": -3.5, "prompt_tokens": 1.5, "total_tokens": 10}),
        );
        let run = build_eval_run(Args(&map)).unwrap();
        let id = run["id"].as_str().unwrap();
        assert_eq!(id.len(), "eval-run-2025-01-01-".len() + 10);
        assert_eq!(run["score"], json!(-3.5));
        assert_eq!(run["metrics"]["promptTokens"], Value::Null);
        assert_eq!(run["metrics"]["totalTokens"], json!(10));
        assert_eq!(run["harnessProfileId"], Value::Null);
    }

    #[test]
    fn deltas_round_to_six_places() {
        assert_eq!(
            nullable_delta(Some(&json!(0.3)), Some(&json!(0.1))),
            json!(0.2)
        );
        assert_eq!(nullable_delta(Some(&json!(5)), Some(&json!(7))), json!(-2));
        assert_eq!(nullable_delta(None, Some(&json!(7))), Value::Null);
        assert_eq!(
            nullable_delta(Some(&json!(1)), Some(&Value::Null)),
            Value::Null
        );
    }

    #[test]
    fn interpretation_rules_apply_in_order() {
        let run = |verdict: &str| json!({"verdict": verdict});
        let n = Value::Null;
        assert_eq!(
            interpret(&run("fail"), &run("pass"), &json!(-1), &n),
            "candidate_improved_verdict"
        );
        assert_eq!(
            interpret(&run("pass"), &run("unknown"), &json!(1), &n),
            "candidate_regressed_verdict"
        );
        assert_eq!(
            interpret(&run("pass"), &run("pass"), &json!(1), &json!(0.5)),
            "candidate_improved_score_with_cost_increase"
        );
        assert_eq!(
            interpret(&run("fail"), &run("fail"), &json!(1), &json!(-0.5)),
            "candidate_improved_score"
        );
        assert_eq!(
            interpret(&run("fail"), &run("fail"), &json!(-1), &n),
            "candidate_regressed_score"
        );
        assert_eq!(
            interpret(&run("fail"), &run("fail"), &n, &n),
            "no_clear_change"
        );
    }

    #[test]
    fn companions_have_the_original_headings_in_order() {
        let map = args(
            json!({"title": "Proposal A", "proposed_change": "Do X", "baseline_run_ids": ["r1", "../x", "r2"]}),
        );
        let proposal = build_proposal(Args(&map)).unwrap();
        assert_eq!(proposal["baselineRunIds"], json!(["r1", "r2"]));
        let text = render_proposal(&proposal);
        let headings: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(
            headings,
            [
                "# Harness Proposal",
                "## Title",
                "## Hypothesis",
                "## Proposed Change",
                "## Eval Evidence",
                "## Expected Gain",
                "## Affected Stages",
                "## Evidence",
                "## Source Trace IDs",
                "## Tags"
            ]
        );
        assert!(text.contains("- Baseline runs: `r1`, `r2`\n- Candidate runs: none"));
        assert!(text.ends_with("- None\n"));
        assert!(!text.ends_with("\n\n"));
    }
}

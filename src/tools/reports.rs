//! Export tools: the natural-language harness spec and the observability report.

use super::governance::audit_request;
use super::workspace::project_path;
use super::ToolOutput;
use crate::harness::evals::{read_all, Kind};
use crate::harness::governance::{self, AuditRequest};
use crate::harness::knowledge::{list_recent_knowledge, read_index};
use crate::harness::records::{load_contract, read_all_records, read_recent_gates, read_recent_traces};
use crate::harness::reports::{render_observability, render_spec, ObservedInputs, SpecInputs};
use crate::harness::state::load_state;
use crate::harness::{Args, ToolError};
use crate::store::Store;


/// The spec with `max_traces` recent traces (the workspace must exist).
pub fn spec_text(store: &Store, max_traces: usize) -> Result<String, ToolError> {
    let state = load_state(store);
    let contracts = read_all_records(store, "contracts")?;
    let traces = read_recent_traces(store, max_traces)?;
    let index = read_index(store)?;
    let knowledge = index["items"].as_array().cloned().unwrap_or_default();
    Ok(render_spec(&SpecInputs {
        project_path: &project_path(store),
        state: &state,
        contracts: &contracts,
        traces: &traces,
        knowledge: &knowledge,
        profiles: &read_all(store, Kind::Profile)?,
        cases: &read_all(store, Kind::EvalCase)?,
        runs: &read_all(store, Kind::EvalRun)?,
        proposals: &read_all(store, Kind::Proposal)?,
        decisions: &read_all(store, Kind::Decision)?,
    }))
}

/// The observability report (the workspace must exist). Gates are read 8 at a time.
pub fn observability_text(
    store: &Store,
    contract_id: Option<String>,
    max_traces: usize,
    max_knowledge: usize,
) -> Result<String, ToolError> {
    let state = load_state(store);
    let contract = load_contract(store, contract_id.as_deref(), &state)?;
    let traces = read_recent_traces(store, max_traces)?;
    let gates = read_recent_gates(store, 8)?;
    let knowledge = list_recent_knowledge(store, max_knowledge)?;
    let audit = governance::audit(
        store,
        &AuditRequest {
            contract_id,
            max_traces,
            max_gates: 8,
        },
    )?;
    Ok(render_observability(&ObservedInputs {
        project_path: &project_path(store),
        state: &state,
        contract: contract.as_ref(),
        traces: &traces,
        gates: &gates,
        knowledge: &knowledge,
        cases: &read_all(store, Kind::EvalCase)?,
        runs: &read_all(store, Kind::EvalRun)?,
        profiles: &read_all(store, Kind::Profile)?,
        proposals: &read_all(store, Kind::Proposal)?,
        decisions: &read_all(store, Kind::Decision)?,
        audit: &audit,
    }))
}

pub fn nl_harness(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    Ok(ToolOutput::Text(spec_text(
        store,
        args.count("max_traces", 5, i64::MAX),
    )?))
}

pub fn observability_report(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let request = audit_request(args);
    Ok(ToolOutput::Text(observability_text(
        store,
        request.contract_id,
        args.count("max_traces", 10, i64::MAX),
        args.count("max_knowledge", 8, i64::MAX),
    )?))
}


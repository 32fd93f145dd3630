//! Governance tools: write the policy, audit the active contract's evidence, export the report.

use super::workspace::project_path;
use super::ToolOutput;
use crate::harness::governance::{self, AuditRequest};
use crate::harness::state::{mutate_state, push_event};
use crate::harness::{Args, ToolError};
use crate::store::Store;
use serde_json::json;

pub fn write_policy(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let policy = governance::write_policy(store, args)?;
    mutate_state(store, |state| {
        push_event(
            state,
            "governance_policy_updated",
            json!({"ts": policy["updatedAt"], "summary": "Governance policy updated."}),
        );
        Ok(())
    })?;
    Ok(ToolOutput::Object(
        json!({"projectPath": project_path(store), "policy": policy}),
    ))
}

/// The audit request of the tool arguments (`max_traces` 20 and `max_gates` 12 by default).
pub fn audit_request(args: Args<'_>) -> AuditRequest {
    AuditRequest {
        contract_id: args.text("contract_id"),
        max_traces: args.count("max_traces", 20, i64::MAX),
        max_gates: args.count("max_gates", 12, i64::MAX),
    }
}

pub fn audit(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    Ok(ToolOutput::Object(governance::audit(
        store,
        &audit_request(args),
    )?))
}

pub fn export_report(store: &Store, args: Args<'_>) -> Result<ToolOutput, ToolError> {
    let audit = governance::audit(store, &audit_request(args))?;
    Ok(ToolOutput::Text(governance::render_report(&audit)))
}

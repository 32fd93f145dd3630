//! Export tools: the natural-language harness spec and the observability report.

use super::governance::audit_request;
use super::ToolOutput;
use crate::harness::reports::{observability_text, spec_text};
use crate::harness::{Args, ToolError};
use crate::store::Store;

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

//! The governance policy file (`policy.json`, version 1): its defaults.

use serde_json::{json, Value};

pub const POLICY_FILE: &str = "policy.json";

/// The default sub-agent policy sentence.
pub const DEFAULT_SUBAGENT_POLICY: &str =
    "Every sub-agent needs a stated role, the paths it may write, the form of its output, a budget and a rule for when to stop.";

/// The default policy, stamped with `now` as both creation and update time.
pub fn default_policy(now: &str) -> Value {
    json!({
        "version": 1,
        "createdAt": now,
        "updatedAt": now,
        "allowedWriteRoots": [],
        "forbiddenPaths": [".env", ".env.*", ".secrets/**", "node_modules/**", ".git/**"],
        "requiredVerification": [],
        "requireTraceRaw": true,
        "requireCompletionGate": true,
        "networkAllowed": false,
        "installPackagesAllowed": false,
        "subagentPolicy": DEFAULT_SUBAGENT_POLICY,
        "notes": null
    })
}

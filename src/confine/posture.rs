//! The confinement posture: what is actually in force after [`super::apply`], in the three forms
//! the server needs (a stable JSON object for `initialize` and the security resource, one
//! stderr line at start-up, and loud warnings).
//!
//! This module only formats; it must never apply or probe anything, and it must never describe
//! a layer as stronger than the state it was given.

use super::seccomp::{ALLOWED_SYSCALLS, DEFAULT_ACTION, DENIED_ACTION, DENIED_SYSCALLS};
use super::LayerState;
use serde_json::{json, Map, Value};

/// What confinement is in force for this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posture {
    /// `enforced` when the effective, permitted, inheritable and ambient sets are empty.
    pub capabilities: LayerState,
    /// Whether the bounding set is empty too (it cannot be emptied without `CAP_SETPCAP`).
    pub bounding_set_empty: bool,
    pub landlock: LayerState,
    /// The Landlock ABI the ruleset was built for, when Landlock is in force.
    pub landlock_abi: Option<i32>,
    pub no_new_privs: LayerState,
    pub seccomp: LayerState,
    /// Whether `openat2` (RESOLVE_BENEATH) works on this kernel.
    pub openat2: bool,
    /// Whether the effective uid is 0.
    pub running_as_root: bool,
}

fn layer_json(state: &LayerState) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("state".into(), Value::from(state.as_str()));
    match state {
        LayerState::Partial { abi } => {
            object.insert("abi".into(), Value::from(*abi));
        }
        LayerState::Unavailable { reason } => {
            object.insert("reason".into(), Value::from(reason.as_str()));
        }
        LayerState::Enforced | LayerState::Disabled => {}
    }
    object
}

impl Posture {
    /// True when the capability drop, Landlock, `no_new_privs` and seccomp are all fully
    /// enforced.
    pub fn fully_enforced(&self) -> bool {
        self.capabilities.is_enforced()
            && self.landlock.is_enforced()
            && self.no_new_privs.is_enforced()
            && self.seccomp.is_enforced()
    }

    /// A stable JSON object: `capabilities{state,boundingSetEmpty}`, `landlock{state,abi}`,
    /// `noNewPrivs{state}`,
    /// `seccomp{state,defaultAction,deniedAction,allowedSyscalls,deniedSyscalls}`, `openat2`,
    /// `runningAsRoot`, `fullyEnforced`; an `unavailable` layer also carries its `reason`.
    pub fn to_json(&self) -> Value {
        let mut capabilities = layer_json(&self.capabilities);
        if self.capabilities != LayerState::Disabled {
            capabilities.insert(
                "boundingSetEmpty".into(),
                Value::from(self.bounding_set_empty),
            );
        }
        let mut landlock = layer_json(&self.landlock);
        if let Some(abi) = self.landlock_abi {
            landlock.insert("abi".into(), Value::from(abi));
        }
        let mut seccomp = layer_json(&self.seccomp);
        if self.seccomp.is_enforced() {
            seccomp.insert("defaultAction".into(), Value::from(DEFAULT_ACTION));
            seccomp.insert("deniedAction".into(), Value::from(DENIED_ACTION));
            seccomp.insert(
                "allowedSyscalls".into(),
                Value::from(ALLOWED_SYSCALLS.len()),
            );
            seccomp.insert("deniedSyscalls".into(), Value::from(DENIED_SYSCALLS.len()));
        }
        json!({
            "capabilities": capabilities,
            "landlock": landlock,
            "noNewPrivs": layer_json(&self.no_new_privs),
            "seccomp": seccomp,
            "openat2": self.openat2,
            "runningAsRoot": self.running_as_root,
            "fullyEnforced": self.fully_enforced(),
        })
    }

    /// One start-up line for stderr: version, project as given, and each layer's state.
    pub fn stderr_line(&self, version: &str, project_as_given: &str) -> String {
        let landlock = match (&self.landlock, self.landlock_abi) {
            (LayerState::Enforced, Some(abi)) => format!("enforced (ABI {abi})"),
            (state, _) => state.to_string(),
        };
        let capabilities = match (&self.capabilities, self.bounding_set_empty) {
            (LayerState::Enforced, true) => "dropped".to_string(),
            (LayerState::Enforced, false) => "dropped (bounding set kept: no CAP_SETPCAP)".into(),
            (state, _) => state.to_string(),
        };
        format!(
            "codex-harness-mcp {version}: project {project_as_given:?}; capabilities \
             {capabilities}; landlock {landlock}; no_new_privs {}; seccomp {}; openat2 {}",
            self.no_new_privs,
            self.seccomp,
            if self.openat2 { "yes" } else { "no" },
        )
    }

    /// Loud warnings, one per weakness, empty when everything is in force and the user is not
    /// root. Each is meant to be printed on stderr on its own line.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.landlock == LayerState::Disabled {
            warnings.push(
                "WARNING: --no-confinement: kernel confinement is OFF (debugging only); this \
                 process can read, write, connect and execute anything your user can"
                    .to_string(),
            );
        }
        match &self.landlock {
            LayerState::Unavailable { reason } => warnings.push(format!(
                "WARNING: Landlock unavailable ({reason}): filesystem access is NOT confined to \
                 .codex-harness/; use --require-confinement to refuse to start"
            )),
            LayerState::Partial { abi } => warnings.push(format!(
                "WARNING: Landlock only partially enforced (ABI {abi}): some access rights are \
                 not mediated by this kernel"
            )),
            LayerState::Enforced | LayerState::Disabled => {}
        }
        if let LayerState::Unavailable { reason } = &self.capabilities {
            warnings.push(format!(
                "WARNING: capabilities not dropped ({reason}): a privileged launcher's \
                 capabilities stay usable; use --require-confinement to refuse to start"
            ));
        }
        if let LayerState::Unavailable { reason } = &self.no_new_privs {
            warnings.push(format!("WARNING: no_new_privs unavailable ({reason})"));
        }
        if let LayerState::Unavailable { reason } = &self.seccomp {
            warnings.push(format!(
                "WARNING: seccomp unavailable ({reason}): sockets, exec and other system calls \
                 are NOT blocked; use --require-confinement to refuse to start"
            ));
        }
        if !self.openat2 {
            warnings.push(
                "WARNING: openat2 unavailable: the kernel cannot enforce RESOLVE_BENEATH on \
                 opens"
                    .to_string(),
            );
        }
        if self.running_as_root {
            warnings.push(
                "WARNING: running as uid 0: a confinement gap would expose the whole system; \
                 run the server as an ordinary user"
                    .to_string(),
            );
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enforced() -> Posture {
        Posture {
            capabilities: LayerState::Enforced,
            bounding_set_empty: true,
            landlock: LayerState::Enforced,
            landlock_abi: Some(7),
            no_new_privs: LayerState::Enforced,
            seccomp: LayerState::Enforced,
            openat2: true,
            running_as_root: false,
        }
    }

    #[test]
    fn enforced_posture_json_has_the_stable_shape() {
        let value = enforced().to_json();
        assert_eq!(
            value["capabilities"],
            json!({"state": "enforced", "boundingSetEmpty": true})
        );
        assert_eq!(value["landlock"], json!({"state": "enforced", "abi": 7}));
        assert_eq!(value["noNewPrivs"], json!({"state": "enforced"}));
        assert_eq!(value["seccomp"]["state"], "enforced");
        assert_eq!(value["seccomp"]["defaultAction"], "errno(ENOSYS)");
        assert_eq!(value["seccomp"]["deniedAction"], "errno(EPERM)");
        assert_eq!(value["seccomp"]["allowedSyscalls"], ALLOWED_SYSCALLS.len());
        assert_eq!(value["seccomp"]["deniedSyscalls"], DENIED_SYSCALLS.len());
        assert_eq!(value["openat2"], true);
        assert_eq!(value["runningAsRoot"], false);
        assert_eq!(value["fullyEnforced"], true);
        let keys: Vec<&String> = value
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "capabilities",
                "landlock",
                "noNewPrivs",
                "seccomp",
                "openat2",
                "runningAsRoot",
                "fullyEnforced"
            ]
        );
    }

    #[test]
    fn enforced_posture_has_no_warnings_and_one_stderr_line() {
        let posture = enforced();
        assert!(posture.fully_enforced());
        assert!(posture.warnings().is_empty());
        let line = posture.stderr_line("0.2.0", "/p");
        assert!(!line.contains('\n'));
        assert_eq!(
            line,
            "codex-harness-mcp 0.2.0: project \"/p\"; capabilities dropped; landlock \
             enforced (ABI 7); no_new_privs enforced; seccomp enforced; openat2 yes"
        );
    }

    #[test]
    fn unavailable_landlock_is_reported_with_reason_and_a_loud_warning() {
        let posture = Posture {
            landlock: LayerState::Unavailable {
                reason: "the kernel has no Landlock support".into(),
            },
            landlock_abi: None,
            ..enforced()
        };
        assert!(!posture.fully_enforced());
        assert_eq!(
            posture.to_json()["landlock"],
            json!({"state": "unavailable", "reason": "the kernel has no Landlock support"})
        );
        let warnings = posture.warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("WARNING: Landlock unavailable"));
        assert!(posture
            .stderr_line("0.2.0", "p")
            .contains("landlock unavailable"));
    }

    #[test]
    fn partial_landlock_reports_its_abi() {
        let posture = Posture {
            landlock: LayerState::Partial { abi: 3 },
            landlock_abi: Some(3),
            ..enforced()
        };
        assert_eq!(
            posture.to_json()["landlock"],
            json!({"state": "partial", "abi": 3})
        );
        assert!(posture
            .stderr_line("0.2.0", "p")
            .contains("landlock partial (ABI 3)"));
        assert!(posture.warnings()[0].contains("partially enforced (ABI 3)"));
    }

    #[test]
    fn disabled_posture_and_root_are_warned_about() {
        let posture = Posture {
            capabilities: LayerState::Disabled,
            bounding_set_empty: false,
            landlock: LayerState::Disabled,
            landlock_abi: None,
            no_new_privs: LayerState::Disabled,
            seccomp: LayerState::Disabled,
            openat2: true,
            running_as_root: true,
        };
        let warnings = posture.warnings();
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].contains("--no-confinement"));
        assert!(warnings[1].contains("uid 0"));
        assert_eq!(posture.to_json()["seccomp"], json!({"state": "disabled"}));
        assert_eq!(
            posture.to_json()["capabilities"],
            json!({"state": "disabled"})
        );
        assert!(posture.stderr_line("0.2.0", "p").contains(
            "capabilities disabled; landlock disabled; no_new_privs disabled; seccomp disabled"
        ));
    }

    #[test]
    fn capabilities_left_in_place_are_not_fully_enforced_and_are_warned_about() {
        let posture = Posture {
            capabilities: LayerState::Unavailable {
                reason: "capset failed: EPERM".into(),
            },
            ..enforced()
        };
        assert!(!posture.fully_enforced());
        assert_eq!(
            posture.to_json()["capabilities"]["reason"],
            "capset failed: EPERM"
        );
        assert!(posture.warnings()[0].starts_with("WARNING: capabilities not dropped"));
    }

    #[test]
    fn a_kept_bounding_set_is_named_on_the_stderr_line() {
        let posture = Posture {
            bounding_set_empty: false,
            ..enforced()
        };
        assert!(posture.fully_enforced());
        assert_eq!(posture.to_json()["capabilities"]["boundingSetEmpty"], false);
        assert!(posture
            .stderr_line("0.2.0", "p")
            .contains("capabilities dropped (bounding set kept: no CAP_SETPCAP)"));
    }
}

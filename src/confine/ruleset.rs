//! The Landlock layer: one ruleset that handles every access right the running kernel knows
//! and grants them all beneath the given directories only.
//!
//! This module owns building and enforcing that ruleset and reporting what the kernel did with
//! it. It must never add a rule for any path other than the descriptors it is given, and it
//! must never hide a degraded status: the caller gets the ruleset status and the ABI.

use landlock::{
    Access, AccessFs, AccessNet, CompatLevel, Compatible, LandlockStatus, PathBeneath,
    RestrictSelf, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetError, RulesetStatus, Scope,
    ABI,
};
use std::os::fd::BorrowedFd;

/// What the kernel reported after `landlock_restrict_self`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Landlock is not usable on this kernel; nothing was restricted.
    NotAvailable { reason: String },
    /// The ruleset was enforced; `fully` is false when the kernel dropped part of it.
    Enforced { abi: i32, fully: bool },
}

/// The Landlock ABI of the running kernel (as far as the `landlock` crate knows), without
/// restricting anything, or the reason there is none.
pub fn probe_abi() -> Result<ABI, String> {
    // With no flags requested and no_new_privs off, `apply` only asks the kernel for its
    // Landlock version and skips `landlock_restrict_self` entirely: it restricts nothing.
    let status = RestrictSelf::default()
        .no_new_privs(false)
        .apply()
        .map_err(|e| e.to_string())?;
    match status.landlock {
        LandlockStatus::Available { effective_abi, .. } => Ok(effective_abi),
        LandlockStatus::NotEnabled => {
            Err("Landlock is built into the kernel but not enabled at boot (lsm=)".into())
        }
        LandlockStatus::NotImplemented => Err("the kernel has no Landlock support".into()),
    }
}

/// Restricts the calling thread (and its future children) to `dirs`: every filesystem right
/// beneath each directory, nothing anywhere else. With `network_and_scopes`, all TCP bind and
/// connect (ABI 4+) is denied too, and abstract unix sockets and signals are scoped to this
/// domain (ABI 6+). Sets `no_new_privs`, as the kernel requires for unprivileged callers.
pub fn restrict(
    dirs: &[BorrowedFd<'_>],
    network_and_scopes: bool,
) -> Result<Outcome, RulesetError> {
    let abi = match probe_abi() {
        Ok(abi) => abi,
        Err(reason) => return Ok(Outcome::NotAvailable { reason }),
    };
    // Every right this kernel can mediate is handled, so anything not granted below is denied.
    let all_fs = AccessFs::from_all(abi);
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all_fs)?;
    if network_and_scopes {
        if abi >= ABI::V4 {
            // Handled with no NetPort rule: every TCP bind and connect is denied.
            ruleset = ruleset.handle_access(AccessNet::from_all(abi))?;
        }
        if abi >= ABI::V6 {
            ruleset = ruleset.scope(Scope::from_all(abi))?;
        }
    }
    let mut created = ruleset.create()?;
    for dir in dirs {
        created = created.add_rule(PathBeneath::new(*dir, all_fs))?;
    }
    let status = created.restrict_self()?;
    Ok(match status.ruleset {
        RulesetStatus::NotEnforced => Outcome::NotAvailable {
            reason: "the kernel did not enforce the Landlock ruleset".into(),
        },
        RulesetStatus::FullyEnforced => Outcome::Enforced {
            abi: abi as i32,
            fully: true,
        },
        RulesetStatus::PartiallyEnforced => Outcome::Enforced {
            abi: abi as i32,
            fully: false,
        },
    })
}

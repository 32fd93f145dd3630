//! Capabilities: every one is dropped, from every set, before Landlock; the outcome is read
//! back from the kernel.
//!
//! This module owns that step. It must never keep a capability for later use (the serve loop
//! needs none: the harness tree is opened before this runs), and it must never report the sets
//! as empty without having read them back. Run as root, a process otherwise keeps its full
//! set after Landlock and seccomp (`CAP_DAC_OVERRIDE`, `CAP_IPC_LOCK`, `CAP_SYS_ADMIN`…), and
//! each is a way around a layer that assumes an ordinary user.

use super::LayerState;
use rustix::io::Errno;
use rustix::thread::{CapabilitySet, CapabilitySets};

/// What [`drop_all`] achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// `enforced` when the effective, permitted, inheritable and ambient sets read back empty.
    pub state: LayerState,
    /// Whether the bounding set reads back empty. It can only be emptied with `CAP_SETPCAP`;
    /// a process that never had that capability keeps it, where it only bounds what an
    /// `execve` could gain (none can: `no_new_privs` is set and seccomp refuses `execve`).
    pub bounding_set_empty: bool,
}

/// Every capability number the running kernel knows (`PR_CAPBSET_READ` answers `EINVAL` past
/// the last one).
fn known_capabilities() -> impl Iterator<Item = CapabilitySet> {
    (0..u64::BITS)
        .map(|bit| CapabilitySet::from_bits_retain(1 << bit))
        .take_while(|&cap| rustix::thread::capability_is_in_bounding_set(cap) != Err(Errno::INVAL))
}

fn bounding_set_is_empty() -> bool {
    known_capabilities().all(|cap| rustix::thread::capability_is_in_bounding_set(cap) == Ok(false))
}

/// Drops the bounding set (first: it needs `CAP_SETPCAP`, which the next step removes), then
/// the ambient set, then the effective, permitted and inheritable sets, and reads all of them
/// back.
pub fn drop_all() -> Dropped {
    let before = rustix::thread::capabilities(None);
    let may_drop_bounding = before
        .as_ref()
        .is_ok_and(|sets| sets.effective.contains(CapabilitySet::SETPCAP));
    if may_drop_bounding {
        for cap in known_capabilities() {
            // A failure shows in the read-back below.
            let _ = rustix::thread::remove_capability_from_bounding_set(cap);
        }
    }
    // EINVAL on kernels before 4.3, which have no ambient set; the read-back covers the rest.
    let _ = rustix::thread::clear_ambient_capability_set();
    let empty = CapabilitySets {
        effective: CapabilitySet::empty(),
        permitted: CapabilitySet::empty(),
        inheritable: CapabilitySet::empty(),
    };
    let set = rustix::thread::set_capabilities(None, empty);
    let after = rustix::thread::capabilities(None);
    // The ambient set is a subset of permitted ∩ inheritable, so it is empty when they are.
    let state = match (set, after) {
        (_, Ok(sets)) if sets == empty => LayerState::Enforced,
        (Err(errno), _) => LayerState::Unavailable {
            reason: format!("capset failed: {errno}"),
        },
        (Ok(()), Ok(sets)) => LayerState::Unavailable {
            reason: format!(
                "capabilities remain (effective {:#x}, permitted {:#x}, inheritable {:#x})",
                sets.effective.bits(),
                sets.permitted.bits(),
                sets.inheritable.bits()
            ),
        },
        (Ok(()), Err(errno)) => LayerState::Unavailable {
            reason: format!("capget failed: {errno}"),
        },
    };
    let bounding_set_empty = bounding_set_is_empty();
    let state = match state {
        LayerState::Enforced if may_drop_bounding && !bounding_set_empty => {
            LayerState::Unavailable {
                reason: "the bounding set could not be emptied despite CAP_SETPCAP".into(),
            }
        }
        other => other,
    };
    Dropped {
        state,
        bounding_set_empty,
    }
}

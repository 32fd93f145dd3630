//! Kernel confinement of this process: inherited descriptors closed first; then, once the
//! harness directory is open, every capability dropped, Landlock (only the `.codex-harness/`
//! tree), `no_new_privs` and the seccomp filters; plus the pre-confinement hardening, the
//! report of what is in force ([`Posture`]), the `doctor` host check and the confinement
//! self-test.
//!
//! This module owns every privilege-reducing step, in one place and in one order. It must never
//! weaken a layer silently: a layer the kernel lacks is reported (and is fatal with
//! `required`), and it must never touch a path other than the directory descriptors it is given
//! once confinement has started.

mod capabilities;
pub mod descriptors;
mod doctor;
mod posture;
mod ruleset;
pub mod seccomp;
mod selftest;

pub use doctor::{doctor, filesystem_of, local_fs_check};
pub use posture::Posture;
pub use selftest::selftest;

use rustix::fs::{Mode, OFlags, ResolveFlags};
use std::fmt;
use std::io;
use std::os::fd::BorrowedFd;

/// How [`apply`] treats missing kernel layers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConfineOptions {
    /// `--no-confinement`: apply nothing (debugging only; reported loudly).
    pub disabled: bool,
    /// `--require-confinement`: a layer that is not fully enforced is an error.
    pub required: bool,
}

/// The state of one confinement layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerState {
    /// In force, completely.
    Enforced,
    /// In force, but the kernel dropped part of what was asked (Landlock only).
    Partial { abi: i32 },
    /// Not in force: the kernel lacks it or refused it.
    Unavailable { reason: String },
    /// Not applied because of `--no-confinement`.
    Disabled,
}

impl LayerState {
    /// The machine-readable state: `enforced`, `partial`, `unavailable` or `disabled`.
    /// [`fmt::Display`] gives the human form, e.g. `partial (ABI 3)`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Enforced => "enforced",
            Self::Partial { .. } => "partial",
            Self::Unavailable { .. } => "unavailable",
            Self::Disabled => "disabled",
        }
    }

    pub fn is_enforced(&self) -> bool {
        *self == Self::Enforced
    }
}

impl fmt::Display for LayerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Partial { abi } => write!(f, "partial (ABI {abi})"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// Why confinement could not be applied as asked.
#[derive(Debug)]
pub enum ConfineError {
    /// `--require-confinement` was given and a layer is not fully enforced.
    Required {
        layer: &'static str,
        state: LayerState,
    },
    /// The kernel supports Landlock but building or enforcing the ruleset failed.
    Landlock(String),
}

impl fmt::Display for ConfineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Required { layer, state } => {
                write!(f, "--require-confinement: {layer} is {state}")?;
                if let LayerState::Unavailable { reason } = state {
                    write!(f, " ({reason})")?;
                }
                f.write_str("; run `codex-harness-mcp doctor` to see what this host supports")
            }
            Self::Landlock(e) => write!(f, "applying the Landlock ruleset failed: {e}"),
        }
    }
}

impl std::error::Error for ConfineError {}

/// The degrade decision, kept pure so it can be tested without a kernel: a layer that is not
/// fully enforced is accepted (and later reported loudly by [`Posture::warnings`]) unless the
/// options require confinement, in which case it is an error naming the layer.
pub fn decide(
    layer: &'static str,
    state: LayerState,
    options: &ConfineOptions,
) -> Result<LayerState, ConfineError> {
    if options.required && !state.is_enforced() {
        return Err(ConfineError::Required { layer, state });
    }
    Ok(state)
}

/// Hardening that must happen before confinement: no core dumps and no same-user ptrace or
/// `/proc/<pid>/mem` access (not dumpable), and a warmed random source so no later call needs to
/// open `/dev/urandom`, which Landlock would deny.
pub fn harden_process() -> io::Result<()> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )?;
    let mut warm = [0u8; 16];
    getrandom::fill(&mut warm).map_err(|e| match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::other(e.to_string()),
    })?;
    Ok(())
}

/// Whether `openat2` works beneath `dir` (it is missing before Linux 5.6 and some container
/// runtimes' seccomp profiles refuse it with `EPERM`).
fn openat2_available(dir: BorrowedFd<'_>) -> bool {
    rustix::fs::openat2(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    )
    .is_ok()
}

/// Applies, in order, the capability drop (every set, the bounding set first), Landlock (only
/// the tree beneath `harness_dir`, no TCP, scoped abstract sockets and signals),
/// `no_new_privs`, and the seccomp filters, and reports what is in force. Landlock and seccomp
/// set `no_new_privs` themselves before installing, so neither needs `CAP_SYS_ADMIN`, which
/// is gone by then. Call [`harden_process`] first. With `disabled` nothing is applied; with `required`
/// any layer not fully enforced is an error (the process must then exit). A Landlock failure on
/// a kernel that has Landlock is always an error: the server fails closed rather than run
/// with a ruleset it could not build.
pub fn apply(
    harness_dir: BorrowedFd<'_>,
    options: &ConfineOptions,
) -> Result<Posture, ConfineError> {
    let openat2 = openat2_available(harness_dir);
    let running_as_root = rustix::process::geteuid().is_root();
    if options.disabled {
        return Ok(Posture {
            capabilities: LayerState::Disabled,
            bounding_set_empty: false,
            landlock: LayerState::Disabled,
            landlock_abi: None,
            no_new_privs: LayerState::Disabled,
            seccomp: LayerState::Disabled,
            openat2,
            running_as_root,
        });
    }

    let dropped = capabilities::drop_all();
    let capabilities = decide("capabilities", dropped.state, options)?;

    let (landlock, landlock_abi) = match ruleset::restrict(&[harness_dir], true) {
        Ok(ruleset::Outcome::Enforced { abi, fully: true }) => (LayerState::Enforced, Some(abi)),
        Ok(ruleset::Outcome::Enforced { abi, fully: false }) => {
            (LayerState::Partial { abi }, Some(abi))
        }
        Ok(ruleset::Outcome::NotAvailable { reason }) => (LayerState::Unavailable { reason }, None),
        Err(e) => return Err(ConfineError::Landlock(e.to_string())),
    };
    let landlock = decide("Landlock", landlock, options)?;

    // Landlock already set no_new_privs when it was enforced; set it (again) so the flag does
    // not depend on Landlock, and report what the kernel says rather than what we asked for.
    let no_new_privs = match rustix::thread::set_no_new_privs(true)
        .and_then(|()| rustix::thread::no_new_privs())
    {
        Ok(true) => LayerState::Enforced,
        Ok(false) => LayerState::Unavailable {
            reason: "the kernel reports no_new_privs as unset".into(),
        },
        Err(e) => LayerState::Unavailable {
            reason: format!("prctl(PR_SET_NO_NEW_PRIVS) failed: {e}"),
        },
    };
    let no_new_privs = decide("no_new_privs", no_new_privs, options)?;

    let seccomp = match seccomp::install() {
        Ok(()) => LayerState::Enforced,
        Err(e) => LayerState::Unavailable {
            reason: e.to_string(),
        },
    };
    let seccomp = decide("seccomp", seccomp, options)?;

    Ok(Posture {
        capabilities,
        bounding_set_empty: dropped.bounding_set_empty,
        landlock,
        landlock_abi,
        no_new_privs,
        seccomp,
        openat2,
        running_as_root,
    })
}

/// A narrower Landlock-only confinement for the installer subcommand: every filesystem right
/// beneath each of `dirs`, nothing elsewhere, no TCP, abstract sockets and signals scoped. No
/// seccomp filter is installed. Sets `no_new_privs` when Landlock is enforced.
pub fn restrict_to_directories(dirs: &[BorrowedFd<'_>]) -> Result<LayerState, ConfineError> {
    match ruleset::restrict(dirs, true) {
        Ok(ruleset::Outcome::Enforced { fully: true, .. }) => Ok(LayerState::Enforced),
        Ok(ruleset::Outcome::Enforced { abi, fully: false }) => Ok(LayerState::Partial { abi }),
        Ok(ruleset::Outcome::NotAvailable { reason }) => Ok(LayerState::Unavailable { reason }),
        Err(e) => Err(ConfineError::Landlock(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: ConfineOptions = ConfineOptions {
        disabled: false,
        required: false,
    };
    const REQUIRED: ConfineOptions = ConfineOptions {
        disabled: false,
        required: true,
    };

    fn unavailable() -> LayerState {
        LayerState::Unavailable {
            reason: "the kernel has no Landlock support".into(),
        }
    }

    #[test]
    fn missing_layer_degrades_without_require_confinement() {
        assert_eq!(
            decide("Landlock", unavailable(), &DEFAULT).ok(),
            Some(unavailable())
        );
        assert_eq!(
            decide("Landlock", LayerState::Partial { abi: 2 }, &DEFAULT).ok(),
            Some(LayerState::Partial { abi: 2 })
        );
    }

    #[test]
    fn missing_layer_is_fatal_with_require_confinement() {
        let error = decide("Landlock", unavailable(), &REQUIRED).expect_err("must refuse");
        let message = error.to_string();
        assert!(message.contains("--require-confinement"), "{message}");
        assert!(message.contains("Landlock is unavailable"), "{message}");
        assert!(message.contains("no Landlock support"), "{message}");
        assert!(message.contains("doctor"), "{message}");
    }

    #[test]
    fn partial_landlock_is_fatal_with_require_confinement() {
        let error =
            decide("Landlock", LayerState::Partial { abi: 3 }, &REQUIRED).expect_err("must refuse");
        assert!(error.to_string().contains("partial (ABI 3)"));
    }

    #[test]
    fn enforced_layer_passes_with_require_confinement() {
        assert_eq!(
            decide("seccomp", LayerState::Enforced, &REQUIRED).ok(),
            Some(LayerState::Enforced)
        );
    }

    #[test]
    fn layer_state_strings_are_stable() {
        assert_eq!(LayerState::Enforced.to_string(), "enforced");
        assert_eq!(
            LayerState::Partial { abi: 4 }.to_string(),
            "partial (ABI 4)"
        );
        assert_eq!(LayerState::Partial { abi: 4 }.as_str(), "partial");
        assert_eq!(unavailable().to_string(), "unavailable");
        assert_eq!(LayerState::Disabled.to_string(), "disabled");
    }
}

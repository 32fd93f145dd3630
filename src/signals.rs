//! The termination signals (SIGTERM, SIGINT, SIGHUP) as a readable descriptor.
//!
//! Owns turning those three signals into something the single-threaded session loop can poll
//! together with stdin: they are blocked for the (only) thread and routed to a `signalfd`, so
//! a signal never interrupts a request half-way; it is noticed between requests, the session
//! ends as at the end of input (the request in flight finishes, the knowledge journal is
//! folded, stdout is flushed) and the process exits 0. It must never install a signal
//! handler (no code runs in signal context, nothing here needs `unsafe`), and it must be set
//! up before any thread exists and before confinement (the seccomp allow-list has no
//! `signalfd4`; polling and reading the descriptor afterwards use `ppoll` and `read`).

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::os::fd::{AsFd, BorrowedFd};

/// The signals that end a session cleanly.
pub const TERMINATING: [Signal; 3] = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP];

/// A non-blocking `signalfd` that becomes readable when a terminating signal is pending.
#[derive(Debug)]
pub struct Termination {
    fd: SignalFd,
}

impl Termination {
    /// Blocks [`TERMINATING`] for this thread and opens the descriptor that reports them.
    pub fn install() -> std::io::Result<Termination> {
        let mut set = SigSet::empty();
        for signal in TERMINATING {
            set.add(signal);
        }
        set.thread_block()?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Termination { fd })
    }

    /// The name of a pending terminating signal, consuming it; `None` when none is pending.
    pub fn take(&self) -> Option<&'static str> {
        let info = self.fd.read_signal().ok()??;
        let signal = Signal::try_from(i32::try_from(info.ssi_signo).ok()?).ok()?;
        Some(signal.as_str())
    }
}

impl AsFd for Termination {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

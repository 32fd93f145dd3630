//! The one way this binary writes outside the protocol: diagnostic lines to stderr
//! ([`line`]) and the output of the one-shot commands to stdout ([`report`]).
//!
//! The standard print macros panic when the write fails (a client that closed the read end
//! of the server's stderr pipe, a redirection to a full disk), and the release profile turns
//! every panic into an abort, so a lost log line would end the session. [`line`] formats the
//! whole line first, writes it with one `write_all` and drops any error: losing a diagnostic
//! is always better than losing the session. [`report`] is for `--version`, `--help`,
//! `doctor`, the self-test and the installer, never for a serving process, whose stdout
//! carries only the protocol.

use std::fmt::Display;
use std::io::Write;

/// Writes `message` and a newline to stderr, ignoring every write error.
pub fn line(message: impl Display) {
    let mut text = message.to_string();
    text.push('\n');
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Writes `text` to stdout as it is; `false` when it could not be written (a closed or broken
/// stdout), which the caller turns into its exit status instead of a panic.
pub fn report(text: impl Display) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(text.to_string().as_bytes())
        .and_then(|()| out.flush())
        .is_ok()
}

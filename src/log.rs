//! The one way this binary writes a diagnostic line to stderr.
//!
//! `eprintln!` panics when the write fails (a client that closed the read end of the server's
//! stderr pipe, a redirection to a full disk), and the release profile turns every panic into
//! an abort, so a lost log line would end the session. [`line`] formats the whole line first,
//! writes it with one `write_all` and drops any error: losing a diagnostic is always better
//! than losing the session. It must never write to stdout, which carries only the protocol.

use std::fmt::Display;
use std::io::Write;

/// Writes `message` and a newline to stderr, ignoring every write error.
pub fn line(message: impl Display) {
    let mut text = message.to_string();
    text.push('\n');
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

//! JSON-RPC 2.0 and the MCP lifecycle over the framed byte stream.
//!
//! Owns: turning a [`Frame`] into at most one reply line, the mapping of every failure to a
//! JSON-RPC error code (in [`RpcError`], one place), redaction of the project path from every
//! error text, and the method table. Requests are handled one at a time, in order, so replies
//! leave in request order. It never touches the filesystem itself. Which MCP revision a
//! request is answered in, and what that changes, is [`era`]'s business (its module doc
//! holds the table of every difference by version).

mod completion;
pub mod era;
mod jsonrpc;
mod methods;
mod session;

pub use jsonrpc::{
    RpcError, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR,
    RESOURCE_NOT_FOUND,
};
pub use methods::{INSTRUCTIONS, POSTURE_META_KEY};

use crate::log;
use crate::sanitize::Redactor;
use crate::signals::Termination;
use crate::store::Store;
use crate::transport::{Frame, Framer, StdioError};
use jsonrpc::Id;
use serde_json::Value;
use session::{Input, Session};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::rc::Rc;

/// How long the session waits without input, after serving a request, before it folds the
/// knowledge journal into `index.json`. Knowledge recorded here must reach a Node server
/// (which reads only `index.json`) within a second of the client pausing, and the fold must
/// not run inside a burst: an agent's back-to-back calls arrive well under a tenth of a
/// second apart, while the fold rewrites the whole index (tens of milliseconds for
/// thousands of items). A quarter second separates the two and leaves most of the second
/// for the fold itself. At worst (one record per pause) this rewrites the index as often as
/// the Node server, which rewrites it on every record. The first such pause also reaps the
/// temp files a crashed writer left, which start-up leaves for later so that the first reply
/// never waits on a walk of every record directory.
pub const IDLE_FOLD_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// Everything a request can reach: the store of the pinned project, the redactor for error
/// texts, the confinement posture reported by `initialize` and the security resource, and
/// the legacy version the latest `initialize` negotiated.
pub struct Server {
    pub store: Store,
    pub redactor: Redactor,
    pub posture: Value,
    pub legacy: era::LegacyState,
    /// Set once [`Server::tidy`] has reaped (an atomic only so a `Server` can be shared).
    orphans_reaped: std::sync::atomic::AtomicBool,
}

impl Server {
    pub fn new(store: Store, redactor: Redactor, posture: Value) -> Server {
        Server {
            store,
            redactor,
            posture,
            legacy: era::LegacyState::default(),
            orphans_reaped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Handles one frame; `None` when nothing must be sent (blank line, notification).
    pub fn handle_frame(&self, frame: &Frame) -> Option<String> {
        self.handle(frame, &mut |_, _, _| {}, &mut || false)
    }

    /// [`Server::handle_frame`] that tells `begin` which request starts (and the version it is
    /// served at) and asks `cancelled`, once it has run, whether the client cancelled it
    /// (then nothing is sent).
    fn handle(
        &self,
        frame: &Frame,
        begin: &mut dyn FnMut(&Id, Option<&Value>, era::Version),
        cancelled: &mut dyn FnMut() -> bool,
    ) -> Option<String> {
        let reply = match jsonrpc::classify(frame) {
            jsonrpc::Incoming::Ignore => return None,
            jsonrpc::Incoming::Invalid { id, error } => {
                jsonrpc::error_reply(&id, &self.redact(error))
            }
            jsonrpc::Incoming::Notification => return None,
            jsonrpc::Incoming::Request { id, method, params } => {
                let answer = era::select(&method, params.as_ref(), &self.legacy).and_then(|v| {
                    begin(&id, params.as_ref(), v);
                    let result = methods::dispatch(self, v, &method, params.as_ref());
                    // `initialize` answers at the version it has just negotiated.
                    let v = if method == "initialize" && !v.is_modern() {
                        self.legacy.current()
                    } else {
                        v
                    };
                    result
                        .map(|result| era::shape_result(v, &method, result))
                        .map_err(|error| era::shape_error(v, error))
                });
                if cancelled() {
                    return None;
                }
                match answer {
                    Ok(result) => jsonrpc::result_reply(&id, result, &self.redactor),
                    Err(error) => jsonrpc::error_reply(&id, &self.redact(error)),
                }
            }
        };
        Some(reply)
    }

    /// The work that waits for a pause in the requests, or for the end of the session: the
    /// first time, removing the temp files a crashed writer left (hygiene that start-up
    /// defers, see [`IDLE_FOLD_AFTER`]); every time, [`Server::fold_knowledge`].
    pub fn tidy(&self, when: &str) {
        if !self
            .orphans_reaped
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            let reaped = self.store.reap_temp_files(&crate::store::process_exists);
            if reaped > 0 {
                log::line(format_args!(
                    "codex-harness-mcp: removed {reaped} orphaned temp file(s)"
                ));
            }
        }
        self.fold_knowledge(when);
    }

    /// Writes `knowledge/index.json` (the one file a Node server reads) if records are pending
    /// for it. A failure loses nothing (the segments and journal hold every record, and the
    /// export is retried later), so it is a warning.
    fn fold_knowledge(&self, when: &str) {
        if let Err(error) = crate::knowledge::serve::export_if_pending(&self.store) {
            let message = self.redactor.redact(&error.0);
            log::line(format_args!(
                "codex-harness-mcp: warning: knowledge/index.json not written {when}: {message}"
            ));
        }
    }

    fn redact(&self, error: RpcError) -> RpcError {
        RpcError {
            message: self.redactor.redact(&error.message),
            ..error
        }
    }

    /// Serves until `input` ends: every complete line gets its reply, written and flushed
    /// before the next line is handled. Returns `Ok` at the end of input; the first failed
    /// read or reply write ends the session at once (a client that closed our stdout would
    /// otherwise have every later request executed and its answer discarded). While a request
    /// waits on a lock, the session watches `input` for its cancellation. A signal on `stop`
    /// ends the session like the end of input, once the request in flight is answered; a
    /// pause of [`IDLE_FOLD_AFTER`] after start-up or a request runs [`Server::tidy`].
    pub fn serve<R, W>(
        &self,
        input: R,
        output: W,
        stop: Option<Termination>,
    ) -> Result<(), StdioError>
    where
        R: Read + AsFd + 'static,
        W: Write + 'static,
    {
        let session = Rc::new(RefCell::new(Session::new(input, output, stop)));
        let waiting = Rc::clone(&session);
        let wait = Box::new(move |waited, pause| waiting.borrow_mut().wait(waited, pause));
        let served = crate::store::with_lock_wait(wait, || self.serve_session(&session));
        served.map_err(StdioError::Read)?;
        let write_error = session.borrow_mut().take_write_error();
        match write_error {
            Some(error) => Err(StdioError::Write(error)),
            None => Ok(()),
        }
    }

    fn serve_session<R: Read + AsFd, W: Write>(
        &self,
        session: &RefCell<Session<R, W>>,
    ) -> std::io::Result<()> {
        let mut framer = Framer::new();
        let mut frames = Vec::new();
        let mut finished = false;
        // True at start-up too: a journal a killed server left is exported at the first idle
        // pause, after the first replies rather than before them.
        let mut served_since_idle = true;
        while !finished {
            let idle = served_since_idle.then_some(IDLE_FOLD_AFTER);
            // The borrow ends before any frame is handled: the lock wait borrows again.
            let input = session.borrow_mut().next_input(idle)?;
            match input {
                Input::Bytes(bytes) => framer.push(&bytes, &mut frames),
                Input::End => {
                    framer.finish(&mut frames);
                    finished = true;
                }
                Input::Idle => {
                    served_since_idle = false;
                    self.tidy("after an idle pause");
                }
                // An unterminated line is not a request yet: it is dropped, not answered.
                Input::Stop(signal) => {
                    log::line(format_args!(
                        "codex-harness-mcp: {signal} received; ending the session"
                    ));
                    return Ok(());
                }
            }
            served_since_idle |= !frames.is_empty();
            // Queued in the session, so a request waiting on a lock sees the frames behind it.
            session.borrow_mut().queue(frames.drain(..));
            loop {
                // The borrow ends before the frame is handled: the lock wait borrows again.
                let next = session.borrow_mut().next_frame();
                let Some(frame) = next else {
                    break;
                };
                let line = self.handle(
                    &frame,
                    &mut |id, params, version| session.borrow_mut().begin(id, params, version),
                    &mut || session.borrow_mut().end(),
                );
                if let Some(line) = line {
                    let mut session = session.borrow_mut();
                    session.send(&line);
                    if session.has_write_error() {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }
}

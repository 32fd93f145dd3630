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

use crate::sanitize::Redactor;
use crate::store::Store;
use crate::transport::{Frame, Framer, StdioError};
use jsonrpc::Id;
use serde_json::Value;
use session::Session;
use std::cell::RefCell;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::rc::Rc;

/// Everything a request can reach: the store of the pinned project, the redactor for error
/// texts, the confinement posture reported by `initialize` and the security resource, and
/// the legacy version the latest `initialize` negotiated.
pub struct Server {
    pub store: Store,
    pub redactor: Redactor,
    pub posture: Value,
    pub legacy: era::LegacyState,
}

impl Server {
    pub fn new(store: Store, redactor: Redactor, posture: Value) -> Server {
        Server {
            store,
            redactor,
            posture,
            legacy: era::LegacyState::default(),
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
    /// waits on a lock, the session watches `input` for its cancellation.
    pub fn serve<R, W>(&self, input: R, output: W) -> Result<(), StdioError>
    where
        R: Read + AsFd + 'static,
        W: Write + 'static,
    {
        let session = Rc::new(RefCell::new(Session::new(input, output)));
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
        while !finished {
            // The borrow ends before any frame is handled: the lock wait borrows again.
            let chunk = session.borrow_mut().next_chunk()?;
            match chunk {
                Some(bytes) => framer.push(&bytes, &mut frames),
                None => {
                    framer.finish(&mut frames);
                    finished = true;
                }
            }
            for frame in frames.drain(..) {
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

//! JSON-RPC 2.0 and the MCP lifecycle over the framed byte stream.
//!
//! Owns: turning a [`Frame`] into at most one reply line, the mapping of every failure to a
//! JSON-RPC error code (in [`RpcError`], one place), redaction of the project path from every
//! error text, and the method table. Requests are handled one at a time, in order, so replies
//! leave in request order. It never touches the filesystem itself. Which MCP revision a
//! request is answered in, and what that changes, is [`era`]'s business (its module doc
//! holds the table of every difference by version).

pub mod era;
mod jsonrpc;
mod methods;

pub use jsonrpc::{
    RpcError, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR,
    RESOURCE_NOT_FOUND,
};
pub use methods::{INSTRUCTIONS, POSTURE_META_KEY};

use crate::sanitize::Redactor;
use crate::store::Store;
use crate::transport::{for_each_frame, Frame};
use serde_json::Value;
use std::io::{self, Read, Write};

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
        let reply = match jsonrpc::classify(frame) {
            jsonrpc::Incoming::Ignore => return None,
            jsonrpc::Incoming::Invalid { id, error } => {
                jsonrpc::error_reply(id, &self.redact(error))
            }
            jsonrpc::Incoming::Notification => return None,
            jsonrpc::Incoming::Request { id, method, params } => {
                let answer = era::select(&method, params.as_ref(), &self.legacy).and_then(|v| {
                    methods::dispatch(self, v, &method, params.as_ref())
                        .map(|result| era::shape_result(v, &method, result))
                        .map_err(|error| era::shape_error(v, error))
                });
                match answer {
                    Ok(result) => jsonrpc::result_reply(id, result, &self.redactor),
                    Err(error) => jsonrpc::error_reply(id, &self.redact(error)),
                }
            }
        };
        Some(crate::json::to_compact(&reply))
    }

    fn redact(&self, error: RpcError) -> RpcError {
        RpcError {
            message: self.redactor.redact(&error.message),
            ..error
        }
    }

    /// Serves until `input` ends: every complete line gets its reply, written and flushed
    /// before the next line is handled. Returns when input is exhausted (status 0).
    pub fn serve(&self, input: impl Read, output: &mut impl Write) -> io::Result<()> {
        let mut write_error = None;
        for_each_frame(input, |frame| {
            if write_error.is_some() {
                return;
            }
            if let Some(line) = self.handle_frame(&frame) {
                let sent = output
                    .write_all(line.as_bytes())
                    .and_then(|()| output.write_all(b"\n"))
                    .and_then(|()| output.flush());
                if let Err(error) = sent {
                    write_error = Some(error);
                }
            }
        })?;
        match write_error {
            // The client went away: nothing more can be said to it.
            Some(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

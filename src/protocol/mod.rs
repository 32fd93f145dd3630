//! JSON-RPC 2.0 and the MCP lifecycle over the framed byte stream.
//!
//! Owns: turning a [`Frame`] into at most one reply line, the mapping of every failure to a
//! JSON-RPC error code (in [`RpcError`], one place), redaction of the project path from every
//! error text, and the method table. Requests are handled one at a time, in order, so replies
//! leave in request order. It never touches the filesystem itself.

mod jsonrpc;
mod methods;

pub use jsonrpc::{
    RpcError, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR,
    RESOURCE_NOT_FOUND,
};
pub use methods::{POSTURE_META_KEY, PREFERRED_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS};

use crate::sanitize::Redactor;
use crate::store::Store;
use crate::transport::{for_each_frame, Frame, StdioError};
use serde_json::Value;
use std::io::{Read, Write};
use std::ops::ControlFlow;

/// Everything a request can reach: the store of the pinned project, the redactor for error
/// texts, and the confinement posture reported by `initialize` and the security resource.
pub struct Server {
    pub store: Store,
    pub redactor: Redactor,
    pub posture: Value,
}

impl Server {
    /// Handles one frame; `None` when nothing must be sent (blank line, notification).
    pub fn handle_frame(&self, frame: &Frame) -> Option<String> {
        let reply = match jsonrpc::classify(frame) {
            jsonrpc::Incoming::Ignore => return None,
            jsonrpc::Incoming::Invalid { id, error } => {
                jsonrpc::error_reply(&id, &self.redact(error))
            }
            jsonrpc::Incoming::Notification => return None,
            jsonrpc::Incoming::Request { id, method, params } => {
                match methods::dispatch(self, &method, params.as_ref()) {
                    Ok(result) => jsonrpc::result_reply(&id, result, &self.redactor),
                    Err(error) => jsonrpc::error_reply(&id, &self.redact(error)),
                }
            }
        };
        Some(reply)
    }

    fn redact(&self, error: RpcError) -> RpcError {
        RpcError {
            code: error.code,
            message: self.redactor.redact(&error.message),
        }
    }

    /// Serves until `input` ends: every complete line gets its reply, written and flushed
    /// before the next line is handled. Returns `Ok` at the end of input; the first failed
    /// read or reply write ends the session at once (a client that closed our stdout would
    /// otherwise have every later request executed and its answer discarded).
    pub fn serve(&self, input: impl Read, output: &mut impl Write) -> Result<(), StdioError> {
        let end = for_each_frame(input, |frame| {
            let Some(line) = self.handle_frame(&frame) else {
                return ControlFlow::Continue(());
            };
            match output
                .write_all(line.as_bytes())
                .and_then(|()| output.write_all(b"\n"))
                .and_then(|()| output.flush())
            {
                Ok(()) => ControlFlow::Continue(()),
                Err(error) => ControlFlow::Break(StdioError::Write(error)),
            }
        });
        match end {
            Ok(ControlFlow::Continue(())) => Ok(()),
            Ok(ControlFlow::Break(error)) => Err(error),
            Err(error) => Err(StdioError::Read(error)),
        }
    }
}

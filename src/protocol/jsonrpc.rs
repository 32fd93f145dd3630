//! JSON-RPC 2.0 messages: classifying a frame, and building replies.

use crate::json::{parse_message, to_compact};
use crate::sanitize::Redactor;
use crate::transport::Frame;
use serde_json::{json, Value};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// MCP's "resource not found".
pub const RESOURCE_NOT_FOUND: i64 = -32002;

/// A JSON-RPC error. The message is redacted before it is sent; `data` is built by this
/// server from values it chose (never from stored text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// A request id exactly as the client wrote it: the JSON text of a string, a number or
/// `null`, echoed byte for byte. Re-printing it from a parsed value would go through a
/// double (`18446744073709551617` would come back as `18446744073709552000`, `1e2` as `100`,
/// `-0` as `0`) and let two distinct ids collide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Id(String);

impl Id {
    /// The id of a reply to a line whose own id cannot be trusted.
    pub fn null() -> Id {
        Id("null".into())
    }

    /// The JSON text written into the reply.
    pub fn as_json(&self) -> &str {
        &self.0
    }
}

/// What a frame turned out to be.
pub enum Incoming {
    /// A blank line.
    Ignore,
    /// Not a valid request: answer with this error and id.
    Invalid { id: Id, error: RpcError },
    /// A valid message without `id`: never answered.
    Notification,
    Request {
        id: Id,
        method: String,
        params: Option<Value>,
    },
}

pub fn classify(frame: &Frame) -> Incoming {
    let invalid = |id: Id, code, message: String| Incoming::Invalid {
        id,
        error: RpcError::new(code, message),
    };
    let bytes = match frame {
        Frame::Oversize { .. } => {
            return invalid(
                Id::null(),
                PARSE_ERROR,
                "JSON-RPC line exceeds maximum allowed size.".into(),
            )
        }
        Frame::Line(bytes) => bytes,
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return invalid(
            Id::null(),
            PARSE_ERROR,
            "Invalid JSON: the line is not valid UTF-8.".into(),
        );
    };
    let text = text.trim_matches(crate::sanitize::is_js_whitespace);
    if text.is_empty() {
        return Incoming::Ignore;
    }
    let message = match parse_message(text) {
        Ok(message) => message,
        Err(error) => return invalid(Id::null(), PARSE_ERROR, format!("Invalid JSON: {error}")),
    };
    let Value::Object(mut object) = message.value else {
        let detail = if message.value.is_array() {
            " Batch arrays are not supported; send one request per line."
        } else {
            ""
        };
        return invalid(
            Id::null(),
            INVALID_REQUEST,
            format!("Invalid JSON-RPC request.{detail}"),
        );
    };
    // A repeated key makes the message ambiguous (which `id`, which `method`?), so it is
    // refused rather than resolved last-one-wins; inside `params` it is the params that are
    // invalid, and the request's id can still be trusted.
    let duplicate_in_params = match &message.duplicate {
        None => false,
        Some(duplicate) if duplicate.within.as_deref() == Some("params") => true,
        Some(_) => {
            return invalid(
                Id::null(),
                INVALID_REQUEST,
                "Invalid JSON-RPC request: a key appears twice in one object.".into(),
            )
        }
    };
    let id_text = message
        .members
        .iter()
        .find(|(key, _)| key == "id")
        .map(|(_, text)| Id((*text).to_string()));
    // JSON-RPC 2.0: an id is a string, a number or null. An array or object id is refused
    // (and not echoed: it could be arbitrarily large or deep).
    let id_shape_ok = object
        .get("id")
        .is_none_or(|id| id.is_string() || id.is_number() || id.is_null());
    if !id_shape_ok {
        return invalid(
            Id::null(),
            INVALID_REQUEST,
            "Invalid JSON-RPC request: id must be a string, a number or null.".into(),
        );
    }
    let valid = object.get("jsonrpc") == Some(&json!("2.0"))
        && object.get("method").is_some_and(Value::is_string);
    if !valid {
        return invalid(
            id_text.unwrap_or_else(Id::null),
            INVALID_REQUEST,
            "Invalid JSON-RPC request.".into(),
        );
    }
    let Some(id) = id_text else {
        return Incoming::Notification;
    };
    if duplicate_in_params {
        return invalid(
            id,
            INVALID_PARAMS,
            "Invalid params: a key appears twice in one object.".into(),
        );
    }
    let method = object
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Incoming::Request {
        id,
        method,
        params: object.remove("params"),
    }
}

/// `{"jsonrpc":"2.0","id":<id>,"<field>":<body>}`, the id spliced in as the client wrote it.
/// The reply line. The sink strips the vouch mark from every result; removing it here as
/// well means no path can ever show it to a client (who could then forge vouched text).
fn reply(id: &Id, field: &str, body: &Value) -> String {
    crate::sanitize::without_vouch_mark(format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{},\"{field}\":{}}}",
        id.as_json(),
        to_compact(body)
    ))
}

pub fn error_reply(id: &Id, error: &RpcError) -> String {
    let mut body = json!({"code": error.code, "message": error.message});
    if let Some(data) = &error.data {
        body["data"] = data.clone();
    }
    reply(id, "error", &body)
}

/// A successful reply. A tool's `isError` text is an error message too, so it is redacted.
pub fn result_reply(id: &Id, mut result: Value, redactor: &Redactor) -> String {
    if result.get("isError") == Some(&Value::Bool(true)) {
        if let Some(Value::Array(content)) = result.get_mut("content") {
            for item in content.iter_mut() {
                if let Some(Value::String(text)) = item.get_mut("text") {
                    *text = redactor.redact(text);
                }
            }
        }
    }
    reply(id, "result", &result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Frame {
        Frame::Line(text.as_bytes().to_vec())
    }

    #[test]
    fn js_trim_strips_bom_and_unicode_spaces() {
        assert!(matches!(
            classify(&line(
                "\u{feff} {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r"
            )),
            Incoming::Request { .. }
        ));
        assert!(matches!(classify(&line(" \u{3000} ")), Incoming::Ignore));
    }

    #[test]
    fn invalid_requests_keep_their_id() {
        match classify(&line(r#"{"jsonrpc":"2.0","id":5}"#)) {
            Incoming::Invalid { id, error } => {
                assert_eq!(id.as_json(), "5");
                assert_eq!(error.code, INVALID_REQUEST);
            }
            _ => panic!("expected invalid"),
        }
    }

    #[test]
    fn null_id_is_a_request_and_missing_id_a_notification() {
        assert!(matches!(
            classify(&line(r#"{"jsonrpc":"2.0","id":null,"method":"x"}"#)),
            Incoming::Request { id, .. } if id == Id::null()
        ));
        assert!(matches!(
            classify(&line(r#"{"jsonrpc":"2.0","method":"x"}"#)),
            Incoming::Notification
        ));
    }
}

//! JSON in the original's dialect. Owns two things and must never do more:
//! - writing: `JSON.stringify` output (compact, or pretty with two spaces), including JavaScript's
//!   number formatting (`1` not `1.0`, `1e+21`, `1e-7`), so files stay byte-compatible with the
//!   Node server;
//! - reading: lenient parsing of files a Node server wrote (invalid UTF-8 and lone UTF-16
//!   surrogate escapes become U+FFFD instead of failing the whole read), with a nesting bound.

mod number;
mod read;
mod write;

pub use number::{js_number, number_value, rounded_number, to_fixed};
pub use read::{parse_lenient, parse_message, DuplicateKey, Message, ParseError, MAX_JSON_DEPTH};
pub use write::{object_to_pretty_file, to_compact, to_pretty, to_pretty_at, to_pretty_file};

//! Everything that makes untrusted text safe to store and safe to show. Owns the agent-facing
//! output types ([`AgentText`], [`AgentJson`]: nothing else reaches a model), the original's
//! `sanitizeText` semantics, list limits, `<untrusted-data>` wrapping, safe file ids, slugs,
//! random ids and the redaction of the project path. Pure functions: no I/O, no state
//! (except the random source for ids).

mod agent;
mod agent_json;
mod fold;
mod ids;
mod markers;
mod redact;
mod text;
mod utf16;
mod wrap;

pub use agent::{echo, positional_only, AgentText, Form, Fragment};
pub use agent_json::{form_of_key, vocabulary, vouch_server_tree, without_vouch_mark, AgentJson};
pub use ids::{random_hex, safe_file_id, slugify};
pub use redact::Redactor;
pub use text::{
    is_js_whitespace, js_string, reference_id_list, sanitize_list, sanitize_nullable,
    sanitize_text, MAX_LIST_ITEMS, MAX_LIST_ITEM_LENGTH, MAX_TEXT_LENGTH,
    UNTRUSTED_MARKER_REPLACEMENT,
};
pub use utf16::{utf16_len, utf16_prefix, utf16_slice};
pub use wrap::{untrusted_block, untrusted_list};

//! Agent-facing text: the only kind of text a tool result, resource or prompt may carry.
//!
//! Owns [`AgentText`] and the [`agent_text!`](crate::agent_text) macro. An `AgentText` can be
//! made in exactly these ways, so a new output path cannot forget to neutralise a stored or
//! client-supplied value:
//! - a `&'static str` written into this program ([`AgentText::literal`], the literal pieces of
//!   `agent_text!`);
//! - untrusted text wrapped in an `<untrusted-data>` block ([`AgentText::block`]);
//! - a value validated against a safe form: a safe file id ([`AgentText::id`]), a member of a
//!   fixed vocabulary ([`AgentText::member`]), a timestamp ([`AgentText::timestamp`]), a
//!   number ([`Fragment`] for the numeric types);
//! - the project path the operator gave at launch ([`AgentText::launch_path`]);
//! - composition of the above (`agent_text!`, [`AgentText::join`]).
//!
//! It must never gain a constructor from an arbitrary `String`. The macro's assembly function
//! is public only because macros expand in other modules; `clippy.toml` forbids calling it by
//! hand, and its format string is checked at compile time to take positional arguments only
//! (an implicitly captured `{name}` would bypass [`Fragment`]).

use super::ids::safe_file_id;
use super::wrap::untrusted_block;
use crate::json::js_number;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::path::Path;

/// Text that may be shown to a model as it is. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentText(String);

/// A value `agent_text!` may interpolate: agent text itself and numbers, nothing else.
pub trait Fragment {
    fn fragment(&self) -> Cow<'_, str>;
}

impl Fragment for AgentText {
    fn fragment(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }
}

impl<T: Fragment + ?Sized> Fragment for &T {
    fn fragment(&self) -> Cow<'_, str> {
        (**self).fragment()
    }
}

macro_rules! integer_fragments {
    ($($ty:ty),*) => {$(
        impl Fragment for $ty {
            fn fragment(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
        }
    )*};
}
integer_fragments!(u8, u16, u32, u64, usize, i32, i64);

impl Fragment for f64 {
    fn fragment(&self) -> Cow<'_, str> {
        Cow::Owned(js_number(*self))
    }
}

/// The safe form a stored value must have to be shown unwrapped (see [`AgentText::stored`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// A safe file id.
    Id,
    /// A member of the vocabulary of this result key (`status`, `verdict`, `kind`, …).
    Word(&'static str),
    /// An ISO 8601 date or date-time.
    Timestamp,
    /// A JSON number.
    Number,
}

/// Longest timestamp shown unwrapped (an ISO 8601 date-time with milliseconds and offset).
const MAX_TIMESTAMP_LENGTH: usize = 40;

impl AgentText {
    /// Text written into this program.
    pub fn literal(text: &'static str) -> Self {
        Self(text.to_string())
    }

    /// Untrusted text in an `<untrusted-data source="…">` block (sanitised, bounded).
    pub fn block(text: &str, source: &str) -> Self {
        Self(untrusted_block(Some(text), source))
    }

    /// A stored value of any JSON type in a block, as JavaScript's `String(value)` shows it;
    /// a missing value gives an empty block, as the original does.
    pub fn block_value(value: Option<&Value>, source: &str) -> Self {
        let text = value.map(super::js_string).unwrap_or_default();
        Self::block(&text, source)
    }

    /// `value` if it is a safe file id (`[A-Za-z0-9._-]`, no `..`, bounded).
    pub fn id(value: &str) -> Option<Self> {
        safe_file_id(value).map(Self)
    }

    /// `value` if it is one of `vocabulary`.
    pub fn member(value: &str, vocabulary: &'static [&'static str]) -> Option<Self> {
        vocabulary
            .iter()
            .find(|word| **word == value)
            .map(|word| Self::literal(word))
    }

    /// A stored value shown as it is when it has `form` (numbers and booleans always do), else
    /// in a block labelled `source`; a missing or `null` value is empty.
    pub fn stored(value: Option<&Value>, form: Form, source: &str) -> Self {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Self::default();
        };
        let valid = match (form, value) {
            (_, Value::Bool(flag)) => Some(Self::literal(if *flag { "true" } else { "false" })),
            (_, Value::Number(_)) => Some(Self(super::js_string(value))),
            (Form::Id, Value::String(text)) => Self::id(text),
            (Form::Word(key), Value::String(text)) => {
                super::vocabulary(key).and_then(|words| Self::member(text, words))
            }
            (Form::Timestamp, Value::String(text)) => Self::timestamp(text),
            _ => None,
        };
        valid.unwrap_or_else(|| Self::block_value(Some(value), source))
    }

    /// A stored scalar under the result key that ends `source` (`evalRun.verdict` → `verdict`):
    /// shown as it is when it has that key's safe form, else in a block.
    pub fn scalar(value: &Value, source: &str) -> Self {
        let key = source.rsplit('.').next().unwrap_or(source);
        match super::form_of_key(key) {
            Some(form) => Self::stored(Some(value), form, source),
            None => Self::stored(Some(value), Form::Number, source),
        }
    }

    /// `value` if it has the shape of an ISO 8601 date or date-time: digits, `-`, `:`, `.`,
    /// `T`, `Z`, `+`, starting with a four-digit year.
    pub fn timestamp(value: &str) -> Option<Self> {
        is_timestamp(value).then(|| Self(value.to_string()))
    }

    /// `value` if it is a decimal number as this program prints one (`12`, `-0.5`, `3.25`).
    pub fn decimal(value: &str) -> Option<Self> {
        let digits = value.strip_prefix('-').unwrap_or(value);
        let mut parts = digits.splitn(2, '.');
        let whole = parts.next().unwrap_or_default();
        let fraction = parts.next();
        let valid = !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
        valid.then(|| Self(value.to_string()))
    }

    /// The project directory (or a path inside it that this program built): given by the
    /// operator on the command line or in the environment at launch, never by a client.
    pub fn launch_path(path: &Path) -> Self {
        Self(path.to_string_lossy().into_owned())
    }

    /// `items` separated by `separator`.
    pub fn join(items: impl IntoIterator<Item = AgentText>, separator: &'static str) -> Self {
        let mut joined = String::new();
        for (index, item) in items.into_iter().enumerate() {
            if index > 0 {
                joined.push_str(separator);
            }
            joined.push_str(&item.0);
        }
        Self(joined)
    }

    /// Appends `other`.
    pub fn push(&mut self, other: &AgentText) {
        self.0.push_str(&other.0);
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// This text as a JSON string that [`super::AgentJson`] passes through unchanged.
    pub fn into_json(self) -> Value {
        Value::String(super::agent_json::vouch(self.0))
    }

    /// A value read back from a result this program built: text it vouched for is itself again,
    /// a block stays the block it is (rebuilt, never nested), anything else is shown as
    /// [`AgentText::scalar`] shows it; a missing value is empty.
    pub fn from_result(value: Option<&Value>, source: &str) -> Self {
        match value {
            None | Some(Value::Null) => Self::default(),
            Some(Value::String(text)) => match super::agent_json::recognised(text) {
                Some(shown) => Self(shown),
                None => Self::scalar(&Value::String(text.clone()), source),
            },
            Some(other) => Self::scalar(other, source),
        }
    }

    /// This text without leading and trailing whitespace.
    pub fn trimmed(&self) -> Self {
        Self(self.0.trim().to_string())
    }

    /// Every line of this text prefixed with `prefix`.
    pub fn indented(&self, prefix: &'static str) -> Self {
        let lines: Vec<String> = self
            .0
            .split('\n')
            .map(|line| format!("{prefix}{line}"))
            .collect();
        Self(lines.join("\n"))
    }

    /// Text written into this program, as a JSON string for a result.
    pub fn literal_json(text: &'static str) -> Value {
        Self::literal(text).into_json()
    }

    /// The assembly step of `agent_text!`. Not for direct use (`clippy.toml` forbids it).
    #[doc(hidden)]
    pub fn assemble(text: String) -> Self {
        Self(text)
    }
}

/// Reading agent text as a `str` is always fine; only making it is restricted.
impl std::ops::Deref for AgentText {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn is_timestamp(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() >= 4
        && bytes.len() <= MAX_TIMESTAMP_LENGTH
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b':' | b'.' | b'T' | b'Z' | b'+'))
}

/// A client-supplied name or id echoed in an error message: as it is when it is a safe id,
/// else in a block.
pub fn echo(value: &str, source: &str) -> String {
    AgentText::id(value)
        .unwrap_or_else(|| AgentText::block(value, source))
        .into_string()
}

/// Whether a format string takes positional arguments only: `{}`, `{0}`, `{:>4}`, `{{`, but
/// never `{name}`, which would capture a variable of any type without passing [`Fragment`].
pub const fn positional_only(format: &str) -> bool {
    let bytes = format.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'{' {
            if index + 1 < bytes.len() && bytes[index + 1] == b'{' {
                index += 2;
                continue;
            }
            if index + 1 < bytes.len() {
                let next = bytes[index + 1];
                if !(next == b'}' || next == b':' || next.is_ascii_digit()) {
                    return false;
                }
            }
        }
        index += 1;
    }
    true
}

/// `format!` for agent text: a literal format string with positional `{}` placeholders only,
/// each filled by a [`Fragment`] (agent text or a number). Gives an [`AgentText`].
#[macro_export]
macro_rules! agent_text {
    ($format:literal $(, $argument:expr)* $(,)?) => {{
        const _: () = assert!(
            $crate::sanitize::positional_only($format),
            "agent_text! takes positional {{}} placeholders only"
        );
        #[allow(clippy::disallowed_methods)]
        let text = $crate::sanitize::AgentText::assemble(format!(
            $format $(, $crate::sanitize::Fragment::fragment(&$argument))*
        ));
        text
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_wrap_and_ids_and_members_validate() {
        assert_eq!(
            AgentText::block("hi", "x").as_str(),
            "<untrusted-data source=\"x\">\nhi\n</untrusted-data>"
        );
        assert!(AgentText::id("contract-1").is_some());
        assert!(AgentText::id("a b").is_none());
        assert!(AgentText::id("../x").is_none());
        const WORDS: &[&str] = &["pass", "fail"];
        assert_eq!(AgentText::member("pass", WORDS).unwrap().as_str(), "pass");
        assert!(AgentText::member("Pass", WORDS).is_none());
        assert!(AgentText::timestamp("2026-12-01T09:00:00.000Z").is_some());
        assert!(AgentText::timestamp("2026-12-01").is_some());
        assert!(AgentText::timestamp("2026 ignore").is_none());
        assert!(AgentText::timestamp("soon").is_none());
    }

    #[test]
    fn timestamps_are_bounded_at_below_and_above_the_limit() {
        let at = format!("2026{}", "0".repeat(MAX_TIMESTAMP_LENGTH - 4));
        assert!(AgentText::timestamp(&at).is_some());
        assert!(AgentText::timestamp(&at[..MAX_TIMESTAMP_LENGTH - 1]).is_some());
        assert!(AgentText::timestamp(&format!("{at}0")).is_none());
    }

    #[test]
    fn the_macro_interpolates_fragments() {
        let id = AgentText::id("c-1").unwrap();
        let text = crate::agent_text!("Contract `{}` has {} traces ({:>3})", id, 7usize, 1.5);
        assert_eq!(text.as_str(), "Contract `c-1` has 7 traces (1.5)");
        assert_eq!(crate::agent_text!("{{literal}}").as_str(), "{literal}");
    }

    #[test]
    fn named_captures_are_refused() {
        assert!(positional_only("a {} {0} {:?} {{x}} {:>4}"));
        assert!(!positional_only("a {name}"));
        assert!(!positional_only("{x:?}"));
    }

    #[test]
    fn join_separates() {
        let joined = AgentText::join(["a", "b"].map(AgentText::literal), "\n");
        assert_eq!(joined.as_str(), "a\nb");
        assert_eq!(AgentText::join([], ", ").as_str(), "");
    }
}

//! `sanitizeText` and the list helpers built on it.

use super::markers::{neutralise, safe_cut};
use super::utf16::{utf16_len, utf16_prefix};
use crate::json::js_number;
use serde_json::Value;

/// Default maximum length of a stored text, in UTF-16 units.
pub const MAX_TEXT_LENGTH: usize = 12_000;
/// Maximum number of items kept from any list argument.
pub const MAX_LIST_ITEMS: usize = 50;
/// Default maximum length of one list item, in UTF-16 units.
pub const MAX_LIST_ITEM_LENGTH: usize = 2_000;
/// What an `<untrusted-data` or `</untrusted-data` opener, or anything a reader could take
/// for one (see `markers`), is replaced with. It holds no `<`-like character, so it can
/// neither start nor complete a marker.
pub const UNTRUSTED_MARKER_REPLACEMENT: &str = "[untrusted-data-marker-redacted]";

/// JavaScript's whitespace (what `trim()` removes and `\s` matches): ASCII space and controls
/// TAB–CR, NBSP, the BOM, line/paragraph separators and every space separator.
pub fn is_js_whitespace(ch: char) -> bool {
    matches!(
        ch,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// JavaScript's `String(value)` for the JSON values a tool argument can hold.
pub fn js_string(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => match number.as_f64() {
            Some(float) if number.is_f64() => js_number(float),
            _ => number.to_string(),
        },
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Null => String::new(),
                other => js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".to_string(),
    }
}

/// Characters removed from stored text: the original's set (C0 controls but TAB and LF, DEL,
/// zero-width characters, bidi embeddings/overrides/isolates, BOM, U+FFFD) plus, as a
/// deliberate hardening, every other invisible character that can hide text from a human
/// reviewer while an LLM still reads it: C1 controls, the remaining format (Cf) characters,
/// Unicode tag characters ("ASCII smuggling"), variation selectors and the Hangul fillers.
fn is_stripped(ch: char) -> bool {
    matches!(ch,
        // The original's set.
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'
        | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{feff}' | '\u{fffd}'
        // C1 controls.
        | '\u{80}'..='\u{9f}'
        // The rest of the format (Cf) characters.
        | '\u{ad}' | '\u{600}'..='\u{605}' | '\u{61c}' | '\u{6dd}' | '\u{70f}' | '\u{890}'..='\u{891}'
        | '\u{8e2}' | '\u{180e}' | '\u{2060}'..='\u{2064}' | '\u{206a}'..='\u{206f}'
        | '\u{fff9}'..='\u{fffb}' | '\u{110bd}' | '\u{110cd}' | '\u{13430}'..='\u{1343f}'
        | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}'
        // Tag characters, variation selectors, Mongolian free variation selectors, fillers.
        | '\u{e0000}'..='\u{e007f}' | '\u{fe00}'..='\u{fe0f}' | '\u{e0100}'..='\u{e01ef}'
        | '\u{180b}'..='\u{180d}' | '\u{180f}' | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}')
}

/// The original's `sanitizeText(value, {maxLength})` on a string, hardened: newlines (CR,
/// CRLF, U+2028, U+2029) normalised to LF, invisible characters stripped, block markers
/// (and their look-alikes) neutralised, length bounded in UTF-16 units. A cut never splits
/// a character reference nor leaves a partial marker at the end (see `markers::safe_cut`).
pub fn sanitize_text(text: &str, max_length: usize) -> String {
    let mut cleaned = String::with_capacity(
        text.len()
            .min(max_length.saturating_mul(4).saturating_add(64)),
    );
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            cleaned.push('\n');
        } else if ch == '\u{2028}' || ch == '\u{2029}' {
            cleaned.push('\n');
        } else if !is_stripped(ch) {
            cleaned.push(ch);
        }
    }
    let neutralised = neutralise(&cleaned, UNTRUSTED_MARKER_REPLACEMENT);
    let length = utf16_len(&neutralised);
    if length <= max_length {
        return neutralised;
    }
    let prefix = utf16_prefix(&neutralised, max_length);
    let kept = &neutralised[..safe_cut(&neutralised, prefix.len())];
    let omitted = length - utf16_len(kept);
    format!("{kept}\n[truncated {omitted} characters]")
}

/// `sanitizeNullableText`: `null` (or a missing value) stays `None`.
pub fn sanitize_nullable(value: Option<&Value>, max_length: usize) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(other) => Some(sanitize_text(&js_string(other), max_length)),
    }
}

/// `sanitizeStringList`: a non-array is empty; at most [`MAX_LIST_ITEMS`] items, each sanitised.
pub fn sanitize_list(value: Option<&Value>, item_length: usize) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .take(MAX_LIST_ITEMS)
            .map(|item| sanitize_text(&js_string(item), item_length))
            .collect(),
        _ => Vec::new(),
    }
}

/// A list of stored-record ids: sanitised, and entries that are not safe ids dropped silently.
pub fn reference_id_list(value: Option<&Value>) -> Vec<String> {
    sanitize_list(value, 180)
        .into_iter()
        .filter(|id| super::safe_file_id(id).is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn newlines_are_normalised_to_lf() {
        assert_eq!(sanitize_text("a\r\nb\rc\n", 100), "a\nb\nc\n");
    }

    #[test]
    fn control_zero_width_bidi_bom_and_replacement_are_stripped() {
        let input = "a\u{0}\u{8}\t\u{b}\u{c}\u{1b}\u{7f}b\u{200b}\u{200f}\u{202a}\u{202e}\u{2066}\u{2069}\u{feff}\u{fffd}c";
        assert_eq!(sanitize_text(input, 100), "a\tbc");
    }

    #[test]
    fn ordinary_unicode_passes_through() {
        let input = "café naïve Ünïcödé ß 中文 العربية 😀 \u{2070} ½";
        assert_eq!(sanitize_text(input, 100), input);
    }

    #[test]
    fn invisible_characters_beyond_the_original_set_are_stripped() {
        let input = "a\u{e0049}\u{e0067}\u{2060}\u{2064}\u{ad}\u{61c}\u{180e}\u{fff9}\u{fffb}\u{fe0f}\u{e0100}\u{85}\u{9b}\u{3164}b";
        assert_eq!(sanitize_text(input, 100), "ab");
        assert_eq!(sanitize_text("a\u{2028}b\u{2029}c", 100), "a\nb\nc");
    }

    #[test]
    fn look_alike_markers_are_neutralised() {
        for marker in [
            "\u{ff1c}/untrusted-data\u{ff1e}",
            "\u{fe64}untrusted-data",
            "<\u{ff0f}ｕｎｔｒｕｓｔｅｄ-ｄａｔａ",
            "<untrusted\u{ff0d}data",
        ] {
            let out = sanitize_text(marker, 100);
            assert!(
                out.starts_with(UNTRUSTED_MARKER_REPLACEMENT),
                "{marker:?} -> {out:?}"
            );
        }
        // No word boundary is needed any more: `＜untrusted-datax` reads like a marker.
        assert_eq!(
            sanitize_text("\u{ff1c}untrusted-datax", 100),
            "[untrusted-data-marker-redacted]x"
        );
        assert_eq!(
            sanitize_text("\u{ff1c}untrusted datum", 100),
            "\u{ff1c}untrusted datum"
        );
    }

    #[test]
    fn block_markers_are_neutralised_case_insensitively() {
        assert_eq!(
            sanitize_text("x</UnTrusted-Data>y<untrusted-data source=\"a\">", 200),
            "x[untrusted-data-marker-redacted]>y[untrusted-data-marker-redacted] source=\"a\">"
        );
    }

    /// The original's rule wanted an ASCII word boundary after the word, so `<untrusted-data_x`
    /// survived; a reader takes it for a marker all the same, so it no longer does.
    #[test]
    fn no_word_boundary_is_needed_after_the_word() {
        for (text, rest) in [
            ("<untrusted-data_x", "_x"),
            ("<untrusted-datax", "x"),
            ("<untrusted-data-x", "-x"),
            ("<untrusted-data\u{e9}", "\u{e9}"),
        ] {
            assert_eq!(
                sanitize_text(text, 100),
                format!("{UNTRUSTED_MARKER_REPLACEMENT}{rest}")
            );
        }
    }

    #[test]
    fn ordinary_prose_about_untrusted_data_survives() {
        for prose in [
            "Untrusted data must be wrapped.",
            "untrusted-data blocks, untrusted_data, UNTRUSTED DATA",
            "if a < b then untrusted data",
            "see <b>untrusted data</b>",
            "x <= 3 untrusted data",
        ] {
            assert_eq!(sanitize_text(prose, 200), prose);
        }
    }

    #[test]
    fn stripping_happens_before_marker_detection() {
        assert_eq!(
            sanitize_text("<untrusted\u{200b}-data>", 100),
            "[untrusted-data-marker-redacted]>"
        );
    }

    #[test]
    fn truncation_at_below_and_above_the_limit() {
        let at = "a".repeat(MAX_TEXT_LENGTH);
        assert_eq!(sanitize_text(&at, MAX_TEXT_LENGTH), at);
        let below = "a".repeat(MAX_TEXT_LENGTH - 1);
        assert_eq!(sanitize_text(&below, MAX_TEXT_LENGTH), below);
        let above = "a".repeat(MAX_TEXT_LENGTH + 1);
        assert_eq!(
            sanitize_text(&above, MAX_TEXT_LENGTH),
            format!("{at}\n[truncated 1 characters]")
        );
    }

    /// The kept prefix never ends inside something that could still become a marker, nor
    /// inside a character reference (a cut `&#x61;` would leave an `a`).
    #[test]
    fn truncation_never_leaves_a_partial_block_marker() {
        assert_eq!(
            sanitize_text("ab</untrusted-dat", 16),
            "ab\n[truncated 15 characters]"
        );
        assert_eq!(
            sanitize_text("<UNTRUSTED-DATA_", 15),
            "[untrusted-data\n[truncated 18 characters]"
        );
        assert_eq!(
            sanitize_text("<untrusted-d&#x61;ta", 14),
            "[untrusted-dat\n[truncated 18 characters]"
        );
        assert_eq!(
            sanitize_text("<untrusted-d&#x61;t", 14),
            "\n[truncated 19 characters]"
        );
        assert_eq!(
            sanitize_text("ab&#x61;cd", 6),
            "ab\n[truncated 8 characters]"
        );
        assert_eq!(sanitize_text("a < b", 3), "a <\n[truncated 2 characters]");
    }

    #[test]
    fn truncation_counts_utf16_units_and_never_splits_a_character() {
        assert_eq!(sanitize_text("😀😀", 3), "😀\n[truncated 2 characters]");
        assert_eq!(sanitize_text("😀😀", 4), "😀😀");
    }

    #[test]
    fn js_string_matches_javascript_string_conversion() {
        assert_eq!(js_string(&json!(12)), "12");
        assert_eq!(js_string(&json!(1.5)), "1.5");
        assert_eq!(js_string(&json!(["a", null, 2])), "a,,2");
        assert_eq!(js_string(&json!({"a": 1})), "[object Object]");
        assert_eq!(js_string(&json!(true)), "true");
    }

    #[test]
    fn lists_keep_at_most_fifty_items() {
        let items: Vec<Value> = (0..MAX_LIST_ITEMS + 1)
            .map(|i| json!(i.to_string()))
            .collect();
        assert_eq!(
            sanitize_list(Some(&Value::Array(items.clone())), 10).len(),
            MAX_LIST_ITEMS
        );
        let exact = Value::Array(items[..MAX_LIST_ITEMS].to_vec());
        assert_eq!(sanitize_list(Some(&exact), 10).len(), MAX_LIST_ITEMS);
        let below = Value::Array(items[..MAX_LIST_ITEMS - 1].to_vec());
        assert_eq!(sanitize_list(Some(&below), 10).len(), MAX_LIST_ITEMS - 1);
        assert!(sanitize_list(Some(&json!("not a list")), 10).is_empty());
    }

    #[test]
    fn reference_lists_drop_unsafe_ids() {
        let ids = json!(["ok-1", "../x", "a b", "fine.2"]);
        assert_eq!(reference_id_list(Some(&ids)), vec!["ok-1", "fine.2"]);
    }
}

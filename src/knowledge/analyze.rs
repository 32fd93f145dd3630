//! Text analysis. [`tokenize`] is the original's tokenizer (spec §3.9), used for the index's
//! `termCounts`/`tokenTotal`, which a Node server reads. [`analyze`] is ours, used only for
//! ranking: the same tokens, each also split at `.`, `/`, `-` and `_` so that `src/core.mjs`
//! matches a query for `core`, then reduced by a light English suffix stemmer so that
//! "failing", "failed" and "failures" meet. It must never change what [`tokenize`] returns.

use crate::sanitize::sanitize_text;
use std::cmp::Ordering;
use unicode_normalization::UnicodeNormalization;

/// The original's stop words (English and Portuguese).
pub const STOP_WORDS: [&str; 38] = [
    "a", "an", "and", "are", "as", "at", "be", "by", "com", "da", "das", "de", "do", "dos", "e",
    "em", "for", "from", "in", "is", "it", "na", "nas", "no", "nos", "o", "of", "on", "or", "os",
    "para", "por", "que", "the", "to", "um", "uma", "with",
];

/// Text is cut to this many UTF-16 units before tokenizing (the original's figure).
const TOKENIZE_MAX_LENGTH: usize = 24_000;
/// Tokens kept by the original's tokenizer.
const TOKENIZE_MAX_TOKENS: usize = 400;

fn is_stop_word(token: &str) -> bool {
    STOP_WORDS.contains(&token)
}

fn is_token_char(ch: char) -> bool {
    ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '_' | '.' | '/' | '-')
}

/// Every token of `text`, uncapped: sanitise, NFKD, drop combining marks, lowercase, split.
fn raw_tokens(text: &str, max_length: usize) -> Vec<String> {
    let folded: String = sanitize_text(text, max_length)
        .nfkd()
        .filter(|ch| !('\u{300}'..='\u{36f}').contains(ch))
        .collect::<String>()
        .to_lowercase();
    folded
        .split(|ch: char| !is_token_char(ch))
        .filter(|token| token.len() >= 2 && !is_stop_word(token))
        .map(str::to_string)
        .collect()
}

/// The original's `tokenize`: at most 400 tokens of length ≥ 2 that are not stop words.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = raw_tokens(text, TOKENIZE_MAX_LENGTH);
    tokens.truncate(TOKENIZE_MAX_TOKENS);
    tokens
}

/// Longest term kept for ranking, in bytes (terms are ASCII): as the index's termCounts, so one
/// giant token cannot make an index entry large.
pub const MAX_RANKED_TERM_LENGTH: usize = 80;

/// Terms for ranking: each token stemmed, plus the stemmed parts of compound tokens, none longer
/// than [`MAX_RANKED_TERM_LENGTH`]. At most `max_terms` tokens are read (the caller bounds the
/// work per field).
pub fn analyze(text: &str, max_terms: usize) -> Vec<String> {
    let mut terms = Vec::new();
    for token in raw_tokens(text, TOKENIZE_MAX_LENGTH)
        .into_iter()
        .take(max_terms)
    {
        let trimmed = token.trim_matches(|ch| matches!(ch, '.' | '/' | '-' | '_'));
        if trimmed.contains(['.', '/', '-', '_']) {
            for part in trimmed.split(['.', '/', '-', '_']) {
                if part.len() >= 2 && !is_stop_word(part) {
                    terms.push(stem(part));
                }
            }
        }
        if trimmed.len() >= 2 {
            terms.push(stem(trimmed));
        }
    }
    terms.retain(|term| term.len() <= MAX_RANKED_TERM_LENGTH);
    terms
}

fn is_vowel(byte: u8) -> bool {
    matches!(byte, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// A light suffix stemmer for English software prose: plurals, `-ing`, `-ed`, `-ure`, `-ion` after
/// `t`/`s`, and a final `e`, so that cache/caches/cached/caching all become `cach`. Tokens with
/// digits or punctuation, and short tokens, are left alone.
fn stem(word: &str) -> String {
    if word.len() <= 3 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return word.to_string();
    }
    let mut w = word.to_string();
    if let Some(base) = w.strip_suffix("ies").filter(|b| b.len() >= 2) {
        w = format!("{base}y");
    } else if let Some(base) = w.strip_suffix("sses") {
        w = format!("{base}ss");
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w.pop();
    }
    for suffix in ["ing", "ed"] {
        if let Some(base) = w.strip_suffix(suffix) {
            if base.len() >= 3 && base.bytes().any(is_vowel) {
                let base = if base.ends_with("i") && suffix == "ed" {
                    format!("{}y", &base[..base.len() - 1])
                } else {
                    base.to_string()
                };
                let bytes = base.as_bytes();
                let n = bytes.len();
                w = if n >= 2
                    && bytes[n - 1] == bytes[n - 2]
                    && !is_vowel(bytes[n - 1])
                    && !matches!(bytes[n - 1], b'l' | b's' | b'z')
                {
                    base[..n - 1].to_string()
                } else {
                    base
                };
                break;
            }
        }
    }
    if let Some(base) = w.strip_suffix("ure").filter(|b| b.len() >= 4) {
        w = base.to_string();
    }
    if let Some(base) = w.strip_suffix("ion") {
        if base.len() >= 3 && (base.ends_with('t') || base.ends_with('s')) {
            w = base.to_string();
        }
    }
    if w.len() > 4 && w.ends_with('e') {
        w.pop();
    }
    w
}

/// Primary collation weight of one token character, ICU root order for the token alphabet:
/// `_` < `-` < `.` < `/` < digits < letters.
fn weight(ch: char) -> u32 {
    match ch {
        '_' => 0,
        '-' => 1,
        '.' => 2,
        '/' => 3,
        '0'..='9' => 10 + (ch as u32 - '0' as u32),
        'a'..='z' => 100 + (ch as u32 - 'a' as u32),
        other => 1_000 + other as u32,
    }
}

/// `a.localeCompare(b)` for tokens: weights compared in order, a shorter prefix first.
pub fn collate(a: &str, b: &str) -> Ordering {
    a.chars().map(weight).cmp(b.chars().map(weight))
}

/// Whether JavaScript treats `key` as an array index (such keys come first in an object,
/// ascending numerically): `0`, or digits without a leading zero below 2³² − 1.
pub fn is_integer_key(key: &str) -> bool {
    if key == "0" {
        return true;
    }
    !key.is_empty()
        && !key.starts_with('0')
        && key.bytes().all(|b| b.is_ascii_digit())
        && key.parse::<u64>().is_ok_and(|n| n < u64::from(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranked_terms_longer_than_the_limit_are_dropped() {
        let at = "a".repeat(MAX_RANKED_TERM_LENGTH);
        let above = "b".repeat(MAX_RANKED_TERM_LENGTH + 1);
        let below = "c".repeat(MAX_RANKED_TERM_LENGTH - 1);
        let terms = analyze(&format!("{at} {above} {below}"), 10);
        assert!(terms.contains(&at) && terms.contains(&below));
        assert!(!terms.iter().any(|t| t.starts_with('b')));
    }

    #[test]
    fn tokenizer_keeps_path_characters_and_drops_stop_words_and_accents() {
        assert_eq!(
            tokenize("The Café in src/core.mjs is FAST, a b 2024"),
            vec!["cafe", "src/core.mjs", "fast", "2024"]
        );
    }

    #[test]
    fn tokenizer_keeps_at_most_400_tokens() {
        let text = "word ".repeat(450);
        assert_eq!(tokenize(&text).len(), 400);
    }

    #[test]
    fn stemmer_conflates_common_inflections() {
        for (a, b) in [
            ("caching", "cache"),
            ("cached", "caches"),
            ("failing", "failures"),
            ("retried", "retries"),
            ("migration", "migrate"),
            ("running", "run"),
            ("authentication", "authenticated"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} vs {b}");
        }
        assert_eq!(stem("v1.2"), "v1.2");
    }

    #[test]
    fn compound_tokens_are_also_split_for_ranking() {
        let terms = analyze("src/core.mjs node-gyp", 100);
        assert!(terms.contains(&"core".to_string()));
        assert!(terms.contains(&"src/core.mjs".to_string()));
        assert!(terms.contains(&"gyp".to_string()));
    }

    #[test]
    fn collation_orders_punctuation_before_digits_before_letters() {
        let mut tokens = vec!["ab", "a_b", "a-b", "a.b", "a/b", "a1", "a", "10", "9"];
        tokens.sort_by(|a, b| collate(a, b));
        assert_eq!(
            tokens,
            vec!["10", "9", "a", "a_b", "a-b", "a.b", "a/b", "a1", "ab"]
        );
    }

    #[test]
    fn integer_keys_are_canonical_array_indices() {
        for key in ["0", "10", "2024", "4294967294"] {
            assert!(is_integer_key(key), "{key}");
        }
        for key in ["05", "1.2", "-1", "4294967295", "", "1a"] {
            assert!(!is_integer_key(key), "{key}");
        }
    }
}

//! Finding text a reader could take for an `<untrusted-data>` opener or closer, in one
//! left-to-right pass over [`fold`](super::fold)'s tokens.
//!
//! The rule: a `<`-like token, then the letters of `untrusted data` in order; between the
//! `<` and the word, and between any two letters, every token that folds to neither a letter
//! nor a digit (spaces, line breaks, hyphen-likes, `_`, dots, `/`, brackets, `>`, symbols,
//! combining marks, further `<`s before the first letter) is ignored. There is no word
//! boundary after the word: `<untrusted-database` reads like a marker too. A match starts at
//! the first `<` of the run before the word and ends after its last letter.
//!
//! The pass keeps one candidate (a later `<` can only start a new one once letters were
//! seen), so it is linear in the text. It never allocates per token and never looks back.

use super::fold::{is_lt_like, symbols, token, Sym};

/// The marker word as folded letters.
const WORD: &[u8] = b"untrusteddata";

#[derive(Clone, Copy)]
enum State {
    Idle,
    /// A `<`-like token at `start`, then only ignorable tokens (or more `<`s).
    Gap {
        start: usize,
    },
    /// `matched` letters of the word after the `<` at `start`.
    Word {
        start: usize,
        matched: usize,
    },
}

struct Scanner {
    state: State,
}

impl Scanner {
    /// Feeds one symbol of the token at `at`; true when it completes the word.
    fn feed(&mut self, at: usize, sym: Sym) -> bool {
        self.state = match (self.state, sym) {
            (State::Idle | State::Word { .. }, Sym::Lt) => State::Gap { start: at },
            (state @ (State::Idle | State::Gap { .. } | State::Word { .. }), Sym::Ignorable)
            | (state @ State::Gap { .. }, Sym::Lt) => state,
            (State::Gap { start }, Sym::Alnum(letter)) if letter == WORD[0] => {
                State::Word { start, matched: 1 }
            }
            (State::Word { start, matched }, Sym::Alnum(letter)) if letter == WORD[matched] => {
                if matched + 1 == WORD.len() {
                    self.state = State::Idle;
                    return true;
                }
                State::Word {
                    start,
                    matched: matched + 1,
                }
            }
            _ => State::Idle,
        };
        false
    }

    /// Feeds the token of `ch` at `at`; the match's start when the token completes one.
    fn step(&mut self, at: usize, ch: char) -> Option<usize> {
        // Only a `<`-like token can change an idle scanner: skip the fold for the rest.
        if matches!(self.state, State::Idle) && !is_lt_like(ch) {
            return None;
        }
        let mut start = None;
        symbols(ch, |sym| {
            if start.is_none() {
                let candidate = match self.state {
                    State::Gap { start } | State::Word { start, .. } => start,
                    State::Idle => at,
                };
                if self.feed(at, sym) {
                    start = Some(candidate);
                }
            }
        });
        start
    }
}

/// `text` with every marker-like sequence replaced by `replacement`, which must contain no
/// `<`-like character (so the replacement can neither start nor extend a marker).
pub(super) fn neutralise(text: &str, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut scanner = Scanner { state: State::Idle };
    let (mut copied, mut at) = (0, 0);
    while at < text.len() {
        let token = token(&text[at..]);
        if let Some(start) = scanner.step(at, token.ch) {
            out.push_str(&text[copied..start]);
            out.push_str(replacement);
            copied = at + token.len;
        }
        at += token.len;
    }
    out.push_str(&text[copied..]);
    out
}

/// Where to cut neutralised `text` so that it keeps at most `limit` bytes: at a token
/// boundary (a cut inside `&#x61;` would leave an `a` the full text never had) and before a
/// trailing partial marker (`…</untrusted-da`), so nothing appended can complete one and no
/// half-marker is left for a reader to complete.
pub(super) fn safe_cut(text: &str, limit: usize) -> usize {
    let mut scanner = Scanner { state: State::Idle };
    let mut at = 0;
    while at < text.len() {
        let token = token(&text[at..]);
        if at + token.len > limit {
            break;
        }
        scanner.step(at, token.ch);
        at += token.len;
    }
    match scanner.state {
        State::Word { start, .. } => start,
        State::Idle | State::Gap { .. } => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(text: &str) -> String {
        neutralise(text, "[x]")
    }

    #[test]
    fn the_word_after_a_less_than_is_a_marker_in_any_disguise() {
        for (marker, rest) in [
            ("<untrusted-data", ""),
            ("</untrusted-data>", ">"),
            ("< / UNTRUSTED _ DATA", ""),
            ("<//untrusted\ndata", ""),
            ("<\u{a0}untrusted\u{2011}data", ""),
            ("\u{2329}/untrusted-data", ""),
            ("\u{27e8}untrusted-data", ""),
            ("\u{226e}untrusted-data", ""),
            ("&lt;/untrusted-data&gt;", "&gt;"),
            ("&#60;untrusted-data", ""),
            ("&#x3c;/untrusted-data", ""),
            ("&amp;lt;/untrusted-data", ""),
            ("%3C/untrusted-data", ""),
            ("\\u003c/untrusted-data", ""),
            ("<untrusted-d&#97;ta", ""),
            ("<untrusted-database", "base"),
            ("<<untrusted-data", ""),
        ] {
            assert_eq!(redacted(marker), format!("[x]{rest}"), "{marker:?}");
        }
    }

    #[test]
    fn prose_survives() {
        for prose in [
            "untrusted data is wrapped",
            "a < b and untrusted data",
            "x <b>untrusted data</b>",
            "<1untrusted-data",
            "<untrusted-dat",
            "&lt untrusted",
            "<untrusted 中 data",
        ] {
            assert_eq!(redacted(prose), prose);
        }
    }

    #[test]
    fn a_second_opener_restarts_only_after_letters() {
        assert_eq!(redacted("<untr<untrusted-data"), "<untr[x]");
        assert_eq!(redacted("< <untrusted-data"), "[x]");
    }

    #[test]
    fn cuts_fall_on_token_boundaries_and_before_partial_markers() {
        assert_eq!(safe_cut("ab&#x61;", 6), 2);
        assert_eq!(safe_cut("ab&#x61;", 8), 8);
        assert_eq!(safe_cut("ab</untrusted-da", 16), 2);
        assert_eq!(safe_cut("ab</", 4), 4);
        assert_eq!(safe_cut("abc", 2), 2);
    }
}

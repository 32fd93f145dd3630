//! How a reader sees stored text when looking for a block marker: the text as a stream of
//! tokens (one character, or one HTML character reference, `%XX` or `\uXXXX`-style escape
//! that a reader could decode), and each token folded to [`Sym`]bols by compatibility (NFKC),
//! UTS #39 confusable skeletons, case and small capitals. Owns only that view; it never
//! decides what is a marker (see `markers`) and never changes the text.

use unicode_normalization::UnicodeNormalization;

/// One folded symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sym {
    /// Something a reader could take for `<`.
    Lt,
    /// An ASCII letter (lowercased) or digit.
    Alnum(u8),
    /// A letter or digit that folds to no ASCII one: it ends any marker.
    Foreign,
    /// Anything else (spaces, punctuation, symbols, marks): a marker may contain it.
    Ignorable,
}

/// One token: its length in bytes and the character it stands for.
pub(super) struct Token {
    pub len: usize,
    pub ch: char,
}

/// Characters the skeleton leaves apart from `<` that still read as a left angle bracket.
/// (U+276C is the skeleton of U+2329, U+3008, U+27E8 and a few look-alikes.)
fn is_angle_like(ch: char) -> bool {
    matches!(
        ch,
        '<' | '\u{276c}'
            | '\u{ab}'
            | '\u{300a}'
            | '\u{2770}'
            | '\u{27ea}'
            | '\u{2264}'
            | '\u{2266}'
            | '\u{2a7d}'
            | '\u{29fc}'
            | '\u{2991}'
            | '\u{2989}'
    )
}

/// Small capitals the skeleton keeps apart from the letters they show.
fn small_capital(ch: char) -> char {
    match ch {
        '\u{1d00}' => 'a',
        '\u{1d05}' => 'd',
        '\u{1d07}' => 'e',
        '\u{274}' => 'n',
        '\u{280}' => 'r',
        '\u{1d1b}' => 't',
        other => other,
    }
}

fn classify(ch: char) -> Sym {
    if is_angle_like(ch) {
        Sym::Lt
    } else if ch == '\u{30fc}' {
        // The skeleton of the em dash and the fullwidth hyphen: a letter that reads as a dash.
        Sym::Ignorable
    } else if ch.is_ascii_alphanumeric() {
        Sym::Alnum(ch.to_ascii_lowercase() as u8)
    } else if ch.is_alphanumeric() {
        Sym::Foreign
    } else {
        Sym::Ignorable
    }
}

/// Calls `emit` with the symbols `ch` folds to: NFKC, then the UTS #39 skeleton of each
/// character, lowercased, small capitals read as letters. ASCII is folded directly: its
/// skeleton differs only for `m` (`rn`), `I`, `1`, `|` (`l`) and `0` (`O`), letters that are
/// not in the marker word, so the result is the same for marker matching.
pub(super) fn symbols(ch: char, mut emit: impl FnMut(Sym)) {
    if ch.is_ascii() {
        return emit(classify(ch));
    }
    for compatible in std::iter::once(ch).nfkc() {
        let mut buffer = [0; 4];
        for prototype in unicode_security::skeleton(compatible.encode_utf8(&mut buffer)) {
            for lower in prototype.to_lowercase() {
                emit(classify(small_capital(lower)));
            }
        }
    }
}

/// True when `ch` folds to a symbol that reads as `<`. Checked on every character, so it is a
/// table; `tests::the_angle_table_is_the_fold` proves it equals [`symbols`] over all of Unicode.
pub(super) fn is_lt_like(ch: char) -> bool {
    matches!(
        ch,
        '<' | '\u{ab}'
            | '\u{2c2}'
            | '\u{1438}'
            | '\u{1444}'
            | '\u{1445}'
            | '\u{150c}'
            | '\u{16b2}'
            | '\u{2039}'
            | '\u{2264}'
            | '\u{2266}'
            | '\u{226a}'
            | '\u{226e}'
            | '\u{2270}'
            | '\u{22d6}'
            | '\u{22d8}'
            | '\u{2329}'
            | '\u{276c}'
            | '\u{276e}'
            | '\u{2770}'
            | '\u{27e8}'
            | '\u{27ea}'
            | '\u{2989}'
            | '\u{2991}'
            | '\u{29fc}'
            | '\u{2a7d}'
            | '\u{2aa5}'
            | '\u{2cb4}'
            | '\u{2cb5}'
            | '\u{2d66}'
            | '\u{3008}'
            | '\u{300a}'
            | '\u{304f}'
            | '\u{3050}'
            | '\u{3111}'
            | '\u{31db}'
            | '\u{fe3d}'
            | '\u{fe3f}'
            | '\u{fe64}'
            | '\u{ff1c}'
            | '\u{1032d}'
            | '\u{16aec}'
            | '\u{1d236}'
            | '\u{21fe8}'
    )
}

/// Named references that stand for a `<`-like character; every other well-formed named
/// reference stands for an ignorable one (a reader renders it as some symbol).
fn is_angle_reference(name: &str) -> bool {
    matches!(
        name,
        "lt" | "LT"
            | "nlt"
            | "lang"
            | "langle"
            | "LeftAngleBracket"
            | "lsaquo"
            | "laquo"
            | "Lt"
            | "ll"
            | "le"
            | "leq"
            | "lE"
            | "leqq"
    )
}

fn hex_value(digits: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// A run of bytes matching `accept`, at most `most` long.
fn run(bytes: &[u8], most: usize, accept: fn(&u8) -> bool) -> usize {
    bytes.iter().take(most).take_while(|b| accept(b)).count()
}

/// A code point as a reader's decoder would show it: invalid ones become U+FFFD.
fn code_point(value: Option<u32>) -> char {
    value.and_then(char::from_u32).unwrap_or('\u{fffd}')
}

/// `&` (then any `amp;`, as in double-encoded text) and a numeric or named reference. Digit
/// runs are read whole (a longer run is one token, never a shorter one and a digit), so a
/// token's extent never depends on what follows its last byte.
fn reference(bytes: &[u8]) -> Option<Token> {
    let mut at = 1;
    while bytes
        .get(at..at + 4)
        .is_some_and(|s| s.eq_ignore_ascii_case(b"amp;"))
    {
        at += 4;
    }
    let semicolon = |end: usize| usize::from(bytes.get(end) == Some(&b';'));
    if bytes.get(at) == Some(&b'#') {
        let hex = matches!(bytes.get(at + 1), Some(b'x' | b'X'));
        let start = at + 1 + usize::from(hex);
        let digits = if hex {
            run(&bytes[start..], usize::MAX, u8::is_ascii_hexdigit)
        } else {
            run(&bytes[start..], usize::MAX, u8::is_ascii_digit)
        };
        if digits > 0 {
            let text = &bytes[start..start + digits];
            let value = match (hex, digits <= 8) {
                (true, true) => hex_value(text),
                (false, true) => std::str::from_utf8(text).ok().and_then(|t| t.parse().ok()),
                (_, false) => None,
            };
            let end = start + digits;
            return Some(Token {
                len: end + semicolon(end),
                ch: code_point(value),
            });
        }
    }
    let name = if bytes.get(at).is_some_and(u8::is_ascii_alphabetic) {
        run(&bytes[at..], 32, u8::is_ascii_alphanumeric)
    } else {
        0
    };
    let end = at + name;
    let name_text = std::str::from_utf8(&bytes[at..end]).unwrap_or_default();
    if name > 0 && semicolon(end) == 1 && is_angle_reference(name_text) {
        return Some(Token {
            len: end + 1,
            ch: '<',
        });
    }
    // HTML reads `&lt` and `&LT` without a semicolon, even before more letters.
    if name_text.starts_with("lt") || name_text.starts_with("LT") {
        return Some(Token {
            len: at + 2,
            ch: '<',
        });
    }
    let len = if name > 0 && semicolon(end) == 1 {
        end + 1
    } else {
        at
    };
    (len > 1).then_some(Token { len, ch: '&' })
}

/// `%XX` (ASCII only), `\xXX`, `\uXXXX` and `\u{X…}` escapes.
fn escape(bytes: &[u8]) -> Option<Token> {
    let hex_digits = |from: usize, count: usize| {
        let digits = bytes.get(from..from + count)?;
        digits
            .iter()
            .all(u8::is_ascii_hexdigit)
            .then(|| hex_value(digits))
            .flatten()
    };
    match (bytes[0], bytes.get(1)) {
        (b'%', _) => hex_digits(1, 2)
            .filter(|value| *value < 0x80)
            .map(|value| Token {
                len: 3,
                ch: code_point(Some(value)),
            }),
        (b'\\', Some(b'x')) => hex_digits(2, 2).map(|value| Token {
            len: 4,
            ch: code_point(Some(value)),
        }),
        (b'\\', Some(b'u')) if bytes.get(2) == Some(&b'{') => {
            let digits = run(&bytes[3..], 6, u8::is_ascii_hexdigit);
            (digits > 0 && bytes.get(3 + digits) == Some(&b'}')).then(|| Token {
                len: 4 + digits,
                ch: code_point(hex_value(&bytes[3..3 + digits])),
            })
        }
        (b'\\', Some(b'u')) => hex_digits(2, 4).map(|value| Token {
            len: 6,
            ch: code_point(Some(value)),
        }),
        _ => None,
    }
}

/// The token at the start of `text` (which must not be empty).
pub(super) fn token(text: &str) -> Token {
    let bytes = text.as_bytes();
    let decoded = match bytes[0] {
        b'&' => reference(bytes),
        b'%' | b'\\' => escape(bytes),
        _ => None,
    };
    decoded.unwrap_or_else(|| {
        let ch = text.chars().next().unwrap_or('\u{fffd}');
        Token {
            len: ch.len_utf8(),
            ch,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(ch: char) -> Vec<Sym> {
        let mut out = Vec::new();
        symbols(ch, |sym| out.push(sym));
        out
    }

    fn decoded(text: &str) -> (usize, char) {
        let token = token(text);
        (token.len, token.ch)
    }

    #[test]
    fn the_angle_table_is_the_fold() {
        for ch in (0..=0x10_ffff_u32).filter_map(char::from_u32) {
            assert_eq!(
                is_lt_like(ch),
                folded(ch).contains(&Sym::Lt),
                "U+{:04X}",
                u32::from(ch)
            );
        }
    }

    #[test]
    fn confusables_fold_to_the_letters_they_show() {
        for (ch, letter) in [
            ('\u{430}', b'a'),
            ('\u{435}', b'e'),
            ('\u{442}', b't'),
            ('\u{455}', b's'),
            ('\u{501}', b'd'),
            ('\u{3c5}', b'u'),
            ('\u{ff55}', b'u'),
            ('\u{1d42e}', b'u'),
            ('\u{1d1b}', b't'),
            ('\u{280}', b'r'),
            ('\u{1d00}', b'a'),
        ] {
            assert_eq!(folded(ch), [Sym::Alnum(letter)], "{ch:?}");
        }
        assert_eq!(folded('\u{fc}'), [Sym::Alnum(b'u'), Sym::Ignorable]);
        assert_eq!(folded('中'), [Sym::Foreign]);
        for ignorable in [
            '\u{2010}', '\u{2011}', '\u{2212}', '\u{2014}', '_', '\u{a0}', '\u{30fb}',
        ] {
            assert!(
                folded(ignorable).iter().all(|s| *s == Sym::Ignorable),
                "{ignorable:?}"
            );
        }
    }

    #[test]
    fn references_and_escapes_decode_as_one_token() {
        assert_eq!(decoded("&lt;/x"), (4, '<'));
        assert_eq!(decoded("&LT/x"), (3, '<'));
        assert_eq!(decoded("&ltuntrusted"), (3, '<'));
        assert_eq!(decoded("&amp;amp;lt;x"), (12, '<'));
        assert_eq!(decoded("&#60;x"), (5, '<'));
        assert_eq!(decoded("&#0060x"), (6, '<'));
        assert_eq!(decoded("&#x3C;"), (6, '<'));
        assert_eq!(decoded("&#X3c"), (5, '<'));
        assert_eq!(decoded("&lang;"), (6, '<'));
        assert_eq!(decoded("&hyphen;d"), (8, '&'));
        assert_eq!(decoded("&#99999999999;"), (14, '\u{fffd}'));
        assert_eq!(decoded("&amp;x"), (5, '&'));
        assert_eq!(decoded("& x"), (1, '&'));
        assert_eq!(decoded("&x y"), (1, '&'));
        assert_eq!(decoded("%3Cx"), (3, '<'));
        assert_eq!(decoded("%E2x"), (1, '%'));
        assert_eq!(decoded("\\u003c"), (6, '<'));
        assert_eq!(decoded("\\x3C"), (4, '<'));
        assert_eq!(decoded("\\u{3c}"), (6, '<'));
        assert_eq!(decoded("\\u{3c"), (1, '\\'));
        assert_eq!(decoded("é"), (2, 'é'));
    }
}

//! An independent, deliberately loose detector of text a reader could take for an
//! `<untrusted-data>` opener or closer, for tests and the sanitizer fuzz target. It shares no
//! code with the sanitiser: it decodes character references and escapes into a string, folds
//! every character (NFKC, UTS #39 skeleton, lowercase, small capitals), throws away everything
//! that is neither a letter, a digit nor a `<`-like character, and then looks for the plain
//! substring `<untrusteddata`.

use unicode_normalization::UnicodeNormalization;

const ANGLES: &str =
    "<\u{276c}\u{ab}\u{300a}\u{2770}\u{27ea}\u{2264}\u{2266}\u{2a7d}\u{29fc}\u{2991}\u{2989}";
const ANGLE_NAMES: [&str; 14] = [
    "lt",
    "LT",
    "nlt",
    "lang",
    "langle",
    "LeftAngleBracket",
    "lsaquo",
    "laquo",
    "Lt",
    "ll",
    "le",
    "leq",
    "lE",
    "leqq",
];

fn from_hex(digits: &str) -> Option<char> {
    u32::from_str_radix(digits, 16)
        .ok()
        .and_then(char::from_u32)
}

/// The `(offset, character)` a reader decodes at the start of `rest`, and its byte length.
fn decode(rest: &str) -> (char, usize) {
    let fixed_hex = |prefix: &str, count: usize| -> Option<(char, usize)> {
        let digits = rest.strip_prefix(prefix)?.get(..count)?;
        if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some((from_hex(digits).unwrap_or('\u{fffd}'), prefix.len() + count))
    };
    if let Some(found) = fixed_hex("%", 2).filter(|(c, _)| c.is_ascii()) {
        return found;
    }
    if let Some(found) = fixed_hex("\\x", 2).or_else(|| fixed_hex("\\u", 4)) {
        return found;
    }
    if let Some(body) = rest.strip_prefix("\\u{") {
        if let Some(close) = body.find('}').filter(|n| (1..=6).contains(n)) {
            if body[..close].chars().all(|c| c.is_ascii_hexdigit()) {
                return (from_hex(&body[..close]).unwrap_or('\u{fffd}'), close + 4);
            }
        }
    }
    if let Some(mut body) = rest.strip_prefix('&') {
        while body
            .as_bytes()
            .get(..4)
            .is_some_and(|b| b.eq_ignore_ascii_case(b"amp;"))
        {
            body = &body[4..];
        }
        let used = |left: &str| rest.len() - left.len();
        if let Some(number) = body.strip_prefix('#') {
            let (radix, digits_from) = match number.strip_prefix(['x', 'X']) {
                Some(hex) => (16, hex),
                None => (10, number),
            };
            let count = digits_from
                .chars()
                .take_while(|c| c.is_digit(radix))
                .count();
            if count > 0 {
                let value = u32::from_str_radix(&digits_from[..count], radix)
                    .ok()
                    .filter(|_| count <= 8)
                    .and_then(char::from_u32)
                    .unwrap_or('\u{fffd}');
                let after = &digits_from[count..];
                let after = after.strip_prefix(';').unwrap_or(after);
                return (value, used(after));
            }
        }
        let name_len = body
            .char_indices()
            .take(32)
            .take_while(|(at, c)| c.is_ascii_alphanumeric() && (*at > 0 || c.is_ascii_alphabetic()))
            .count();
        let name = &body[..name_len];
        let terminated = body[name_len..].starts_with(';');
        if terminated && ANGLE_NAMES.contains(&name) {
            return ('<', used(&body[name_len + 1..]));
        }
        if name.starts_with("lt") || name.starts_with("LT") {
            return ('<', used(&body[2..]));
        }
        if terminated && name_len > 0 {
            return (' ', used(&body[name_len + 1..]));
        }
        return ('&', used(body));
    }
    let ch = rest.chars().next().unwrap_or('\u{fffd}');
    (ch, ch.len_utf8())
}

fn push_folded(ch: char, at: usize, folded: &mut Vec<(usize, char)>) {
    let text: String = std::iter::once(ch).nfkc().collect();
    for prototype in unicode_security::skeleton(&text) {
        for lower in prototype.to_lowercase() {
            let letter = match lower {
                '\u{1d00}' => 'a',
                '\u{1d05}' => 'd',
                '\u{1d07}' => 'e',
                '\u{274}' => 'n',
                '\u{280}' => 'r',
                '\u{1d1b}' => 't',
                other => other,
            };
            if ANGLES.contains(letter) {
                folded.push((at, '<'));
            } else if letter.is_alphanumeric() && letter != '\u{30fc}' {
                folded.push((at, letter));
            }
        }
    }
}

/// Byte offsets (in `text`) of the `<`-like character of every marker-like sequence.
pub fn marker_offsets(text: &str) -> Vec<usize> {
    let mut folded = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let (ch, len) = decode(&text[at..]);
        push_folded(ch, at, &mut folded);
        at += len;
    }
    let word: Vec<char> = "<untrusteddata".chars().collect();
    folded
        .windows(word.len())
        .filter(|window| window.iter().map(|(_, c)| *c).eq(word.iter().copied()))
        .map(|window| window[0].0)
        .collect()
}

/// `text` less the server's genuine block markers: an opener `<untrusted-data source="…">`
/// that ends its line, and a closer `</untrusted-data>` alone on its line (both possibly
/// indented or after a list bullet).
pub fn without_genuine_markers(text: &str) -> String {
    const OPENER: &str = "<untrusted-data source=\"";
    text.split('\n')
        .map(|line| {
            if line.trim() == "</untrusted-data>" {
                return "";
            }
            match line.find(OPENER) {
                Some(at)
                    if line.ends_with("\">")
                        && !line[at + OPENER.len()..line.len() - 2].contains(['"', '<', '>']) =>
                {
                    &line[..at]
                }
                _ => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Offsets (in [`without_genuine_markers`] of `text`) of marker-like text other than the
/// server's own block markers.
pub fn forged_marker_offsets(text: &str) -> Vec<usize> {
    marker_offsets(&without_genuine_markers(text))
}

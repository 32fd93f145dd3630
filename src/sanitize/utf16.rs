//! Length and slicing in UTF-16 code units, the unit JavaScript's `.length` and `.slice` count
//! in. The original measures every limit this way, so we must too.

/// `text.length` in JavaScript.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// The longest prefix of `text` that is at most `units` UTF-16 code units long. Where
/// JavaScript's `slice` would split a surrogate pair, the whole character is left out: a Rust
/// string cannot hold half a character.
pub fn utf16_prefix(text: &str, units: usize) -> &str {
    let mut used = 0;
    for (offset, ch) in text.char_indices() {
        used += ch.len_utf16();
        if used > units {
            return &text[..offset];
        }
    }
    text
}

/// `text.slice(start, start + units)` in UTF-16 units, with the same rule at both ends.
pub fn utf16_slice(text: &str, start: usize, units: usize) -> &str {
    let mut skipped = 0;
    let mut begin = text.len();
    for (offset, ch) in text.char_indices() {
        if skipped >= start {
            begin = offset;
            break;
        }
        skipped += ch.len_utf16();
    }
    utf16_prefix(&text[begin..], units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn astral_characters_count_as_two_units() {
        assert_eq!(utf16_len("a😀é"), 4);
        assert_eq!(utf16_prefix("a😀é", 2), "a");
        assert_eq!(utf16_prefix("a😀é", 3), "a😀");
        assert_eq!(utf16_slice("abcdef", 2, 3), "cde");
        assert_eq!(utf16_slice("ab", 5, 3), "");
    }
}

//! An independent reading of JSONC for the installer targets: comments and trailing commas are
//! removed by a scanner that knows only strings, `//`, `/* */` and `,` between a value and
//! `}`/`]`, and the result goes to `serde_json`. It shares no code with the installer's editor.

/// The strict JSON text of `text` (comments replaced by a space, trailing commas dropped) and
/// the comments found, in order; `None` when a block comment or string is unterminated or a
/// `/` starts neither kind of comment.
pub fn strip(text: &str) -> Option<(String, Vec<String>)> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut comments = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => {
                let start = index;
                index += 1;
                loop {
                    match bytes.get(index)? {
                        b'\\' => index += 2,
                        b'"' => break,
                        _ => index += 1,
                    }
                }
                index += 1;
                out.push_str(text.get(start..index)?);
            }
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                let end = text[index..].find('\n').map_or(text.len(), |at| index + at);
                comments.push(text[index..end].to_string());
                out.push(' ');
                index = end;
            }
            b'/' if bytes.get(index + 1) == Some(&b'*') => {
                let end = index + 2 + text.get(index + 2..)?.find("*/")? + 2;
                comments.push(text[index..end].to_string());
                out.push(' ');
                index = end;
            }
            b'/' => return None,
            b',' => {
                // A comma followed (after whitespace and comments) by a closer is dropped.
                let mut look = index + 1;
                loop {
                    match bytes.get(look) {
                        Some(b' ' | b'\t' | b'\n' | b'\r') => look += 1,
                        Some(b'/') if bytes.get(look + 1) == Some(&b'/') => {
                            look = text[look..].find('\n').map_or(text.len(), |at| look + at);
                        }
                        Some(b'/') if bytes.get(look + 1) == Some(&b'*') => {
                            look = look + 2 + text.get(look + 2..)?.find("*/")? + 2;
                        }
                        _ => break,
                    }
                }
                // Only after a member or element: `{,}`, `[,]` and `,,` are errors in JSONC too.
                let after_value = !matches!(out.trim_end().chars().last(), Some('{' | '[' | ','));
                if !(after_value && matches!(bytes.get(look), Some(b'}' | b']'))) {
                    out.push(',');
                }
                index += 1;
            }
            _ => {
                let ch = text[index..].chars().next()?;
                out.push(ch);
                index += ch.len_utf8();
            }
        }
    }
    Some((out, comments))
}

/// `text` read as JSONC: the value (`None` for a document of only trivia) and its comments.
pub fn parse(text: &str) -> Option<(Option<serde_json::Value>, Vec<String>)> {
    let (strict, comments) = strip(text)?;
    if is_blank(&strict) {
        return Some((None, comments));
    }
    let value = serde_json::from_str(&strict).ok()?;
    Some((Some(value), comments))
}

/// Whether `text` is only JSON whitespace (space, tab, LF, CR: not Unicode's wider set).
pub fn is_blank(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// Whether `needle` is a subsequence of `haystack` (every byte of the input kept, in order).
pub fn is_subsequence(needle: &str, haystack: &str) -> bool {
    let mut rest = haystack.bytes();
    needle.bytes().all(|b| rest.any(|h| h == b))
}

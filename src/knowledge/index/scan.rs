//! Streaming readers of the index files, so that neither index.json nor the journal is ever
//! held whole in memory: [`index_items`] walks index.json's top-level object and hands over
//! each element of `items` (its offset and bytes) one at a time; [`journal_lines`] hands over
//! each complete journal line. Only the structure is checked here; each piece handed over is
//! parsed (and checked) by the caller.

use serde_json::Value;
use std::io::{self, BufRead};

use crate::json::parse_lenient;

/// A byte reader that counts its position and can record what it consumes.
struct Scanner<R> {
    reader: R,
    position: u64,
    capture: Option<Vec<u8>>,
}

/// The structure is not an index: the document is treated as corrupt.
struct Malformed;

enum Failure {
    Io(io::Error),
    Malformed,
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Failure {
        Failure::Io(error)
    }
}

impl From<Malformed> for Failure {
    fn from(_: Malformed) -> Failure {
        Failure::Malformed
    }
}

impl<R: BufRead> Scanner<R> {
    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.reader.fill_buf()?.first().copied())
    }

    fn consume(&mut self, count: usize) -> io::Result<()> {
        if let Some(capture) = &mut self.capture {
            capture.extend_from_slice(&self.reader.fill_buf()?[..count]);
        }
        self.reader.consume(count);
        self.position += count as u64;
        Ok(())
    }

    fn next(&mut self) -> Result<u8, Failure> {
        let byte = self.peek()?.ok_or(Malformed)?;
        self.consume(1)?;
        Ok(byte)
    }

    fn expect(&mut self, byte: u8) -> Result<(), Failure> {
        if self.next()? == byte {
            Ok(())
        } else {
            Err(Failure::Malformed)
        }
    }

    fn skip_whitespace(&mut self) -> io::Result<()> {
        loop {
            let buffer = self.reader.fill_buf()?;
            let blank = buffer
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
                .count();
            if blank == 0 {
                return Ok(());
            }
            self.consume(blank)?;
        }
    }

    /// Skips a string whose opening quote was consumed, returning its raw contents.
    fn rest_of_string(&mut self) -> Result<Vec<u8>, Failure> {
        let mut raw = Vec::new();
        loop {
            let buffer = self.reader.fill_buf()?;
            if buffer.is_empty() {
                return Err(Failure::Malformed);
            }
            let available = buffer.len();
            let plain = buffer
                .iter()
                .take_while(|b| !matches!(b, b'"' | b'\\'))
                .count();
            raw.extend_from_slice(&buffer[..plain]);
            self.consume(plain)?;
            if plain == available {
                continue;
            }
            match self.next()? {
                b'"' => return Ok(raw),
                _ => {
                    raw.push(b'\\');
                    raw.push(self.next()?);
                }
            }
        }
    }

    /// Skips one value (structure only: the caller parses what it keeps).
    fn skip_value(&mut self) -> Result<(), Failure> {
        let is_special = |b: &u8| matches!(b, b'"' | b'{' | b'[' | b'}' | b']');
        match self.peek()? {
            None => Err(Failure::Malformed),
            Some(b'"') => {
                self.consume(1)?;
                self.rest_of_string().map(drop)
            }
            Some(b'{' | b'[') => {
                self.consume(1)?;
                let mut depth = 1usize;
                loop {
                    let buffer = self.reader.fill_buf()?;
                    let available = buffer.len();
                    let run = buffer.iter().take_while(|b| !is_special(b)).count();
                    self.consume(run)?;
                    if run == available && available > 0 {
                        continue;
                    }
                    match self.next()? {
                        b'"' => {
                            self.rest_of_string()?;
                        }
                        b'{' | b'[' => depth += 1,
                        _ => {
                            depth -= 1;
                            if depth == 0 {
                                return Ok(());
                            }
                        }
                    }
                }
            }
            Some(_) => {
                let mut total = 0;
                loop {
                    let buffer = self.reader.fill_buf()?;
                    let available = buffer.len();
                    let run = buffer
                        .iter()
                        .take_while(|b| {
                            !is_special(b) && !matches!(b, b',' | b' ' | b'\n' | b'\r' | b'\t')
                        })
                        .count();
                    self.consume(run)?;
                    total += run;
                    if run < available || available == 0 {
                        break;
                    }
                }
                if total == 0 {
                    return Err(Failure::Malformed);
                }
                Ok(())
            }
        }
    }

    /// Skips one value and returns its bytes.
    fn captured_value(&mut self) -> Result<Vec<u8>, Failure> {
        self.capture = Some(Vec::new());
        let skipped = self.skip_value();
        let bytes = self.capture.take().unwrap_or_default();
        skipped.map(|()| bytes)
    }
}

/// Walks index.json from `reader`: calls `item(offset, bytes)` for each element of `items`
/// (`item` returns false if the element does not parse). Returns the document's `updatedAt`,
/// or `None` if the document is not an object with one `items` array (or is malformed).
pub fn index_items<R: BufRead>(
    reader: R,
    item: &mut dyn FnMut(u64, &[u8]) -> bool,
) -> io::Result<Option<Value>> {
    let mut scanner = Scanner {
        reader,
        position: 0,
        capture: None,
    };
    match walk_index(&mut scanner, item) {
        Ok(updated) => Ok(Some(updated)),
        Err(Failure::Malformed) => Ok(None),
        Err(Failure::Io(error)) => Err(error),
    }
}

fn walk_index<R: BufRead>(
    scanner: &mut Scanner<R>,
    item: &mut dyn FnMut(u64, &[u8]) -> bool,
) -> Result<Value, Failure> {
    let mut updated = Value::Null;
    let mut seen_items = false;
    if scanner.peek()? == Some(0xef) {
        // A UTF-8 byte-order mark, as the lenient parser accepts.
        for byte in [0xef, 0xbb, 0xbf] {
            scanner.expect(byte)?;
        }
    }
    scanner.skip_whitespace()?;
    scanner.expect(b'{')?;
    scanner.skip_whitespace()?;
    if scanner.peek()? == Some(b'}') {
        return Err(Failure::Malformed);
    }
    loop {
        scanner.skip_whitespace()?;
        scanner.expect(b'"')?;
        let key = scanner.rest_of_string()?;
        scanner.skip_whitespace()?;
        scanner.expect(b':')?;
        scanner.skip_whitespace()?;
        if key == b"items" {
            if seen_items {
                return Err(Failure::Malformed);
            }
            seen_items = true;
            scanner.expect(b'[')?;
            scanner.skip_whitespace()?;
            if scanner.peek()? == Some(b']') {
                scanner.consume(1)?;
            } else {
                loop {
                    scanner.skip_whitespace()?;
                    let start = scanner.position;
                    let bytes = scanner.captured_value()?;
                    if !item(start, &bytes) {
                        return Err(Failure::Malformed);
                    }
                    scanner.skip_whitespace()?;
                    match scanner.next()? {
                        b',' => continue,
                        b']' => break,
                        _ => return Err(Failure::Malformed),
                    }
                }
            }
        } else {
            let bytes = scanner.captured_value()?;
            let value = parse_lenient(&bytes).map_err(|_| Malformed)?;
            if key == b"updatedAt" {
                updated = value;
            }
        }
        scanner.skip_whitespace()?;
        match scanner.next()? {
            b',' => continue,
            b'}' => break,
            _ => return Err(Failure::Malformed),
        }
    }
    scanner.skip_whitespace()?;
    if scanner.peek()?.is_some() || !seen_items {
        return Err(Failure::Malformed);
    }
    Ok(updated)
}

/// Reads the complete lines of a journal from `reader`, which starts at byte `offset`:
/// `line(offset, bytes)` for each (without its newline). Returns the offset just after the
/// last complete line; an unterminated last line (an append cut short) is left for later.
pub fn journal_lines<R: BufRead>(
    mut reader: R,
    offset: u64,
    line: &mut dyn FnMut(u64, &[u8]),
) -> io::Result<u64> {
    let mut position = offset;
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = reader.read_until(b'\n', &mut buffer)?;
        if read == 0 || buffer.last() != Some(&b'\n') {
            return Ok(position);
        }
        line(position, &buffer[..read - 1]);
        position += read as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Option<(Value, Vec<(u64, String)>)> {
        let mut found = Vec::new();
        let updated = index_items(text.as_bytes(), &mut |at, bytes| {
            found.push((at, String::from_utf8_lossy(bytes).into_owned()));
            parse_lenient(bytes).is_ok()
        })
        .expect("io");
        updated.map(|u| (u, found))
    }

    #[test]
    fn items_are_handed_over_with_their_offsets() {
        let text = "{\n \"version\": 1, \"updatedAt\": \"x\\\"y\",\n \"items\": [ {\"id\": \"a]\", \"n\": [1, {\"b\": 2}]}, 3 , \"s\" ] }\n";
        let (updated, found) = items(text).expect("valid");
        assert_eq!(updated, "x\"y");
        let pieces: Vec<&str> = found.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            pieces,
            ["{\"id\": \"a]\", \"n\": [1, {\"b\": 2}]}", "3", "\"s\""]
        );
        for (at, piece) in &found {
            assert_eq!(&text[*at as usize..*at as usize + piece.len()], piece);
        }
        assert_eq!(items("{\"items\": []}").expect("empty").1.len(), 0);
        // Pieces that straddle the reader's buffer boundaries.
        let long = format!(
            "{{\"items\": [\"{}\", 12345, {{\"k\": \"{}\"}}]}}",
            "a".repeat(70_000),
            "b\\\"".repeat(30_000)
        );
        let reader = std::io::BufReader::with_capacity(7, long.as_bytes());
        let mut count = 0;
        let updated = index_items(reader, &mut |_, bytes| {
            count += 1;
            parse_lenient(bytes).is_ok()
        })
        .expect("io");
        assert_eq!((updated, count), (Some(Value::Null), 3));
    }

    #[test]
    fn anything_but_an_object_with_one_items_array_is_malformed() {
        for text in [
            "",
            "{not json",
            "[1,2]",
            "{\"items\": 3}",
            "{}",
            "{\"version\": 1}",
            "{\"items\": [1,]}",
            "{\"items\": [1] } x",
            "{\"items\": [{]}",
            "{\"items\": [], \"items\": []}",
            "{\"items\": [], \"v\": tru e}",
        ] {
            assert!(items(text).is_none(), "{text}");
        }
    }

    #[test]
    fn journal_lines_stop_at_an_unterminated_line() {
        let mut lines = Vec::new();
        let end = journal_lines(&b"ab\ncd\nef"[..], 10, &mut |at, bytes| {
            lines.push((at, bytes.to_vec()))
        })
        .expect("io");
        assert_eq!(end, 16);
        assert_eq!(lines, vec![(10, b"ab".to_vec()), (13, b"cd".to_vec())]);
    }
}

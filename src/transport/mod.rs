//! Newline-delimited framing of the byte stream on stdin, with bounded memory.
//!
//! Owns exactly one job: turning arbitrary chunks of bytes into a sequence of [`Frame`]s that
//! does not depend on how the stream was chunked. It never interprets the bytes (UTF-8 and
//! JSON are the protocol layer's business) and never holds more than its line limit
//! ([`MAX_LINE_BYTES`] unless [`Framer::with_limit`] says otherwise) of a line: a longer line
//! is counted, dropped and reported as [`Frame::Oversize`]. It also names the two ways the
//! stdio stream itself can fail ([`StdioError`]).

use std::io;

/// Longest line accepted, in bytes, excluding its newline.
pub const MAX_LINE_BYTES: usize = 1_000_000;
/// Size of one read from stdin.
pub const READ_CHUNK_BYTES: usize = 64 * 1024;

/// One unit of input for the protocol layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete line without its `\n` (possibly empty, possibly not UTF-8).
    Line(Vec<u8>),
    /// A line longer than the framer's limit; only its length was kept.
    Oversize { length: usize },
}

/// Why a session ended before the end of its input.
#[derive(Debug)]
pub enum StdioError {
    /// Reading stdin failed.
    Read(io::Error),
    /// Writing a reply to stdout failed: the client has gone away (or stdout is broken), so
    /// nothing it asks for can be answered any more.
    Write(io::Error),
}

impl std::fmt::Display for StdioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read(error) => write!(f, "reading a request from stdin failed: {error}"),
            Self::Write(error) if error.kind() == io::ErrorKind::BrokenPipe => write!(
                f,
                "the client closed stdout ({error}); stopping without reading further requests"
            ),
            Self::Write(error) => write!(
                f,
                "writing a reply to stdout failed ({error}); stopping without reading further requests"
            ),
        }
    }
}

/// Incremental splitter. Feed it chunks with [`Framer::push`], then call [`Framer::finish`]
/// at end of input to flush an unterminated last line.
#[derive(Debug)]
pub struct Framer {
    line: Vec<u8>,
    /// Length of the current line once it has exceeded the limit; its bytes are not kept.
    oversize: Option<usize>,
    /// Longest line kept, in bytes, excluding its newline.
    limit: usize,
}

impl Default for Framer {
    fn default() -> Self {
        Self::with_limit(MAX_LINE_BYTES)
    }
}

impl Framer {
    /// The server's framer: lines up to [`MAX_LINE_BYTES`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A framer keeping lines up to `limit` bytes. The server always uses [`Framer::new`];
    /// a smaller limit lets tests and fuzzing reach the boundary with kilobyte inputs.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            line: Vec::new(),
            oversize: None,
            limit,
        }
    }

    /// The longest line this framer keeps.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes currently held for the unfinished line (never more than [`Framer::limit`]).
    pub fn buffered(&self) -> usize {
        self.line.len()
    }

    fn absorb(&mut self, segment: &[u8]) {
        if let Some(length) = self.oversize.as_mut() {
            *length += segment.len();
        } else if self.line.len() + segment.len() > self.limit {
            self.oversize = Some(self.line.len() + segment.len());
            self.line = Vec::new();
        } else {
            self.line.extend_from_slice(segment);
        }
    }

    fn complete_line(&mut self) -> Frame {
        match self.oversize.take() {
            Some(length) => Frame::Oversize { length },
            None => Frame::Line(std::mem::take(&mut self.line)),
        }
    }

    /// Splits `chunk`, appending every line it completes to `frames`.
    pub fn push(&mut self, chunk: &[u8], frames: &mut Vec<Frame>) {
        let mut rest = chunk;
        while let Some(newline) = rest.iter().position(|b| *b == b'\n') {
            self.absorb(&rest[..newline]);
            frames.push(self.complete_line());
            rest = &rest[newline + 1..];
        }
        self.absorb(rest);
    }

    /// End of input: an unterminated final line is still a line.
    pub fn finish(&mut self, frames: &mut Vec<Frame>) {
        if self.oversize.is_some() || !self.line.is_empty() {
            frames.push(self.complete_line());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(chunks: &[&[u8]]) -> Vec<Frame> {
        let mut framer = Framer::new();
        let mut frames = Vec::new();
        for chunk in chunks {
            framer.push(chunk, &mut frames);
            assert!(framer.buffered() <= MAX_LINE_BYTES);
        }
        framer.finish(&mut frames);
        frames
    }

    #[test]
    fn lines_split_across_chunks_are_reassembled() {
        assert_eq!(
            frames_of(&[b"ab", b"c\nde", b"\n\nf"]),
            vec![
                Frame::Line(b"abc".to_vec()),
                Frame::Line(b"de".to_vec()),
                Frame::Line(vec![]),
                Frame::Line(b"f".to_vec())
            ]
        );
    }

    #[test]
    fn line_at_the_limit_is_kept_and_one_byte_more_is_oversize() {
        let at = vec![b'a'; MAX_LINE_BYTES];
        assert_eq!(frames_of(&[&at, b"\n"]), vec![Frame::Line(at.clone())]);
        let below = vec![b'a'; MAX_LINE_BYTES - 1];
        assert_eq!(
            frames_of(&[&below, b"\n"]),
            vec![Frame::Line(below.clone())]
        );
        let above = vec![b'a'; MAX_LINE_BYTES + 1];
        assert_eq!(
            frames_of(&[&above, b"\nok\n"]),
            vec![
                Frame::Oversize {
                    length: MAX_LINE_BYTES + 1
                },
                Frame::Line(b"ok".to_vec())
            ]
        );
    }

    #[test]
    fn a_smaller_limit_moves_the_boundary() {
        let mut framer = Framer::with_limit(3);
        let mut frames = Vec::new();
        framer.push(b"ab\nabc\nabcd\nx", &mut frames);
        assert!(framer.buffered() <= framer.limit());
        framer.finish(&mut frames);
        assert_eq!(
            frames,
            vec![
                Frame::Line(b"ab".to_vec()),
                Frame::Line(b"abc".to_vec()),
                Frame::Oversize { length: 4 },
                Frame::Line(b"x".to_vec())
            ]
        );
        assert_eq!(Framer::new().limit(), MAX_LINE_BYTES);
    }

    #[test]
    fn five_megabyte_unterminated_line_holds_bounded_memory() {
        let mut framer = Framer::new();
        let mut frames = Vec::new();
        let chunk = vec![b'x'; READ_CHUNK_BYTES];
        for _ in 0..(5_000_000 / READ_CHUNK_BYTES + 1) {
            framer.push(&chunk, &mut frames);
            assert!(framer.buffered() <= MAX_LINE_BYTES);
        }
        framer.finish(&mut frames);
        assert!(matches!(frames.as_slice(), [Frame::Oversize { length }] if *length > 5_000_000));
    }

    #[test]
    fn framing_does_not_depend_on_chunking() {
        let stream: Vec<u8> = b"{\"a\":1}\n\nxyz\n".repeat(3);
        let whole = frames_of(&[&stream]);
        let bytewise: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(frames_of(&bytewise), whole);
    }
}

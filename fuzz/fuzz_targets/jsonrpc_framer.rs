//! `transport::Framer` on arbitrary bytes split into arbitrary chunks.
//!
//! Checks:
//! - the frames equal those of a one-line model of the contract (split on `\n`, a final
//!   unterminated line is a line, lines over `MAX_LINE_BYTES` become `Oversize{length}`);
//! - they do not depend on chunking: whole stream, arbitrary chunks and (for small inputs)
//!   byte by byte all give the same frames;
//! - `buffered()` never exceeds `MAX_LINE_BYTES` after any push; no `Line` is longer than that
//!   or contains `\n`; lines joined with newlines give back the input when none was oversize.
//!
//! Inputs can be inflated by a run of bytes close to `MAX_LINE_BYTES`, so the limit itself
//! (at, below and above) is reached without libFuzzer needing megabyte inputs.
#![no_main]

use arbitrary::Arbitrary;
use codex_harness_mcp::transport::{Frame, Framer, MAX_LINE_BYTES};
use libfuzzer_sys::fuzz_target;

/// Seeds are 10 control bytes (chunk sizes, inflation) followed by the raw stream.
#[derive(Arbitrary, Debug)]
struct Case {
    /// Chunk sizes, cycled; 0 is treated as 1.
    cuts: [u8; 4],
    /// Insert `MAX_LINE_BYTES - 2 + delta` copies of `byte` at `(at / 4) % (len + 1)` when
    /// `at % 4 == 1` (rarely, as a megabyte per run is slow).
    inflate: (u16, u8, u8),
    data: Vec<u8>,
}

fn frames<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> Vec<Frame> {
    let mut framer = Framer::new();
    let mut out = Vec::new();
    for chunk in chunks {
        framer.push(chunk, &mut out);
        assert!(
            framer.buffered() <= MAX_LINE_BYTES,
            "buffered {}",
            framer.buffered()
        );
    }
    framer.finish(&mut out);
    out
}

fn model(stream: &[u8]) -> Vec<Frame> {
    if stream.is_empty() {
        return Vec::new();
    }
    let mut lines: Vec<&[u8]> = stream.split(|b| *b == b'\n').collect();
    if stream.ends_with(b"\n") {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|line| match line.len() {
            length if length > MAX_LINE_BYTES => Frame::Oversize { length },
            _ => Frame::Line(line.to_vec()),
        })
        .collect()
}

fn check(case: Case) {
    let mut stream = case.data;
    if let Some((at, delta, byte)) = Some(case.inflate).filter(|(at, _, _)| at % 4 == 1) {
        let at = usize::from(at / 4) % (stream.len() + 1);
        let run = MAX_LINE_BYTES - 2 + usize::from(delta % 5);
        let byte = if byte == b'\n' { b'x' } else { byte };
        stream.splice(at..at, std::iter::repeat_n(byte, run));
    }

    let whole = frames(std::iter::once(stream.as_slice()));
    assert_eq!(whole, model(&stream), "framer differs from the line model");

    let mut chunked = Vec::new();
    let mut rest = stream.as_slice();
    let mut sizes = case.cuts.iter().cycle();
    while !rest.is_empty() {
        let size = sizes.next().map_or(rest.len(), |s| usize::from(*s).max(1));
        let (head, tail) = rest.split_at(size.min(rest.len()));
        chunked.push(head);
        rest = tail;
    }
    assert_eq!(
        frames(chunked.into_iter()),
        whole,
        "chunking changed the frames"
    );
    if stream.len() <= 4096 {
        let bytewise = frames(stream.chunks(1));
        assert_eq!(bytewise, whole, "byte-by-byte feeding changed the frames");
    }

    let mut rebuilt = Vec::new();
    let mut any_oversize = false;
    for frame in &whole {
        match frame {
            Frame::Line(line) => {
                assert!(line.len() <= MAX_LINE_BYTES);
                assert!(!line.contains(&b'\n'));
                rebuilt.extend_from_slice(line);
                rebuilt.push(b'\n');
            }
            Frame::Oversize { length } => {
                assert!(*length > MAX_LINE_BYTES);
                any_oversize = true;
            }
        }
    }
    if !any_oversize {
        if !stream.ends_with(b"\n") {
            rebuilt.pop();
        }
        assert_eq!(rebuilt, stream, "lines do not reassemble into the input");
    }
}

fuzz_target!(|case: Case| check(case));

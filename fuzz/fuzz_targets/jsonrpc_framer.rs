//! `transport::Framer` on arbitrary bytes split into arbitrary chunks.
//!
//! Checks:
//! - the frames equal those of a one-line model of the contract (split on `\n`, a final
//!   unterminated line is a line, lines over the framer's limit become `Oversize{length}`);
//! - they do not depend on chunking: whole stream, arbitrary chunks and (for small inputs)
//!   byte by byte all give the same frames;
//! - `buffered()` never exceeds the limit after any push; no `Line` is longer than that or
//!   contains `\n`; lines joined with newlines give back the input when none was oversize.
//!
//! The limit is a parameter of the input (1 to 4096 bytes, `Framer::with_limit`) and a run of
//! `limit - 2 ..= limit + 2` copies of one byte can be spliced in, so at, below and above the
//! limit are reached with kilobyte inputs. `limit == 0` selects the shipped `Framer::new()`
//! (no inflation: a megabyte per input would dominate the campaign, as it did when a quarter
//! of all inputs were inflated to `MAX_LINE_BYTES`). The one slow path for the real constant
//! runs once per process, before the first input: lines of `MAX_LINE_BYTES - 1`, `MAX_LINE_BYTES`
//! and `MAX_LINE_BYTES + 1` bytes fed in `READ_CHUNK_BYTES` chunks, checked against the model.
#![no_main]

use arbitrary::Arbitrary;
use codex_harness_mcp::transport::{Frame, Framer, MAX_LINE_BYTES, READ_CHUNK_BYTES};
use libfuzzer_sys::fuzz_target;

/// Seeds are 11 control bytes (limit, chunk sizes, inflation) followed by the raw stream.
#[derive(Arbitrary, Debug)]
struct Case {
    /// Line limit is `limit % 4096 + 1`, except 0: the shipped framer and its constant.
    limit: u16,
    /// Chunk sizes, cycled; 0 is treated as 1.
    cuts: [u8; 4],
    /// Insert `limit - 2 + delta % 5` copies of `byte` at `(at / 2) % (len + 1)` when
    /// `at` is odd (never at the shipped limit).
    inflate: (u16, u8, u8),
    data: Vec<u8>,
}

fn framer(limit: usize) -> Framer {
    if limit == MAX_LINE_BYTES {
        Framer::new()
    } else {
        Framer::with_limit(limit)
    }
}

fn frames<'a>(limit: usize, chunks: impl Iterator<Item = &'a [u8]>) -> Vec<Frame> {
    let mut framer = framer(limit);
    assert_eq!(framer.limit(), limit);
    let mut out = Vec::new();
    for chunk in chunks {
        framer.push(chunk, &mut out);
        assert!(framer.buffered() <= limit, "buffered {}", framer.buffered());
    }
    framer.finish(&mut out);
    out
}

fn model(limit: usize, stream: &[u8]) -> Vec<Frame> {
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
            length if length > limit => Frame::Oversize { length },
            _ => Frame::Line(line.to_vec()),
        })
        .collect()
}

/// The slow path: the shipped framer at, below and above its real limit, in stdin-sized reads.
fn shipped_boundary() {
    for length in [MAX_LINE_BYTES - 1, MAX_LINE_BYTES, MAX_LINE_BYTES + 1] {
        let mut stream = vec![b'x'; length];
        stream.extend_from_slice(b"\nok\n");
        let got = frames(MAX_LINE_BYTES, stream.chunks(READ_CHUNK_BYTES));
        assert_eq!(
            got,
            model(MAX_LINE_BYTES, &stream),
            "shipped limit, {length}"
        );
    }
}

fn check(case: Case) {
    static SHIPPED: std::sync::Once = std::sync::Once::new();
    SHIPPED.call_once(shipped_boundary);
    let limit = match case.limit {
        0 => MAX_LINE_BYTES,
        n => usize::from(n % 4096) + 1,
    };
    let mut stream = case.data;
    let inflate = Some(case.inflate).filter(|(at, _, _)| at % 2 == 1 && limit != MAX_LINE_BYTES);
    if let Some((at, delta, byte)) = inflate {
        let at = usize::from(at / 2) % (stream.len() + 1);
        let run = (limit + usize::from(delta % 5)).saturating_sub(2);
        let byte = if byte == b'\n' { b'x' } else { byte };
        stream.splice(at..at, std::iter::repeat_n(byte, run));
    }

    let whole = frames(limit, std::iter::once(stream.as_slice()));
    assert_eq!(
        whole,
        model(limit, &stream),
        "framer differs from the line model"
    );

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
        frames(limit, chunked.into_iter()),
        whole,
        "chunking changed the frames"
    );
    if stream.len() <= 4096 {
        let bytewise = frames(limit, stream.chunks(1));
        assert_eq!(bytewise, whole, "byte-by-byte feeding changed the frames");
    }

    let mut rebuilt = Vec::new();
    let mut any_oversize = false;
    for frame in &whole {
        match frame {
            Frame::Line(line) => {
                assert!(line.len() <= limit);
                assert!(!line.contains(&b'\n'));
                rebuilt.extend_from_slice(line);
                rebuilt.push(b'\n');
            }
            Frame::Oversize { length } => {
                assert!(*length > limit);
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

//! The stdio session: the input and output streams, bytes read ahead of the frame loop, and
//! the one request in flight.
//!
//! Owns what lets a synchronous, single-threaded loop honour `notifications/cancelled` and
//! `progressToken` while a request waits on a lock: the store calls [`Session::wait`]
//! instead of sleeping, and it sends `notifications/progress` (when the request asked) and
//! polls stdin for the pause; bytes that arrive are read ahead, scanned for a cancellation
//! naming the request in flight, and handed to the frame loop afterwards, in order. Frames
//! already read but queued behind the request in flight (a client that cancels at once sends
//! both in one write) are scanned too. It never
//! runs a request, never reads more than [`MAX_READ_AHEAD`] bytes ahead, and never answers
//! anything itself. Between requests it waits on stdin and the termination signals together
//! (see [`crate::signals`]), optionally with an idle timeout.

use super::era::Version;
use super::jsonrpc::Id;
use crate::json::{parse_message, to_compact};
use crate::signals::Termination;
use crate::store::LOCK_TIMEOUT_MS;
use crate::transport::{Frame, MAX_LINE_BYTES, READ_CHUNK_BYTES};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::time::Duration;

/// Most bytes read ahead while a request waits; beyond it the wait stops reading (and so
/// stops seeing cancellations) rather than hold an unbounded backlog.
pub const MAX_READ_AHEAD: usize = MAX_LINE_BYTES + READ_CHUNK_BYTES;
/// Least time between two progress notifications for one request.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

struct InFlight {
    id: Value,
    version: Version,
    progress_token: Option<Value>,
    last_progress: Option<Duration>,
    cancelled: bool,
    /// Whether the frames queued behind it have been scanned (they cannot change while it
    /// runs, so once is enough).
    queue_scanned: bool,
}

/// What [`Session::next_input`] found.
pub enum Input {
    Bytes(Vec<u8>),
    End,
    /// The idle time passed without input.
    Idle,
    /// A terminating signal, by name.
    Stop(&'static str),
}

pub struct Session<R, W> {
    input: R,
    /// Readable when a terminating signal is pending.
    stop: Option<Termination>,
    output: W,
    read_ahead: Vec<u8>,
    /// Bytes of `read_ahead` already scanned for a cancellation.
    scanned: usize,
    /// Frames read and framed but not handled yet, in order.
    queued: VecDeque<Frame>,
    eof: bool,
    in_flight: Option<InFlight>,
    write_error: Option<io::Error>,
}

impl<R: Read + AsFd, W: Write> Session<R, W> {
    pub fn new(input: R, output: W, stop: Option<Termination>) -> Self {
        Session {
            input,
            stop,
            output,
            read_ahead: Vec::new(),
            scanned: 0,
            queued: VecDeque::new(),
            eof: false,
            in_flight: None,
            write_error: None,
        }
    }

    /// The next input: what was read ahead first, then whatever comes first of fresh bytes,
    /// the end of input, a terminating signal, or (with `idle`) that long without either.
    pub fn next_input(&mut self, idle: Option<Duration>) -> io::Result<Input> {
        if !self.read_ahead.is_empty() {
            self.scanned = 0;
            return Ok(Input::Bytes(std::mem::take(&mut self.read_ahead)));
        }
        if self.eof {
            return Ok(Input::End);
        }
        let timeout = idle.map(|d| Timespec {
            tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(d.subsec_nanos()),
        });
        loop {
            let (input_ready, stop_ready) = {
                let mut fds = vec![PollFd::new(&self.input, PollFlags::IN)];
                if let Some(stop) = &self.stop {
                    fds.push(PollFd::new(stop, PollFlags::IN));
                }
                match poll(&mut fds, timeout.as_ref()) {
                    Ok(_) => (
                        !fds[0].revents().is_empty(),
                        fds.get(1).is_some_and(|fd| !fd.revents().is_empty()),
                    ),
                    Err(rustix::io::Errno::INTR) => continue,
                    // Not pollable: read (blocking) as a plain stream.
                    Err(_) => (true, false),
                }
            };
            // A signal wins over queued input: only the request in flight is finished.
            if stop_ready {
                if let Some(name) = self.stop.as_ref().and_then(|stop| stop.take()) {
                    return Ok(Input::Stop(name));
                }
            }
            if input_ready {
                return self.read_chunk();
            }
            if !stop_ready {
                return Ok(Input::Idle);
            }
        }
    }

    fn read_chunk(&mut self) -> io::Result<Input> {
        let mut chunk = vec![0u8; READ_CHUNK_BYTES];
        loop {
            match self.input.read(&mut chunk) {
                Ok(0) => return Ok(Input::End),
                Ok(read) => {
                    chunk.truncate(read);
                    return Ok(Input::Bytes(chunk));
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
        }
    }

    /// Queues frames for [`Session::next_frame`].
    pub fn queue(&mut self, frames: impl IntoIterator<Item = Frame>) {
        self.queued.extend(frames);
    }

    /// The next queued frame, if any.
    pub fn next_frame(&mut self) -> Option<Frame> {
        self.queued.pop_front()
    }

    /// Writes one line and flushes. After a failed write nothing more is written.
    pub fn send(&mut self, line: &str) {
        if self.write_error.is_some() {
            return;
        }
        let sent = self
            .output
            .write_all(line.as_bytes())
            .and_then(|()| self.output.write_all(b"\n"))
            .and_then(|()| self.output.flush());
        if let Err(error) = sent {
            self.write_error = Some(error);
        }
    }

    pub fn take_write_error(&mut self) -> Option<io::Error> {
        self.write_error.take()
    }

    /// Whether a reply could not be written (the session must end).
    pub fn has_write_error(&self) -> bool {
        self.write_error.is_some()
    }

    /// A request starts: remember its id (as a value, to compare with a cancellation's
    /// `requestId`) and progress token.
    pub fn begin(&mut self, id: &Id, params: Option<&Value>, version: Version) {
        let id: Value = serde_json::from_str(id.as_json()).unwrap_or(Value::Null);
        let progress_token = params
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get("progressToken"))
            .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
            .cloned();
        self.in_flight = Some(InFlight {
            id,
            version,
            progress_token,
            last_progress: None,
            cancelled: false,
            queue_scanned: false,
        });
    }

    /// The request ended; `true` when the client cancelled it (no reply may be sent).
    pub fn end(&mut self) -> bool {
        self.in_flight.take().is_some_and(|f| f.cancelled)
    }

    /// Called by the store between lock attempts: report progress, pause by polling stdin,
    /// and say whether to keep waiting.
    pub fn wait(&mut self, waited: Duration, pause: Duration) -> bool {
        self.report_progress(waited);
        if self.eof || self.read_ahead.len() >= MAX_READ_AHEAD || !self.poll_input(pause) {
            std::thread::sleep(pause);
        }
        self.scan_for_cancellation();
        !self.in_flight.as_ref().is_some_and(|f| f.cancelled)
    }

    fn report_progress(&mut self, waited: Duration) {
        let Some(flight) = self.in_flight.as_mut() else {
            return;
        };
        let Some(token) = flight.progress_token.clone() else {
            return;
        };
        let due = flight
            .last_progress
            .is_none_or(|last| waited >= last + PROGRESS_INTERVAL);
        if !due {
            return;
        }
        flight.last_progress = Some(waited);
        // Milliseconds waited out of the lock timeout: strictly increasing, as required.
        let mut params = json!({
            "progressToken": token,
            "progress": waited.as_millis() as u64 + 1,
            "total": LOCK_TIMEOUT_MS,
        });
        if flight.version.progress_has_message() {
            params["message"] = json!("Waiting for a lock held by another process.");
        }
        let line = to_compact(&json!({
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": params
        }));
        self.send(&line);
    }

    /// Waits up to `pause` for input and reads what came; `false` when polling is not
    /// possible (the caller sleeps instead).
    fn poll_input(&mut self, pause: Duration) -> bool {
        let timeout = Timespec {
            tv_sec: 0,
            tv_nsec: i64::from(pause.subsec_nanos()),
        };
        let ready = {
            let mut fds = [PollFd::new(&self.input, PollFlags::IN)];
            match poll(&mut fds, Some(&timeout)) {
                Ok(ready) => ready > 0,
                Err(_) => return false,
            }
        };
        if ready {
            let mut chunk = vec![0u8; READ_CHUNK_BYTES];
            match self.input.read(&mut chunk) {
                Ok(0) => self.eof = true,
                Ok(read) => self.read_ahead.extend_from_slice(&chunk[..read]),
                // Read errors end the stream in the frame loop; here they only stop polling.
                Err(_) => self.eof = true,
            }
        }
        true
    }

    fn scan_for_cancellation(&mut self) {
        let Some(flight) = self.in_flight.as_mut() else {
            return;
        };
        if !flight.queue_scanned {
            flight.queue_scanned = true;
            let queued = self.queued.iter().filter_map(|frame| match frame {
                Frame::Line(line) => Some(line.as_slice()),
                Frame::Oversize { .. } => None,
            });
            for line in queued {
                flight.cancelled |= cancels(line, &flight.id);
            }
        }
        let unscanned = &self.read_ahead[self.scanned..];
        let Some(last_newline) = unscanned.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        for line in unscanned[..last_newline].split(|b| *b == b'\n') {
            flight.cancelled |= cancels(line, &flight.id);
        }
        self.scanned += last_newline + 1;
    }
}

/// Whether `line` is a `notifications/cancelled` naming the request `id`.
fn cancels(line: &[u8], id: &Value) -> bool {
    if line.len() > MAX_LINE_BYTES {
        return false;
    }
    let message = std::str::from_utf8(line)
        .ok()
        .and_then(|text| parse_message(text.trim()).ok());
    message.map(|m| m.value).is_some_and(|message| {
        message.get("id").is_none()
            && message["method"] == "notifications/cancelled"
            && message["params"]["requestId"] == *id
    })
}

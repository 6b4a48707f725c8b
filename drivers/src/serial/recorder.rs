//! Recording and replaying serial sessions, so a problem seen in the field can be reproduced at a
//! desk: wrap the port in a [`RecordingLink`], save the [`SerialRecording`] as text, and later
//! drive the same driver code from a [`ReplayLink`].
//!
//! # Text format (`.r30x.txt`, version 1)
//! One event per line; `#` starts a comment line. Fields are separated by one space:
//!
//! ```text
//! # r30x-serial-recording v1
//! # port /dev/ttyUSB0
//! 0.000000 B 57600
//! 0.000041 W EF01FFFFFFFF01000713000000001B
//! 0.001210 R EF01FFFFFFFF07000300000A
//! 1.001830 T 1000
//! 1.002000 C
//! 1.500000 E BrokenPipe
//! ```
//!
//! - field 1: seconds since the recording started (microsecond precision);
//! - `W <hex>`: bytes the host wrote (one line per write call);
//! - `R <hex>`: bytes one read call returned (a packet may span several lines);
//! - `T <ms>`: a read that timed out after that many milliseconds;
//! - `B <baud>`: the host set the line speed;
//! - `C`: the host discarded its input buffer;
//! - `E <kind>`: a read or write failed with that `std::io::ErrorKind` (unplugged device).
//!
//! Hex is upper case without separators. The format is plain text on purpose: it survives
//! e-mail and bug trackers, and a person can read a packet off it.

use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::link::SerialLink;

/// First line of a recording file.
pub const FORMAT_HEADER: &str = "# r30x-serial-recording v1";

/// What happened on the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// Host wrote these bytes.
    Write(Vec<u8>),
    /// A read returned these bytes.
    Read(Vec<u8>),
    /// A read got nothing within this many milliseconds.
    Timeout(u64),
    /// Host changed the baud rate.
    Baud(u32),
    /// Host discarded unread input.
    Clear,
    /// An I/O call failed with this error kind (its `Debug` name, e.g. `BrokenPipe`).
    Error(String),
}

/// One timestamped event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Time since the recording started.
    pub at: Duration,
    /// What happened.
    pub kind: EventKind,
}

/// A recorded session: the port name and its events in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SerialRecording {
    /// Name of the recorded port.
    pub port: String,
    /// Events in the order they happened.
    pub events: Vec<Event>,
}

/// Why a recording file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("recording line {line}: {message}")]
pub struct RecordingParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

/// Why a replay could not follow the driver (it no longer does what the recording shows).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The host wrote different bytes than recorded at this point.
    #[error("replay diverged at event {index}: host wrote {written}, recording has {recorded}")]
    WriteMismatch {
        /// Index of the recorded event.
        index: usize,
        /// Hex of what the host wrote.
        written: String,
        /// Hex (or description) of what the recording has.
        recorded: String,
    },
    /// The host read where the recording has a write.
    #[error("replay diverged at event {index}: host reads, recording has it writing {recorded}")]
    UnexpectedRead {
        /// Index of the recorded event.
        index: usize,
        /// Hex of the recorded write.
        recorded: String,
    },
    /// The recording is over.
    #[error("recording ended")]
    Ended,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() & 1 == 1 || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

/// Parses `<seconds>[.<up to 6 digits>]` exactly (no float rounding), so a saved recording
/// loads back identical.
fn parse_time(t: &str) -> Option<Duration> {
    let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let micros: u64 = if frac.is_empty() { 0 } else { frac.parse::<u64>().ok()? * 10u64.pow(6 - frac.len() as u32) };
    Some(Duration::from_secs(secs.parse().ok()?) + Duration::from_micros(micros))
}

impl Event {
    /// The event as one line of the text format (without newline).
    pub fn to_line(&self) -> String {
        let t = format!("{}.{:06}", self.at.as_secs(), self.at.subsec_micros());
        match &self.kind {
            EventKind::Write(b) => format!("{t} W {}", hex(b)),
            EventKind::Read(b) => format!("{t} R {}", hex(b)),
            EventKind::Timeout(ms) => format!("{t} T {ms}"),
            EventKind::Baud(b) => format!("{t} B {b}"),
            EventKind::Clear => format!("{t} C"),
            EventKind::Error(k) => format!("{t} E {k}"),
        }
    }
}

impl SerialRecording {
    /// Serialises to the text format.
    pub fn to_text(&self) -> String {
        let mut s = format!("{FORMAT_HEADER}\n# port {}\n", self.port);
        for e in &self.events {
            s.push_str(&e.to_line());
            s.push('\n');
        }
        s
    }

    /// Parses the text format. Unknown comment lines are ignored; anything else malformed is
    /// an error with its line number.
    pub fn parse(text: &str) -> Result<Self, RecordingParseError> {
        let mut rec = SerialRecording::default();
        for (i, line) in text.lines().enumerate() {
            let err = |m: &str| RecordingParseError { line: i + 1, message: m.to_owned() };
            let line = line.trim_end();
            if line.is_empty() {
                continue;
            }
            if let Some(c) = line.strip_prefix('#') {
                if let Some(p) = c.trim_start().strip_prefix("port ") {
                    rec.port = p.to_owned();
                }
                continue;
            }
            let mut f = line.splitn(3, ' ');
            let t = f.next().unwrap_or_default();
            let at = parse_time(t).ok_or_else(|| err("bad timestamp"))?;
            let tag = f.next().ok_or_else(|| err("missing event type"))?;
            let arg = f.next();
            let need = || arg.ok_or_else(|| err("missing argument"));
            let kind = match tag {
                "W" => EventKind::Write(unhex(need()?).ok_or_else(|| err("bad hex"))?),
                "R" => EventKind::Read(unhex(need()?).ok_or_else(|| err("bad hex"))?),
                "T" => EventKind::Timeout(need()?.parse().map_err(|_| err("bad timeout"))?),
                "B" => EventKind::Baud(need()?.parse().map_err(|_| err("bad baud"))?),
                "C" => EventKind::Clear,
                "E" => EventKind::Error(need()?.to_owned()),
                _ => return Err(err("unknown event type")),
            };
            rec.events.push(Event { at, kind });
        }
        Ok(rec)
    }

    /// Reads a recording file.
    pub fn load(path: &Path) -> io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Self::parse(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Writes a recording file.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, self.to_text())
    }

    /// All bytes the host read, concatenated (to extract packets from a field recording).
    pub fn bytes_read(&self) -> Vec<u8> {
        self.events.iter().flat_map(|e| if let EventKind::Read(b) = &e.kind { b.clone() } else { Vec::new() }).collect()
    }
}

/// Wraps a link and records every call on it. The recording is shared, so it can be read while
/// the driver still owns the link, and can optionally be streamed line by line to a file (a
/// crash then loses nothing).
pub struct RecordingLink<L: SerialLink> {
    inner: L,
    start: Instant,
    recording: Arc<Mutex<SerialRecording>>,
    sink: Option<Box<dyn Write + Send>>,
}

impl<L: SerialLink> RecordingLink<L> {
    /// Starts recording `inner`; the current baud rate is the first event.
    pub fn new(inner: L) -> Self {
        let recording = SerialRecording { port: inner.name(), events: Vec::new() };
        let mut link = RecordingLink { start: Instant::now(), recording: Arc::new(Mutex::new(recording)), sink: None, inner };
        if let Ok(b) = link.inner.baud_rate() {
            link.push(EventKind::Baud(b));
        }
        link
    }

    /// Also streams each event as a text line to `sink` (header written now).
    pub fn with_sink(mut self, mut sink: Box<dyn Write + Send>) -> io::Result<Self> {
        let rec = self.recording();
        sink.write_all(format!("{FORMAT_HEADER}\n# port {}\n", rec.port).as_bytes())?;
        for e in &rec.events {
            writeln!(sink, "{}", e.to_line())?;
        }
        sink.flush()?;
        self.sink = Some(sink);
        Ok(self)
    }

    /// A snapshot of the events so far.
    pub fn recording(&self) -> SerialRecording {
        self.recording.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The shared recording, readable after the link has moved into a driver.
    pub fn shared(&self) -> Arc<Mutex<SerialRecording>> {
        Arc::clone(&self.recording)
    }

    /// Stops recording and returns the wrapped link.
    pub fn into_inner(self) -> L {
        self.inner
    }

    fn push(&mut self, kind: EventKind) {
        // Microseconds: the precision of the text format, so a saved recording loads back equal.
        let event = Event { at: Duration::from_micros(self.start.elapsed().as_micros() as u64), kind };
        if let Some(sink) = self.sink.as_mut() {
            // A failing log sink must not break the capture; the in-memory copy stays complete.
            let _ = writeln!(sink, "{}", event.to_line()).and_then(|_| sink.flush());
        }
        self.recording.lock().unwrap_or_else(|p| p.into_inner()).events.push(event);
    }
}

impl<L: SerialLink> SerialLink for RecordingLink<L> {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let r = self.inner.read(buf, timeout);
        match &r {
            Ok(n) => self.push(EventKind::Read(buf[..*n].to_vec())),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => self.push(EventKind::Timeout(timeout.as_millis() as u64)),
            Err(e) => self.push(EventKind::Error(format!("{:?}", e.kind()))),
        }
        r
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.push(EventKind::Write(data.to_vec()));
        let r = self.inner.write_all(data);
        if let Err(e) = &r {
            self.push(EventKind::Error(format!("{:?}", e.kind())));
        }
        r
    }

    fn set_baud_rate(&mut self, baud: u32) -> io::Result<()> {
        self.push(EventKind::Baud(baud));
        self.inner.set_baud_rate(baud)
    }

    fn baud_rate(&self) -> io::Result<u32> {
        self.inner.baud_rate()
    }

    fn clear_input(&mut self) -> io::Result<()> {
        self.push(EventKind::Clear);
        self.inner.clear_input()
    }

    fn name(&self) -> String {
        self.inner.name()
    }
}

/// Plays a [`SerialRecording`] back to the driver: reads return the recorded bytes, timeouts and
/// failures happen where they happened, and every write is checked against the recording so a
/// driver that no longer behaves the same is caught ([`ReplayError`]).
#[derive(Debug)]
pub struct ReplayLink {
    recording: SerialRecording,
    next: usize,
    /// Bytes of a recorded read not yet handed out (the driver's buffer was smaller).
    partial: Vec<u8>,
    baud: u32,
}

fn replay_err(kind: io::ErrorKind, e: ReplayError) -> io::Error {
    io::Error::new(kind, e)
}

fn error_kind(name: &str) -> io::ErrorKind {
    use io::ErrorKind::*;
    match name {
        "BrokenPipe" => BrokenPipe,
        "UnexpectedEof" => UnexpectedEof,
        "NotConnected" => NotConnected,
        "ConnectionReset" => ConnectionReset,
        "PermissionDenied" => PermissionDenied,
        "NotFound" => NotFound,
        "TimedOut" => TimedOut,
        "Interrupted" => Interrupted,
        _ => Other,
    }
}

impl ReplayLink {
    /// A replay of `recording` from its first event.
    pub fn new(recording: SerialRecording) -> Self {
        let baud = recording.events.iter().find_map(|e| if let EventKind::Baud(b) = e.kind { Some(b) } else { None }).unwrap_or(super::protocol::DEFAULT_BAUD);
        ReplayLink { recording, next: 0, partial: Vec::new(), baud }
    }

    /// Events not yet replayed (0 once the driver did everything the recording shows).
    pub fn remaining(&self) -> usize {
        self.recording.events[self.next..].iter().filter(|e| matches!(e.kind, EventKind::Write(_) | EventKind::Read(_) | EventKind::Timeout(_) | EventKind::Error(_))).count()
    }

    /// The next I/O event, skipping baud and clear bookkeeping.
    fn next_io(&mut self) -> Option<(usize, EventKind)> {
        while let Some(e) = self.recording.events.get(self.next) {
            let idx = self.next;
            match &e.kind {
                EventKind::Baud(_) | EventKind::Clear => self.next += 1,
                k => return Some((idx, k.clone())),
            }
        }
        None
    }
}

impl SerialLink for ReplayLink {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if !self.partial.is_empty() {
            let n = buf.len().min(self.partial.len());
            buf[..n].copy_from_slice(&self.partial[..n]);
            self.partial.drain(..n);
            return Ok(n);
        }
        match self.next_io() {
            None => Err(replay_err(io::ErrorKind::UnexpectedEof, ReplayError::Ended)),
            Some((_, EventKind::Read(bytes))) => {
                self.next += 1;
                let n = buf.len().min(bytes.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                self.partial.extend_from_slice(&bytes[n..]);
                Ok(n)
            }
            Some((_, EventKind::Timeout(_))) => {
                self.next += 1;
                // Let the caller's wait really pass, so its own deadline expires as it did when
                // the recording was made (otherwise it would read on into the next exchange).
                std::thread::sleep(timeout);
                Err(io::Error::new(io::ErrorKind::TimedOut, "recorded timeout"))
            }
            Some((_, EventKind::Error(kind))) => {
                self.next += 1;
                Err(io::Error::new(error_kind(&kind), format!("recorded {kind}")))
            }
            Some((index, EventKind::Write(b))) => Err(replay_err(io::ErrorKind::InvalidData, ReplayError::UnexpectedRead { index, recorded: hex(&b) })),
            Some((_, EventKind::Baud(_) | EventKind::Clear)) => unreachable!("skipped by next_io"),
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self.next_io() {
            None => Err(replay_err(io::ErrorKind::UnexpectedEof, ReplayError::Ended)),
            Some((_, EventKind::Write(b))) if b == data => {
                self.next += 1;
                // A failure recorded right after the write belongs to it.
                if let Some(Event { kind: EventKind::Error(kind), .. }) = self.recording.events.get(self.next) {
                    let kind = kind.clone();
                    self.next += 1;
                    return Err(io::Error::new(error_kind(&kind), format!("recorded {kind}")));
                }
                Ok(())
            }
            Some((index, other)) => {
                let recorded = match other {
                    EventKind::Write(b) => hex(&b),
                    k => format!("{k:?}"),
                };
                Err(replay_err(io::ErrorKind::InvalidData, ReplayError::WriteMismatch { index, written: hex(data), recorded }))
            }
        }
    }

    fn set_baud_rate(&mut self, baud: u32) -> io::Result<()> {
        self.baud = baud;
        Ok(())
    }

    fn baud_rate(&self) -> io::Result<u32> {
        Ok(self.baud)
    }

    fn clear_input(&mut self) -> io::Result<()> {
        self.partial.clear();
        Ok(())
    }

    fn name(&self) -> String {
        format!("replay:{}", self.recording.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_errors() {
        let rec = SerialRecording {
            port: "/dev/pts/9".into(),
            events: vec![
                Event { at: Duration::from_micros(0), kind: EventKind::Baud(57600) },
                Event { at: Duration::from_micros(41), kind: EventKind::Write(vec![0xEF, 0x01, 0xAB]) },
                Event { at: Duration::from_micros(1_001_210), kind: EventKind::Read(vec![0x00, 0xFF]) },
                Event { at: Duration::from_micros(2_000_000), kind: EventKind::Timeout(1000) },
                Event { at: Duration::from_micros(2_000_001), kind: EventKind::Clear },
                Event { at: Duration::from_micros(3_000_000), kind: EventKind::Error("BrokenPipe".into()) },
            ],
        };
        let text = rec.to_text();
        assert!(text.contains("1.001210 R 00FF\n"), "{text}");
        assert_eq!(SerialRecording::parse(&text), Ok(rec));
        assert_eq!(SerialRecording::parse("0.1 W 0").unwrap_err().line, 1);
        assert_eq!(SerialRecording::parse("# c\nx W 00").unwrap_err().line, 2);
        assert!(SerialRecording::parse("0.1 Q").is_err());
        assert!(SerialRecording::parse("0.1 T").is_err());
        assert!(SerialRecording::parse("-1 C").is_err());
    }

    #[test]
    fn replay_checks_writes_and_splits_reads() {
        let rec = SerialRecording {
            port: "p".into(),
            events: vec![
                Event { at: Duration::ZERO, kind: EventKind::Write(vec![1, 2]) },
                Event { at: Duration::ZERO, kind: EventKind::Read(vec![3, 4, 5]) },
                Event { at: Duration::ZERO, kind: EventKind::Timeout(5) },
                Event { at: Duration::ZERO, kind: EventKind::Error("BrokenPipe".into()) },
            ],
        };
        let mut r = ReplayLink::new(rec.clone());
        let mut buf = [0u8; 2];
        let e = r.read(&mut buf, Duration::ZERO).unwrap_err();
        assert!(matches!(e.get_ref().and_then(|e| e.downcast_ref::<ReplayError>()), Some(ReplayError::UnexpectedRead { index: 0, .. })));
        let e = r.write_all(&[1, 3]).unwrap_err();
        assert!(matches!(e.get_ref().and_then(|e| e.downcast_ref::<ReplayError>()), Some(ReplayError::WriteMismatch { index: 0, .. })));
        r.write_all(&[1, 2]).unwrap();
        assert_eq!(r.read(&mut buf, Duration::ZERO).unwrap(), 2);
        assert_eq!(buf, [3, 4]);
        assert_eq!(r.read(&mut buf, Duration::ZERO).unwrap(), 1);
        assert_eq!(buf[0], 5);
        assert_eq!(r.read(&mut buf, Duration::ZERO).unwrap_err().kind(), io::ErrorKind::TimedOut);
        assert_eq!(r.remaining(), 1);
        assert_eq!(r.read(&mut buf, Duration::ZERO).unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(r.read(&mut buf, Duration::ZERO).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }
}

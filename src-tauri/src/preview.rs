//! The face preview's pictures, served to the window over the `preview:` URI scheme.
//!
//! A camera frame reaches the window as a tiny `face-preview` event (stream and frame number);
//! the window then loads the JPEG itself from `preview://localhost/<stream>/<frame>.jpg` into an
//! image and WebKit decodes it off the page's main thread. Sending the JPEG inside the event as a
//! base64 data URL instead cost the app's main thread a 40 kB JSON string per frame and the page a
//! 40 kB script to parse, and held the painted preview to 6–9 frames/s on the shared 2-core
//! machine (docs/benchmarks/app.md).
//!
//! Each request also carries the window's count of frames handled (painted, or dropped for a newer
//! one), so flow control needs no IPC of its own: the camera thread sends a frame only while few
//! are outstanding.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Frames kept for the window to fetch: the ones in flight and a margin.
const KEPT: usize = 6;

/// Previews sent but not yet handled by the window beyond which new ones are dropped before they
/// are encoded: two loading (one's request on its way while the other decodes), one decoded and
/// waiting for the display, one on its way. More only queues frames the window would drop anyway.
pub const IN_FLIGHT: u64 = 4;

/// The current face stream's encoded previews and the window's progress through them.
#[derive(Default)]
pub struct PreviewFrames {
    frames: Mutex<Kept>,
    /// Previews of the current stream the window has handled (painted or dropped).
    handled: AtomicU64,
}

#[derive(Default)]
struct Kept {
    stream: u64,
    jpegs: VecDeque<(u64, Arc<Vec<u8>>)>,
}

/// A request for one frame: `/<stream>/<frame>.jpg`, with `handled=<n>` in the query.
#[derive(Debug, PartialEq, Eq)]
pub struct FrameRequest {
    pub stream: u64,
    pub frame: u64,
    pub handled: Option<u64>,
}

impl FrameRequest {
    /// Parses a request path and query; `None` for anything else.
    pub fn parse(path: &str, query: Option<&str>) -> Option<Self> {
        let (stream, frame) = path.trim_start_matches('/').strip_suffix(".jpg")?.split_once('/')?;
        let handled = query.unwrap_or("").split('&').find_map(|pair| pair.strip_prefix("handled=")?.parse().ok());
        Some(FrameRequest { stream: stream.parse().ok()?, frame: frame.parse().ok()?, handled })
    }
}

impl PreviewFrames {
    /// Starts stream `stream`: forgets the previous stream's frames and counts.
    pub fn start(&self, stream: u64) {
        let mut kept = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        kept.stream = stream;
        kept.jpegs.clear();
        self.handled.store(0, Ordering::SeqCst);
    }

    /// Whether the window is far enough behind that frame `sent` (0-based count of frames sent so
    /// far) should be dropped before it is encoded.
    pub fn window_behind(&self, sent: u64) -> bool {
        sent >= self.handled.load(Ordering::SeqCst) + IN_FLIGHT
    }

    /// Keeps frame `frame`'s JPEG for the window to fetch.
    pub fn put(&self, stream: u64, frame: u64, jpeg: Vec<u8>) {
        let mut kept = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        if kept.stream != stream {
            return;
        }
        if kept.jpegs.len() >= KEPT {
            kept.jpegs.pop_front();
        }
        kept.jpegs.push_back((frame, Arc::new(jpeg)));
    }

    /// Answers a request: records the window's count (for the current stream) and returns the
    /// frame's JPEG while it is kept.
    pub fn get(&self, request: &FrameRequest) -> Option<Arc<Vec<u8>>> {
        let kept = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        if kept.stream != request.stream {
            return None;
        }
        if let Some(h) = request.handled {
            self.handled.fetch_max(h, Ordering::SeqCst);
        }
        kept.jpegs.iter().find(|(f, _)| *f == request.frame).map(|(_, j)| j.clone())
    }
}

/// The answer to one `preview:` request.
pub fn respond(frames: &PreviewFrames, request: &tauri::http::Request<Vec<u8>>) -> tauri::http::Response<Vec<u8>> {
    let uri = request.uri();
    let found = FrameRequest::parse(uri.path(), uri.query()).and_then(|r| frames.get(&r));
    let builder = tauri::http::Response::builder().header("Access-Control-Allow-Origin", "*").header("Cache-Control", "no-store");
    let response = match found {
        Some(jpeg) => builder.status(200).header("Content-Type", "image/jpeg").body(jpeg.to_vec()),
        None => builder.status(404).header("Content-Type", "text/plain").body(b"no such preview frame".to_vec()),
    };
    response.unwrap_or_else(|_| tauri::http::Response::new(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_carry_the_window_count() {
        let r = FrameRequest::parse("/3/41.jpg", Some("x=1&handled=40")).unwrap();
        assert_eq!(r, FrameRequest { stream: 3, frame: 41, handled: Some(40) });
        assert_eq!(FrameRequest::parse("3/41.jpg", None).unwrap().handled, None);
        for bad in ["/3/41.png", "/3.jpg", "/x/1.jpg", "/1/-2.jpg", ""] {
            assert_eq!(FrameRequest::parse(bad, None), None, "{bad}");
        }
    }

    #[test]
    fn flow_control_follows_what_the_window_handled() {
        let frames = PreviewFrames::default();
        frames.start(1);
        assert!(!frames.window_behind(0) && !frames.window_behind(IN_FLIGHT - 1));
        assert!(frames.window_behind(IN_FLIGHT));
        for f in 0..10 {
            frames.put(1, f, vec![f as u8]);
        }
        let get = |frame, handled| frames.get(&FrameRequest { stream: 1, frame, handled: Some(handled) });
        assert_eq!(get(9, 5).as_deref(), Some(&vec![9u8]));
        assert!(!frames.window_behind(5 + IN_FLIGHT - 1) && frames.window_behind(5 + IN_FLIGHT));
        // Only the newest frames are kept; a late request for an old one finds nothing.
        assert_eq!(get(2, 5), None);
        // Requests of an earlier stream change nothing.
        assert_eq!(frames.get(&FrameRequest { stream: 0, frame: 9, handled: Some(100) }), None);
        assert!(frames.window_behind(5 + IN_FLIGHT));
        frames.start(2);
        assert!(!frames.window_behind(0));
        assert_eq!(frames.get(&FrameRequest { stream: 2, frame: 9, handled: None }), None);
    }
}

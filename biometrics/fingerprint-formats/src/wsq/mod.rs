//! FBI Wavelet Scalar Quantization (WSQ 3.1) decoder and encoder.
//!
//! WSQ is the compression that law-enforcement and civil ID systems use for
//! 500 ppi fingerprint images (ANSI/NIST-ITL records, FBI EBTS). A capture
//! station has to read WSQ submitted by others and write WSQ that any
//! certified decoder accepts, so this module follows the specification and
//! reproduces the NIST NBIS reference decoder arithmetic; on the published
//! test vectors the decoded pixels are identical to NBIS output.
//!
//! Both directions work on byte slices only; callers do the file I/O.

mod decode;
mod encode;
mod huffman;
mod tables;
mod transform;
mod tree;

pub(crate) use decode::probe;
pub use decode::{decode, WsqDecoded};
pub use encode::{encode, EncodeOptions, DEFAULT_BITRATE};

/// Smallest image side the WSQ transform supports. The five-level
/// decomposition needs every intermediate band to keep at least five samples
/// per line (the 9-tap filter starts four samples in), which holds for every
/// side of 65 pixels or more and fails at 64.
pub const MIN_SIDE: u32 = 65;

/// Everything that can go wrong while reading or writing WSQ data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WsqError {
    /// The data does not start with the WSQ start-of-image marker.
    #[error("not a WSQ file (no start-of-image marker)")]
    NotWsq,
    /// The data ended in the middle of a segment or block.
    #[error("WSQ data truncated near byte {offset}")]
    Truncated {
        /// Byte offset where more data was needed.
        offset: usize,
    },
    /// A byte that should start a marker does not.
    #[error("expected a WSQ marker at byte {offset}, found {found:#06x}")]
    ExpectedMarker {
        /// Byte offset of the bad marker.
        offset: usize,
        /// The 16 bits found there.
        found: u16,
    },
    /// A marker that is not allowed at this point of the stream.
    #[error("unexpected WSQ marker {marker:#06x} at byte {offset}")]
    UnexpectedMarker {
        /// The marker.
        marker: u16,
        /// Its byte offset.
        offset: usize,
    },
    /// A segment length field is smaller than the field itself.
    #[error("segment {marker:#06x} has an invalid length {length}")]
    BadSegmentLength {
        /// The segment's marker.
        marker: u16,
        /// The declared length.
        length: u16,
    },
    /// A table or header segment is too short for its content.
    #[error("malformed {0} segment")]
    BadSegment(&'static str),
    /// A required table or header is missing before the data that needs it.
    #[error("missing {0} before the image data")]
    Missing(&'static str),
    /// More than one frame header.
    #[error("more than one frame header")]
    DuplicateFrame,
    /// The transform table holds filters other than the standard 9/7 pair.
    #[error("unsupported wavelet filter lengths {low_pass}/{high_pass} (only 9/7 is supported)")]
    UnsupportedFilter {
        /// Length of the analysis low-pass filter.
        low_pass: usize,
        /// Length of the analysis high-pass filter.
        high_pass: usize,
    },
    /// The image is larger than [`crate::MAX_SIDE`] / [`crate::MAX_PIXELS`].
    #[error("image {width}x{height} exceeds the supported maximum")]
    TooLarge {
        /// Width in the header.
        width: u32,
        /// Height in the header.
        height: u32,
    },
    /// The image is too small for the five-level wavelet decomposition.
    #[error("image {width}x{height} is too small for WSQ (at least {min} pixels per side needed)", min = MIN_SIDE)]
    TooSmall {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// A Huffman table is malformed.
    #[error("invalid Huffman table: {0}")]
    BadHuffmanTable(&'static str),
    /// The entropy-coded data contains a bit pattern that is not a code.
    #[error("invalid Huffman code in block data near byte {offset}")]
    BadHuffmanCode {
        /// Offset inside the (unstuffed) block data.
        offset: usize,
    },
    /// A block's data ends inside the raw bits that follow an escape symbol.
    #[error("block data ends inside an escaped value near byte {offset}")]
    BlockEnded {
        /// Offset inside the (unstuffed) block data.
        offset: usize,
    },
    /// A decoded symbol has no meaning in WSQ.
    #[error("invalid WSQ symbol {0}")]
    BadSymbol(u8),
    /// The blocks hold a different number of coefficients than the header implies.
    #[error("blocks hold {found} coefficients, the frame needs {expected}")]
    CoefficientCount {
        /// Coefficients implied by the frame and quantisation table.
        expected: usize,
        /// Coefficients found (counting stops just past `expected`).
        found: usize,
    },
    /// Every pixel has the same value; WSQ cannot scale such an image.
    #[error("image is blank (all pixels equal); WSQ cannot encode it")]
    BlankImage,
    /// The requested bit rate is not a positive finite number.
    #[error("invalid bit rate {0}")]
    BadBitrate(f32),
    /// A comment does not fit into one WSQ segment.
    #[error("comment of {0} bytes does not fit into a WSQ segment")]
    CommentTooLong(usize),
    /// An internal consistency check failed (a bug, reported instead of a panic).
    #[error("internal WSQ error: {0}")]
    Internal(&'static str),
}

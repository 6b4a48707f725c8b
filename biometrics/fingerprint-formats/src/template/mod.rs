//! Minutiae templates: ISO/IEC 19794-2:2005, ISO/IEC 19794-2:2011 and
//! ANSI INCITS 378-2004 / 378-2009 (including Amendment 1), read and written
//! through one in-memory model.
//!
//! Matchers and other biometric systems exchange minutiae in these
//! interchange formats. They share the idea (finger views holding typed,
//! positioned, oriented minutiae plus optional extension blocks) but differ in
//! header layout, where image size and quality live, and angle units. The
//! [`Template`] model keeps the union of the fields so that a template read in
//! one format is written back byte for byte, and [`Template::convert_to`]
//! translates between formats.
//!
//! Parsing is defensive: every count and length is checked against the bytes
//! actually present, and errors are typed ([`TemplateError`]).

mod ansi378;
mod blocks;
mod iso2005;
mod iso2011;

use crate::cursor::Eof;

/// The template formats this module reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateFormat {
    /// ISO/IEC 19794-2:2005 finger minutiae record (version " 20").
    Iso19794_2_2005,
    /// ISO/IEC 19794-2:2011 finger minutiae record (version "030").
    Iso19794_2_2011,
    /// ANSI INCITS 378-2004 (version " 20", CBEFF product identifier in the header).
    Ansi378_2004,
    /// NIST libbiomeval's "ANSI 378-2007" (version "030"): 2009 finger views
    /// with the 2004 two-byte capture equipment field.
    Ansi378_2007,
    /// ANSI INCITS 378-2009 (version "030", per-view image size).
    Ansi378_2009,
    /// ANSI INCITS 378-2009 Amendment 1 (version "035"); same layout as 2009.
    Ansi378_2009Amd1,
}

impl TemplateFormat {
    /// Size of one raw angle unit in degrees: ISO formats split the circle
    /// into 256 steps, ANSI formats use 2-degree steps (0..=179).
    pub fn angle_unit_degrees(self) -> f64 {
        match self {
            Self::Iso19794_2_2005 | Self::Iso19794_2_2011 => 360.0 / 256.0,
            Self::Ansi378_2004
            | Self::Ansi378_2007
            | Self::Ansi378_2009
            | Self::Ansi378_2009Amd1 => 2.0,
        }
    }

    /// Whether image size and resolution are stored per finger view (true)
    /// or once in the record header (false).
    pub fn has_per_view_geometry(self) -> bool {
        matches!(
            self,
            Self::Iso19794_2_2011
                | Self::Ansi378_2007
                | Self::Ansi378_2009
                | Self::Ansi378_2009Amd1
        )
    }
}

/// Minutia type as coded in the two top bits of the x coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MinutiaKind {
    /// Code 0: neither a ridge ending nor a bifurcation (or not determined).
    Other,
    /// Code 1: ridge ending.
    Ending,
    /// Code 2: ridge bifurcation.
    Bifurcation,
}

impl MinutiaKind {
    fn code(self) -> u16 {
        match self {
            Self::Other => 0,
            Self::Ending => 1,
            Self::Bifurcation => 2,
        }
    }

    fn from_code(code: u16) -> Result<Self, TemplateError> {
        match code {
            0 => Ok(Self::Other),
            1 => Ok(Self::Ending),
            2 => Ok(Self::Bifurcation),
            c => Err(TemplateError::BadMinutiaType(c as u8)),
        }
    }
}

/// One minutia point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Minutia {
    /// Ending, bifurcation or other.
    pub kind: MinutiaKind,
    /// Column in pixels (14 bits).
    pub x: u16,
    /// Row in pixels (14 bits).
    pub y: u16,
    /// Direction in the format's raw units; see
    /// [`TemplateFormat::angle_unit_degrees`] and [`Minutia::angle_degrees`].
    pub angle: u8,
    /// Quality 0..=100 (0 = not reported in 2005/2004 formats; 254/255 are
    /// the 2011 "not reported"/"failed" values; 254 when a 2011 record has
    /// no minutia quality byte).
    pub quality: u8,
}

impl Minutia {
    /// Direction in degrees counter-clockwise from the x axis.
    pub fn angle_degrees(&self, format: TemplateFormat) -> f64 {
        f64::from(self.angle) * format.angle_unit_degrees()
    }
}

/// One ridge count between two minutiae (indices into the view's minutiae).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RidgeCountEdge {
    /// Index of the first minutia.
    pub from: u8,
    /// Index of the second minutia.
    pub to: u8,
    /// Number of ridges crossed between them.
    pub count: u8,
}

/// Ridge count extension block (type 0x0001).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RidgeCounts {
    /// Extraction method: 0 non-specific, 1 four-neighbour (quadrants),
    /// 2 eight-neighbour (octants).
    pub method: u8,
    /// The counted pairs.
    pub edges: Vec<RidgeCountEdge>,
    /// Bytes after the last whole triple (malformed but seen in published
    /// samples); normally empty.
    pub trailing: Vec<u8>,
}

/// Type code of the ridge count extension block.
pub const RIDGE_COUNT_EXTENSION: u16 = 0x0001;
/// Type code of the core and delta extension block (kept raw).
pub const CORE_DELTA_EXTENSION: u16 = 0x0002;

/// An extension block kept as raw bytes (core/delta, zonal quality, vendor data).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Extension {
    /// Block type code.
    pub type_code: u16,
    /// Block payload without its 4-byte header.
    pub data: Vec<u8>,
}

/// What the 16-bit length of an extension block counts.
///
/// ANSI 378 and ISO 19794-2:2011 count the 4-byte block header; ISO
/// 19794-2:2005 as implemented by fingerprintio counts only the data, while
/// other ISO 2005 writers count the header too. Readers detect which one a
/// view uses and writers reproduce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockLength {
    /// Length = payload bytes only.
    DataOnly,
    /// Length = payload bytes + 4 header bytes.
    IncludingHeader,
}

impl BlockLength {
    /// The convention a format uses by default.
    pub fn default_for(format: TemplateFormat) -> Self {
        if format == TemplateFormat::Iso19794_2_2005 {
            Self::DataOnly
        } else {
            Self::IncludingHeader
        }
    }

    fn other(self) -> Self {
        match self {
            Self::DataOnly => Self::IncludingHeader,
            Self::IncludingHeader => Self::DataOnly,
        }
    }
}

/// A quality score with the algorithm that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QualityRecord {
    /// Score 0..=100 (255 = failed, 254 = not reported in 2011 records).
    pub quality: u8,
    /// Registered (IBIA) vendor of the quality algorithm.
    pub vendor_id: u16,
    /// Vendor's algorithm identifier.
    pub algorithm_id: u16,
}

/// Capture time of an ISO 2011 finger view; all-ones fields mean "absent".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaptureDateTime {
    /// Year (0xFFFF = absent).
    pub year: u16,
    /// Month 1..=12 (0xFF = absent).
    pub month: u8,
    /// Day 1..=31 (0xFF = absent).
    pub day: u8,
    /// Hour 0..=23 (0xFF = absent).
    pub hour: u8,
    /// Minute (0xFF = absent).
    pub minute: u8,
    /// Second (0xFF = absent).
    pub second: u8,
    /// Millisecond (0xFFFF = absent).
    pub millisecond: u16,
}

impl CaptureDateTime {
    /// The "no date recorded" value.
    pub const ABSENT: Self = Self {
        year: 0xFFFF,
        month: 0xFF,
        day: 0xFF,
        hour: 0xFF,
        minute: 0xFF,
        second: 0xFF,
        millisecond: 0xFFFF,
    };
}

/// Capture device information of an ISO 2011 finger view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaptureInfo {
    /// When the finger was captured.
    pub datetime: CaptureDateTime,
    /// Capture device technology code (0 = unknown, 14 = capacitive, ...).
    pub technology: u8,
    /// Capture device vendor (IBIA id).
    pub vendor_id: u16,
    /// Vendor's device type.
    pub device_type: u16,
}

/// A certification block of an ISO 2011 finger view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Certificate {
    /// Certification authority.
    pub authority_id: u16,
    /// Certification scheme.
    pub scheme_id: u8,
}

/// One finger view (one impression of one finger) with its minutiae.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FingerView {
    /// Finger position code (0 unknown, 1..=5 right thumb..little, 6..=10 left).
    pub position: u8,
    /// View number, distinguishing several impressions of one finger.
    pub view: u8,
    /// Impression type (0 live plain, 1 live rolled, 8 swipe, ...).
    pub impression_type: u8,
    /// Overall finger quality 0..=100. ISO 2011 records store qualities only
    /// in [`FingerView::quality_records`]; when reading one, this is the first
    /// record's score (254 if none).
    pub quality: u8,
    /// Image width; a copy of the record header value in 2005/2004 formats.
    pub width: u16,
    /// Image height; a copy of the record header value in 2005/2004 formats.
    pub height: u16,
    /// Horizontal resolution in pixels per centimetre (197 ≈ 500 dpi).
    pub resolution_x: u16,
    /// Vertical resolution in pixels per centimetre.
    pub resolution_y: u16,
    /// Minutiae in file order.
    pub minutiae: Vec<Minutia>,
    /// Decoded ridge count extension, if present and well formed.
    pub ridge_counts: Option<RidgeCounts>,
    /// All other extension blocks, raw, in file order.
    pub extensions: Vec<Extension>,
    /// Quality records (ANSI 2009: exactly one; ISO 2011: any number).
    pub quality_records: Vec<QualityRecord>,
    /// Capture information (ISO 2011 only).
    pub capture: Option<CaptureInfo>,
    /// Certification blocks (ISO 2011 only).
    pub certificates: Vec<Certificate>,
    /// ISO 2011 ridge ending type: 0 valley skeleton bifurcation point,
    /// 1 ridge skeleton end point.
    pub ending_type: u8,
    /// Length convention of this view's extension blocks: `None` for the
    /// format's standard one ([`BlockLength::default_for`]), `Some` when a
    /// file used the other convention, so that it is written back unchanged.
    pub block_length: Option<BlockLength>,
}

impl FingerView {
    /// An empty view with the given geometry, for building templates.
    pub fn new(position: u8, width: u16, height: u16, resolution: u16) -> Self {
        Self {
            position,
            view: 0,
            impression_type: 0,
            quality: 0,
            width,
            height,
            resolution_x: resolution,
            resolution_y: resolution,
            minutiae: Vec::new(),
            ridge_counts: None,
            extensions: Vec::new(),
            quality_records: Vec::new(),
            capture: None,
            certificates: Vec::new(),
            ending_type: 0,
            block_length: None,
        }
    }
}

/// A finger minutiae record in any supported format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Template {
    /// Format the record was read from / will be written in.
    pub format: TemplateFormat,
    /// ANSI CBEFF product owner (0 for ISO records).
    pub vendor_id: u16,
    /// ANSI CBEFF product type (0 for ISO records).
    pub subformat: u16,
    /// Capture equipment certified (ISO 2005, ANSI). For ISO 2011 records this
    /// mirrors the header's certification flag.
    pub sensor_certified: bool,
    /// Capture equipment id (12 bits in ISO 2005 / ANSI 2004, 16 in ANSI
    /// 2009). ISO 2011 stores device ids per view ([`FingerView::capture`]);
    /// there this is the first view's device type, used as the default when
    /// a view has no capture information.
    pub sensor_id: u16,
    /// Image width in pixels (record header; first view for per-view formats).
    pub width: u16,
    /// Image height in pixels.
    pub height: u16,
    /// Horizontal resolution in pixels per centimetre.
    pub resolution_x: u16,
    /// Vertical resolution in pixels per centimetre.
    pub resolution_y: u16,
    /// Finger views in file order.
    pub fingers: Vec<FingerView>,
}

impl Template {
    /// Rewrites the template for another format: angles are converted between
    /// unit systems, "quality not reported" markers are translated, record-level
    /// and per-view geometry are synchronised, and fields the target cannot
    /// hold get neutral values.
    pub fn convert_to(&self, target: TemplateFormat) -> Template {
        let mut t = self.clone();
        let (from_unit, to_unit) = (
            self.format.angle_unit_degrees(),
            target.angle_unit_degrees(),
        );
        let turn = (360.0 / to_unit).round() as u32;
        // "Quality not reported" is 0 in the 2004/2005/2009 editions and 254
        // in ISO 2011; other values mean the same everywhere.
        let to_2011 = target == TemplateFormat::Iso19794_2_2011;
        let from_2011 = self.format == TemplateFormat::Iso19794_2_2011;
        let map_quality = |q: u8| match (from_2011, to_2011) {
            (false, true) if q == 0 => 254,
            (true, false) if q > 100 => 0,
            _ => q,
        };
        for v in &mut t.fingers {
            for m in &mut v.minutiae {
                let units = (f64::from(m.angle) * from_unit / to_unit).round() as u32 % turn;
                m.angle = units as u8;
                m.quality = map_quality(m.quality);
            }
            if !target.has_per_view_geometry() {
                v.width = self.width;
                v.height = self.height;
                v.resolution_x = self.resolution_x;
                v.resolution_y = self.resolution_y;
            }
            if target != self.format {
                v.block_length = None;
            }
            if v.quality_records.is_empty() && target != self.format {
                v.quality_records.push(QualityRecord {
                    quality: v.quality,
                    vendor_id: 0,
                    algorithm_id: 0,
                });
            }
        }
        if let Some(first) = t
            .fingers
            .first()
            .filter(|_| self.format.has_per_view_geometry())
        {
            t.width = first.width;
            t.height = first.height;
            t.resolution_x = first.resolution_x;
            t.resolution_y = first.resolution_y;
        }
        t.format = target;
        t
    }
}

/// Errors from reading or writing templates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The data does not start with "FMR\0".
    #[error("not a finger minutiae record (missing FMR signature)")]
    NotFmr,
    /// A version string this module does not know.
    #[error("unsupported record version {0:?}")]
    UnsupportedVersion([u8; 4]),
    /// The record ended before a field could be read.
    #[error("record truncated: {needed} bytes needed at offset {offset}")]
    Truncated {
        /// Offset of the field.
        offset: usize,
        /// Bytes the field needed.
        needed: usize,
    },
    /// The declared record length is below the fixed header size.
    #[error("declared record length {declared} is below the minimum {minimum}")]
    DeclaredLengthTooSmall {
        /// Declared length.
        declared: u64,
        /// Smallest valid record.
        minimum: u64,
    },
    /// The declared record length exceeds the bytes supplied (truncated file).
    #[error("declared record length {declared} exceeds the {available} bytes supplied")]
    DeclaredLengthExceedsData {
        /// Declared length.
        declared: u64,
        /// Bytes available.
        available: usize,
    },
    /// Strict reading only: the record content does not end where the
    /// declared length says.
    #[error("record content ends at byte {parsed}, declared length is {declared}")]
    LengthMismatch {
        /// Declared length.
        declared: u64,
        /// Where parsing ended.
        parsed: usize,
    },
    /// An ISO 2011 finger representation's length disagrees with its content.
    #[error("finger representation {index} declares {declared} bytes but holds {parsed}")]
    RepresentationLength {
        /// Zero-based representation index.
        index: usize,
        /// Declared length.
        declared: u64,
        /// Parsed length.
        parsed: u64,
    },
    /// An extension block header is inconsistent.
    #[error("bad extension block at offset {offset}: {reason}")]
    BadExtension {
        /// Offset of the block.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// Minutia type code 3 (reserved).
    #[error("reserved minutia type code {0}")]
    BadMinutiaType(u8),
    /// ISO 2011 minutia record size other than 5 or 6 bytes.
    #[error("minutia record size {0} is neither 5 nor 6")]
    BadMinutiaSize(u8),
    /// A value does not fit its field when writing.
    #[error("{field} = {value} does not fit (maximum {max})")]
    FieldTooLarge {
        /// Field name.
        field: &'static str,
        /// Offending value.
        value: u64,
        /// Largest allowed value.
        max: u64,
    },
}

impl From<Eof> for TemplateError {
    fn from(e: Eof) -> Self {
        Self::Truncated {
            offset: e.offset,
            needed: e.needed,
        }
    }
}

/// How strictly the declared record length is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LengthCheck {
    /// Accept records whose content runs past the declared length as long as
    /// the bytes are present (some published samples are off by one), and
    /// ignore bytes after the content (zero padding is common).
    #[default]
    Lenient,
    /// Require the content to end exactly at the declared length.
    Strict,
}

/// Recognises the format from the header without parsing the content.
///
/// A version "030" record that is not ISO 2011 is reported as ANSI 2009;
/// only a full parse ([`read_template`]) can tell the 2007 variant apart.
pub fn detect_format(data: &[u8]) -> Result<TemplateFormat, TemplateError> {
    if data.len() < 4 || &data[..4] != b"FMR\0" {
        return Err(TemplateError::NotFmr);
    }
    let version: [u8; 4] = data
        .get(4..8)
        .ok_or(TemplateError::Truncated {
            offset: 4,
            needed: 4,
        })?
        .try_into()
        .unwrap_or([0; 4]);
    match &version {
        // " 20" is the standard spelling; "020" occurs in published samples.
        b" 20\0" | b"020\0" => {
            let be16 = |at: usize| {
                data.get(at..at + 2)
                    .map(|s| u16::from_be_bytes([s[0], s[1]]))
            };
            let first = be16(8).ok_or(TemplateError::Truncated {
                offset: 8,
                needed: 2,
            })?;
            // ANSI 2004 uses a 2-byte length (≥ 26) or 0 followed by 4 bytes;
            // ISO 2005 always uses 4 bytes, whose high half is small.
            if first >= 26 {
                Ok(TemplateFormat::Ansi378_2004)
            } else if first > 0 {
                Ok(TemplateFormat::Iso19794_2_2005)
            } else {
                let second = be16(10).ok_or(TemplateError::Truncated {
                    offset: 10,
                    needed: 2,
                })?;
                Ok(if second >= 24 {
                    TemplateFormat::Iso19794_2_2005
                } else {
                    TemplateFormat::Ansi378_2004
                })
            }
        }
        b"030\0" => Ok(if iso2011::looks_like_iso2011(data) {
            TemplateFormat::Iso19794_2_2011
        } else {
            TemplateFormat::Ansi378_2009
        }),
        b"035\0" => Ok(TemplateFormat::Ansi378_2009Amd1),
        _ => Err(TemplateError::UnsupportedVersion(version)),
    }
}

/// Reads a template of any supported format, tolerating the declared-length
/// quirks described in [`LengthCheck::Lenient`].
pub fn read_template(data: &[u8]) -> Result<Template, TemplateError> {
    read_template_with(data, LengthCheck::Lenient)
}

/// Reads a template with an explicit length policy.
pub fn read_template_with(data: &[u8], check: LengthCheck) -> Result<Template, TemplateError> {
    let format = detect_format(data)?;
    let (template, declared, parsed) = match format {
        TemplateFormat::Iso19794_2_2005 => iso2005::read(data)?,
        TemplateFormat::Iso19794_2_2011 => iso2011::read(data)?,
        TemplateFormat::Ansi378_2004 => ansi378::read_2004(data)?,
        TemplateFormat::Ansi378_2009 | TemplateFormat::Ansi378_2009Amd1 => {
            ansi378::read_2009(data, format)?
        }
        TemplateFormat::Ansi378_2007 => ansi378::read_2009(data, TemplateFormat::Ansi378_2009)?,
    };
    if check == LengthCheck::Strict && declared != parsed as u64 {
        return Err(TemplateError::LengthMismatch { declared, parsed });
    }
    Ok(template)
}

/// Serialises a template in `template.format`.
pub fn write_template(template: &Template) -> Result<Vec<u8>, TemplateError> {
    match template.format {
        TemplateFormat::Iso19794_2_2005 => iso2005::write(template),
        TemplateFormat::Iso19794_2_2011 => iso2011::write(template),
        TemplateFormat::Ansi378_2004 => ansi378::write_2004(template),
        TemplateFormat::Ansi378_2007
        | TemplateFormat::Ansi378_2009
        | TemplateFormat::Ansi378_2009Amd1 => ansi378::write_2009(template),
    }
}

/// Checks that `value` fits into a field of maximum `max`.
pub(crate) fn fits(field: &'static str, value: usize, max: u64) -> Result<(), TemplateError> {
    if value as u64 > max {
        return Err(TemplateError::FieldTooLarge {
            field,
            value: value as u64,
            max,
        });
    }
    Ok(())
}

/// Checks the declared total length against the minimum and the buffer.
pub(crate) fn check_declared(
    declared: u64,
    minimum: u64,
    available: usize,
) -> Result<(), TemplateError> {
    if declared < minimum {
        return Err(TemplateError::DeclaredLengthTooSmall { declared, minimum });
    }
    if declared > available as u64 {
        return Err(TemplateError::DeclaredLengthExceedsData {
            declared,
            available,
        });
    }
    Ok(())
}

//! The ISO records that `bioValue` carries: ISO/IEC 19794-4:2011 finger image records (WSQ
//! compressed) and ISO/IEC 19794-5:2011 face image records (JPEG). Binary, big-endian, one
//! representation per record, as MOSIP expects one record per `bioSubType`.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Why a record could not be written or read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IsoError {
    #[error("image cannot be encoded: {0}")]
    Encode(String),
    #[error("record is truncated or malformed: {0}")]
    Malformed(&'static str),
    #[error("image too large for an ISO record ({0} bytes)")]
    TooLarge(usize),
}

/// Compression code of ISO/IEC 19794-4 for WSQ.
pub const COMPRESSION_WSQ: u8 = 2;
/// Image data type of ISO/IEC 19794-5 for JPEG.
pub const FACE_DATA_JPEG: u8 = 0;
/// Capture device technology "optical" (ISO/IEC 19794-4 table), what our scanners are.
const TECHNOLOGY_UNKNOWN: u8 = 0;
/// Quality algorithm vendor/id: 0 = not registered with IBIA (our own NFIQ 2-like score).
const QUALITY_VENDOR: u16 = 0;
const QUALITY_ALGORITHM: u16 = 0;

/// A finger image as stored in a 19794-4 record.
#[derive(Debug, Clone, PartialEq)]
pub struct FingerRecord {
    /// ISO finger position (0 unknown, 1 right thumb … 10 left little).
    pub position: u8,
    /// Quality 0–100 of the first quality block.
    pub quality: u8,
    pub width: u16,
    pub height: u16,
    /// Pixels per inch.
    pub ppi: u16,
    /// Compression code (2 = WSQ).
    pub compression: u8,
    /// The compressed image.
    pub image: Vec<u8>,
}

/// A face image as stored in a 19794-5 record.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceRecord {
    pub quality: u8,
    pub width: u16,
    pub height: u16,
    /// 0 = JPEG.
    pub data_type: u8,
    pub image: Vec<u8>,
}

/// Encodes an 8-bit grey finger image (resampled to 500 ppi when needed) as a WSQ-compressed
/// ISO/IEC 19794-4:2011 record.
pub fn finger_record(
    pixels: &[u8],
    width: u32,
    height: u32,
    ppi: u32,
    position: u8,
    quality: u8,
    captured: DateTime<Utc>,
) -> Result<Vec<u8>, IsoError> {
    let enc = |e: &dyn std::fmt::Display| IsoError::Encode(e.to_string());
    let mut img = fingerprint_formats::GrayImage::new(width, height, ppi, pixels.to_vec())
        .map_err(|e| enc(&e))?;
    if ppi != 500 {
        img = img.resample_to_dpi(500).map_err(|e| enc(&e))?;
    }
    let wsq =
        fingerprint_formats::wsq::encode(&img, &fingerprint_formats::wsq::EncodeOptions::default())
            .map_err(|e| enc(&e))?;
    let (w, h) = (dim(img.width())?, dim(img.height())?);

    // Representation header (41 bytes + one 5-byte quality block) then the image.
    let mut rep = Vec::with_capacity(46 + wsq.len());
    let rep_len = u32::try_from(46 + wsq.len()).map_err(|_| IsoError::TooLarge(wsq.len()))?;
    rep.extend_from_slice(&rep_len.to_be_bytes());
    rep.extend_from_slice(&datetime(captured));
    rep.push(TECHNOLOGY_UNKNOWN);
    rep.extend_from_slice(&0u16.to_be_bytes()); // device vendor
    rep.extend_from_slice(&0u16.to_be_bytes()); // device type
    rep.push(1); // quality blocks
    rep.push(quality.min(100));
    rep.extend_from_slice(&QUALITY_VENDOR.to_be_bytes());
    rep.extend_from_slice(&QUALITY_ALGORITHM.to_be_bytes());
    rep.push(position);
    rep.push(0); // representation number
    rep.push(1); // scale units: pixels per inch
    for _ in 0..4 {
        rep.extend_from_slice(&500u16.to_be_bytes()); // scan and image sampling rates, h and v
    }
    rep.push(8); // bit depth
    rep.push(COMPRESSION_WSQ);
    rep.push(0); // impression: live-scan plain
    rep.extend_from_slice(&w.to_be_bytes());
    rep.extend_from_slice(&h.to_be_bytes());
    rep.extend_from_slice(&(wsq.len() as u32).to_be_bytes());
    rep.extend_from_slice(&wsq);

    let mut out = Vec::with_capacity(16 + rep.len());
    out.extend_from_slice(b"FIR\x00020\x00");
    out.extend_from_slice(&((16 + rep.len()) as u32).to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // representations
    out.push(0); // certification flag
    out.push(1); // distinct finger positions
    out.extend_from_slice(&rep);
    Ok(out)
}

/// Wraps a JPEG face image in an ISO/IEC 19794-5:2011 record (basic face image, no landmarks).
pub fn face_record(
    jpeg: &[u8],
    width: u32,
    height: u32,
    quality: u8,
    captured: DateTime<Utc>,
) -> Result<Vec<u8>, IsoError> {
    let (w, h) = (dim(width)?, dim(height)?);
    // Representation: length 4, date 9, technology 1, vendor 2, type 2, quality count 1 + 5,
    // facial information 17, image information 11, then the image.
    let header_len = 4 + 9 + 1 + 2 + 2 + 1 + 5 + 17 + 11;
    let rep_len =
        u32::try_from(header_len + jpeg.len()).map_err(|_| IsoError::TooLarge(jpeg.len()))?;
    let mut rep = Vec::with_capacity(rep_len as usize);
    rep.extend_from_slice(&rep_len.to_be_bytes());
    rep.extend_from_slice(&datetime(captured));
    rep.push(1); // capture device technology: 2D camera
    rep.extend_from_slice(&0u16.to_be_bytes());
    rep.extend_from_slice(&0u16.to_be_bytes());
    rep.push(1);
    rep.push(quality.min(100));
    rep.extend_from_slice(&QUALITY_VENDOR.to_be_bytes());
    rep.extend_from_slice(&QUALITY_ALGORITHM.to_be_bytes());
    // Facial information: no landmarks, gender/eye/hair unspecified, height unknown, property
    // mask and expression unspecified, pose angles unspecified.
    rep.extend_from_slice(&0u16.to_be_bytes());
    rep.extend_from_slice(&[0, 0, 0, 0]);
    rep.extend_from_slice(&[0, 0, 0]);
    rep.extend_from_slice(&[0, 0]);
    rep.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    // Image information: basic face image type, JPEG, size, sampling level unspecified, no
    // post-processing, no cross reference, colour space sRGB.
    rep.push(0);
    rep.push(FACE_DATA_JPEG);
    rep.extend_from_slice(&w.to_be_bytes());
    rep.extend_from_slice(&h.to_be_bytes());
    rep.push(0);
    rep.extend_from_slice(&0u16.to_be_bytes());
    rep.push(0);
    rep.push(1);
    rep.extend_from_slice(jpeg);

    let mut out = Vec::with_capacity(17 + rep.len());
    out.extend_from_slice(b"FAC\x00030\x00");
    out.extend_from_slice(&((17 + rep.len()) as u32).to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // representations
    out.push(0); // certification flag
    out.extend_from_slice(&0u16.to_be_bytes()); // temporal semantics: one still image
    out.extend_from_slice(&rep);
    Ok(out)
}

/// Reads back a record written by [`finger_record`] (single representation, ISO 19794-4:2011).
pub fn parse_finger_record(bytes: &[u8]) -> Result<FingerRecord, IsoError> {
    let mut r = Reader(bytes);
    if r.take(8)? != b"FIR\x00020\x00" {
        return Err(IsoError::Malformed("not an ISO/IEC 19794-4:2011 record"));
    }
    let total = r.u32()? as usize;
    if total != bytes.len() {
        return Err(IsoError::Malformed("record length does not match"));
    }
    r.take(4)?; // representations, certification, positions
    r.u32()?;
    r.take(9 + 1 + 2 + 2)?;
    let quality = first_quality(&mut r)?;
    let position = r.u8()?;
    r.take(2)?;
    let ppi = {
        r.take(4)?;
        let h = r.u16()?;
        r.take(2)?;
        h
    };
    r.u8()?; // bit depth
    let compression = r.u8()?;
    r.u8()?;
    let width = r.u16()?;
    let height = r.u16()?;
    let len = r.u32()? as usize;
    let image = r.take(len)?.to_vec();
    Ok(FingerRecord {
        position,
        quality,
        width,
        height,
        ppi,
        compression,
        image,
    })
}

/// Reads a representation's quality blocks (count, then 5 bytes each: score, vendor, algorithm)
/// and returns the first block's score, 255 ("not computed") when there is none.
fn first_quality(r: &mut Reader) -> Result<u8, IsoError> {
    let blocks = r.u8()?;
    let mut quality = 255;
    for i in 0..blocks {
        let block = r.take(5)?;
        if i == 0 {
            quality = block[0];
        }
    }
    Ok(quality)
}

/// Reads back a record written by [`face_record`].
pub fn parse_face_record(bytes: &[u8]) -> Result<FaceRecord, IsoError> {
    let mut r = Reader(bytes);
    if r.take(8)? != b"FAC\x00030\x00" {
        return Err(IsoError::Malformed("not an ISO/IEC 19794-5:2011 record"));
    }
    if r.u32()? as usize != bytes.len() {
        return Err(IsoError::Malformed("record length does not match"));
    }
    r.take(5)?;
    let rep_len = r.u32()? as usize;
    r.take(9 + 1 + 2 + 2)?;
    let quality = first_quality(&mut r)?;
    let landmarks = r.u16()? as usize;
    r.take(15)?;
    r.take(landmarks * 8)?;
    r.u8()?;
    let data_type = r.u8()?;
    let width = r.u16()?;
    let height = r.u16()?;
    r.take(5)?;
    let consumed = bytes.len() - r.0.len() - 17;
    let image_len = rep_len
        .checked_sub(consumed)
        .ok_or(IsoError::Malformed("representation length too small"))?;
    let image = r.take(image_len)?.to_vec();
    Ok(FaceRecord {
        quality,
        width,
        height,
        data_type,
        image,
    })
}

fn dim(v: u32) -> Result<u16, IsoError> {
    u16::try_from(v).map_err(|_| IsoError::Encode(format!("dimension {v} exceeds 65535")))
}

/// ISO capture date and time: year(2) month day hour minute second millisecond(2), UTC.
fn datetime(t: DateTime<Utc>) -> [u8; 9] {
    let y = (t.year().clamp(0, 65535) as u16).to_be_bytes();
    let ms = ((t.nanosecond() / 1_000_000).min(999) as u16).to_be_bytes();
    [
        y[0],
        y[1],
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second().min(59) as u8,
        ms[0],
        ms[1],
    ]
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], IsoError> {
        if self.0.len() < n {
            return Err(IsoError::Malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, IsoError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, IsoError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, IsoError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ridges(w: u32, h: u32) -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                (128.0 + 100.0 * ((x * 0.7 + y * 0.3) * 0.6).sin()) as u8
            })
            .collect()
    }

    #[test]
    fn finger_record_round_trips_and_the_wsq_decodes() {
        let rec = finger_record(&ridges(256, 300), 256, 300, 500, 7, 83, Utc::now()).unwrap();
        let parsed = parse_finger_record(&rec).unwrap();
        assert_eq!(
            (parsed.position, parsed.quality, parsed.width, parsed.height),
            (7, 83, 256, 300)
        );
        assert_eq!((parsed.ppi, parsed.compression), (500, COMPRESSION_WSQ));
        let decoded = fingerprint_formats::wsq::decode(&parsed.image).unwrap();
        assert_eq!((decoded.image.width(), decoded.image.height()), (256, 300));
    }

    #[test]
    fn face_record_round_trips() {
        let jpeg = b"\xFF\xD8 not really a jpeg \xFF\xD9";
        let rec = face_record(jpeg, 640, 480, 77, Utc::now()).unwrap();
        let parsed = parse_face_record(&rec).unwrap();
        assert_eq!(
            parsed,
            FaceRecord {
                quality: 77,
                width: 640,
                height: 480,
                data_type: 0,
                image: jpeg.to_vec()
            }
        );
    }

    #[test]
    fn truncated_records_are_errors() {
        let rec = finger_record(&ridges(256, 300), 256, 300, 500, 1, 50, Utc::now()).unwrap();
        for cut in [0, 7, 20, rec.len() - 1] {
            assert!(parse_finger_record(&rec[..cut]).is_err());
        }
        assert!(parse_face_record(b"FAC\x00030\x00").is_err());
    }
}

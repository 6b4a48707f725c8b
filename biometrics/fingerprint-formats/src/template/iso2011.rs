//! ISO/IEC 19794-2:2011 finger minutiae record.
//!
//! Built on the ISO 19794-1:2011 container: a 15-byte general header
//! (signature, version "030", record length, representation count,
//! certification flag) followed by length-prefixed finger representations,
//! each with capture date/time, device ids, quality and certification blocks,
//! then the minutiae. Minutiae are 5 or 6 bytes (with or without quality).

use super::blocks;
use super::{
    check_declared, fits, BlockLength, CaptureDateTime, CaptureInfo, Certificate, FingerView,
    QualityRecord, Template, TemplateError, TemplateFormat,
};
use crate::cursor::Cursor;

/// Size of the general header.
const HEADER: u64 = 15;
/// Smallest possible finger representation.
const MIN_REPRESENTATION: u32 = 34;

/// Distinguishes an ISO 2011 record from an ANSI 378-2009 one (both carry
/// version "030"): the ISO representation lengths must add up exactly to the
/// record length.
pub(super) fn looks_like_iso2011(data: &[u8]) -> bool {
    let mut c = Cursor::new(data);
    let mut walk = || -> Option<bool> {
        c.skip(8).ok()?;
        let total = u64::from(c.u32().ok()?);
        let count = c.u16().ok()?;
        c.skip(1).ok()?;
        let mut sum = 0u64;
        for _ in 0..count {
            let len = c.u32().ok()?;
            if len < MIN_REPRESENTATION {
                return Some(false);
            }
            sum += u64::from(len);
            c.skip(len as usize - 4).ok()?;
        }
        Some(total == HEADER + sum)
    };
    walk().unwrap_or(false)
}

fn read_representation(
    c: &mut Cursor<'_>,
    with_certificates: bool,
    index: usize,
) -> Result<FingerView, TemplateError> {
    let start = c.position();
    let declared = c.u32()?;
    let datetime = CaptureDateTime {
        year: c.u16()?,
        month: c.u8()?,
        day: c.u8()?,
        hour: c.u8()?,
        minute: c.u8()?,
        second: c.u8()?,
        millisecond: c.u16()?,
    };
    let capture = CaptureInfo {
        datetime,
        technology: c.u8()?,
        vendor_id: c.u16()?,
        device_type: c.u16()?,
    };
    let qcount = c.u8()?;
    let mut quality_records = Vec::with_capacity(usize::from(qcount));
    for _ in 0..qcount {
        quality_records.push(QualityRecord {
            quality: c.u8()?,
            vendor_id: c.u16()?,
            algorithm_id: c.u16()?,
        });
    }
    let mut certificates = Vec::new();
    if with_certificates {
        let n = c.u8()?;
        for _ in 0..n {
            certificates.push(Certificate {
                authority_id: c.u16()?,
                scheme_id: c.u8()?,
            });
        }
    }
    let position = c.u8()?;
    let view = c.u8()?;
    let resolution_x = c.u16()?;
    let resolution_y = c.u16()?;
    let impression_type = c.u8()?;
    let width = c.u16()?;
    let height = c.u16()?;
    let flags = c.u8()?;
    let size = flags >> 4;
    if size != 5 && size != 6 {
        return Err(TemplateError::BadMinutiaSize(size));
    }
    let count = c.u8()?;
    let mut minutiae = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        minutiae.push(blocks::read_minutia(c, size == 6)?);
    }
    let ext = blocks::read_extensions(c, BlockLength::IncludingHeader)?;
    let parsed = (c.position() - start) as u64;
    if parsed != u64::from(declared) {
        return Err(TemplateError::RepresentationLength {
            index,
            declared: u64::from(declared),
            parsed,
        });
    }
    let mut v = FingerView::new(position, width, height, resolution_x);
    v.resolution_y = resolution_y;
    v.view = view;
    v.impression_type = impression_type;
    v.quality = quality_records.first().map_or(254, |q| q.quality);
    v.quality_records = quality_records;
    v.capture = Some(capture);
    v.certificates = certificates;
    v.ending_type = flags & 0x0F;
    v.minutiae = minutiae;
    ext.apply_to(&mut v);
    Ok(v)
}

/// Parses a record; returns it with its declared and parsed lengths.
pub(super) fn read(data: &[u8]) -> Result<(Template, u64, usize), TemplateError> {
    let mut c = Cursor::new(data);
    c.skip(8)?;
    let declared = u64::from(c.u32()?);
    check_declared(declared, HEADER, data.len())?;
    let count = c.u16()?;
    let with_certificates = c.u8()? != 0;
    // Each representation takes at least 34 bytes, so `count` cannot make
    // this allocation larger than the input justifies.
    let mut fingers =
        Vec::with_capacity(usize::from(count).min(data.len() / MIN_REPRESENTATION as usize));
    for i in 0..usize::from(count) {
        fingers.push(read_representation(&mut c, with_certificates, i)?);
    }
    let first = fingers.first();
    let t = Template {
        format: TemplateFormat::Iso19794_2_2011,
        vendor_id: 0,
        subformat: 0,
        sensor_certified: with_certificates,
        sensor_id: first.and_then(|v| v.capture).map_or(0, |ci| ci.device_type),
        width: first.map_or(0, |v| v.width),
        height: first.map_or(0, |v| v.height),
        resolution_x: first.map_or(0, |v| v.resolution_x),
        resolution_y: first.map_or(0, |v| v.resolution_y),
        fingers,
    };
    Ok((t, declared, c.position()))
}

/// Serialises a record. Minutia quality bytes are written only when some
/// minutia has a reported quality (not 254), as the 2011 edition allows.
pub(super) fn write(t: &Template) -> Result<Vec<u8>, TemplateError> {
    fits("finger representation count", t.fingers.len(), 0xFFFF)?;
    let with_certificates =
        t.sensor_certified || t.fingers.iter().any(|v| !v.certificates.is_empty());
    let mut body = Vec::new();
    for v in &t.fingers {
        fits("quality record count", v.quality_records.len(), 255)?;
        fits("certificate count", v.certificates.len(), 255)?;
        fits("minutia count", v.minutiae.len(), 255)?;
        fits("ending type", usize::from(v.ending_type), 15)?;
        let mut r = Vec::new();
        let ci = v.capture.unwrap_or(CaptureInfo {
            datetime: CaptureDateTime::ABSENT,
            technology: 0,
            vendor_id: 0,
            device_type: t.sensor_id,
        });
        let d = ci.datetime;
        r.extend_from_slice(&d.year.to_be_bytes());
        r.extend_from_slice(&[d.month, d.day, d.hour, d.minute, d.second]);
        r.extend_from_slice(&d.millisecond.to_be_bytes());
        r.push(ci.technology);
        r.extend_from_slice(&ci.vendor_id.to_be_bytes());
        r.extend_from_slice(&ci.device_type.to_be_bytes());
        r.push(v.quality_records.len() as u8);
        for q in &v.quality_records {
            r.push(q.quality);
            r.extend_from_slice(&q.vendor_id.to_be_bytes());
            r.extend_from_slice(&q.algorithm_id.to_be_bytes());
        }
        if with_certificates {
            r.push(v.certificates.len() as u8);
            for cert in &v.certificates {
                r.extend_from_slice(&cert.authority_id.to_be_bytes());
                r.push(cert.scheme_id);
            }
        }
        r.extend_from_slice(&[v.position, v.view]);
        r.extend_from_slice(&v.resolution_x.to_be_bytes());
        r.extend_from_slice(&v.resolution_y.to_be_bytes());
        r.push(v.impression_type);
        r.extend_from_slice(&v.width.to_be_bytes());
        r.extend_from_slice(&v.height.to_be_bytes());
        let with_quality = v.minutiae.iter().any(|m| m.quality != 254);
        r.push((if with_quality { 6 } else { 5 }) << 4 | v.ending_type);
        r.push(v.minutiae.len() as u8);
        for m in &v.minutiae {
            blocks::write_minutia(&mut r, m, with_quality)?;
        }
        blocks::write_extensions(&mut r, v, BlockLength::IncludingHeader)?;
        let len = r.len() + 4;
        fits("representation length", len, u64::from(u32::MAX))?;
        body.extend_from_slice(&(len as u32).to_be_bytes());
        body.extend_from_slice(&r);
    }
    let total = HEADER as usize + body.len();
    fits("record length", total, u64::from(u32::MAX))?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"FMR\x00030\x00");
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(t.fingers.len() as u16).to_be_bytes());
    out.push(u8::from(with_certificates));
    out.extend_from_slice(&body);
    Ok(out)
}

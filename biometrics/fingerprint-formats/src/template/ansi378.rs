//! ANSI INCITS 378-2004 and 378-2009 (with Amendment 1) finger minutiae records.
//!
//! 2004 differs from ISO 2005 only in the header: a 2-byte record length
//! (or 0 followed by 4 bytes for records above 64 KiB) and a CBEFF product
//! identifier. 2009 moves image size, resolution and a quality record into
//! each finger view and widens the capture device id to 16 bits. NIST
//! libbiomeval also writes an intermediate "030" layout ("378-2007") with the
//! 2009 views but the 2004 two-byte equipment field; it is read and written
//! as [`TemplateFormat::Ansi378_2007`].

use super::blocks::{self, Geometry};
use super::{
    check_declared, fits, BlockLength, FingerView, QualityRecord, Template, TemplateError,
    TemplateFormat,
};
use crate::cursor::Cursor;

/// Fixed header size of a 2004 record with the short length field.
const HEADER_2004: u64 = 26;
/// Fixed header size of a 2009 record.
const HEADER_2009: u64 = 21;
/// Fixed header size of the libbiomeval "2007" variant (2-byte equipment field).
const HEADER_2007: u64 = 20;

/// Parses a 2004 record; returns it with its declared and parsed lengths.
pub(super) fn read_2004(data: &[u8]) -> Result<(Template, u64, usize), TemplateError> {
    let mut c = Cursor::new(data);
    c.skip(8)?;
    let short = c.u16()?;
    let declared = if short == 0 {
        u64::from(c.u32()?)
    } else {
        u64::from(short)
    };
    check_declared(declared, HEADER_2004, data.len())?;
    let vendor_id = c.u16()?;
    let subformat = c.u16()?;
    let equipment = c.u16()?;
    let g = Geometry {
        width: c.u16()?,
        height: c.u16()?,
        resolution_x: c.u16()?,
        resolution_y: c.u16()?,
    };
    let count = c.u8()?;
    c.skip(1)?;
    let mut fingers = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        fingers.push(blocks::read_compact_view(
            &mut c,
            g,
            BlockLength::IncludingHeader,
        )?);
    }
    let t = Template {
        format: TemplateFormat::Ansi378_2004,
        vendor_id,
        subformat,
        sensor_certified: equipment & 0x8000 != 0,
        sensor_id: equipment & 0x0FFF,
        width: g.width,
        height: g.height,
        resolution_x: g.resolution_x,
        resolution_y: g.resolution_y,
        fingers,
    };
    Ok((t, declared, c.position()))
}

/// Serialises a 2004 record.
pub(super) fn write_2004(t: &Template) -> Result<Vec<u8>, TemplateError> {
    fits("sensor id", usize::from(t.sensor_id), 0x0FFF)?;
    fits("finger view count", t.fingers.len(), 255)?;
    let mut body = Vec::new();
    for v in &t.fingers {
        blocks::write_compact_view(&mut body, v, BlockLength::IncludingHeader)?;
    }
    let short_total = HEADER_2004 as usize + body.len();
    let mut out = Vec::with_capacity(short_total + 4);
    out.extend_from_slice(b"FMR\0 20\0");
    if short_total <= 0xFFFF {
        out.extend_from_slice(&(short_total as u16).to_be_bytes());
    } else {
        let total = short_total + 4;
        fits("record length", total, u64::from(u32::MAX))?;
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&(total as u32).to_be_bytes());
    }
    for v in [
        t.vendor_id,
        t.subformat,
        u16::from(t.sensor_certified) << 15 | t.sensor_id,
    ] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    for v in [t.width, t.height, t.resolution_x, t.resolution_y] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.push(t.fingers.len() as u8);
    out.push(0);
    out.extend_from_slice(&body);
    Ok(out)
}

fn read_view_2009(c: &mut Cursor<'_>) -> Result<FingerView, TemplateError> {
    let position = c.u8()?;
    let view = c.u8()?;
    let impression_type = c.u8()?;
    let quality = c.u8()?;
    let vendor_id = c.u16()?;
    let algorithm_id = c.u16()?;
    let (width, height, resolution_x, resolution_y) = (c.u16()?, c.u16()?, c.u16()?, c.u16()?);
    let count = c.u8()?;
    let mut minutiae = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        minutiae.push(blocks::read_minutia(c, true)?);
    }
    let ext = blocks::read_extensions(c, BlockLength::IncludingHeader)?;
    let mut v = FingerView::new(position, width, height, resolution_x);
    v.resolution_y = resolution_y;
    v.view = view;
    v.impression_type = impression_type;
    v.quality = quality;
    v.quality_records = vec![QualityRecord {
        quality,
        vendor_id,
        algorithm_id,
    }];
    v.minutiae = minutiae;
    ext.apply_to(&mut v);
    Ok(v)
}

/// Parses a version "030"/"035" ANSI record. `format` selects the header
/// layout: 2009 (1-byte compliance + 2-byte device id) or the 2007 variant
/// (2-byte equipment field as in 2004).
fn read_030(data: &[u8], format: TemplateFormat) -> Result<(Template, u64, usize), TemplateError> {
    let narrow = format == TemplateFormat::Ansi378_2007;
    let mut c = Cursor::new(data);
    c.skip(8)?;
    let declared = u64::from(c.u32()?);
    check_declared(
        declared,
        if narrow { HEADER_2007 } else { HEADER_2009 },
        data.len(),
    )?;
    let vendor_id = c.u16()?;
    let subformat = c.u16()?;
    let (sensor_certified, sensor_id) = if narrow {
        let equipment = c.u16()?;
        (equipment & 0x8000 != 0, equipment & 0x0FFF)
    } else {
        (c.u8()? & 0x80 != 0, c.u16()?)
    };
    let count = c.u8()?;
    c.skip(1)?;
    let mut fingers = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        fingers.push(read_view_2009(&mut c)?);
    }
    let first = fingers.first();
    let t = Template {
        format,
        vendor_id,
        subformat,
        sensor_certified,
        sensor_id,
        width: first.map_or(0, |v| v.width),
        height: first.map_or(0, |v| v.height),
        resolution_x: first.map_or(0, |v| v.resolution_x),
        resolution_y: first.map_or(0, |v| v.resolution_y),
        fingers,
    };
    Ok((t, declared, c.position()))
}

/// Parses a 2009 (or 2009 Amendment 1) record. Version "030" records that
/// do not fit the 2009 header but end exactly at their declared length with
/// the 2-byte equipment field are read as [`TemplateFormat::Ansi378_2007`].
pub(super) fn read_2009(
    data: &[u8],
    format: TemplateFormat,
) -> Result<(Template, u64, usize), TemplateError> {
    let wide = read_030(data, format);
    if format == TemplateFormat::Ansi378_2009
        && !matches!(&wide, Ok((_, declared, parsed)) if *declared == *parsed as u64)
    {
        if let Ok(narrow) = read_030(data, TemplateFormat::Ansi378_2007) {
            if narrow.1 == narrow.2 as u64 {
                return Ok(narrow);
            }
        }
    }
    wide
}

/// Serialises a 2009 record ("035" for Amendment 1, 2-byte equipment field
/// for the 2007 variant).
pub(super) fn write_2009(t: &Template) -> Result<Vec<u8>, TemplateError> {
    fits("finger view count", t.fingers.len(), 255)?;
    let mut body = Vec::new();
    for v in &t.fingers {
        fits("minutia count", v.minutiae.len(), 255)?;
        body.extend_from_slice(&[v.position, v.view, v.impression_type, v.quality]);
        let q = v.quality_records.first().copied().unwrap_or(QualityRecord {
            quality: v.quality,
            vendor_id: 0,
            algorithm_id: 0,
        });
        for x in [
            q.vendor_id,
            q.algorithm_id,
            v.width,
            v.height,
            v.resolution_x,
            v.resolution_y,
        ] {
            body.extend_from_slice(&x.to_be_bytes());
        }
        body.push(v.minutiae.len() as u8);
        for m in &v.minutiae {
            blocks::write_minutia(&mut body, m, true)?;
        }
        blocks::write_extensions(&mut body, v, BlockLength::IncludingHeader)?;
    }
    let narrow = t.format == TemplateFormat::Ansi378_2007;
    let total = if narrow { HEADER_2007 } else { HEADER_2009 } as usize + body.len();
    fits("record length", total, u64::from(u32::MAX))?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(if t.format == TemplateFormat::Ansi378_2009Amd1 {
        b"FMR\x00035\x00"
    } else {
        b"FMR\x00030\x00"
    });
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&t.vendor_id.to_be_bytes());
    out.extend_from_slice(&t.subformat.to_be_bytes());
    if narrow {
        fits("sensor id", usize::from(t.sensor_id), 0x0FFF)?;
        out.extend_from_slice(&(u16::from(t.sensor_certified) << 15 | t.sensor_id).to_be_bytes());
    } else {
        out.push(if t.sensor_certified { 0x80 } else { 0 });
        out.extend_from_slice(&t.sensor_id.to_be_bytes());
    }
    out.push(t.fingers.len() as u8);
    out.push(0);
    out.extend_from_slice(&body);
    Ok(out)
}

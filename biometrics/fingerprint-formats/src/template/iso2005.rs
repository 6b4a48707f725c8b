//! ISO/IEC 19794-2:2005 finger minutiae record.
//!
//! Layout: "FMR\0", " 20\0", 4-byte record length, capture equipment
//! (certification bit + 12-bit device id), image size and resolution, view
//! count, reserved byte, then compact finger views.

use super::blocks::{self, Geometry};
use super::{check_declared, fits, BlockLength, Template, TemplateError, TemplateFormat};
use crate::cursor::Cursor;

/// Size of the fixed record header.
const HEADER: u64 = 24;

/// Parses a record; returns it with its declared and parsed lengths.
pub(super) fn read(data: &[u8]) -> Result<(Template, u64, usize), TemplateError> {
    let mut c = Cursor::new(data);
    c.skip(8)?;
    let declared = u64::from(c.u32()?);
    check_declared(declared, HEADER, data.len())?;
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
        fingers.push(blocks::read_compact_view(&mut c, g, BlockLength::DataOnly)?);
    }
    let t = Template {
        format: TemplateFormat::Iso19794_2_2005,
        vendor_id: 0,
        subformat: 0,
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

/// Serialises a record in the ISO 2005 layout.
pub(super) fn write(t: &Template) -> Result<Vec<u8>, TemplateError> {
    fits("sensor id", usize::from(t.sensor_id), 0x0FFF)?;
    fits("finger view count", t.fingers.len(), 255)?;
    let mut body = Vec::new();
    for v in &t.fingers {
        blocks::write_compact_view(&mut body, v, BlockLength::DataOnly)?;
    }
    let total = HEADER as usize + body.len();
    fits("record length", total, u64::from(u32::MAX))?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"FMR\0 20\0");
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(u16::from(t.sensor_certified) << 15 | t.sensor_id).to_be_bytes());
    for v in [t.width, t.height, t.resolution_x, t.resolution_y] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.push(t.fingers.len() as u8);
    out.push(0);
    out.extend_from_slice(&body);
    Ok(out)
}

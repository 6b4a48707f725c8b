//! Building blocks shared by the template formats: minutia records,
//! extension data blocks, and the compact finger view of ISO 2005 / ANSI 2004.

use super::{
    fits, BlockLength, Extension, FingerView, Minutia, MinutiaKind, RidgeCountEdge, RidgeCounts,
    TemplateError, RIDGE_COUNT_EXTENSION,
};
use crate::cursor::Cursor;

/// Largest coordinate a 14-bit field can hold.
const MAX_COORD: u64 = 0x3FFF;

/// Reads one minutia (5 bytes without quality, 6 with).
pub(super) fn read_minutia(
    c: &mut Cursor<'_>,
    with_quality: bool,
) -> Result<Minutia, TemplateError> {
    let xt = c.u16()?;
    let y = c.u16()? & 0x3FFF;
    let angle = c.u8()?;
    let quality = if with_quality { c.u8()? } else { 254 };
    Ok(Minutia {
        kind: MinutiaKind::from_code(xt >> 14)?,
        x: xt & 0x3FFF,
        y,
        angle,
        quality,
    })
}

/// Writes one minutia.
pub(super) fn write_minutia(
    out: &mut Vec<u8>,
    m: &Minutia,
    with_quality: bool,
) -> Result<(), TemplateError> {
    fits("minutia x", usize::from(m.x), MAX_COORD)?;
    fits("minutia y", usize::from(m.y), MAX_COORD)?;
    out.extend_from_slice(&((m.kind.code() << 14) | m.x).to_be_bytes());
    out.extend_from_slice(&m.y.to_be_bytes());
    out.push(m.angle);
    if with_quality {
        out.push(m.quality);
    }
    Ok(())
}

/// Decodes a ridge count payload: method byte, then (from, to, count)
/// triples. Bytes after the last whole triple are kept so that the block is
/// written back unchanged.
fn parse_ridge_counts(data: &[u8]) -> Option<RidgeCounts> {
    let (&method, rest) = data.split_first()?;
    let whole = rest.len() / 3 * 3;
    let edges = rest[..whole]
        .chunks_exact(3)
        .map(|t| RidgeCountEdge {
            from: t[0],
            to: t[1],
            count: t[2],
        })
        .collect();
    Some(RidgeCounts {
        method,
        edges,
        trailing: rest[whole..].to_vec(),
    })
}

/// Parses the blocks of an extended data area under one length convention.
fn parse_blocks(
    area_bytes: &[u8],
    start: usize,
    convention: BlockLength,
) -> Result<(Option<RidgeCounts>, Vec<Extension>), TemplateError> {
    let mut area = Cursor::new(area_bytes);
    let mut counts = None;
    let mut extensions = Vec::new();
    while area.remaining() > 0 {
        let offset = start + area.position();
        let overrun = |_| TemplateError::BadExtension {
            offset,
            reason: "block header runs past the extended data",
        };
        let type_code = area.u16().map_err(overrun)?;
        let len = usize::from(area.u16().map_err(overrun)?);
        let body_len = match convention {
            BlockLength::DataOnly => len,
            BlockLength::IncludingHeader => {
                len.checked_sub(4).ok_or(TemplateError::BadExtension {
                    offset,
                    reason: "block length below its 4-byte header",
                })?
            }
        };
        let data = area
            .bytes(body_len)
            .map_err(|_| TemplateError::BadExtension {
                offset,
                reason: "block runs past the extended data",
            })?;
        match (type_code, counts.is_none()) {
            (RIDGE_COUNT_EXTENSION, true) => match parse_ridge_counts(data) {
                Some(rc) => counts = Some(rc),
                None => extensions.push(Extension {
                    type_code,
                    data: data.to_vec(),
                }),
            },
            _ => extensions.push(Extension {
                type_code,
                data: data.to_vec(),
            }),
        }
    }
    Ok((counts, extensions))
}

/// Contents of a finger view's extended data area.
pub(super) struct ExtendedData {
    ridge_counts: Option<RidgeCounts>,
    extensions: Vec<Extension>,
    block_length: Option<BlockLength>,
}

impl ExtendedData {
    /// Moves the blocks into `view`.
    pub fn apply_to(self, view: &mut FingerView) {
        view.ridge_counts = self.ridge_counts;
        view.extensions = self.extensions;
        view.block_length = self.block_length;
    }
}

/// Reads the extended data length and the blocks it covers.
///
/// Block lengths are tried with the format's own convention first and with
/// the other one if that does not tile the area exactly (real ISO 2005
/// files exist with both). `Some(other)` is returned only when the other
/// convention was needed, so that the view can be written back unchanged.
pub(super) fn read_extensions(
    c: &mut Cursor<'_>,
    preferred: BlockLength,
) -> Result<ExtendedData, TemplateError> {
    let total = usize::from(c.u16()?);
    let start = c.position();
    let area = c.bytes(total)?;
    match parse_blocks(area, start, preferred) {
        Ok((ridge_counts, extensions)) => Ok(ExtendedData {
            ridge_counts,
            extensions,
            block_length: None,
        }),
        Err(first) => {
            let other = preferred.other();
            parse_blocks(area, start, other)
                .map(|(ridge_counts, extensions)| ExtendedData {
                    ridge_counts,
                    extensions,
                    block_length: Some(other),
                })
                .map_err(|_| first)
        }
    }
}

/// Writes the extended data length and blocks (ridge counts first).
pub(super) fn write_extensions(
    out: &mut Vec<u8>,
    view: &FingerView,
    standard: BlockLength,
) -> Result<(), TemplateError> {
    let mut body = Vec::new();
    let mut block = |type_code: u16, data: &[u8]| -> Result<(), TemplateError> {
        let len = match view.block_length.unwrap_or(standard) {
            BlockLength::DataOnly => data.len(),
            BlockLength::IncludingHeader => data.len() + 4,
        };
        fits("extension block length", len, 0xFFFF)?;
        body.extend_from_slice(&type_code.to_be_bytes());
        body.extend_from_slice(&(len as u16).to_be_bytes());
        body.extend_from_slice(data);
        Ok(())
    };
    if let Some(rc) = &view.ridge_counts {
        let mut data = vec![rc.method];
        for e in &rc.edges {
            data.extend_from_slice(&[e.from, e.to, e.count]);
        }
        data.extend_from_slice(&rc.trailing);
        block(RIDGE_COUNT_EXTENSION, &data)?;
    }
    for e in &view.extensions {
        block(e.type_code, &e.data)?;
    }
    fits("extended data length", body.len(), 0xFFFF)?;
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(&body);
    Ok(())
}

/// Record-level image geometry copied into each compact view.
#[derive(Debug, Clone, Copy)]
pub(super) struct Geometry {
    pub width: u16,
    pub height: u16,
    pub resolution_x: u16,
    pub resolution_y: u16,
}

/// Reads a finger view in the ISO 2005 / ANSI 2004 layout: position,
/// view and impression nibbles, quality, minutiae, extensions.
pub(super) fn read_compact_view(
    c: &mut Cursor<'_>,
    g: Geometry,
    preferred: BlockLength,
) -> Result<FingerView, TemplateError> {
    let position = c.u8()?;
    let view_impression = c.u8()?;
    let quality = c.u8()?;
    let count = c.u8()?;
    let mut minutiae = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        minutiae.push(read_minutia(c, true)?);
    }
    let ext = read_extensions(c, preferred)?;
    let mut v = FingerView::new(position, g.width, g.height, g.resolution_x);
    ext.apply_to(&mut v);
    v.resolution_y = g.resolution_y;
    v.view = view_impression >> 4;
    v.impression_type = view_impression & 0x0F;
    v.quality = quality;
    v.minutiae = minutiae;
    Ok(v)
}

/// Writes a finger view in the ISO 2005 / ANSI 2004 layout.
pub(super) fn write_compact_view(
    out: &mut Vec<u8>,
    v: &FingerView,
    standard: BlockLength,
) -> Result<(), TemplateError> {
    fits("view number", usize::from(v.view), 15)?;
    fits("impression type", usize::from(v.impression_type), 15)?;
    fits("minutia count", v.minutiae.len(), 255)?;
    out.push(v.position);
    out.push((v.view << 4) | v.impression_type);
    out.push(v.quality);
    out.push(v.minutiae.len() as u8);
    for m in &v.minutiae {
        write_minutia(out, m, true)?;
    }
    write_extensions(out, v, standard)
}

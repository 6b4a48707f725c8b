//! Pixel-format conversions to packed RGB: the formats webcams send (YUYV, NV12, MJPEG, BGR,
//! grey) and the planar YCbCr layouts of y4m files.
//!
//! All conversions validate the buffer length against the geometry first and return
//! [`DeviceError::Protocol`] on a mismatch: a short USB transfer or a truncated file must become
//! a typed error, never an out-of-bounds panic. YCbCr uses the BT.601 matrix (what webcams and
//! y4m files without other metadata use) in fixed point, so a frame converts in a few
//! milliseconds without floating point per pixel.

use crate::{DeviceError, Result};

/// Whether luma spans 16–235 (video, "limited" or "TV" range: webcams' YUYV, most y4m files) or
/// 0–255 (JPEG, "full" range). Getting it wrong washes out or crushes contrast, which the face
/// quality checks then misreport as a bad exposure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YuvRange {
    /// Y in 16–235, Cb/Cr in 16–240.
    Limited,
    /// Y, Cb, Cr in 0–255.
    Full,
}

/// Fixed-point (×2¹⁶) BT.601 coefficients for one range.
struct Coefficients {
    y_offset: i32,
    y_gain: i32,
    r_v: i32,
    g_u: i32,
    g_v: i32,
    b_u: i32,
}

const LIMITED: Coefficients = Coefficients {
    y_offset: 16,
    y_gain: 76_309,
    r_v: 104_597,
    g_u: 25_675,
    g_v: 53_279,
    b_u: 132_201,
};
const FULL: Coefficients = Coefficients {
    y_offset: 0,
    y_gain: 65_536,
    r_v: 91_881,
    g_u: 22_554,
    g_v: 46_802,
    b_u: 116_130,
};

impl YuvRange {
    fn coefficients(self) -> &'static Coefficients {
        match self {
            YuvRange::Limited => &LIMITED,
            YuvRange::Full => &FULL,
        }
    }
}

#[inline]
fn clamp_u8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Converts one YCbCr sample to RGB.
#[inline]
pub fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8, range: YuvRange) -> [u8; 3] {
    let c = range.coefficients();
    let y = (y as i32 - c.y_offset) * c.y_gain;
    let (u, v) = (cb as i32 - 128, cr as i32 - 128);
    const HALF: i32 = 1 << 15;
    [
        clamp_u8((y + c.r_v * v + HALF) >> 16),
        clamp_u8((y - c.g_u * u - c.g_v * v + HALF) >> 16),
        clamp_u8((y + c.b_u * u + HALF) >> 16),
    ]
}

fn expect_len(what: &str, got: usize, want: u64) -> Result<()> {
    if got as u64 != want {
        return Err(DeviceError::Protocol(format!(
            "{what} frame has {got} bytes, the geometry needs {want}"
        )));
    }
    Ok(())
}

/// YUYV 4:2:2 (`Y0 U Y1 V` per two pixels), the uncompressed format every UVC webcam offers.
/// `width` must be even, as the format itself requires.
pub fn yuyv_to_rgb(width: u32, height: u32, data: &[u8], range: YuvRange) -> Result<Vec<u8>> {
    if width & 1 != 0 {
        return Err(DeviceError::Protocol(format!("YUYV width {width} is odd")));
    }
    expect_len("YUYV", data.len(), width as u64 * height as u64 * 2)?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    for (src, dst) in data.chunks_exact(4).zip(rgb.chunks_exact_mut(6)) {
        let (y0, u, y1, v) = (src[0], src[1], src[2], src[3]);
        dst[..3].copy_from_slice(&ycbcr_to_rgb(y0, u, v, range));
        dst[3..].copy_from_slice(&ycbcr_to_rgb(y1, u, v, range));
    }
    Ok(rgb)
}

/// NV12: a full-resolution Y plane followed by interleaved Cb/Cr at half resolution in both
/// directions (odd sizes round the chroma plane up).
pub fn nv12_to_rgb(width: u32, height: u32, data: &[u8], range: YuvRange) -> Result<Vec<u8>> {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    expect_len("NV12", data.len(), (w * h + cw * ch * 2) as u64)?;
    let (luma, chroma) = data.split_at(w * h);
    let mut rgb = vec![0u8; w * h * 3];
    for y in 0..h {
        let crow = &chroma[(y / 2) * cw * 2..][..cw * 2];
        for x in 0..w {
            let (u, v) = (crow[(x / 2) * 2], crow[(x / 2) * 2 + 1]);
            rgb[(y * w + x) * 3..][..3].copy_from_slice(&ycbcr_to_rgb(
                luma[y * w + x],
                u,
                v,
                range,
            ));
        }
    }
    Ok(rgb)
}

/// Planar YCbCr with chroma planes of `chroma_width × chroma_height` (4:4:4, 4:2:2 or 4:2:0, as
/// y4m stores them); each pixel takes the chroma sample that covers it (nearest neighbour, which
/// is what the face pipeline's colour-insensitive stages need and keeps conversion cheap).
pub fn planar_to_rgb(
    width: u32,
    height: u32,
    planes: (&[u8], &[u8], &[u8]),
    chroma_width: u32,
    chroma_height: u32,
    range: YuvRange,
) -> Result<Vec<u8>> {
    let (w, h, cw, ch) = (
        width as usize,
        height as usize,
        chroma_width as usize,
        chroma_height as usize,
    );
    let (luma, cb, cr) = planes;
    expect_len("planar luma", luma.len(), (w * h) as u64)?;
    expect_len("planar Cb", cb.len(), (cw * ch) as u64)?;
    expect_len("planar Cr", cr.len(), (cw * ch) as u64)?;
    if cw == 0 || ch == 0 || cw > w || ch > h {
        return Err(DeviceError::Protocol(format!(
            "chroma plane {cw}x{ch} does not fit a {w}x{h} frame"
        )));
    }
    // Integer ratios: 1 (4:4:4) or 2 (subsampled); computed generally so 4:1:1-like layouts work.
    let (sx, sy) = (w.div_ceil(cw), h.div_ceil(ch));
    let mut rgb = vec![0u8; w * h * 3];
    for y in 0..h {
        let crow = (y / sy).min(ch - 1) * cw;
        for x in 0..w {
            let ci = crow + (x / sx).min(cw - 1);
            rgb[(y * w + x) * 3..][..3].copy_from_slice(&ycbcr_to_rgb(
                luma[y * w + x],
                cb[ci],
                cr[ci],
                range,
            ));
        }
    }
    Ok(rgb)
}

/// Grey (Y only, full range) to RGB.
pub fn gray_to_rgb(width: u32, height: u32, data: &[u8]) -> Result<Vec<u8>> {
    expect_len("GRAY", data.len(), width as u64 * height as u64)?;
    Ok(data.iter().flat_map(|&g| [g, g, g]).collect())
}

/// Packed BGR (what some Windows drivers deliver) to RGB.
pub fn bgr_to_rgb(width: u32, height: u32, data: &[u8]) -> Result<Vec<u8>> {
    expect_len("BGR", data.len(), width as u64 * height as u64 * 3)?;
    Ok(data
        .chunks_exact(3)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect())
}

/// Decodes one MJPEG frame (a baseline JPEG) to RGB, returning its own width and height, which
/// the caller should compare with the negotiated format: some webcams silently send another size.
pub fn mjpeg_to_rgb(data: &[u8]) -> Result<(u32, u32, Vec<u8>)> {
    let img = image::load_from_memory_with_format(data, image::ImageFormat::Jpeg)
        .map_err(|e| {
            DeviceError::Protocol(format!(
                "undecodable MJPEG frame ({} bytes): {e}",
                data.len()
            ))
        })?
        .to_rgb8();
    let (w, h) = img.dimensions();
    Ok((w, h, img.into_raw()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primaries_and_greys_convert_as_bt601_says() {
        // Limited-range white, black and the 75% colour-bar red.
        assert_eq!(
            ycbcr_to_rgb(235, 128, 128, YuvRange::Limited),
            [255, 255, 255]
        );
        assert_eq!(ycbcr_to_rgb(16, 128, 128, YuvRange::Limited), [0, 0, 0]);
        let red = ycbcr_to_rgb(65, 100, 212, YuvRange::Limited);
        assert!(
            red[0] >= 188 && red[0] <= 192 && red[1] <= 2 && red[2] <= 2,
            "{red:?}"
        );
        // Full range: Y is the grey level itself.
        assert_eq!(ycbcr_to_rgb(77, 128, 128, YuvRange::Full), [77, 77, 77]);
    }

    #[test]
    fn wrong_buffer_sizes_are_protocol_errors() {
        assert!(matches!(
            yuyv_to_rgb(4, 2, &[0; 15], YuvRange::Limited),
            Err(DeviceError::Protocol(_))
        ));
        assert!(matches!(
            yuyv_to_rgb(3, 2, &[0; 12], YuvRange::Limited),
            Err(DeviceError::Protocol(_))
        ));
        assert!(matches!(
            nv12_to_rgb(3, 3, &[0; 9 + 7], YuvRange::Limited),
            Err(DeviceError::Protocol(_))
        ));
        assert!(nv12_to_rgb(3, 3, &[0; 9 + 8], YuvRange::Limited).is_ok());
        assert!(matches!(
            mjpeg_to_rgb(b"\xff\xd8 not really"),
            Err(DeviceError::Protocol(_))
        ));
    }

    #[test]
    fn yuyv_pixels_share_their_pair_chroma() {
        let rgb = yuyv_to_rgb(2, 1, &[16, 128, 235, 128], YuvRange::Limited).unwrap();
        assert_eq!(rgb, vec![0, 0, 0, 255, 255, 255]);
    }
}

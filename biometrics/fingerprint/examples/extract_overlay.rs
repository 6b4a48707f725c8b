//! Draws what the extractor sees on top of an image, for looking at failures:
//! background blocks tinted blue, the skeleton in orange, minutiae as red (ending) or green
//! (bifurcation) squares with a short direction tick, brighter for higher
//! quality. Writes one PNG per input next to `OUT_DIR`.
//!
//!     cargo run --release --example extract_overlay -- OUT_DIR IMAGE...
use fingerprint::extract::skeleton;
use fingerprint::field::{analyse, BLOCK};
use fingerprint::{extract, GrayImage, MinutiaKind};
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out_dir = PathBuf::from(
        args.next()
            .ok_or("usage: extract_overlay OUT_DIR IMAGE...")?,
    );
    std::fs::create_dir_all(&out_dir)?;
    for path in args {
        let img = GrayImage::load(Path::new(&path))?;
        let field = analyse(&img)?;
        let t = extract(&img)?;
        let skel = skeleton(&field);
        let (w, h) = (img.width(), img.height());
        let mut rgb = image::RgbImage::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let g = img.get(x, y);
                let fg = field.mask[(y as usize / BLOCK) * field.bw + x as usize / BLOCK];
                let px = if skel[(y * w + x) as usize] == 1 {
                    [255, 200, 0]
                } else if fg {
                    [g, g, g]
                } else {
                    [g / 2, g / 2, g / 2 + 100]
                };
                rgb.put_pixel(x, y, image::Rgb(px));
            }
        }
        for m in &t.minutiae {
            let level = 100 + (m.quality as u32 * 155 / 100) as u8;
            let colour = match m.kind {
                MinutiaKind::Ending => [level, 0, 0],
                MinutiaKind::Bifurcation => [0, level, 0],
            };
            let mut put = |x: i32, y: i32| {
                if x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                    rgb.put_pixel(x as u32, y as u32, image::Rgb(colour));
                }
            };
            let (cx, cy) = (m.x as i32, m.y as i32);
            for d in -3..=3 {
                put(cx + d, cy - 3);
                put(cx + d, cy + 3);
                put(cx - 3, cy + d);
                put(cx + 3, cy + d);
            }
            for s in 4..12 {
                let fx = cx as f32 + s as f32 * m.angle.cos();
                let fy = cy as f32 - s as f32 * m.angle.sin();
                put(fx.round() as i32, fy.round() as i32);
            }
        }
        let name = Path::new(&path)
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let parent = Path::new(&path)
            .parent()
            .and_then(|p| p.file_name())
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let out = out_dir.join(format!("{parent}-{name}.png"));
        // Twice the size, so single skeleton pixels can be told apart.
        image::imageops::resize(&rgb, 2 * w, 2 * h, image::imageops::FilterType::Nearest)
            .save(&out)?;
        println!(
            "{} minutiae, median period {:.1} -> {}",
            t.minutiae.len(),
            field.median_period,
            out.display()
        );
    }
    Ok(())
}

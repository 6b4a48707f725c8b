//! A camera whose frames come from files: a folder of still images (PNG/JPEG/BMP/TIFF, played in
//! file-name order) or a `.y4m` video. Recorded sessions replayed through it exercise the face
//! pipeline exactly as a webcam would — same trait, same pacing — so liveness and autocapture
//! can be regression-tested on recordings without a camera attached.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::y4m::{self, Y4mReader};
use super::FramePacer;
use crate::{
    Camera, DeviceError, DeviceInfo, DeviceKind, FrameEncoding, FrameFormat, Result, RgbFrame,
};

/// Image file extensions the folder source plays.
const FRAME_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "bmp", "tif", "tiff"];

enum Source {
    /// Still frames in file-name order; all must have the first frame's size.
    Folder { files: Vec<PathBuf> },
    /// A y4m video; reopened to loop.
    Video {
        path: PathBuf,
        reader: Option<Y4mReader<BufReader<File>>>,
    },
}

/// A camera that plays files. Loops by default (a demo runs forever); with looping off, the end
/// of the recording reports [`DeviceError::Disconnected`], like a camera that went away.
pub struct FileCamera {
    id: String,
    source: Source,
    /// The source's own size and rate.
    native: FrameFormat,
    native_fps: (u32, u32),
    /// The format of the current (or last) stream: native size, possibly another rate.
    format: FrameFormat,
    looping: bool,
    paced: bool,
    pacer: Option<FramePacer>,
    fps_fraction: (u32, u32),
    /// Index of the next frame in the source (folder position or frames read from the video).
    position: u64,
    sequence: u64,
}

impl FileCamera {
    /// Opens `path`: a directory of frames or a `.y4m` file. Fails with
    /// [`DeviceError::NotFound`] when the folder holds no frames, and with
    /// [`DeviceError::Protocol`] when a video header is malformed.
    pub fn open(path: &Path) -> Result<Self> {
        let id = format!("file:camera:{}", path.display());
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        FRAME_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
                    })
                })
                .collect();
            files.sort();
            let first = files.first().ok_or_else(|| {
                DeviceError::NotFound(format!("no frames (png/jpg/bmp/tif) in {}", path.display()))
            })?;
            let (width, height) = image::image_dimensions(first).map_err(|e| {
                DeviceError::Protocol(format!("cannot read frame {}: {e}", first.display()))
            })?;
            let format = FrameFormat {
                width,
                height,
                fps: 30,
                encoding: FrameEncoding::Rgb,
            };
            return Ok(Self::with_source(
                id,
                Source::Folder { files },
                format,
                (30, 1),
            ));
        }
        if !path.exists() {
            return Err(DeviceError::NotFound(id));
        }
        let reader = y4m::open(path)?;
        let h = *reader.header();
        let format = FrameFormat {
            width: h.width,
            height: h.height,
            fps: h.fps_rounded(),
            encoding: FrameEncoding::Rgb,
        };
        Ok(Self::with_source(
            id,
            Source::Video {
                path: path.to_owned(),
                reader: Some(reader),
            },
            format,
            (h.fps_num, h.fps_den),
        ))
    }

    fn with_source(
        id: String,
        source: Source,
        format: FrameFormat,
        fps_fraction: (u32, u32),
    ) -> Self {
        Self {
            id,
            source,
            native: format,
            native_fps: fps_fraction,
            format,
            looping: true,
            paced: true,
            pacer: None,
            fps_fraction,
            position: 0,
            sequence: 0,
        }
    }

    /// Whether to start over at the end (default) or report the camera gone.
    pub fn with_looping(mut self, looping: bool) -> Self {
        self.looping = looping;
        self
    }

    /// Whether to deliver frames at the stream's frame rate (default) or as fast as they decode
    /// (batch evaluation of recordings).
    pub fn with_pacing(mut self, paced: bool) -> Self {
        self.paced = paced;
        self
    }

    /// The one format this source offers: its native size and frame rate.
    pub fn native_format(&self) -> FrameFormat {
        self.native
    }

    fn rewind(&mut self) -> Result<()> {
        self.position = 0;
        if let Source::Video { path, reader } = &mut self.source {
            *reader = Some(y4m::open(path)?);
        }
        Ok(())
    }

    /// Reads the frame at the current position, rewinding once at the end when looping.
    fn read_frame(&mut self) -> Result<Vec<u8>> {
        for attempt in 0..2 {
            let frame = match &mut self.source {
                Source::Folder { files } => match files.get(self.position as usize) {
                    None => None,
                    Some(path) => {
                        let img = image::open(path)
                            .map_err(|e| {
                                DeviceError::Protocol(format!(
                                    "cannot decode frame {}: {e}",
                                    path.display()
                                ))
                            })?
                            .to_rgb8();
                        if img.dimensions() != (self.format.width, self.format.height) {
                            return Err(DeviceError::Protocol(format!(
                                "frame {} is {}x{}, the stream is {}x{}",
                                path.display(),
                                img.width(),
                                img.height(),
                                self.format.width,
                                self.format.height
                            )));
                        }
                        Some(img.into_raw())
                    }
                },
                Source::Video { reader, .. } => match reader.as_mut() {
                    Some(r) => r.next_rgb()?,
                    None => None,
                },
            };
            if let Some(rgb) = frame {
                self.position += 1;
                return Ok(rgb);
            }
            if !self.looping || attempt == 1 || self.position == 0 {
                return Err(DeviceError::Disconnected(format!(
                    "{} (end of recording after {} frames)",
                    self.id, self.position
                )));
            }
            self.rewind()?;
        }
        Err(DeviceError::Disconnected(self.id.clone()))
    }
}

impl Camera for FileCamera {
    fn info(&self) -> DeviceInfo {
        let what = match self.source {
            Source::Folder { .. } => "image folder",
            Source::Video { .. } => "y4m video",
        };
        DeviceInfo {
            id: self.id.clone(),
            name: format!("File camera ({what})"),
            kind: DeviceKind::Camera,
            driver: "file".into(),
        }
    }

    fn formats(&self) -> Result<Vec<FrameFormat>> {
        Ok(vec![self.native])
    }

    fn start(&mut self, format: FrameFormat) -> Result<()> {
        if self.pacer.is_some() {
            return Err(DeviceError::InvalidState("the camera is already streaming"));
        }
        if (format.width, format.height) != (self.format.width, self.format.height) {
            return Err(DeviceError::Device(format!(
                "a file source plays at its native {}x{}, not {}x{}",
                self.format.width, self.format.height, format.width, format.height
            )));
        }
        // The caller may ask for another rate (e.g. replay a 30 fps recording at 10 fps); the
        // native rate keeps its exact fraction (30000:1001 is not 30).
        (self.format, self.fps_fraction) = if format.fps == self.native.fps {
            (self.native, self.native_fps)
        } else {
            (
                FrameFormat {
                    fps: format.fps.max(1),
                    ..self.native
                },
                (format.fps.max(1), 1),
            )
        };
        self.rewind()?;
        self.sequence = 0;
        self.pacer = Some(FramePacer::start_fractional(
            self.fps_fraction.0,
            self.fps_fraction.1,
        ));
        Ok(())
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<RgbFrame> {
        let pacer = self
            .pacer
            .clone()
            .ok_or(DeviceError::InvalidState("next_frame before start"))?;
        let timestamp = if self.paced {
            pacer.wait_for(self.sequence, timeout)?
        } else {
            pacer.elapsed()
        };
        let rgb = self.read_frame()?;
        let frame = RgbFrame {
            width: self.format.width,
            height: self.format.height,
            rgb,
            sequence: self.sequence,
            timestamp,
        };
        self.sequence += 1;
        Ok(frame)
    }

    fn stop(&mut self) -> Result<()> {
        self.pacer = None;
        Ok(())
    }
}

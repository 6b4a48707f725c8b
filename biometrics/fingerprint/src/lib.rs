//! Pure-Rust fingerprint engine: minutiae extraction, 1:1 matching, 1:N search
//! over an in-memory gallery, image quality for autocapture, and FVC-style
//! evaluation.
//!
//! Typical use:
//! ```no_run
//! use fingerprint::{GrayImage, extract, MatchTemplate, match_score};
//! let a = extract(&GrayImage::load("a.tif".as_ref())?)?;
//! let b = extract(&GrayImage::load("b.tif".as_ref())?)?;
//! let score = match_score(&MatchTemplate::new(&a), &MatchTemplate::new(&b));
//! # Ok::<(), fingerprint::FpError>(())
//! ```
#![warn(missing_docs)]

pub mod error;
pub mod eval;
pub mod extract;
pub mod field;
pub mod gallery;
pub mod matcher;
pub mod quality;
pub mod raster;
pub mod template;

pub use error::{FpError, Result};
pub use extract::extract;
pub use gallery::{fuse_scores, perturb, synthetic_template, Candidate, Gallery};
pub use matcher::{match_score, MatchTemplate, Matcher};
pub use raster::GrayImage;
pub use template::{Minutia, MinutiaKind, Template};

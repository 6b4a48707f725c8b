//! Simulated devices for demos and tests: a fingerprint scanner that synthesises fingers
//! (SFinGe-style) or replays an image folder, and a camera that frames a portrait like a webcam.
//! They implement the same traits as real devices, so everything above them runs unchanged.

pub mod camera;
pub mod scanner;
pub mod synthesis;

pub use camera::{Motion, Pose, SimulatedCamera};
pub use scanner::{InjectedFault, ScanTiming, SimulatedScanner};

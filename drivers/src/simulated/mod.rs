//! Simulated devices for demos and tests: a fingerprint scanner that synthesises fingers
//! (SFinGe-style) or replays an image folder, and a camera that frames a portrait like a webcam,
//! with a person in front of it who can follow the prompts on the screen.
//! They implement the same traits as real devices, so everything above them runs unchanged.

pub mod camera;
pub mod eyelids;
pub mod scanner;
pub mod subject;
pub mod synthesis;

pub use camera::{Motion, Portrait, Pose, SimulatedCamera};
pub use eyelids::EyeOutline;
pub use scanner::{InjectedFault, ScanTiming, SimulatedScanner};
pub use subject::{CooperativeSubject, SubjectAction, SubjectMovement};

//! Capture sessions (being written).

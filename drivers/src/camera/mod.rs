//! Cameras: webcams through nokhwa and file sources (being written).

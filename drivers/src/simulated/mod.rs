//! Simulated scanners and cameras for demos and tests (being written).

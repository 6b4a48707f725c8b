//! USB fingerprint scanners over rusb (being written).

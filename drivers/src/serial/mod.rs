//! Serial R30x / AS608 fingerprint sensors (being written).

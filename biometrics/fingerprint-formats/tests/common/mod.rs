//! Helpers shared by the integration tests: locating the shared (read-only,
//! not redistributable) fingerprint data next to the repository.

#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/data/fingerprint` seen from the repository root.
pub fn data_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/fingerprint"
    ))
}

/// Reads a file below the shared fingerprint data folder.
pub fn read(rel: &str) -> Vec<u8> {
    let p = data_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Parses a JSON file below the shared fingerprint data folder.
pub fn json(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&read(rel)).unwrap_or_else(|e| panic!("bad JSON in {rel}: {e}"))
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

//! Where the station keeps secrets: the data key that seals the queue, and operator passwords.
//!
//! Production desktops use the OS keyring (Secret Service on Linux, Keychain, Credential
//! Manager) through `keyring`. Headless kiosks often have no keyring daemon; for them the
//! `file` backend keeps secrets in owner-only (0600) files under the data directory — weaker,
//! since anyone who can read the disk as that user gets the key, so it must be chosen knowingly
//! (see README "Secrets").

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::crypto::DataKey;

/// Keyring service name under which all station secrets live.
pub const KEYRING_SERVICE: &str = "capture-station";

/// Name of the data-key secret.
pub const DATA_KEY_NAME: &str = "queue-data-key";

/// Why a secret could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("OS keyring unavailable: {0} (choose secrets = \"file\" for headless machines)")]
    Keyring(String),
    #[error("secret file {path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
    #[error("stored secret {0} is corrupt")]
    Corrupt(String),
}

/// A named-secret store.
pub trait SecretStore: Send + Sync {
    /// The secret, or `None` when it was never set.
    fn get(&self, name: &str) -> Result<Option<String>, SecretError>;
    /// Stores (or replaces) a secret.
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError>;
    /// Removes a secret; absent secrets are not an error.
    fn delete(&self, name: &str) -> Result<(), SecretError>;
    /// Human description for `status` output.
    fn describe(&self) -> String;
}

/// The OS keyring.
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// A store under `service` (normally [`KEYRING_SERVICE`]).
    pub fn new(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, name).map_err(|e| SecretError::Keyring(e.to_string()))
    }

    /// Checks that the keyring answers at all (a read of a missing entry is fine).
    pub fn probe(&self) -> Result<(), SecretError> {
        self.get("probe").map(|_| ())
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        match self.entry(name)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(SecretError::Keyring(e.to_string())),
        }
    }

    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        self.entry(name)?.set_password(value).map_err(|e| SecretError::Keyring(e.to_string()))
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(SecretError::Keyring(e.to_string())),
        }
    }

    fn describe(&self) -> String {
        format!("OS keyring (service {:?})", self.service)
    }
}

/// Owner-only files in a directory: the documented fallback for headless machines.
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir` (created with mode 0700 when missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self, name: &str) -> PathBuf {
        let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        self.dir.join(safe)
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecretError + '_ {
        move |source| SecretError::File { path: path.to_owned(), source }
    }
}

impl SecretStore for FileStore {
    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        let path = self.path(name);
        match std::fs::read_to_string(&path) {
            Ok(v) => Ok(Some(v.trim_end_matches('\n').to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Self::io(&path)(e)),
        }
    }

    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        use std::io::Write;
        #[cfg(unix)]
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(0o700);
        builder.create(&self.dir).map_err(Self::io(&self.dir))?;
        let path = self.path(name);
        let tmp = path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(&tmp).map_err(Self::io(&tmp))?;
        file.write_all(value.as_bytes()).and_then(|_| file.sync_all()).map_err(Self::io(&tmp))?;
        // Rename is atomic: a power cut leaves the old or the new secret, never half of one.
        std::fs::rename(&tmp, &path).map_err(Self::io(&path))
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        let path = self.path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Self::io(&path)(e)),
        }
    }

    fn describe(&self) -> String {
        format!("owner-only files in {}", self.dir.display())
    }
}

/// Loads the queue's data key, creating and storing a new one on first use.
pub fn load_or_create_data_key(store: &dyn SecretStore) -> Result<DataKey, SecretError> {
    if let Some(text) = store.get(DATA_KEY_NAME)? {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| SecretError::Corrupt(DATA_KEY_NAME.into()))?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::Corrupt(DATA_KEY_NAME.into()))?;
        return Ok(DataKey::from_bytes(key));
    }
    let key = DataKey::generate();
    store.set(DATA_KEY_NAME, &base64::engine::general_purpose::STANDARD.encode(key.as_bytes()))?;
    Ok(key)
}

/// Secret name for an operator's password.
pub fn operator_password_name(document: &str) -> String {
    format!("operator-password-{document}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_round_trip_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("secrets"));
        assert_eq!(store.get("x").unwrap(), None);
        store.set("x", "value").unwrap();
        assert_eq!(store.get("x").unwrap().as_deref(), Some("value"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secrets/x")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store.delete("x").unwrap();
        store.delete("x").unwrap();
        assert_eq!(store.get("x").unwrap(), None);
    }

    #[test]
    fn the_data_key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let a = load_or_create_data_key(&store).unwrap();
        let b = load_or_create_data_key(&store).unwrap();
        assert_eq!(a.as_bytes(), b.as_bytes());
        store.set(DATA_KEY_NAME, "short").unwrap();
        assert!(matches!(load_or_create_data_key(&store), Err(SecretError::Corrupt(_))));
    }

    /// Runs against a real Secret Service; scripts/test starts one under dbus-run-session with
    /// gnome-keyring and runs this with `--ignored`.
    #[test]
    #[ignore = "needs a Secret Service (scripts/test runs it under dbus-run-session + gnome-keyring)"]
    fn keyring_store_round_trip() {
        let store = KeyringStore::new("capture-station-test");
        store.probe().unwrap();
        store.set("roundtrip", "s3cret").unwrap();
        assert_eq!(store.get("roundtrip").unwrap().as_deref(), Some("s3cret"));
        let key = load_or_create_data_key(&store).unwrap();
        assert_eq!(load_or_create_data_key(&store).unwrap().as_bytes(), key.as_bytes());
        store.delete("roundtrip").unwrap();
        store.delete(DATA_KEY_NAME).unwrap();
        assert_eq!(store.get("roundtrip").unwrap(), None);
    }
}

/// Opens the store `backend` asks for. `Auto` probes the keyring and falls back to files with a
/// warning, so a kiosk without a keyring daemon still starts (see README "Secrets").
pub fn open_store(backend: crate::config::SecretBackend, file_dir: &Path) -> Result<Box<dyn SecretStore>, SecretError> {
    use crate::config::SecretBackend;
    match backend {
        SecretBackend::File => Ok(Box::new(FileStore::new(file_dir))),
        SecretBackend::Keyring => {
            let store = KeyringStore::new(KEYRING_SERVICE);
            store.probe()?;
            Ok(Box::new(store))
        }
        SecretBackend::Auto => {
            let store = KeyringStore::new(KEYRING_SERVICE);
            match store.probe() {
                Ok(()) => Ok(Box::new(store)),
                Err(e) => {
                    tracing::warn!(error = %e, dir = %file_dir.display(), "OS keyring unavailable; keeping secrets in owner-only files");
                    Ok(Box::new(FileStore::new(file_dir)))
                }
            }
        }
    }
}

//! The server's database: an embedded SQLite file (the default) or a shared PostgreSQL server.
//!
//! Both are reached through one `sqlx::AnyPool`, and every query is written once in the subset
//! the two share (`$1` placeholders, `ON CONFLICT`, `RETURNING`), so the business logic has a
//! single copy. What differs lives here: how a connection is set up, which migration folder
//! applies, and how a write transaction takes the single-writer lock the domain code relies on.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Transaction};

/// Where the server keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// A SQLite file, created (with its directory) when missing: one binary, nothing to run
    /// beside it. WAL, `synchronous=FULL`, checkpoints in the background.
    Sqlite(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL: a standalone server whose database outlives and
    /// is backed up apart from the host running it.
    Postgres(String),
}

impl DatabaseLocation {
    /// Reads a `--database` value: a `postgres://`/`postgresql://` URL, a `sqlite://` URL, or
    /// (anything else) a SQLite file path.
    pub fn parse(value: &str) -> Self {
        let value = value.trim();
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            Self::Postgres(value.to_owned())
        } else {
            Self::Sqlite(PathBuf::from(value.strip_prefix("sqlite://").unwrap_or(value)))
        }
    }

    /// Which engine this location is.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Shown in logs and errors with any password in the URL replaced by `***`.
impl fmt::Display for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    write!(f, "{parsed}")
                }
                _ => f.write_str(url),
            },
        }
    }
}

/// Same as [`Display`](fmt::Display): a URL's password must not reach a log through `{:?}` either.
impl fmt::Debug for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseLocation({self})")
    }
}

/// The database engine behind a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The engine of an open pool (read from its connect URL; no round trip).
    pub fn of(pool: &AnyPool) -> Self {
        match pool.connect_options().database_url.scheme() {
            "sqlite" => Self::Sqlite,
            _ => Self::Postgres,
        }
    }
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open database {location}: {source}")]
    Connect { location: String, source: sqlx::Error },
    #[error("cannot create the database directory {dir}: {source}")]
    CreateDir { dir: PathBuf, source: std::io::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Connections per pool. SQLite has one writer anyway; PostgreSQL's default limit is 100
/// connections per cluster, shared with everything else on it.
const MAX_CONNECTIONS: u32 = 8;

/// Opens the database (creating a SQLite file when missing) and applies its migrations.
pub async fn open(location: &DatabaseLocation) -> Result<AnyPool, OpenError> {
    sqlx::any::install_default_drivers();
    let connect_err = |source| OpenError::Connect { location: location.to_string(), source };
    match location {
        DatabaseLocation::Sqlite(path) => {
            let pool = open_sqlite(path).await.map_err(connect_err)?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            tokio::spawn(checkpoint_in_background(pool.clone()));
            Ok(pool)
        }
        DatabaseLocation::Postgres(url) => {
            let options: AnyConnectOptions = url.parse().map_err(connect_err)?;
            let pool = AnyPoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(connect_err)?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Ok(pool)
        }
    }
}

async fn open_sqlite(path: &Path) -> Result<AnyPool, sqlx::Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    // The file name travels inside a URL (percent-encoded by sqlx), absolute so that its first
    // component cannot be read as a host name; the settings the URL cannot carry are applied to
    // every new connection below.
    let path = std::path::absolute(path).map_err(sqlx::Error::Io)?;
    let url = SqliteConnectOptions::new().filename(&path).create_if_missing(true).to_url_lossy();
    let options = AnyConnectOptions::from_url(&url)?;
    AnyPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(
                    // WAL: readers never wait for the writer.
                    // FULL: once the server answers 201 the enrollment is on disk, power cut or
                    // not — the station may mark it synced and stop resending it. In WAL mode
                    // that is one fsync of the log per commit.
                    // wal_autocheckpoint=0: checkpoints copy the WAL into the database and fsync;
                    // done inside a commit they stall that request (the p99). A background task
                    // does them instead.
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
                     PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = 0;",
                )
                .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

/// Checkpoints the WAL every quarter second (PASSIVE: never blocks writers) until the pool closes.
async fn checkpoint_in_background(pool: AnyPool) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    while !pool.is_closed() {
        tick.tick().await;
        if let Err(e) = pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
            if pool.is_closed() {
                break;
            }
            tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
        }
    }
}

/// Key of the PostgreSQL advisory lock every write transaction takes (an arbitrary constant:
/// "SPID" in ASCII), so that writers queue up exactly as they do on SQLite.
const WRITE_LOCK_KEY: i64 = 0x5350_4944;

/// Begins a transaction that holds the database's single write lock from its first statement.
///
/// The domain code reads, decides and writes in one transaction (is the key still free? is the
/// person still enrolled?) and relies on no other writer running in between. SQLite gives that
/// with `BEGIN IMMEDIATE`; on PostgreSQL every such transaction takes the same transaction-scoped
/// advisory lock, which also holds between several server processes sharing one database.
pub async fn begin_write(pool: &AnyPool) -> Result<Transaction<'static, Any>, sqlx::Error> {
    match Backend::of(pool) {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin_with(format!("BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checksums SQLite databases created before PostgreSQL support recorded in
    /// `_sqlx_migrations`. sqlx refuses to open a database whose applied migration changed, so the
    /// SQLite files must stay byte for byte what was released; new schema goes in new files.
    const RELEASED_SQLITE: [(i64, &str); 3] = [
        (1, "53c3053149fb23424eae93c7c0449eb0daff52d91712471102aead39177df3c9eb61ee42fd13ed367a44a1f7315111fc"),
        (2, "3497a838c741c48b10198d73ebb313e9779b21faf7abb7f3a5dbc81bbb29147f312c043b5c541321ede7a3fcb8ad57bc"),
        (3, "6ab4493ab50d4e8a7f234537ae44d9654f44c471a2579f68fedfadb2796e09e15c6bfa4b3839a54e27945c3a0db06c95"),
    ];

    #[test]
    fn released_sqlite_migrations_are_unchanged() {
        let migrator = sqlx::migrate!("./migrations/sqlite");
        for (version, checksum) in RELEASED_SQLITE {
            let m = migrator.iter().find(|m| m.version == version).expect("released migration present");
            assert_eq!(hex::encode(&m.checksum), checksum, "migration {version} changed");
        }
    }

    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let sqlite: Vec<i64> = sqlx::migrate!("./migrations/sqlite").iter().map(|m| m.version).collect();
        let postgres: Vec<i64> = sqlx::migrate!("./migrations/postgres").iter().map(|m| m.version).collect();
        assert_eq!(sqlite, postgres);
    }

    #[test]
    fn locations_parse_and_hide_passwords() {
        assert_eq!(DatabaseLocation::parse("/var/lib/cs/server.sqlite"), DatabaseLocation::Sqlite("/var/lib/cs/server.sqlite".into()));
        assert_eq!(DatabaseLocation::parse("sqlite://data/s.sqlite"), DatabaseLocation::Sqlite("data/s.sqlite".into()));
        let pg = DatabaseLocation::parse("postgres://spid:secret@db.example:5432/spid");
        assert_eq!(pg.backend(), Backend::Postgres);
        assert_eq!(pg.to_string(), "postgres://spid:***@db.example:5432/spid");
        assert!(!format!("{pg:?}").contains("secret"));
        assert_eq!(DatabaseLocation::parse("postgresql://db/spid").backend(), Backend::Postgres);
    }
}

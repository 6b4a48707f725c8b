//! Test harness: a real server on an ephemeral loopback port with a fresh database of its own:
//! a temporary SQLite file, or — when `SERVER_TEST_POSTGRES_URL` names a PostgreSQL server (as
//! `scripts/ci/postgres.sh` does) — a new database created on it for this one test.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::{json, Value};
use server::{BootstrapAdmin, DatabaseLocation, RunningServer, ServerConfig};
use sqlx::Connection;

/// Names a PostgreSQL server (any database on it; `postgres://user@127.0.0.1:5432/postgres`) on
/// which every test creates a database of its own. Unset: every test uses a SQLite file.
pub const POSTGRES_URL_VAR: &str = "SERVER_TEST_POSTGRES_URL";

/// One test's database, which outlives server restarts within the test.
pub struct TestDatabase {
    pub location: DatabaseLocation,
    _dir: tempfile::TempDir,
}

impl TestDatabase {
    /// A fresh, empty database (SQLite file, or a new PostgreSQL database when configured).
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let location = match std::env::var(POSTGRES_URL_VAR).ok().filter(|u| !u.trim().is_empty()) {
            Some(url) => DatabaseLocation::Postgres(create_postgres_database(&url).await),
            None => DatabaseLocation::Sqlite(dir.path().join("server.sqlite")),
        };
        Self { location, _dir: dir }
    }

    /// Server defaults on this database.
    pub fn config(&self) -> ServerConfig {
        ServerConfig::with_database(self.location.clone())
    }
}

/// Creates a uniquely named database on the server `admin_url` points at and returns its URL.
/// The databases stay behind: the cluster is a throwaway one, removed with its directory.
async fn create_postgres_database(admin_url: &str) -> String {
    let name = format!("server_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url).await.expect("connect to SERVER_TEST_POSTGRES_URL");
    // Concurrent CREATE DATABASE from one template can collide ("source database is being
    // accessed by other users"); a short retry rides it out.
    let mut attempt = 0;
    loop {
        match sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await {
            Ok(_) => break,
            Err(e) if attempt < 20 => {
                attempt += 1;
                eprintln!("CREATE DATABASE {name} failed ({e}); retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("CREATE DATABASE {name}: {e}"),
        }
    }
    admin.close().await.ok();
    let mut url = url::Url::parse(admin_url).expect("SERVER_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct TestServer {
    pub server: RunningServer,
    pub http: reqwest::Client,
    pub admin_token: String,
    pub db: TestDatabase,
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
    let db = TestDatabase::new().await;
    let mut config = db.config();
    config.bootstrap_admin = Some(BootstrapAdmin { document: ADMIN.into(), password: ADMIN_PASSWORD.into() });
    tweak(&mut config);
    let server = server::spawn(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let http = reqwest::Client::new();
    let admin_token = login(&http, &server.base_url(), ADMIN, ADMIN_PASSWORD).await.expect("admin login");
    TestServer { server, http, admin_token, db }
}

pub async fn login(http: &reqwest::Client, base: &str, user: &str, password: &str) -> Result<String, (u16, Value)> {
    let resp = http
        .post(format!("{base}/gbds/v2/tokens"))
        .json(&json!({"data": {"grantType": "CREDENTIALS", "userName": user, "userPassword": password}}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    if status == 201 {
        Ok(body["data"]["token"].as_str().unwrap().to_owned())
    } else {
        Err((status, body))
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base_url(), path)
    }

    pub async fn post_enroll(&self, body: &Value, key: Option<&str>) -> (u16, Value) {
        let mut req = self.http.post(self.url("/gbs-spid-server/people")).bearer_auth(&self.admin_token).json(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self.http.get(self.url(path)).bearer_auth(&self.admin_token).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }

    /// Polls an enrollment until the server decides it.
    pub async fn wait_final(&self, tguid: &str) -> Value {
        for _ in 0..200 {
            let (status, body) = self.get(&format!("/gbs-spid-server/people/transactions/{tguid}")).await;
            assert_eq!(status, 200, "{body}");
            let s = body["status"].as_str().unwrap();
            if s != "ENROLL_ENQUEUED" && s != "ENROLL_PENDING" {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("enrollment {tguid} never finished");
    }

    pub async fn count(&self, table: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&self.server.state.db).await.unwrap();
        n
    }
}

/// A real PNG of a ridge-like pattern, `w`×`h`, greyscale.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::GrayImage::from_fn(w, h, |x, y| image::Luma([(((x as f32 * 0.7 + y as f32 * 0.4).sin() * 100.0) + 128.0) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub fn b64(bytes: &[u8]) -> String {
    wire::validate::encode_base64(bytes)
}

/// A 4-finger + face enrollment for `user`.
pub fn enrollment(user: &str) -> Value {
    let finger = b64(&png(300, 400));
    let face = b64(&png(480, 640));
    let mut biometrics: Vec<Value> = [3, 4, 5, 6]
        .iter()
        .map(|i| json!({"index": i, "content": finger, "width": 300, "height": 400, "resolution": 500}))
        .collect();
    biometrics.push(json!({"index": 10, "content": face, "width": 480, "height": 640, "resolution": 96}));
    json!({"data": {
        "biometrics": biometrics,
        "missingBiometrics": [{"index": 0, "type": "AMPUTATED", "reason": "declared by subject"}],
        "userId": user, "operatorId": ADMIN, "timestamp": 1763889123456i64,
        "biographics": [{"id": "NAME", "value": "MARIA DA SILVA"}]
    }})
}

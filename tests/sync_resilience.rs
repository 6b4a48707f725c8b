//! End to end with real processes: `capture-station serve` and `capture-station sync` are
//! started, killed with SIGKILL mid-sync and restarted; the server must end up with exactly one
//! person per capture and the station queue must drain.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_capture-station");
const PASSWORD: &str = "e2e-admin-password";

struct Env {
    dir: tempfile::TempDir,
    port: u16,
}

impl Env {
    fn new() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Self { dir: tempfile::tempdir().unwrap(), port }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("STATION_DATA_DIR", self.dir.path().join("station"))
            .env("STATION_CONFIG", self.dir.path().join("station.toml"))
            .env("STATION_SECRETS", "file")
            .env("STATION_SERVER_URL", format!("http://127.0.0.1:{}", self.port))
            .env("STATION_OPERATOR", "admin")
            .env("STATION_PASSWORD", PASSWORD)
            .env("CAPTURE_ADMIN_PASSWORD", PASSWORD)
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(out.status.success(), "{args:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn server_db(&self) -> PathBuf {
        self.dir.path().join("server.sqlite")
    }

    fn start_server(&self) -> Child {
        let db = self.server_db();
        let child = self
            .cmd(&["serve", "--listen", &format!("127.0.0.1:{}", self.port), "--db", db.to_str().unwrap()])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }

    fn enroll_many(&self, n: usize) -> Vec<String> {
        let images = self.dir.path().join("images");
        std::fs::create_dir_all(&images).unwrap();
        for (index, (w, h)) in [(3, (320u32, 400u32)), (6, (320, 400)), (10, (480, 640))] {
            let img = image::GrayImage::from_fn(w, h, |x, y| image::Luma([((x * 13 + y * 7) % 251) as u8]));
            img.save(images.join(format!("{index}.png"))).unwrap();
        }
        (0..n)
            .map(|i| {
                let user = format!("{:011}", 52998224000u64 + i as u64);
                self.run(&["enroll", "--images", images.to_str().unwrap(), "--user-id", &user]);
                user
            })
            .collect()
    }

    fn queue(&self) -> Vec<Value> {
        serde_json::from_str(&self.run(&["queue", "list", "--json", "--limit", "1000"])).unwrap()
    }
}

fn kill(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL: no graceful shutdown, like a power cut of the process
    child.wait().unwrap();
}

/// Kills the process when the test ends, also when it panics, so no server outlives its test.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn count_states(rows: &[Value], state: &str) -> usize {
    rows.iter().filter(|r| r["state"] == state).count()
}

async fn server_counts(db: &Path) -> (i64, i64) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    let (tx,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM transactions WHERE kind = 'ENROLL'").fetch_one(&pool).await.unwrap();
    let (people,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM people").fetch_one(&pool).await.unwrap();
    pool.close().await;
    (tx, people)
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn server_killed_mid_sync_then_restarted_gives_exactly_one_person_each() {
    let env = Env::new();
    let mut server = Reaper(env.start_server());
    let users = env.enroll_many(40);
    let mut sync = Reaper(env.cmd(&["sync", "--timeout", "120"]).stdout(Stdio::null()).spawn().unwrap());
    wait_for("the first uploads", Duration::from_secs(60), || {
        let q = env.queue();
        count_states(&q, "accepted") + count_states(&q, "synced") >= 3
    });
    kill(&mut server.0);
    let during = env.queue();
    assert!(count_states(&during, "synced") < users.len(), "the kill must land mid-sync");
    std::thread::sleep(Duration::from_millis(500)); // the station now hits a dead port and backs off
    let mut server = Reaper(env.start_server());
    let status = sync.0.wait().unwrap();
    assert!(status.success(), "sync must finish once the server is back");
    let after = env.queue();
    assert_eq!(count_states(&after, "synced"), users.len(), "{after:#?}");
    kill(&mut server.0);
    assert_eq!(server_counts(&env.server_db()).await, (users.len() as i64, users.len() as i64));
    let retried = after.iter().filter(|r| r["attempts"].as_i64().unwrap() > 0).count();
    println!("{retried} enrollments needed a retry");
}

#[tokio::test(flavor = "multi_thread")]
async fn station_killed_mid_sync_resumes_without_duplicates() {
    let env = Env::new();
    let mut server = Reaper(env.start_server());
    let users = env.enroll_many(40);
    let mut sync = Reaper(env.cmd(&["sync"]).stdout(Stdio::null()).spawn().unwrap());
    wait_for("the first uploads", Duration::from_secs(60), || {
        let q = env.queue();
        count_states(&q, "accepted") + count_states(&q, "synced") >= 3
    });
    kill(&mut sync.0);
    let during = env.queue();
    assert!(count_states(&during, "synced") < users.len(), "the kill must land mid-sync");
    let out = env.run(&["sync", "--timeout", "120"]);
    assert!(out.contains("queue drained"), "{out}");
    let after = env.queue();
    assert_eq!(count_states(&after, "synced"), users.len());
    kill(&mut server.0);
    assert_eq!(server_counts(&env.server_db()).await, (users.len() as i64, users.len() as i64));
}

#[test]
fn cli_reports_bad_input_clearly() {
    let env = Env::new();
    let out = env.cmd(&["enroll", "--images", "/nonexistent-dir", "--user-id", "1"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir"));
    let out = env.cmd(&["queue", "retry", "deadbeef"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no enrollment deadbeef"));
    let out = env.cmd(&["enroll", "--simulated", "--user-id", "1", "--missing", "0:LOST:x"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown missing type"));
}

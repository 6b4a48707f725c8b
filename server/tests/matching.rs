//! Fingerprint verify (1:1) and deduplication (1:N) through the real HTTP API, on real SQLite (or
//! PostgreSQL, see `common`), with real prints: FVC2002 DB1_B from `../shared` (skipped with a message when absent) and
//! synthetic fingers from `drivers::simulated` (always available).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{b64, login, TestDatabase, ADMIN, ADMIN_PASSWORD};
use serde_json::{json, Value};
use server::{BootstrapAdmin, RunningServer};

const A: &str = "11111111111";
const B: &str = "22222222222";

fn fvc_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fingerprint/fvc2002/DB1_B");
    if dir.join("101_1.tif").is_file() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: FVC2002 DB1_B not found at {} (shared data absent)", dir.display());
        None
    }
}

/// A biometric JSON entry at `index` holding `img` as PNG.
fn finger(index: u16, img: &image::GrayImage) -> Value {
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png).unwrap();
    json!({"index": index, "content": b64(&png.into_inner()), "width": img.width(), "height": img.height(), "resolution": 500})
}

/// FVC impression `name` (e.g. `101_2`) at `index`.
fn fvc(dir: &Path, index: u16, name: &str) -> Value {
    finger(index, &image::open(dir.join(format!("{name}.tif"))).unwrap().to_luma8())
}

/// Impression `n` of synthetic finger `finger` of `subject` at `index`.
fn synthetic(index: u16, subject: u64, n: u32) -> Value {
    use drivers::simulated::synthesis::{impression, FingerSeed};
    let g = impression(FingerSeed { subject, finger: index as u8 }, n);
    finger(index, &image::GrayImage::from_raw(g.width, g.height, g.pixels).unwrap())
}

fn transaction(user: &str, biometrics: Vec<Value>) -> Value {
    json!({"data": {"biometrics": biometrics, "userId": user, "operatorId": ADMIN, "timestamp": 1763889123456i64}})
}

/// A server on a database that outlives it, so a test can restart it.
struct Harness {
    server: Option<RunningServer>,
    http: reqwest::Client,
    token: String,
    db: TestDatabase,
    dedup: bool,
}

impl Harness {
    async fn start(dedup: bool) -> Self {
        let db = TestDatabase::new().await;
        let mut h = Self { server: None, http: reqwest::Client::new(), token: String::new(), db, dedup };
        h.boot().await;
        h
    }

    async fn boot(&mut self) {
        let mut config = self.db.config();
        config.bootstrap_admin = Some(BootstrapAdmin { document: ADMIN.into(), password: ADMIN_PASSWORD.into() });
        config.fingerprint.dedup = self.dedup;
        let server = server::spawn(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        self.token = login(&self.http, &server.base_url(), ADMIN, ADMIN_PASSWORD).await.expect("admin login");
        self.server = Some(server);
    }

    async fn restart(&mut self) {
        self.server.take().unwrap().shutdown().await;
        self.boot().await;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.as_ref().unwrap().base_url(), path)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.bearer_auth(&self.token).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }

    /// Enrolls and waits for the decision; returns the final result body.
    async fn enroll(&self, body: &Value) -> Value {
        let (status, accepted) = self.send(self.http.post(self.url("/gbs-spid-server/people")).json(body)).await;
        assert_eq!(status, 201, "{accepted}");
        let tguid = accepted["id"].as_str().unwrap();
        for _ in 0..600 {
            let (status, result) = self.send(self.http.get(self.url(&format!("/gbs-spid-server/people/transactions/{tguid}")))).await;
            assert_eq!(status, 200, "{result}");
            if !matches!(result["status"].as_str(), Some("ENROLL_ENQUEUED" | "ENROLL_PENDING")) {
                return result;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("enrollment {tguid} was never decided");
    }

    /// Verifies and checks that polling the tguid gives the same answer; returns it.
    async fn verify(&self, body: &Value) -> Value {
        let (status, result) = self.send(self.http.post(self.url("/gbs-spid-server/verify")).json(body)).await;
        assert_eq!(status, 200, "{result}");
        let tguid = result["id"].as_str().unwrap();
        let (status, polled) = self.send(self.http.get(self.url(&format!("/gbs-spid-server/verify/{tguid}")))).await;
        assert_eq!(status, 200, "{polled}");
        assert_eq!(polled, result, "the poll answers what the POST answered");
        result
    }
}

fn status(v: &Value) -> &str {
    v["status"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fvc_prints_verify_dedup_survive_restart_and_deletion() {
    let Some(dir) = fvc_dir() else { return };
    let mut h = Harness::start(true).await;

    // Person A: right index = finger 101, left index = finger 102 (first impressions).
    let a = h.enroll(&transaction(A, vec![fvc(&dir, 6, "101_1"), fvc(&dir, 3, "102_1")])).await;
    assert_eq!(status(&a), "ENROLL_OK", "{a}");

    // Another impression of A's right index → match, with the score and the matched finger.
    let v = h.verify(&transaction(A, vec![fvc(&dir, 6, "101_2")])).await;
    assert_eq!(status(&v), "SEARCH_MATCH", "{v}");
    let threshold = v["threshold"].as_f64().unwrap();
    let candidate = &v["candidates"][0];
    assert_eq!(candidate["key"], A);
    assert!(candidate["score"].as_f64().unwrap() >= threshold, "{v}");
    assert_eq!(candidate["match-info"][0]["query-index"], 6);
    assert_eq!(candidate["match-info"][0]["reference-index"], 6);

    // Both fingers, other impressions → match over two fingers.
    let v = h.verify(&transaction(A, vec![fvc(&dir, 6, "101_3"), fvc(&dir, 3, "102_2")])).await;
    assert_eq!(status(&v), "SEARCH_MATCH", "{v}");
    assert_eq!(v["candidates"][0]["biometric-count"], 2);

    // A different finger presented as A's right index → no match, score below the threshold.
    let v = h.verify(&transaction(A, vec![fvc(&dir, 6, "103_1")])).await;
    assert_eq!(status(&v), "SEARCH_NOT_MATCH", "{v}");
    assert!(v["candidates"][0]["score"].as_f64().unwrap() < threshold, "{v}");

    // Nobody enrolled under that key.
    let v = h.verify(&transaction("99999999999", vec![fvc(&dir, 6, "101_2")])).await;
    assert_eq!(status(&v), "SEARCH_FAILED", "{v}");
    assert!(v["message"].as_str().unwrap().contains("person not found"), "{v}");

    // A under another key (other impressions of the same two fingers) → rejected, naming A.
    let b = h.enroll(&transaction(B, vec![fvc(&dir, 6, "101_4"), fvc(&dir, 3, "102_3")])).await;
    assert_eq!(status(&b), "ENROLL_REJECTED", "{b}");
    let message = b["message"].as_str().unwrap();
    assert!(message.contains(A) && message.contains("score"), "{b}");
    assert_eq!(b["candidates"][0]["key"], A, "{b}");
    assert!(b["candidates"][0]["score"].as_f64().unwrap() >= b["threshold"].as_f64().unwrap(), "{b}");
    let (code, _) = h.send(h.http.get(h.url(&format!("/gbs-spid-server/people/{B}")))).await;
    assert_eq!(code, 404, "a rejected duplicate creates no person");

    // Somebody else (fingers 105 and 106) → enrolled.
    let c = h.enroll(&transaction("33333333333", vec![fvc(&dir, 6, "105_1"), fvc(&dir, 3, "106_1")])).await;
    assert_eq!(status(&c), "ENROLL_OK", "{c}");

    // After a restart the gallery comes back from the database: dedup still finds A.
    h.restart().await;
    let d = h.enroll(&transaction("44444444444", vec![fvc(&dir, 6, "101_5"), fvc(&dir, 3, "102_4")])).await;
    assert_eq!(status(&d), "ENROLL_REJECTED", "{d}");
    assert_eq!(d["candidates"][0]["key"], A, "{d}");

    // Delete A: no longer verifiable, no longer a duplicate.
    let (code, deleted) = h.send(h.http.delete(h.url(&format!("/gbs-spid-server/delete/{A}")))).await;
    assert_eq!(code, 200, "{deleted}");
    let v = h.verify(&transaction(A, vec![fvc(&dir, 6, "101_2")])).await;
    assert_eq!(status(&v), "SEARCH_FAILED", "{v}");
    let e = h.enroll(&transaction("55555555555", vec![fvc(&dir, 6, "101_6"), fvc(&dir, 3, "102_5")])).await;
    assert_eq!(status(&e), "ENROLL_OK", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_fingers_verify_and_dedup() {
    let h = Harness::start(true).await;
    let a = h.enroll(&transaction(A, vec![synthetic(6, 1001, 0), synthetic(3, 1001, 0)])).await;
    assert_eq!(status(&a), "ENROLL_OK", "{a}");

    let v = h.verify(&transaction(A, vec![synthetic(6, 1001, 1)])).await;
    assert_eq!(status(&v), "SEARCH_MATCH", "{v}");
    let v = h.verify(&transaction(A, vec![synthetic(6, 2002, 1)])).await;
    assert_eq!(status(&v), "SEARCH_NOT_MATCH", "{v}");
    // A face only: nothing a fingerprint matcher can compare.
    let v = h.verify(&transaction(A, vec![json!({"index": 10, "content": b64(&common::png(200, 200)), "width": 200, "height": 200})])).await;
    assert_eq!(status(&v), "SEARCH_FAILED", "{v}");

    let b = h.enroll(&transaction(B, vec![synthetic(6, 1001, 2), synthetic(3, 1001, 2)])).await;
    assert_eq!(status(&b), "ENROLL_REJECTED", "{b}");
    assert_eq!(b["candidates"][0]["key"], A, "{b}");
    let c = h.enroll(&transaction("33333333333", vec![synthetic(6, 3003, 0), synthetic(3, 3003, 0)])).await;
    assert_eq!(status(&c), "ENROLL_OK", "{c}");
}

/// Everything the server knows lives in its database: a new process on the same database (the
/// standalone PostgreSQL deployment's normal restart) has the people, the operators, their
/// tokens and — rebuilt from the stored templates — the deduplication gallery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_on_the_same_database_keeps_people_operators_and_the_gallery() {
    let mut h = Harness::start(true).await;
    let a = h.enroll(&transaction(A, vec![synthetic(6, 1001, 0), synthetic(3, 1001, 0)])).await;
    assert_eq!(status(&a), "ENROLL_OK", "{a}");
    let operator = json!({"data": {"document": "11144477735", "password": "operator-pass", "role": "OPERATOR"}});
    let (code, body) = h.send(h.http.post(h.url("/gbs-spid-server/operator")).json(&operator)).await;
    assert_eq!(code, 201, "{body}");
    let admin_token = h.token.clone();

    h.restart().await;

    let person = h.http.get(h.url(&format!("/gbs-spid-server/people/{A}"))).bearer_auth(&admin_token).send().await.unwrap();
    assert_eq!(person.status(), 200, "the token issued before the restart still works");
    let person: Value = person.json().await.unwrap();
    assert_eq!(person["transaction-guid"], a["id"]);
    let (code, list) = h.send(h.http.get(h.url("/gbs-spid-server/operator/list"))).await;
    assert_eq!(code, 200, "{list}");
    assert!(list.to_string().contains("11144477735"), "{list}");
    let base = h.server.as_ref().unwrap().base_url();
    login(&h.http, &base, "11144477735", "operator-pass").await.expect("the operator still logs in");

    let b = h.enroll(&transaction(B, vec![synthetic(6, 1001, 2), synthetic(3, 1001, 2)])).await;
    assert_eq!(status(&b), "ENROLL_REJECTED", "the gallery was reloaded: {b}");
    assert_eq!(b["candidates"][0]["key"], A, "{b}");
    let v = h.verify(&transaction(A, vec![synthetic(6, 1001, 1)])).await;
    assert_eq!(status(&v), "SEARCH_MATCH", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_dedup_off_the_same_fingers_enroll_twice_and_still_verify() {
    let h = Harness::start(false).await;
    let a = h.enroll(&transaction(A, vec![synthetic(6, 1001, 0)])).await;
    assert_eq!(status(&a), "ENROLL_OK", "{a}");
    let b = h.enroll(&transaction(B, vec![synthetic(6, 1001, 1)])).await;
    assert_eq!(status(&b), "ENROLL_OK", "dedup is off: {b}");
    let v = h.verify(&transaction(B, vec![synthetic(6, 1001, 2)])).await;
    assert_eq!(status(&v), "SEARCH_MATCH", "templates are kept for verify: {v}");
}

#[tokio::test]
async fn bad_verify_requests_get_stable_codes_and_store_nothing() {
    let h = Harness::start(true).await;
    let expect = |body: Value, want_status: u16, want_code: &'static str| {
        let h = &h;
        async move {
            let (code, answer) = h.send(h.http.post(h.url("/gbs-spid-server/verify")).json(&body)).await;
            assert_eq!(code, want_status, "{answer}");
            assert_eq!(answer["errors"][0]["code"], want_code, "{answer}");
        }
    };
    let png = b64(&common::png(200, 200));
    expect(transaction(A, vec![json!({"index": 6, "content": "@@not base64@@", "width": 200, "height": 200})]), 400, "SPID-VAL-BIOMETRIC-BASE64").await;
    expect(transaction(A, vec![json!({"index": 11, "content": png, "width": 200, "height": 200})]), 400, "SPID-VAL-BIOMETRIC-INDEX").await;
    expect(transaction(A, vec![json!({"index": 6, "content": png, "width": 300, "height": 200})]), 400, "SPID-VAL-IMAGE-DIMENSIONS").await;
    expect(transaction(A, vec![]), 400, "SPID-VAL-NO-BIOMETRICS").await;
    expect(json!({"data": {"biometrics": []}}), 400, "SPID-VAL-FIELD-MISSING").await;

    let resp = h.http.post(h.url("/gbs-spid-server/verify")).json(&transaction(A, vec![])).send().await.unwrap();
    assert_eq!(resp.status(), 401, "a token is required");
    let (code, answer) = h.send(h.http.get(h.url("/gbs-spid-server/verify/no-such-tguid"))).await;
    assert_eq!((code, answer["errors"][0]["code"].as_str()), (404, Some("SPID-NOT-FOUND-TRANSACTION")), "{answer}");

    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM transactions WHERE kind = 'VERIFY'")
        .fetch_one(&h.server.as_ref().unwrap().state.db)
        .await
        .unwrap();
    assert_eq!(n, 0, "a refused verify writes nothing");
}

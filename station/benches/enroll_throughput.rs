//! Enroll throughput and latency of the server on loopback, and the station's sync compared
//! with a raw HTTP upload of the same bytes. Prints figures for BENCHMARKS.md.
//!
//! `cargo bench -p station --bench enroll_throughput [-- N CONCURRENCY ROUNDS]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use server::{BootstrapAdmin, ServerConfig};

const PASSWORD: &str = "bench-admin-password";

/// A PNG that does not compress (noise), so `bytes` is close to the real payload size.
fn noise_png(w: u32, h: u32, seed: u64) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let img = image::GrayImage::from_fn(w, h, |_, _| image::Luma([rng.gen()]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// 4 fingers + face, ~300 KB of image bytes.
fn images() -> Vec<(u16, u32, u32, Vec<u8>)> {
    let mut v: Vec<(u16, u32, u32, Vec<u8>)> = [3u16, 4, 5, 6].iter().map(|&i| (i, 240, 250, noise_png(240, 250, i as u64))).collect();
    v.push((10, 240, 250, noise_png(240, 250, 10)));
    v
}

fn body(user: &str, imgs: &[(u16, u32, u32, Vec<u8>)]) -> Vec<u8> {
    let biometrics: Vec<Value> = imgs
        .iter()
        .map(|(i, w, h, b)| json!({"index": i, "content": wire::validate::encode_base64(b), "width": w, "height": h, "resolution": 500}))
        .collect();
    serde_json::to_vec(&json!({"data": {"biometrics": biometrics, "userId": user, "operatorId": "admin", "timestamp": 1}})).unwrap()
}

/// A queued enrollment like the raw bodies: 4 fingers + face, user key from `i`.
fn new_enrollment(i: usize, imgs: &[(u16, u32, u32, Vec<u8>)]) -> station::NewEnrollment {
    station::NewEnrollment {
        user_id: format!("{:011}", i),
        operator_id: "admin".into(),
        biographics: vec![],
        missing: vec![],
        images: imgs
            .iter()
            .map(|(idx, w, h, b)| station::queue::CapturedImage {
                index: wire::BiometricIndex::from_code(*idx as i64).unwrap(),
                width: *w,
                height: *h,
                resolution: Some(500),
                bytes: b.clone(),
            })
            .collect(),
        captured_at: 1,
    }
}

/// Lets the kernel write back dirty pages (hundreds of MB after filling a queue) before a timed
/// phase, so writeback does not land in one phase and not the other.
fn settle_disk() {
    let _ = std::process::Command::new("sync").status();
}

/// Opening one sealed request body, as the sync does for every enrollment: the station's
/// `crypto::open_owned` (ring's assembly ChaCha20-Poly1305) against the portable
/// `chacha20poly1305` crate it replaced, on the same blob (both read the same format).
fn compare_body_opening(body: &[u8]) {
    use chacha20poly1305::aead::{AeadInPlace, KeyInit};
    let key = station::crypto::DataKey::generate();
    let sealed = station::crypto::seal(&key, b"bench", body);
    let reference = chacha20poly1305::XChaCha20Poly1305::new(key.as_bytes().into());
    let rounds = 300;
    let time = |f: &dyn Fn()| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..rounds {
                    f();
                }
                t.elapsed().as_secs_f64() * 1e3 / rounds as f64
            })
            .fold(f64::INFINITY, f64::min)
    };
    let ours = time(&|| {
        std::hint::black_box(station::crypto::open_owned(&key, b"bench", sealed.clone()).unwrap());
    });
    let portable = time(&|| {
        let mut buf = sealed.clone();
        let (nonce, rest) = buf.split_at_mut(24);
        let (ciphertext, tag) = rest.split_at_mut(rest.len() - 16);
        reference
            .decrypt_in_place_detached(nonce[..].into(), b"bench", ciphertext, tag[..].into())
            .unwrap();
        std::hint::black_box(&buf);
    });
    println!(
        "open one sealed {} KB body: station crypto (ring) {ours:.3} ms, chacha20poly1305 crate {portable:.3} ms (best of 3 × {rounds})",
        body.len() / 1024
    );
}

/// Deletes a finished phase's SQLite files (database, WAL, shared memory): a round writes
/// about 1 GB, and five rounds on a small disk otherwise end in "database or disk is full".
fn remove_database(dir: &std::path::Path, name: &str) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{name}.sqlite{suffix}")));
    }
}

async fn start(dir: &std::path::Path, name: &str) -> (server::RunningServer, String) {
    let mut config = ServerConfig::new(dir.join(format!("{name}.sqlite")));
    config.bootstrap_admin = Some(BootstrapAdmin { document: "admin".into(), password: PASSWORD.into() });
    let s = server::spawn(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let token: Value = reqwest::Client::new()
        .post(format!("{}/gbds/v2/tokens", s.base_url()))
        .json(&json!({"data": {"grantType": "CREDENTIALS", "userName": "admin", "userPassword": PASSWORD}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["data"]["token"].as_str().unwrap().to_owned();
    (s, token)
}

/// Posts every body with `concurrency` workers; returns wall time and per-request latencies.
async fn upload(base: &str, token: &str, bodies: Vec<(String, Vec<u8>)>, concurrency: usize) -> (Duration, Vec<Duration>) {
    let http = reqwest::Client::new();
    let queue = Arc::new(tokio::sync::Mutex::new(bodies));
    let started = Instant::now();
    let mut workers = vec![];
    for _ in 0..concurrency {
        let (http, queue, url, token) = (http.clone(), queue.clone(), format!("{base}/gbs-spid-server/people"), token.to_owned());
        workers.push(tokio::spawn(async move {
            let mut latencies = vec![];
            loop {
                let Some((key, body)) = queue.lock().await.pop() else { break };
                let t = Instant::now();
                let resp = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .header("Idempotency-Key", key)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap_or_default());
                resp.bytes().await.unwrap();
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = vec![];
    for w in workers {
        all.extend(w.await.unwrap());
    }
    (started.elapsed(), all)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(2000);
    let concurrency = args.get(1).copied().unwrap_or(8);
    let rounds = args.get(2).copied().unwrap_or(3).max(1);
    let sync_n = 1000;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let imgs = images();
        let payload: usize = imgs.iter().map(|i| i.3.len()).sum();
        let one_body = body("00000000000", &imgs).len();
        println!("machine: {} cores; payload {} KB of images, {} KB JSON per enrollment", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), payload / 1024, one_body / 1024);
        compare_body_opening(&body("00000000000", &imgs));

        // 1. Server enroll throughput and latency.
        let (s, token) = start(dir.path(), "throughput").await;
        let bodies: Vec<(String, Vec<u8>)> = (0..n).map(|i| (format!("k{i}"), body(&format!("{:011}", i), &imgs))).collect();
        let (wall, mut lat) = upload(&s.base_url(), &token, bodies, concurrency).await;
        lat.sort();
        println!(
            "server enroll: {n} enrollments, {concurrency} clients: {:.0} enrollments/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            n as f64 / wall.as_secs_f64(),
            percentile(&lat, 0.50).as_secs_f64() * 1e3,
            percentile(&lat, 0.99).as_secs_f64() * 1e3,
            lat.last().unwrap().as_secs_f64() * 1e3
        );
        s.shutdown().await;
        remove_database(dir.path(), "throughput");

        // 2. Station sync of 1,000 queued enrollments vs a raw upload of the same bytes: the
        // exact request bodies the queue sends, pre-built, posted by plain concurrent workers.
        // Several rounds, alternating which goes first, each on fresh servers and after the
        // kernel has written back the queue's dirty pages, because on a 2-core machine one
        // phase's leftovers (writeback, a neighbour's burst) easily skew a single pair.
        let sync_config = station::config::SyncConfig::default();
        let mut ratios = vec![];
        for round in 0..rounds {
            let queue_path = dir.path().join(format!("queue-{round}.sqlite"));
            let queue = station::Queue::open(&queue_path, station::crypto::DataKey::generate()).await.unwrap();
            let mut raw_bodies = Vec::with_capacity(sync_n);
            for i in 0..sync_n {
                let id = queue.add(new_enrollment(i, &imgs), true).await.unwrap();
                raw_bodies.push((id.clone(), queue.load_request_body(&id).await.unwrap()));
            }
            let raw_first = round % 2 == 0;
            let mut raw_wall = Duration::ZERO;
            let raw_phase = |bodies| async {
                settle_disk();
                let (raw_server, raw_token) = start(dir.path(), &format!("raw-{round}")).await;
                let (wall, _) = upload(&raw_server.base_url(), &raw_token, bodies, sync_config.concurrency).await;
                raw_server.shutdown().await;
                remove_database(dir.path(), &format!("raw-{round}"));
                wall
            };
            if raw_first {
                raw_wall = raw_phase(std::mem::take(&mut raw_bodies)).await;
            }
            settle_disk();
            let (sync_server, _) = start(dir.path(), &format!("sync-{round}")).await;
            let client = station::sync::SpidClient::new(
                &sync_server.base_url(),
                station::sync::Credentials { user: "admin".into(), password: PASSWORD.into() },
                Duration::from_secs(30),
            )
            .unwrap();
            client.login().await.unwrap(); // the raw workers start with a token too
            let syncer = station::sync::Syncer::new(queue.clone(), client, sync_config.clone());
            let t = Instant::now();
            let uploaded = syncer.upload_due().await.unwrap();
            let upload_wall = t.elapsed();
            assert_eq!(uploaded.uploaded, sync_n, "every enrollment uploaded in the first pass");
            let progress = syncer.run_until_drained(Some(Duration::from_secs(600)), |_| {}).await.unwrap();
            let sync_wall = t.elapsed();
            assert_eq!(progress.synced, sync_n);
            sync_server.shutdown().await;
            remove_database(dir.path(), &format!("sync-{round}"));
            if !raw_first {
                raw_wall = raw_phase(raw_bodies).await;
            }
            let ratio = 100.0 * raw_wall.as_secs_f64() / upload_wall.as_secs_f64();
            ratios.push(ratio);
            drop((syncer, queue));
            remove_database(dir.path(), &format!("queue-{round}"));
            println!(
                "sync round {} ({} first): {sync_n} queued enrollments (concurrency {}): upload phase (all acknowledged, durable on the server) {:.2} s = {:.0}/s; \
                 until every decision is recorded {:.2} s = {:.0}/s; raw upload of the same bytes: {:.2} s = {:.0}/s; \
                 upload phase reaches {ratio:.0}% of raw, whole sync {:.0}%",
                round + 1,
                if raw_first { "raw" } else { "sync" },
                sync_config.concurrency,
                upload_wall.as_secs_f64(),
                sync_n as f64 / upload_wall.as_secs_f64(),
                sync_wall.as_secs_f64(),
                sync_n as f64 / sync_wall.as_secs_f64(),
                raw_wall.as_secs_f64(),
                sync_n as f64 / raw_wall.as_secs_f64(),
                100.0 * raw_wall.as_secs_f64() / sync_wall.as_secs_f64()
            );
        }
        ratios.sort_by(f64::total_cmp);
        println!("sync upload phase vs raw upload, median of {rounds} rounds: {:.0}%", ratios[ratios.len() / 2]);
    });
}

//! Latency of the SBI calls over loopback with the simulated devices (realistic scanner timing:
//! 400 ms placement + 200 ms transfer per finger). Prints medians; figures go to
//! `docs/devices/sbi.md`.
//!
//! `cargo run --release -p sbi-service --example sbi_latency`

use std::sync::Arc;
use std::time::{Duration, Instant};

use drivers::manager::{DeviceManager, SimulatedBackend};
use reqwest::Method;
use serde_json::json;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    body: String,
) -> (Duration, Vec<u8>) {
    let t = Instant::now();
    let resp = http
        .request(
            Method::from_bytes(method.as_bytes()).expect("a valid method"),
            format!("{base}{path}"),
        )
        .body(body)
        .send()
        .await
        .expect("service answers");
    let bytes = resp.bytes().await.expect("body").to_vec();
    (t.elapsed(), bytes)
}

#[tokio::main]
async fn main() {
    let keys = tempfile::tempdir().expect("temp dir");
    let mut manager = DeviceManager::empty();
    manager.register(Arc::new(SimulatedBackend));
    let registry = sbi::Registry::new(
        manager,
        Some(vec!["sim:finger".into(), "sim:camera".into()]),
    );
    let t = Instant::now();
    let running = sbi::start(sbi::SbiConfig::new(keys.path()), registry)
        .await
        .expect("service starts");
    println!(
        "start (RSA-2048 key + certificate generation, bind): {:?}",
        t.elapsed()
    );
    let base = running.base_url();
    let http = reqwest::Client::new();

    let disc: Vec<_> = sequential(20, || {
        call(
            &http,
            &base,
            "MOSIPDISC",
            "/device",
            r#"{"type":"Biometric Device"}"#.into(),
        )
    })
    .await;
    println!("MOSIPDISC median of 20: {:?}", median(disc));
    let info: Vec<_> = sequential(20, || {
        call(&http, &base, "MOSIPDINFO", "/info", String::new())
    })
    .await;
    println!(
        "MOSIPDINFO (2 devices, 4 RS256 signatures) median of 20: {:?}",
        median(info)
    );

    let finger = |score: u32| {
        json!({"env":"Developer","purpose":"Registration","specVersion":"0.9.5","timeout":20000,
               "transactionId":"bench-0001","bio":[{"type":"Finger","count":1,"bioSubType":["Left IndexFinger"],
               "requestedScore":score,"deviceId":"sim:finger","deviceSubId":"0","previousHash":""}]})
        .to_string()
    };
    let one: Vec<_> = sequential(5, || call(&http, &base, "RCAPTURE", "/capture", finger(0))).await;
    println!(
        "RCAPTURE 1 finger (one placement, quality, WSQ, ISO, JWS) median of 5: {:?}",
        median(one)
    );

    let face =
        json!({"env":"Developer","purpose":"Registration","specVersion":"0.9.5","timeout":15000,
        "transactionId":"bench-face-1","bio":[{"type":"Face","count":1,"requestedScore":40,
        "deviceId":"sim:camera","deviceSubId":"0","previousHash":""}]})
        .to_string();
    let faces: Vec<_> = sequential(3, || {
        call(&http, &base, "RCAPTURE", "/capture", face.clone())
    })
    .await;
    println!(
        "RCAPTURE face (requestedScore 40) median of 3, first includes model loading: {:?}",
        median(faces)
    );

    let t = Instant::now();
    let mut resp = http
        .request(
            Method::from_bytes(b"STREAM").expect("valid"),
            format!("{base}/stream"),
        )
        .body(r#"{"deviceId":"sim:camera","deviceSubId":"0","timeout":5000}"#)
        .send()
        .await
        .expect("stream starts");
    let mut parts = 0;
    let mut first = None;
    while let Ok(Some(chunk)) = resp.chunk().await {
        parts += chunk.windows(12).filter(|w| w == b"--mosipframe").count();
        if parts > 0 && first.is_none() {
            first = Some(t.elapsed());
        }
    }
    let total = t.elapsed();
    println!(
        "STREAM camera: first part after {:?}, {parts} parts in {total:?} ({:.1} parts/s)",
        first.unwrap_or_default(),
        parts as f64 / total.as_secs_f64()
    );
    running.shutdown().await.expect("clean shutdown");
}

/// Runs `n` calls one after another (latency, not throughput) and keeps their durations.
async fn sequential<F, Fut>(n: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (Duration, Vec<u8>)>,
{
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (d, body) = f().await;
        let value: serde_json::Value = serde_json::from_slice(&body).expect("a JSON answer");
        assert!(all_success(&value), "call failed: {value}");
        out.push(d);
    }
    out
}

/// Whether every `errorCode` in an answer is "0".
fn all_success(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(map) => map.iter().all(|(k, v)| {
            if k == "errorCode" {
                v == "0"
            } else {
                all_success(v)
            }
        }),
        serde_json::Value::Array(items) => items.iter().all(all_success),
        _ => true,
    }
}

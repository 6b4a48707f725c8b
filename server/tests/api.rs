//! The SPID API over real HTTP on loopback with a real SQLite file.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn enroll_is_processed_and_the_person_reads_back() {
    let t = start().await;
    let body = enrollment("52998224725");
    let (status, result) = t.post_enroll(&body, Some("key-1")).await;
    assert_eq!(status, 201, "{result}");
    assert_eq!(result["status"], "ENROLL_ENQUEUED");
    let tguid = result["id"].as_str().unwrap().to_owned();
    let done = t.wait_final(&tguid).await;
    assert_eq!(done["status"], "ENROLL_OK", "{done}");

    let (status, person) = t.get("/gbs-spid-server/people/52998224725").await;
    assert_eq!(status, 200, "{person}");
    assert_eq!(person["enroll-status"], "ENROLLED");
    assert_eq!(person["transaction-guid"], tguid.as_str());
    assert_eq!(person["biographics"][0]["value"], "MARIA DA SILVA");
    assert_eq!(person["missing-biometrics"][0]["type"], "AMPUTATED");
    let sent: Vec<&Value> = body["data"]["biometrics"].as_array().unwrap().iter().collect();
    let got = person["biometrics"].as_array().unwrap();
    assert_eq!(got.len(), sent.len());
    for s in sent {
        let g = got.iter().find(|g| g["index"] == s["index"]).expect("index stored");
        assert_eq!(g["content"], s["content"], "image bytes must come back unchanged");
        assert_eq!(g["width"], s["width"]);
    }

    let (status, data) = t.get(&format!("/gbs-spid-server/transaction/biometrics/{tguid}")).await;
    assert_eq!(status, 200);
    assert_eq!(data["type"], "ENROLL");
    assert_eq!(data["status"], "ENROLL_OK");
}

#[tokio::test]
async fn resending_with_the_same_key_never_creates_a_second_person() {
    let t = start().await;
    let body = enrollment("11144477735");
    let (s1, r1) = t.post_enroll(&body, Some("same-key")).await;
    let (s2, r2) = t.post_enroll(&body, Some("same-key")).await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(r1["id"], r2["id"]);
    t.wait_final(r1["id"].as_str().unwrap()).await;
    let (s3, r3) = t.post_enroll(&body, Some("same-key")).await;
    assert_eq!(s3, 200);
    assert_eq!(r3["status"], "ENROLL_OK", "a late replay reports the decided status");

    let mut other = body.clone();
    other["data"]["userId"] = json!("39053344705");
    let (s4, r4) = t.post_enroll(&other, Some("same-key")).await;
    assert_eq!(s4, 409, "{r4}");
    assert_eq!(r4["errors"][0]["code"], "SPID-CONFLICT-IDEMPOTENCY");
    assert_eq!(t.count("transactions").await, 1);
    assert_eq!(t.count("people").await, 1);
}

#[tokio::test]
async fn a_second_enrollment_of_the_same_key_is_rejected_with_a_reason() {
    let t = start().await;
    let (_, first) = t.post_enroll(&enrollment("52998224725"), Some("a")).await;
    assert_eq!(t.wait_final(first["id"].as_str().unwrap()).await["status"], "ENROLL_OK");
    let (status, second) = t.post_enroll(&enrollment("52998224725"), Some("b")).await;
    assert_eq!(status, 201);
    let done = t.wait_final(second["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "ENROLL_REJECTED");
    assert!(done["message"].as_str().unwrap().contains("already enrolled"), "{done}");
    assert_eq!(t.count("people").await, 1);
}

async fn expect_rejected(t: &TestServer, body: Value, status: u16, code: &str) {
    let (got, err) = t.post_enroll(&body, Some(&uuid::Uuid::new_v4().to_string())).await;
    assert_eq!(got, status, "{code}: {err}");
    assert_eq!(err["errors"][0]["code"], code, "{err}");
    assert!(!err["errors"][0]["message"].as_str().unwrap().is_empty());
    assert_eq!(t.count("transactions").await, 0, "{code}: nothing may be stored");
    assert_eq!(t.count("biometrics").await, 0);
}

#[tokio::test]
async fn bad_enrollments_get_specific_codes_and_store_nothing() {
    let t = start_with(|c| c.max_image_pixels = 1_000_000).await;
    let base = enrollment("52998224725");

    let mut b = base.clone();
    b["data"]["biometrics"][1]["index"] = json!(99);
    expect_rejected(&t, b, 400, "SPID-VAL-BIOMETRIC-INDEX").await;

    let mut b = base.clone();
    b["data"]["biometrics"][1]["index"] = json!(3);
    expect_rejected(&t, b, 400, "SPID-VAL-BIOMETRIC-DUPLICATE").await;

    let mut b = base.clone();
    b["data"]["missingBiometrics"][0]["index"] = json!(10);
    expect_rejected(&t, b, 400, "SPID-VAL-BIOMETRIC-DUPLICATE").await;

    let mut b = base.clone();
    b["data"]["biometrics"][0]["content"] = json!("%%% not base64 %%%");
    expect_rejected(&t, b, 400, "SPID-VAL-BIOMETRIC-BASE64").await;

    let mut b = base.clone();
    b["data"]["biometrics"][0]["content"] = json!(b64(b"plain text, not an image"));
    expect_rejected(&t, b, 400, "SPID-VAL-IMAGE-FORMAT").await;

    let mut b = base.clone();
    let cut = png(300, 400);
    b["data"]["biometrics"][0]["content"] = json!(b64(&cut[..cut.len() - 20]));
    expect_rejected(&t, b, 400, "SPID-VAL-IMAGE-FORMAT").await;

    let mut b = base.clone();
    b["data"]["biometrics"][0]["width"] = json!(301);
    expect_rejected(&t, b, 400, "SPID-VAL-IMAGE-DIMENSIONS").await;

    let mut b = base.clone();
    b["data"]["biometrics"][0] = json!({"index": 3, "content": b64(&png(1200, 1000)), "width": 1200, "height": 1000});
    expect_rejected(&t, b, 413, "SPID-VAL-IMAGE-TOO-LARGE").await;

    let mut b = base.clone();
    b["data"].as_object_mut().unwrap().remove("userId");
    expect_rejected(&t, b, 400, "SPID-VAL-FIELD-MISSING").await;

    let mut b = base.clone();
    b["data"]["missingBiometrics"][0]["type"] = json!("LOST");
    expect_rejected(&t, b, 400, "SPID-VAL-MISSING-TYPE").await;

    let mut b = base.clone();
    b["data"]["biometrics"][0]["width"] = json!("wide");
    expect_rejected(&t, b, 400, "SPID-VAL-FIELD").await;

    let mut b = base.clone();
    b["data"]["biometrics"] = json!([]);
    b["data"]["missingBiometrics"] = json!([]);
    expect_rejected(&t, b, 400, "SPID-VAL-NO-BIOMETRICS").await;

    // Raw bodies that are not JSON at all, or not declared as JSON.
    let url = t.url("/gbs-spid-server/people");
    let resp = t.http.post(&url).bearer_auth(&t.admin_token).header("content-type", "application/json").body("{\"data\": {").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["errors"][0]["code"], "SPID-VAL-JSON");
    let resp = t.http.post(&url).bearer_auth(&t.admin_token).header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(resp.status(), 415);
    assert_eq!(resp.json::<Value>().await.unwrap()["errors"][0]["code"], "SPID-VAL-CONTENT-TYPE");
    let resp = t.http.post(&url).bearer_auth(&t.admin_token).header("Idempotency-Key", "bad key with spaces").json(&base).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["errors"][0]["code"], "SPID-VAL-IDEMPOTENCY-KEY");
    assert_eq!(t.count("transactions").await, 0);
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_json() {
    let t = start_with(|c| c.max_body_bytes = 64 * 1024).await;
    expect_rejected(&t, enrollment("52998224725"), 413, "SPID-VAL-BODY-TOO-LARGE").await;
}

#[tokio::test]
async fn tokens_are_required_and_expire() {
    let t = start_with(|c| c.token_ttl = std::time::Duration::from_millis(1500)).await;
    let url = t.url("/gbs-spid-server/people");
    let body = enrollment("52998224725");

    let resp = t.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["errors"][0]["code"], "SPID-SEC-TOKEN");

    let resp = t.http.post(&url).bearer_auth("made-up-token").json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["type"], "SECURITY_ERROR");
    assert_eq!(err["errors"][0]["code"], "SPID-SEC-TOKEN");

    let err = login(&t.http, &t.server.base_url(), ADMIN, "wrong password").await.unwrap_err();
    assert_eq!(err.0, 401);
    assert_eq!(err.1["errors"][0]["code"], "GBDS-SEC-CREDENTIALS");

    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    let resp = t.http.post(&url).bearer_auth(&t.admin_token).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["errors"][0]["code"], "SPID-SEC-TOKEN-EXPIRED");
    assert_eq!(t.count("transactions").await, 0);
}

#[tokio::test]
async fn token_renewal_issues_a_new_token() {
    let t = start().await;
    let resp = t
        .http
        .post(t.url("/gbds/v2/tokens"))
        .json(&json!({"data": {"grantType": "TOKEN", "token": t.admin_token}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let renewed: Value = resp.json().await.unwrap();
    assert_ne!(renewed["data"]["token"], t.admin_token.as_str());
    assert!(renewed["data"]["expirationTime"].as_i64().unwrap() > 0);
    let resp = t.http.post(t.url("/gbds/v2/tokens")).json(&json!({"data": {"grantType": "TOKEN", "token": "nope"}})).send().await.unwrap();
    assert_eq!(resp.status(), 422);
}

#[tokio::test]
async fn operators_are_managed_by_admins_only() {
    let t = start().await;
    let insert = |doc: &str, role: &str| json!({"data": {"document": doc, "password": "operator-pass", "role": role}});
    let resp = t.http.post(t.url("/gbs-spid-server/operator")).bearer_auth(&t.admin_token).json(&insert("11144477735", "OPERATOR")).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let resp = t.http.post(t.url("/gbs-spid-server/operator")).bearer_auth(&t.admin_token).json(&insert("11144477735", "OPERATOR")).send().await.unwrap();
    assert_eq!(resp.status(), 409);
    assert_eq!(resp.json::<Value>().await.unwrap()["errors"][0]["code"], "SPID-CONFLICT-OPERATOR");

    let op_token = login(&t.http, &t.server.base_url(), "11144477735", "operator-pass").await.unwrap();
    let resp = t.http.get(t.url("/gbs-spid-server/operator/list")).bearer_auth(&op_token).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.json::<Value>().await.unwrap()["errors"][0]["code"], "SPID-SEC-FORBIDDEN");
    let resp = t.http.get(t.url("/gbs-spid-server/operator/11144477735")).bearer_auth(&op_token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "VERIFIED");

    let (status, list) = t.get("/gbs-spid-server/operator/list").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);

    // An operator enrolls; an operator may not delete people or operators.
    let resp = t.http.post(t.url("/gbs-spid-server/people")).bearer_auth(&op_token).json(&enrollment("52998224725")).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let resp = t.http.delete(t.url("/gbs-spid-server/operator/admin")).bearer_auth(&op_token).send().await.unwrap();
    assert_eq!(resp.status(), 403);

    let resp = t.http.delete(t.url("/gbs-spid-server/operator/11144477735")).bearer_auth(&t.admin_token).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    let resp = t.http.get(t.url("/gbs-spid-server/operator/11144477735")).bearer_auth(&op_token).send().await.unwrap();
    assert_eq!(resp.status(), 401, "a deleted operator's token stops working");
    let (status, _) = t.get("/gbs-spid-server/operator/11144477735").await;
    assert_eq!(status, 404);
    assert!(login(&t.http, &t.server.base_url(), "11144477735", "operator-pass").await.is_err());
}

#[tokio::test]
async fn deleting_a_person_removes_biometrics_and_keeps_an_audit_row() {
    let t = start().await;
    let (_, r) = t.post_enroll(&enrollment("52998224725"), None).await;
    t.wait_final(r["id"].as_str().unwrap()).await;
    let resp = t.http.delete(t.url("/gbs-spid-server/delete/52998224725/X")).bearer_auth(&t.admin_token).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let resp = t.http.delete(t.url("/gbs-spid-server/delete/52998224725/F")).bearer_auth(&t.admin_token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let del: Value = resp.json().await.unwrap();
    assert_eq!(del["status"], "DELETE_OK");
    let (status, polled) = t.get(&format!("/gbs-spid-server/delete/{}", del["id"].as_str().unwrap())).await;
    assert_eq!((status, polled["status"].clone()), (200, json!("DELETE_OK")));
    let (status, err) = t.get("/gbs-spid-server/people/52998224725").await;
    assert_eq!(status, 404);
    assert_eq!(err["errors"][0]["code"], "SPID-NOT-FOUND-PERSON");
    assert_eq!(t.count("biometrics").await, 0);
    assert_eq!(t.count("deletions").await, 1);
    let resp = t.http.delete(t.url("/gbs-spid-server/delete/52998224725")).bearer_auth(&t.admin_token).send().await.unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn unknown_things_are_404_with_codes() {
    let t = start().await;
    let (status, err) = t.get("/gbs-spid-server/people/transactions/does-not-exist").await;
    assert_eq!((status, err["errors"][0]["code"].clone()), (404, json!("SPID-NOT-FOUND-TRANSACTION")));
    let (status, err) = t.get("/gbs-spid-server/no/such/route").await;
    assert_eq!((status, err["errors"][0]["code"].clone()), (404, json!("SPID-NOT-FOUND-ROUTE")));
    let resp = t.http.get(t.url("/gbs-spid-server/status")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["data"]["gbdsStatus"], "ACTIVE");
}

/// Every route the router serves is in the OpenAPI document, and every documented operation
/// reaches a handler (never the router's not-found / method-not-allowed fallbacks).
#[tokio::test]
async fn openapi_lists_every_route() {
    let t = start().await;
    let doc: Value = t.http.get(t.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("post", "/gbds/v2/tokens"),
        ("post", "/gbs-spid-server/people"),
        ("get", "/gbs-spid-server/people/transactions/{id}"),
        ("get", "/gbs-spid-server/people/{key}"),
        ("post", "/gbs-spid-server/verify"),
        ("get", "/gbs-spid-server/verify/{tguid}"),
        ("delete", "/gbs-spid-server/delete/{id}"),
        ("get", "/gbs-spid-server/delete/{id}"),
        ("delete", "/gbs-spid-server/delete/{cpf}/{mot}"),
        ("get", "/gbs-spid-server/transaction/biometrics/{tguid}"),
        ("get", "/gbs-spid-server/operator/list"),
        ("get", "/gbs-spid-server/operator/{key}"),
        ("delete", "/gbs-spid-server/operator/{key}"),
        ("post", "/gbs-spid-server/operator"),
        ("get", "/gbs-spid-server/status"),
        ("post", "/gbs-spid-server/remote-capture/enroll"),
        ("post", "/gbs-spid-server/remote-capture/verify"),
        ("post", "/gbs-spid-server/remote-capture"),
        ("get", "/gbs-spid-server/remote-capture/biometrics/{tguid}"),
        ("post", "/gbs-spid-server/remote-capture/finish/{tguid}"),
        ("post", "/gbs-spid-server/remote-capture/notification"),
        ("get", "/gbs-spid-server/remote-capture/pending"),
        ("get", "/rc/{token}"),
        ("post", "/rc/{token}/frames"),
    ];
    for (method, path) in expected {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} missing from /openapi.json");
    }
    let mut documented = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            documented += 1;
            let concrete = path.replace("{mot}", "E").replace('{', "x").replace('}', "");
            let req = t.http.request(method.to_uppercase().parse().unwrap(), t.url(&concrete)).bearer_auth(&t.admin_token);
            let resp = req.send().await.unwrap();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let code = body["errors"][0]["code"].as_str().unwrap_or("");
            assert!(code != "SPID-NOT-FOUND-ROUTE" && code != "SPID-METHOD-NOT-ALLOWED", "{method} {path} is documented but not routed");
        }
    }
    assert_eq!(documented, expected.len(), "the document has operations this test does not know: update the list");
}

#[tokio::test]
async fn wsq_fingerprints_are_accepted_and_corrupt_ones_refused() {
    let t = start().await;
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fingerprint/wsq/fvc-encoded/fvc2002-DB1_B-101_1.wsq");
    let wsq = std::fs::read(&shared).unwrap_or_else(|e| panic!("{}: {e}", shared.display()));
    let (_, w, h) = fingerprint_formats::probe_dimensions(&wsq).unwrap();
    let body = |bytes: &[u8], w: u32, h: u32| json!({"data": {
        "biometrics": [{"index": 6, "content": b64(bytes), "width": w, "height": h, "resolution": 500}],
        "userId": "52998224725", "operatorId": ADMIN}});
    let (status, r) = t.post_enroll(&body(&wsq[..wsq.len() / 3], w, h), Some("wsq-cut")).await;
    assert_eq!((status, r["errors"][0]["code"].clone()), (400, json!("SPID-VAL-IMAGE-FORMAT")), "{r}");
    let (status, r) = t.post_enroll(&body(&wsq, w + 1, h), Some("wsq-size")).await;
    assert_eq!((status, r["errors"][0]["code"].clone()), (400, json!("SPID-VAL-IMAGE-DIMENSIONS")), "{r}");
    assert_eq!(t.count("transactions").await, 0);
    let (status, r) = t.post_enroll(&body(&wsq, w, h), Some("wsq")).await;
    assert_eq!(status, 201, "{r}");
    let format: (String,) = sqlx::query_as("SELECT format FROM biometrics").fetch_one(&t.server.state.db).await.unwrap();
    assert_eq!(format.0, "WSQ");
}

/// Concurrent submissions are committed in groups; each key still maps to exactly one
/// transaction, and every replay of a key answers with that transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submissions_commit_in_groups_without_duplicates() {
    let t = std::sync::Arc::new(start().await);
    let mut tasks = vec![];
    for i in 0..24 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("{:011}", 52998224000u64 + (i % 8) as u64);
            let key = format!("key-{}", i % 8);
            let (status, r) = t.post_enroll(&enrollment(&user), Some(&key)).await;
            (key, status, r["id"].as_str().unwrap_or_default().to_owned())
        }));
    }
    let mut by_key: std::collections::HashMap<String, Vec<(u16, String)>> = Default::default();
    for task in tasks {
        let (key, status, id) = task.await.unwrap();
        by_key.entry(key).or_default().push((status, id));
    }
    assert_eq!(by_key.len(), 8);
    for (key, answers) in &by_key {
        assert_eq!(answers.iter().filter(|(s, _)| *s == 201).count(), 1, "{key}: exactly one 201 {answers:?}");
        assert!(answers.iter().all(|(s, _)| *s == 201 || *s == 200), "{key}: {answers:?}");
        assert!(answers.windows(2).all(|w| w[0].1 == w[1].1), "{key}: one transaction id {answers:?}");
    }
    assert_eq!(t.count("transactions").await, 8);
    assert_eq!(t.count("idempotency_keys").await, 8);
}

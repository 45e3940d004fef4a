//! Notifications (spec/notifications.md): the RFC 9421 vector, endpoint validation, who is told of
//! a revocation, delivery in order to a receiver that was down across a node restart, rotation and
//! deletion, `data.released`, two processes on one PostgreSQL database, and real deliveries verified
//! by an independent implementation (Python `http-message-signatures` + `cryptography`) that also
//! refuses tampered ones.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use consentry::crypto::SecretKey;
use consentry::crypto::httpsig::{self, HttpSigError, Policy, Request, SignatureParams};
use consentry::identity::DidKey;
use consentry::node::notify;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::interop::{PyReceiver, python_deps};
use crate::common::server::{Answer, Backend, Client, TestNode, new_key};
use crate::common::vector_json;
use crate::service::{BANK, ENTERPRISE, OTHER_PLATFORM, PLATFORM, World};

// ---------------------------------------------------------------------------------------------
// A receiver
// ---------------------------------------------------------------------------------------------

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Delivery {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn payload(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn seq(&self) -> i64 {
        self.header("consentry-sequence").unwrap().parse().unwrap()
    }
}

#[derive(Default)]
struct Shared {
    log: Vec<Delivery>,
    inflight: HashMap<String, usize>,
    max_inflight: HashMap<String, usize>,
}

/// A plain HTTP/1.1 receiver on 127.0.0.1 that answers 204 after `delay`, and can go down (its
/// port closed: connections are refused) and come back on the same port.
pub(crate) struct Receiver {
    pub(crate) port: u16,
    delay: Duration,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    pub(crate) fn start(delay: Duration) -> Self {
        let mut r = Self {
            port: 0,
            delay,
            shared: Arc::default(),
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        };
        r.up();
        r
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn up(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        self.port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        self.stop = Arc::clone(&stop);
        let (shared, delay) = (Arc::clone(&self.shared), self.delay);
        self.thread = Some(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let shared = Arc::clone(&shared);
                        std::thread::spawn(move || handle(stream, &shared, delay));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        }));
    }

    fn down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }

    pub(crate) fn deliveries(&self, path: &str) -> Vec<Delivery> {
        let s = self.shared.lock().unwrap();
        s.log.iter().filter(|d| d.path == path).cloned().collect()
    }

    fn max_inflight(&self, path: &str) -> usize {
        self.shared
            .lock()
            .unwrap()
            .max_inflight
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.down();
    }
}

fn handle(stream: std::net::TcpStream, shared: &Mutex<Shared>, delay: Duration) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.push((k.to_owned(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    {
        let mut s = shared.lock().unwrap();
        let n = s.inflight.entry(path.clone()).or_insert(0);
        *n += 1;
        let now = *n;
        let m = s.max_inflight.entry(path.clone()).or_insert(0);
        *m = (*m).max(now);
    }
    std::thread::sleep(delay);
    {
        let mut s = shared.lock().unwrap();
        *s.inflight.get_mut(&path).unwrap() -= 1;
        s.log.push(Delivery { path, headers, body });
    }
    let mut stream = stream;
    let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

fn unix_now() -> i64 {
    use consentry::clock::Clock as _;
    consentry::clock::SystemClock.now().unix_timestamp()
}

/// Verifies a delivery with this crate's strict verifier: the node's did:key, every component of
/// the profile, the tag, `alg`, the time window and the body digest.
pub(crate) fn verify(d: &Delivery, port: u16, node_did: &str) -> Result<httpsig::Verified, HttpSigError> {
    let req = Request {
        method: "POST".into(),
        target_uri: format!("http://127.0.0.1:{port}{}", d.path),
        headers: d.headers.clone(),
        body: d.body.clone(),
    };
    let policy = Policy {
        label: None,
        tag: Some(notify::SIGNATURE_TAG),
        required: &notify::COVERED,
        now: unix_now(),
        max_age_secs: 300,
        skew_secs: 5,
        require_alg: true,
        require_content_digest: true,
    };
    let did = node_did.to_owned();
    httpsig::verify(&req, &policy, &move |kid| {
        DidKey::from_verification_method(kid)
            .ok()
            .filter(|k| k.as_str() == did)
            .map(|k| *k.public_key())
    })
}

pub(crate) fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Registers an endpoint and returns its id.
pub(crate) fn register(c: &Client, url: &str, events: &[&str]) -> String {
    let a = c.post("/v1/webhooks", &json!({"url": url, "events": events}));
    assert_eq!(a.status, 201, "{}", a.text);
    a.body["id"].as_str().unwrap().to_owned()
}

fn history(c: &Client, id: &str) -> Answer {
    let a = c.get(&format!("/v1/webhooks/{id}/deliveries?limit=200"));
    assert_eq!(a.status, 200, "{}", a.text);
    a
}

fn endpoint_count(node: &TestNode) -> i64 {
    use consentry::storage::schema::webhook_endpoints as ep;
    node.node
        .store
        .run(|c| Ok(ep::table.filter(ep::state.eq("active")).count().get_result(c)?))
        .unwrap()
}

/// Deliveries still pending in the outbox, over every endpoint.
fn pending_deliveries(node: &TestNode) -> i64 {
    use consentry::storage::schema::webhook_outbox as ob;
    node.node
        .store
        .run(|c| Ok(ob::table.filter(ob::state.eq("pending")).count().get_result(c)?))
        .unwrap()
}

/// The distinct event ids a path received, in order of first arrival, with their sequence numbers.
fn arrivals(r: &Receiver, path: &str) -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = Vec::new();
    for d in r.deliveries(path) {
        let id = d.header("consentry-event-id").unwrap().to_owned();
        if !out.iter().any(|(_, x)| *x == id) {
            out.push((d.seq(), id));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The vector
// ---------------------------------------------------------------------------------------------

/// RFC 9421 Appendix B.2.6: byte-exact signature base, `Signature-Input` and `Signature`, and the
/// strict verifier accepts it (and not a changed `Date`).
#[test]
fn rfc9421_b26_vector_byte_exact() {
    let v = vector_json("rfc9421-b26.json");
    let der = |pem: &str| {
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(b64).unwrap()
    };
    let pkcs8 = der(v["privateKeyPkcs8Pem"].as_str().unwrap());
    let spki = der(v["publicKeySpkiPem"].as_str().unwrap());
    // RFC 8410: the fixed PKCS#8 and SPKI prefixes of an Ed25519 key, then the 32 key bytes.
    assert_eq!(hex::encode(&pkcs8[..16]), "302e020100300506032b657004220420");
    assert_eq!(hex::encode(&spki[..12]), "302a300506032b6570032100");
    let key = SecretKey::from_seed(&pkcs8[16..].try_into().unwrap());
    let public = consentry::crypto::PublicKey::from_slice(&spki[12..]).unwrap();
    assert_eq!(key.public_key(), public);

    let r = &v["request"];
    let mut req = Request {
        method: r["method"].as_str().unwrap().into(),
        target_uri: r["targetUri"].as_str().unwrap().into(),
        headers: r["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h[0].as_str().unwrap().into(), h[1].as_str().unwrap().into()))
            .collect(),
        body: r["body"].as_str().unwrap().as_bytes().to_vec(),
    };
    let covered: Vec<&str> = v["coveredComponents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let params = SignatureParams {
        created: v["created"].as_i64(),
        keyid: v["keyid"].as_str().map(str::to_owned),
        ..Default::default()
    };
    let base = httpsig::signature_base(&req, &covered, &params.to_params()).unwrap();
    assert_eq!(base, v["signatureBase"].as_str().unwrap());
    let signed_base = httpsig::sign(&mut req, v["label"].as_str().unwrap(), &covered, &params, &key).unwrap();
    assert_eq!(signed_base, base);
    assert_eq!(
        req.header("signature-input").unwrap(),
        v["signatureInput"].as_str().unwrap()
    );
    assert_eq!(req.header("signature").unwrap(), v["signature"].as_str().unwrap());

    let policy = Policy {
        label: Some("sig-b26"),
        tag: None,
        required: &["@method", "@authority", "date"],
        now: v["created"].as_i64().unwrap() + 1,
        max_age_secs: 300,
        skew_secs: 5,
        require_alg: false,
        require_content_digest: false,
    };
    let resolve = |kid: &str| (kid == "test-key-ed25519").then_some(public);
    let ok = httpsig::verify(&req, &policy, &resolve).unwrap();
    assert_eq!(ok.keyid, "test-key-ed25519");
    // The verifier re-derives the same base from the received fields.
    assert_eq!(ok.base, base);
    let mut changed = req.clone();
    changed.set_header("Date", "Tue, 20 Apr 2021 02:07:56 GMT");
    assert_eq!(
        httpsig::verify(&changed, &policy, &resolve),
        Err(HttpSigError::BadSignature)
    );
    // Our profile demands `alg`, which the vector does not carry.
    let strict = Policy {
        require_alg: true,
        ..policy
    };
    assert!(matches!(
        httpsig::verify(&req, &strict, &resolve),
        Err(HttpSigError::Params(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

/// Bad endpoints are RFC 9457 problems and write nothing; endpoints are private to their owner;
/// an owner has at most ten; a node without `insecure-webhooks` takes https:// only.
#[test]
fn endpoint_validation_errors_are_problems_and_change_nothing() {
    let w = World::new(Backend::Sqlite);
    let platform = w.client(&w.platform);
    let events = json!(["grant.revoked"]);
    for (body, code) in [
        (
            json!({"url": "ftp://127.0.0.1/x", "events": events}),
            "invalid-webhook-url",
        ),
        (
            json!({"url": "http://example.com/x", "events": events}),
            "invalid-webhook-url",
        ),
        (
            json!({"url": "http://10.1.2.3/x", "events": events}),
            "invalid-webhook-url",
        ),
        (
            json!({"url": "https://user:pw@hooks.example/x", "events": events}),
            "invalid-webhook-url",
        ),
        (
            json!({"url": "https://hooks.example/x#f", "events": events}),
            "invalid-webhook-url",
        ),
        (
            json!({"url": "not a url", "events": events}),
            "invalid-webhook-url",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": []}),
            "invalid-webhook-events",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": ["grant.exploded"]}),
            "invalid-webhook-events",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": ["data.released"]}),
            "invalid-webhook-events",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": ["grant.revoked", "grant.revoked"]}),
            "invalid-webhook-events",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": events, "secret": "x"}),
            "invalid-body",
        ),
        (json!({"url": "https://hooks.example/x"}), "invalid-body"),
    ] {
        let a = platform.post("/v1/webhooks", &body);
        assert_eq!(a.status, 400, "{body}: {}", a.text);
        assert_eq!(a.header("content-type"), Some("application/problem+json"));
        assert_eq!(a.problem(), code, "{body}: {}", a.text);
        assert_eq!(a.reasons(), vec![code.to_owned()]);
    }
    let a = platform.post_raw("/v1/webhooks", r#"{"url":"https://h.example/","url":"x"}"#, true);
    assert_eq!((a.status, a.problem()), (400, "malformed-json"), "{}", a.text);
    let a = w.client(&w.regulator).post(
        "/v1/webhooks",
        &json!({"url": "https://h.example/", "events": events}),
    );
    assert_eq!((a.status, a.problem()), (403, "forbidden"), "{}", a.text);
    let a = platform.post_raw("/v1/webhooks", "{}", false);
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(endpoint_count(&w.node), 0);
    assert_eq!(platform.get("/v1/webhooks").body, json!({"webhooks": []}));

    // A good one; a bad rotation leaves it as it was.
    let id = register(&platform, "HTTPS://Hooks.Example:443/in?x=1", &["grant.revoked"]);
    let before = platform.get(&format!("/v1/webhooks/{id}"));
    assert_eq!(before.body["url"], "https://hooks.example/in?x=1");
    assert_eq!(before.body["events"], json!(["grant.revoked"]));
    let a = platform.post(
        &format!("/v1/webhooks/{id}/rotate"),
        &json!({"url": "http://hooks.example/in", "events": ["grant.suspended"]}),
    );
    assert_eq!(
        (a.status, a.problem()),
        (400, "invalid-webhook-url"),
        "{}",
        a.text
    );
    assert_eq!(platform.get(&format!("/v1/webhooks/{id}")).body, before.body);

    // Another participant cannot see, rotate or delete it.
    let bank = w.client(&w.bank);
    assert_eq!(bank.get(&format!("/v1/webhooks/{id}")).status, 404);
    assert_eq!(bank.get(&format!("/v1/webhooks/{id}/deliveries")).status, 404);
    let rot = json!({"url": "https://bank.example/", "events": ["grant.revoked"]});
    assert_eq!(bank.post(&format!("/v1/webhooks/{id}/rotate"), &rot).status, 404);
    assert_eq!(
        bank.post(&format!("/v1/webhooks/{id}/delete"), &json!({})).status,
        404
    );
    assert_eq!(platform.get("/v1/webhooks/no-such-id").status, 404);
    assert_eq!(
        platform
            .get(&format!("/v1/webhooks/{id}/deliveries?limit=0"))
            .problem(),
        "invalid-query"
    );
    assert_eq!(platform.get(&format!("/v1/webhooks/{id}")).body, before.body);

    // At most ten.
    for n in 1..10 {
        register(
            &platform,
            &format!("https://hooks.example/{n}"),
            &["grant.revoked"],
        );
    }
    let a = platform.post(
        "/v1/webhooks",
        &json!({"url": "https://hooks.example/11", "events": events}),
    );
    assert_eq!((a.status, a.problem()), (409, "conflict"), "{}", a.text);
    assert_eq!(endpoint_count(&w.node), 10);
    let a = platform.post(&format!("/v1/webhooks/{id}/delete"), &json!({}));
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["state"], "deleted");
    assert_eq!(platform.get(&format!("/v1/webhooks/{id}")).status, 404);
    assert_eq!(endpoint_count(&w.node), 9);

    // Without insecure-webhooks, http:// is refused even to loopback.
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("n.sqlite3").display());
    let strict = TestNode::start_with_webhooks(dir, db, None, Default::default());
    let p = new_key();
    let a = strict.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": PLATFORM, "name": "P", "did": p.did.as_str(), "endpoint": "https://p.example"}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    let a = strict.client(&p).post(
        "/v1/webhooks",
        &json!({"url": "http://127.0.0.1:9/h", "events": events}),
    );
    assert_eq!(
        (a.status, a.problem()),
        (400, "invalid-webhook-url"),
        "{}",
        a.text
    );
    assert!(
        a.body["detail"].as_str().unwrap().contains("https://"),
        "{}",
        a.text
    );
    assert_eq!(endpoint_count(&strict), 0);
    register(&strict.client(&p), "https://hooks.example/ok", &["grant.revoked"]);
}

// ---------------------------------------------------------------------------------------------
// Who is told
// ---------------------------------------------------------------------------------------------

fn revocation_notifies_the_platform_and_bank_named_by_the_grant(backend: Backend) {
    let w = World::new(backend);
    let r = Receiver::start(Duration::ZERO);
    let other = new_key();
    let a = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": OTHER_PLATFORM, "name": "其他平台", "did": other.did.as_str(), "endpoint": "https://other.example"}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    let all = ["grant.revoked", "grant.suspended", "grant.resumed"];
    let (platform, bank, enterprise) = (w.client(&w.platform), w.client(&w.bank), w.client(&w.enterprise));
    register(&platform, &r.url("/platform"), &all);
    register(&bank, &r.url("/bank"), &all);
    register(&enterprise, &r.url("/enterprise"), &["grant.revoked"]);
    let other_id = register(&w.client(&other), &r.url("/other"), &all);

    let grant = w.grant();
    let a = w.change(&w.enterprise, "revoke", &grant);
    assert_eq!(a.status, 200, "{}", a.text);
    let log_index = a.body["logIndex"].as_u64().unwrap();
    wait_until("three deliveries", Duration::from_secs(30), || {
        ["/platform", "/bank", "/enterprise"]
            .iter()
            .all(|p| !r.deliveries(p).is_empty())
    });
    for (path, uscc) in [
        ("/platform", PLATFORM),
        ("/bank", BANK),
        ("/enterprise", ENTERPRISE),
    ] {
        let d = &r.deliveries(path)[0];
        let v = verify(d, r.port, &w.node.did).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(
            v.keyid,
            format!("{}#{}", w.node.did, &w.node.did["did:key:".len()..])
        );
        let p = d.payload();
        assert_eq!(p["type"], "grant.revoked");
        assert_eq!(p["recipient"], uscc);
        assert_eq!(p["id"].as_str(), d.header("consentry-event-id"));
        assert_eq!(d.header("consentry-event-type"), Some("grant.revoked"));
        assert_eq!(d.seq(), 1);
        assert_eq!(p["data"]["grant"], grant.as_str());
        assert_eq!(p["data"]["state"], "revoked");
        assert_eq!(p["data"]["previousState"], "active");
        assert_eq!(p["data"]["logIndex"], log_index);
        assert!(p["data"]["message"].as_str().unwrap().contains(&grant));
    }
    // The in-app inbox too, for each of them; the platform the grant does not name hears nothing.
    for c in [&platform, &bank, &enterprise] {
        let n = c.get("/v1/notices");
        let found = n.body["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "grant-revoked" && x["body"]["grant"] == grant.as_str());
        assert!(found, "{}", n.text);
    }
    // The outbox is written in the event's own transaction: with nothing queued for the other
    // platform's endpoint when the revocation is answered, nothing can reach it later.
    assert_eq!(
        history(&w.client(&other), &other_id).body["deliveries"],
        json!([])
    );
    assert!(r.deliveries("/other").is_empty());
    assert_eq!(w.client(&other).get("/v1/notices").body["notices"], json!([]));

    // Removing the platform suspends its grants: the enterprise, the platform and the bank are told.
    let second = w.grant();
    let a = w.node.operator().post(
        &format!("/v1/admin/participants/platform/{PLATFORM}/state"),
        &json!({"state": "removed"}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    wait_until("cascade deliveries", Duration::from_secs(30), || {
        r.deliveries("/platform").len() >= 2 && r.deliveries("/bank").len() >= 2
    });
    for path in ["/platform", "/bank"] {
        let d = &r.deliveries(path)[1];
        verify(d, r.port, &w.node.did).unwrap();
        assert_eq!(d.seq(), 2);
        let p = d.payload();
        assert_eq!(p["type"], "grant.suspended");
        assert_eq!(p["data"]["grant"], second.as_str());
        assert_eq!(p["data"]["platform"], PLATFORM);
        assert!(p["data"]["message"].as_str().unwrap().contains("removed"));
    }
    // The enterprise did not subscribe to grant.suspended: its inbox has it, its endpoint does not.
    let n = enterprise.get("/v1/notices");
    let notice = n.body["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "grant-suspended")
        .cloned()
        .unwrap_or_else(|| panic!("{}", n.text));
    assert_eq!(notice["body"]["grant"], second.as_str());
    assert!(notice["body"]["message"].as_str().unwrap().contains("被移除"));
    assert_eq!(r.deliveries("/enterprise").len(), 1);
}

#[test]
fn revocation_notifies_the_platform_and_bank_named_by_the_grant_sqlite() {
    revocation_notifies_the_platform_and_bank_named_by_the_grant(Backend::Sqlite);
}

#[test]
fn revocation_notifies_the_platform_and_bank_named_by_the_grant_postgres() {
    revocation_notifies_the_platform_and_bank_named_by_the_grant(Backend::Postgres);
}

// ---------------------------------------------------------------------------------------------
// Durability and order
// ---------------------------------------------------------------------------------------------

fn receiver_down_gets_everything_in_order_after_a_restart(backend: Backend) {
    let w = World::new(backend);
    let mut r = Receiver::start(Duration::ZERO);
    let all = ["grant.revoked", "grant.suspended", "grant.resumed"];
    let platform_ep = register(&w.client(&w.platform), &r.url("/platform"), &all);
    register(&w.client(&w.bank), &r.url("/bank"), &all);
    register(
        &w.client(&w.enterprise),
        &r.url("/enterprise"),
        &[
            "grant.revoked",
            "grant.suspended",
            "grant.resumed",
            "data.released",
        ],
    );
    let grants: Vec<String> = (0..3).map(|_| w.grant()).collect();
    let ok = |a: Answer| assert_eq!(a.status, 200, "{}", a.text);
    ok(w.change(&w.enterprise, "suspend", &grants[0]));
    wait_until("the first event", Duration::from_secs(30), || {
        r.deliveries("/platform").len() == 1
    });

    // Down: everything from here on waits, with attempts recorded.
    r.down();
    ok(w.change(&w.enterprise, "resume", &grants[0]));
    ok(w.change(&w.enterprise, "suspend", &grants[1]));
    ok(w.release(json!({"enterprise": ENTERPRISE, "grant": grants[2], "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK})));
    ok(w.change(&w.enterprise, "revoke", &grants[2]));
    let platform = w.client(&w.platform);
    wait_until("a failed attempt recorded", Duration::from_secs(30), || {
        let h = history(&platform, &platform_ep);
        let oldest_pending = h.body["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .rfind(|d| d["state"] == "pending")
            .cloned()
            .unwrap_or_default();
        oldest_pending["attempts"].as_i64().unwrap_or(0) >= 2
            && oldest_pending["lastError"].is_string()
            && oldest_pending["nextAttemptAt"].is_string()
    });
    assert_eq!(r.deliveries("/platform").len(), 1);

    // Restart the node on the same database; one more event; then the receiver comes back.
    let w = World {
        node: w.node.restart(),
        ..w
    };
    ok(w.change(&w.enterprise, "revoke", &grants[0]));
    std::thread::sleep(Duration::from_millis(300));
    r.up();
    let expected = [
        "grant.suspended",
        "grant.resumed",
        "grant.suspended",
        "grant.revoked",
        "grant.revoked",
    ];
    wait_until(
        "every delivery after the restart",
        Duration::from_secs(60),
        || {
            ["/platform", "/bank"]
                .iter()
                .all(|p| arrivals(&r, p).len() == expected.len())
                && arrivals(&r, "/enterprise").len() == expected.len() + 1
        },
    );
    for path in ["/platform", "/bank", "/enterprise"] {
        let got = r.deliveries(path);
        // Never n + 1 before n: the sequence numbers arrive as 1, 2, 3, … (a repeat of the last
        // one would be a tolerated duplicate; none is expected here).
        let seqs: Vec<i64> = got.iter().map(Delivery::seq).collect();
        let n = i64::try_from(got.len()).unwrap();
        assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "{path}");
        for d in &got {
            verify(d, r.port, &w.node.did).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        let types: Vec<String> = got
            .iter()
            .map(|d| d.payload()["type"].as_str().unwrap().to_owned())
            .filter(|t| t != "data.released")
            .collect();
        assert_eq!(types, expected, "{path}");
        let grants_seen: Vec<Value> = got
            .iter()
            .filter(|d| d.payload()["type"] != "data.released")
            .map(|d| d.payload()["data"]["grant"].clone())
            .collect();
        assert_eq!(
            grants_seen,
            [&grants[0], &grants[0], &grants[1], &grants[2], &grants[0]]
                .iter()
                .map(|g| json!(g))
                .collect::<Vec<_>>(),
            "{path}"
        );
    }
    // The release came between the suspension of grant 1 and the revocation of grant 2.
    let ent: Vec<String> = r
        .deliveries("/enterprise")
        .iter()
        .map(|d| d.payload()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ent[3], "data.released", "{ent:?}");
    // The history says so too (asked of the restarted node): every delivery delivered, after more
    // than one attempt for some.
    let platform = w.client(&w.platform);
    let h = history(&platform, &platform_ep);
    let rows = h.body["deliveries"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    assert!(
        rows.iter()
            .all(|d| d["state"] == "delivered" && d["deliveredAt"].is_string())
    );
    assert!(
        rows.iter().any(|d| d["attempts"].as_i64().unwrap() > 1),
        "{}",
        h.text
    );
}

#[test]
fn receiver_down_gets_everything_in_order_after_a_restart_sqlite() {
    receiver_down_gets_everything_in_order_after_a_restart(Backend::Sqlite);
}

#[test]
fn receiver_down_gets_everything_in_order_after_a_restart_postgres() {
    receiver_down_gets_everything_in_order_after_a_restart(Backend::Postgres);
}

fn objection_event(node: &TestNode, to: &str, n: usize) {
    let to = to.to_owned();
    node.node
        .committer
        .run_blocking(move |tx| {
            let now = tx.now();
            notify::enqueue(tx.conn, &to, notify::OBJECTION_UPDATED, json!({"n": n}), now)
        })
        .unwrap();
}

/// Rotation moves the pending deliveries, in order, to the new URL; deletion cancels them.
#[test]
fn rotation_keeps_order_and_pending_deliveries_and_delete_cancels() {
    let w = World::new(Backend::Sqlite);
    let mut old = Receiver::start(Duration::ZERO);
    old.down();
    let new = Receiver::start(Duration::ZERO);
    let platform = w.client(&w.platform);
    let id = register(&platform, &old.url("/old"), &["objection.updated"]);
    for n in 1..=3 {
        objection_event(&w.node, PLATFORM, n);
    }
    wait_until("attempts at the old URL", Duration::from_secs(30), || {
        history(&platform, &id).body["deliveries"][2]["attempts"]
            .as_i64()
            .unwrap_or(0)
            >= 1
    });
    let a = platform.post(
        &format!("/v1/webhooks/{id}/rotate"),
        &json!({"url": new.url("/new"), "events": ["objection.updated", "grant.revoked"]}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["id"], id.as_str());
    assert_eq!(a.body["pending"], 3);
    objection_event(&w.node, PLATFORM, 4);
    wait_until("four deliveries at the new URL", Duration::from_secs(30), || {
        new.deliveries("/new").len() == 4
    });
    let got = new.deliveries("/new");
    assert_eq!(got.iter().map(Delivery::seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let ns: Vec<Value> = got.iter().map(|d| d.payload()["data"]["n"].clone()).collect();
    assert_eq!(ns, [json!(1), json!(2), json!(3), json!(4)]);
    for d in &got {
        verify(d, new.port, &w.node.did).unwrap();
        assert_eq!(d.payload()["type"], "objection.updated");
    }

    // Deletion: pending deliveries are cancelled and nothing more is sent.
    let mut gone = Receiver::start(Duration::ZERO);
    gone.down();
    let a = platform.post(
        &format!("/v1/webhooks/{id}/rotate"),
        &json!({"url": gone.url("/gone"), "events": ["objection.updated"]}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    objection_event(&w.node, PLATFORM, 5);
    objection_event(&w.node, PLATFORM, 6);
    let a = platform.post(&format!("/v1/webhooks/{id}/delete"), &json!({}));
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["cancelled"], 2);
    gone.up();
    objection_event(&w.node, PLATFORM, 7);
    // The worker only sends rows still pending: with none left in the outbox (5 and 6 cancelled, 7
    // never queued for a deleted endpoint), nothing can reach either URL any more.
    assert_eq!(pending_deliveries(&w.node), 0);
    assert!(gone.deliveries("/gone").is_empty());
    assert_eq!(new.deliveries("/new").len(), 4);
}

/// `data.released` goes only to an enterprise that subscribed, one per release, with the log
/// index and data digest of the release; it adds no inbox notice.
#[test]
fn data_released_reaches_only_subscribed_enterprises() {
    let w = World::new(Backend::Sqlite);
    let r = Receiver::start(Duration::ZERO);
    let enterprise = w.client(&w.enterprise);
    let grant = w.grant();
    let release = || {
        let a = w.release(json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK}));
        assert_eq!(a.status, 200, "{}", a.text);
        a
    };
    // Subscribed to grant events only: releases are not queued.
    let id = register(&enterprise, &r.url("/e"), &["grant.revoked"]);
    release();
    assert!(!w.node.node.notify.wants_released(ENTERPRISE));
    let a = enterprise.post(
        &format!("/v1/webhooks/{id}/rotate"),
        &json!({"url": r.url("/e"), "events": ["grant.revoked", "data.released"]}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(w.node.node.notify.wants_released(ENTERPRISE));
    let a = release();
    wait_until("the release notification", Duration::from_secs(30), || {
        r.deliveries("/e").len() == 1
    });
    let d = &r.deliveries("/e")[0];
    verify(d, r.port, &w.node.did).unwrap();
    assert_eq!(d.seq(), 1);
    let p = d.payload();
    assert_eq!(p["type"], "data.released");
    assert_eq!(p["recipient"], ENTERPRISE);
    assert_eq!(p["data"]["logIndex"], a.body["logIndex"]);
    assert_eq!(p["data"]["dataSha256"], a.body["dataSha256"]);
    assert_eq!(p["data"]["caller"], PLATFORM);
    assert_eq!(p["data"]["bank"], BANK);
    assert_eq!(p["data"]["categories"], json!(["TAX-03"]));
    let notices = enterprise.get("/v1/notices");
    assert!(!notices.text.contains("data-released"), "{}", notices.text);
    // A refused release is not a release.
    let refused = w.release(json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "raw", "purpose": "marketing"}));
    assert_eq!(refused.status, 403, "{}", refused.text);
    // Nothing was queued by the refusal (the outbox is written in the release's own transaction),
    // so nothing more can arrive.
    assert_eq!(
        history(&enterprise, &id).body["deliveries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(r.deliveries("/e").len(), 1);
}

/// Two node processes on one PostgreSQL database deliver the same endpoint: leases keep it to one
/// request at a time, every event exactly once (the receiver answers promptly), in order.
#[test]
fn two_processes_on_one_postgres_database_deliver_in_order_one_at_a_time() {
    let w = World::new(Backend::Postgres);
    let second_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        w.node.dir.path().join("node.key.json"),
        second_dir.path().join("node.key.json"),
    )
    .unwrap();
    let second = TestNode::start_with(second_dir, w.node.database_url.clone(), None);
    let r = Receiver::start(Duration::from_millis(25));
    register(&w.client(&w.platform), &r.url("/p"), &["objection.updated"]);
    register(&w.client(&w.bank), &r.url("/b"), &["objection.updated"]);
    let total = 40;
    for n in 1..=total {
        let node = if n % 2 == 0 { &w.node } else { &second };
        objection_event(node, PLATFORM, n);
        objection_event(node, BANK, n);
    }
    wait_until("every delivery", Duration::from_secs(60), || {
        r.deliveries("/p").len() >= total && r.deliveries("/b").len() >= total
    });
    std::thread::sleep(Duration::from_millis(500));
    for path in ["/p", "/b"] {
        let got = r.deliveries(path);
        assert_eq!(got.len(), total, "{path}: no duplicates");
        let seqs: Vec<i64> = got.iter().map(Delivery::seq).collect();
        assert_eq!(
            seqs,
            (1..=i64::try_from(total).unwrap()).collect::<Vec<_>>(),
            "{path}"
        );
        let ns: Vec<Value> = got.iter().map(|d| d.payload()["data"]["n"].clone()).collect();
        assert_eq!(ns, (1..=total).map(|n| json!(n)).collect::<Vec<_>>());
        assert_eq!(r.max_inflight(path), 1, "{path}: never two requests at once");
    }
    drop(second);
}

// ---------------------------------------------------------------------------------------------
// The independent verifier
// ---------------------------------------------------------------------------------------------

fn py_verify(node_did: &str, captured: &Value) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("captured.json");
    std::fs::write(&f, captured.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .arg(format!(
            "{}/tests/interop/webhook_receiver.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .args(["verify", "--node-did", node_did])
        .arg(&f)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => (true, text),
        Some(1) => (false, text),
        other => panic!("webhook_receiver.py verify exited {other:?}: {text}"),
    }
}

fn set_header(captured: &mut Value, name: &str, value: &str) {
    let headers = captured["headers"].as_array_mut().unwrap();
    let h = headers
        .iter_mut()
        .find(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .unwrap();
    h[1] = json!(value);
}

fn header_of(captured: &Value, name: &str) -> String {
    captured["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|h| h[1].as_str().unwrap().to_owned())
        .unwrap()
}

/// Re-signs a captured delivery with `key`, claiming `keyid`, over the same components.
fn resign(captured: &Value, key: &SecretKey, keyid: &str) -> Value {
    let mut req = Request {
        method: "POST".into(),
        target_uri: captured["url"].as_str().unwrap().into(),
        headers: captured["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h[0].as_str().unwrap().into(), h[1].as_str().unwrap().into()))
            .collect(),
        body: STANDARD.decode(captured["body"].as_str().unwrap()).unwrap(),
    };
    let params = SignatureParams {
        created: Some(unix_now()),
        expires: Some(unix_now() + 300),
        nonce: Some("00112233445566778899aabbccddeeff".into()),
        keyid: Some(keyid.into()),
        alg: Some("ed25519".into()),
        tag: Some(notify::SIGNATURE_TAG.into()),
    };
    httpsig::sign(&mut req, notify::SIGNATURE_LABEL, &notify::COVERED, &params, key).unwrap();
    let mut out = captured.clone();
    out["headers"] = req
        .headers
        .iter()
        .map(|(k, v)| json!([k, v]))
        .collect::<Vec<_>>()
        .into();
    out
}

/// Real deliveries verify in the Python receiver (`http-message-signatures` + `cryptography`,
/// resolving the node's did:key itself); a changed body, a changed covered header and signatures by
/// other keys do not; a changed header the signature does not cover does.
#[test]
fn python_receiver_verifies_real_deliveries_and_rejects_tampered_ones() {
    python_deps();
    let w = World::new(Backend::Sqlite);
    let mut py = PyReceiver::start(&w.node.did);
    let port = py.port;
    let url = format!("http://127.0.0.1:{port}/hooks/consentry?tenant=a");
    register(
        &w.client(&w.platform),
        &url,
        &["grant.revoked", "objection.updated"],
    );
    let grant = w.grant();
    assert_eq!(w.change(&w.enterprise, "revoke", &grant).status, 200);
    objection_event(&w.node, PLATFORM, 1);
    wait_until("two deliveries in Python", Duration::from_secs(30), || {
        py.lines().len() >= 2
    });
    py.stop();
    let got = py.lines();
    for l in &got {
        assert_eq!(l["verified"], true, "Python refused a real delivery: {l}");
    }
    assert_eq!(got[0]["sequence"], "1");
    assert_eq!(got[1]["sequence"], "2");

    let captured = got[0].clone();
    let (ok, text) = py_verify(&w.node.did, &captured);
    assert!(ok, "untouched: {text}");

    let body = String::from_utf8(STANDARD.decode(captured["body"].as_str().unwrap()).unwrap()).unwrap();
    assert!(body.contains("\"revoked\""));
    let changed_body = body.replacen("\"revoked\"", "\"active!\"", 1);
    let mut t = captured.clone();
    t["body"] = json!(STANDARD.encode(&changed_body));
    let (ok, text) = py_verify(&w.node.did, &t);
    assert!(!ok && text.contains("Content-Digest"), "body changed: {text}");

    set_header(
        &mut t,
        "Content-Digest",
        &httpsig::content_digest(changed_body.as_bytes()),
    );
    let (ok, text) = py_verify(&w.node.did, &t);
    assert!(!ok, "body and digest changed: {text}");

    let mut t = captured.clone();
    set_header(&mut t, "Consentry-Event-Type", "grant.resumed");
    let (ok, text) = py_verify(&w.node.did, &t);
    assert!(!ok, "covered header changed: {text}");

    let mut t = captured.clone();
    t["url"] = json!(url.replace("tenant=a", "tenant=b"));
    let (ok, text) = py_verify(&w.node.did, &t);
    assert!(!ok, "target URI changed: {text}");

    let node_vm = format!("{}#{}", w.node.did, &w.node.did["did:key:".len()..]);
    let intruder = new_key();
    let t = resign(&captured, &intruder.secret, &node_vm);
    let (ok, text) = py_verify(&w.node.did, &t);
    assert!(!ok, "signed by another key under the node's keyid: {text}");
    let own_vm = format!(
        "{}#{}",
        intruder.did.as_str(),
        &intruder.did.as_str()["did:key:".len()..]
    );
    let t = resign(&captured, &intruder.secret, &own_vm);
    let (ok, text) = py_verify(&w.node.did, &t);
    assert!(!ok, "signed by another did:key: {text}");
    // The same re-signing with the node's own key verifies: the checks above fail for the key alone.
    let t = resign(&captured, &w.node.node_key.secret, &node_vm);
    let (ok, text) = py_verify(&w.node.did, &t);
    assert!(ok, "re-signed by the node: {text}");

    let mut t = captured.clone();
    set_header(&mut t, "User-Agent", "something else");
    let (ok, text) = py_verify(&w.node.did, &t);
    assert!(ok, "an uncovered header may change: {text}");
    assert_ne!(header_of(&captured, "User-Agent"), "something else");
}

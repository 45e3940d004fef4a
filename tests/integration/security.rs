//! The access-control findings of issue #9, each reproduced as seen from outside, and the
//! hostile-input suite: malformed and lying requests, every authenticated route with a bad
//! assertion, wrong roles, suspended callers and cross-tenant reads. Every case asserts the status,
//! the problem code, and that nothing was written that the spec does not say is logged
//! (spec/security.md names the test behind each control).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consentry::identity::KeyFile;
use serde_json::json;

use crate::common::server::{Answer, Backend, Client, TestNode, answer, get_public, new_key};
use crate::portal::{send, sign_in};
use crate::service::{
    BANK, ENTERPRISE, OTHER_ENTERPRISE, OTHER_PLATFORM, PLATFORM, REGULATOR, World, draft, now,
    register_enterprise,
};

const NODE_USCC: &str = consentry::node::start::DEFAULT_NODE_USCC;

/// A valid code no participant of the test world holds.
fn fresh_uscc(n: usize) -> String {
    consentry::ids::Uscc::complete(&format!("91330100BK{n:06}"))
        .unwrap()
        .as_str()
        .to_owned()
}

/// Counts of cases by class, printed at the end of a test so CI shows what ran.
#[derive(Default)]
struct Tally(BTreeMap<&'static str, usize>);

impl Tally {
    fn add(&mut self, class: &'static str) {
        *self.0.entry(class).or_default() += 1;
    }
    fn print(&self, suite: &str) {
        let total: usize = self.0.values().sum();
        println!("{suite}: {total} cases");
        for (class, n) in &self.0 {
            println!("  {class}: {n}");
        }
    }
}

/// Sends `method path` with raw headers and body; the body may be any bytes.
fn raw(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Answer {
    let mut r = crate::common::server::http().request(method, &format!("{base}{path}"));
    for (k, v) in headers {
        r = r.set(k, v);
    }
    answer(match body {
        Some(b) => r.send_bytes(b),
        None => r.call(),
    })
}

/// Declares a body over the limit and sends none of it: the answer must come from the declaration
/// alone (the status and the raw answer text).
fn declare_oversized(base: &str, path: &str, token: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        consentry::http::MAX_BODY + 10
    )
    .unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn log_size(node: &TestNode) -> u64 {
    get_public(&format!("{}/v1/node", node.url)).body["logSize"]
        .as_u64()
        .unwrap()
}

fn participants(node: &TestNode) -> usize {
    node.node
        .store
        .run(|c| consentry::storage::participants::list(c, None, None, None))
        .unwrap()
        .len()
}

fn assert_problem(r: &Answer, status: u16, code: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text);
    assert_eq!(r.problem(), code, "{what}: {}", r.text);
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/problem+json")),
        "{what}: {:?}",
        r.headers
    );
}

// ------------------------------------------------------------- finding 1: a USCC names one participant

/// Every way of registering a participant, tried with the code of every participant of every role:
/// each is refused with 409 and writes nothing. Before the fix, a platform registering another
/// participant's code as its bank got that participant's grants, webhooks and notices.
fn uscc_reuse_across_roles(backend: Backend) {
    let w = World::new(backend);
    let other_platform = new_key();
    let r = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": OTHER_PLATFORM, "name": "另一平台", "did": other_platform.did.as_str(), "endpoint": "http://b.example"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let pending = new_key();
    let c = w.client(&pending);
    let token = c.signed_request("register", json!({"uscc": OTHER_ENTERPRISE, "name": "待审企业"}));
    assert_eq!(c.post_raw("/v1/registrations", &token, false).status, 202);

    // The victim platform's resources, which the takeover exposed.
    let grant = w.grant();
    let hook = w.client(&w.platform).post(
        "/v1/webhooks",
        &json!({"url": "http://127.0.0.1:9/hook", "events": ["grant.revoked"]}),
    );
    assert_eq!(hook.status, 201, "{}", hook.text);

    let held = [
        ("node", NODE_USCC),
        ("platform", PLATFORM),
        ("other platform", OTHER_PLATFORM),
        ("bank", BANK),
        ("regulator", REGULATOR),
        ("enterprise", ENTERPRISE),
        ("pending enterprise", OTHER_ENTERPRISE),
    ];
    let mut tally = Tally::default();
    for (holder, code) in held {
        let (size, count) = (log_size(&w.node), participants(&w.node));
        let attacker = new_key();
        let did = attacker.did.as_str();
        // A platform registers the code as a bank (the takeover of the finding).
        let r = w
            .client(&w.platform)
            .post("/v1/banks", &json!({"uscc": code, "name": "x", "did": did}));
        assert_problem(&r, 409, "conflict", &format!("bank with the {holder}'s code"));
        tally.add("uscc reuse: platform registers a bank");
        // The other platform too (the code's own platform is no exception).
        let r = w
            .client(&other_platform)
            .post("/v1/banks", &json!({"uscc": code, "name": "x", "did": did}));
        assert_problem(
            &r,
            409,
            "conflict",
            &format!("bank (other platform) with the {holder}'s code"),
        );
        tally.add("uscc reuse: platform registers a bank");
        // The operator admits a platform, adds a regulator.
        let r = w.node.operator().post(
            "/v1/admin/platforms",
            &json!({"uscc": code, "name": "x", "did": did, "endpoint": "http://x.example"}),
        );
        assert_problem(&r, 409, "conflict", &format!("platform with the {holder}'s code"));
        tally.add("uscc reuse: operator admits a platform");
        let r = w.node.operator().post(
            "/v1/admin/regulators",
            &json!({"uscc": code, "name": "x", "did": did}),
        );
        assert_problem(
            &r,
            409,
            "conflict",
            &format!("regulator with the {holder}'s code"),
        );
        tally.add("uscc reuse: operator adds a regulator");
        // An enterprise registers with the code.
        let c = w.client(&attacker);
        let token = c.signed_request("register", json!({"uscc": code, "name": "x"}));
        let r = c.post_raw("/v1/registrations", &token, false);
        assert_problem(
            &r,
            409,
            "conflict",
            &format!("enterprise with the {holder}'s code"),
        );
        tally.add("uscc reuse: enterprise registers");
        assert_eq!(log_size(&w.node), size, "nothing logged for the {holder}'s code");
        assert_eq!(
            participants(&w.node),
            count,
            "no participant added for the {holder}'s code"
        );
        // The attacker's key reaches nothing of the holder's.
        let a = w.client(&attacker);
        for path in ["/v1/grants", "/v1/webhooks", "/v1/notices", "/v1/participants/me"] {
            assert_problem(&a.get(path), 401, "unauthenticated", path);
            tally.add("uscc reuse: attacker key reads");
        }
        assert_problem(
            &a.get(&format!("/v1/grants/{grant}")),
            401,
            "unauthenticated",
            "grant",
        );
    }
    // The database refuses a second participant with a code even if the code path forgot to check.
    let dup = w.node.node.store.run(|c| {
        let t = 1;
        consentry::storage::participants::insert(
            c,
            &consentry::storage::participants::NewParticipant {
                uscc: PLATFORM,
                role: consentry::policy::Role::Bank,
                name: "x",
                state: consentry::policy::ParticipantState::Active,
                platform_uscc: Some(PLATFORM),
                endpoint: None,
                evidence: None,
                created_at: t,
                updated_at: t,
            },
            new_key().did.as_str(),
        )
    });
    assert!(
        dup.is_err(),
        "the unique index must refuse a second row for a code"
    );
    tally.add("uscc reuse: database constraint");

    // Registering the same bank again, with the same key, by the same platform: idempotent (200);
    // with another key, or by another platform: 409.
    let r = w.client(&w.platform).post(
        "/v1/banks",
        &json!({"uscc": BANK, "name": "示例银行", "did": w.bank.did.as_str()}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = w.client(&w.platform).post(
        "/v1/banks",
        &json!({"uscc": BANK, "name": "示例银行", "did": new_key().did.as_str()}),
    );
    assert_problem(&r, 409, "conflict", "same bank, another key");
    let r = w.client(&other_platform).post(
        "/v1/banks",
        &json!({"uscc": BANK, "name": "示例银行", "did": w.bank.did.as_str()}),
    );
    assert_problem(&r, 409, "conflict", "same bank, other platform");
    tally.print("uscc reuse");
}

#[test]
fn uscc_names_one_participant_sqlite() {
    uscc_reuse_across_roles(Backend::Sqlite);
}

#[test]
fn uscc_names_one_participant_postgres() {
    uscc_reuse_across_roles(Backend::Postgres);
}

// ------------------------------------------------------ finding 2: sessions end with their key

fn rotate(w: &World, old: &KeyFile) -> KeyFile {
    let new = new_key();
    let proof = w.client(&new).signed_request("accept-key", json!({}));
    let c = w.client(old);
    let token = c.signed_request("rotate-key", json!({"newKey": new.did.as_str(), "proof": proof}));
    let r = c.post_raw("/v1/participants/me/keys", &token, false);
    assert_eq!(r.status, 200, "{}", r.text);
    new
}

#[test]
fn portal_sessions_end_with_the_key_and_the_admission() {
    let w = World::new(Backend::Sqlite);
    let base = w.node.url.clone();
    // Rotation: the session opened with K1 ends at once, everywhere it was used.
    let s = sign_in(&base, &w.enterprise);
    for path in ["/portal/api/data", "/portal/api/history", "/portal/api/grants"] {
        assert_eq!(s.get(path).status, 200, "{path} before rotation");
    }
    let k2 = rotate(&w, &w.enterprise);
    for path in [
        "/portal/api/me",
        "/portal/api/data",
        "/portal/api/history",
        "/portal/api/grants",
    ] {
        let r = s.get(path);
        assert_eq!(r.status, 401, "{path} after rotation: {:?}", r.body);
    }
    let r = s.post("/portal/api/slots", "{}");
    assert_eq!(r.status, 401, "slot after rotation: {:?}", r.body);
    // K1 cannot open a new one; K2 can.
    let again = send(
        "POST",
        &format!("{base}/portal/api/session"),
        None,
        None,
        Some(&crate::portal::signed_challenge(&base, &w.enterprise)),
    );
    assert_eq!(again.status, 401);
    let s2 = sign_in(&base, &k2);
    assert_eq!(s2.get("/portal/api/data").status, 200);

    // Recovery by the operator ends the K2 session too.
    let k3 = new_key();
    let pop = w.client(&k3).signed_request("accept-key", json!({}));
    let r = w.node.operator().post_raw(
        &format!("/v1/admin/participants/enterprise/{ENTERPRISE}/recover-key"),
        &pop,
        true,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s2.get("/portal/api/data").status, 401, "after recovery");

    // Suspension and removal end a platform's sessions.
    let p = sign_in(&base, &w.platform);
    assert_eq!(p.get("/portal/api/me").status, 200);
    let r = w.node.operator().post(
        &format!("/v1/admin/participants/platform/{PLATFORM}/state"),
        &json!({"state": "suspended"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(p.get("/portal/api/me").status, 401, "after suspension");
    let r = send(
        "POST",
        &format!("{base}/portal/api/session"),
        None,
        None,
        Some(&crate::portal::signed_challenge(&base, &w.platform)),
    );
    assert_eq!(r.status, 401, "a suspended participant cannot sign in");
    let ended: i64 = w
        .node
        .node
        .store
        .run(|c| {
            use consentry::storage::schema::portal_sessions as ps;
            use diesel::prelude::*;
            Ok(ps::table
                .filter(ps::ended_at.is_not_null())
                .count()
                .get_result(c)?)
        })
        .unwrap();
    assert!(
        ended >= 3,
        "rotation, recovery and suspension ended the sessions in storage ({ended})"
    );
}

// ------------------------------------- finding 3: a spent assertion stays spent across a restart

#[test]
fn assertion_refused_after_authentication_stays_spent_after_restart() {
    let w = World::new(Backend::Sqlite);
    let token = consentry::node::auth::make(&w.platform, &w.node.did, "POST", "/v1/banks", now()).unwrap();
    let post = |node: &TestNode, body: &str| {
        raw(
            &node.url,
            "POST",
            "/v1/banks",
            &[
                ("authorization", &bearer(&token)),
                ("content-type", "application/json"),
            ],
            Some(body.as_bytes()),
        )
    };
    let r = post(&w.node, r#"{"x":1}"#);
    assert_problem(&r, 400, "invalid-body", "bad body");
    assert_problem(&post(&w.node, r#"{"x":1}"#), 401, "unauthenticated", "replay");
    // The process forgets what it saw; the database must not.
    let World {
        node,
        platform,
        bank,
        regulator,
        enterprise,
    } = w;
    let node = node.restart();
    let good = json!({"uscc": fresh_uscc(99), "name": "银行二", "did": new_key().did.as_str()}).to_string();
    let r = post(&node, &good);
    assert_problem(&r, 401, "unauthenticated", "replay after restart");
    let _ = (platform, bank, regulator, enterprise);
}

// ------------------------------------------ finding 4: a refusal does not disclose another's grant

#[test]
fn refusal_in_history_does_not_name_another_enterprises_grant() {
    let w = World::new(Backend::Sqlite);
    let other = new_key();
    register_enterprise(&w.node, &other, OTHER_ENTERPRISE, "杭州测试贸易有限公司");
    // The other enterprise grants the platform access to its own data.
    let slot = w.client(&other).post("/v1/status/slots", &json!({}));
    assert_eq!(slot.status, 201, "{}", slot.text);
    let mut d = draft(
        &other,
        slot.body["statusList"].as_str().unwrap(),
        slot.body["statusIndex"].as_u64().unwrap(),
    );
    d.terms.enterprise.uscc = OTHER_ENTERPRISE.into();
    d.terms.enterprise.name = "杭州测试贸易有限公司".into();
    let signed =
        consentry::credential::data_integrity::create_proof(&d.to_credential(), &other, now()).unwrap();
    let r = w
        .client(&other)
        .post_raw("/v1/grants", &serde_json::to_string(&signed).unwrap(), false);
    assert_eq!(r.status, 201, "{}", r.text);
    let other_grant = d.id.as_str().to_owned();

    // The platform asks for the first enterprise's data citing the other's grant: refused.
    let r = w.release(json!({"enterprise": ENTERPRISE, "grant": other_grant, "categories": ["TAX-03"], "granularity": "raw", "purpose": "credit-approval"}));
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(
        r.reasons().contains(&"grant-other-enterprise".to_owned()),
        "{}",
        r.text
    );
    assert!(!r.text.contains(OTHER_ENTERPRISE), "{}", r.text);

    // The first enterprise's history shows the refusal, without the other's code, grant or digest.
    let digest =
        consentry::crypto::Sha256Digest::of(serde_json::to_string(&signed).unwrap().as_bytes()).to_hex();
    let hist = w.client(&w.enterprise).get("/v1/log/entries");
    assert_eq!(hist.status, 200, "{}", hist.text);
    assert!(
        hist.text.contains("grant-other-enterprise"),
        "the refusal is in the history: {}",
        hist.text
    );
    for secret in [OTHER_ENTERPRISE, other_grant.as_str(), digest.as_str()] {
        assert!(
            !hist.text.contains(secret),
            "history discloses {secret}: {}",
            hist.text
        );
    }
    let s = sign_in(&w.node.url, &w.enterprise);
    let page = s.get("/portal/api/history");
    assert_eq!(page.status, 200);
    let page = page.body.to_string();
    for secret in [OTHER_ENTERPRISE, other_grant.as_str(), digest.as_str()] {
        assert!(!page.contains(secret), "portal history discloses {secret}");
    }
}

// ----------------------------------------------------------------- finding 5: protocol details

#[test]
fn protocol_details() {
    let w = World::new(Backend::Sqlite);
    let base = w.node.url.clone();
    let mut tally = Tally::default();

    // 405 with Allow on known paths, 404 elsewhere; problem+json either way.
    for (method, path, allow) in [
        ("PUT", "/v1/grants", "GET, POST"),
        (
            "DELETE",
            "/v1/grants/urn:uuid:0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10",
            "GET",
        ),
        ("PATCH", "/v1/releases", "POST"),
        ("GET", "/v1/releases", "POST"),
        ("POST", "/v1/log/checkpoint", "GET"),
        ("DELETE", "/v1/webhooks/abc", "GET"),
        ("POST", "/healthz", "GET"),
        ("POST", "/portal/api/me", "GET"),
        ("PUT", "/portal/api/grants", "GET, POST"),
    ] {
        let r = raw(&base, method, path, &[], None);
        assert_problem(&r, 405, "method-not-allowed", &format!("{method} {path}"));
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
        tally.add("405 with Allow");
    }
    for path in ["/v1/nothing", "/v1/grants/a/b/c", "/v2/grants"] {
        assert_problem(&raw(&base, "GET", path, &[], None), 404, "not-found", path);
        tally.add("404");
    }

    // Content-Type: a form is refused before anything is read or written.
    let size = log_size(&w.node);
    let token = consentry::node::auth::make(&w.platform, &w.node.did, "POST", "/v1/banks", now()).unwrap();
    for ctype in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/xml",
        "application/octet-stream",
    ] {
        let r = raw(
            &base,
            "POST",
            "/v1/banks",
            &[("authorization", &bearer(&token)), ("content-type", ctype)],
            Some(
                json!({"uscc": fresh_uscc(98), "name": "x", "did": new_key().did.as_str()})
                    .to_string()
                    .as_bytes(),
            ),
        );
        assert!(r.status == 400 || r.status == 401, "{ctype}: {}", r.text);
        if r.status == 400 {
            assert_eq!(r.problem(), "content-type", "{ctype}");
        }
        tally.add("content-type refused");
    }
    let fresh =
        |m: &str, p: &str| consentry::node::auth::make(&w.platform, &w.node.did, m, p, now()).unwrap();
    let r = raw(
        &base,
        "POST",
        "/v1/banks",
        &[
            ("authorization", &bearer(&fresh("POST", "/v1/banks"))),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        Some(b"uscc=1"),
    );
    assert_problem(&r, 400, "content-type", "form body");
    assert_eq!(
        log_size(&w.node),
        size,
        "nothing written for refused content types"
    );

    // Authentication comes before the query: 401 without an assertion, 400 with one.
    let path = "/v1/participants?state=a&state=b";
    assert_problem(
        &raw(&base, "GET", path, &[], None),
        401,
        "unauthenticated",
        "no assertion",
    );
    let r = raw(
        &base,
        "GET",
        path,
        &[("authorization", &bearer(&fresh("GET", path)))],
        None,
    );
    assert_problem(&r, 400, "invalid-query", "repeated parameter");
    for bad in [
        "-1~x",
        "1~x",
        "x~obj-0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10",
        "-5~obj-0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10",
    ] {
        let path = format!("/v1/objections?before={bad}");
        let r = w.client(&w.enterprise).get(&path);
        assert_problem(&r, 400, "invalid-query", &path);
        tally.add("bad cursor");
    }
    let ok = w
        .client(&w.enterprise)
        .get("/v1/objections?before=1700000000000~obj-0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10");
    assert_eq!(ok.status, 200, "{}", ok.text);

    // nosniff on every answer; no-store on the API and the portal's API.
    for r in [
        get_public(&format!("{base}/v1/node")),
        raw(&base, "GET", "/v1/grants", &[], None),
        w.client(&w.enterprise).get("/v1/grants"),
        raw(&base, "GET", "/portal/api/me", &[], None),
    ] {
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        tally.add("security headers");
    }
    let s = sign_in(&base, &w.enterprise);
    let me = crate::common::server::http()
        .get(&format!("{base}/portal/api/me"))
        .set("Cookie", &s.cookie)
        .call()
        .unwrap();
    assert_eq!(me.header("cache-control"), Some("no-store"));
    assert_eq!(me.header("x-content-type-options"), Some("nosniff"));
    tally.print("protocol details");
}

#[test]
fn admin_commands_do_not_fix_the_log_origin() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let records = dir.path().join("records.jsonl");
    std::fs::write(
        &records,
        r#"{"uscc":"91330100716105852F","category":"REG-01","date":"2020-05-01","provider":"SAMR","fields":{"name":"x","capital":1,"status":"存续"}}"#,
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let origin = || {
        let store = consentry::storage::Store::open(
            &format!("sqlite://{}", dir.path().join("consentry.sqlite3").display()),
            1,
        )
        .unwrap();
        consentry::node::identity::setting(&mut store.conn().unwrap(), consentry::node::identity::LOG_ORIGIN)
            .unwrap()
    };
    let (code, out) = run(&["admin", "--data-dir", data, "init"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(origin(), None, "init with the default URL fixed the origin");
    let (code, out) = run(&["admin", "--data-dir", data, "import", records.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        origin(),
        None,
        "an admin command with the default URL fixed the origin"
    );
    let (code, out) = run(&["admin", "--data-dir", data, "checkpoint"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("origin is not fixed"), "{out}");
    let (code, out) = run(&[
        "admin",
        "--data-dir",
        data,
        "--public-url",
        "https://node.example.cn",
        "tag-key",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(origin().as_deref(), Some("node.example.cn/consentry/access-log"));
    // Once fixed, it stays.
    let (code, out) = run(&[
        "admin",
        "--data-dir",
        data,
        "--public-url",
        "https://other.example",
        "tag-key",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(origin().as_deref(), Some("node.example.cn/consentry/access-log"));
}

// ------------------------------------------------------------------------ the hostile-input suite

/// A concrete path for a route template.
fn concrete(template: &str) -> String {
    template
        .replace("{id}", "urn:uuid:0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10")
        .replace("{uscc}", ENTERPRISE)
        .replace("{role}", "platform")
        .replace("{index}", "0")
        .replace("{list}", "1")
        .replace("{purpose}", "revocation")
        .replace("{provider}", "STA")
        .replace("{version}", "1")
        .replace("{level}", "0")
        .replace("{n}", "0")
}

/// Routes that authenticate by a bearer client assertion (the rest are public, or authenticated by
/// the signed body itself).
fn bearer_routes() -> Vec<(&'static str, &'static str)> {
    let public = [
        "/healthz",
        "/v1/node",
        "/v1/catalog",
        "/v1/catalog/derivations",
        "/v1/public/sxm/{uscc}",
        "/v1/display/{action}",
        "/v1/catalog/letters",
        "/v1/catalog/letters/{provider}/{version}",
        "/ns/v1",
        "/status/{list}/{purpose}",
        "/v1/registrations",
        "/v1/participants/me/keys",
        "/v1/log/checkpoint",
        "/v1/log/checkpoints",
        "/v1/log/keys",
        "/v1/log/leaves",
        "/v1/log/proof/inclusion",
        "/v1/log/proof/consistency",
        "/v1/log/receipts/{index}",
        "/v1/log/tile/{level}/{n}",
        "/v1/log/tile/entries/{n}",
        "/livez",
        "/readyz",
    ];
    consentry::http::ROUTES
        .iter()
        .copied()
        .filter(|(m, p)| {
            // Grant submission and grant actions are authenticated by their signed bodies, and so
            // is a grant answering a consent request.
            let signed_body =
                *m == "POST" && (p.starts_with("/v1/grants") || *p == "/v1/consent-requests/{id}/accept");
            !public.contains(p) && !signed_body
        })
        .collect()
}

fn send_with(base: &str, method: &str, path: &str, token: Option<&str>) -> Answer {
    let mut h: Vec<(&str, String)> = vec![];
    if let Some(t) = token {
        h.push(("authorization", bearer(t)));
    }
    let headers: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = (method == "POST").then_some(&b"{}"[..]);
    let mut headers = headers;
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    raw(base, method, path, &headers, body)
}

#[test]
fn hostile_assertions_on_every_authenticated_route() {
    let w = World::new(Backend::Sqlite);
    let base = w.node.url.clone();
    let mut tally = Tally::default();
    let stranger = new_key();
    let routes = bearer_routes();
    assert!(routes.len() >= 30, "{} routes", routes.len());
    let size = log_size(&w.node);
    for (method, template) in &routes {
        let path = concrete(template);
        let what = format!("{method} {path}");
        let make = |key: &KeyFile, m: &str, p: &str, at: time::OffsetDateTime| {
            consentry::node::auth::make(key, &w.node.did, m, p, at).unwrap()
        };
        let other_method = if *method == "GET" { "POST" } else { "GET" };
        let cases: Vec<(&'static str, Option<String>)> = vec![
            ("no assertion", None),
            ("garbage", Some("not.a.jwt".into())),
            (
                "expired",
                Some(make(&w.bank, method, &path, now() - time::Duration::minutes(10))),
            ),
            (
                "issued in the future",
                Some(make(&w.bank, method, &path, now() + time::Duration::minutes(10))),
            ),
            ("other path", Some(make(&w.bank, method, "/v1/other", now()))),
            ("other method", Some(make(&w.bank, other_method, &path, now()))),
            ("unregistered key", Some(make(&stranger, method, &path, now()))),
            (
                "other audience",
                Some(
                    consentry::node::auth::make(
                        &w.bank,
                        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                        method,
                        &path,
                        now(),
                    )
                    .unwrap(),
                ),
            ),
        ];
        for (class, token) in cases {
            let r = send_with(&base, method, &path, token.as_deref());
            assert_problem(&r, 401, "unauthenticated", &format!("{what} with {class}"));
            assert!(r.header("www-authenticate").is_some(), "{what} {class}");
            tally.add(class);
        }
        // Replayed: the first use may succeed or fail; the second is refused.
        let t = make(&w.regulator, method, &path, now());
        let _ = send_with(&base, method, &path, Some(&t));
        let r = send_with(&base, method, &path, Some(&t));
        assert_problem(&r, 401, "unauthenticated", &format!("{what} replayed"));
        tally.add("replayed");
    }
    // Refusals of authentication write nothing to the log.
    let after = log_size(&w.node);
    assert!(
        after - size <= 2,
        "authentication failures wrote to the log ({size} → {after})"
    );
    tally.print("hostile assertions");
}

#[test]
fn wrong_roles_and_suspended_callers() {
    let w = World::new(Backend::Sqlite);
    let mut tally = Tally::default();
    let size = log_size(&w.node);
    // Operator-only routes refuse every other role.
    let admin: Vec<_> = consentry::http::ROUTES
        .iter()
        .filter(|(_, p)| p.starts_with("/v1/admin/"))
        .collect();
    for key in [&w.platform, &w.bank, &w.regulator, &w.enterprise] {
        for (method, template) in &admin {
            let path = concrete(template);
            let c = w.client(key);
            let r = if *method == "GET" {
                c.get(&path)
            } else {
                c.post(&path, &json!({}))
            };
            assert_problem(&r, 403, "forbidden", &format!("{method} {path} as {}", key.did));
            tally.add("wrong role: admin");
        }
    }
    // Banks and enterprises register no banks; only platforms do.
    for key in [&w.bank, &w.enterprise, &w.regulator] {
        let r = w.client(key).post(
            "/v1/banks",
            &json!({"uscc": fresh_uscc(98), "name": "x", "did": new_key().did.as_str()}),
        );
        assert_problem(&r, 403, "forbidden", "bank registration by a non-platform");
        tally.add("wrong role: banks");
    }
    // Export is for the node and regulators.
    for key in [&w.platform, &w.bank, &w.enterprise] {
        assert_problem(&w.client(key).get("/v1/log/export"), 403, "forbidden", "export");
        tally.add("wrong role: export");
    }
    assert_eq!(log_size(&w.node), size, "wrong-role refusals wrote to the log");
    // A suspended bank and platform are refused what they could do before.
    for (role, code, key) in [("bank", BANK, &w.bank), ("platform", PLATFORM, &w.platform)] {
        let r = w.node.operator().post(
            &format!("/v1/admin/participants/{role}/{code}/state"),
            &json!({"state": "suspended"}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        for path in ["/v1/log/entries", "/v1/webhooks", "/v1/stats"] {
            let r = w.client(key).get(path);
            assert_eq!(r.status, 403, "suspended {role} {path}: {}", r.text);
            tally.add("suspended caller");
        }
    }
    tally.print("roles");
}

#[test]
fn cross_tenant_reads_and_actions() {
    let w = World::new(Backend::Sqlite);
    let mut tally = Tally::default();
    let other_platform = new_key();
    let r = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": OTHER_PLATFORM, "name": "另一平台", "did": other_platform.did.as_str(), "endpoint": "http://b.example"}),
    );
    assert_eq!(r.status, 201);
    let other_ent = new_key();
    register_enterprise(&w.node, &other_ent, OTHER_ENTERPRISE, "杭州测试贸易有限公司");
    let grant = w.grant();
    let hook = w.client(&w.platform).post(
        "/v1/webhooks",
        &json!({"url": "http://127.0.0.1:9/hook", "events": ["grant.revoked"]}),
    );
    assert_eq!(hook.status, 201, "{}", hook.text);
    let hook_id = hook.body["id"].as_str().unwrap().to_owned();
    // The enterprise files an objection against the platform's access.
    let size = log_size(&w.node);

    // Grants: another platform, the other enterprise and the bank of another platform see nothing.
    for key in [&other_platform, &other_ent] {
        let r = w.client(key).get(&format!("/v1/grants/{grant}"));
        assert!(r.status == 404 || r.status == 403, "{}", r.text);
        let list = w.client(key).get("/v1/grants");
        assert_eq!(list.status, 200);
        assert!(!list.text.contains(&grant), "grant listed to a stranger");
        tally.add("cross-tenant: grants");
    }
    // Webhooks: get, deliveries, rotate, delete by another platform are 404.
    let o = w.client(&other_platform);
    for (m, p) in [
        ("GET", format!("/v1/webhooks/{hook_id}")),
        ("GET", format!("/v1/webhooks/{hook_id}/deliveries")),
        ("POST", format!("/v1/webhooks/{hook_id}/rotate")),
        ("POST", format!("/v1/webhooks/{hook_id}/delete")),
    ] {
        let r = if m == "GET" {
            o.get(&p)
        } else {
            o.post(
                &p,
                &json!({"url": "http://127.0.0.1:9/evil", "events": ["grant.revoked"]}),
            )
        };
        assert_problem(&r, 404, "not-found", &format!("{m} {p}"));
        tally.add("cross-tenant: webhooks");
    }
    let list = o.get("/v1/webhooks");
    assert!(!list.text.contains(&hook_id));
    // Notices, own data and history are the caller's own.
    let n = w.client(&other_ent).get("/v1/notices");
    assert_eq!(n.status, 200);
    assert!(!n.text.contains(&grant));
    let d = w.client(&other_ent).get("/v1/enterprise/data");
    assert_eq!(d.status, 200);
    assert!(
        !d.text.contains("TAX-03"),
        "another enterprise's records: {}",
        d.text
    );
    let h = w.client(&other_ent).get("/v1/log/entries");
    assert_eq!(h.status, 200);
    assert!(
        !h.text.contains(&grant) && !h.text.contains(ENTERPRISE),
        "{}",
        h.text
    );
    tally.add("cross-tenant: notices");
    tally.add("cross-tenant: data");
    tally.add("cross-tenant: history");
    // Grant actions by someone else's signature are refused.
    for key in [&other_ent, &other_platform] {
        for action in ["revoke", "suspend"] {
            let r = w.change(key, action, &grant);
            assert!(
                matches!(r.status, 401 | 403),
                "{action} by a stranger: {}",
                r.text
            );
            tally.add("cross-tenant: grant actions");
        }
    }
    // Another platform's caller cannot release under this platform's grant.
    let r = w.client(&other_platform).post(
        "/v1/releases",
        &json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "raw", "purpose": "credit-approval"}),
    );
    assert_eq!(r.status, 403);
    assert!(r.reasons().contains(&"not-grantee".to_owned()), "{}", r.text);
    tally.add("cross-tenant: releases");
    // Only the refusal was logged (spec/access-log.md: refusals are entries).
    assert_eq!(log_size(&w.node), size + 1);
    tally.print("cross-tenant");
}

/// Bodies that are not what they claim, on every route that takes one: each is a 4xx problem with
/// its code and writes nothing (a release's refusal is the one logged answer).
#[test]
fn hostile_bodies() {
    let w = World::new(Backend::Sqlite);
    let base = w.node.url.clone();
    let mut tally = Tally::default();
    let deep = "[".repeat(5000) + &"]".repeat(5000);
    let big_number = format!("{{\"uscc\": 1{}}}", "0".repeat(400));
    const CODES: &[&str] = &[
        "malformed-json",
        "malformed-request",
        "signed-request",
        "invalid-body",
        "grant-invalid",
        "delegation",
        "letter",
        "malformed-body",
    ];
    let bodies: Vec<(&'static str, Vec<u8>, &[&str])> = vec![
        ("malformed JSON", b"{\"uscc\": ".to_vec(), CODES),
        (
            "duplicate keys",
            br#"{"uscc":"a","uscc":"b","name":"x","did":"y"}"#.to_vec(),
            CODES,
        ),
        ("deep nesting", deep.into_bytes(), CODES),
        ("huge number", big_number.into_bytes(), CODES),
        ("invalid UTF-8", b"{\"uscc\": \"\xff\xfe\"}".to_vec(), CODES),
        ("not an object", b"[1,2,3]".to_vec(), CODES),
    ];
    let posts: Vec<&str> = consentry::http::ROUTES
        .iter()
        .filter(|(m, p)| *m == "POST" && !p.contains('{'))
        .map(|(_, p)| *p)
        .collect();
    for path in &posts {
        for (class, body, codes) in &bodies {
            let size = log_size(&w.node);
            let key = match *path {
                "/v1/admin/platforms" | "/v1/admin/regulators" | "/v1/admin/letters" => {
                    w.node.node_key.clone()
                }
                "/v1/status/slots" | "/v1/delegations" | "/v1/objections" => w.enterprise.clone(),
                _ => w.platform.clone(),
            };
            let token = consentry::node::auth::make(&key, &w.node.did, "POST", path, now()).unwrap();
            let r = raw(
                &base,
                "POST",
                path,
                &[
                    ("authorization", &bearer(&token)),
                    ("content-type", "application/json"),
                ],
                Some(body),
            );
            let what = format!("{class} to {path}");
            assert!((400..500).contains(&r.status), "{what}: {} {}", r.status, r.text);
            assert!(
                r.header("content-type")
                    .is_some_and(|t| t.starts_with("application/problem+json")),
                "{what}"
            );
            if r.status == 400 || r.status == 422 {
                assert!(
                    codes.contains(&r.problem()) || r.reasons().iter().any(|c| codes.contains(&c.as_str())),
                    "{what}: {}",
                    r.text
                );
            }
            let logged = log_size(&w.node) - size;
            let expected = u64::from(*path == "/v1/releases");
            assert_eq!(logged, expected, "{what} wrote {logged} entries");
            tally.add(class);
        }
        // Over the size limit (declared in Content-Length, refused before it is read).
        let token = consentry::node::auth::make(&w.platform, &w.node.did, "POST", path, now()).unwrap();
        let (status, text) = declare_oversized(&base, path, &token);
        assert_eq!(status, 413, "oversized to {path}: {text}");
        assert!(text.contains("payload-too-large"), "oversized to {path}: {text}");
        tally.add("oversized body");
    }
    // Traversal and encoded junk in paths find nothing.
    for path in [
        "/v1/grants/..%2F..%2Fetc%2Fpasswd",
        "/portal/..%2F..%2FCargo.toml",
        "/portal/%2e%2e/%2e%2e/Cargo.toml",
        "/v1/log/tile/0/..%2F1",
        "/status/..%2F1/revocation",
    ] {
        let r = w.client(&w.platform).get(path);
        assert!(
            matches!(r.status, 400 | 401 | 404),
            "{path}: {} {}",
            r.status,
            r.text
        );
        assert!(!r.text.contains("[package]"), "{path} served a file");
        tally.add("traversal");
    }
    tally.print("hostile bodies");
}

/// A platform's key never works as another participant's: the identity takeover of the finding,
/// end to end, is refused at the first step and every later step stays unauthenticated.
#[test]
fn takeover_reproduction_is_refused() {
    let w = World::new(Backend::Sqlite);
    let attacker_platform = new_key();
    let r = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": OTHER_PLATFORM, "name": "攻击平台", "did": attacker_platform.did.as_str(), "endpoint": "http://evil.example"}),
    );
    assert_eq!(r.status, 201);
    let grant = w.grant();
    let stolen = new_key();
    let r = w.client(&attacker_platform).post(
        "/v1/banks",
        &json!({"uscc": PLATFORM, "name": "x", "did": stolen.did.as_str()}),
    );
    assert_problem(
        &r,
        409,
        "conflict",
        "registering the victim platform's code as a bank",
    );
    let thief: Client = w.client(&stolen);
    assert_eq!(thief.get("/v1/grants").status, 401);
    assert_eq!(thief.get(&format!("/v1/grants/{grant}")).status, 401);
    assert_eq!(thief.get("/v1/webhooks").status, 401);
    assert_eq!(thief.get("/v1/notices").status, 401);
    let _ = URL_SAFE_NO_PAD.encode([0u8]);
}

/// The platform process serves the same middleware: 405 with `Allow`, the security headers, and a
/// refused bank whose code names another participant at the node is not recorded locally.
#[test]
fn platform_process_protocol_and_foreign_codes() {
    let w = World::new(Backend::Sqlite);
    let p = crate::common::server::TestPlatform::start(&w.node.url, OTHER_PLATFORM);
    let r = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": p.uscc, "name": "平台服务", "did": p.key.did.as_str(), "endpoint": p.url}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    for (method, path, allow) in [
        ("GET", "/v1/releases", "POST"),
        ("PUT", "/v1/banks", "GET, POST"),
        ("POST", "/v1/platform", "GET"),
    ] {
        let r = raw(&p.url, method, path, &[], None);
        assert_problem(
            &r,
            405,
            "method-not-allowed",
            &format!("platform {method} {path}"),
        );
        assert_eq!(r.header("allow"), Some(allow));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    assert_problem(
        &raw(&p.url, "GET", "/v1/nothing", &[], None),
        404,
        "not-found",
        "platform 404",
    );
    // The platform's operator tries to register the enterprise's code as a bank: the node refuses
    // (409), and the platform records nothing of it.
    let r = p.client(&p.key).post(
        "/v1/banks",
        &json!({"uscc": ENTERPRISE, "name": "x", "did": new_key().did.as_str()}),
    );
    assert!(matches!(r.status, 409 | 503), "{}", r.text);
    let store = consentry::storage::Store::open(
        &format!("sqlite://{}", p.dir.path().join("platform.sqlite3").display()),
        1,
    )
    .unwrap();
    let local = store
        .run(|c| consentry::storage::participants::find_by_uscc(c, ENTERPRISE))
        .unwrap();
    assert!(
        local.is_none(),
        "the platform recorded a bank the node refused: {local:?}"
    );
    let info = get_public(&format!("{}/v1/platform", p.url));
    assert_eq!(info.status, 200);
    assert_eq!(info.header("cache-control"), Some("no-store"));
}

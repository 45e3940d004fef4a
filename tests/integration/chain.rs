//! The platform serves its own log to regulators, enterprises and banks, and `consentry audit
//! chain` verifies a bank's release hop by hop (issue #13 item 1, spec/access-log.md §1.1, §8.7):
//! on SQLite and on PostgreSQL (the node's and the platform's databases on the same backend), a
//! bank's release through the platform is verified to a signed platform checkpoint and its
//! `upstream` node entry to a signed node checkpoint in one `consentry audit chain` call; the
//! platform's `GET /v1/log/entries` is scoped by the role the node holds for the caller; a key the
//! node does not know is 401 and a suspended regulator 403; and one changed record in the
//! platform's database fails both `audit chain` and `audit verify --node PLATFORM_URL`, naming the
//! entry.

use std::process::Command;

use consentry::identity::KeyFile;
use serde_json::{Value, json};

use crate::common::server::{Backend, TestPlatform, new_key};
use crate::service::{ENTERPRISE, World};

pub(crate) const PLATFORM_USCC: &str = "91330000MA28PLAT2L";
const BANK_USCC: &str = "91330300MA2GHJK66N";
const OTHER_REGULATOR: &str = "91330200MA2CDEF57N";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn consentry(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn key_file(dir: &std::path::Path, name: &str, key: &KeyFile) -> String {
    let path = dir.join(name);
    key.write_new(&path).unwrap();
    path.display().to_string()
}

fn indices(v: &Value) -> Vec<u64> {
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect()
}

/// Changes one byte of the record of entry `k` in the platform's database (its purpose), as a
/// malicious operator would: the leaf no longer opens.
pub(crate) fn tamper_record(p: &TestPlatform, k: u64) {
    p.platform
        .core
        .store
        .run(move |c| {
            use consentry::storage::schema::log_records;
            use diesel::prelude::*;
            let text: Option<String> = log_records::table
                .find(k as i64)
                .select(log_records::record)
                .first(c)?;
            let changed = text
                .unwrap()
                .replace(r#""purpose":"credit-approval""#, r#""purpose":"credit-approvaL""#);
            diesel::update(log_records::table.find(k as i64))
                .set(log_records::record.eq(changed))
                .execute(c)?;
            Ok(())
        })
        .unwrap();
}

/// A node, a platform admitted to it with one bank, a grant naming both, and two onward releases
/// (their indices in the platform's log, and the node entries they cite).
pub(crate) struct Setup {
    pub(crate) w: World,
    pub(crate) p: TestPlatform,
    pub(crate) bank: KeyFile,
    pub(crate) grant: String,
    pub(crate) onward: Vec<u64>,
    pub(crate) upstream: Vec<u64>,
}

pub(crate) fn setup(backend: Backend) -> Setup {
    let w = World::new(backend);
    let p = TestPlatform::start_on(&w.node.url, PLATFORM_USCC, backend);
    let r = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": p.uscc, "name": "平台服务", "did": p.key.did.as_str(), "endpoint": p.url}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let bank = new_key();
    let r = p.client(&p.key).post(
        "/v1/banks",
        &json!({"uscc": BANK_USCC, "name": "平台银行", "did": bank.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let (grant, r) = w.grant_with(&w.enterprise.clone(), |d| {
        d.terms.grantee.uscc = PLATFORM_USCC.to_owned();
        d.terms.onward_recipients[0].uscc = BANK_USCC.to_owned();
    });
    assert_eq!(r.status, 201, "{}", r.text);
    let ask = json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "purpose": "credit-approval"});
    let (mut onward, mut upstream) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let r = p.client(&bank).post("/v1/releases", &ask);
        assert_eq!(r.status, 200, "{}", r.text);
        onward.push(r.body["logIndex"].as_u64().unwrap());
        upstream.push(r.body["upstream"]["index"].as_u64().unwrap());
    }
    // A refusal at the platform (raw data for a bank) is in its log too, but is no chain.
    let mut raw = ask.clone();
    raw["granularity"] = json!("raw");
    assert_eq!(p.client(&bank).post("/v1/releases", &raw).status, 403);
    Setup {
        w,
        p,
        bank,
        grant,
        onward,
        upstream,
    }
}

fn chain_verified(backend: Backend) {
    let Setup {
        w,
        p,
        bank,
        grant,
        onward,
        upstream,
    } = setup(backend);
    let dir = tempfile::tempdir().unwrap();
    let regulator = key_file(dir.path(), "regulator.key", &w.regulator);
    let chain = |scope: &[&str]| {
        let mut args = vec![
            "audit",
            "chain",
            "--platform",
            &p.url,
            "--node",
            &w.node.url,
            "--key",
            &regulator,
        ];
        args.extend_from_slice(scope);
        consentry(&args)
    };

    // Both hops of both releases verify, by enterprise and by grant, with the logs' keys pinned
    // or stated.
    let a = chain(&["--enterprise", ENTERPRISE]);
    assert_eq!(a.code, Some(0), "{}\n{}", a.stdout, a.stderr);
    for i in &onward {
        assert!(
            a.stdout.contains(&format!("platform entry {i}: onward release")),
            "{}",
            a.stdout
        );
    }
    assert_eq!(a.stdout.matches("  node entry ").count(), 2, "{}", a.stdout);
    assert!(
        a.stdout
            .contains(&format!("valid: 2 onward releases of enterprise={ENTERPRISE}")),
        "{}",
        a.stdout
    );
    assert!(a.stderr.contains("log key is not pinned"), "{}", a.stderr);
    let platform_vkey = consentry::node::checkpoints::signer(&p.platform.core)
        .unwrap()
        .verifier_key()
        .to_vkey();
    let node_vkey = consentry::node::checkpoints::signer(&w.node.node)
        .unwrap()
        .verifier_key()
        .to_vkey();
    let a = chain(&[
        "--grant",
        &grant,
        "--platform-log-key",
        &platform_vkey,
        "--node-log-key",
        &node_vkey,
    ]);
    assert_eq!(a.code, Some(0), "{}\n{}", a.stdout, a.stderr);
    assert!(
        a.stdout.contains("valid: 2 onward releases of grant="),
        "{}",
        a.stdout
    );
    assert!(!a.stderr.contains("not pinned"), "{}", a.stderr);
    // The same checks as one JSON report: every chain with both entries and their checkpoints.
    let a = chain(&[
        "--grant",
        &grant,
        "--platform-log-key",
        &platform_vkey,
        "--node-log-key",
        &node_vkey,
        "--json",
    ]);
    assert_eq!(a.code, Some(0), "{}\n{}", a.stdout, a.stderr);
    let r: Value = serde_json::from_str(&a.stdout).unwrap();
    assert_eq!(r["valid"], true, "{r}");
    assert_eq!(r["scope"], json!({"grant": grant}));
    assert_eq!(r["onwardReleases"], 2);
    assert_eq!(r["verified"], 2);
    assert_eq!(r["failures"], json!([]));
    assert_eq!(r["platform"]["uscc"], PLATFORM_USCC);
    assert_eq!(r["platform"]["logKey"], platform_vkey.as_str());
    assert_eq!(r["platform"]["keyPinned"], true);
    assert_eq!(r["node"]["logKey"], node_vkey.as_str());
    let chains = r["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 2, "{r}");
    for (c, (i, up)) in chains.iter().zip(onward.iter().zip(&upstream)) {
        assert_eq!(c["platformEntry"], *i, "{r}");
        assert_eq!(c["nodeEntry"], *up, "{r}");
        assert!(c["platformCheckpoint"].as_u64().unwrap() > *i, "{r}");
        assert!(c["nodeCheckpoint"].as_u64().unwrap() > *up, "{r}");
        assert_eq!(c["valid"], true, "{r}");
        assert_eq!(c["failures"], json!([]), "{r}");
    }
    // No text lines beside the report.
    assert!(!a.stdout.contains("platform entry"), "{}", a.stdout);
    // Pinned to the wrong key: the platform's checkpoints are not its.
    let a = chain(&[
        "--enterprise",
        ENTERPRISE,
        "--platform-log-key",
        &node_vkey,
        "--node-log-key",
        &node_vkey,
    ]);
    assert_eq!(a.code, Some(1), "{}\n{}", a.stdout, a.stderr);
    assert!(
        a.stderr.contains(&format!(
            "invalid: inclusion: platform entry {}: not included",
            onward[0]
        )),
        "{}",
        a.stderr
    );
    // Nothing to walk is no verified chain.
    let a = chain(&["--enterprise", "91330106MA2B3C4D11"]);
    assert_eq!(a.code, Some(1), "{}\n{}", a.stdout, a.stderr);
    assert!(a.stderr.contains("invalid: none:"), "{}", a.stderr);

    // The platform's audit queries, scoped by the role the node holds for the caller.
    let regulator_view = p.client(&w.regulator).get("/v1/log/entries");
    assert_eq!(regulator_view.status, 200, "{}", regulator_view.text);
    let all = indices(&regulator_view.body);
    let size = p
        .platform
        .core
        .store
        .run(consentry::storage::log_store::head)
        .unwrap()
        .0 as u64;
    assert_eq!(all.len() as u64, size, "a regulator sees the whole platform log");
    // The node's operator, resolved at the node, sees the whole log as well.
    let operator_view = p.client(&w.node.node_key).get("/v1/log/entries");
    assert_eq!(operator_view.status, 200, "{}", operator_view.text);
    assert_eq!(indices(&operator_view.body), all);
    let enterprise_view = p
        .client(&w.enterprise)
        .get("/v1/log/entries?enterprise=91330106MA2B3C4D11");
    assert_eq!(enterprise_view.status, 200, "{}", enterprise_view.text);
    let own = enterprise_view.body["entries"].as_array().unwrap();
    assert_eq!(
        own.len(),
        3,
        "two releases and the refusal: {}",
        enterprise_view.text
    );
    assert!(own.iter().all(|e| e["record"]["enterprise"] == ENTERPRISE));
    assert!(
        own.len() < all.len(),
        "the bank's registration is not the enterprise's"
    );
    let bank_view = p.client(&bank).get("/v1/log/entries");
    assert_eq!(bank_view.status, 200, "{}", bank_view.text);
    let banks = bank_view.body["entries"].as_array().unwrap();
    // Its releases, its refusal and its own registration; not the platform's own entries.
    assert_eq!(banks.len(), 4, "{}", bank_view.text);
    assert!(
        banks
            .iter()
            .all(|e| e["record"]["bank"] == BANK_USCC
                || e["record"]["detail"]["participant"]["uscc"] == BANK_USCC),
        "{}",
        bank_view.text
    );
    // The world's bank belongs to another platform: unknown here, and the node does not vouch
    // for banks (401); a key nobody registered is 401; an enterprise may not export (403); a
    // regulator may.
    assert_eq!(p.client(&w.bank).get("/v1/log/entries").status, 401);
    let a = p.client(&new_key()).get("/v1/log/entries");
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(a.problem(), "unauthenticated");
    assert_eq!(p.client(&w.enterprise).get("/v1/log/export").status, 403);
    let a = p.client(&w.regulator).get("/v1/log/export");
    assert_eq!(a.status, 200, "{}", a.text);
    // An assertion addressed to the node is not one for the platform.
    let to_node = crate::common::server::Client {
        audience: w.node.did.clone(),
        ..p.client(&w.regulator)
    };
    assert_eq!(to_node.get("/v1/log/entries").status, 401);
    // A regulator the node suspended is refused at the platform.
    let suspended = new_key();
    let op = w.node.operator();
    let r = op.post(
        "/v1/admin/regulators",
        &json!({"uscc": OTHER_REGULATOR, "name": "另一监管局", "did": suspended.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = op.post(
        &format!("/v1/admin/participants/regulator/{OTHER_REGULATOR}/state"),
        &json!({"state": "suspended"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let a = p.client(&suspended).get("/v1/log/entries");
    assert_eq!(a.status, 403, "{}", a.text);
    assert!(a.text.contains("suspended at the node"), "{}", a.text);
    // A regulator the platform already resolved keeps its answer for the cache time, then the
    // node's suspension holds at the platform too.
    // (The world's regulator was resolved by the reads above.)
    p.platform.callers.set_ttl(std::time::Duration::from_secs(3600));
    let r = op.post(
        &format!(
            "/v1/admin/participants/regulator/{}/state",
            crate::service::REGULATOR
        ),
        &json!({"state": "suspended"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        p.client(&w.regulator).get("/v1/log/entries").status,
        200,
        "cached"
    );
    p.platform.callers.set_ttl(std::time::Duration::ZERO);
    let a = p.client(&w.regulator).get("/v1/log/entries");
    assert_eq!(a.status, 403, "{}", a.text);
    let r = op.post(
        &format!(
            "/v1/admin/participants/regulator/{}/state",
            crate::service::REGULATOR
        ),
        &json!({"state": "active"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // The node answers who holds a key to platforms only.
    let by_did = format!("/v1/participants/by-did/{}", w.regulator.did.as_str());
    assert_eq!(w.client(&w.regulator).get(&by_did).status, 403);
    let a = w.client(&p.key).get(&by_did);
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["role"], "regulator");
    assert_eq!(a.body["current"], true);

    // `audit verify --node PLATFORM_URL` with the regulator's key: the platform's whole log,
    // records included, through its evidence bundle.
    let verify = || consentry(&["audit", "verify", "--node", &p.url, "--key", &regulator]);
    let a = verify();
    assert_eq!(a.code, Some(0), "{}\n{}", a.stdout, a.stderr);
    assert!(
        a.stdout.contains(&format!("records: {size} opened")),
        "{}",
        a.stdout
    );

    // One changed record in the platform's database: both commands fail, naming the entry.
    let k = onward[1];
    tamper_record(&p, k);
    let a = chain(&["--enterprise", ENTERPRISE]);
    assert_eq!(a.code, Some(1), "{}\n{}", a.stdout, a.stderr);
    assert!(
        a.stderr.contains(&format!(
            "invalid: record: platform entry {k}: the record and its salt do not open the leaf's commitment"
        )),
        "{}",
        a.stderr
    );
    assert!(
        a.stdout.contains("invalid: 1 of 2 onward releases"),
        "{}",
        a.stdout
    );
    // As JSON: the changed entry's chain fails on its record, the other still verifies; the exit
    // code and the lines on stderr are the same.
    let a = chain(&["--enterprise", ENTERPRISE, "--json"]);
    assert_eq!(a.code, Some(1), "{}\n{}", a.stdout, a.stderr);
    assert!(
        a.stderr.contains("invalid: record: platform entry"),
        "{}",
        a.stderr
    );
    let r: Value = serde_json::from_str(&a.stdout).unwrap();
    assert_eq!(r["valid"], false, "{r}");
    assert_eq!(r["verified"], 1, "{r}");
    assert_eq!(r["scope"], json!({"enterprise": ENTERPRISE}));
    assert_eq!(r["platform"]["keyPinned"], false);
    let bad = &r["chains"][1];
    assert_eq!(bad["platformEntry"], k, "{r}");
    assert_eq!(bad["valid"], false, "{r}");
    assert_eq!(bad["failures"][0]["check"], "record", "{r}");
    assert_eq!(bad["nodeEntry"], Value::Null, "{r}");
    assert_eq!(r["chains"][0]["valid"], true, "{r}");
    assert_eq!(r["failures"], bad["failures"], "{r}");
    let a = verify();
    assert_eq!(a.code, Some(1), "{}\n{}", a.stdout, a.stderr);
    assert!(
        a.stderr.contains(&format!(
            "invalid: record: entry {k}: the record and its salt do not open"
        )),
        "{}",
        a.stderr
    );
}

#[test]
fn chain_verified_on_sqlite() {
    chain_verified(Backend::Sqlite);
}

#[test]
fn chain_verified_on_postgres() {
    chain_verified(Backend::Postgres);
}

/// Issue #13 item 4 at the platform: an enterprise's free query of who received its data here, and
/// objections filed at the platform — by the enterprise, or handed on by the platform's bank —
/// forwarded to the node in the same call.
fn objections_and_recipients(backend: Backend) {
    let Setup {
        w,
        p,
        bank,
        onward,
        upstream,
        ..
    } = setup(backend);
    // Who received the enterprise's data at this platform.
    let a = p.client(&w.enterprise).get("/v1/enterprise/recipients");
    assert_eq!(a.status, 200, "{}", a.text);
    let list = a.body["recipients"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{}", a.text);
    assert_eq!(list[0]["logIndex"], onward[0]);
    assert_eq!(list[0]["bank"], BANK_USCC);
    assert_eq!(list[0]["categories"], json!(["TAX-03"]));
    assert_eq!(list[1]["upstream"]["index"], upstream[1]);
    let a = p.client(&w.enterprise).get("/v1/enterprise/recipients?limit=1");
    assert_eq!(a.body["recipients"].as_array().unwrap().len(), 1);
    assert_eq!(a.body["next"], onward[0]);
    // The next page from the cursor; a limit outside 1–10000 is refused, not clamped.
    let a = p
        .client(&w.enterprise)
        .get(&format!("/v1/enterprise/recipients?limit=1&after={}", onward[0]));
    assert_eq!(a.body["recipients"][0]["logIndex"], onward[1], "{}", a.text);
    for bad in [0, 10_001] {
        let a = p
            .client(&w.enterprise)
            .get(&format!("/v1/enterprise/recipients?limit={bad}"));
        assert_eq!((a.status, a.problem()), (400, "invalid-query"), "{}", a.text);
        assert!(a.text.contains("limit: 1–10000"), "{}", a.text);
    }
    // Enterprises only; unknown keys 401.
    assert_eq!(p.client(&bank).get("/v1/enterprise/recipients").status, 403);
    assert_eq!(
        p.client(&w.regulator).get("/v1/enterprise/recipients").status,
        403
    );
    assert_eq!(p.client(&new_key()).get("/v1/enterprise/recipients").status, 401);

    // An objection filed at the platform by the enterprise: forwarded to the node at once.
    let filing = |reason: &str, index: u64| {
        w.client(&w.enterprise).signed_request(
            "object",
            json!({"enterprise": ENTERPRISE, "target": {"type": "access", "logIndex": index}, "reason": reason}),
        )
    };
    let a = p.client(&w.enterprise).post(
        "/v1/objections",
        &json!({"filing": filing("不认可此次查询", upstream[0])}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    let id = a.body["objection"]["id"].as_str().unwrap().to_owned();
    assert_eq!(a.body["objection"]["state"], "forwarded");
    assert_eq!(a.body["objection"]["receivedBy"]["uscc"], PLATFORM_USCC);
    assert_eq!(a.body["receipt"]["signer"], p.key.did.as_str());
    let at_platform = a.body["logIndex"].as_u64().unwrap();
    // The node holds it as received and forwarded by the platform.
    let n = w.client(&w.enterprise).get(&format!("/v1/objections/{id}"));
    assert_eq!(n.status, 200, "{}", n.text);
    assert_eq!(n.body["state"], "forwarded");
    assert!(n.body["forwardedAt"].is_string());
    // The platform's log has the hand-over, which the enterprise reads as its own.
    let mine = p.client(&w.enterprise).get("/v1/log/entries?kind=objection");
    assert_eq!(mine.status, 200, "{}", mine.text);
    let e = &mine.body["entries"][0];
    assert_eq!(e["index"], at_platform);
    assert_eq!(e["record"]["decision"], "forwarded");
    assert_eq!(e["record"]["detail"]["objection"], id.as_str());
    // The same filing twice is the node's conflict; nothing more is logged here.
    let size = |p: &TestPlatform| {
        p.platform
            .core
            .store
            .run(consentry::storage::log_store::head)
            .unwrap()
            .0
    };
    let before = size(&p);
    let again = filing("不认可此次查询", upstream[0]);
    let a = p
        .client(&w.enterprise)
        .post("/v1/objections", &json!({"filing": again}));
    assert_eq!(a.status, 201, "{}", a.text);
    let a = p
        .client(&w.enterprise)
        .post("/v1/objections", &json!({"filing": again}));
    assert_eq!(a.status, 409, "{}", a.text);
    assert_eq!(size(&p), before + 1);
    // A filing about another enterprise is refused (403); a filing not addressed to the node is
    // 400; a bad body 400.
    let other = w.client(&w.enterprise).signed_request(
        "object",
        json!({"enterprise": "91330106MA2B3C4D11", "target": {"type": "access", "logIndex": upstream[0]}, "reason": "x"}),
    );
    assert_eq!(
        p.client(&w.enterprise)
            .post("/v1/objections", &json!({"filing": other}))
            .status,
        403
    );
    let misaddressed = p.client(&w.enterprise).signed_request(
        "object",
        json!({"enterprise": ENTERPRISE, "target": {"type": "access", "logIndex": upstream[0]}, "reason": "x"}),
    );
    let a = p
        .client(&w.enterprise)
        .post("/v1/objections", &json!({"filing": misaddressed}));
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.problem(), "signed-request");
    let a = p
        .client(&w.enterprise)
        .post("/v1/objections", &json!({"filing": 1}));
    assert_eq!(a.status, 400, "{}", a.text);
    // Handed on by the platform's bank: accepted and forwarded the same way, the bank on record.
    let a = p.client(&bank).post(
        "/v1/objections",
        &json!({"filing": filing("银行转交的异议", upstream[1])}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["objection"]["state"], "forwarded");
    let i = a.body["logIndex"].as_u64().unwrap();
    let view = p
        .client(&w.regulator)
        .get(&format!("/v1/log/entries?after={}&limit=1", i - 1));
    assert_eq!(view.body["entries"][0]["record"]["bank"], BANK_USCC);
    // A regulator files nothing here; another platform's bank is unknown here.
    assert_eq!(
        p.client(&w.regulator)
            .post("/v1/objections", &json!({"filing": filing("x", upstream[1])}))
            .status,
        403
    );
    assert_eq!(
        p.client(&w.bank)
            .post("/v1/objections", &json!({"filing": filing("y", upstream[1])}))
            .status,
        401
    );
}

#[test]
fn objections_and_recipients_on_sqlite() {
    objections_and_recipients(Backend::Sqlite);
}

#[test]
fn objections_and_recipients_on_postgres() {
    objections_and_recipients(Backend::Postgres);
}

/// The platform's log answers cross-origin reads (CORS) so that the regulator's explorer in the
/// node's portal can follow a release into it (spec/portal.md `#/chain`): a preflight of a `GET` of
/// `/v1/platform` or `/v1/log/…` allows any origin and the `Authorization` header; the `GET`s
/// answer `Access-Control-Allow-Origin: *` and expose `Retry-After`; the access chain still needs
/// the regulator's assertion. Nothing else is opened: no CORS for the platform's other routes, for
/// a preflight of another method, nor for a `POST`.
fn log_cors(backend: Backend) {
    let Setup { w, p, onward, .. } = setup(backend);
    let agent = crate::common::server::http();
    let call = |method: &str, path: &str, headers: &[(&str, &str)]| {
        let mut r = agent.request(method, &format!("{}{path}", p.url));
        for (k, v) in headers {
            r = r.set(k, v);
        }
        match r.call() {
            Ok(resp) | Err(ureq::Error::Status(_, resp)) => resp,
            Err(e) => panic!("{method} {path}: {e}"),
        }
    };
    let origin = ("Origin", "http://portal.example");
    for path in [
        "/v1/log/entries?kind=onward-release",
        "/v1/log/receipts/0",
        "/v1/platform",
    ] {
        let pre = call(
            "OPTIONS",
            path,
            &[
                origin,
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "authorization"),
            ],
        );
        assert_eq!(pre.status(), 204, "{path}");
        assert_eq!(pre.header("access-control-allow-origin"), Some("*"), "{path}");
        assert_eq!(pre.header("access-control-allow-methods"), Some("GET"), "{path}");
        assert_eq!(
            pre.header("access-control-allow-headers"),
            Some("Authorization"),
            "{path}"
        );
    }
    let get = call("GET", "/v1/log/checkpoint", &[origin]);
    assert_eq!(get.status(), 200);
    assert_eq!(get.header("access-control-allow-origin"), Some("*"));
    assert_eq!(get.header("access-control-expose-headers"), Some("Retry-After"));
    let info = call("GET", "/v1/platform", &[origin]);
    assert_eq!(info.header("access-control-allow-origin"), Some("*"));
    // The access chain still needs an assertion: CORS changes who may read an answer, not who may ask.
    let anon = call("GET", "/v1/log/entries?kind=onward-release", &[origin]);
    assert_eq!(anon.status(), 401);
    assert_eq!(anon.header("access-control-allow-origin"), Some("*"));
    let r = p.client(&w.regulator).get("/v1/log/entries?kind=onward-release");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(indices(&r.body), onward);
    // Nothing else.
    let pre = call(
        "OPTIONS",
        "/v1/log/entries",
        &[origin, ("Access-Control-Request-Method", "POST")],
    );
    assert_ne!(pre.status(), 204);
    assert_eq!(pre.header("access-control-allow-origin"), None);
    let pre = call(
        "OPTIONS",
        "/v1/releases",
        &[origin, ("Access-Control-Request-Method", "GET")],
    );
    assert_ne!(pre.status(), 204);
    assert_eq!(pre.header("access-control-allow-origin"), None);
    let banks = call("GET", "/v1/banks", &[origin]);
    assert_eq!(banks.header("access-control-allow-origin"), None);
    let post = call("POST", "/v1/releases", &[origin]);
    assert_eq!(post.header("access-control-allow-origin"), None);
    // The node's portal page may connect to the platform (its endpoint's origin), to no other.
    let page = agent.get(&format!("{}/portal/", w.node.url)).call().unwrap();
    let csp = page.header("content-security-policy").unwrap().to_owned();
    assert!(
        csp.contains(&format!("connect-src 'self' {} http://platform.example;", p.url)),
        "{csp}"
    );
    // A suspended platform's origin leaves the policy.
    let r = w.node.operator().post(
        &format!("/v1/admin/participants/platform/{PLATFORM_USCC}/state"),
        &json!({"state": "suspended"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let page = agent.get(&format!("{}/portal/", w.node.url)).call().unwrap();
    let csp = page.header("content-security-policy").unwrap();
    assert!(!csp.contains(&p.url), "{csp}");
}

#[test]
fn log_cors_on_sqlite() {
    log_cors(Backend::Sqlite);
}

#[test]
fn log_cors_on_postgres() {
    log_cors(Backend::Postgres);
}

//! The web portal (`/portal`): the whole story in a real browser (Playwright driving Debian's
//! Chromium, `tests/portal/e2e.mjs`), the grants signed there checked by the CLI and by the
//! independent Python checker, and the session rules over plain HTTP (isolation between enterprises,
//! CSRF, single-use challenges, cookie attributes, sign-out, expiry).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consentry::catalog::Catalog;
use consentry::identity::KeyFile;
use serde_json::{Value, json};

use crate::common::server::{Backend, new_key};
use crate::service::{ENTERPRISE, OTHER_ENTERPRISE, World, register_enterprise};

/// Records of the enterprise that registers in the browser ([`OTHER_ENTERPRISE`], which replaces the
/// `USCC` placeholders; test data of its own, not the demo data set).
const RECORDS: &str = r#"{"uscc":"USCC","category":"TAX-03","date":"2025-03-31","provider":"STA","fields":{"taxType":"VAT","taxPaid":800,"declaredSales":26000}}
{"uscc":"USCC","category":"TAX-03","date":"2025-04-30","provider":"STA","fields":{"taxType":"VAT","taxPaid":950,"declaredSales":31000}}
{"uscc":"USCC","category":"SOC-01","date":"2025-04-30","provider":"MOHRSS","fields":{"insured":8,"schemes":5,"status":"normal"}}
{"uscc":"USCC","category":"REG-01","date":"2021-09-01","provider":"SAMR","fields":{"name":"杭州测试贸易有限公司","capital":500000,"status":"存续"}}"#;

const CHROMIUM: &str = "/usr/bin/chromium";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Chromium, Node.js and playwright-core must be installed; say how if not.
fn browser_tools() -> Result<(), String> {
    let how = "install them with `apt-get install -y chromium nodejs npm` and `(cd tests/portal && npm ci)`; .ci/run does both";
    if !Path::new(CHROMIUM).exists() {
        return Err(format!(
            "the portal browser test needs Debian's Chromium at {CHROMIUM}: {how}"
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Err(format!("the portal browser test needs Node.js (`node`): {how}"));
    }
    if !root()
        .join("tests/portal/node_modules/playwright-core/package.json")
        .exists()
    {
        return Err(format!(
            "the portal browser test needs playwright-core in tests/portal/node_modules: {how}"
        ));
    }
    Ok(())
}

fn write_key(dir: &Path, name: &str, key: &KeyFile) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, key.to_pretty_json()).unwrap();
    path
}

/// Runs the browser story `tests/portal/<script>` (real Chromium) against the node at `url`, its
/// screenshots going to `shots`, with `env`; asserts that it ended with `{"event": "done", "ok":
/// true}` (naming `story` and printing its output if not) and returns every JSON event it printed.
fn run_story(script: &str, url: &str, shots: &Path, env: &[(&str, &OsStr)], story: &str) -> Vec<Value> {
    let out = Command::new("node")
        .arg(root().join("tests/portal").join(script))
        .arg(url)
        .arg(shots)
        .envs(env.iter().copied())
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("run node tests/portal/{script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let events: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let last = events.last().cloned().unwrap_or(Value::Null);
    assert!(
        out.status.success() && last["event"] == "done" && last["ok"] == true,
        "{story} failed ({}):\n{stderr}\n{stdout}",
        out.status
    );
    events
}

/// The screenshots a story left in `shots`, sorted by name: at least `min`, none marked `FAILED`.
fn screenshots(shots: &Path, min: usize) -> Vec<String> {
    let mut pngs: Vec<String> = std::fs::read_dir(shots)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".png"))
        .collect();
    pngs.sort();
    assert!(pngs.len() >= min, "screenshots: {pngs:?}");
    assert!(pngs.iter().all(|n| !n.contains("FAILED")), "{pngs:?}");
    pngs
}

/// The key files of the world's enterprise, bank and platform in `dir`, with their codes: what the
/// consent and parties stories sign with.
fn party_env(w: &World, dir: &Path) -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        (
            "PORTAL_ENTERPRISE_KEY",
            write_key(dir, "enterprise.key.json", &w.enterprise).into_os_string(),
        ),
        (
            "PORTAL_BANK_KEY",
            write_key(dir, "bank.key.json", &w.bank).into_os_string(),
        ),
        (
            "PORTAL_PLATFORM_KEY",
            write_key(dir, "platform.key.json", &w.platform).into_os_string(),
        ),
        ("PORTAL_ENTERPRISE_USCC", ENTERPRISE.into()),
        ("PORTAL_BANK_USCC", crate::service::BANK.into()),
        ("PORTAL_PLATFORM_USCC", crate::service::PLATFORM.into()),
    ]
}

/// `env` as the borrowed pairs [`run_story`] takes.
fn borrowed<'a>(env: &'a [(&'static str, std::ffi::OsString)]) -> Vec<(&'static str, &'a OsStr)> {
    env.iter().map(|(k, v)| (*k, v.as_os_str())).collect()
}

#[test]
fn portal_browser_end_to_end() {
    if let Err(m) = browser_tools() {
        panic!("{m}");
    }
    let w = World::new(Backend::Sqlite);
    let catalog = Catalog::builtin();
    let records = consentry::node::data::parse_import(
        RECORDS.replace("USCC", OTHER_ENTERPRISE).as_bytes(),
        &catalog,
        None,
        0,
    )
    .unwrap()
    .records;
    w.node
        .node
        .store
        .run(|c| consentry::storage::data::insert(c, &records))
        .unwrap();
    let keys = tempfile::tempdir().unwrap();
    let platform_key = write_key(keys.path(), "platform.key.json", &w.platform);
    let regulator_key = write_key(keys.path(), "regulator.key.json", &w.regulator);
    let node_key = w.node.dir.path().join("node.key.json");
    assert!(node_key.exists());
    let shots = root().join("target/portal-screenshots");
    let downloads = keys.path().join("downloads");

    let events = run_story(
        "e2e.mjs",
        &w.node.url,
        &shots,
        &[
            ("PORTAL_NODE_KEY", node_key.as_os_str()),
            ("PORTAL_REGULATOR_KEY", regulator_key.as_os_str()),
            ("PORTAL_PLATFORM_KEY", platform_key.as_os_str()),
            ("PORTAL_ENTERPRISE_USCC", OsStr::new(OTHER_ENTERPRISE)),
            ("PORTAL_ENTERPRISE_NAME", OsStr::new("杭州测试贸易有限公司")),
            ("PORTAL_DOWNLOADS", downloads.as_os_str()),
        ],
        "the browser story",
    );

    // Every step left a screenshot, numbered in order.
    let pngs = screenshots(&shots, 25);
    for (i, n) in pngs.iter().enumerate() {
        assert!(n.starts_with(&format!("{:02}-", i + 1)), "{n} out of order");
    }

    // The self-test of the page's cryptography against the spec's vectors passed in the browser.
    let selftest = events.iter().find(|e| e["event"] == "selftest").unwrap();
    assert_eq!(selftest["eddsaVector"], true);
    assert_eq!(selftest["grantExample"], true);
    assert_eq!(selftest["merkleMismatches"], 0);

    // The grants signed in the browser: what the node holds, and what the CLI and the independent
    // Python checker say of the downloaded credentials.
    let grants: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "grant")
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(grants.len(), 2, "{events:?}");
    let op = w.node.operator();
    let g1 = op.get(&format!("/v1/grants/{}", grants[0]));
    assert_eq!(g1.status, 200, "{}", g1.text);
    assert_eq!(g1.body["state"], "revoked");
    assert_eq!(g1.body["enterprise"], OTHER_ENTERPRISE);
    let g2 = op.get(&format!("/v1/grants/{}", grants[1]));
    assert_eq!(
        g2.body["state"], "active",
        "suspended and resumed with the keyboard"
    );
    let files: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "credential")
        .filter_map(|e| e["file"].as_str())
        .collect();
    assert_eq!(files.len(), 2);
    for f in files {
        let cli = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["grant", "verify", f])
            .output()
            .unwrap();
        assert_eq!(
            cli.status.code(),
            Some(0),
            "consentry grant verify {f}: {}",
            String::from_utf8_lossy(&cli.stderr)
        );
        let py = Command::new("python3")
            .arg(root().join("tests/interop/vc_check.py"))
            .args(["verify", f])
            .output()
            .unwrap();
        assert_eq!(
            py.status.code(),
            Some(0),
            "vc_check.py verify {f}: {}{}",
            String::from_utf8_lossy(&py.stdout),
            String::from_utf8_lossy(&py.stderr)
        );
        // The bytes downloaded are the bytes the node stored.
        let body = std::fs::read(f).unwrap();
        let sha = consentry::crypto::Sha256Digest::of(std::str::from_utf8(&body).unwrap().trim().as_bytes())
            .to_hex();
        let id = serde_json::from_slice::<Value>(&body).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(op.get(&format!("/v1/grants/{id}")).body["sha256"], sha.as_str());
    }
    let chain = events.iter().find(|e| e["event"] == "chain").unwrap();
    assert!(chain["kinds"].as_array().unwrap().len() >= 4);

    // The objection filed in the browser: signed with the enterprise's key of the time, the
    // attachments only by digest, reviewed and resolved by the operator signing in the browser with
    // the node key.
    let filed = events
        .iter()
        .find(|e| e["event"] == "objection")
        .expect("an objection filed in the browser");
    let id = filed["id"].as_str().unwrap();
    let o = op.get(&format!("/v1/objections/{id}"));
    assert_eq!(o.status, 200, "{}", o.text);
    assert_eq!(o.body["enterprise"], OTHER_ENTERPRISE);
    assert_eq!(
        o.body["target"],
        json!({"type": "access", "logIndex": filed["logIndex"]})
    );
    assert_eq!(o.body["receivedBy"]["role"], "node");
    assert_eq!(o.body["state"], "rejected");
    let digests: Vec<&Value> = o.body["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["sha256"])
        .collect();
    assert_eq!(
        digests,
        filed["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>()
    );
    let steps: Vec<&str> = o.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["received", "forwarded", "under-review", "rejected"]);
    for s in &o.body["steps"].as_array().unwrap()[2..] {
        assert_eq!(s["actor"]["did"], w.node.did.as_str(), "{s}");
    }
    let filing = o.body["filing"].as_str().unwrap();
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(filing.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(
        header["kid"].as_str().unwrap().split('#').next(),
        filed["signer"].as_str()
    );
}

/// A consent request from the bank, answered in the browser (`tests/portal/consent.mjs`): the
/// enterprise sees it, narrows one term in the pre-filled wizard, signs; the request is signed with
/// that grant, the bank receives data under it through its platform; a second request is declined.
/// Screenshots in `target/portal-screenshots/consent/`.
#[test]
fn portal_consent_request_in_the_browser() {
    if let Err(m) = browser_tools() {
        panic!("{m}");
    }
    let w = World::new(Backend::Sqlite);
    let keys = tempfile::tempdir().unwrap();
    let shots = root().join("target/portal-screenshots/consent");
    let env = party_env(&w, keys.path());
    let events = run_story(
        "consent.mjs",
        &w.node.url,
        &shots,
        &borrowed(&env),
        "the consent request story",
    );
    let last = events.last().cloned().unwrap_or(Value::Null);
    // What the node holds: the request signed with the grant signed in the browser, narrowed.
    let (request, grant) = (last["request"].as_str().unwrap(), last["grant"].as_str().unwrap());
    let op = w.node.operator();
    let r = op.get(&format!("/v1/consent-requests/{request}"));
    assert_eq!(r.body["state"], "signed", "{}", r.text);
    assert_eq!(r.body["grant"], grant);
    let g = op.get(&format!("/v1/grants/{grant}"));
    assert_eq!(g.body["state"], "active", "{}", g.text);
    let credential: Value = serde_json::from_str(g.body["credential"].as_str().unwrap()).unwrap();
    assert_eq!(credential["credentialSubject"]["usage"]["maxReleases"], 2);
    screenshots(&shots, 9);
}

/// The pages of a platform's operator and of a bank (`tests/portal/parties.mjs`): the bank creates
/// a consent request in its page, the enterprise signs it in the browser, the platform releases for
/// the bank, the bank's receipts page verifies the release's inclusion proof; the platform's
/// operator sees its banks (suspends and resumes one), creates and withdraws a request, sees the
/// grant naming it, its verified release and its statistics. Screenshots in
/// `target/portal-screenshots/parties/`.
#[test]
fn portal_platform_and_bank_pages_in_the_browser() {
    if let Err(m) = browser_tools() {
        panic!("{m}");
    }
    let w = World::new(Backend::Sqlite);
    let keys = tempfile::tempdir().unwrap();
    let shots = root().join("target/portal-screenshots/parties");
    let env = party_env(&w, keys.path());
    let events = run_story(
        "parties.mjs",
        &w.node.url,
        &shots,
        &borrowed(&env),
        "the platform and bank pages story",
    );
    let last = events.last().cloned().unwrap_or(Value::Null);
    // What the node holds: the bank's request, made in its page, signed with the grant signed in the
    // browser; the release for the bank under it; the platform's own request withdrawn; the bank
    // active again after the platform suspended and resumed it.
    let op = w.node.operator();
    let (request, grant) = (last["request"].as_str().unwrap(), last["grant"].as_str().unwrap());
    let r = op.get(&format!("/v1/consent-requests/{request}"));
    assert_eq!(r.body["state"], "signed", "{}", r.text);
    assert_eq!(r.body["requester"]["uscc"], crate::service::BANK);
    assert_eq!(r.body["grant"], grant);
    let r = op.get(&format!(
        "/v1/consent-requests/{}",
        last["declined"].as_str().unwrap()
    ));
    assert_eq!(r.body["state"], "declined", "{}", r.text);
    assert_eq!(r.body["declineReason"], "暂无融资需求");
    let withdrawn = events
        .iter()
        .find(|e| e["event"] == "withdrawn")
        .and_then(|e| e["id"].as_str())
        .expect("a withdrawn request");
    let r = op.get(&format!("/v1/consent-requests/{withdrawn}"));
    assert_eq!(r.body["state"], "withdrawn", "{}", r.text);
    assert_eq!(r.body["requester"]["uscc"], crate::service::PLATFORM);
    let index = last["release"].as_u64().unwrap();
    let e = op.get(&format!(
        "/v1/log/entries?kind=release&bank={}",
        crate::service::BANK
    ));
    assert_eq!(e.status, 200, "{}", e.text);
    assert!(
        e.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["index"] == index && x["record"]["grant"]["id"] == grant),
        "{}",
        e.text
    );
    let banks = w.node.client(&w.platform).get("/v1/participants");
    assert_eq!(banks.body["participants"][0]["state"], "active", "{}", banks.text);
    let loans = w.client(&w.bank).get("/v1/loans");
    assert_eq!(loans.body["loans"][0]["loan"], "L-PARTIES-1", "{}", loans.text);
    screenshots(&shots, 15);
}

/// Runs `tests/portal/chain.mjs` against the node, expecting `expect`; the events it printed.
fn run_chain_script(s: &crate::chain::Setup, shots: &Path, expect: &str) -> Vec<Value> {
    let keys = tempfile::tempdir().unwrap();
    let join = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    let regulator_key = write_key(keys.path(), "regulator.key.json", &s.w.regulator);
    let (onward, upstream) = (join(&s.onward), join(&s.upstream));
    run_story(
        "chain.mjs",
        &s.w.node.url,
        shots,
        &[
            ("PORTAL_REGULATOR_KEY", regulator_key.as_os_str()),
            ("PORTAL_PLATFORM_USCC", OsStr::new(crate::chain::PLATFORM_USCC)),
            ("PORTAL_ENTERPRISE_USCC", OsStr::new(ENTERPRISE)),
            ("PORTAL_ONWARD", OsStr::new(&onward)),
            ("PORTAL_UPSTREAM", OsStr::new(&upstream)),
            ("PORTAL_EXPECT", OsStr::new(expect)),
        ],
        &format!("the two-hop explorer ({expect})"),
    )
}

/// The regulator's explorer across two hops (`tests/portal/chain.mjs`): a node, a platform process
/// admitted with its URL, its bank and two onward releases; in the browser the regulator follows
/// them from the platform's log (read across origins with an assertion signed in the page) to the
/// node's entries, each hop verified against its own log's checkpoint, the hops agreeing; then to
/// the node's entry and back. One changed record in the platform's database then fails that chain's
/// platform hop in the page while the other chain still verifies. Screenshots in
/// `target/portal-screenshots/chain/` and `chain-tampered/`.
#[test]
fn portal_regulator_follows_a_release_across_two_hops() {
    if let Err(m) = browser_tools() {
        panic!("{m}");
    }
    let s = crate::chain::setup(Backend::Sqlite);
    let events = run_chain_script(&s, &root().join("target/portal-screenshots/chain"), "verified");
    // The page read the node (its own origin) and the platform, nothing else.
    let origins = events
        .iter()
        .find(|e| e["event"] == "origins")
        .map(|e| e["origins"].clone())
        .unwrap_or(Value::Null);
    let mut origins: Vec<&str> = origins
        .as_array()
        .expect("the origins the page read")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    origins.sort_unstable();
    let mut expected = vec![s.w.node.url.as_str(), s.p.url.as_str()];
    expected.sort_unstable();
    assert_eq!(origins, expected);
    let back = events
        .iter()
        .find(|e| e["event"] == "grant-url")
        .and_then(|e| e["href"].as_str())
        .unwrap_or_default();
    assert!(
        back.contains(crate::chain::PLATFORM_USCC) && back.contains("grant"),
        "{back}"
    );

    // One record changed in the platform's database: its chain fails in the page, the other holds.
    let k = s.onward[1];
    crate::chain::tamper_record(&s.p, k);
    run_chain_script(
        &s,
        &root().join("target/portal-screenshots/chain-tampered"),
        &format!("tampered:{k}"),
    );
}

/// The platform's and the bank's portal calls over plain HTTP, on SQLite and PostgreSQL: each is the
/// `/v1` operation for the session's participant, with its role checks and scoping, CSRF required.
fn party_calls(backend: Backend) {
    use crate::consent::{BANK2, request_body};
    use crate::service::{BANK, OTHER_PLATFORM, PLATFORM};
    let w = World::new(backend);
    let base = w.node.url.clone();
    let op = w.node.operator();
    let other = new_key();
    let r = op.post("/v1/admin/platforms", &json!({"uscc": OTHER_PLATFORM, "name": "第二平台", "did": other.did.as_str(), "endpoint": "http://other.example"}));
    assert_eq!(r.status, 201, "{}", r.text);
    let r = w.node.client(&other).post(
        "/v1/banks",
        &json!({"uscc": BANK2, "name": "第二银行", "did": new_key().did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);

    let p = sign_in(&base, &w.platform);
    let b = sign_in(&base, &w.bank);
    let e = sign_in(&base, &w.enterprise);
    let me = b.get("/portal/api/me");
    assert_eq!(me.body["participant"]["platform"], PLATFORM, "{:?}", me.body);

    // Banks: the platform's own only; another platform's bank is 404, nothing changes.
    let banks = p.get("/portal/api/banks");
    assert_eq!(banks.status, 200, "{:?}", banks.body);
    let listed: Vec<&str> = banks.body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["uscc"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![BANK]);
    assert_eq!(b.get("/portal/api/banks").status, 403);
    assert_eq!(e.get("/portal/api/banks").status, 403);
    let suspend = json!({"state": "suspended"}).to_string();
    let r = p.post(&format!("/portal/api/banks/{BANK2}/state"), &suspend);
    assert_eq!(r.status, 404, "{:?}", r.body);
    let r = w.node.client(&other).get("/v1/participants");
    assert_eq!(r.body["participants"][0]["state"], "active", "{}", r.text);
    let r = b.post(&format!("/portal/api/banks/{BANK}/state"), &suspend);
    assert_eq!(r.status, 403, "a bank sets no state: {:?}", r.body);
    let r = send(
        "POST",
        &format!("{base}/portal/api/banks/{BANK}/state"),
        Some(&p.cookie),
        None,
        Some(&suspend),
    );
    assert_eq!(r.status, 403, "no CSRF token: {:?}", r.body);
    let r = p.post(
        &format!("/portal/api/banks/{BANK}/state"),
        &json!({"state": "pending"}).to_string(),
    );
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(r.body["type"].as_str().unwrap().ends_with("#invalid-state"));

    // Consent requests: the bank creates one (the requester is the session's), sees it, the
    // platform does not; the enterprise may not create; a bad request writes nothing.
    let body = request_body(|_| {}).to_string();
    let created = b.post("/portal/api/consent-requests", &body);
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["requester"]["uscc"], BANK);
    assert_eq!(created.body["requester"]["role"], "bank");
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(e.post("/portal/api/consent-requests", &body).status, 403);
    let bad = request_body(|b| b["terms"]["categories"] = json!([]));
    let r = b.post("/portal/api/consent-requests", &bad.to_string());
    assert_eq!(r.status, 422, "{:?}", r.body);
    let mine = b.get("/portal/api/consent-requests");
    assert_eq!(mine.status, 200);
    let ids: Vec<&str> = mine.body["consentRequests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id.as_str()], "one request, the valid one");
    assert_eq!(p.get(&format!("/portal/api/consent-requests/{id}")).status, 404);
    assert!(
        p.get("/portal/api/consent-requests").body["consentRequests"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Only the requester withdraws, with the CSRF token.
    let r = p.post(&format!("/portal/api/consent-requests/{id}/withdraw"), "");
    assert_eq!(r.status, 404, "{:?}", r.body);
    let r = e.post(&format!("/portal/api/consent-requests/{id}/withdraw"), "");
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = send(
        "POST",
        &format!("{base}/portal/api/consent-requests/{id}/withdraw"),
        Some(&b.cookie),
        None,
        None,
    );
    assert_eq!(r.status, 403, "no CSRF token: {:?}", r.body);
    let r = b.post(&format!("/portal/api/consent-requests/{id}/withdraw"), "");
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["state"], "withdrawn");
    let r = b.post(&format!("/portal/api/consent-requests/{id}/withdraw"), "");
    assert_eq!(r.status, 409, "only a pending request is withdrawn: {:?}", r.body);

    // Entries, loans, statistics: narrowed to the session's participant.
    let ent = e.get("/portal/api/entries");
    assert_eq!(ent.status, 403, "{:?}", ent.body);
    for s in [&p, &b] {
        let r = s.get("/portal/api/entries?kind=release");
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert!(r.body["entries"].as_array().unwrap().is_empty(), "{:?}", r.body);
        let r = s.get("/portal/api/loans");
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert!(r.body["loans"].as_array().unwrap().is_empty());
    }
    let r = b.get("/portal/api/summary");
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["scope"]["kind"], "bank");
    assert_eq!(r.body["scope"]["uscc"], BANK);
    let r = p.get("/portal/api/summary");
    assert_eq!(r.body["scope"]["kind"], "platform");
    assert_eq!(e.get("/portal/api/summary").status, 403);
    assert_eq!(e.get("/portal/api/loans").status, 403);
    assert_eq!(b.get("/portal/api/summary?bogus=1").status, 400);
    // The grants naming the bank and the platform: none yet.
    for s in [&p, &b] {
        let r = s.get("/portal/api/grants");
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert!(r.body["grants"].as_array().unwrap().is_empty());
    }

    // A grant naming both, a release for the bank through the platform, the bank's loan report:
    // each page's call now shows it, to the platform and the bank alike; the other platform's
    // bank is no party.
    let grant = w.grant();
    let r = w.client(&w.platform).post(
        "/v1/releases",
        &json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let release = r.body["logIndex"].as_u64().unwrap();
    let today = consentry::clock::Clock::now(&consentry::clock::SystemClock)
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date()
        .to_string();
    let report = json!({"reportId": "r-portal-1", "loan": "L-PORTAL-1", "enterprise": ENTERPRISE, "grant": grant, "releases": [release],
        "event": {"type": "decision", "decision": "approved", "amount": 300000, "termMonths": 12, "rateBand": "3-4", "security": "credit", "firstLoan": true, "on": today}});
    let token = consentry::node::auth::make_request(
        &w.bank,
        &w.node.did,
        "loan-report",
        json!({"report": report}),
        w.node.clock_now(),
    )
    .unwrap();
    let r = w
        .client(&w.platform)
        .post("/v1/loan-reports", &json!({"request": token}));
    assert_eq!(r.status, 201, "{}", r.text);
    for s in [&p, &b] {
        let r = s.get("/portal/api/entries?kind=release");
        let found: Vec<u64> = r.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["index"].as_u64().unwrap())
            .collect();
        assert_eq!(found, vec![release], "{:?}", r.body);
        let r = s.get("/portal/api/grants");
        assert_eq!(r.body["grants"][0]["id"], grant.as_str(), "{:?}", r.body);
        assert_eq!(s.get(&format!("/portal/api/grants/{grant}")).status, 200);
        let r = s.get("/portal/api/loans");
        assert_eq!(r.body["loans"][0]["loan"], "L-PORTAL-1", "{:?}", r.body);
        assert_eq!(r.body["loans"][0]["approvedAmount"], 300000);
        let r = s.get("/portal/api/summary");
        assert_eq!(r.body["access"]["totals"]["releases"], 1, "{:?}", r.body);
    }
    let r = b.get(&format!("/portal/api/loans?bank={BANK2}"));
    assert_eq!(r.status, 403, "a bank sees its own loans only: {:?}", r.body);

    // The platform suspends its bank in the portal: the bank's session ends; resuming works.
    let r = p.post(&format!("/portal/api/banks/{BANK}/state"), &suspend);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["state"], "suspended");
    assert_eq!(b.get("/portal/api/me").status, 401);
    let r = p.post(
        &format!("/portal/api/banks/{BANK}/state"),
        &json!({"state": "active"}).to_string(),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["state"], "active");
}

#[test]
fn portal_party_calls_sqlite() {
    party_calls(Backend::Sqlite);
}

#[test]
fn portal_party_calls_postgres() {
    party_calls(Backend::Postgres);
}

// ------------------------------------------------------------------ the session rules, over HTTP

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) set_cookie: Vec<String>,
}

pub(crate) fn send(
    method: &str,
    url: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let mut r = crate::common::server::http().request(method, url);
    if let Some(c) = cookie {
        r = r.set("Cookie", c);
    }
    if let Some(t) = csrf {
        r = r.set("X-CSRF-Token", t);
    }
    let res = match body {
        Some(b) => r.set("Content-Type", "application/json").send_string(b),
        None => r.call(),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport: {e}"),
    };
    let status = resp.status();
    let set_cookie = resp.all("set-cookie").into_iter().map(str::to_owned).collect();
    let text = resp.into_string().unwrap_or_default();
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        set_cookie,
    }
}

/// A signed-in portal session: the cookie (as sent back) and the CSRF token.
pub(crate) struct Session {
    base: String,
    pub(crate) cookie: String,
    csrf: String,
    set_cookie: String,
}

impl Session {
    pub(crate) fn get(&self, path: &str) -> Reply {
        send(
            "GET",
            &format!("{}{path}", self.base),
            Some(&self.cookie),
            None,
            None,
        )
    }

    pub(crate) fn post(&self, path: &str, body: &str) -> Reply {
        send(
            "POST",
            &format!("{}{path}", self.base),
            Some(&self.cookie),
            Some(&self.csrf),
            Some(body),
        )
    }
}

/// The signed challenge of `key` (what the page sends to `/portal/api/session`).
pub(crate) fn signed_challenge(base: &str, key: &KeyFile) -> String {
    let ch = send("GET", &format!("{base}/portal/api/challenge"), None, None, None);
    assert_eq!(ch.status, 200);
    let challenge = ch.body["challenge"].as_str().unwrap();
    let text = consentry::portal::session::login_text(ch.body["nodeDid"].as_str().unwrap(), challenge);
    let sig = key.secret.sign(text.as_bytes());
    json!({"did": key.did.as_str(), "challenge": challenge, "signature": URL_SAFE_NO_PAD.encode(sig)})
        .to_string()
}

pub(crate) fn sign_in(base: &str, key: &KeyFile) -> Session {
    let body = signed_challenge(base, key);
    let r = send(
        "POST",
        &format!("{base}/portal/api/session"),
        None,
        None,
        Some(&body),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let set_cookie = r.set_cookie.first().expect("a session cookie").clone();
    let cookie = set_cookie.split(';').next().unwrap().trim().to_owned();
    Session {
        base: base.to_owned(),
        cookie,
        csrf: r.body["csrf"].as_str().unwrap().to_owned(),
        set_cookie,
    }
}

fn age_sessions(w: &World, did: &str, column: &str) {
    use consentry::storage::schema::portal_sessions as ps;
    use diesel::prelude::*;
    let did = did.to_owned();
    let long_ago =
        consentry::clock::Clock::now(&consentry::clock::SystemClock).unix_timestamp() * 1000 - 31 * 60 * 1000;
    w.node
        .node
        .store
        .run(|c| {
            let q = diesel::update(ps::table.filter(ps::did.eq(did)).filter(ps::ended_at.is_null()));
            let n = if column == "last_seen" {
                q.set(ps::last_seen.eq(long_ago)).execute(c)?
            } else {
                q.set(ps::expires_at.eq(long_ago)).execute(c)?
            };
            Ok(n)
        })
        .unwrap();
}

#[test]
fn portal_session_security() {
    let w = World::new(Backend::Sqlite);
    let base = w.node.url.clone();
    let grant_a = w.grant();
    let b_key = new_key();
    register_enterprise(&w.node, &b_key, OTHER_ENTERPRISE, "杭州测试贸易有限公司");

    // Unauthenticated: nothing but the public pieces.
    assert_eq!(
        send("GET", &format!("{base}/portal/api/grants"), None, None, None).status,
        401
    );
    assert_eq!(
        send("GET", &format!("{base}/portal/api/me"), None, None, None).status,
        401
    );

    // The pages: embedded files, each with the same-origin-only CSP; the page may also connect to
    // the active platform's endpoint (its log, for the regulator's explorer across two hops).
    let page = crate::common::server::http()
        .get(&format!("{base}/portal/"))
        .call()
        .unwrap();
    assert_eq!(
        page.header("content-security-policy"),
        Some(consentry::portal::assets::csp_connecting(&["http://platform.example".to_owned()]).as_str())
    );
    for (path, ctype, _) in consentry::portal::assets::ASSETS {
        let r = crate::common::server::http()
            .get(&format!("{base}/portal/{path}"))
            .call()
            .unwrap();
        assert_eq!(r.header("content-type"), Some(*ctype), "{path}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }

    // The cookie: HttpOnly, SameSite=Strict, Path=/portal, not Secure over http.
    let a = sign_in(&base, &w.enterprise);
    let attrs: Vec<String> = a
        .set_cookie
        .split(';')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    assert!(a.cookie.starts_with("consentry_session="), "{}", a.set_cookie);
    assert!(attrs.contains(&"httponly".to_owned()), "{}", a.set_cookie);
    assert!(attrs.contains(&"samesite=strict".to_owned()), "{}", a.set_cookie);
    assert!(attrs.contains(&"path=/portal".to_owned()), "{}", a.set_cookie);
    assert!(!attrs.contains(&"secure".to_owned()), "{}", a.set_cookie);
    let me = a.get("/portal/api/me");
    assert_eq!(me.status, 200);
    assert_eq!(me.body["participant"]["uscc"], ENTERPRISE);
    let b = sign_in(&base, &b_key);

    // A replayed challenge is refused, and so is one the node did not issue.
    let signed = signed_challenge(&base, &b_key);
    let url = format!("{base}/portal/api/session");
    assert_eq!(send("POST", &url, None, None, Some(&signed)).status, 200);
    let again = send("POST", &url, None, None, Some(&signed));
    assert_eq!(again.status, 401, "{:?}", again.body);
    assert!(again.set_cookie.is_empty());
    // A challenge the node did not issue (its MAC replaced), properly signed, is refused.
    let fresh: Value = serde_json::from_str(&signed_challenge(&base, &b_key)).unwrap();
    let payload = fresh["challenge"].as_str().unwrap().split('.').next().unwrap();
    let forged = format!("{payload}.{}", "A".repeat(43));
    let sig = b_key
        .secret
        .sign(consentry::portal::session::login_text(&w.node.did, &forged).as_bytes());
    let body =
        json!({"did": b_key.did.as_str(), "challenge": forged, "signature": URL_SAFE_NO_PAD.encode(sig)});
    let r = send("POST", &url, None, None, Some(&body.to_string()));
    assert_eq!(r.status, 401, "{:?}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("not issued by this node"),
        "{:?}",
        r.body
    );
    // A signature by another key than the DID's is refused.
    let mut other: Value = serde_json::from_str(&signed_challenge(&base, &b_key)).unwrap();
    other["did"] = Value::String(w.enterprise.did.as_str().to_owned());
    assert_eq!(
        send("POST", &url, None, None, Some(&other.to_string())).status,
        401
    );

    // CSRF: a POST without the token, or with a wrong one, is refused; with it, it works.
    let slot_url = format!("{base}/portal/api/slots");
    let none = send("POST", &slot_url, Some(&a.cookie), None, Some("{}"));
    assert_eq!(none.status, 403, "{:?}", none.body);
    let wrong = send("POST", &slot_url, Some(&a.cookie), Some(&b.csrf), Some("{}"));
    assert_eq!(wrong.status, 403, "{:?}", wrong.body);
    assert_eq!(a.post("/portal/api/slots", "{}").status, 201);
    let revoke_url = format!("{base}/portal/api/grants/{grant_a}/revoke");
    let token = w
        .client(&w.enterprise)
        .signed_request("revoke", json!({"grant": grant_a}));
    assert_eq!(
        send("POST", &revoke_url, Some(&a.cookie), None, Some(&token)).status,
        403
    );
    assert_eq!(
        send(
            "POST",
            &format!("{base}/portal/api/logout"),
            Some(&a.cookie),
            Some("nope"),
            None
        )
        .status,
        403
    );
    assert_eq!(
        a.get("/portal/api/me").status,
        200,
        "a refused sign-out ends nothing"
    );

    // One enterprise cannot read or change another's grants or history.
    let mine = a.get("/portal/api/grants");
    assert!(
        mine.body["grants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == grant_a.as_str())
    );
    let theirs = b.get("/portal/api/grants");
    assert_eq!(theirs.status, 200);
    assert!(
        theirs.body["grants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["id"] != grant_a.as_str())
    );
    assert_eq!(b.get(&format!("/portal/api/grants/{grant_a}")).status, 404);
    let b_token = w
        .client(&b_key)
        .signed_request("revoke", json!({"grant": grant_a}));
    let r = b.post(&format!("/portal/api/grants/{grant_a}/revoke"), &b_token);
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = b.post(
        &format!("/portal/api/grants/{grant_a}/suspend"),
        &w.client(&b_key)
            .signed_request("suspend", json!({"grant": grant_a})),
    );
    assert_eq!(r.status, 403, "{:?}", r.body);
    // A's own signed request, replayed through B's session, is refused too: the signer must be B.
    let r = b.post(&format!("/portal/api/grants/{grant_a}/revoke"), &token);
    assert_eq!(r.status, 403, "{:?}", r.body);
    // B cannot submit A's grant as its own.
    let credential = a.get(&format!("/portal/api/grants/{grant_a}")).body["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = b.post("/portal/api/grants", &credential);
    assert_eq!(r.status, 403, "{:?}", r.body);
    for q in ["", "?enterprise=91330100716105852F", &format!("?grant={grant_a}")] {
        let h = b.get(&format!("/portal/api/history{q}"));
        assert_eq!(h.status, 200, "{:?}", h.body);
        for e in h.body["entries"].as_array().unwrap() {
            assert_ne!(e["record"]["enterprise"], ENTERPRISE, "{e}");
            assert_ne!(e["record"]["grant"]["id"], grant_a.as_str(), "{e}");
        }
    }
    let own = a.get(&format!("/portal/api/history?grant={grant_a}"));
    assert!(!own.body["entries"].as_array().unwrap().is_empty());
    assert_eq!(b.get("/portal/api/data").body["enterprise"], OTHER_ENTERPRISE);
    assert!(
        a.get("/portal/api/data").body["records"]
            .as_array()
            .unwrap()
            .len()
            >= 3
    );

    // Objections: filed through the portal with the CSRF token and the session's own key; each
    // enterprise sees only its own.
    let a_entry = own.body["entries"][0]["index"].as_u64().unwrap();
    let objection = |key: &KeyFile, enterprise: &str, log_index: u64| {
        w.client(key).signed_request(
            "object",
            json!({
                "enterprise": enterprise,
                "target": {"type": "access", "logIndex": log_index},
                "reason": "此记录有误 This entry is wrong",
                "attachments": [{"name": "证明.pdf", "sha256": "b".repeat(64), "mediaType": "application/pdf"}],
            }),
        )
    };
    let a_filing = objection(&w.enterprise, ENTERPRISE, a_entry);
    let objections_url = format!("{base}/portal/api/objections");
    let r = send("POST", &objections_url, Some(&a.cookie), None, Some(&a_filing));
    assert_eq!(r.status, 403, "no CSRF token: {:?}", r.body);
    let r = send(
        "POST",
        &objections_url,
        Some(&a.cookie),
        Some(&b.csrf),
        Some(&a_filing),
    );
    assert_eq!(r.status, 403, "another session's CSRF token: {:?}", r.body);
    assert_eq!(
        send("POST", &objections_url, None, None, Some(&a_filing)).status,
        401
    );
    // B cannot lodge A's filing, file in A's name, or object to A's entry as its own.
    let r = b.post("/portal/api/objections", &a_filing);
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = b.post("/portal/api/objections", &objection(&b_key, ENTERPRISE, a_entry));
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = b.post(
        "/portal/api/objections",
        &objection(&b_key, OTHER_ENTERPRISE, a_entry),
    );
    assert_eq!(r.status, 404, "{:?}", r.body);
    let filed = a.post("/portal/api/objections", &a_filing);
    assert_eq!(filed.status, 201, "{:?}", filed.body);
    assert_eq!(filed.body["state"], "forwarded");
    assert_eq!(filed.body["deadline"]["status"], "kept");
    let obj = filed.body["id"].as_str().unwrap().to_owned();
    assert_eq!(a.post("/portal/api/objections", &a_filing).status, 409);
    // A's list has it, with its steps; B's has none of A's, whatever the query.
    let mine = a.get("/portal/api/objections");
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    assert_eq!(mine.body["objections"][0]["id"], obj.as_str());
    assert_eq!(mine.body["objections"][0]["steps"].as_array().unwrap().len(), 2);
    for q in ["", &format!("?enterprise={ENTERPRISE}"), "?state=forwarded"] {
        let theirs = b.get(&format!("/portal/api/objections{q}"));
        assert_eq!(theirs.status, 200, "{:?}", theirs.body);
        assert!(
            theirs.body["objections"].as_array().unwrap().is_empty(),
            "{q}: {:?}",
            theirs.body
        );
    }
    assert_eq!(a.get(&format!("/portal/api/objections/{obj}")).status, 200);
    assert_eq!(b.get(&format!("/portal/api/objections/{obj}")).status, 404);
    // Only the operator reviews.
    let review = w
        .client(&b_key)
        .signed_request("review-objection", json!({"objection": obj}));
    assert_eq!(
        b.post(&format!("/portal/api/objections/{obj}/review"), &review)
            .status,
        403
    );

    // Regulator and operator pages are not for enterprises.
    assert_eq!(b.get("/portal/api/entries").status, 403);
    assert_eq!(b.get("/portal/api/registrations").status, 403);
    assert_eq!(b.get("/portal/api/stats").status, 403);
    assert_eq!(
        b.post(
            &format!("/portal/api/registrations/{OTHER_ENTERPRISE}/approve"),
            "{}"
        )
        .status,
        403
    );
    // And the regulator's session is not an enterprise's.
    let reg = sign_in(&base, &w.regulator);
    assert_eq!(reg.get("/portal/api/entries").status, 200);
    assert_eq!(reg.get("/portal/api/history").status, 403);
    assert_eq!(reg.post("/portal/api/slots", "{}").status, 403);
    assert_eq!(reg.get("/portal/api/charts/per-day.svg").status, 200);
    assert_eq!(reg.get("/portal/api/charts/loans-by-region.svg").status, 200);
    let st = reg.get("/portal/api/stats");
    assert_eq!(st.status, 200);
    assert!(st.body["loansByRegion"]["rows"].is_array(), "{:?}", st.body);
    let listed = reg.get("/portal/api/objections?state=forwarded");
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["objections"][0]["id"], obj.as_str());
    assert_eq!(reg.get(&format!("/portal/api/objections/{obj}")).status, 200);
    assert_eq!(reg.post("/portal/api/objections", &a_filing).status, 403);

    // The operator reviews in the portal with the node key: CSRF token required, and the statement
    // must be signed by the key the session was opened with.
    let operator = sign_in(&base, &w.node.node_key);
    let review_url = format!("{base}/portal/api/objections/{obj}/review");
    let node_review = w
        .node
        .operator()
        .signed_request("review-objection", json!({"objection": obj}));
    assert_eq!(
        send(
            "POST",
            &review_url,
            Some(&operator.cookie),
            None,
            Some(&node_review)
        )
        .status,
        403
    );
    let r = operator.post(&format!("/portal/api/objections/{obj}/review"), &review);
    assert_eq!(r.status, 403, "signed by another key: {:?}", r.body);
    let r = operator.post(&format!("/portal/api/objections/{obj}/review"), &node_review);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["state"], "under-review");

    // A data objection upheld in the portal: the record's new fields, and the old ones, are shown to
    // its enterprise — in the objection and on its data page.
    let record = a.get("/portal/api/data").body["records"][0].clone();
    let record_id = record["id"].as_i64().unwrap();
    let data_filing = w.client(&w.enterprise).signed_request(
        "object",
        json!({"enterprise": ENTERPRISE, "target": {"type": "data", "record": record_id}, "reason": "金额有误 Wrong amount"}),
    );
    let filed = a.post("/portal/api/objections", &data_filing);
    assert_eq!(filed.status, 201, "{:?}", filed.body);
    let data_obj = filed.body["id"].as_str().unwrap().to_owned();
    let node_client = w.node.operator();
    let review = node_client.signed_request("review-objection", json!({"objection": data_obj}));
    let r = operator.post(&format!("/portal/api/objections/{data_obj}/review"), &review);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut fields = record["fields"].clone();
    fields["corrected"] = json!(true);
    let resolve = node_client.signed_request(
        "resolve-objection",
        json!({"objection": data_obj, "outcome": "corrected", "explanation": "已更正 Corrected", "correction": {"fields": fields}}),
    );
    let r = send(
        "POST",
        &format!("{base}/portal/api/objections/{data_obj}/resolve"),
        Some(&operator.cookie),
        None,
        Some(&resolve),
    );
    assert_eq!(r.status, 403, "no CSRF token: {:?}", r.body);
    let r = operator.post(&format!("/portal/api/objections/{data_obj}/resolve"), &resolve);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["state"], "corrected");
    let seen = a.get(&format!("/portal/api/objections/{data_obj}"));
    assert_eq!(seen.body["corrections"][0]["old"], record["fields"]);
    assert_eq!(seen.body["corrections"][0]["new"], fields);
    let data = a.get("/portal/api/data");
    let now = data.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == record_id)
        .unwrap();
    assert_eq!(now["fields"], fields);
    assert_eq!(now["corrections"][0]["objection"], data_obj.as_str());
    assert_eq!(now["corrections"][0]["before"], record["fields"]);
    assert_eq!(b.get(&format!("/portal/api/objections/{data_obj}")).status, 404);

    // Sign-out ends the session: the old cookie is refused afterwards.
    let out = a.post("/portal/api/logout", "");
    assert_eq!(out.status, 200);
    let removal = out.set_cookie.first().unwrap().to_ascii_lowercase();
    assert!(
        removal.contains("max-age=0") || removal.contains("expires="),
        "{removal}"
    );
    assert_eq!(a.get("/portal/api/me").status, 401);
    assert_eq!(a.post("/portal/api/slots", "{}").status, 401);

    // An idle session (30 minutes) and one past its absolute lifetime are refused.
    let idle = sign_in(&base, &w.enterprise);
    assert_eq!(idle.get("/portal/api/me").status, 200);
    age_sessions(&w, w.enterprise.did.as_str(), "last_seen");
    let r = idle.get("/portal/api/me");
    assert_eq!(r.status, 401, "{:?}", r.body);
    let old = sign_in(&base, &w.enterprise);
    age_sessions(&w, w.enterprise.did.as_str(), "expires_at");
    assert_eq!(old.get("/portal/api/me").status, 401);
    // B's session was never touched.
    assert_eq!(b.get("/portal/api/me").status, 200);
}

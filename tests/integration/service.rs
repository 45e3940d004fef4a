//! The node over HTTP, on SQLite and on PostgreSQL: the whole story (register, approve, grant,
//! release, revoke, refused, resume), a refusal test for every rule, and the rule that a refused or
//! malformed request writes nothing but its refusal record.

use consentry::catalog::Catalog;
use consentry::credential::data_integrity::create_proof;
use consentry::grant::GrantDraft;
use consentry::grant::draft::example;
use consentry::grant::model::{Granularity, Usage};
use consentry::identity::KeyFile;
use consentry::ids::GrantId;
use serde_json::{Value, json};

use crate::common::server::{Backend, Client, TestNode, get_public, new_key};

pub const ENTERPRISE: &str = example::ENTERPRISE;
pub const OTHER_ENTERPRISE: &str = "91330106MA2B3C4D11";
pub const PLATFORM: &str = example::PLATFORM;
pub const OTHER_PLATFORM: &str = "91330000MA28PLAT2L";
pub const BANK: &str = example::BANK;
pub const REGULATOR: &str = "91110000MA01REGU0H";

/// Demo records for the test enterprise: tax filings (non-public), social insurance (non-public),
/// registration basics (public).
const RECORDS: &str = r#"{"uscc":"91330100716105852F","category":"TAX-03","date":"2025-01-31","provider":"STA","fields":{"taxType":"VAT","taxPaid":1200.5,"declaredSales":48000}}
{"uscc":"91330100716105852F","category":"TAX-03","date":"2025-02-28","provider":"STA","fields":{"taxType":"VAT","taxPaid":1350,"declaredSales":52000}}
{"uscc":"91330100716105852F","category":"TAX-03","date":"2025-03-31","provider":"STA","fields":{"taxType":"VAT","taxPaid":1100.25,"declaredSales":45000}}
{"uscc":"91330100716105852F","category":"TAX-03","date":"2025-04-30","provider":"STA","fields":{"taxType":"VAT","taxPaid":1500,"declaredSales":61000}}
{"uscc":"91330100716105852F","category":"TAX-03","date":"2023-06-30","provider":"STA","fields":{"taxType":"VAT","taxPaid":900,"declaredSales":30000}}
{"uscc":"91330100716105852F","category":"SOC-01","date":"2025-02-28","provider":"MOHRSS","fields":{"insured":12,"schemes":5,"status":"normal"}}
{"uscc":"91330100716105852F","category":"REG-01","date":"2020-05-01","provider":"SAMR","fields":{"name":"杭州示例科技有限公司","capital":1000000,"status":"存续","legalRepresentative":"陈卓远"}}"#;

/// A node with an admitted platform, its bank, a regulator, an approved enterprise and its data.
pub struct World {
    pub node: TestNode,
    pub platform: KeyFile,
    pub bank: KeyFile,
    pub regulator: KeyFile,
    pub enterprise: KeyFile,
}

impl World {
    pub fn new(backend: Backend) -> Self {
        Self::with_node(TestNode::start(backend))
    }

    /// A world whose node's clock starts at `at`.
    pub fn new_at(backend: Backend, at: time::OffsetDateTime) -> Self {
        Self::with_node(TestNode::start_at(backend, at))
    }

    /// The world around a started node.
    pub fn with_node(node: TestNode) -> Self {
        let (platform, bank, regulator, enterprise) = (new_key(), new_key(), new_key(), new_key());
        let op = node.operator();
        let r = op.post("/v1/admin/platforms", &json!({"uscc": PLATFORM, "name": "示例融资信用服务平台", "did": platform.did.as_str(), "endpoint": "http://platform.example"}));
        assert_eq!(r.status, 201, "{}", r.text);
        let r = op.post(
            "/v1/admin/regulators",
            &json!({"uscc": REGULATOR, "name": "省金融监管局", "did": regulator.did.as_str()}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        let r = node.client(&platform).post(
            "/v1/banks",
            &json!({"uscc": BANK, "name": "示例银行", "did": bank.did.as_str()}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        register_enterprise(&node, &enterprise, ENTERPRISE, "杭州示例科技有限公司");
        let catalog = Catalog::builtin();
        let records = consentry::node::data::parse_import(RECORDS.as_bytes(), &catalog, None, 0)
            .unwrap()
            .records;
        node.node
            .store
            .run(|c| consentry::storage::data::insert(c, &records))
            .unwrap();
        Self {
            node,
            platform,
            bank,
            regulator,
            enterprise,
        }
    }

    pub fn client(&self, key: &KeyFile) -> Client {
        self.node.client(key)
    }

    /// Allocates a slot, builds a grant (edited by `edit`), signs it with `signer` and submits it.
    pub fn grant_with(
        &self,
        signer: &KeyFile,
        edit: impl FnOnce(&mut GrantDraft),
    ) -> (String, crate::common::server::Answer) {
        let slot = self.client(&self.enterprise).post("/v1/status/slots", &json!({}));
        assert_eq!(slot.status, 201, "{}", slot.text);
        let mut d = draft(
            &self.enterprise,
            slot.body["statusList"].as_str().unwrap(),
            slot.body["statusIndex"].as_u64().unwrap(),
        );
        edit(&mut d);
        let bytes = serde_json::to_string(&create_proof(&d.to_credential(), signer, now()).unwrap()).unwrap();
        let r = self.client(signer).post_raw("/v1/grants", &bytes, false);
        (d.id.as_str().to_owned(), r)
    }

    pub fn grant(&self) -> String {
        let (id, r) = self.grant_with(&self.enterprise.clone(), |_| {});
        assert_eq!(r.status, 201, "{}", r.text);
        id
    }

    pub fn release(&self, body: Value) -> crate::common::server::Answer {
        self.client(&self.platform).post("/v1/releases", &body)
    }

    pub fn change(&self, key: &KeyFile, action: &str, grant: &str) -> crate::common::server::Answer {
        let c = self.client(key);
        let token = c.signed_request(action, json!({"grant": grant}));
        c.post_raw(&format!("/v1/grants/{grant}/{action}"), &token, false)
    }

    pub fn log_size(&self) -> u64 {
        get_public(&format!("{}/v1/node", self.node.url)).body["logSize"]
            .as_u64()
            .unwrap()
    }
}

pub fn now() -> time::OffsetDateTime {
    consentry::clock::Clock::now(&consentry::clock::SystemClock)
}

pub fn register_enterprise(node: &TestNode, key: &KeyFile, uscc: &str, name: &str) {
    let c = node.client(key);
    let token = c.signed_request("register", json!({"uscc": uscc, "name": name}));
    let r = c.post_raw("/v1/registrations", &token, false);
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["state"], "pending");
    let r = node
        .operator()
        .post(&format!("/v1/admin/registrations/{uscc}/approve"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    // The identity credential is the node vouching for the key: it verifies, issued by the node.
    let vc = r.body["identityCredential"].to_string();
    let v = consentry::credential::verify(vc.as_bytes(), node.clock_now()).unwrap();
    assert_eq!(v.signer.as_str(), node.did);
    assert_eq!(v.document["credentialSubject"]["id"], key.did.as_str());
}

/// A valid draft for the test enterprise: the platform gets TAX-03 raw and SOC-01 derived, the bank
/// TAX-03 derived; 4 releases a month; credit approval.
pub fn draft(enterprise: &KeyFile, list: &str, index: u64) -> GrantDraft {
    let t = now();
    GrantDraft::example(enterprise.did.as_str())
        .with_id(GrantId::random())
        .with_validity(t - time::Duration::minutes(1), t + time::Duration::days(365))
        .with_status(list, index)
        .with_current_letters(&Catalog::builtin())
}

fn tax_release(grant: &str) -> Value {
    json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK})
}

fn story(backend: Backend) {
    let w = World::new(backend);
    let grant = w.grant();

    // The bank's request through its platform: derived results only, clipped to the data period.
    let r = w.release(tax_release(&grant));
    assert_eq!(r.status, 200, "{}", r.text);
    let tax = &r.body["data"]["TAX-03"];
    assert_eq!(tax["granularity"], "derived");
    // Only whole, settled quarters inside the data period count: 2025-Q1 (three filings); the
    // April filing is alone in its quarter (withheld), the 2023 one outside the data period.
    assert_eq!(tax["releasedBlocks"], json!(["2025-Q1"]), "{tax}");
    assert_eq!(tax["withheldBlocks"], json!(["2025-Q2"]), "{tax}");
    assert_eq!(tax["indicators"]["filings"], 3);
    assert_eq!(
        tax["indicators"]["taxPaid"], 4000,
        "3650.75 rounded to the declared 1000"
    );
    assert_eq!(tax["derivation"]["catalogVersion"], Catalog::builtin().version());
    let text = tax.to_string();
    for raw in ["1200.5", "1350", "1100.25", "48000", "VAT"] {
        assert!(!text.contains(raw), "raw value {raw} in {text}");
    }
    assert!(
        tax.get("records").is_none(),
        "no detail rows in a derived release"
    );
    let digest =
        consentry::crypto::Sha256Digest::of(&consentry::crypto::jcs::canonicalize(&r.body["data"]).unwrap())
            .to_hex();
    assert_eq!(
        r.body["dataSha256"],
        digest.as_str(),
        "the logged digest is the digest of what was released"
    );
    assert_eq!(r.body["receipt"]["type"], "inclusion-promise");

    // The platform itself may have the raw records, which its grant allows.
    let r = w.release(json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "raw", "purpose": "credit-approval"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["TAX-03"]["records"].as_array().unwrap().len(), 4);

    // Public data needs no grant, and is still logged.
    let before = w.log_size();
    let r = w.release(json!({"enterprise": ENTERPRISE, "categories": ["REG-01"], "granularity": "raw", "purpose": "credit-approval"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(w.log_size(), before + 1);
    // A natural person in public data is masked (spec/derivations.md §5); the enterprise's own
    // view keeps the name.
    let reg = &r.body["data"]["REG-01"]["records"][0]["fields"];
    assert_eq!(reg["legalRepresentative"], "陈某", "{reg}");
    assert_eq!(
        reg["name"], "杭州示例科技有限公司",
        "the enterprise's own name is not a person's"
    );
    assert!(!r.text.contains("陈卓远"));
    let mine = w.client(&w.enterprise).get("/v1/enterprise/data");
    assert!(
        mine.text.contains("陈卓远"),
        "the enterprise sees its own record unmasked"
    );

    // Revoked: refused from then on, with the reason, and the refusal logged.
    let r = w.change(&w.enterprise, "revoke", &grant);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "revoked");
    let r = w.release(tax_release(&grant));
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.problem(), "release-refused");
    assert!(
        r.reasons().contains(&"grant-revoked".to_owned()),
        "{:?}",
        r.reasons()
    );
    assert!(r.body["logIndex"].is_u64());
    // Revocation is final.
    assert_eq!(w.change(&w.enterprise, "resume", &grant).status, 409);

    // Suspend and resume a second grant.
    let g2 = w.grant();
    assert_eq!(w.change(&w.enterprise, "suspend", &g2).status, 200);
    let r = w.release(tax_release(&g2));
    assert_eq!(r.status, 403);
    assert!(
        r.reasons().contains(&"grant-suspended".to_owned()),
        "{:?}",
        r.reasons()
    );
    assert_eq!(w.change(&w.enterprise, "resume", &g2).status, 200);
    assert_eq!(w.release(tax_release(&g2)).status, 200);

    // The published status lists say the same, signed by the node.
    let g = w.client(&w.enterprise).get(&format!("/v1/grants/{grant}"));
    assert_eq!(g.status, 200, "{}", g.text);
    let (list, index) = (
        g.body["statusListNumber"].as_i64().unwrap(),
        g.body["statusListIndex"].as_u64().unwrap(),
    );
    let rl = get_public(&format!("{}/status/{list}/revocation", w.node.url));
    assert_eq!(rl.status, 200);
    assert!(rl.header("cache-control").unwrap().contains("max-age"));
    assert!(rl.header("etag").is_some());
    let vc = consentry::credential::verify(rl.text.as_bytes(), now()).unwrap();
    assert_eq!(vc.signer.as_str(), w.node.did);
    let encoded = vc.document["credentialSubject"]["encodedList"].as_str().unwrap();
    let bits = consentry::status::Bitstring::decode(encoded, 1).unwrap();
    assert_eq!(bits.get(index).unwrap(), 1, "revoked grant's bit is set");
    let events = g.body["events"].as_array().unwrap();
    assert_eq!(events[0]["action"], "revoke");
    assert!(
        events[0]["evidence"].as_str().unwrap().split('.').count() == 3,
        "the signed request is kept"
    );
}

#[test]
fn story_on_sqlite() {
    story(Backend::Sqlite);
}

#[test]
fn story_on_postgres() {
    story(Backend::Postgres);
}

/// Every rule of the release decision, each with its own reason.
#[test]
fn every_refusal_has_its_reason() {
    let w = World::new(Backend::Sqlite);
    let grant = w.grant();
    let refused = |body: Value, caller: &KeyFile, code: &str| {
        let before = w.log_size();
        let r = w.client(caller).post("/v1/releases", &body);
        assert_eq!(r.status, 403, "{code}: {}", r.text);
        assert!(
            r.reasons().iter().any(|c| c == code),
            "expected {code}, got {:?}",
            r.reasons()
        );
        assert_eq!(
            w.log_size(),
            before + 1,
            "{code}: exactly the refusal record is written"
        );
    };
    let mut body = tax_release(&grant);
    // Not the grantee.
    let other_platform = new_key();
    let op = w.node.operator();
    assert_eq!(op.post("/v1/admin/platforms", &json!({"uscc": OTHER_PLATFORM, "name": "另一平台", "did": other_platform.did.as_str(), "endpoint": "http://other.example"})).status, 201);
    body["onBehalfOf"] = Value::Null;
    refused(body.clone(), &other_platform, "not-grantee");
    // A bank cannot ask the node itself.
    refused(tax_release(&grant), &w.bank, "caller-role");
    // Category not granted, granularity not granted, purpose not granted.
    let mut b = tax_release(&grant);
    b["categories"] = json!(["HPF-01"]);
    refused(b, &w.platform, "category-not-granted");
    let mut b = tax_release(&grant);
    b["onBehalfOf"] = Value::Null;
    b["categories"] = json!(["SOC-01"]);
    b["granularity"] = json!("raw");
    refused(b, &w.platform, "granularity-not-granted");
    let mut b = tax_release(&grant);
    b["purpose"] = json!("post-loan-management");
    refused(b, &w.platform, "purpose-not-granted");
    // Raw non-public data for a bank.
    let mut b = tax_release(&grant);
    b["granularity"] = json!("raw");
    refused(b, &w.platform, "bank-raw-non-public");
    // Non-public data without a grant; an unknown grant; an unknown purpose and category.
    let mut b = tax_release(&grant);
    b.as_object_mut().unwrap().remove("grant");
    refused(b, &w.platform, "grant-required");
    let mut b = tax_release(&grant);
    b["grant"] = json!(GrantId::random().as_str());
    refused(b, &w.platform, "unknown-grant");
    let mut b = tax_release(&grant);
    b["purpose"] = json!("marketing");
    refused(b, &w.platform, "unknown-purpose");
    let mut b = tax_release(&grant);
    b["categories"] = json!(["NOPE-1"]);
    refused(b, &w.platform, "unknown-category");
    // A bank the grant does not name / that is not of this platform.
    let mut b = tax_release(&grant);
    b["onBehalfOf"] = json!("91330200MA2CDEF57N");
    refused(b, &w.platform, "unknown-bank");
    // Another enterprise's data under this grant.
    let mut b = tax_release(&grant);
    b["enterprise"] = json!(OTHER_ENTERPRISE);
    refused(b, &w.platform, "grant-other-enterprise");
    // Malformed requests from a known caller are refusals too.
    refused(
        json!({"enterprise": ENTERPRISE, "categories": "TAX-03"}),
        &w.platform,
        "malformed-request",
    );
    let mut b = tax_release(&grant);
    b["enterprise"] = json!("12345");
    refused(b, &w.platform, "invalid-uscc");
    // The rate: 4 a month; two used below, so the fifth is refused.
    for _ in 0..4 {
        assert_eq!(w.release(tax_release(&grant)).status, 200);
    }
    refused(tax_release(&grant), &w.platform, "rate-exceeded");
    // A suspended caller.
    assert_eq!(
        op.post(
            &format!("/v1/admin/participants/platform/{PLATFORM}/state"),
            &json!({"state": "suspended"})
        )
        .status,
        200
    );
    refused(tax_release(&grant), &w.platform, "caller-not-admitted");
}

#[test]
fn one_off_grants_are_spent_once() {
    let w = World::new(Backend::Sqlite);
    let (id, r) = w.grant_with(&w.enterprise.clone(), |d| d.terms.usage = Usage::OneOff {});
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(w.release(tax_release(&id)).status, 200);
    let r = w.release(tax_release(&id));
    assert_eq!(r.status, 403, "{}", r.text);
    // `one-off-used`, not `rate-exceeded`: the second request is refused by `policy::decide`, which
    // reads the use already counted (usage period `total`) and names a one-off grant's own rule.
    // `rate-exceeded` is the committer's late re-check under the log lock, reached only when two
    // requests race past the decision together; sequential requests never get there.
    assert_eq!(r.reasons(), ["one-off-used"]);
}

#[test]
fn expired_grants_are_refused() {
    let w = World::new(Backend::Sqlite);
    let (id, r) = w.grant_with(&w.enterprise.clone(), |d| {
        d.valid_from = now() - time::Duration::days(10);
        d.valid_until = now() + time::Duration::hours(1);
    });
    assert_eq!(r.status, 201, "{}", r.text);
    // Past the grant's window on the node's clock (which the clients' assertions follow).
    w.node.clock.advance(time::Duration::hours(2));
    let r = w.release(tax_release(&id));
    assert!(r.reasons().contains(&"expired".to_owned()), "{:?}", r.reasons());
}

/// A stored grant whose digest no longer parses is corruption: the release fails with a storage
/// problem (and nothing is released or logged against a made-up digest), it does not go on with a
/// zero digest.
fn corrupt_grant_digest_fails_the_release(backend: Backend) {
    use diesel::connection::SimpleConnection;
    let w = World::new(backend);
    let grant = w.grant();
    assert_eq!(w.release(tax_release(&grant)).status, 200);
    w.node
        .node
        .store
        .run(|c| {
            c.batch_execute(&format!(
                "UPDATE grants SET sha256 = 'not-a-digest' WHERE id = '{grant}'"
            ))
            .map_err(consentry::storage::StorageError::Query)
        })
        .unwrap();
    let before = w.log_size();
    let r = w.release(tax_release(&grant));
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.problem(), "storage-unavailable", "{}", r.text);
    assert!(r.body.get("data").is_none(), "{}", r.text);
    assert_eq!(w.log_size(), before, "nothing is logged for the failed release");
}

#[test]
fn corrupt_grant_digest_fails_the_release_on_sqlite() {
    corrupt_grant_digest_fails_the_release(Backend::Sqlite);
}

#[test]
fn corrupt_grant_digest_fails_the_release_on_postgres() {
    corrupt_grant_digest_fails_the_release(Backend::Postgres);
}

#[test]
fn removing_a_platform_suspends_its_grants_and_tells_the_enterprise() {
    let w = World::new(Backend::Sqlite);
    let grant = w.grant();
    let r = w.node.operator().post(
        &format!("/v1/admin/participants/platform/{PLATFORM}/state"),
        &json!({"state": "removed"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["suspendedGrants"], 1);
    let g = w.client(&w.enterprise).get(&format!("/v1/grants/{grant}"));
    assert_eq!(g.body["state"], "suspended");
    let notices = w.client(&w.enterprise).get("/v1/notices");
    assert_eq!(notices.body["notices"][0]["kind"], "grant-suspended");
    // From that moment on, refused; and the enterprise cannot resume a grant to a removed platform.
    let r = w.release(tax_release(&grant));
    assert!(
        r.reasons().contains(&"caller-not-admitted".to_owned()),
        "{:?}",
        r.reasons()
    );
    assert_eq!(w.change(&w.enterprise, "resume", &grant).status, 409);
    // Removal is final.
    let r = w.node.operator().post(
        &format!("/v1/admin/participants/platform/{PLATFORM}/state"),
        &json!({"state": "active"}),
    );
    assert_eq!(r.status, 409);
}

#[test]
fn grant_submission_checks_the_key_binding() {
    let w = World::new(Backend::Sqlite);
    // A key that is not the enterprise's cannot submit a grant in its name.
    let stranger = new_key();
    let (_, r) = w.grant_with(&stranger, |d| d.issuer = stranger.did.as_str().to_owned());
    assert_eq!(r.status, 403, "{}", r.text);
    // A grant breaking a rule is refused with every reason (422).
    let (_, r) = w.grant_with(&w.enterprise.clone(), |d| {
        d.terms.onward_recipients[0].categories[0].granularity = Granularity::Raw;
        d.terms.purposes = vec!["marketing".into()];
    });
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.problem(), "grant-invalid");
    let reasons = r.reasons();
    assert!(
        reasons.contains(&"bank-raw-non-public".to_owned())
            && reasons.contains(&"unknown-purpose".to_owned()),
        "{reasons:?}"
    );
    // Same bytes twice: idempotent; another grant with the same id: conflict.
    let slot = w.client(&w.enterprise).post("/v1/status/slots", &json!({}));
    let d = draft(
        &w.enterprise,
        slot.body["statusList"].as_str().unwrap(),
        slot.body["statusIndex"].as_u64().unwrap(),
    );
    let bytes =
        serde_json::to_string(&create_proof(&d.to_credential(), &w.enterprise, now()).unwrap()).unwrap();
    assert_eq!(
        w.client(&w.enterprise)
            .post_raw("/v1/grants", &bytes, false)
            .status,
        201
    );
    let again = w.client(&w.enterprise).post_raw("/v1/grants", &bytes, false);
    assert_eq!(
        again.status, 200,
        "the same bytes again: idempotent, nothing new stored"
    );
    let mut d2 = d.clone();
    d2.terms.purposes = vec!["post-loan-management".into()];
    let bytes2 =
        serde_json::to_string(&create_proof(&d2.to_credential(), &w.enterprise, now()).unwrap()).unwrap();
    assert_eq!(
        w.client(&w.enterprise)
            .post_raw("/v1/grants", &bytes2, false)
            .status,
        409
    );
}

#[test]
fn roles_see_only_what_they_may() {
    let w = World::new(Backend::Sqlite);
    let grant = w.grant();
    // Another enterprise sees neither the grant nor the list of it.
    let other = new_key();
    register_enterprise(&w.node, &other, OTHER_ENTERPRISE, "另一企业");
    assert_eq!(w.client(&other).get(&format!("/v1/grants/{grant}")).status, 404);
    assert!(
        w.client(&other).get("/v1/grants").body["grants"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The regulator reads everything and changes nothing.
    assert_eq!(
        w.client(&w.regulator).get(&format!("/v1/grants/{grant}")).status,
        200
    );
    assert_eq!(w.client(&w.regulator).post("/v1/admin/platforms", &json!({"uscc": OTHER_PLATFORM, "name": "x", "did": new_key().did.as_str(), "endpoint": "http://x"})).status, 403);
    assert_eq!(
        w.client(&w.regulator)
            .post("/v1/releases", &tax_release(&grant))
            .status,
        403
    );
    // Only the enterprise (or its agent) changes the grant's status.
    assert_eq!(w.change(&w.platform, "revoke", &grant).status, 403);
    // An enterprise's own data, free.
    let mine = w.client(&w.enterprise).get("/v1/enterprise/data");
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["records"].as_array().unwrap().len(), 7);
    assert_eq!(w.client(&w.platform).get("/v1/enterprise/data").status, 403);
}

#[test]
fn assertions_are_single_use_and_bound_to_the_request() {
    let w = World::new(Backend::Sqlite);
    let c = w.client(&w.enterprise);
    let token = consentry::node::auth::make(&w.enterprise, &w.node.did, "GET", "/v1/grants", now()).unwrap();
    let call = |path: &str, token: &str| {
        crate::common::server::http()
            .get(&format!("{}{path}", w.node.url))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .map(|r| r.status())
            .unwrap_or_else(|e| match e {
                ureq::Error::Status(s, _) => s,
                other => panic!("{other}"),
            })
    };
    assert_eq!(call("/v1/grants", &token), 200);
    assert_eq!(call("/v1/grants", &token), 401, "replayed");
    let token = consentry::node::auth::make(&w.enterprise, &w.node.did, "GET", "/v1/grants", now()).unwrap();
    assert_eq!(call("/v1/notices", &token), 401, "bound to its path");
    let token = consentry::node::auth::make(
        &w.enterprise,
        "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
        "GET",
        "/v1/grants",
        now(),
    )
    .unwrap();
    assert_eq!(call("/v1/grants", &token), 401, "another audience");
    let stranger = new_key();
    let token = consentry::node::auth::make(&stranger, &w.node.did, "GET", "/v1/grants", now()).unwrap();
    assert_eq!(call("/v1/grants", &token), 401, "unregistered key");
    assert_eq!(c.get("/v1/grants").status, 200);
}

#[test]
fn key_rotation_keeps_old_grants_valid() {
    let w = World::new(Backend::Sqlite);
    let grant = w.grant();
    let new = new_key();
    let c = w.client(&w.enterprise);
    let proof = w.client(&new).signed_request("accept-key", json!({}));
    let req = c.signed_request("rotate-key", json!({"newKey": new.did.as_str(), "proof": proof}));
    let r = c.post_raw("/v1/participants/me/keys", &req, false);
    assert_eq!(r.status, 200, "{}", r.text);
    // The old key no longer authenticates; the new one does; the grant signed by the old key still works.
    assert_eq!(w.client(&w.enterprise).get("/v1/grants").status, 401);
    assert_eq!(w.client(&new).get("/v1/grants").status, 200);
    assert_eq!(w.release(tax_release(&grant)).status, 200);
    // Revoking now needs the new key.
    assert_eq!(w.change(&w.enterprise, "revoke", &grant).status, 403);
    assert_eq!(w.change(&new, "revoke", &grant).status, 200);
}

#[test]
fn problems_are_rfc9457_and_bodies_are_bounded() {
    let w = World::new(Backend::Sqlite);
    let r = get_public(&format!("{}/v1/grants/x", w.node.url));
    assert_eq!(r.status, 401);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(
        r.body["type"],
        "https://w3id.org/consentry/problems#unauthenticated"
    );
    // A body over the limit is refused from its Content-Length, before it is read.
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(w.node.url.trim_start_matches("http://")).unwrap();
    write!(
        s,
        "POST /v1/grants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        70 * 1024
    )
    .unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("payload-too-large"), "{head}");
    let r = w
        .client(&w.enterprise)
        .post_raw("/v1/grants", "{\"a\":1,\"a\":2}", false);
    assert_eq!(r.status, 422);
    assert!(r.text.contains("duplicate member"), "{}", r.text);
}

//! A node and a platform as two services: a bank asks its platform, which verifies the grant offline
//! against the node's signed status lists, fetches derived results from the node on the bank's
//! behalf, and records the onward release with the node's entry as its upstream.

use serde_json::json;

use crate::common::server::{Backend, TestNode, TestPlatform, get_public, new_key};
use crate::service::{BANK, ENTERPRISE, PLATFORM, World};

#[test]
fn bank_through_platform_hop_by_hop() {
    let w = World::new(Backend::Sqlite);
    // The platform service, admitted at the node with its own key (the world's platform key stands
    // for another platform entry; this one uses the service's key).
    let p = TestPlatform::start(&w.node.url, "91330000MA28PLAT2L");
    let op = w.node.operator();
    let r = op.post(
        "/v1/admin/platforms",
        &json!({"uscc": p.uscc, "name": "平台服务", "did": p.key.did.as_str(), "endpoint": p.url}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    // Its operator registers a bank through it: at the node and in its own registry.
    let bank = new_key();
    let bank_uscc = "91330300MA2GHJK66N";
    let r = p.client(&p.key).post(
        "/v1/banks",
        &json!({"uscc": bank_uscc, "name": "平台银行", "did": bank.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    // A code that names another participant at the node is the node's conflict, passed on as such
    // (not a 503 a client would retry), and nothing is recorded at the platform.
    let r = p.client(&p.key).post(
        "/v1/banks",
        &json!({"uscc": ENTERPRISE, "name": "冒名银行", "did": new_key().did.as_str()}),
    );
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.problem(), "conflict");
    assert!(r.text.contains("the node refused the bank"), "{}", r.text);
    // A grant naming this platform and this bank.
    let (grant, r) = w.grant_with(&w.enterprise.clone(), |d| {
        d.terms.grantee.uscc = p.uscc.clone();
        d.terms.onward_recipients[0].uscc = bank_uscc.to_owned();
    });
    assert_eq!(r.status, 201, "{}", r.text);

    let ask = json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "purpose": "credit-approval"});
    let r = p.client(&bank).post("/v1/releases", &ask);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["TAX-03"]["granularity"], "derived");
    assert!(r.body["data"]["TAX-03"].get("records").is_none());
    // Hop by hop: the platform's entry names the node's entry, which the node holds for the bank.
    let upstream = r.body["upstream"]["index"].as_u64().unwrap();
    assert_eq!(
        r.body["upstream"]["receipt"]["origin"],
        w.node.node.origin.as_str()
    );
    let node_leaf: Vec<u8> = w
        .node
        .node
        .store
        .run(|c| {
            use consentry::storage::schema::log_leaves;
            use diesel::prelude::*;
            Ok(log_leaves::table
                .find(upstream as i64)
                .select(log_leaves::leaf)
                .first::<Vec<u8>>(c)?)
        })
        .unwrap();
    assert_eq!(
        hex::encode(consentry::log::merkle::leaf_hash(&node_leaf)),
        r.body["upstream"]["leafHash"].as_str().unwrap()
    );
    let record: String = w
        .node
        .node
        .store
        .run(|c| {
            use consentry::storage::schema::log_records;
            use diesel::prelude::*;
            Ok(log_records::table
                .find(upstream as i64)
                .select(log_records::record)
                .first::<Option<String>>(c)?
                .unwrap())
        })
        .unwrap();
    assert!(
        record.contains(bank_uscc),
        "the node's record names the bank: {record}"
    );

    // The platform serves its own log (spec/access-log.md §1): the bank's receipt resolves to a
    // proof at the platform, which verifies against the platform's key; a changed leaf or another
    // key does not; the whole log audits with `consentry audit verify --node PLATFORM_URL`.
    platform_receipt_verifies(&p, &r.body);

    // A bank not named by the grant is refused by the platform itself (the node is not asked).
    let stranger_bank = new_key();
    assert_eq!(
        p.client(&p.key)
            .post(
                "/v1/banks",
                &json!({"uscc": "91330200MA2CDEF57N", "name": "另一银行", "did": stranger_bank.did.as_str()})
            )
            .status,
        201
    );
    let before = get_public(&format!("{}/v1/node", w.node.url)).body["logSize"]
        .as_u64()
        .unwrap();
    let r = p.client(&stranger_bank).post("/v1/releases", &ask);
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(
        r.reasons().contains(&"bank-not-named".to_owned()),
        "{:?}",
        r.reasons()
    );
    assert_eq!(
        get_public(&format!("{}/v1/node", w.node.url)).body["logSize"]
            .as_u64()
            .unwrap(),
        before
    );

    // Raw non-public data is never handed to a bank.
    let mut raw = ask.clone();
    raw["granularity"] = json!("raw");
    let r = p.client(&bank).post("/v1/releases", &raw);
    assert!(
        r.reasons().contains(&"bank-raw-non-public".to_owned()),
        "{:?}",
        r.reasons()
    );

    // Revoked: refused (by the platform from the status list, or by the node if its cache is fresh).
    assert_eq!(w.change(&w.enterprise, "revoke", &grant).status, 200);
    let r = p.client(&bank).post("/v1/releases", &ask);
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(
        r.reasons().contains(&"grant-revoked".to_owned()),
        "{:?}",
        r.reasons()
    );
    let _ = (PLATFORM, BANK, TestNode::start as fn(Backend) -> TestNode);
}

/// The platform's receipt for a release answer `answer`: fetched from the platform's own log,
/// checked with the platform's log key only.
fn platform_receipt_verifies(p: &TestPlatform, answer: &serde_json::Value) {
    use consentry::log::checkpoint::CheckpointPolicy;
    use consentry::log::merkle;
    use consentry::log::note::VerifierKey;
    use consentry::log::tlog_proof::verify_receipt;
    let index = answer["logIndex"].as_u64().unwrap();
    let leaf: [u8; 32] = hex::decode(answer["leafHash"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let path = answer["receipt"]["proof"].as_str().unwrap();
    assert_eq!(path, format!("/v1/log/receipts/{index}"));
    let info = get_public(&format!("{}/v1/platform", p.url));
    let origin = info.body["logOrigin"].as_str().unwrap().to_owned();
    let policy = |key: &consentry::identity::KeyFile| {
        let vkey = VerifierKey::ed25519(origin.clone(), *key.did.public_key()).unwrap();
        CheckpointPolicy::new(origin.clone(), vkey, vec![], 0).unwrap()
    };
    let start = std::time::Instant::now();
    let receipt = loop {
        let a = get_public(&format!("{}{path}", p.url));
        if a.status == 200 {
            break a.text;
        }
        assert_eq!(a.status, 404, "{}", a.text);
        assert!(
            start.elapsed().as_secs() < 20,
            "no checkpoint covers {index}: {}",
            a.text
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let now = consentry::clock::Clock::now(&consentry::clock::SystemClock);
    let v = verify_receipt(
        receipt.as_bytes(),
        &leaf,
        &policy(&p.key),
        now,
        merkle::verify_inclusion,
    )
    .unwrap();
    assert_eq!(v.index(), index);
    let mut other = leaf;
    other[0] ^= 1;
    assert!(
        verify_receipt(
            receipt.as_bytes(),
            &other,
            &policy(&p.key),
            now,
            merkle::verify_inclusion
        )
        .is_err()
    );
    assert!(
        verify_receipt(
            receipt.as_bytes(),
            &leaf,
            &policy(&new_key()),
            now,
            merkle::verify_inclusion
        )
        .is_err()
    );
    // The platform's checkpoints, leaves and tiles, audited from outside as the node's are.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["audit", "verify", "--node", &p.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A platform manages its banks (issue #13): it lists them, suspends, resumes and removes them — at
/// the node first, then in its own log; a suspended bank is refused at both hops; removal is final
/// and suspends every grant naming the bank, telling the enterprise; another platform cannot touch
/// the bank; a bad state changes nothing.
#[test]
fn platforms_suspend_resume_and_remove_their_banks() {
    let w = World::new(Backend::Sqlite);
    let p = TestPlatform::start(&w.node.url, "91330000MA28PLAT2L");
    let r = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": p.uscc, "name": "平台服务", "did": p.key.did.as_str(), "endpoint": p.url}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let (bank, bank_uscc) = (new_key(), "91330300MA2GHJK66N");
    let op = p.client(&p.key);
    let r = op.post(
        "/v1/banks",
        &json!({"uscc": bank_uscc, "name": "平台银行", "did": bank.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let (grant, r) = w.grant_with(&w.enterprise.clone(), |d| {
        d.terms.grantee.uscc = p.uscc.clone();
        d.terms.onward_recipients[0].uscc = bank_uscc.to_owned();
    });
    assert_eq!(r.status, 201, "{}", r.text);
    let ask = json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "purpose": "credit-approval"});
    assert_eq!(p.client(&bank).post("/v1/releases", &ask).status, 200);

    // Listed, to the platform's own key only.
    let list = op.get("/v1/banks");
    assert_eq!(list.status, 200, "{}", list.text);
    let states = |l: &crate::common::server::Answer| -> Vec<(String, String)> {
        l.body["banks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["uscc"].as_str().unwrap().to_owned(),
                    b["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(states(&list), vec![(bank_uscc.to_owned(), "active".to_owned())]);
    assert_eq!(p.client(&bank).get("/v1/banks").status, 403);
    let at_node = |state: &str| {
        let l = w.node.operator().get("/v1/participants?role=bank");
        l.body["participants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["uscc"] == bank_uscc && b["state"] == state)
    };

    // A bad state: a clear error, nothing changed.
    let node_size = w.log_size();
    let r = op.post(
        &format!("/v1/banks/{bank_uscc}/state"),
        &json!({"state": "frozen"}),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.problem(), "invalid-state");
    assert_eq!(w.log_size(), node_size);
    assert!(at_node("active"));

    // Suspended: refused at the platform; the node logged the change by the platform.
    let r = op.post(
        &format!("/v1/banks/{bank_uscc}/state"),
        &json!({"state": "suspended"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "suspended");
    assert!(at_node("suspended"));
    assert_eq!(states(&op.get("/v1/banks"))[0].1, "suspended");
    assert_eq!(w.log_size(), node_size + 1);
    let refused = p.client(&bank).post("/v1/releases", &ask);
    assert!(refused.status == 401 || refused.status == 403, "{}", refused.text);
    // Resumed: served again.
    let r = op.post(
        &format!("/v1/banks/{bank_uscc}/state"),
        &json!({"state": "active"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(at_node("active"));
    assert_eq!(p.client(&bank).post("/v1/releases", &ask).status, 200);

    // A suspension by the node's operator is the operator's to lift: the platform may not.
    let admin = format!("/v1/admin/participants/bank/{bank_uscc}/state");
    let r = w.node.operator().post(&admin, &json!({"state": "suspended"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let r = op.post(
        &format!("/v1/banks/{bank_uscc}/state"),
        &json!({"state": "active"}),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("only"), "{}", r.text);
    assert!(at_node("suspended"));
    let r = w.node.operator().post(&admin, &json!({"state": "active"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(at_node("active"));
    // A code that is no USCC never reaches the node.
    let r = op.post("/v1/banks/..%2Fx/state", &json!({"state": "suspended"}));
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.problem(), "invalid-uscc");

    // Another platform cannot change this bank at the node (it learns nothing of it either).
    let other = w.client(&w.platform).post(
        &format!("/v1/banks/{bank_uscc}/state"),
        &json!({"state": "suspended"}),
    );
    assert_eq!(other.status, 404, "{}", other.text);
    assert!(at_node("active"));

    // Removed: final; the grant naming the bank is suspended and the enterprise told why.
    let r = op.post(
        &format!("/v1/banks/{bank_uscc}/state"),
        &json!({"state": "removed"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["suspendedGrants"], 1, "{}", r.text);
    assert!(at_node("removed"));
    let g = w.client(&w.enterprise).get(&format!("/v1/grants/{grant}"));
    assert_eq!(g.body["state"], "suspended", "{}", g.text);
    let notices = w.client(&w.enterprise).get("/v1/notices");
    assert!(
        notices.text.contains(&format!("所列银行 {bank_uscc} 被移除")),
        "{}",
        notices.text
    );
    let again = op.post(
        &format!("/v1/banks/{bank_uscc}/state"),
        &json!({"state": "active"}),
    );
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(states(&op.get("/v1/banks"))[0].1, "removed");
}

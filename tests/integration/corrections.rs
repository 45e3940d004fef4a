//! A correction reaches every earlier recipient (issue #13 item 4, spec/objections.md §7.1): an
//! enterprise's tax record released through a platform process to its bank, and by a second
//! platform at the node to its bank and to itself; an objection handed on by the first bank at its
//! platform reaches the node within the two-working-day deadline; the node corrects the record and
//! each of the four recipients gets one signed `record.corrected` delivery naming the record and the
//! releases that carried it, while a bank that received only other data gets nothing; a rejected
//! objection pushes nothing, and a correction of a record nobody received (outside every grant's
//! data period) tells nobody. A public-feed push counts as a release to the subscribed bank alone.
//! On SQLite and on PostgreSQL.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::server::{Backend, Client, TestPlatform, new_key};
use crate::notifications::{Delivery, Receiver, register, verify, wait_until};
use crate::service::{BANK, ENTERPRISE, PLATFORM, World};

/// The platform that runs its own process here, and its bank.
const PLATFORM2: &str = "91330000MA28PLAT2L";
const BANK2: &str = "91330300MA2GHJK66N";
/// A bank of the node's platform that receives only public registration data.
const BANK3: &str = "91330200MA2CDEF57N";

const EVENT: &str = "record.corrected";

/// The id of the enterprise's record of `category` dated `date`.
fn record_id(w: &World, category: &str, date: &str) -> i64 {
    record_of(&w.client(&w.enterprise), category, date)
}

/// The id of the record of `category` dated `date` of the enterprise `ent` acts for.
fn record_of(ent: &Client, category: &str, date: &str) -> i64 {
    let r = ent.get("/v1/enterprise/data");
    assert_eq!(r.status, 200, "{}", r.text);
    let mut found = None;
    let mut stack = vec![r.body.clone()];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m)
                if m.get("category").and_then(Value::as_str) == Some(category)
                    && m.get("date").and_then(Value::as_str) == Some(date) =>
            {
                found = m.get("id").and_then(Value::as_i64);
            }
            Value::Object(m) => stack.extend(m.into_iter().map(|(_, v)| v)),
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    found.unwrap_or_else(|| panic!("no {category} record of {date} in {}", r.text))
}

fn filing(w: &World, record: i64, reason: &str) -> String {
    filing_by(&w.client(&w.enterprise), ENTERPRISE, record, reason)
}

fn filing_by(ent: &Client, uscc: &str, record: i64, reason: &str) -> String {
    ent.signed_request(
        "object",
        json!({"enterprise": uscc, "target": {"type": "data", "record": record}, "reason": reason}),
    )
}

/// The node's operator reviews objection `id`, then resolves it with `outcome` (and `fields` for a
/// correction); returns the resolved objection.
fn decide(w: &World, id: &str, outcome: &str, fields: Option<Value>) -> Value {
    let op = w.node.operator();
    let review = op.signed_request("review-objection", json!({"objection": id}));
    let r = op.post(
        &format!("/v1/objections/{id}/review"),
        &json!({"statement": review}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let mut claims = json!({"objection": id, "outcome": outcome, "explanation": "经核实 checked"});
    if let Some(f) = fields {
        claims["correction"] = json!({"fields": f});
    }
    let resolve = op.signed_request("resolve-objection", claims);
    let r = op.post(
        &format!("/v1/objections/{id}/resolve"),
        &json!({"statement": resolve}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], outcome);
    r.body
}

/// The `record.corrected` inbox notices of a participant at the node.
fn notices(c: &Client) -> usize {
    let r = c.get("/v1/notices");
    assert_eq!(r.status, 200, "{}", r.text);
    r.body.to_string().matches("record-corrected").count()
}

/// The log entry at `index` as the regulator reads it.
fn entry(w: &World, index: u64) -> Value {
    let r = w
        .client(&w.regulator)
        .get(&format!("/v1/log/entries?after={}&limit=1", index - 1));
    assert_eq!(r.status, 200, "{}", r.text);
    let e = r.body["entries"][0].clone();
    assert_eq!(e["index"], index, "{}", r.text);
    e
}

fn correction_reaches_every_earlier_recipient(backend: Backend) {
    let w = World::new(backend);
    let op = w.node.operator();
    // A platform with its own process, admitted at the node, and its bank.
    let p = TestPlatform::start_on(&w.node.url, PLATFORM2, backend);
    let r = op.post(
        "/v1/admin/platforms",
        &json!({"uscc": p.uscc, "name": "平台服务", "did": p.key.did.as_str(), "endpoint": p.url}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let bank2 = new_key();
    let r = p.client(&p.key).post(
        "/v1/banks",
        &json!({"uscc": BANK2, "name": "平台银行", "did": bank2.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    // A second bank of the node's platform.
    let bank3 = new_key();
    let r = w.client(&w.platform).post(
        "/v1/banks",
        &json!({"uscc": BANK3, "name": "另一银行", "did": bank3.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);

    // Everyone listens for corrections at the node.
    let rx = Receiver::start(Duration::ZERO);
    let listeners: [(&str, Client); 5] = [
        ("/p2", w.client(&p.key)),
        ("/b2", w.client(&bank2)),
        ("/p1", w.client(&w.platform)),
        ("/b1", w.client(&w.bank)),
        ("/b3", w.client(&bank3)),
    ];
    for (path, c) in &listeners {
        register(c, &rx.url(path), &[EVENT, "objection.updated"]);
    }

    // Grants: the platform process and its bank; the node's platform and its bank.
    let (g2, r) = w.grant_with(&w.enterprise.clone(), |d| {
        d.terms.grantee.uscc = PLATFORM2.to_owned();
        d.terms.onward_recipients[0].uscc = BANK2.to_owned();
    });
    assert_eq!(r.status, 201, "{}", r.text);
    let g1 = w.grant();

    let record = record_id(&w, "TAX-03", "2025-01-31");
    // 1. Bank 2 through the platform process (derived tax data).
    let r = p.client(&bank2).post(
        "/v1/releases",
        &json!({"enterprise": ENTERPRISE, "grant": g2, "categories": ["TAX-03"], "purpose": "credit-approval"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let via_platform = r.body["upstream"]["index"].as_u64().unwrap();
    // 2. The node's platform for its bank (derived), 3. for itself (raw).
    let r = w.release(json!({"enterprise": ENTERPRISE, "grant": g1, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK}));
    assert_eq!(r.status, 200, "{}", r.text);
    let for_bank = r.body["logIndex"].as_u64().unwrap();
    let r = w.release(json!({"enterprise": ENTERPRISE, "grant": g1, "categories": ["TAX-03"], "granularity": "raw", "purpose": "credit-approval"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let for_itself = r.body["logIndex"].as_u64().unwrap();
    // 4. Public registration data for bank 3: another category, not the record.
    let r = w.release(json!({"enterprise": ENTERPRISE, "categories": ["REG-01"], "granularity": "raw", "purpose": "credit-approval", "onBehalfOf": BANK3}));
    assert_eq!(r.status, 200, "{}", r.text);
    let public = r.body["logIndex"].as_u64().unwrap();

    // Each release entry cites the records it carried.
    let old = record_id(&w, "TAX-03", "2023-06-30");
    for i in [via_platform, for_bank, for_itself] {
        let cited = entry(&w, i)["record"]["detail"]["records"].clone();
        let ids: Vec<i64> = cited
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert!(ids.contains(&record), "entry {i} cites {cited}");
        // The 2023 record lies outside the grants' data period: never released.
        assert!(!ids.contains(&old), "entry {i} cites {cited}");
    }
    let cited = entry(&w, public)["record"]["detail"]["records"].clone();
    assert!(!cited.as_array().unwrap().contains(&json!(record)), "{cited}");

    // The objection, handed on by bank 2 at its platform, reaches the node in the same call.
    let a = p.client(&bank2).post(
        "/v1/objections",
        &json!({"filing": filing(&w, record, "纳税额有误 The tax paid is wrong")}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    let id = a.body["objection"]["id"].as_str().unwrap().to_owned();
    let o = w.client(&w.enterprise).get(&format!("/v1/objections/{id}"));
    assert_eq!(o.status, 200, "{}", o.text);
    assert_eq!(o.body["state"], "forwarded");
    assert_eq!(o.body["receivedBy"]["uscc"], PLATFORM2);
    // Within two working days of the filing, counted on the node's clock and calendar.
    assert_eq!(o.body["deadline"]["workingDays"], 2, "{}", o.text);
    assert_eq!(o.body["deadline"]["status"], "kept", "{}", o.text);
    assert_eq!(o.body["overdue"], false);
    let (forwarded, deadline) = (
        o.body["forwardedAt"].as_str().unwrap(),
        o.body["deadline"]["at"].as_str().unwrap(),
    );
    assert!(forwarded <= deadline, "{forwarded} after {deadline}");
    let filed = time::OffsetDateTime::parse(
        o.body["filedAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expected = w.node.node.calendar.get().deadline(filed, 2).unwrap();
    assert_eq!(
        o.body["deadline"]["date"],
        expected.date.to_string(),
        "{}",
        o.text
    );

    // Nothing about corrections yet.
    assert!(rx.deliveries("/p2").iter().all(|d| d.payload()["type"] != EVENT));
    let before: Vec<usize> = listeners.iter().map(|(_, c)| notices(c)).collect();
    assert_eq!(before, [0; 5]);

    // The node corrects the record.
    let fields = json!({"taxType": "VAT", "taxPaid": 1250.5, "declaredSales": 48000});
    let done = decide(&w, &id, "corrected", Some(fields.clone()));
    let corrected_at = done["steps"][3]["logIndex"].as_u64().unwrap();
    // A release that had started reading at or before the correction's entry is refused at its
    // commit (reason `data-corrected`); one that started after it is not.
    let since = |from: u64| {
        w.node
            .node
            .store
            .run(|c| consentry::storage::objections::corrected_since(c, &[record], from))
            .unwrap()
    };
    assert!(since(corrected_at), "a reader from before the correction");
    assert!(!since(corrected_at + 1), "a reader from after the correction");

    // Every earlier recipient gets one signed delivery naming the record and its releases.
    let corrections = |path: &str| -> Vec<Delivery> {
        rx.deliveries(path)
            .into_iter()
            .filter(|d| d.payload()["type"] == EVENT)
            .collect()
    };
    let expect: [(&str, &str, Vec<u64>, &str, Value); 4] = [
        ("/p2", PLATFORM2, vec![via_platform], "banks", json!([BANK2])),
        ("/b2", BANK2, vec![via_platform], "platforms", json!([PLATFORM2])),
        (
            "/p1",
            PLATFORM,
            vec![for_bank, for_itself],
            "banks",
            json!([BANK]),
        ),
        ("/b1", BANK, vec![for_bank], "platforms", json!([PLATFORM])),
    ];
    for (path, uscc, releases, via, parties) in &expect {
        wait_until(&format!("{EVENT} at {path}"), Duration::from_secs(30), || {
            !corrections(path).is_empty()
        });
        let got = corrections(path);
        assert_eq!(got.len(), 1, "{path}: {got:?}");
        let d = &got[0];
        let v = verify(d, rx.port, &w.node.did).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        assert_eq!(
            v.keyid,
            format!("{}#{}", w.node.did, &w.node.did["did:key:".len()..])
        );
        let body = d.payload();
        assert_eq!(d.header("consentry-event-type"), Some(EVENT));
        assert_eq!(body["recipient"], *uscc);
        let data = &body["data"];
        assert_eq!(data["objection"], id.as_str(), "{body}");
        assert_eq!(data["enterprise"], ENTERPRISE);
        assert_eq!(data["category"], "TAX-03");
        assert_eq!(data["record"], record);
        assert_eq!(data["recordDate"], "2025-01-31");
        assert_eq!(data["version"], 1);
        assert_eq!(data["correction"], 1);
        // No digest of the raw record: a bank given derived data could test guesses against it.
        assert!(
            data.get("newSha256").is_none() && data.get("oldSha256").is_none(),
            "{body}"
        );
        assert_eq!(data["logIndex"], corrected_at);
        assert_eq!(data["releases"], json!(releases), "{path}: {body}");
        assert_eq!(data[*via], *parties, "{path}: {body}");
        assert!(data["message"].as_str().unwrap().contains(&id));
    }
    // Each is in the recipient's inbox too; bank 3, which received only other data, got nothing.
    wait_until("the other endpoints' deliveries", Duration::from_secs(5), || {
        !rx.deliveries("/p1").is_empty()
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(corrections("/b3").is_empty());
    let after: Vec<usize> = listeners.iter().map(|(_, c)| notices(c)).collect();
    assert_eq!(after, [1, 1, 1, 1, 0]);
    // The enterprise's `corrected` entry counts who was told, without naming them (the platform
    // that received the objection reads the entry).
    let e = entry(&w, corrected_at);
    assert_eq!(e["record"]["detail"]["correction"]["notified"], json!(4));
    assert!(
        !e.to_string().contains(BANK2),
        "the entry names another platform's bank: {e}"
    );

    // A rejected objection pushes nothing.
    let r = w
        .client(&w.enterprise)
        .post("/v1/objections", &json!({"filing": filing(&w, record, "again")}));
    assert_eq!(r.status, 201, "{}", r.text);
    let again = r.body["id"].as_str().unwrap().to_owned();
    decide(&w, &again, "rejected", None);
    // A correction of the record nobody received tells nobody.
    let r = w
        .client(&w.enterprise)
        .post("/v1/objections", &json!({"filing": filing(&w, old, "2023")}));
    assert_eq!(r.status, 201, "{}", r.text);
    let unseen = r.body["id"].as_str().unwrap().to_owned();
    let done = decide(
        &w,
        &unseen,
        "corrected",
        Some(json!({"taxType": "VAT", "taxPaid": 901, "declaredSales": 30000})),
    );
    let e = entry(&w, done["steps"][3]["logIndex"].as_u64().unwrap());
    assert_eq!(e["record"]["detail"]["correction"]["notified"], json!(0));
    // The `objection.updated` steps of those two go to the enterprise only; wait past them.
    std::thread::sleep(Duration::from_millis(1500));
    for (path, _) in &listeners {
        assert!(corrections(path).len() <= 1, "{path}");
    }
    let last: Vec<usize> = listeners.iter().map(|(_, c)| notices(c)).collect();
    assert_eq!(last, after);
}

/// A public-feed push is a release to the subscribed bank only: a correction of a pushed record
/// reaches that bank, not the platform the push names as the bank's platform.
fn a_feed_push_is_received_by_the_bank_alone(backend: Backend) {
    let w = World::new(backend);
    let bank = w.client(&w.bank);
    let sub = bank.post(
        "/v1/feed/subscriptions",
        &json!({"regions": ["320100"], "categories": ["REG-01"]}),
    );
    assert_eq!(sub.status, 201, "{}", sub.text);
    let rx = Receiver::start(Duration::ZERO);
    register(&bank, &rx.url("/bank"), &[EVENT]);
    register(&w.client(&w.platform), &rx.url("/platform"), &[EVENT]);
    // A Nanjing enterprise whose registration record arrives after the subscription.
    let key = new_key();
    let uscc = consentry::ids::Uscc::complete("91320102MA000001")
        .unwrap()
        .as_str()
        .to_owned();
    crate::service::register_enterprise(&w.node, &key, &uscc, "南京示例有限公司");
    let line = json!({"uscc": uscc, "category": "REG-01", "date": "2026-11-02", "provider": "SAMR",
        "fields": {"name": "南京示例有限公司", "legalRepresentative": "王小明", "status": "active"}});
    let catalog = consentry::catalog::Catalog::builtin();
    let records = consentry::node::data::parse_import(line.to_string().as_bytes(), &catalog, None, 0)
        .unwrap()
        .records;
    w.node
        .node
        .store
        .run(|c| consentry::storage::data::insert(c, &records))
        .unwrap();
    let ent = w.client(&key);
    let record = record_of(&ent, "REG-01", "2026-11-02");
    // The push is a `release` entry of the enterprise, naming the bank and its platform, citing
    // the record.
    let mut pushed = Value::Null;
    wait_until("the public push", Duration::from_secs(30), || {
        let h = ent.get("/v1/log/entries?kind=release");
        pushed = h.body["entries"][0].clone();
        pushed.is_object()
    });
    assert_eq!(pushed["record"]["bank"], BANK, "{pushed}");
    assert_eq!(pushed["record"]["platform"], PLATFORM, "{pushed}");
    assert_eq!(pushed["record"]["caller"]["uscc"], BANK, "{pushed}");
    assert_eq!(pushed["record"]["detail"]["records"], json!([record]), "{pushed}");

    let r = ent.post(
        "/v1/objections",
        &json!({"filing": filing_by(&ent, &uscc, record, "法定代表人有误")}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let done = decide(
        &w,
        &id,
        "corrected",
        Some(json!({"name": "南京示例有限公司", "legalRepresentative": "王大明", "status": "active"})),
    );
    let e = entry(&w, done["steps"][3]["logIndex"].as_u64().unwrap());
    let at = pushed["index"].as_u64().unwrap();
    assert_eq!(e["record"]["detail"]["correction"]["notified"], json!(1));
    wait_until("the bank's delivery", Duration::from_secs(30), || {
        !rx.deliveries("/bank").is_empty()
    });
    let d = &rx.deliveries("/bank")[0];
    verify(d, rx.port, &w.node.did).unwrap();
    let data = &d.payload()["data"];
    assert_eq!(data["record"], record);
    assert_eq!(data["releases"], json!([at]));
    assert_eq!(data["platforms"], json!([]), "the platform did not ask: {data}");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(rx.deliveries("/platform").is_empty());
    assert_eq!(notices(&w.client(&w.platform)), 0);
    assert_eq!(notices(&bank), 1);
}

#[test]
fn a_feed_push_is_received_by_the_bank_alone_on_sqlite() {
    a_feed_push_is_received_by_the_bank_alone(Backend::Sqlite);
}

#[test]
fn a_feed_push_is_received_by_the_bank_alone_on_postgres() {
    a_feed_push_is_received_by_the_bank_alone(Backend::Postgres);
}

#[test]
fn correction_reaches_every_earlier_recipient_on_sqlite() {
    correction_reaches_every_earlier_recipient(Backend::Sqlite);
}

#[test]
fn correction_reaches_every_earlier_recipient_on_postgres() {
    correction_reaches_every_earlier_recipient(Backend::Postgres);
}

//! Signed data intake (spec/intake.md), on SQLite and PostgreSQL: a providing department's signed
//! batch is accepted, logged and idempotent; a changed record is a new version that keeps the old,
//! and releases use the new one and cite its batch; a batch signed by the wrong key, with a bad
//! record or for another provider is refused whole with every reason and writes nothing; a
//! department reaches nothing but its own batches; the operator's import is idempotent.

use base64::Engine as _;
use consentry::identity::KeyFile;
use serde_json::{Value, json};

use crate::common::server::{Answer, Backend, Client, new_key};
use crate::service::{ENTERPRISE, World};

fn uscc(first16: &str) -> String {
    consentry::ids::Uscc::complete(first16)
        .unwrap()
        .as_str()
        .to_owned()
}

/// The 税务 department's code.
fn dept_uscc() -> String {
    uscc("1132000001000001")
}

fn register_department(w: &World, key: &KeyFile, code: &str, provider: &str) {
    let r = w.node.operator().post(
        "/v1/admin/departments",
        &json!({"uscc": code, "name": "江苏省税务局", "did": key.did.as_str(), "provider": provider}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["role"], "department");
}

fn record(date: &str, category: &str, fields: Value) -> Value {
    json!({"uscc": ENTERPRISE, "category": category, "date": date, "fields": fields})
}

/// `signer` signs the batch; `sender` authenticates the request.
fn submit(sender: &Client, signer: &Client, batch: &Value) -> Answer {
    let statement = signer.signed_request("submit-batch", json!({"batch": batch}));
    sender.post("/v1/intake/batches", &json!({"statement": statement}))
}

/// (data rows, batches) held.
fn counts(w: &World) -> (i64, i64) {
    w.node
        .node
        .store
        .run(|c| {
            Ok((
                consentry::storage::data::count(c)?,
                consentry::storage::intake::count(c)?,
            ))
        })
        .unwrap()
}

/// Every row of one (enterprise, category, date), current or not.
fn rows_of(w: &World, category: &str, date: &str) -> Vec<consentry::storage::data::DataRecord> {
    let (c2, d2) = (category.to_owned(), date.to_owned());
    w.node
        .node
        .store
        .run(move |c| {
            use consentry::storage::schema::data_records as d;
            use diesel::prelude::*;
            Ok(d::table
                .filter(d::uscc.eq(ENTERPRISE))
                .filter(d::category.eq(c2))
                .filter(d::record_date.eq(d2))
                .order(d::id.asc())
                .select(consentry::storage::data::DataRecord::as_select())
                .load(c)?)
        })
        .unwrap()
}

/// The log entries of `kind`, each checked to open its leaf.
fn entries(w: &World, kind: &str) -> Vec<Value> {
    let r = w
        .client(&w.regulator)
        .get(&format!("/v1/log/entries?kind={kind}&limit=100"));
    assert_eq!(r.status, 200, "{}", r.text);
    let out = r.body["entries"].as_array().unwrap().clone();
    for e in &out {
        let leaf_bytes = base64::engine::general_purpose::STANDARD
            .decode(e["leaf"].as_str().unwrap())
            .unwrap();
        let leaf = consentry::log::entry::Leaf::from_bytes(&leaf_bytes).unwrap();
        assert_eq!(leaf.kind.as_str(), kind);
        let rec: consentry::log::entry::AccessRecord = serde_json::from_value(e["record"].clone()).unwrap();
        let salt: [u8; 32] = hex::decode(e["salt"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        assert!(leaf.opens(&salt, &rec), "entry {} opens its leaf", e["index"]);
    }
    out
}

fn story(backend: Backend) {
    let w = World::new(backend);
    let key = new_key();
    let code = dept_uscc();
    register_department(&w, &key, &code, "STA");
    let dept = w.client(&key);

    // 1. A signed batch: accepted, one entry in the log, the records held with their batch.
    let batch1 = json!({"provider": "STA", "reference": "2025-06", "records": [
        record("2025-05-31", "TAX-04", json!({"level": "A", "year": 2024})),
        record("2025-06-30", "TAX-04", json!({"level": "B", "year": 2025})),
    ]});
    let (rows0, batches0) = counts(&w);
    let r = submit(&dept, &dept, &batch1);
    assert_eq!(r.status, 201, "{}", r.text);
    let id1 = r.body["batch"].as_str().unwrap().to_owned();
    assert_eq!(id1.len(), 64);
    assert_eq!(
        (
            &r.body["provider"],
            &r.body["submitter"],
            &r.body["submitterRole"],
            &r.body["records"],
            &r.body["newRecords"],
            &r.body["newVersions"],
            &r.body["alreadyHeld"],
            &r.body["resubmitted"],
        ),
        (
            &json!("STA"),
            &json!(code),
            &json!("department"),
            &json!(2),
            &json!(2),
            &json!(0),
            &json!(0),
            &json!(false)
        ),
        "{}",
        r.text
    );
    assert_eq!(r.body["signer"], key.did.as_str());
    assert_eq!(counts(&w), (rows0 + 2, batches0 + 1));
    let logged = entries(&w, "data-intake");
    assert_eq!(logged.len(), 1);
    let e = &logged[0];
    assert_eq!(e["index"], r.body["logIndex"]);
    assert_eq!(e["record"]["caller"]["uscc"], code.as_str());
    assert_eq!(e["record"]["caller"]["role"], "department");
    assert_eq!(e["record"]["caller"]["did"], key.did.as_str());
    assert_eq!(e["record"]["dataSha256"], id1.as_str());
    let d = &e["record"]["detail"];
    assert_eq!(
        (
            &d["batch"],
            &d["provider"],
            &d["records"],
            &d["newRecords"],
            &d["alreadyHeld"]
        ),
        (&json!(id1), &json!("STA"), &json!(2), &json!(2), &json!(0)),
        "{d}"
    );
    let held = rows_of(&w, "TAX-04", "2025-06-30");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].batch_id.as_deref(), Some(id1.as_str()));
    assert_eq!(held[0].provider, "STA");
    assert_eq!(held[0].content_id.as_ref().map(String::len), Some(64));

    // 2. The same batch again, freshly signed: the same batch, nothing written, no second entry.
    let size = w.log_size();
    let r = submit(&dept, &dept, &batch1);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["batch"], id1.as_str());
    assert_eq!(r.body["resubmitted"], true);
    assert_eq!(r.body["logIndex"], e["index"]);
    assert_eq!(counts(&w), (rows0 + 2, batches0 + 1));
    assert_eq!(w.log_size(), size);

    // 3. A changed record: a new version; the old row kept, superseded by the new batch; the
    //    unchanged record is already held.
    let batch2 = json!({"provider": "STA", "reference": "2025-06 corrected", "records": [
        record("2025-05-31", "TAX-04", json!({"level": "A", "year": 2024})),
        record("2025-06-30", "TAX-04", json!({"level": "M", "year": 2025})),
    ]});
    let r = submit(&dept, &dept, &batch2);
    assert_eq!(r.status, 201, "{}", r.text);
    let id2 = r.body["batch"].as_str().unwrap().to_owned();
    assert_ne!(id1, id2);
    assert_eq!(
        (
            &r.body["newRecords"],
            &r.body["newVersions"],
            &r.body["alreadyHeld"]
        ),
        (&json!(0), &json!(1), &json!(1)),
        "{}",
        r.text
    );
    assert_eq!(counts(&w), (rows0 + 3, batches0 + 2));
    let versions = rows_of(&w, "TAX-04", "2025-06-30");
    assert_eq!(versions.len(), 2, "the old version is kept");
    assert_eq!(versions[0].superseded_by.as_deref(), Some(id2.as_str()));
    assert_eq!(versions[0].version, 1);
    assert_eq!(versions[1].superseded_by, None);
    assert_eq!(versions[1].version, 2);
    assert_eq!(versions[1].batch_id.as_deref(), Some(id2.as_str()));
    assert_eq!(rows_of(&w, "TAX-04", "2025-05-31").len(), 1);

    // 4. A release reads the new version and cites both batches, in its answer and its entry.
    let r = w.release(json!({"enterprise": ENTERPRISE, "categories": ["TAX-04"], "granularity": "raw", "purpose": "credit-approval"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let released = r.body["data"]["TAX-04"]["records"].as_array().unwrap();
    let levels: Vec<&str> = released
        .iter()
        .map(|x| x["fields"]["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, vec!["A", "M"], "{}", r.text);
    let mut cited = vec![id1.clone(), id2.clone()];
    cited.sort();
    assert_eq!(r.body["batches"], json!(cited));
    let rel = entries(&w, "release");
    let last = rel.last().unwrap();
    assert_eq!(last["index"], r.body["logIndex"]);
    assert_eq!(last["record"]["detail"]["batches"], json!(cited));

    // 5. Lists: the department its own, the regulator and the operator all; paged.
    let mine = dept.get("/v1/intake/batches");
    assert_eq!(mine.status, 200, "{}", mine.text);
    let ids: Vec<&str> = mine.body["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["batch"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id1.as_str(), id2.as_str()]);
    let page = w.client(&w.regulator).get("/v1/intake/batches?limit=1");
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["batches"].as_array().unwrap().len(), 1);
    let next = page.body["next"].as_i64().unwrap();
    let page2 = w
        .node
        .operator()
        .get(&format!("/v1/intake/batches?limit=1&after={next}"));
    assert_eq!(page2.body["batches"][0]["batch"], id2.as_str(), "{}", page2.text);
    let one = dept.get(&format!("/v1/intake/batches/{id2}"));
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.body["newVersions"], 1);
    // Another department does not see it.
    let other = new_key();
    register_department(&w, &other, &uscc("1132000001000002"), "SAMR");
    let r = w.client(&other).get(&format!("/v1/intake/batches/{id2}"));
    assert_eq!(r.status, 404, "{}", r.text);
    let r = w.client(&other).get("/v1/intake/batches");
    assert_eq!(r.body["batches"], json!([]), "{}", r.text);

    // 6. The statistics count what each department shared (§20).
    let s = w.client(&w.regulator).get("/v1/stats");
    assert_eq!(s.status, 200, "{}", s.text);
    let sta = s.body["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["provider"] == "STA")
        .unwrap()
        .clone();
    assert_eq!(
        sta,
        json!({"provider": "STA", "batches": 2, "recordsReceived": 3, "recordsAlreadyHeld": 1, "categoryReleases": 1}),
        "{}",
        s.text
    );
    let csv = w.client(&w.regulator).get("/v1/stats?format=csv");
    assert!(
        csv.text.contains("departments,STA,batches,,2\r\n"),
        "{}",
        csv.text
    );
    let platform_view = w.client(&w.platform).get("/v1/stats");
    assert!(
        platform_view.body.get("departments").is_none(),
        "{}",
        platform_view.text
    );
}

#[test]
fn intake_story_on_sqlite() {
    story(Backend::Sqlite);
}

#[test]
fn intake_story_on_postgres() {
    story(Backend::Postgres);
}

fn refusals(backend: Backend) {
    let w = World::new(backend);
    let key = new_key();
    register_department(&w, &key, &dept_uscc(), "STA");
    let dept = w.client(&key);
    let good = record("2025-07-31", "TAX-04", json!({"level": "A"}));
    let before = (counts(&w), w.log_size());

    // Signed by a key that is not the department's: refused, nothing written.
    let stranger = w.client(&new_key());
    let r = submit(
        &dept,
        &stranger,
        &json!({"provider": "STA", "records": [good.clone()]}),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.problem(), "batch-refused");
    assert_eq!(r.reasons(), vec!["wrong-signer"]);
    assert_eq!((counts(&w), w.log_size()), before);
    // Signed by another participant's key (the platform's): refused the same way.
    let r = submit(
        &dept,
        &w.client(&w.platform),
        &json!({"provider": "STA", "records": [good.clone()]}),
    );
    assert_eq!(r.reasons(), vec!["wrong-signer"], "{}", r.text);

    // An invalid USCC and a category of another provider: refused whole, every reason with its
    // index, the good record not written either.
    let bad_uscc = format!("{}0", &ENTERPRISE[..17]);
    assert!(consentry::ids::Uscc::parse(&bad_uscc).is_err());
    let batch = json!({"provider": "STA", "records": [
        good.clone(),
        {"uscc": bad_uscc, "category": "TAX-04", "date": "2025-07-31", "fields": {"level": "B"}},
        record("2025-07-31", "REG-01", json!({"status": "存续"})),
        record("2025-13-01", "TAX-04", json!({"level": "C"})),
    ]});
    let r = submit(&dept, &dept, &batch);
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.problem(), "batch-refused");
    let got: Vec<(Value, String)> = r.body["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["index"].clone(), x["code"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        got,
        vec![
            (json!(1), "invalid-uscc".to_owned()),
            (json!(2), "category-of-another-provider".to_owned()),
            (json!(3), "invalid-date".to_owned()),
        ],
        "{}",
        r.text
    );
    assert_eq!((counts(&w), w.log_size()), before);

    // A department submits for its own provider only: a SAMR batch is refused.
    let r = submit(
        &dept,
        &dept,
        &json!({"provider": "SAMR", "records": [record("2025-07-31", "REG-01", json!({"status": "存续"}))]}),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.reasons(), vec!["provider-not-yours"]);
    assert_eq!((counts(&w), w.log_size()), before);

    // Nothing else is open to a department: releases (refused and logged as any caller's), grants,
    // the log, statistics, participants, the operator's routes.
    let r = dept.post(
        "/v1/releases",
        &json!({"enterprise": ENTERPRISE, "categories": ["TAX-04"], "granularity": "raw", "purpose": "credit-approval"}),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.reasons().contains(&"caller-role".to_owned()), "{}", r.text);
    for path in [
        "/v1/grants",
        "/v1/log/entries",
        "/v1/stats",
        "/v1/participants",
        "/v1/loans",
        "/v1/objections",
        "/v1/objections/obj-00000000-0000-4000-8000-000000000000",
    ] {
        let r = dept.get(path);
        assert_eq!(r.status, 403, "{path}: {}", r.text);
    }
    let r = dept.post(
        "/v1/admin/regulators",
        &json!({"uscc": uscc("1132000001000003"), "name": "x", "did": new_key().did.as_str()}),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    // And another role cannot submit a batch.
    let r = submit(
        &w.client(&w.platform),
        &w.client(&w.platform),
        &json!({"provider": "STA", "records": [good]}),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    let r = w.client(&w.platform).get("/v1/intake/batches");
    assert_eq!(r.status, 403, "{}", r.text);
    // A suspended department's batch is refused; resumed, it is accepted.
    let path = format!("/v1/admin/participants/department/{}/state", dept_uscc());
    let r = w.node.operator().post(&path, &json!({"state": "suspended"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let before = (counts(&w), w.log_size());
    let ok_batch =
        json!({"provider": "STA", "records": [record("2025-09-30", "TAX-04", json!({"level": "B"}))]});
    let r = submit(&dept, &dept, &ok_batch);
    assert!(matches!(r.status, 403 | 422), "{}", r.text);
    assert_eq!((counts(&w), w.log_size()), before);
    let r = w.node.operator().post(&path, &json!({"state": "active"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let r = submit(&dept, &dept, &ok_batch);
    assert_eq!(r.status, 201, "{}", r.text);
    // A department bound to an unknown provider cannot be registered.
    let r = w.node.operator().post(
        "/v1/admin/departments",
        &json!({"uscc": uscc("1132000001000004"), "name": "x", "did": new_key().did.as_str(), "provider": "XYZ"}),
    );
    assert_eq!((r.status, r.problem()), (400, "unknown-provider"), "{}", r.text);
}

#[test]
fn refusals_on_sqlite() {
    refusals(Backend::Sqlite);
}

#[test]
fn refusals_on_postgres() {
    refusals(Backend::Postgres);
}

fn admin_import(backend: Backend) {
    let w = World::new(backend);
    let lines = [
        json!({"uscc": ENTERPRISE, "category": "TAX-04", "date": "2025-08-31", "provider": "STA", "fields": {"level": "A"}}),
        json!({"uscc": ENTERPRISE, "category": "REG-02", "date": "2025-08-31", "provider": "SAMR", "fields": {"holder": "甲"}}),
        json!({"uscc": ENTERPRISE, "category": "REG-02", "date": "2025-08-31", "provider": "SAMR", "fields": {"holder": "乙"}}),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let import = || {
        let parsed =
            consentry::node::data::parse_import(lines.as_bytes(), &w.node.node.catalog(), None, 0).unwrap();
        consentry::node::intake::import_as_node(&w.node.node, &parsed).unwrap()
    };
    let (rows0, batches0) = counts(&w);
    let first = import();
    assert_eq!(first.len(), 2, "one batch per provider");
    assert_eq!(
        first
            .iter()
            .map(|b| (b.provider.as_str(), b.new_records, b.resubmitted))
            .collect::<Vec<_>>(),
        vec![("STA", 1, false), ("SAMR", 2, false)]
    );
    assert!(
        first
            .iter()
            .all(|b| b.submitter_role == consentry::policy::Role::Node)
    );
    assert_eq!(counts(&w), (rows0 + 3, batches0 + 2));
    let logged = entries(&w, "data-intake");
    assert_eq!(logged.len(), 2);
    assert_eq!(logged[0]["record"]["caller"]["role"], "node");
    // Two records of one enterprise, category and date are two records, not two versions.
    assert_eq!(rows_of(&w, "REG-02", "2025-08-31").len(), 2);

    let size = w.log_size();
    let again = import();
    assert!(again.iter().all(|b| b.resubmitted), "{again:?}");
    assert_eq!(
        again.iter().map(|b| &b.batch).collect::<Vec<_>>(),
        first.iter().map(|b| &b.batch).collect::<Vec<_>>()
    );
    assert_eq!(counts(&w), (rows0 + 3, batches0 + 2));
    assert_eq!(w.log_size(), size);
    // The library's import (what the CLI calls) writes nothing either.
    let parsed =
        consentry::node::data::parse_import(lines.as_bytes(), &w.node.node.catalog(), None, 0).unwrap();
    assert_eq!(consentry::node::data::import(&w.node.node, &parsed).unwrap(), 0);
    assert_eq!(w.log_size(), size);
}

#[test]
fn admin_import_is_idempotent_on_sqlite() {
    admin_import(Backend::Sqlite);
}

#[test]
fn admin_import_is_idempotent_on_postgres() {
    admin_import(Backend::Postgres);
}

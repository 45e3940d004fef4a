//! Credit evaluations (issue #11 §4–5, spec/evaluation.md): computed under the enterprise's grant
//! as a logged release, issued as a `CreditEvaluation` credential signed by the node, verified by
//! `consentry vc verify` and by the independent Python checker, refused when tampered with, and
//! refused by the status check once withdrawn. Bad input changes nothing.

use std::process::Command;

use consentry::catalog::Catalog;
use consentry::crypto::{Sha256Digest, jcs};
use consentry::evaluation::{Model, evaluate};
use serde_json::{Value, json};

use crate::common::server::Backend;
use crate::common::server::get_public;
use crate::service::{ENTERPRISE, World, now};

const PURPOSE: &str = "financing-credit-evaluation";

fn digest(v: &Value) -> String {
    Sha256Digest::of(&jcs::canonicalize(v).unwrap_or_default()).to_hex()
}

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A grant to the platform that names the evaluation purpose.
fn evaluation_grant(w: &World) -> String {
    let (id, r) = w.grant_with(&w.enterprise.clone(), |d| d.terms.purposes.push(PURPOSE.into()));
    assert_eq!(r.status, 201, "{}", r.text);
    id
}

fn python(args: &[&str]) -> (i32, String) {
    let out = Command::new("python3")
        .arg(root().join("tests/interop/vc_check.py"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn story(backend: Backend) {
    let w = World::new(backend);
    let grant = evaluation_grant(&w);
    let platform = w.client(&w.platform);
    let before = w.log_size();

    let r = platform.post(
        "/v1/evaluations",
        &json!({"enterprise": ENTERPRISE, "grant": grant}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // The real answer validates as a whole against `EvaluationAnswer` (the spec's schema could
    // not be met before: it demanded `ReleaseAnswer`'s category data too).
    crate::openapi::Spec::load().check("POST", "/v1/evaluations", &r);
    assert_eq!(w.log_size(), before + 1, "one release entry");
    assert_eq!(r.body["purpose"], PURPOSE);
    let data = &r.body["data"];
    assert_eq!(
        r.body["dataSha256"],
        digest(data),
        "the log's digest covers inputs and credential"
    );
    let inputs = &data["inputs"];
    let vc = &data["evaluation"];

    // The inputs are derived forms of the model's categories the grant covers (TAX-03, SOC-01).
    let keys: Vec<&String> = inputs.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    assert_eq!(keys, ["SOC-01", "TAX-03"]);
    assert!(
        inputs
            .as_object()
            .is_some_and(|m| m.values().all(|c| c["granularity"] == "derived"))
    );

    // The credential: signed by the node, recomputable from the inputs with the model.
    let bytes = serde_json::to_vec(vc).unwrap_or_default();
    let v = consentry::credential::verify(&bytes, now()).unwrap_or_else(|e| panic!("{e}: {vc}"));
    assert_eq!(v.signer.as_str(), w.node.did);
    assert_eq!(vc["type"], json!(["VerifiableCredential", "CreditEvaluation"]));
    let s = &vc["credentialSubject"];
    assert_eq!(s["enterprise"]["uscc"], ENTERPRISE);
    assert_eq!(s["inputsSha256"], digest(inputs));
    let model = Model::builtin(&Catalog::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let by_category = inputs
        .as_object()
        .map(|m| m.clone().into_iter().collect())
        .unwrap_or_default();
    let again = evaluate(&model, &by_category);
    assert_eq!(s["grade"], again.grade.as_str());
    assert_eq!(s["score"], again.score);
    assert_eq!(s["modelId"], model.model_id.as_str());
    for raw in ["1200.5", "1350", "1100.25", "48000"] {
        assert!(!vc.to_string().contains(raw), "raw value {raw} in the credential");
    }

    // Verified by `consentry vc verify` and by the Python checker; tampering fails both.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("evaluation.json");
    std::fs::write(&file, &bytes).unwrap_or_default();
    let f = file.to_string_lossy().to_string();
    let cli = |f: &str| {
        Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["vc", "verify", f])
            .output()
            .map(|o| o.status.code())
            .unwrap_or(None)
    };
    assert_eq!(cli(&f), Some(0));
    assert_eq!(python(&["verify", &f]).0, 0, "{}", python(&["verify", &f]).1);
    let mut tampered = vc.clone();
    tampered["credentialSubject"]["grade"] = json!("AAA");
    tampered["credentialSubject"]["score"] = json!(100);
    let bad = dir.path().join("tampered.json");
    std::fs::write(&bad, tampered.to_string()).unwrap_or_default();
    let b = bad.to_string_lossy().to_string();
    assert_eq!(cli(&b), Some(1), "consentry refuses a tampered evaluation");
    assert_ne!(python(&["verify", &b]).0, 0, "the Python checker refuses it too");

    // Its status: not withdrawn, per the node's signed list, checked by the Python checker.
    let list_url = vc["credentialStatus"]["statusListCredential"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let status_check = |w: &World| {
        let path = list_url.replace(&w.node.url, "");
        let list = get_public(&format!("{}{path}", w.node.url));
        assert_eq!(list.status, 200, "{}", list.text);
        let lf = dir.path().join("list.json");
        std::fs::write(&lf, &list.text).unwrap_or_default();
        let ours = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["vc", "verify", "--status-list", &lf.to_string_lossy(), &f])
            .output()
            .map(|o| (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()))
            .unwrap_or((None, String::new()));
        let (rc, out) = python(&[
            "status-check",
            &f,
            "--list",
            &format!("{list_url}={}", lf.to_string_lossy()),
        ]);
        let want = if rc == 0 { 0 } else { 1 };
        assert_eq!(
            ours.0,
            Some(want),
            "consentry vc verify --status-list agrees: {}",
            ours.1
        );
        (rc, format!("{out}{}", ours.1))
    };
    assert_eq!(status_check(&w).0, 0, "{}", status_check(&w).1);

    // Who may see it: the platform that asked, the enterprise, a regulator; not the bank.
    let id = vc["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/v1/evaluations/{id}");
    for (who, want) in [(&w.platform, 200), (&w.enterprise, 200), (&w.regulator, 200)] {
        let r = w.client(who).get(&path);
        assert_eq!(r.status, want, "{}", r.text);
        assert_eq!(r.body["state"], "active");
        assert_eq!(r.body["credential"], *vc);
    }
    assert_eq!(w.client(&w.bank).get(&path).status, 403);
    assert_eq!(
        w.client(&w.enterprise)
            .post(&format!("{path}/withdraw"), &json!({}))
            .status,
        403
    );

    // Withdrawn: a log entry, the state, and the status list says so.
    let size = w.log_size();
    let r = platform.post(&format!("{path}/withdraw"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "withdrawn");
    assert_eq!(w.log_size(), size + 1);
    let (rc, out) = status_check(&w);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("revoked"), "{out}");
    // Again: nothing more is written.
    let r = platform.post(&format!("{path}/withdraw"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(w.log_size(), size + 1);
}

#[test]
fn evaluation_story_on_sqlite() {
    story(Backend::Sqlite);
}

#[test]
fn evaluation_story_on_postgres() {
    story(Backend::Postgres);
}

#[test]
fn bad_evaluation_requests_change_nothing() {
    let w = World::new(Backend::Sqlite);
    let grant = evaluation_grant(&w);
    let platform = w.client(&w.platform);
    let size = w.log_size();
    let stored_before = stored(&w);
    let mut model: Value = serde_json::from_str(consentry::evaluation::BUILTIN_MODEL).unwrap_or(Value::Null);
    model["indicators"][0]["input"]["indicator"] = json!("noSuchIndicator");
    let mut spoof: Value = serde_json::from_str(consentry::evaluation::BUILTIN_MODEL).unwrap_or(Value::Null);
    spoof["grades"][0]["minScore"] = json!(95);
    let mut public_only = spoof.clone();
    public_only["modelId"] = json!("public-only");
    public_only["indicators"] = json!([{"id": "records", "nameZh": "登记记录", "nameEn": "Registrations", "input": {"category": "REG-01", "indicator": "records"}, "weight": 1, "scores": [{"atLeast": 1, "points": 100}], "missing": 0}]);
    let cases = [
        (
            json!({"enterprise": ENTERPRISE, "grant": grant, "model": model}),
            400,
            "invalid-evaluation-model",
        ),
        (
            json!({"enterprise": ENTERPRISE, "grant": grant, "model": spoof}),
            400,
            "the built-in model",
        ),
        (
            json!({"enterprise": ENTERPRISE, "grant": grant, "model": {"modelId": "x"}}),
            400,
            "invalid-evaluation-model",
        ),
        (
            json!({"enterprise": ENTERPRISE, "grant": grant, "extra": 1}),
            400,
            "invalid-body",
        ),
        (json!({"enterprise": ENTERPRISE}), 400, "invalid-body"),
    ];
    for (body, status, code) in cases {
        let r = platform.post("/v1/evaluations", &body);
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(r.text.contains(code), "{body}: {}", r.text);
    }
    assert_eq!(w.log_size(), size, "bad input writes no log entry");
    assert_eq!(
        stored(&w),
        stored_before,
        "bad input stores no evaluation and takes no status slot"
    );
    // A bank cannot ask the node directly; an unknown evaluation is not found.
    assert_eq!(
        w.client(&w.bank)
            .post(
                "/v1/evaluations",
                &json!({"enterprise": ENTERPRISE, "grant": grant})
            )
            .status,
        403
    );
    assert_eq!(
        platform
            .get("/v1/evaluations/urn:uuid:00000000-0000-4000-8000-000000000000")
            .status,
        404
    );

    // A grant without the evaluation purpose: refused, with the reason, and the refusal logged.
    let plain = w.grant();
    let size = w.log_size();
    let r = platform.post(
        "/v1/evaluations",
        &json!({"enterprise": ENTERPRISE, "grant": plain}),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("purpose"), "{}", r.text);
    assert_eq!(w.log_size(), size + 1, "the refusal is logged");

    // A model over public data only still needs a valid grant: revoked, it is refused.
    let r = platform.post(
        "/v1/evaluations",
        &json!({"enterprise": ENTERPRISE, "grant": grant, "model": public_only}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        stored(&w).0,
        stored_before.0 + 1,
        "a good request stores one evaluation (the count can move)"
    );
    assert_eq!(w.change(&w.enterprise, "revoke", &grant).status, 200);
    let r = platform.post(
        "/v1/evaluations",
        &json!({"enterprise": ENTERPRISE, "grant": grant, "model": public_only}),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(
        r.reasons().contains(&"grant-revoked".to_owned()),
        "{:?}",
        r.reasons()
    );
}

/// What an evaluation writes besides its log entry: (stored evaluations, allocated status slots).
fn stored(w: &World) -> (i64, i64) {
    w.node
        .node
        .store
        .run(|c| {
            Ok((
                consentry::storage::evaluations::count(c)?,
                consentry::storage::status_lists::slot_count(c)?,
            ))
        })
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The latest access-log record of the database at `url`, as JSON.
fn last_record(url: &str) -> Value {
    use consentry::storage::schema::log_records;
    use diesel::prelude::*;
    let store = consentry::storage::Store::open(url, 1).unwrap_or_else(|e| panic!("{e}"));
    let text: Option<String> = store
        .run(|c| {
            Ok(log_records::table
                .order(log_records::seq.desc())
                .select(log_records::record)
                .first::<Option<String>>(c)?)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&text.unwrap_or_default()).unwrap_or(Value::Null)
}

#[test]
fn a_bank_receives_the_evaluation_through_its_platform() {
    use crate::common::server::{TestPlatform, new_key};
    let w = World::new(Backend::Sqlite);
    let p = TestPlatform::start(&w.node.url, "91330000MA28PLAT2L");
    let r = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": p.uscc, "name": "平台服务", "did": p.key.did.as_str(), "endpoint": p.url}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let bank = new_key();
    let bank_uscc = "91330300MA2GHJK66N";
    let r = p.client(&p.key).post(
        "/v1/banks",
        &json!({"uscc": bank_uscc, "name": "平台银行", "did": bank.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let (grant, r) = w.grant_with(&w.enterprise.clone(), |d| {
        d.terms.grantee.uscc = p.uscc.clone();
        d.terms.onward_recipients[0].uscc = bank_uscc.to_owned();
        d.terms.purposes.push(PURPOSE.into());
    });
    assert_eq!(r.status, 201, "{}", r.text);

    let r = p.client(&bank).post(
        "/v1/evaluations",
        &json!({"enterprise": ENTERPRISE, "grant": grant}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let vc = &r.body["evaluation"];
    assert!(
        r.body.get("data").is_none(),
        "the bank gets the credential, not the inputs"
    );
    let bytes = serde_json::to_vec(vc).unwrap_or_default();
    let v = consentry::credential::verify(&bytes, now()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.signer.as_str(), w.node.did, "issued by the node");
    assert_eq!(r.body["evaluationSha256"], digest(vc));

    // The platform's log entry cites the grant, the evaluation's digest and the node's entry.
    let platform_db = format!("sqlite://{}", p.dir.path().join("platform.sqlite3").display());
    let rec = last_record(&platform_db);
    assert_eq!(rec["grant"]["id"], grant.as_str(), "{rec}");
    assert_eq!(rec["dataSha256"], digest(vc), "{rec}");
    assert_eq!(rec["bank"], bank_uscc);
    assert_eq!(rec["purpose"], PURPOSE);
    assert_eq!(rec["upstream"]["index"], r.body["upstream"]["index"]);
    // The node's entry, upstream, cites the same grant, and its digest covers the credential.
    let node_rec = w
        .node
        .node
        .store
        .run(|c| {
            use consentry::storage::schema::log_records;
            use diesel::prelude::*;
            Ok(log_records::table
                .find(r.body["upstream"]["index"].as_i64().unwrap_or(-1))
                .select(log_records::record)
                .first::<Option<String>>(c)?)
        })
        .unwrap_or_else(|e| panic!("{e}"))
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .unwrap_or(Value::Null);
    assert_eq!(node_rec["grant"]["id"], grant.as_str());
    assert_eq!(node_rec["purpose"], PURPOSE);
    assert_eq!(
        node_rec["bank"], bank_uscc,
        "the node's entry names the bank: {node_rec}"
    );
    // The bank sees input values only of the categories the grant gives it (TAX-03 here).
    let model = Model::builtin(&Catalog::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let keys = vc["credentialSubject"]["keyIndicators"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(keys.len(), model.indicators.len());
    for (k, i) in keys.iter().zip(&model.indicators) {
        if i.input.category != "TAX-03" {
            assert!(
                k["value"].is_null(),
                "{} of {} reached the bank: {k}",
                i.id,
                i.input.category
            );
        }
    }
    assert!(
        keys.iter().any(|k| k["points"].as_f64().is_some_and(|p| p > 0.0)),
        "points are kept"
    );

    // A grant that names the bank but not the purpose: refused by the platform, the node not asked.
    let (plain, r) = w.grant_with(&w.enterprise.clone(), |d| {
        d.terms.grantee.uscc = p.uscc.clone();
        d.terms.onward_recipients[0].uscc = bank_uscc.to_owned();
    });
    assert_eq!(r.status, 201, "{}", r.text);
    let node_size = w.log_size();
    let r = p.client(&bank).post(
        "/v1/evaluations",
        &json!({"enterprise": ENTERPRISE, "grant": plain}),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(
        r.reasons().contains(&"purpose-not-granted".to_owned()),
        "{:?}",
        r.reasons()
    );
    assert_eq!(w.log_size(), node_size, "the node was not asked");
}

/// What the public 苏信码 view of the test enterprise says, and the evaluation it carries.
fn public(w: &World) -> (String, Value) {
    let r = get_public(&format!("{}/v1/public/sxm/{ENTERPRISE}", w.node.url));
    assert_eq!(r.status, 200, "{}", r.text);
    (
        r.body["display"].as_str().unwrap_or_default().to_owned(),
        r.body["evaluation"].clone(),
    )
}

fn display(w: &World, key: &consentry::identity::KeyFile, action: &str) -> crate::common::server::Answer {
    let c = w.client(key);
    let claims = json!({"enterprise": ENTERPRISE, "display": "credit-evaluation"});
    let token = c.signed_request(&format!("display-{action}"), claims);
    c.post_raw(&format!("/v1/display/{action}"), &token, false)
}

fn evaluate_now(w: &World, grant: &str) -> Value {
    let r = w.client(&w.platform).post(
        "/v1/evaluations",
        &json!({"enterprise": ENTERPRISE, "grant": grant}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]["evaluation"].clone()
}

#[test]
fn the_public_display_needs_the_enterprises_consent() {
    let w = World::new(Backend::Sqlite);
    let grant = evaluation_grant(&w);
    // Nothing to show yet: consent needs a current evaluation, and nothing is written.
    let size = w.log_size();
    let r = display(&w, &w.enterprise.clone(), "authorize");
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.problem(), "conflict", "{}", r.text);
    assert_eq!(w.log_size(), size);
    let no_consent = || {
        w.node
            .node
            .store
            .run(|c| consentry::storage::displays::get(c, ENTERPRISE))
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    };
    assert!(no_consent(), "a refused consent stores nothing");
    let vc = evaluate_now(&w, &grant);

    // Never authorized: nothing of the evaluation.
    assert_eq!(public(&w), ("not-authorized".to_owned(), Value::Null));

    // Signed by another key (the bank's, claiming the enterprise): refused, nothing written.
    let size = w.log_size();
    let r = display(&w, &w.bank.clone(), "authorize");
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.problem(), "forbidden", "{}", r.text);
    assert_eq!(w.log_size(), size);
    assert!(no_consent());
    assert_eq!(public(&w).0, "not-authorized");
    // A request for another action, or without the scope: refused as a bad signed request.
    let c = w.client(&w.enterprise);
    let token = c.signed_request("display-authorize", json!({"enterprise": ENTERPRISE}));
    let r = c.post_raw("/v1/display/authorize", &token, false);
    assert_eq!(r.status, 400, "{}", r.text);
    let token = c.signed_request("display-revoke", json!({"enterprise": ENTERPRISE}));
    let r = c.post_raw("/v1/display/authorize", &token, false);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(w.log_size(), size, "bad requests write nothing");

    // Authorized by the enterprise's key: one log entry; the page shows the credential.
    let r = display(&w, &w.enterprise.clone(), "authorize");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(w.log_size(), size + 1);
    assert_eq!(public(&w), ("shown".to_owned(), vc.clone()));
    assert_eq!(display(&w, &w.enterprise.clone(), "authorize").status, 200);
    assert_eq!(w.log_size(), size + 1, "authorizing again writes nothing");

    // The page and its QR code: the code encodes the page's URL.
    let page = get_public(&format!("{}/sxm/{ENTERPRISE}", w.node.url));
    assert_eq!(page.status, 200);
    assert!(
        page.headers
            .iter()
            .any(|(k, v)| k == "content-security-policy" && v.contains("default-src 'self'"))
    );
    let qr = crate::common::server::http()
        .get(&format!("{}/sxm/{ENTERPRISE}/qr.svg", w.node.url))
        .call()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(qr.content_type(), "image/svg+xml");
    let svg = qr.into_string().unwrap_or_default();
    let expected = qrcode::QrCode::with_error_correction_level(
        format!("{}/sxm/{ENTERPRISE}", w.node.url).as_bytes(),
        qrcode::EcLevel::M,
    )
    .map(|q| {
        q.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(240, 240)
            .build()
    })
    .unwrap_or_default();
    assert_eq!(svg, expected, "the QR code is the page's URL");

    // Withdrawn evaluation: hidden; a new one: shown; display revoked: hidden.
    let id = vc["id"].as_str().unwrap_or_default().to_owned();
    let r = w
        .client(&w.platform)
        .post(&format!("/v1/evaluations/{id}/withdraw"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(public(&w), ("evaluation-withdrawn".to_owned(), Value::Null));
    let newer = evaluate_now(&w, &grant);
    assert_eq!(
        public(&w),
        ("evaluation-withdrawn".to_owned(), Value::Null),
        "consent covers the evaluation it was given for, never a later one"
    );
    let size = w.log_size();
    assert_eq!(display(&w, &w.enterprise.clone(), "authorize").status, 200);
    assert_eq!(
        w.log_size(),
        size + 1,
        "authorizing for the newer evaluation is a new entry"
    );
    assert_eq!(public(&w), ("shown".to_owned(), newer));
    let r = display(&w, &w.enterprise.clone(), "revoke");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["authorized"], false);
    assert_eq!(public(&w), ("display-revoked".to_owned(), Value::Null));

    // Unknown and malformed codes: problem+json with a stable type (the HTML page says so itself,
    // with the same status), and nothing written.
    let size = w.log_size();
    let unknown = "91330200MA2CDEF57N";
    for path in [
        format!("/v1/public/sxm/{unknown}"),
        format!("/sxm/{unknown}/qr.svg"),
    ] {
        let r = get_public(&format!("{}{path}", w.node.url));
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        assert_eq!(r.problem(), "not-found", "{path}: {}", r.text);
    }
    let page = get_public(&format!("{}/sxm/{unknown}", w.node.url));
    assert_eq!(page.status, 404);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        page.headers
    );
    for path in ["/v1/public/sxm/NOT-A-CODE", "/sxm/NOT-A-CODE/qr.svg"] {
        let r = get_public(&format!("{}{path}", w.node.url));
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_eq!(r.problem(), "invalid-uscc", "{path}: {}", r.text);
    }
    assert_eq!(w.log_size(), size, "public reads write nothing");
}

#[test]
fn a_platforms_own_model_is_used_for_its_banks_and_a_bad_one_stops_its_start() {
    use crate::common::server::{TestPlatform, new_key};
    let w = World::new(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let write = |name: &str, doc: &Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, doc.to_string()).unwrap_or_else(|e| panic!("{e}"));
        path
    };
    let builtin: Value = serde_json::from_str(consentry::evaluation::BUILTIN_MODEL).unwrap_or(Value::Null);

    // Files that cannot be used stop the start, naming the file and the problem.
    let mut unknown_input = builtin.clone();
    unknown_input["modelId"] = json!("plat-own");
    unknown_input["indicators"][0]["input"]["indicator"] = json!("noSuchIndicator");
    let mut passes_for_builtin = builtin.clone();
    passes_for_builtin["grades"][0]["minScore"] = json!(95);
    let missing = dir.path().join("absent.json");
    for (path, problem) in [
        (write("unknown.json", &unknown_input), "noSuchIndicator"),
        (write("spoof.json", &passes_for_builtin), "needs its own id"),
        (write("not-json.json", &json!("model")), "invalid type"),
        (missing, "absent.json"),
    ] {
        let err = TestPlatform::try_start(&w.node.url, "91330000MA28PLAT2L", Some(path.clone()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| panic!("{} was accepted", path.display()));
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(problem), "{err}");
    }

    // A good file: the platform's banks are evaluated with it.
    let mut own = builtin.clone();
    own["modelId"] = json!("plat-own-sme");
    own["nameEn"] = json!("The platform's own SME model");
    let path = write("own.json", &own);
    let p = TestPlatform::try_start(&w.node.url, "91330000MA28PLAT2L", Some(path))
        .unwrap_or_else(|e| panic!("{e}"));
    let r = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": p.uscc, "name": "平台服务", "did": p.key.did.as_str(), "endpoint": p.url}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let bank = new_key();
    let bank_uscc = "91330300MA2GHJK66N";
    let r = p.client(&p.key).post(
        "/v1/banks",
        &json!({"uscc": bank_uscc, "name": "平台银行", "did": bank.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let (grant, r) = w.grant_with(&w.enterprise.clone(), |d| {
        d.terms.grantee.uscc = p.uscc.clone();
        d.terms.onward_recipients[0].uscc = bank_uscc.to_owned();
        d.terms.purposes.push(PURPOSE.into());
    });
    assert_eq!(r.status, 201, "{}", r.text);
    let r = p.client(&bank).post(
        "/v1/evaluations",
        &json!({"enterprise": ENTERPRISE, "grant": grant}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let subject = &r.body["evaluation"]["credentialSubject"];
    assert_eq!(subject["modelId"], "plat-own-sme", "{subject}");
    let catalog = Catalog::builtin();
    let sha = |doc: &Value| {
        let m = Model::from_json(&doc.to_string(), &catalog).unwrap_or_else(|e| panic!("{e}"));
        digest(&serde_json::to_value(m).unwrap_or(Value::Null))
    };
    assert_eq!(subject["modelSha256"], sha(&own));
    assert_ne!(subject["modelSha256"], sha(&builtin));
}

//! Objections (spec/objections.md): the lifecycle with signed, chained steps on both backends; the
//! two-working-day forwarding deadline across the National Day week and its make-up working days;
//! a year missing from the calendar; corrections in the enterprise's history; refusals that change
//! nothing.

use serde_json::{Value, json};
use time::macros::datetime;

use crate::common::server::{Backend, Client, get_public};
use crate::service::{ENTERPRISE, PLATFORM, World};

/// The enterprise's data records as the node holds them.
fn records(w: &World) -> Vec<Value> {
    let r = w.client(&w.enterprise).get("/v1/enterprise/data");
    assert_eq!(r.status, 200, "{}", r.text);
    let mut out = Vec::new();
    collect_records(&r.body, &mut out);
    assert!(!out.is_empty(), "no records in {}", r.text);
    out
}

fn collect_records(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) if m.contains_key("id") && m.contains_key("category") => out.push(v.clone()),
        Value::Object(m) => m.values().for_each(|x| collect_records(x, out)),
        Value::Array(a) => a.iter().for_each(|x| collect_records(x, out)),
        _ => {}
    }
}

fn filing(w: &World, target: Value, reason: &str) -> String {
    w.client(&w.enterprise).signed_request(
        "object",
        json!({
            "enterprise": ENTERPRISE,
            "target": target,
            "reason": reason,
            "attachments": [{"name": "纳税证明.pdf", "sha256": "a".repeat(64), "mediaType": "application/pdf"}],
        }),
    )
}

fn sha256_hex(s: &str) -> String {
    consentry::crypto::Sha256Digest::of(s.as_bytes()).to_hex()
}

/// Verifies a step statement with josekit (an implementation independent of ours) against the key
/// its did:key names, and returns its claims.
fn verify_with_josekit(token: &str, did: &str) -> Value {
    use base64::Engine as _;
    let key = consentry::identity::DidKey::parse(did).unwrap();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.public_key().to_bytes());
    let jwk =
        josekit::jwk::Jwk::from_bytes(json!({"kty": "OKP", "crv": "Ed25519", "x": x}).to_string()).unwrap();
    let verifier = josekit::jws::EdDSA.verifier_from_jwk(&jwk).unwrap();
    let (payload, header) = josekit::jws::deserialize_compact(token, &verifier).unwrap();
    assert_eq!(header.token_type(), Some("consentry-request+jwt"));
    serde_json::from_slice(&payload).unwrap()
}

fn lifecycle(backend: Backend) {
    let w = World::new(backend);
    let record = records(&w)
        .into_iter()
        .find(|r| r["category"] == "TAX-03")
        .expect("a TAX-03 record");
    let record_id = record["id"].as_i64().unwrap();
    let token = filing(
        &w,
        json!({"type": "data", "record": record_id}),
        "纳税额记录有误 The tax amount is wrong",
    );
    let ent = w.client(&w.enterprise);
    let r = ent.post("/v1/objections", &json!({"filing": token}));
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    // Filed at the node: received and taken at once, deadline kept.
    assert_eq!(r.body["state"], "forwarded");
    assert_eq!(r.body["receivedBy"]["role"], "node");
    assert_eq!(r.body["deadline"]["status"], "kept");
    assert_eq!(r.body["overdue"], false);
    assert_eq!(r.body["filingSha256"], sha256_hex(&token));
    // The receipt the enterprise keeps is the node's signed statement naming its filing.
    let receipt = r.body["receipt"].as_str().unwrap();
    let claims = verify_with_josekit(receipt, &w.node.did);
    assert_eq!(claims["action"], "receive-objection");
    assert_eq!(claims["filingSha256"], sha256_hex(&token));

    // A second lodging of the same filing is a conflict and changes nothing.
    let size = w.log_size();
    let again = ent.post("/v1/objections", &json!({"filing": token}));
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(w.log_size(), size);

    // The operator (node key) reviews and corrects.
    let op = w.node.operator();
    let review = op.signed_request(
        "review-objection",
        json!({"objection": id, "explanation": "核查中"}),
    );
    let r = op.post(
        &format!("/v1/objections/{id}/review"),
        &json!({"statement": review}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "under-review");
    let mut fields = serde_json::from_str::<Value>(record["fields"].as_str().unwrap_or("null"))
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| record["fields"].clone());
    fields["taxPaid"] = json!(4321.5);
    let resolve = op.signed_request(
        "resolve-objection",
        json!({"objection": id, "outcome": "corrected", "explanation": "经税务部门核实已更正", "correction": {"fields": fields}}),
    );
    let r = op.post(
        &format!("/v1/objections/{id}/resolve"),
        &json!({"statement": resolve}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "corrected");
    assert_eq!(r.body["corrections"][0]["record"], record_id);
    assert_eq!(r.body["corrections"][0]["new"]["taxPaid"], 4321.5);

    // Every step signed by its actor and chained by digest, starting from the filing.
    let steps = r.body["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(names, ["received", "forwarded", "under-review", "corrected"]);
    let mut prev = sha256_hex(&token);
    for s in steps {
        let st = s["statement"].as_str().unwrap();
        assert_eq!(s["sha256"], sha256_hex(st));
        assert_eq!(s["prevSha256"], prev.as_str());
        let claims = verify_with_josekit(st, s["actor"]["did"].as_str().unwrap());
        assert!(claims["action"].as_str().unwrap().ends_with("objection"));
        prev = s["sha256"].as_str().unwrap().to_owned();
    }

    // The data changed, and the enterprise's history says so.
    let after = records(&w).into_iter().find(|r| r["id"] == record_id).unwrap();
    assert!(after.to_string().contains("4321.5"), "{after}");
    // The record says it was corrected, on which objection, what it was before.
    let fix = &after["corrections"][0];
    assert_eq!(fix["objection"], id.as_str(), "{after}");
    assert_eq!(fix["after"]["taxPaid"], 4321.5, "{after}");
    assert_ne!(fix["before"], fix["after"], "{after}");
    assert!(fix["logIndex"].is_u64(), "{after}");
    let hist = ent.get("/v1/log/entries?kind=objection");
    assert_eq!(hist.status, 200, "{}", hist.text);
    let entries = hist.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{}", hist.text);
    let last = &entries[3]["record"];
    assert_eq!(last["decision"], "corrected");
    assert_eq!(last["detail"]["objection"], id.as_str());
    assert_eq!(
        last["detail"]["correction"]["newSha256"],
        sha256_hex(&serde_json::to_string(&fields).unwrap())
    );
    for (e, s) in entries.iter().zip(steps) {
        assert_eq!(e["index"], s["logIndex"]);
        assert_eq!(e["record"]["detail"]["statementSha256"], s["sha256"]);
    }
    // The enterprise sees its objection; the regulator too; a bank may not list objections.
    assert_eq!(ent.get(&format!("/v1/objections/{id}")).status, 200);
    let reg = w.client(&w.regulator).get("/v1/objections");
    assert_eq!(reg.status, 200, "{}", reg.text);
    assert_eq!(reg.body["objections"][0]["id"], id.as_str());
    let bank = w.client(&w.bank).get("/v1/objections");
    assert_eq!(bank.status, 403, "{}", bank.text);
    // The enterprise was told at each step.
    let notices = ent.get("/v1/notices");
    let told = notices.body.to_string();
    assert!(told.contains(&id) && told.contains("corrected"), "{told}");
}

#[test]
fn lifecycle_with_signed_chained_steps_on_sqlite() {
    lifecycle(Backend::Sqlite);
}

#[test]
fn lifecycle_with_signed_chained_steps_on_postgres() {
    lifecycle(Backend::Postgres);
}

/// A platform relays a filing: its receipt first, its hand-over later.
fn relay(w: &World, token: &str, forward_now: bool) -> Value {
    let p = w.client(&w.platform);
    let digest = sha256_hex(token);
    let receipt = p.signed_request(
        "receive-objection",
        json!({"filingSha256": digest, "receivedAt": consentry::calendar::format_cst(w.node.clock_now())}),
    );
    let mut body = json!({"filing": token, "receipt": receipt});
    if forward_now {
        body["forward"] =
            Value::String(p.signed_request("forward-objection", json!({"filingSha256": digest})));
    }
    let r = p.post("/v1/objections", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn forward(w: &World, o: &Value) -> Value {
    let p = w.client(&w.platform);
    let st = p.signed_request("forward-objection", json!({"filingSha256": o["filingSha256"]}));
    let r = p.post(
        &format!("/v1/objections/{}/forward", o["id"].as_str().unwrap()),
        &json!({"statement": st}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

#[test]
fn forwarding_deadline_spans_the_national_day_week_and_its_make_up_days() {
    // Friday 26 September 2025, 10:00 in Beijing.
    let w = World::new_at(Backend::Sqlite, datetime!(2025-09-26 10:00 +08:00));
    let record = records(&w)[0]["id"].as_i64().unwrap();

    let late = relay(
        &w,
        &filing(&w, json!({"type": "data", "record": record}), "late"),
        false,
    );
    let on_time = relay(
        &w,
        &filing(&w, json!({"type": "data", "record": record}), "on time"),
        false,
    );
    for o in [&late, &on_time] {
        assert_eq!(o["state"], "received");
        assert_eq!(o["receivedBy"], json!({"uscc": PLATFORM, "role": "platform"}));
        // Sat 27 rest; Sun 28 is a make-up working day (1); Mon 29 (2).
        assert_eq!(o["deadline"]["date"], "2025-09-29");
        assert_eq!(o["deadline"]["at"], "2025-09-29T23:59:59.999+08:00");
        assert_eq!(o["deadline"]["status"], "pending");
    }
    // Sunday 28 September is a working day: forwarding then keeps the deadline.
    w.node.clock.set(datetime!(2025-09-28 15:00 +08:00));
    let kept = forward(&w, &on_time);
    assert_eq!(kept["state"], "forwarded");
    assert_eq!(kept["deadline"]["status"], "kept");

    // Tuesday 30 September: the other one is overdue; the sweep flags it to the regulator once.
    w.node.clock.set(datetime!(2025-09-30 09:00 +08:00));
    let reg = w.client(&w.regulator);
    let overdue = reg.get("/v1/objections?overdue=true");
    assert_eq!(overdue.status, 200, "{}", overdue.text);
    let ids: Vec<&str> = overdue.body["objections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [late["id"].as_str().unwrap()]);
    let rt = actix_web::rt::System::new();
    assert_eq!(
        rt.block_on(consentry::node::objections::sweep(&w.node.node))
            .unwrap(),
        1
    );
    assert_eq!(
        rt.block_on(consentry::node::objections::sweep(&w.node.node))
            .unwrap(),
        0
    );
    let notices = reg.get("/v1/notices").body.to_string();
    assert!(
        notices.contains("overdue") && notices.contains(late["id"].as_str().unwrap()),
        "{notices}"
    );
    // Forwarded late: recorded as missed.
    let missed = forward(&w, &late);
    assert_eq!(missed["deadline"]["status"], "missed");
    assert_eq!(missed["overdue"], true);

    // Filed on Tuesday 30 September, 16:00: 1–8 October off, Thu 9 (1), Fri 10 (2).
    w.node.clock.set(datetime!(2025-09-30 16:00 +08:00));
    let o = relay(
        &w,
        &filing(&w, json!({"type": "data", "record": record}), "eve"),
        false,
    );
    assert_eq!(o["deadline"]["date"], "2025-10-10");
}

#[test]
fn a_year_missing_from_the_calendar_leaves_the_deadline_unknown_and_tells_the_regulator() {
    // Wednesday 30 December 2026: Thu 31 (1), then 2027, for which no notice is loaded.
    let w = World::new_at(Backend::Sqlite, datetime!(2026-12-30 10:00 +08:00));
    let record = records(&w)[0]["id"].as_i64().unwrap();
    let o = relay(
        &w,
        &filing(&w, json!({"type": "data", "record": record}), "year end"),
        false,
    );
    assert_eq!(o["deadline"]["status"], "unknown");
    assert!(
        o["deadline"]["reason"]
            .as_str()
            .unwrap()
            .contains("no data for 2027"),
        "{o}"
    );
    assert!(o["deadline"]["date"].is_null());
    let rt = actix_web::rt::System::new();
    assert_eq!(
        rt.block_on(consentry::node::objections::sweep(&w.node.node))
            .unwrap(),
        1
    );
    let reg = w.client(&w.regulator);
    let unknown = reg.get("/v1/objections?deadlineUnknown=true");
    assert_eq!(unknown.body["objections"][0]["id"], o["id"]);
    let notices = reg.get("/v1/notices").body.to_string();
    assert!(notices.contains("deadline-unknown"), "{notices}");
    // It is never counted as overdue on a guess.
    w.node.clock.set(datetime!(2027-01-15 10:00 +08:00));
    let overdue = reg.get("/v1/objections?overdue=true");
    assert_eq!(overdue.body["objections"], json!([]));
}

#[test]
fn a_new_calendar_file_is_picked_up_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calendar.json");
    std::fs::write(&path, consentry::calendar::EMBEDDED).unwrap();
    let cal = consentry::calendar::SharedCalendar::open(Some(path.clone())).unwrap();
    let at = datetime!(2026-12-30 10:00 +08:00);
    assert!(cal.get().deadline(at, 2).is_err());
    // A (test) notice for 2027 with New Year's Day on Friday 1 January.
    let mut v: Value = serde_json::from_str(consentry::calendar::EMBEDDED).unwrap();
    v["years"].as_array_mut().unwrap().push(json!({
        "year": 2027, "source": "test notice",
        "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}],
        "workdays": []
    }));
    // The change is seen by its modification time: set one, rather than wait for the clock to move.
    let touch = |secs: u64| {
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
            .unwrap();
    };
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    touch(1_000_000_000);
    assert!(cal.reload_if_changed().unwrap());
    // Thu 31 Dec (1), Fri 1 – Sun 3 Jan off, Mon 4 Jan (2).
    assert_eq!(cal.get().deadline(at, 2).unwrap().date.to_string(), "2027-01-04");
    // A broken file is refused and the calendar in use stays.
    std::fs::write(&path, b"{\"format\": 1}").unwrap();
    touch(1_000_000_001);
    assert!(cal.reload_if_changed().is_err());
    assert_eq!(cal.get().deadline(at, 2).unwrap().date.to_string(), "2027-01-04");
}

/// Every refusal answers a problem and leaves the log as it was.
#[test]
fn refusals_change_nothing() {
    let w = World::new(Backend::Sqlite);
    let record = records(&w)[0]["id"].as_i64().unwrap();
    let ent = w.client(&w.enterprise);
    let size = w.log_size();
    let other = crate::common::server::new_key();
    let cases: Vec<(Client, Value, u16, &str)> = vec![
        // Someone else's key signs the filing.
        (
            ent.clone(),
            json!({"filing": w.client(&other).signed_request("object", json!({"enterprise": ENTERPRISE, "target": {"type": "data", "record": record}, "reason": "x"}))}),
            403,
            "forbidden",
        ),
        // Not the enterprise's record.
        (
            ent.clone(),
            json!({"filing": filing(&w, json!({"type": "data", "record": 999_999}), "x")}),
            404,
            "not-found",
        ),
        // Not an entry of its history.
        (
            ent.clone(),
            json!({"filing": filing(&w, json!({"type": "access", "logIndex": 999_999}), "x")}),
            404,
            "not-found",
        ),
        // Bad attachment digest.
        (
            ent.clone(),
            json!({"filing": ent.signed_request("object", json!({"enterprise": ENTERPRISE, "target": {"type": "data", "record": record}, "reason": "x", "attachments": [{"name": "a", "sha256": "XYZ"}]}))}),
            400,
            "invalid-objection",
        ),
        // Empty reason.
        (
            ent.clone(),
            json!({"filing": ent.signed_request("object", json!({"enterprise": ENTERPRISE, "target": {"type": "data", "record": record}, "reason": "  "}))}),
            400,
            "invalid-objection",
        ),
        // An enterprise does not bring receipts.
        (
            ent.clone(),
            json!({"filing": filing(&w, json!({"type": "data", "record": record}), "x"), "receipt": "a.b.c"}),
            400,
            "invalid-objection",
        ),
        // A platform without its receipt.
        (
            w.client(&w.platform),
            json!({"filing": filing(&w, json!({"type": "data", "record": record}), "x")}),
            400,
            "invalid-objection",
        ),
        // A bank does not receive objections.
        (
            w.client(&w.bank),
            json!({"filing": filing(&w, json!({"type": "data", "record": record}), "x")}),
            403,
            "forbidden",
        ),
        // Unknown fields.
        (
            ent.clone(),
            json!({"filing": "x", "extra": 1}),
            400,
            "invalid-body",
        ),
    ];
    for (i, (client, body, status, problem)) in cases.into_iter().enumerate() {
        let r = client.post("/v1/objections", &body);
        assert_eq!(r.status, status, "case {i}: {}", r.text);
        if !problem.is_empty() {
            assert!(r.problem().ends_with(problem), "case {i}: {}", r.text);
        }
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "case {i}"
        );
        assert_eq!(w.log_size(), size, "case {i} wrote to the log");
    }
    // Steps out of order or by the wrong actor.
    let o = ent.post(
        "/v1/objections",
        &json!({"filing": filing(&w, json!({"type": "data", "record": record}), "x")}),
    );
    assert_eq!(o.status, 201, "{}", o.text);
    let id = o.body["id"].as_str().unwrap();
    let size = w.log_size();
    let op = w.node.operator();
    let resolve = op.signed_request(
        "resolve-objection",
        json!({"objection": id, "outcome": "rejected", "explanation": "x"}),
    );
    let r = op.post(
        &format!("/v1/objections/{id}/resolve"),
        &json!({"statement": resolve}),
    );
    assert_eq!(r.status, 409, "resolve before review: {}", r.text);
    let p = w.client(&w.platform);
    let review = p.signed_request("review-objection", json!({"objection": id}));
    let r = p.post(
        &format!("/v1/objections/{id}/review"),
        &json!({"statement": review}),
    );
    assert_eq!(r.status, 403, "a platform reviews: {}", r.text);
    let review = op.signed_request("review-objection", json!({"objection": "obj-other"}));
    let r = op.post(
        &format!("/v1/objections/{id}/review"),
        &json!({"statement": review}),
    );
    assert_eq!(r.status, 400, "statement for another objection: {}", r.text);
    let review = op.signed_request("review-objection", json!({"objection": id}));
    let r = op.post(
        &format!("/v1/objections/{id}/review"),
        &json!({"statement": review.clone()}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let size_after_review = w.log_size();
    assert_eq!(size_after_review, size + 1);
    // The same statement twice is a replay.
    let r = op.post(
        &format!("/v1/objections/{id}/review"),
        &json!({"statement": review}),
    );
    assert!(r.status == 401 || r.status == 409, "replay: {}", r.text);
    let corrected = op.signed_request(
        "resolve-objection",
        json!({"objection": id, "outcome": "corrected", "explanation": "x"}),
    );
    let r = op.post(
        &format!("/v1/objections/{id}/resolve"),
        &json!({"statement": corrected}),
    );
    assert_eq!(r.status, 400, "corrected without fields: {}", r.text);
    assert_eq!(w.log_size(), size_after_review);
    // Another enterprise cannot see it.
    let stranger = w.client(&w.platform).get(&format!("/v1/objections/{id}"));
    assert_eq!(stranger.status, 404, "{}", stranger.text);
    let public = get_public(&format!("{}/v1/objections", w.node.url));
    assert_eq!(public.status, 401);
}

/// Every day of the shipped calendar agrees with an independent transcription of the State Council
/// notices (the Python `chinesecalendar` package), and the command line refuses a missing year.
#[test]
fn shipped_calendar_agrees_with_chinesecalendar() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_consentry");
    let days = Command::new(bin)
        .args(["calendar", "days", "2024-01-01", "2026-12-31"])
        .output()
        .unwrap();
    assert!(days.status.success(), "{}", String::from_utf8_lossy(&days.stderr));
    assert_eq!(String::from_utf8_lossy(&days.stdout).lines().count(), 1096);
    let root = env!("CARGO_MANIFEST_DIR");
    let py = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", "import chinese_calendar"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let pip = Command::new(&py)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "-r",
                &format!("{root}/tests/interop/requirements.txt"),
            ])
            .status()
            .unwrap();
        assert!(pip.success(), "pip install failed");
    }
    let mut child = Command::new(&py)
        .arg(format!("{root}/tests/interop/calendar_check.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&days.stdout).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.trim_end().ends_with("calendar: 1096 checked, 0 failed"),
        "{text}"
    );

    let missing = Command::new(bin)
        .args(["calendar", "deadline", "2026-12-30T10:00:00+08:00"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("calendar-missing") && err.contains("2027"), "{err}");
    let friday = Command::new(bin)
        .args(["calendar", "deadline", "2025-09-26T10:00:00+08:00"])
        .output()
        .unwrap();
    assert!(friday.status.success());
    let v: Value = serde_json::from_slice(&friday.stdout).unwrap();
    assert_eq!(v["deadline"], "2025-09-29T23:59:59.999+08:00");
}

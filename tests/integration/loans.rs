//! Loan outcomes (spec/loans.md): a bank reports through its platform to the node, the report is
//! checked against the releases the bank received under the grant, logged at both hops, visible to
//! the enterprise (which may object to it) and to the regulator, and counted in the loan figures.

use consentry::identity::KeyFile;
use serde_json::{Value, json};

use crate::common::interop::PyReceiver;
use crate::common::server::{Answer, Backend, Client, TestPlatform, new_key};
use crate::service::{ENTERPRISE, World};

const PLATFORM2: &str = "91330000MA28PLAT2L";
const BANK1: &str = "91330300MA2GHJK66N";
const BANK2: &str = "91320500MA1MX3XA9A";

/// A node, a platform process admitted to it, two banks of that platform, a grant naming the
/// first bank, and one release to it through the platform.
struct Loop {
    w: World,
    p: TestPlatform,
    bank1: KeyFile,
    bank2: KeyFile,
    grant: String,
    /// The node's log index of the release to bank 1.
    release: u64,
}

impl Loop {
    fn new(backend: Backend) -> Self {
        let w = World::new(backend);
        let p = TestPlatform::start(&w.node.url, PLATFORM2);
        let r = w.node.operator().post(
            "/v1/admin/platforms",
            &json!({"uscc": p.uscc, "name": "平台服务", "did": p.key.did.as_str(), "endpoint": p.url}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        let (bank1, bank2) = (new_key(), new_key());
        for (uscc, key, name) in [(BANK1, &bank1, "一号银行"), (BANK2, &bank2, "二号银行")] {
            let r = p.client(&p.key).post(
                "/v1/banks",
                &json!({"uscc": uscc, "name": name, "did": key.did.as_str()}),
            );
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let (grant, r) = w.grant_with(&w.enterprise.clone(), |d| {
            d.terms.grantee.uscc = PLATFORM2.to_owned();
            d.terms.onward_recipients[0].uscc = BANK1.to_owned();
        });
        assert_eq!(r.status, 201, "{}", r.text);
        let r = p.client(&bank1).post(
            "/v1/releases",
            &json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval"}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        let release = r.body["upstream"]["index"].as_u64().unwrap();
        Self {
            w,
            p,
            bank1,
            bank2,
            grant,
            release,
        }
    }

    /// `bank` signs `report` and sends it to the platform, authenticated as `sender`.
    fn send_as(&self, sender: &KeyFile, signer: &KeyFile, report: &Value) -> Answer {
        let token = consentry::node::auth::make_request(
            signer,
            &self.w.node.did,
            "loan-report",
            json!({"report": report}),
            self.w.node.clock_now(),
        )
        .unwrap();
        self.p
            .client(sender)
            .post("/v1/loan-reports", &json!({"request": token}))
    }

    fn send(&self, bank: &KeyFile, report: &Value) -> Answer {
        self.send_as(bank, bank, report)
    }

    fn report(&self, id: &str, loan: &str, event: Value) -> Value {
        json!({"reportId": id, "loan": loan, "enterprise": ENTERPRISE, "grant": self.grant,
               "releases": [self.release], "event": event})
    }

    fn regulator(&self) -> Client {
        self.w.client(&self.w.regulator)
    }

    fn node_size(&self) -> u64 {
        self.w.log_size()
    }

    fn platform_size(&self) -> u64 {
        self.p.client(&self.p.key).get("/v1/platform").body["logSize"]
            .as_u64()
            .unwrap()
    }
}

fn today() -> String {
    let d = consentry::clock::SystemClock
        .now()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date();
    d.to_string()
}

use consentry::clock::Clock as _;

fn approve(amount: i64, credit: bool, first: bool) -> Value {
    json!({"type": "decision", "decision": "approved", "amount": amount, "termMonths": 12,
           "rateBand": "3-4", "security": if credit {"credit"} else {"secured"}, "firstLoan": first, "on": today()})
}

fn story(backend: Backend) {
    let l = Loop::new(backend);
    let (n0, p0) = (l.node_size(), l.platform_size());
    // The decision, through the platform.
    let r = l.send(&l.bank1, &l.report("r-1", "L-1", approve(500_000, true, true)));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["state"], "approved");
    assert_eq!(r.body["outcome"], "loan-approved");
    assert_eq!(r.body["bank"], BANK1);
    // One entry at each hop; the platform's cites the node's.
    assert_eq!(l.node_size(), n0 + 1);
    assert_eq!(l.platform_size(), p0 + 1);
    assert_eq!(r.body["upstream"]["index"], n0);
    assert_eq!(r.body["upstream"]["receipt"]["index"], n0);
    assert_eq!(r.body["receipt"]["index"], p0);
    // Disbursement and repayments.
    let steps = [
        (
            "r-2",
            json!({"type": "disbursement", "amount": 300_000, "on": today()}),
            "disbursed",
            300_000,
        ),
        (
            "r-3",
            json!({"type": "repayment", "status": "on-time", "amount": 50_000, "on": today()}),
            "disbursed",
            250_000,
        ),
        (
            "r-4",
            json!({"type": "repayment", "status": "overdue", "overdueDays": 12, "on": today()}),
            "overdue",
            250_000,
        ),
        (
            "r-5",
            json!({"type": "repayment", "status": "settled", "on": today()}),
            "settled",
            0,
        ),
    ];
    for (id, event, state, balance) in steps {
        let r = l.send(&l.bank1, &l.report(id, "L-1", event));
        assert_eq!(r.status, 201, "{id}: {}", r.text);
        assert_eq!(r.body["state"], state, "{id}");
        assert_eq!(r.body["balance"], balance, "{id}");
    }
    // A declined application is a loan of its own.
    let r = l.send(
        &l.bank1,
        &l.report(
            "r-6",
            "L-2",
            json!({"type": "decision", "decision": "declined", "on": today()}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["state"], "declined");
    // An approval never drawn is cancelled: the loan ends without a balance (and stops being open).
    let r = l.send(&l.bank1, &l.report("r-7", "L-3", approve(90_000, false, false)));
    assert_eq!(r.status, 201, "{}", r.text);
    let r = l.send(
        &l.bank1,
        &l.report("r-8", "L-3", json!({"type": "cancellation", "on": today()})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (r.body["state"].as_str(), r.body["outcome"].as_str()),
        (Some("cancelled"), Some("loan-cancelled"))
    );

    // The enterprise sees every report in its history, names the bank, and may object to one.
    let ent = l.w.client(&l.w.enterprise);
    let h = ent.get("/v1/log/entries?kind=loan-report");
    assert_eq!(h.status, 200, "{}", h.text);
    let entries = h.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 8, "{}", h.text);
    assert_eq!(entries[0]["record"]["decision"], "loan-approved");
    assert_eq!(entries[0]["record"]["bank"], BANK1);
    assert_eq!(entries[0]["record"]["grant"]["id"], l.grant.as_str());
    assert_eq!(
        entries[0]["record"]["detail"]["report"]["event"]["amount"],
        500_000
    );
    let filing = ent.signed_request(
        "object",
        json!({"enterprise": ENTERPRISE, "target": {"type": "access", "logIndex": entries[3]["index"]},
               "reason": "未发生逾期 No repayment was overdue", "attachments": []}),
    );
    let o = ent.post("/v1/objections", &json!({"filing": filing}));
    assert_eq!(o.status, 201, "{}", o.text);

    // The regulator lists the loans with their reports; the enterprise its own.
    let reg = l.regulator().get("/v1/loans");
    assert_eq!(reg.status, 200, "{}", reg.text);
    let loans = reg.body["loans"].as_array().unwrap();
    assert_eq!(loans.len(), 3, "{}", reg.text);
    assert_eq!(loans[0]["loan"], "L-1");
    assert_eq!(loans[0]["reports"].as_array().unwrap().len(), 5);
    assert_eq!(loans[0]["state"], "settled");
    assert_eq!(
        loans[0]["region"], "000000",
        "a Zhejiang enterprise is outside Jiangsu"
    );
    assert_eq!(ent.get("/v1/loans").body["loans"].as_array().unwrap().len(), 3);
    let other = ent.get(&format!(
        "/v1/loans?enterprise={}",
        crate::service::OTHER_ENTERPRISE
    ));
    assert_eq!(other.status, 403, "{}", other.text);

    // The figures.
    let s = l.regulator().get("/v1/stats/loans?groupBy=bank");
    assert_eq!(s.status, 200, "{}", s.text);
    let row = &s.body["rows"][0];
    assert_eq!(row["bank"], BANK1, "{}", s.text);
    assert_eq!(row["applications"], 3);
    assert_eq!(row["approvals"], 2);
    assert_eq!(row["approvedAmount"], 590_000);
    assert_eq!(row["creditShare"], 0.8475);
    assert_eq!(row["firstLoans"], 1);
    assert_eq!(row["disbursed"], 300_000);
    assert_eq!(row["repaid"], 300_000);
    assert_eq!(row["overdueEvents"], 1);
    assert_eq!(row["balance"], 0);
    let csv = l.regulator().get("/v1/stats/loans?groupBy=region&format=csv");
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(
        csv.text.starts_with("region,regionName,applications,"),
        "{}",
        csv.text
    );
    assert!(csv.text.contains("000000,省外或未知,3,2,590000,"), "{}", csv.text);
    // A bank may read only its own figures; an enterprise none.
    assert_eq!(ent.get("/v1/stats/loans").status, 403);
}

#[test]
fn loan_story_on_sqlite() {
    story(Backend::Sqlite);
}

#[test]
fn loan_story_on_postgres() {
    story(Backend::Postgres);
}

/// Every bad report is a clear error and writes nothing, at either hop.
#[test]
fn bad_reports_change_nothing() {
    let l = Loop::new(Backend::Sqlite);
    let r = l.send(&l.bank1, &l.report("ok-1", "L-1", approve(100_000, false, false)));
    assert_eq!(r.status, 201, "{}", r.text);
    let (n0, p0) = (l.node_size(), l.platform_size());
    let loans_before = l.regulator().get("/v1/loans").text;
    let stats_before = l.regulator().get("/v1/stats/loans?groupBy=bank,month").text;
    let mut future = approve(1, true, true);
    future["on"] = json!("2999-01-01");
    let cases: Vec<(&str, Answer, u16, &str)> = vec![
        (
            "a bank that received nothing under the grant",
            l.send(&l.bank2, &l.report("b2-1", "B2", approve(10_000, true, true))),
            403,
            "no-release-under-grant",
        ),
        (
            "an entry that is not a release",
            l.send(&l.bank1, &{
                let mut v = l.report("x-1", "L-9", approve(10_000, true, true));
                v["releases"] = json!([l.release, 0]);
                v
            }),
            403,
            "release-not-under-grant",
        ),
        (
            "an unknown grant",
            l.send(&l.bank1, &{
                let mut v = l.report("x-2", "L-9", approve(10_000, true, true));
                v["grant"] = json!("urn:uuid:7d8c2b7e-3c55-4e8a-9b1f-0f0e0d0c0b0a");
                v
            }),
            403,
            "unknown-grant",
        ),
        (
            "a negative amount",
            l.send(&l.bank1, &l.report("x-3", "L-9", approve(-5, true, true))),
            400,
            "invalid-amount",
        ),
        (
            "an absurd amount",
            l.send(
                &l.bank1,
                &l.report("x-4", "L-9", approve(5_000_000_000_000, true, true)),
            ),
            400,
            "invalid-amount",
        ),
        (
            "a date in the future",
            l.send(&l.bank1, &l.report("x-5", "L-9", future)),
            400,
            "invalid-date",
        ),
        (
            "a repayment before anything was paid out",
            l.send(
                &l.bank1,
                &l.report(
                    "x-6",
                    "L-1",
                    json!({"type": "repayment", "status": "on-time", "amount": 5, "on": today()}),
                ),
            ),
            409,
            "loan-event-out-of-order",
        ),
        (
            "a disbursement beyond the approval",
            l.send(
                &l.bank1,
                &l.report(
                    "x-7",
                    "L-1",
                    json!({"type": "disbursement", "amount": 100_001, "on": today()}),
                ),
            ),
            409,
            "loan-event-out-of-order",
        ),
        (
            "a second decision",
            l.send(&l.bank1, &l.report("x-8", "L-1", approve(5, true, true))),
            409,
            "loan-event-out-of-order",
        ),
        (
            "a report id used before",
            l.send(&l.bank1, &l.report("ok-1", "L-3", approve(5, true, true))),
            409,
            "duplicate-report-id",
        ),
        (
            "an unknown event type",
            l.send(
                &l.bank1,
                &l.report("x-9", "L-9", json!({"type": "gift", "on": today()})),
            ),
            400,
            "invalid-report",
        ),
        (
            "a report signed by another bank than the caller",
            l.send_as(
                &l.bank1,
                &l.bank2,
                &l.report("x-10", "L-9", approve(5, true, true)),
            ),
            403,
            "forbidden",
        ),
    ];
    for (what, a, status, code) in cases {
        assert_eq!(a.status, status, "{what}: {}", a.text);
        let codes: Vec<String> = a.reasons();
        assert!(
            a.problem() == code || codes.iter().any(|c| c == code),
            "{what}: expected {code}, got {} {codes:?}: {}",
            a.problem(),
            a.text
        );
        assert_eq!(
            a.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.as_str()),
            Some("application/problem+json"),
            "{what}"
        );
    }
    // A platform may not send its bank's report straight to the node signed by the platform itself;
    // a bank may not call the node's report route; nor may a report be relayed twice.
    let token = consentry::node::auth::make_request(
        &l.bank1,
        &l.w.node.did,
        "loan-report",
        json!({"report": l.report("x-11", "L-9", approve(5, true, true))}),
        l.w.node.clock_now(),
    )
    .unwrap();
    let direct =
        l.w.client(&l.bank1)
            .post("/v1/loan-reports", &json!({"request": token}));
    assert_eq!(direct.status, 403, "{}", direct.text);
    assert_eq!(l.node_size(), n0);
    assert_eq!(l.platform_size(), p0);
    assert_eq!(l.regulator().get("/v1/loans").text, loans_before);
    assert_eq!(
        l.regulator().get("/v1/stats/loans?groupBy=bank,month").text,
        stats_before
    );
}

/// The figures from the rollups equal the figures counted directly over a randomized stream of
/// loan events from two banks (some refused), grouped by bank and by region.
#[test]
fn figures_match_direct_counts_over_a_randomized_stream() {
    let l = Loop::new(Backend::Sqlite);
    // Bank 2 receives data too, under its own grant.
    let (grant2, r) = l.w.grant_with(&l.w.enterprise.clone(), |d| {
        d.terms.grantee.uscc = PLATFORM2.to_owned();
        d.terms.onward_recipients[0].uscc = BANK2.to_owned();
    });
    assert_eq!(r.status, 201, "{}", r.text);
    let r = l.p.client(&l.bank2).post(
        "/v1/releases",
        &json!({"enterprise": ENTERPRISE, "grant": grant2, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let release2 = r.body["upstream"]["index"].as_u64().unwrap();

    // A small deterministic generator (xorshift), so a failure reproduces.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    #[derive(Default, Clone, Copy)]
    struct Model {
        applications: i64,
        approvals: i64,
        approved: i64,
        credit: i64,
        first: i64,
        disbursed: i64,
        repaid: i64,
        overdue: i64,
        defaults: i64,
    }
    let mut model = [Model::default(), Model::default()];
    // Per loan: (bank index, approved, disbursed, balance, state) as the model keeps it.
    let mut loans: Vec<(usize, i64, i64, i64, &str)> = Vec::new();
    let mut accepted = 0;
    for i in 0..60 {
        let b = usize::try_from(rand(2)).unwrap();
        let (key, grant, release) = if b == 0 {
            (&l.bank1, l.grant.clone(), l.release)
        } else {
            (&l.bank2, grant2.clone(), release2)
        };
        let pick = rand(10);
        let (loan_no, event) = if pick < 3 || loans.is_empty() {
            let amount = i64::try_from(1 + rand(1_000_000)).unwrap();
            let declined = rand(4) == 0;
            let ev = if declined {
                json!({"type": "decision", "decision": "declined", "on": today()})
            } else {
                approve(amount, rand(2) == 0, rand(3) == 0)
            };
            (loans.len(), ev)
        } else {
            let n = usize::try_from(rand(loans.len() as u64)).unwrap();
            let amount = i64::try_from(1 + rand(400_000)).unwrap();
            let ev = match rand(4) {
                0 => json!({"type": "disbursement", "amount": amount, "on": today()}),
                1 => json!({"type": "repayment", "status": "on-time", "amount": amount, "on": today()}),
                2 => json!({"type": "repayment", "status": "overdue", "overdueDays": 3, "on": today()}),
                _ => json!({"type": if rand(2) == 0 {"settled"} else {"default"}, "on": today()}),
            };
            let ev = if ev["type"] == "settled" || ev["type"] == "default" {
                json!({"type": "repayment", "status": ev["type"], "on": today()})
            } else {
                ev
            };
            (n, ev)
        };
        // An existing loan is always reported by the bank that made it.
        let (key, grant, release, b) = match loans.get(loan_no) {
            Some(&(owner, ..)) if owner != b => {
                if owner == 0 {
                    (&l.bank1, l.grant.clone(), l.release, 0)
                } else {
                    (&l.bank2, grant2.clone(), release2, 1)
                }
            }
            _ => (key, grant, release, b),
        };
        let report = json!({"reportId": format!("s-{i}"), "loan": format!("L-{loan_no}"), "enterprise": ENTERPRISE,
                            "grant": grant, "releases": [release], "event": event});
        let a = l.send(key, &report);
        assert!(a.status == 201 || a.status == 409, "{i}: {} {}", a.status, a.text);
        if a.status != 201 {
            continue;
        }
        accepted += 1;
        let m = &mut model[b];
        let state = a.body["state"].as_str().unwrap().to_owned();
        let (approved, disbursed, balance) = (
            a.body["approvedAmount"].as_i64().unwrap(),
            a.body["disbursed"].as_i64().unwrap(),
            a.body["balance"].as_i64().unwrap(),
        );
        match event["type"].as_str().unwrap() {
            "decision" => {
                m.applications += 1;
                if event["decision"] == "approved" {
                    m.approvals += 1;
                    m.approved += event["amount"].as_i64().unwrap();
                    if event["security"] == "credit" {
                        m.credit += event["amount"].as_i64().unwrap();
                    }
                    m.first += i64::from(event["firstLoan"] == true);
                }
                loans.push((b, approved, disbursed, balance, "new"));
            }
            "disbursement" => m.disbursed += event["amount"].as_i64().unwrap(),
            _ => {
                let before = loans[loan_no].3;
                match event["status"].as_str().unwrap() {
                    "on-time" => m.repaid += event["amount"].as_i64().unwrap(),
                    "settled" => m.repaid += before,
                    "overdue" => m.overdue += 1,
                    _ => m.defaults += 1,
                }
            }
        }
        if event["type"] != "decision" {
            loans[loan_no] = (b, approved, disbursed, balance, "seen");
        }
        let _ = state;
    }
    assert!(accepted > 20, "the stream exercised the loop: {accepted}");
    let s = l.regulator().get("/v1/stats/loans?groupBy=bank");
    assert_eq!(s.status, 200, "{}", s.text);
    let rows = s.body["rows"].as_array().unwrap();
    for (b, uscc) in [(0, BANK1), (1, BANK2)] {
        let m = model[b];
        let Some(row) = rows.iter().find(|r| r["bank"] == uscc) else {
            assert_eq!(m.applications, 0, "{uscc} missing: {}", s.text);
            continue;
        };
        let balance: i64 = loans.iter().filter(|x| x.0 == b).map(|x| x.3).sum();
        for (field, want) in [
            ("applications", m.applications),
            ("approvals", m.approvals),
            ("approvedAmount", m.approved),
            ("creditAmount", m.credit),
            ("firstLoans", m.first),
            ("disbursed", m.disbursed),
            ("repaid", m.repaid),
            ("overdueEvents", m.overdue),
            ("defaults", m.defaults),
            ("balance", balance),
        ] {
            assert_eq!(row[field], want, "{uscc} {field}: {}", s.text);
        }
    }
    // By region: one row (the enterprise is outside Jiangsu) with the sum of both banks.
    let s = l.regulator().get("/v1/stats/loans?groupBy=region");
    let rows = s.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", s.text);
    assert_eq!(
        rows[0]["applications"],
        model[0].applications + model[1].applications
    );
    // A bank sees its own row only.
    let own = l.w.client(&l.bank1).get("/v1/stats/loans?groupBy=bank");
    assert_eq!(own.status, 200, "{}", own.text);
    for r in own.body["rows"].as_array().unwrap() {
        assert_eq!(r["bank"], BANK1);
    }
}

/// The month `back` months before the current one (CST), as `YYYY-MM`, and its day `d`.
fn month_back(back: i32) -> (String, impl Fn(u8) -> String) {
    let today = consentry::clock::SystemClock
        .now()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date();
    let total = today.year() * 12 + i32::from(u8::from(today.month())) - 1 - back;
    let (y, m) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let name = format!("{y:04}-{m:02}");
    let n = name.clone();
    (name, move |d: u8| format!("{n}-{d:02}"))
}

/// The bulletin of a month is signed, archived once, reads only the entries below its log size, and
/// a regulator recomputes it byte for byte from the entries the audit API gives it; its loan figures
/// agree with the rollups.
#[test]
fn the_monthly_bulletin_is_recomputed_from_the_log_byte_for_byte() {
    use base64::Engine as _;
    let l = Loop::new(Backend::Sqlite);
    let (month, day) = month_back(2);
    let (_, next_day) = month_back(1);
    let events = [
        ("b-1", "L-1", approve_on(400_000, true, true, &day(3))),
        (
            "b-2",
            "L-1",
            json!({"type": "disbursement", "amount": 400_000, "on": day(5)}),
        ),
        (
            "b-3",
            "L-1",
            json!({"type": "repayment", "status": "on-time", "amount": 30_000, "on": day(20)}),
        ),
        (
            "b-4",
            "L-2",
            json!({"type": "decision", "decision": "declined", "on": day(10)}),
        ),
        ("b-5", "L-3", approve_on(200_000, false, false, &day(12))),
        // The next month: not in this month's figures, nor in its balance.
        (
            "b-6",
            "L-1",
            json!({"type": "repayment", "status": "on-time", "amount": 10_000, "on": next_day(2)}),
        ),
    ];
    for (id, loan, event) in events {
        let r = l.send(&l.bank1, &l.report(id, loan, event));
        assert_eq!(r.status, 201, "{id}: {}", r.text);
    }
    let op = l.w.node.operator();
    let made = op.post("/v1/admin/bulletins", &json!({"month": month}));
    assert_eq!(made.status, 201, "{}", made.text);
    // The rollups as they stand when the bulletin is made (compared below).
    let reg = l.regulator();
    let rollups = reg.get(&format!("/v1/stats/loans?from={month}&until={month}&groupBy="));
    assert_eq!(rollups.status, 200, "{}", rollups.text);
    // A report for the month arriving after the bulletin was archived does not change it.
    let late = l.send(
        &l.bank1,
        &l.report(
            "b-7",
            "L-3",
            json!({"type": "disbursement", "amount": 50_000, "on": day(28)}),
        ),
    );
    assert_eq!(late.status, 201, "{}", late.text);
    assert_eq!(
        op.post("/v1/admin/bulletins", &json!({"month": month})).status,
        409
    );
    let (this_month, _) = month_back(0);
    let r = op.post("/v1/admin/bulletins", &json!({"month": this_month}));
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.problem(), "invalid-month");

    let list = reg.get("/v1/bulletins");
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.text.contains(&month), "{}", list.text);
    let got = reg.get(&format!("/v1/bulletins/{month}"));
    assert_eq!(got.status, 200, "{}", got.text);
    let b = &got.body["bulletin"];
    // The signature covers the JCS bytes, and the digest is theirs.
    let bytes = consentry::crypto::jcs::canonicalize(b).unwrap();
    assert_eq!(
        got.body["sha256"],
        consentry::crypto::Sha256Digest::of(&bytes).to_hex()
    );
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(got.body["signature"].as_str().unwrap())
        .unwrap();
    let key = consentry::identity::DidKey::parse(&l.w.node.did).unwrap();
    key.public_key()
        .verify(&bytes, &sig)
        .expect("the node's signature over the bulletin");
    let loans = &b["loans"]["total"];
    assert_eq!(loans["applications"], 3, "{b}");
    assert_eq!(loans["approvedAmount"], 600_000);
    assert_eq!(loans["creditShare"], "0.6667");
    assert_eq!(loans["disbursed"], 400_000);
    assert_eq!(loans["repaid"], 30_000);
    assert_eq!(loans["balance"], 370_000);
    assert_eq!(b["releases"]["total"], 0, "the release was made this month: {b}");

    // The regulator recomputes it from the entries below its log size.
    let size = b["logSize"].as_u64().unwrap();
    let mut entries = Vec::new();
    let mut after: Option<u64> = None;
    loop {
        let path = match after {
            Some(a) => format!("/v1/log/entries?limit=100&after={a}"),
            None => "/v1/log/entries?limit=100".to_owned(),
        };
        let page = reg.get(&path);
        assert_eq!(page.status, 200, "{}", page.text);
        for e in page.body["entries"].as_array().unwrap() {
            let leaf_bytes = base64::engine::general_purpose::STANDARD
                .decode(e["leaf"].as_str().unwrap())
                .unwrap();
            let leaf = consentry::log::entry::Leaf::from_bytes(&leaf_bytes).unwrap();
            let record: consentry::log::entry::AccessRecord =
                serde_json::from_value(e["record"].clone()).unwrap();
            let salt: [u8; 32] = hex::decode(e["salt"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            assert!(leaf.opens(&salt, &record), "entry {} opens its leaf", e["index"]);
            entries.push(consentry::bulletin::Entry {
                index: e["index"].as_u64().unwrap(),
                kind: leaf.kind,
                time_ms: i64::try_from(leaf.time_ms).unwrap(),
                record,
            });
        }
        match page.body["next"].as_u64() {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let origin = b["origin"].as_str().unwrap();
    let m = consentry::bulletin::Month::parse(&month).unwrap();
    let again = consentry::bulletin::compute(origin, &m, size, &entries).canonical();
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&bytes),
        "recomputed from the log"
    );
    // The rollups, kept beside the log, agree with it.
    let row = &rollups.body["rows"][0];
    for f in [
        "applications",
        "approvedAmount",
        "creditAmount",
        "disbursed",
        "repaid",
        "balance",
    ] {
        assert_eq!(row[f], loans[f], "{f}: {}", rollups.text);
    }
    // The late report is in the rollups (and in the next bulletin's balance), not in this one.
    let now = reg.get(&format!("/v1/stats/loans?from={month}&until={month}&groupBy="));
    assert_eq!(now.body["rows"][0]["disbursed"], 450_000, "{}", now.text);
    // CSV; who may read.
    let csv = reg.get(&format!("/v1/bulletins/{month}?format=csv"));
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv.text.starts_with("section,group,key,name,figure,value\r\n"));
    assert!(
        csv.text.contains("loans,total,total,,balance,370000\r\n"),
        "{}",
        csv.text
    );
    assert_eq!(l.w.client(&l.bank1).get("/v1/bulletins").status, 403);
    assert_eq!(reg.get("/v1/bulletins/2026-13").status, 400);
    assert_eq!(reg.get("/v1/bulletins/1999-01").status, 404);
}

fn approve_on(amount: i64, credit: bool, first: bool, on: &str) -> Value {
    let mut v = approve(amount, credit, first);
    v["on"] = json!(on);
    v
}

/// A new record for the enterprise arrives (an import): returns its row id.
fn import(l: &Loop, category: &str, fields: Value) -> i64 {
    let catalog = consentry::catalog::Catalog::builtin();
    let provider = catalog.category(category).unwrap().providers[0].clone();
    let line = json!({"uscc": ENTERPRISE, "category": category, "date": today(), "provider": provider, "fields": fields});
    let records = consentry::node::data::parse_import(line.to_string().as_bytes(), &catalog, None, 0)
        .unwrap()
        .records;
    l.w.node
        .node
        .store
        .run(|c| consentry::storage::data::insert(c, &records))
        .unwrap();
    l.w.node
        .node
        .store
        .run(|c| {
            use consentry::storage::schema::data_records as d;
            use diesel::prelude::*;
            Ok(d::table.select(diesel::dsl::max(d::id)).first::<Option<i64>>(c)?)
        })
        .unwrap()
        .unwrap()
}

/// Waits until the risk sweep has read record `id`.
fn swept(l: &Loop, id: i64) {
    let start = std::time::Instant::now();
    loop {
        let at =
            l.w.node
                .node
                .store
                .run(|c| consentry::storage::cursors::get(c, consentry::storage::cursors::Reader::RiskAlerts))
                .unwrap();
        if at >= id {
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "the sweep did not reach {id}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A risk alert reaches the bank (a signed webhook the independent Python receiver verifies, and the
/// pull list) only while it has an open loan and a live post-loan grant covering the record's
/// category; after revocation the alert is refused and logged; after settlement nothing happens.
#[test]
fn risk_alerts_follow_the_open_loan_and_the_live_grant_on_sqlite() {
    risk_story(Backend::Sqlite);
}

#[test]
fn risk_alerts_follow_the_open_loan_and_the_live_grant_on_postgres() {
    risk_story(Backend::Postgres);
}

fn risk_story(backend: Backend) {
    use base64::Engine as _;
    use consentry::grant::model::{CategoryGrant, Granularity};
    let l = Loop::new(backend);
    let py = PyReceiver::start(&l.w.node.did);
    let bank_at_node = l.w.client(&l.bank1);
    let r = bank_at_node.post(
        "/v1/webhooks",
        &json!({"url": format!("http://127.0.0.1:{}/hooks/bank", py.port), "events": ["risk.alert"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    // The post-loan grant: the bank monitors social insurance and electricity, derived.
    let derived = |c: &str| CategoryGrant {
        code: c.into(),
        granularity: Granularity::Derived,
    };
    let (g2, r) = l.w.grant_with(&l.w.enterprise.clone(), |d| {
        d.terms.grantee.uscc = PLATFORM2.to_owned();
        d.terms.onward_recipients[0].uscc = BANK1.to_owned();
        d.terms.onward_recipients[0].categories = vec![derived("SOC-02"), derived("UTL-02")];
        d.terms.categories = vec![derived("SOC-02"), derived("UTL-02")];
        d.terms.purposes = vec!["post-loan-management".into()];
        d.terms.data_period.until = "2030-12-31".into();
        d.attach_current_letters(&consentry::catalog::Catalog::builtin());
    });
    assert_eq!(r.status, 201, "{}", r.text);

    // No open loan yet: nothing.
    let id = import(
        &l,
        "SOC-02",
        json!({"arrearsBalance": 800.0, "status": "inArrears"}),
    );
    swept(&l, id);
    let reg = l.regulator();
    assert_eq!(reg.get("/v1/alerts").body["alerts"].as_array().unwrap().len(), 0);

    // The loan is open: an arrears record alerts the bank.
    for (rid, ev) in [
        ("a-1", approve(200_000, true, true)),
        (
            "a-2",
            json!({"type": "disbursement", "amount": 200_000, "on": today()}),
        ),
    ] {
        let r = l.send(&l.bank1, &l.report(rid, "L-1", ev));
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let id = import(
        &l,
        "SOC-02",
        json!({"arrearsBalance": 4321.5, "status": "inArrears"}),
    );
    swept(&l, id);
    let got = bank_at_node.get("/v1/alerts");
    assert_eq!(got.status, 200, "{}", got.text);
    let alerts = got.body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{}", got.text);
    let a = &alerts[0];
    assert_eq!(a["rule"], "social-insurance-arrears");
    assert_eq!(a["outcome"], "sent");
    assert_eq!(a["grant"], g2.as_str());
    assert!(
        !got.text.contains("4321"),
        "an alert carries no field value: {}",
        got.text
    );
    // It is a release under the grant, in the enterprise's history.
    let h = l.w.client(&l.w.enterprise).get("/v1/log/entries?kind=release");
    let last = h.body["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["index"], a["logIndex"]);
    assert_eq!(last["record"]["purpose"], "post-loan-management");
    assert_eq!(last["record"]["grant"]["id"], g2.as_str());
    assert_eq!(last["record"]["bank"], BANK1);
    // The signed webhook, verified by Python.
    let start = std::time::Instant::now();
    while py.lines().is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "no delivery"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let line = &py.lines()[0];
    assert_eq!(line["verified"], true, "{line}");
    let body = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(line["body"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(
        body.contains("risk.alert") && body.contains("social-insurance-arrears"),
        "{body}"
    );

    // A record no rule fires on, and one of a category the grant does not cover: nothing.
    let id = import(&l, "SOC-02", json!({"arrearsBalance": 0.0, "status": "paid"}));
    swept(&l, id);
    let id = import(
        &l,
        "REG-04",
        json!({"status": "listed", "listingReason": "未按期公示年报"}),
    );
    swept(&l, id);
    assert_eq!(reg.get("/v1/alerts").body["alerts"].as_array().unwrap().len(), 1);

    // Revoked: the alert is refused and logged, nothing is sent.
    let size = l.node_size();
    assert_eq!(l.w.change(&l.w.enterprise, "revoke", &g2).status, 200);
    let id = import(
        &l,
        "UTL-02",
        json!({"overdueBalance": 310.0, "status": "overdue"}),
    );
    swept(&l, id);
    let all = reg.get("/v1/alerts");
    let list = all.body["alerts"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{}", all.text);
    assert_eq!(list[1]["outcome"], "refused");
    assert_eq!(list[1]["rule"], "electricity-overdue");
    let refusals = reg.get(&format!("/v1/log/entries?kind=refusal&after={size}"));
    let refusal = refusals.body["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(refusal["index"], list[1]["logIndex"]);
    assert_eq!(refusal["record"]["reasons"][0]["code"], "grant-revoked");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(py.lines().len(), 1, "nothing more was delivered");

    // Settled: no open loan, nothing at all.
    let r = l.send(
        &l.bank1,
        &l.report(
            "a-3",
            "L-1",
            json!({"type": "repayment", "status": "settled", "on": today()}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let id = import(&l, "UTL-02", json!({"overdueBalance": 99.0, "status": "overdue"}));
    swept(&l, id);
    assert_eq!(reg.get("/v1/alerts").body["alerts"].as_array().unwrap().len(), 2);
}

/// A bank subscribed to a public category for one 设区市 gets every new record of it, for 10,000
/// enterprises, in batches; each enterprise has its own release entry naming the bank (its history
/// shows it), persons' names are masked, other regions and categories are not pushed, and bad
/// subscriptions change nothing. The time from import to the last batch is printed (BENCHMARKS.md).
#[test]
fn public_information_reaches_a_subscribed_bank_in_batches_for_10000_enterprises() {
    use crate::service::{BANK, register_enterprise};
    let w = World::new(Backend::Sqlite);
    let bank = w.client(&w.bank);
    // Bad subscriptions: each a clear error, nothing written.
    for (body, what) in [
        (
            json!({"regions": ["320100"], "categories": ["TAX-03"]}),
            "not public",
        ),
        (
            json!({"regions": ["330100"], "categories": ["REG-01"]}),
            "not in Jiangsu",
        ),
        (
            json!({"regions": ["320102"], "categories": ["REG-01"]}),
            "a county, not a 设区市",
        ),
        (json!({"regions": [], "categories": ["REG-01"]}), "no region"),
        (
            json!({"regions": ["320100", "320100"], "categories": ["REG-01"]}),
            "twice",
        ),
        (
            json!({"regions": ["320100"], "categories": ["NOPE-1"]}),
            "unknown category",
        ),
    ] {
        let r = bank.post("/v1/feed/subscriptions", &body);
        assert_eq!(r.status, 400, "{what}: {}", r.text);
        assert_eq!(r.problem(), "invalid-subscription", "{what}");
    }
    let r = w.client(&w.platform).post(
        "/v1/feed/subscriptions",
        &json!({"regions": ["320100"], "categories": ["REG-01"]}),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(
        bank.get("/v1/feed/subscriptions").body["subscriptions"],
        json!([])
    );
    let sub = bank.post(
        "/v1/feed/subscriptions",
        &json!({"regions": ["320100"], "categories": ["REG-01"]}),
    );
    assert_eq!(sub.status, 201, "{}", sub.text);

    // 10,000 Nanjing enterprises and 200 in Suzhou, one registration record each, plus a non-public
    // record for some of them.
    let n = 10_000;
    let code = |area: &str, i: usize| {
        consentry::ids::Uscc::complete(&format!("91{area}MA{i:06}"))
            .unwrap()
            .as_str()
            .to_owned()
    };
    let mut lines = String::new();
    for i in 0..n {
        let uscc = code("320102", i);
        lines += &json!({"uscc": uscc, "category": "REG-01", "date": "2026-11-02", "provider": "SAMR",
            "fields": {"name": format!("南京示例{i}有限公司"), "legalRepresentative": "王小明", "status": "active"}}).to_string();
        lines.push('\n');
        if i % 100 == 0 {
            lines += &json!({"uscc": uscc, "category": "TAX-03", "date": "2026-10-31", "provider": "STA",
                "fields": {"taxPaid": 100.0}})
            .to_string();
            lines.push('\n');
        }
    }
    for i in 0..200 {
        lines += &json!({"uscc": code("320505", i), "category": "REG-01", "date": "2026-11-02", "provider": "SAMR",
            "fields": {"name": "苏州示例有限公司", "legalRepresentative": "李四", "status": "active"}}).to_string();
        lines.push('\n');
    }
    let catalog = consentry::catalog::Catalog::builtin();
    let records = consentry::node::data::parse_import(lines.as_bytes(), &catalog, None, 0)
        .unwrap()
        .records;
    let start = std::time::Instant::now();
    w.node
        .node
        .store
        .run(|c| consentry::storage::data::insert(c, &records))
        .unwrap();
    // Wait for the batches to cover every enterprise.
    let covered = || -> (i64, Vec<Value>) {
        let mut total = 0;
        let mut all = Vec::new();
        let mut after: Option<i64> = None;
        loop {
            let path = match after {
                Some(a) => format!("/v1/feed/batches?limit=200&after={a}"),
                None => "/v1/feed/batches?limit=200".to_owned(),
            };
            let page = bank.get(&path);
            assert_eq!(page.status, 200, "{}", page.text);
            for b in page.body["batches"].as_array().unwrap() {
                total += b["enterprises"].as_i64().unwrap();
                all.push(b.clone());
            }
            match page.body["next"].as_i64() {
                Some(a) => after = Some(a),
                None => return (total, all),
            }
        }
    };
    let batches = loop {
        let (total, all) = covered();
        if total >= n as i64 {
            break all;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(600),
            "only {total} pushed"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let took = start.elapsed();
    println!(
        "pushed {n} enterprises in {} batches, {:.1} s from import to the last batch ({:.0} enterprises/s, SQLite, debug build)",
        batches.len(),
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    assert!(batches.len() >= n.div_ceil(1000), "{}", batches.len());
    for b in &batches {
        assert!((1..=1000).contains(&b["enterprises"].as_i64().unwrap()), "{b}");
    }
    assert_eq!(covered().0, n as i64, "no enterprise twice");

    // One release entry per enterprise naming the bank; none for Suzhou; none for TAX-03.
    let count = |filter: &str| -> i64 {
        let f = filter.to_owned();
        w.node
            .node
            .store
            .run(move |c| {
                use consentry::storage::schema::log_leaves as l;
                use diesel::prelude::*;
                let q = l::table
                    .filter(l::kind.eq(1i16))
                    .filter(l::bank_uscc.eq(BANK))
                    .filter(l::enterprise_uscc.like(f))
                    .count();
                Ok(q.get_result::<i64>(c)?)
            })
            .unwrap()
    };
    assert_eq!(count("91320102%"), n as i64);
    assert_eq!(count("91320505%"), 0, "another region is not pushed");
    // A batch in full: masked persons, only the subscribed category.
    let id = batches[0]["id"].as_str().unwrap();
    let full = bank.get(&format!("/v1/feed/batches/{id}"));
    assert_eq!(full.status, 200, "{}", full.text);
    let entries = full.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1000);
    assert!(!full.text.contains("王小明"), "a person's name is masked");
    assert!(full.text.contains("王某"));
    assert!(!full.text.contains("TAX-03") && !full.text.contains("taxPaid"));
    // The enterprise sees who received its data: register one of them and read its history.
    let ent_key = new_key();
    let some = entries[17]["enterprise"].as_str().unwrap().to_owned();
    register_enterprise(&w.node, &ent_key, &some, "南京示例有限公司");
    let h = w.client(&ent_key).get("/v1/log/entries?kind=release");
    assert_eq!(h.status, 200, "{}", h.text);
    let mine = h.body["entries"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "{}", h.text);
    assert_eq!(mine[0]["index"], entries[17]["logIndex"]);
    assert_eq!(mine[0]["record"]["bank"], BANK);
    assert_eq!(mine[0]["record"]["detail"]["batch"], id);
    // The bank was told of each batch.
    let notices = bank.get("/v1/notices");
    assert!(notices.text.contains("public-batch"), "{}", notices.text);
    // Read again from the start (a second process, a lost cursor): nothing is pushed twice.
    let before = covered().1.len();
    w.node
        .node
        .store
        .run(|c| {
            use consentry::storage::schema::record_cursors as rc;
            use diesel::prelude::*;
            diesel::update(rc::table.find("public-push"))
                .set(rc::last_record.eq(0i64))
                .execute(c)?;
            Ok(())
        })
        .unwrap();
    let again = actix_web::rt::System::new()
        .block_on(consentry::node::feed::sweep(&w.node.node))
        .unwrap();
    assert_eq!(again, covered().1.len() - before, "{again}");
    assert_eq!(covered().0, n as i64, "no enterprise pushed twice");
    assert_eq!(count("91320102%"), n as i64);
    // A suspended bank gets nothing.
    let r = w.node.operator().post(
        &format!("/v1/admin/participants/bank/{BANK}/state"),
        &json!({"state": "suspended"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let line = json!({"uscc": code("320102", n + 1), "category": "REG-01", "date": "2026-11-03", "provider": "SAMR",
        "fields": {"name": "南京新设有限公司", "status": "active"}});
    let fresh = consentry::node::data::parse_import(line.to_string().as_bytes(), &catalog, None, 0)
        .unwrap()
        .records;
    w.node
        .node
        .store
        .run(|c| consentry::storage::data::insert(c, &fresh))
        .unwrap();
    actix_web::rt::System::new()
        .block_on(consentry::node::feed::sweep(&w.node.node))
        .unwrap();
    assert_eq!(count("91320102%"), n as i64, "nothing for a suspended bank");
    let r = w.node.operator().post(
        &format!("/v1/admin/participants/bank/{BANK}/state"),
        &json!({"state": "active"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // Unsubscribed: a new record is not pushed.
    let sid = sub.body["id"].as_str().unwrap();
    let r = bank.post(&format!("/v1/feed/subscriptions/{sid}/delete"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
}

/// A platform declares the 设区市 it covers when it is admitted; the registry shows them; a code
/// that is not a 设区市, a repeat, or regions for a bank are refused and change nothing.
#[test]
fn platforms_declare_the_regions_they_cover() {
    let w = World::new(Backend::Sqlite);
    let op = w.node.operator();
    let key = new_key();
    let admit = |regions: Value| {
        op.post(
            "/v1/admin/platforms",
            &json!({"uscc": PLATFORM2, "name": "江苏平台", "did": key.did.as_str(),
                    "endpoint": "https://p.example", "regions": regions}),
        )
    };
    for (bad, what) in [
        (json!(["320102"]), "a county"),
        (json!(["330100"]), "Zhejiang"),
        (json!(["320100", "320100"]), "twice"),
    ] {
        let r = admit(bad);
        assert_eq!(r.status, 400, "{what}: {}", r.text);
        assert_eq!(r.problem(), "invalid-region", "{what}");
    }
    let r = admit(json!(["320500", "320100"]));
    assert_eq!(r.status, 201, "{}", r.text);
    let list = w.client(&w.regulator).get("/v1/participants?role=platform");
    assert_eq!(list.status, 200, "{}", list.text);
    let p = list.body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["uscc"] == PLATFORM2)
        .cloned()
        .unwrap();
    assert_eq!(p["regions"], json!(["320100", "320500"]), "{p}");
    let r = w.client(&key).post(
        "/v1/banks",
        &json!({"uscc": BANK2, "name": "银行", "did": new_key().did.as_str(), "regions": ["320100"]}),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.problem(), "invalid-region");
}

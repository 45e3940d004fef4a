//! Industries (GB/T 4754, spec/industries.md): given at registration or by a department's import,
//! checked against the node's table (the test nodes load the made-up table in tests/support, the
//! official one not being shipped), counted in the figures by region and industry, used by the
//! public push, and refused with a clear error when unknown.

use std::collections::BTreeMap;

use consentry::identity::KeyFile;
use serde_json::{Value, json};

use crate::common::server::{Backend, TestNode, TestPlatform, new_key};
use crate::service::{ENTERPRISE, World, draft, now};

const PLATFORM2: &str = "91330000MA28PLAT2L";
const BANK1: &str = "91330300MA2GHJK66N";
/// The 设区市 the generated enterprises register in.
const CITIES: [&str; 4] = ["320100", "320200", "320500", "321300"];
/// The codes of the made-up table they are given (or none).
const CODES: [&str; 6] = ["A", "A01", "B03", "B04", "C05", "D"];

/// A deterministic generator (xorshift), so a failure reproduces.
struct Rand(u64);

impl Rand {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn uscc(county: &str, i: usize) -> String {
    consentry::ids::Uscc::complete(&format!("91{county}MA{i:06}"))
        .unwrap()
        .as_str()
        .to_owned()
}

/// Registers and approves an enterprise, stating `industry` in its signed registration.
fn register(
    node: &TestNode,
    key: &KeyFile,
    uscc: &str,
    industry: Option<&str>,
) -> crate::common::server::Answer {
    let c = node.client(key);
    let mut claims = json!({"uscc": uscc, "name": format!("示例企业{}", &uscc[10..16])});
    if let Some(i) = industry {
        claims["industry"] = json!(i);
    }
    let token = c.signed_request("register", claims);
    let r = c.post_raw("/v1/registrations", &token, false);
    if r.status == 202 {
        let a = node
            .operator()
            .post(&format!("/v1/admin/registrations/{uscc}/approve"), &json!({}));
        assert_eq!(a.status, 200, "{}", a.text);
    }
    r
}

fn stored(node: &TestNode, uscc: &str) -> Option<String> {
    let u = uscc.to_owned();
    node.node
        .store
        .run(move |c| consentry::storage::industries::of(c, &u))
        .unwrap()
}

fn import(node: &TestNode, lines: &str) -> Result<usize, consentry::error::Error> {
    let parsed = consentry::node::data::parse_import(
        lines.as_bytes(),
        &node.node.catalog(),
        node.node.industries.as_deref(),
        node.node.now_ms(),
    )?;
    consentry::node::data::import(&node.node, &parsed)
}

/// The figures key of a stored code: its section, or `unclassified`.
fn section(code: Option<&str>) -> String {
    code.map_or("unclassified".to_owned(), |c| c[..1].to_owned())
}

#[test]
fn enterprises_by_region_and_industry_match_direct_counts() {
    let w = World::new(Backend::Sqlite);
    let mut rand = Rand(0x2545_F491_4F6C_DD1D);
    // What the node should hold: enterprise → (设区市, industry code).
    let mut model: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    model.insert(ENTERPRISE.to_owned(), ("000000".to_owned(), None));
    let mut lines = String::new();
    for i in 0..30 {
        let city = CITIES[usize::try_from(rand.below(4)).unwrap()];
        let county = format!("{}{:02}", &city[..4], 2 + rand.below(4));
        let code = uscc(&county, i);
        let declared = (rand.below(3) > 0).then(|| CODES[usize::try_from(rand.below(6)).unwrap()]);
        let r = register(&w.node, &new_key(), &code, declared);
        assert_eq!(r.status, 202, "{}", r.text);
        let mut industry = declared.map(str::to_owned);
        // A department's import states the industry of some: its word replaces the enterprise's.
        if rand.below(3) == 0 {
            let said = CODES[usize::try_from(rand.below(6)).unwrap()];
            lines += &json!({"uscc": code, "category": "REG-01", "date": "2026-11-02", "provider": "SAMR",
                "industry": said, "fields": {"name": "示例", "status": "active"}})
            .to_string();
            lines.push('\n');
            industry = Some(said.to_owned());
        }
        model.insert(code, (city.to_owned(), industry));
    }
    import(&w.node, &lines).unwrap();
    for (code, (_, industry)) in &model {
        assert_eq!(stored(&w.node, code).as_deref(), industry.as_deref(), "{code}");
    }
    let regulator = w.client(&w.regulator);
    for group in ["region,industry", "industry", "region", "industry,region", ""] {
        let dims: Vec<&str> = group.split(',').filter(|s| !s.is_empty()).collect();
        let mut want: BTreeMap<Vec<String>, i64> = BTreeMap::new();
        for (city, industry) in model.values() {
            let key = dims
                .iter()
                .map(|d| {
                    if *d == "region" {
                        city.clone()
                    } else {
                        section(industry.as_deref())
                    }
                })
                .collect();
            *want.entry(key).or_default() += 1;
        }
        let s = regulator.get(&format!("/v1/stats/enterprises?groupBy={group}"));
        assert_eq!(s.status, 200, "{group}: {}", s.text);
        assert_eq!(s.body["total"], model.len() as i64);
        let got: BTreeMap<Vec<String>, i64> = s.body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    dims.iter().map(|d| r[*d].as_str().unwrap().to_owned()).collect(),
                    r["enterprises"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want, "{group}");
        for r in s.body["rows"].as_array().unwrap() {
            if let Some(k) = r["industry"].as_str() {
                let name = r["industryName"].as_str().unwrap();
                match k {
                    "unclassified" => assert_eq!(name, "未分类"),
                    _ => assert!(name.starts_with("测试门类"), "{r}"),
                }
            }
        }
    }
    // CSV: a header with the names, and the same counts.
    let csv = regulator.get("/v1/stats/enterprises?groupBy=industry&format=csv");
    assert_eq!(csv.status, 200, "{}", csv.text);
    let mut rows = csv.text.lines();
    assert_eq!(rows.next(), Some("industry,industryName,enterprises"));
    let total: i64 = rows
        .map(|l| l.rsplit(',').next().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, model.len() as i64);
    // Only the regulator and the operator read them; a bad dimension is a clear error.
    assert_eq!(w.client(&w.bank).get("/v1/stats/enterprises").status, 403);
    let bad = regulator.get("/v1/stats/enterprises?groupBy=region,sector");
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.problem(), "invalid-stats-query");
}

#[test]
fn unknown_industries_are_refused_and_nothing_is_written() {
    let w = World::new(Backend::Sqlite);
    let size = w.log_size();
    let code = uscc("320102", 1);
    // Registration: not in the table, a division of another section, not a string.
    for bad in [json!("Z"), json!("A03"), json!("C5"), json!(13)] {
        let key = new_key();
        let c = w.node.client(&key);
        let token = c.signed_request("register", json!({"uscc": code, "name": "示例", "industry": bad}));
        let r = c.post_raw("/v1/registrations", &token, false);
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_eq!(r.problem(), "invalid-industry", "{bad}");
    }
    assert_eq!(w.log_size(), size, "no registration entry");
    assert_eq!(stored(&w.node, &code), None);
    // The code is still free: a good registration goes through and is logged with the industry.
    let r = register(&w.node, &new_key(), &code, Some("B03"));
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(stored(&w.node, &code).as_deref(), Some("B03"));
    // A registration the node rejects classifies nothing: the industry counts on approval only.
    let rejected = uscc("320102", 3);
    let key = new_key();
    let c = w.node.client(&key);
    let token = c.signed_request(
        "register",
        json!({"uscc": rejected, "name": "示例", "industry": "A01"}),
    );
    assert_eq!(c.post_raw("/v1/registrations", &token, false).status, 202);
    assert_eq!(stored(&w.node, &rejected), None, "not before approval");
    let r = w
        .node
        .operator()
        .post(&format!("/v1/admin/registrations/{rejected}/reject"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(stored(&w.node, &rejected), None, "nor after rejection");

    // Import: an unknown code, two industries for one enterprise, a number — the line is named and
    // nothing of the file is written (not even its good lines).
    let line = |u: &str, i: Value| {
        json!({"uscc": u, "category": "REG-01", "date": "2026-11-02", "provider": "SAMR",
               "industry": i, "fields": {"status": "active"}})
        .to_string()
    };
    let other = uscc("320502", 2);
    let records_before = count_records(&w.node);
    for (file, want) in [
        (
            format!("{}\n{}\n", line(&other, json!("D06")), line(&code, json!("Q"))),
            "line 2",
        ),
        (
            format!("{}\n{}\n", line(&other, json!("D06")), line(&other, json!("D07"))),
            "an earlier line says D06",
        ),
        (line(&other, json!(6)), "must be a string"),
    ] {
        let e = import(&w.node, &file).unwrap_err();
        assert_eq!(e.code(), "invalid-industry", "{e}");
        assert!(e.to_string().contains(want), "{want}: {e}");
    }
    assert_eq!(count_records(&w.node), records_before);
    assert_eq!(stored(&w.node, &other), None);
    assert_eq!(stored(&w.node, &code).as_deref(), Some("B03"));
    // Without a table, any industry is refused, and says why.
    let e = consentry::node::data::parse_import(
        line(&other, json!("B")).as_bytes(),
        &w.node.node.catalog(),
        None,
        0,
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid-industry");
    assert!(e.to_string().contains("no industry table"), "{e}");

    // Subscriptions by an unknown industry, or twice the same.
    let bank = w.client(&w.bank);
    for body in [
        json!({"industries": ["Z"], "categories": ["REG-01"]}),
        json!({"industries": ["B", "B"], "categories": ["REG-01"]}),
        json!({"industries": [], "regions": [], "categories": ["REG-01"]}),
    ] {
        let r = bank.post("/v1/feed/subscriptions", &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(
            ["invalid-industry", "invalid-subscription"].contains(&r.problem()),
            "{}",
            r.text
        );
    }
    assert_eq!(
        bank.get("/v1/feed/subscriptions").body["subscriptions"],
        json!([])
    );
}

fn count_records(node: &TestNode) -> i64 {
    node.node
        .store
        .run(|c| {
            use consentry::storage::schema::data_records as d;
            use diesel::prelude::*;
            Ok(d::table.count().get_result::<i64>(c)?)
        })
        .unwrap()
}

/// A node, a platform process with one bank, and enterprises of several regions and industries,
/// each with a grant naming the bank and one release to it.
struct Lenders {
    w: World,
    p: TestPlatform,
    bank: KeyFile,
    /// (enterprise, grant, release index at the node, region, industry section).
    borrowers: Vec<(String, String, u64, String, String)>,
}

fn lenders(backend: Backend) -> Lenders {
    let w = World::new(backend);
    let p = TestPlatform::start(&w.node.url, PLATFORM2);
    let r = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": p.uscc, "name": "平台服务", "did": p.key.did.as_str(), "endpoint": p.url}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let bank = new_key();
    let r = p.client(&p.key).post(
        "/v1/banks",
        &json!({"uscc": BANK1, "name": "一号银行", "did": bank.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let mut borrowers = Vec::new();
    for (i, (county, industry)) in [
        ("320102", Some("A01")),
        ("320505", Some("B")),
        ("320102", Some("B04")),
        ("320206", None),
    ]
    .into_iter()
    .enumerate()
    {
        let code = uscc(county, 100 + i);
        let key = new_key();
        let r = register(&w.node, &key, &code, industry);
        assert_eq!(r.status, 202, "{}", r.text);
        let data = format!(
            "{{\"uscc\":\"{code}\",\"category\":\"TAX-03\",\"date\":\"2025-01-31\",\"provider\":\"STA\",\"fields\":{{\"taxPaid\":1200.5}}}}\n"
        );
        import(&w.node, &data).unwrap();
        let c = w.client(&key);
        let slot = c.post("/v1/status/slots", &json!({}));
        assert_eq!(slot.status, 201, "{}", slot.text);
        let mut d = draft(
            &key,
            slot.body["statusList"].as_str().unwrap(),
            slot.body["statusIndex"].as_u64().unwrap(),
        );
        d.terms.enterprise.uscc = code.clone();
        d.terms.grantee.uscc = PLATFORM2.to_owned();
        d.terms.onward_recipients[0].uscc = BANK1.to_owned();
        let signed =
            consentry::credential::data_integrity::create_proof(&d.to_credential(), &key, now()).unwrap();
        let r = c.post_raw("/v1/grants", &serde_json::to_string(&signed).unwrap(), false);
        assert_eq!(r.status, 201, "{}", r.text);
        let grant = d.id.as_str().to_owned();
        let r = p.client(&bank).post(
            "/v1/releases",
            &json!({"enterprise": code, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval"}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        let release = r.body["upstream"]["index"].as_u64().unwrap();
        let region = format!("{}00", &county[..4]);
        borrowers.push((code, grant, release, region, section(industry)));
    }
    Lenders {
        w,
        p,
        bank,
        borrowers,
    }
}

fn today() -> String {
    use consentry::clock::Clock as _;
    consentry::clock::SystemClock
        .now()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date()
        .to_string()
}

fn loan_figures_by_region_and_industry(backend: Backend) {
    let l = lenders(backend);
    let mut rand = Rand(0x9E37_79B9_7F4A_7C15);
    // Per (region, industry): applications, approved amount, credit amount, balance.
    let mut model: BTreeMap<(String, String), [i64; 4]> = BTreeMap::new();
    // Per loan: its borrower and balance.
    let mut loans: Vec<(usize, i64)> = Vec::new();
    for i in 0..40 {
        let new = loans.is_empty() || rand.below(3) == 0;
        let (n, event) = if new {
            let b = usize::try_from(rand.below(l.borrowers.len() as u64)).unwrap();
            let amount = i64::try_from(1 + rand.below(900_000)).unwrap();
            let credit = rand.below(2) == 0;
            (
                b,
                json!({"type": "decision", "decision": "approved", "amount": amount, "termMonths": 12,
                       "rateBand": "3-4", "security": if credit {"credit"} else {"secured"}, "firstLoan": false, "on": today()}),
            )
        } else {
            let k = usize::try_from(rand.below(loans.len() as u64)).unwrap();
            let amount = i64::try_from(1 + rand.below(300_000)).unwrap();
            (
                k,
                json!({"type": "disbursement", "amount": amount, "on": today()}),
            )
        };
        let (loan_no, b) = if new { (loans.len(), n) } else { (n, loans[n].0) };
        let (code, grant, release, region, industry) = &l.borrowers[b];
        let report = json!({"reportId": format!("r-{i}"), "loan": format!("L-{loan_no}"), "enterprise": code,
                            "grant": grant, "releases": [release], "event": event});
        let token = consentry::node::auth::make_request(
            &l.bank,
            &l.w.node.did,
            "loan-report",
            json!({"report": report}),
            l.w.node.clock_now(),
        )
        .unwrap();
        let a =
            l.p.client(&l.bank)
                .post("/v1/loan-reports", &json!({"request": token}));
        assert!(a.status == 201 || a.status == 409, "{i}: {} {}", a.status, a.text);
        if a.status != 201 {
            continue;
        }
        let m = model.entry((region.clone(), industry.clone())).or_default();
        if new {
            m[0] += 1;
            let amount = event["amount"].as_i64().unwrap();
            m[1] += amount;
            if event["security"] == "credit" {
                m[2] += amount;
            }
            loans.push((b, 0));
        } else {
            m[3] += event["amount"].as_i64().unwrap();
            loans[loan_no].1 += event["amount"].as_i64().unwrap();
        }
    }
    let s =
        l.w.client(&l.w.regulator)
            .get("/v1/stats/loans?groupBy=region,industry");
    assert_eq!(s.status, 200, "{}", s.text);
    let got: BTreeMap<(String, String), [i64; 4]> = s.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["region"].as_str().unwrap().to_owned(),
                    r["industry"].as_str().unwrap().to_owned(),
                ),
                [
                    r["applications"].as_i64().unwrap(),
                    r["approvedAmount"].as_i64().unwrap(),
                    r["creditAmount"].as_i64().unwrap(),
                    r["balance"].as_i64().unwrap(),
                ],
            )
        })
        .collect();
    assert_eq!(got, model, "{}", s.text);
    assert!(model.len() >= 3, "the stream reached several rows: {model:?}");
    // By industry alone, the sections add up; names come from the table.
    let s =
        l.w.client(&l.w.regulator)
            .get("/v1/stats/loans?groupBy=industry&format=csv");
    assert_eq!(s.status, 200, "{}", s.text);
    assert!(
        s.text.starts_with("industry,industryName,applications,"),
        "{}",
        s.text
    );
    let applications: i64 = model.values().map(|m| m[0]).sum();
    let got: i64 = s
        .text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(got, applications);
    // The loan list says the borrower's industry.
    let list = l.w.client(&l.w.regulator).get("/v1/loans");
    assert_eq!(list.status, 200, "{}", list.text);
    for loan in list.body["loans"].as_array().unwrap() {
        let b = l.borrowers.iter().find(|b| b.0 == loan["enterprise"]).unwrap();
        assert_eq!(loan["industry"], b.4.as_str(), "{loan}");
    }
}

#[test]
fn loan_figures_by_region_and_industry_match_the_stream_on_sqlite() {
    loan_figures_by_region_and_industry(Backend::Sqlite);
}

#[test]
fn loan_figures_by_region_and_industry_match_the_stream_on_postgres() {
    loan_figures_by_region_and_industry(Backend::Postgres);
}

#[test]
fn the_public_push_follows_the_subscribed_industries() {
    let w = World::new(Backend::Sqlite);
    let bank = w.client(&w.bank);
    // Section B anywhere; and division A01 in Nanjing only.
    let by_section = bank.post(
        "/v1/feed/subscriptions",
        &json!({"industries": ["B"], "categories": ["REG-01"]}),
    );
    assert_eq!(by_section.status, 201, "{}", by_section.text);
    assert_eq!(by_section.body["industries"], json!(["B"]));
    assert_eq!(by_section.body["regions"], json!([]));
    let narrow = bank.post(
        "/v1/feed/subscriptions",
        &json!({"regions": ["320100"], "industries": ["A01"], "categories": ["REG-01"]}),
    );
    assert_eq!(narrow.status, 201, "{}", narrow.text);
    let cases = [
        ("320102", Some("B03"), true, false),
        ("320505", Some("B"), true, false),
        ("320102", Some("A01"), false, true),
        ("320505", Some("A01"), false, false),
        ("320102", Some("A02"), false, false),
        ("320102", None, false, false),
    ];
    let mut lines = String::new();
    let mut codes = Vec::new();
    for (i, (county, industry, _, _)) in cases.iter().enumerate() {
        let code = uscc(county, 500 + i);
        let mut line = json!({"uscc": code, "category": "REG-01", "date": "2026-11-02", "provider": "SAMR",
                              "fields": {"name": "示例", "status": "active"}});
        if let Some(x) = industry {
            line["industry"] = json!(x);
        }
        lines += &line.to_string();
        lines.push('\n');
        codes.push(code);
    }
    import(&w.node, &lines).unwrap();
    let start = std::time::Instant::now();
    let want = |sub: usize| -> Vec<String> {
        let mut v: Vec<String> = cases
            .iter()
            .zip(&codes)
            .filter(|(c, _)| if sub == 0 { c.2 } else { c.3 })
            .map(|(_, u)| u.clone())
            .collect();
        v.sort();
        v
    };
    loop {
        let page = bank.get("/v1/feed/batches?limit=200");
        assert_eq!(page.status, 200, "{}", page.text);
        let mut got: [Vec<String>; 2] = [vec![], vec![]];
        for b in page.body["batches"].as_array().unwrap() {
            let one = bank.get(&format!("/v1/feed/batches/{}", b["id"].as_str().unwrap()));
            assert_eq!(one.status, 200, "{}", one.text);
            let sub = usize::from(one.body["subscription"] != by_section.body["id"]);
            for item in one.body["entries"].as_array().unwrap() {
                let u = item["enterprise"].as_str().unwrap().to_owned();
                let (case, _) = cases.iter().zip(&codes).find(|(_, c)| **c == u).unwrap();
                assert_eq!(item["industry"].as_str(), case.1, "{item}");
                got[sub].push(u);
            }
        }
        got[0].sort();
        got[1].sort();
        if got[0] == want(0) && got[1] == want(1) {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "pushed {got:?}, want {:?} and {:?}",
            want(0),
            want(1)
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

//! Regulators' grant oversight (measures §12; spec/openapi.yaml `listGrants`): `GET /v1/grants`
//! filtered by enterprise, platform, bank, category, state and submission time, newest first, paged
//! by cursor. A randomized set of grants is searched with every filter alone and in pairs, page by
//! page, and each answer compared with the same selection made directly over what the test
//! submitted; each role's scope, bad filters, and the categories of grants stored before they were
//! kept (filled in when the node starts) are checked too. On SQLite and PostgreSQL.

use consentry::grant::model::{CategoryGrant, Granularity};
use consentry::identity::KeyFile;
use serde_json::{Value, json};

use crate::common::server::{Backend, Client, new_key};
use crate::service::{
    BANK, ENTERPRISE, OTHER_ENTERPRISE, OTHER_PLATFORM, PLATFORM, World, register_enterprise,
};

/// A second bank of [`PLATFORM`] and a bank of [`OTHER_PLATFORM`].
const BANK2: &str = "91320100MA1BANK22K";
const BANK3: &str = "91320200MA1BANK33R";

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

fn code(s: &str) -> String {
    consentry::ids::Uscc::complete(&s[..16])
        .unwrap()
        .as_str()
        .to_owned()
}

/// What the test submitted: enough to select grants the way the node should.
#[derive(Debug, Clone)]
struct Made {
    id: String,
    log_index: i64,
    enterprise: String,
    platform: String,
    banks: Vec<String>,
    categories: Vec<&'static str>,
    state: &'static str,
    /// `submittedAt` as answered (whole seconds, UTC).
    submitted_at: String,
}

struct Search {
    w: World,
    other_platform: KeyFile,
    bank2: KeyFile,
    other_enterprise: KeyFile,
    made: Vec<Made>,
}

fn setup(backend: Backend) -> Search {
    let w = World::new(backend);
    let op = w.node.operator();
    let other_platform = new_key();
    let r = op.post(
        "/v1/admin/platforms",
        &json!({"uscc": OTHER_PLATFORM, "name": "另一平台", "did": other_platform.did.as_str(), "endpoint": "http://other.example"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let (bank2, bank3) = (new_key(), new_key());
    let r = w.client(&w.platform).post(
        "/v1/banks",
        &json!({"uscc": code(BANK2), "name": "二号银行", "did": bank2.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = w.client(&other_platform).post(
        "/v1/banks",
        &json!({"uscc": code(BANK3), "name": "三号银行", "did": bank3.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let other_enterprise = new_key();
    register_enterprise(&w.node, &other_enterprise, OTHER_ENTERPRISE, "另一企业");

    let mut rand = Rand(0x2545_F491_4F6C_DD1D);
    let mut made = Vec::new();
    for _ in 0..16 {
        let (key, enterprise) = if rand.below(2) == 0 {
            (w.enterprise.clone(), ENTERPRISE)
        } else {
            (other_enterprise.clone(), OTHER_ENTERPRISE)
        };
        let (platform, bank_choices) = if rand.below(3) == 0 {
            (OTHER_PLATFORM, vec![code(BANK3)])
        } else {
            (PLATFORM, vec![BANK.to_owned(), code(BANK2)])
        };
        let banks: Vec<String> = match rand.below(3) {
            0 => vec![],
            1 => vec![bank_choices[0].clone()],
            _ => bank_choices.clone(),
        };
        let categories: Vec<&'static str> = match rand.below(3) {
            0 => vec!["TAX-03"],
            1 => vec!["SOC-01"],
            _ => vec!["TAX-03", "SOC-01"],
        };
        let made_by = key.clone();
        let (id, r) = grant_as(&w, &made_by, |d| {
            d.terms.enterprise.uscc = enterprise.to_owned();
            d.terms.grantee.uscc = platform.to_owned();
            d.terms.categories = categories
                .iter()
                .map(|c| CategoryGrant {
                    code: (*c).to_owned(),
                    granularity: Granularity::Derived,
                })
                .collect();
            let template = d.terms.onward_recipients[0].clone();
            d.terms.onward_recipients = banks
                .iter()
                .map(|b| {
                    let mut r = template.clone();
                    r.uscc = b.clone();
                    r.categories = vec![CategoryGrant {
                        code: categories[0].to_owned(),
                        granularity: Granularity::Derived,
                    }];
                    r
                })
                .collect();
        });
        assert_eq!(r.status, 201, "{}", r.text);
        let mut m = Made {
            id,
            log_index: r.body["logIndex"].as_i64().unwrap(),
            enterprise: enterprise.to_owned(),
            platform: platform.to_owned(),
            banks,
            categories,
            state: "active",
            submitted_at: r.body["submittedAt"].as_str().unwrap().to_owned(),
        };
        match rand.below(4) {
            0 => {
                let a = w.change(&key, "revoke", &m.id);
                assert_eq!(a.status, 200, "{}", a.text);
                m.state = "revoked";
            }
            1 => {
                let a = w.change(&key, "suspend", &m.id);
                assert_eq!(a.status, 200, "{}", a.text);
                m.state = "suspended";
            }
            _ => {}
        }
        made.push(m);
        // Spread the submissions over more than one second, for the time filters.
        if made.len() == 5 || made.len() == 12 {
            std::thread::sleep(std::time::Duration::from_millis(1100));
        }
    }
    Search {
        w,
        other_platform,
        bank2,
        other_enterprise,
        made,
    }
}

/// Submits a grant of the enterprise whose key is `key` (the world's helper signs for its own
/// enterprise only).
fn grant_as(
    w: &World,
    key: &KeyFile,
    edit: impl FnOnce(&mut consentry::grant::draft::GrantDraft),
) -> (String, crate::common::server::Answer) {
    let c = w.client(key);
    let slot = c.post("/v1/status/slots", &json!({}));
    assert_eq!(slot.status, 201, "{}", slot.text);
    let mut d = crate::service::draft(
        key,
        slot.body["statusList"].as_str().unwrap(),
        slot.body["statusIndex"].as_u64().unwrap(),
    );
    edit(&mut d);
    let bytes = serde_json::to_string(
        &consentry::credential::data_integrity::create_proof(&d.to_credential(), key, crate::service::now())
            .unwrap(),
    )
    .unwrap();
    let r = c.post_raw("/v1/grants", &bytes, false);
    (d.id.as_str().to_owned(), r)
}

/// Every grant `c` finds with `query`, following `next` with pages of `limit`; checks each page's
/// shape on the way.
fn all_pages(c: &Client, query: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<i64> = None;
    for _ in 0..100 {
        let sep = if query.is_empty() { "" } else { "&" };
        let cursor = after.map(|a| format!("&after={a}")).unwrap_or_default();
        let r = c.get(&format!("/v1/grants?limit={limit}{sep}{query}{cursor}"));
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        let page = r.body["grants"].as_array().unwrap();
        assert!(page.len() <= limit, "{query}: page of {}", page.len());
        ids.extend(page.iter().map(|g| g["id"].as_str().unwrap().to_owned()));
        match &r.body["next"] {
            Value::Null => return ids,
            n => {
                assert_eq!(page.len(), limit, "{query}: a short page has no next");
                assert_eq!(n.as_i64(), page.last().unwrap()["logIndex"].as_i64());
                after = n.as_i64();
            }
        }
    }
    panic!("{query}: more than 100 pages");
}

/// The grants of `made` that `keep` selects, newest first.
fn expected(made: &[Made], keep: impl Fn(&Made) -> bool) -> Vec<String> {
    let mut v: Vec<&Made> = made.iter().filter(|m| keep(m)).collect();
    v.sort_by_key(|m| std::cmp::Reverse(m.log_index));
    v.into_iter().map(|m| m.id.clone()).collect()
}

type Filter = (String, Box<dyn Fn(&Made) -> bool>);

fn filters(made: &[Made]) -> Vec<Filter> {
    let mut f: Vec<Filter> = Vec::new();
    for e in [ENTERPRISE, OTHER_ENTERPRISE] {
        f.push((format!("enterprise={e}"), Box::new(move |m| m.enterprise == e)));
    }
    for p in [PLATFORM, OTHER_PLATFORM] {
        f.push((format!("platform={p}"), Box::new(move |m| m.platform == p)));
    }
    for b in [BANK.to_owned(), code(BANK2), code(BANK3)] {
        let q = format!("bank={b}");
        f.push((q, Box::new(move |m| m.banks.contains(&b))));
    }
    for c in ["TAX-03", "SOC-01"] {
        f.push((
            format!("category={c}"),
            Box::new(move |m| m.categories.contains(&c)),
        ));
    }
    for s in ["active", "suspended", "revoked"] {
        f.push((format!("state={s}"), Box::new(move |m| m.state == s)));
    }
    // Times: from the second of the sixth grant on, and up to the end of the twelfth's second
    // (each second apart from its neighbour's).
    let from = made[5].submitted_at.clone();
    let until = made[11].submitted_at.clone();
    let (f1, u1) = (from.clone(), until.clone());
    f.push((
        format!("submittedFrom={from}"),
        Box::new(move |m| m.submitted_at >= f1),
    ));
    let until_end = until.replace('Z', ".999Z");
    f.push((
        format!("submittedUntil={until_end}"),
        Box::new(move |m| m.submitted_at <= u1),
    ));
    f
}

fn regulator_search(backend: Backend) {
    let s = setup(backend);
    let regulator = s.w.client(&s.w.regulator);
    // No filter: every grant, newest first, whatever the page size.
    let everything = expected(&s.made, |_| true);
    assert_eq!(everything.len(), s.made.len());
    for limit in [1, 3, 50] {
        assert_eq!(all_pages(&regulator, "", limit), everything, "limit {limit}");
    }
    // Each filter alone, then every pair of filters on different members.
    let fs = filters(&s.made);
    let mut nonempty = 0;
    for (q, keep) in &fs {
        let want = expected(&s.made, keep);
        nonempty += usize::from(!want.is_empty());
        assert_eq!(all_pages(&regulator, q, 2), want, "{q}");
    }
    assert!(
        nonempty >= fs.len() - 2,
        "the generated grants exercise the filters"
    );
    for (i, (qa, ka)) in fs.iter().enumerate() {
        for (qb, kb) in &fs[i + 1..] {
            if qa.split('=').next() == qb.split('=').next() {
                continue;
            }
            let q = format!("{qa}&{qb}");
            assert_eq!(
                all_pages(&regulator, &q, 4),
                expected(&s.made, |m| ka(m) && kb(m)),
                "{q}"
            );
        }
    }
    // The node's operator sees the same.
    assert_eq!(
        all_pages(&s.w.node.operator(), "state=active", 5),
        expected(&s.made, |m| m.state == "active")
    );

    // Scopes: a platform, a bank and an enterprise see only what names them, whatever they ask.
    let names = |u: &str| {
        let u = u.to_owned();
        move |m: &Made| m.platform == u || m.banks.contains(&u)
    };
    let other = s.w.client(&s.other_platform);
    assert_eq!(all_pages(&other, "", 3), expected(&s.made, names(OTHER_PLATFORM)));
    assert_eq!(
        all_pages(&other, &format!("platform={PLATFORM}"), 3),
        Vec::<String>::new(),
        "another platform's grants are not found by naming it"
    );
    let bank2 = s.w.client(&s.bank2);
    assert_eq!(all_pages(&bank2, "", 3), expected(&s.made, names(&code(BANK2))));
    assert_eq!(
        all_pages(&bank2, "category=SOC-01", 3),
        expected(&s.made, |m| names(&code(BANK2))(m)
            && m.categories.contains(&"SOC-01"))
    );
    let e2 = s.w.client(&s.other_enterprise);
    assert_eq!(
        all_pages(&e2, "", 3),
        expected(&s.made, |m| m.enterprise == OTHER_ENTERPRISE)
    );
    let r = e2.get(&format!("/v1/grants?enterprise={ENTERPRISE}"));
    assert_eq!(r.status, 403, "{}", r.text);

    // Bad filters: each a 400 invalid-query naming the member at fault.
    for (q, names) in [
        ("bank=911000001000013429", "bank"),
        ("platform=nonsense", "platform"),
        ("category=NOPE-01", "category"),
        ("state=expired", "state"),
        ("submittedFrom=2026-13-01T00:00:00Z", "submittedFrom"),
        ("submittedUntil=yesterday", "submittedUntil"),
        (
            "submittedFrom=2026-02-02T00:00:00Z&submittedUntil=2026-02-01T00:00:00Z",
            "submittedFrom",
        ),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("colour=red", "colour"),
    ] {
        let r = regulator.get(&format!("/v1/grants?{q}"));
        assert_eq!(r.status, 400, "{q}: {}", r.text);
        assert_eq!(r.problem(), "invalid-query", "{q}: {}", r.text);
        assert!(r.text.contains(names), "{q}: {}", r.text);
    }
}

/// Grants stored before their categories were kept are found by category once the node has
/// started again (the categories are read back from the signed bytes).
fn categories_filled_in_at_start(backend: Backend) {
    let s = setup(backend);
    let regulator = s.w.client(&s.w.regulator);
    let want = expected(&s.made, |m| m.categories.contains(&"SOC-01"));
    assert!(!want.is_empty());
    s.w.node
        .node
        .store
        .run(|c| {
            consentry::on_backend!(c, |c| {
                use diesel::RunQueryDsl as _;
                diesel::sql_query("DELETE FROM grant_categories").execute(c)?;
                diesel::sql_query("DELETE FROM settings WHERE name = 'grant-categories'").execute(c)
            })
            .map_err(Into::into)
        })
        .unwrap();
    assert_eq!(all_pages(&regulator, "category=SOC-01", 50), Vec::<String>::new());
    let Search { mut w, .. } = s;
    w.node = w.node.restart();
    let regulator = w.client(&w.regulator);
    assert_eq!(all_pages(&regulator, "category=SOC-01", 50), want);
}

#[test]
fn regulator_search_sqlite() {
    regulator_search(Backend::Sqlite);
}

#[test]
fn regulator_search_postgres() {
    regulator_search(Backend::Postgres);
}

#[test]
fn categories_filled_in_at_start_sqlite() {
    categories_filled_in_at_start(Backend::Sqlite);
}

#[test]
fn categories_filled_in_at_start_postgres() {
    categories_filled_in_at_start(Backend::Postgres);
}

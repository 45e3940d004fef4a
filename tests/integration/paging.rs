//! Paging of the access chain (`GET /v1/log/entries`) and of the objections (`GET /v1/objections`)
//! on both backends: a `limit` outside the list's range is `400 invalid-query` naming it and
//! changes nothing (it was clamped before issue #10); paging with any page size returns each item
//! once, in order; what each role sees is unchanged by paging.

use serde_json::{Value, json};

use crate::common::server::{Backend, Client};
use crate::service::{ENTERPRISE, World};

/// Every item of `path` read `limit` at a time, following `next` as `cursor` (the items' ids by
/// `id`), with the number of pages read.
fn all_pages(
    c: &Client,
    path: &str,
    member: &str,
    cursor: &str,
    limit: u64,
    id: fn(&Value) -> String,
) -> (Vec<String>, usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &next {
            Some(n) => format!("{path}{sep}limit={limit}&{cursor}={}", urlencode(n)),
            None => format!("{path}{sep}limit={limit}"),
        };
        let a = c.get(&url);
        assert_eq!(a.status, 200, "{url}: {}", a.text);
        pages += 1;
        let items = a.body[member].as_array().expect("a list");
        assert!(items.len() as u64 <= limit, "{url}: {} items", items.len());
        out.extend(items.iter().map(id));
        match &a.body["next"] {
            Value::Null => break,
            n => {
                assert_eq!(
                    items.len() as u64,
                    limit,
                    "{url}: `next` on a page that is not full"
                );
                next = Some(n.as_str().map_or_else(|| n.to_string(), str::to_owned));
            }
        }
        assert!(pages < 10_000, "paging does not end");
    }
    (out, pages)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn index(e: &Value) -> String {
    e["index"].as_u64().expect("an index").to_string()
}

fn id(o: &Value) -> String {
    o["id"].as_str().expect("an id").to_owned()
}

/// `limit` 0 and max+1 are refused with a problem naming the parameter, and the log is unchanged.
fn refuses_limits(w: &World, c: &Client, path: &str, max: u64) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let size = w.log_size();
    for bad in [0, max + 1] {
        let a = c.get(&format!("{path}{sep}limit={bad}"));
        assert_eq!(
            (a.status, a.problem()),
            (400, "invalid-query"),
            "limit={bad}: {}",
            a.text
        );
        assert!(
            a.text.contains(&format!("limit: 1–{max}")),
            "limit={bad}: {}",
            a.text
        );
    }
    assert_eq!(w.log_size(), size, "a refused query changes nothing");
    // The bounds themselves are pages.
    for good in [1, max] {
        let a = c.get(&format!("{path}{sep}limit={good}"));
        assert_eq!(a.status, 200, "limit={good}: {}", a.text);
    }
}

fn entries(backend: Backend) {
    let w = World::new(backend);
    let reg = w.client(&w.regulator);
    let ent = w.client(&w.enterprise);
    refuses_limits(&w, &reg, "/v1/log/entries", 10_000);
    refuses_limits(&w, &ent, "/v1/log/entries", 10_000);
    // The public checkpoint list and leaves too (no assertion needed, none harms).
    refuses_limits(&w, &reg, "/v1/log/checkpoints", 1000);
    refuses_limits(&w, &reg, "/v1/log/leaves", 10_000);

    // One page holds the whole log: every index once, in order, from 0.
    let (whole, pages) = all_pages(&reg, "/v1/log/entries", "entries", "after", 10_000, index);
    assert_eq!(pages, 1);
    let n = whole.len();
    assert!(n >= 5, "a world logs a few entries: {whole:?}");
    let expected: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    assert_eq!(whole, expected);
    for k in 1..=4 {
        let (paged, pages) = all_pages(&reg, "/v1/log/entries", "entries", "after", k, index);
        assert_eq!(paged, whole, "pages of {k}");
        assert_eq!(pages, n / k as usize + 1, "pages of {k}");
    }

    // Role scoping is unchanged by paging: the enterprise sees exactly the entries about itself,
    // whatever it asks for and however it pages.
    let (own, _) = all_pages(&ent, "/v1/log/entries", "entries", "after", 10_000, index);
    let (about, _) = all_pages(
        &reg,
        &format!("/v1/log/entries?enterprise={ENTERPRISE}"),
        "entries",
        "after",
        10_000,
        index,
    );
    assert!(!own.is_empty() && own.len() < n, "{own:?} of {n}");
    assert_eq!(own, about);
    let (own_paged, _) = all_pages(&ent, "/v1/log/entries", "entries", "after", 1, index);
    assert_eq!(own_paged, own);
    let (asked_all, _) = all_pages(&ent, "/v1/log/entries?enterprise=", "entries", "after", 2, index);
    assert_eq!(asked_all, own);
}

fn objections(backend: Backend) {
    let w = World::new(backend);
    let ent = w.client(&w.enterprise);
    let (own, _) = all_pages(&ent, "/v1/log/entries", "entries", "after", 10_000, index);
    assert!(own.len() >= 2, "{own:?}");
    let mut filed = Vec::new();
    for i in 0..5 {
        // Five filings about the enterprise's own entries (two objections may name one entry).
        let i: u64 = own[i % own.len()].parse().unwrap();
        let token = ent.signed_request(
            "object",
            json!({
                "enterprise": ENTERPRISE,
                "target": {"type": "access", "logIndex": i},
                "reason": format!("第{i}条记录有误"),
            }),
        );
        let a = ent.post("/v1/objections", &json!({"filing": token}));
        assert_eq!(a.status, 201, "{}", a.text);
        filed.push(id(&a.body));
    }
    let reg = w.client(&w.regulator);
    refuses_limits(&w, &reg, "/v1/objections", 500);
    refuses_limits(&w, &ent, "/v1/objections", 500);

    // Newest first: the reverse of the filing order, each once, however it is paged.
    let (whole, pages) = all_pages(&reg, "/v1/objections", "objections", "before", 500, id);
    assert_eq!(pages, 1);
    let newest_first: Vec<String> = filed.iter().rev().cloned().collect();
    assert_eq!(whole, newest_first);
    for k in 1..=6 {
        let (paged, _) = all_pages(&reg, "/v1/objections", "objections", "before", k, id);
        assert_eq!(paged, whole, "pages of {k}");
        let (own, _) = all_pages(&ent, "/v1/objections", "objections", "before", k, id);
        assert_eq!(own, whole, "the enterprise's own, pages of {k}");
    }
    // Filters page too.
    let (forwarded, _) = all_pages(
        &reg,
        "/v1/objections?state=forwarded",
        "objections",
        "before",
        2,
        id,
    );
    assert_eq!(forwarded, whole);

    // Role scoping unchanged: the platform received none of these (they were filed at the node);
    // a bank may not list objections, whatever the limit.
    let (platform, _) = all_pages(
        &w.client(&w.platform),
        "/v1/objections",
        "objections",
        "before",
        1,
        id,
    );
    assert!(platform.is_empty(), "{platform:?}");
    for q in ["", "?limit=0", "?limit=2"] {
        let a = w.client(&w.bank).get(&format!("/v1/objections{q}"));
        assert_eq!(a.status, 403, "{q}: {}", a.text);
    }
    // A cursor that is not one is refused.
    let a = reg.get("/v1/objections?before=nonsense");
    assert_eq!((a.status, a.problem()), (400, "invalid-query"), "{}", a.text);
}

#[test]
fn log_entries_page_strictly_on_sqlite() {
    entries(Backend::Sqlite);
}

#[test]
fn log_entries_page_strictly_on_postgres() {
    entries(Backend::Postgres);
}

#[test]
fn objections_page_strictly_on_sqlite() {
    objections(Backend::Sqlite);
}

#[test]
fn objections_page_strictly_on_postgres() {
    objections(Backend::Postgres);
}

//! Consent requests (spec/consent-requests.md), on SQLite and PostgreSQL: a bank or platform asks,
//! the request is checked like a grant (every reason, nothing written), scoped to its parties and
//! regulators, withdrawn, declined, answered with a grant within it (stored atomically with the
//! request's `signed` state, then used for a release), refused when the grant exceeds it (each
//! reason, the request staying pending), refused to callers in the wrong role, expired by the
//! sweep; and the requester's signed webhooks arrive and verify.

use std::time::Duration;

use consentry::credential::data_integrity::create_proof;
use consentry::grant::GrantDraft;
use consentry::grant::model::{
    CategoryGrant, Granularity, OnwardRecipient, RatePeriod, RecipientRole, Usage,
};
use serde_json::{Value, json};

use crate::common::server::{Answer, Backend, new_key};
use crate::notifications::{Receiver, register, verify, wait_until};
use crate::service::{
    BANK, ENTERPRISE, OTHER_ENTERPRISE, OTHER_PLATFORM, World, draft, now, register_enterprise,
};

/// A second bank of the test platform.
pub(crate) const BANK2: &str = "91330300MA2GHJK66N";

/// The body of a request for the test enterprise: the terms of the standard draft (platform TAX-03
/// raw and SOC-01 derived, the bank TAX-03 derived, credit approval, 4 a month) without letters,
/// valid from a minute ago for a year; `edit` changes the JSON.
pub(crate) fn request_body(edit: impl FnOnce(&mut Value)) -> Value {
    let d = draft(&new_key(), "http://x/status/1", 0);
    let mut terms = serde_json::to_value(&d.terms).unwrap();
    terms.as_object_mut().unwrap().remove("letters");
    let t = now();
    let mut body = json!({
        "terms": terms,
        "validFrom": consentry::credential::datetime::format_utc_seconds(t - time::Duration::minutes(1)),
        "validUntil": consentry::credential::datetime::format_utc_seconds(t + time::Duration::days(365)),
        "message": "贷前调查需要贵司纳税与社保信息。We need your tax and social-insurance data for due diligence.",
    });
    edit(&mut body);
    body
}

/// Signs a grant for the request (the standard draft edited by `edit`) with the enterprise's key and
/// sends it to `/v1/consent-requests/{id}/accept`.
fn answer(w: &World, request: &str, edit: impl FnOnce(&mut GrantDraft)) -> (String, String, Answer) {
    let slot = w.client(&w.enterprise).post("/v1/status/slots", &json!({}));
    assert_eq!(slot.status, 201, "{}", slot.text);
    let mut d = draft(
        &w.enterprise,
        slot.body["statusList"].as_str().unwrap(),
        slot.body["statusIndex"].as_u64().unwrap(),
    );
    // The requested window, as the portal's wizard fills it in.
    let r = w
        .client(&w.enterprise)
        .get(&format!("/v1/consent-requests/{request}"));
    if r.status == 200 {
        let at = |k: &str| {
            consentry::credential::datetime::parse_datetime_stamp(r.body[k].as_str().unwrap()).unwrap()
        };
        (d.valid_from, d.valid_until) = (at("validFrom"), at("validUntil"));
    }
    edit(&mut d);
    d.attach_current_letters(&consentry::catalog::Catalog::builtin());
    let bytes =
        serde_json::to_string(&create_proof(&d.to_credential(), &w.enterprise, now()).unwrap()).unwrap();
    let a =
        w.client(&w.enterprise)
            .post_raw(&format!("/v1/consent-requests/{request}/accept"), &bytes, false);
    (d.id.as_str().to_owned(), bytes, a)
}

fn count(w: &World) -> usize {
    let a = w.client(&w.regulator).get("/v1/consent-requests?limit=200");
    assert_eq!(a.status, 200, "{}", a.text);
    a.body["consentRequests"].as_array().unwrap().len()
}

fn create(w: &World, who: &consentry::identity::KeyFile, body: &Value) -> String {
    let a = w.client(who).post("/v1/consent-requests", body);
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["state"], "pending");
    a.body["id"].as_str().unwrap().to_owned()
}

fn ids(a: &Answer) -> Vec<String> {
    assert_eq!(a.status, 200, "{}", a.text);
    a.body["consentRequests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn scoping_and_refusals(backend: Backend) {
    let w = World::new(backend);
    let other_ent = new_key();
    register_enterprise(&w.node, &other_ent, OTHER_ENTERPRISE, "其他企业有限公司");
    let other_platform = new_key();
    let a = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": OTHER_PLATFORM, "name": "其他平台", "did": other_platform.did.as_str(), "endpoint": "https://other.example"}),
    );
    assert_eq!(a.status, 201, "{}", a.text);

    // The bank asks; the requester is the authenticated bank, whatever the body says.
    let a = w
        .client(&w.bank)
        .post("/v1/consent-requests", &request_body(|_| {}));
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["requester"], json!({"uscc": BANK, "role": "bank"}));
    assert_eq!(a.body["enterprise"], ENTERPRISE);
    assert_eq!(a.body["grant"], Value::Null);
    assert!(
        a.body["terms"].get("letters").is_none_or(|l| l == &json!([])),
        "{}",
        a.text
    );
    let created =
        consentry::credential::datetime::parse_datetime_stamp(a.body["createdAt"].as_str().unwrap()).unwrap();
    let expires =
        consentry::credential::datetime::parse_datetime_stamp(a.body["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, time::Duration::days(30));
    let by_bank = a.body["id"].as_str().unwrap().to_owned();
    let by_platform = create(
        &w,
        &w.platform,
        &request_body(|b| b["terms"]["onwardRecipients"] = json!([])),
    );

    // Wrong roles: the body is not even read.
    for who in [&w.enterprise, &w.regulator, &w.node.node_key] {
        let a = w.client(who).post("/v1/consent-requests", &request_body(|_| {}));
        assert_eq!((a.status, a.problem()), (403, "forbidden"), "{}", a.text);
    }
    let a = w
        .client(&w.bank)
        .post("/v1/consent-requests", &request_body(|b| b["extra"] = json!(1)));
    assert_eq!((a.status, a.problem()), (400, "invalid-body"), "{}", a.text);

    // Refused with every reason, nothing written.
    let before = count(&w);
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "unknown category, non-financing purpose",
            request_body(|b| {
                b["terms"]["categories"][1]["code"] = json!("XXX-99");
                b["terms"]["purposes"] = json!(["marketing"]);
            }),
            vec!["unknown-category", "unknown-purpose"],
        ),
        (
            "raw non-public data for a bank",
            request_body(|b| {
                b["terms"]["onwardRecipients"][0]["categories"][0]["granularity"] = json!("raw")
            }),
            vec!["bank-raw-non-public"],
        ),
        (
            "letters",
            request_body(
                |b| b["terms"]["letters"] = json!([{"id": "STA/1", "sha256": "e2d738ecc2375ba82886b3d000885d3a7872cbcb8a005ef6a5fca0f4c382643b"}]),
            ),
            vec!["malformed-terms"],
        ),
        (
            "an enterprise that is not registered",
            request_body(|b| b["terms"]["enterprise"]["uscc"] = json!(BANK2)),
            vec!["unknown-enterprise"],
        ),
        (
            "a bank not registered by the platform named",
            request_body(|b| b["terms"]["grantee"]["uscc"] = json!(OTHER_PLATFORM)),
            vec!["bank-not-of-platform", "requester-not-recipient"],
        ),
        (
            "the requester is not a recipient",
            request_body(|b| b["terms"]["onwardRecipients"] = json!([])),
            vec!["requester-not-recipient"],
        ),
        (
            "reversed window",
            request_body(|b| {
                let from = b["validFrom"].clone();
                b["validFrom"] = b["validUntil"].clone();
                b["validUntil"] = from;
            }),
            vec!["validity-window"],
        ),
        (
            "past window",
            request_body(|b| {
                b["validFrom"] = json!("2019-01-01T00:00:00Z");
                b["validUntil"] = json!("2020-01-01T00:00:00Z");
            }),
            vec!["expired"],
        ),
    ];
    for (what, body, want) in cases {
        let a = w.client(&w.bank).post("/v1/consent-requests", &body);
        assert_eq!(
            (a.status, a.problem()),
            (422, "consent-request-invalid"),
            "{what}: {}",
            a.text
        );
        let mut got = a.reasons();
        got.sort();
        got.dedup();
        let mut want: Vec<String> = want.into_iter().map(str::to_owned).collect();
        want.sort();
        assert_eq!(got, want, "{what}: {}", a.text);
    }
    // A platform asking for another platform's grant.
    let a = w.client(&w.platform).post(
        "/v1/consent-requests",
        &request_body(|b| {
            b["terms"]["grantee"]["uscc"] = json!(OTHER_PLATFORM);
            b["terms"]["onwardRecipients"] = json!([]);
        }),
    );
    assert_eq!(a.reasons(), ["requester-not-recipient"], "{}", a.text);
    assert_eq!(count(&w), before, "a refused request writes nothing");

    // Lists: each sees its own; paging by cursor.
    assert_eq!(
        ids(&w.client(&w.bank).get("/v1/consent-requests")),
        [by_bank.as_str()]
    );
    assert_eq!(
        ids(&w.client(&w.platform).get("/v1/consent-requests")),
        [by_platform.as_str()]
    );
    assert_eq!(
        ids(&w.client(&w.enterprise).get("/v1/consent-requests")),
        [by_bank.clone(), by_platform.clone()]
    );
    assert!(ids(&w.client(&other_ent).get("/v1/consent-requests")).is_empty());
    assert!(ids(&w.client(&other_platform).get("/v1/consent-requests")).is_empty());
    let page = w.client(&w.regulator).get("/v1/consent-requests?limit=1");
    assert_eq!(ids(&page), [by_bank.as_str()]);
    let next = page.body["next"].as_i64().unwrap();
    let page = w
        .client(&w.regulator)
        .get(&format!("/v1/consent-requests?limit=1&after={next}"));
    assert_eq!(ids(&page), [by_platform.as_str()]);
    let a = w.client(&w.enterprise).get("/v1/consent-requests?state=pending");
    assert_eq!(ids(&a).len(), 2);
    let a = w.client(&w.enterprise).get("/v1/consent-requests?state=nonsense");
    assert_eq!((a.status, a.problem()), (400, "invalid-query"), "{}", a.text);
    let a = w.client(&w.enterprise).get("/v1/consent-requests?limit=0");
    assert_eq!((a.status, a.problem()), (400, "invalid-query"), "{}", a.text);

    // One request: parties and regulators only.
    for who in [&w.bank, &w.enterprise, &w.regulator, &w.node.node_key] {
        let a = w.client(who).get(&format!("/v1/consent-requests/{by_bank}"));
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.body["id"], by_bank.as_str());
    }
    for who in [&w.platform, &other_ent, &other_platform] {
        let a = w.client(who).get(&format!("/v1/consent-requests/{by_bank}"));
        assert_eq!((a.status, a.problem()), (404, "not-found"), "{}", a.text);
    }
    let a = w.client(&w.bank).get("/v1/consent-requests/creq-nonsense");
    assert_eq!(a.status, 404, "{}", a.text);

    // Withdraw: the requester, while pending.
    let a = w
        .client(&w.platform)
        .post(&format!("/v1/consent-requests/{by_bank}/withdraw"), &json!({}));
    assert_eq!(a.status, 404, "another requester: {}", a.text);
    let a = w
        .client(&w.enterprise)
        .post(&format!("/v1/consent-requests/{by_bank}/withdraw"), &json!({}));
    assert_eq!((a.status, a.problem()), (403, "forbidden"), "{}", a.text);
    let a = w
        .client(&w.bank)
        .post(&format!("/v1/consent-requests/{by_bank}/withdraw"), &json!({}));
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["state"], "withdrawn");
    assert!(a.body["answeredAt"].is_string());
    let a = w
        .client(&w.bank)
        .post(&format!("/v1/consent-requests/{by_bank}/withdraw"), &json!({}));
    assert_eq!((a.status, a.problem()), (409, "conflict"), "{}", a.text);
    let a = w
        .client(&w.enterprise)
        .post(&format!("/v1/consent-requests/{by_bank}/decline"), &json!({}));
    assert_eq!(
        (a.status, a.problem()),
        (409, "conflict"),
        "a withdrawn request: {}",
        a.text
    );
    let (_, _, a) = answer(&w, &by_bank, |_| {});
    assert_eq!(
        (a.status, a.problem()),
        (409, "conflict"),
        "a withdrawn request: {}",
        a.text
    );

    // Decline: the enterprise it is addressed to, while pending.
    let a = w
        .client(&other_ent)
        .post(&format!("/v1/consent-requests/{by_platform}/decline"), &json!({}));
    assert_eq!(a.status, 404, "{}", a.text);
    let a = w
        .client(&w.platform)
        .post(&format!("/v1/consent-requests/{by_platform}/decline"), &json!({}));
    assert_eq!((a.status, a.problem()), (403, "forbidden"), "{}", a.text);
    let a = w.client(&w.enterprise).post(
        &format!("/v1/consent-requests/{by_platform}/decline"),
        &json!({"reason": "x".repeat(501)}),
    );
    assert_eq!((a.status, a.problem()), (400, "invalid-body"), "{}", a.text);
    let a = w.client(&w.enterprise).post(
        &format!("/v1/consent-requests/{by_platform}/decline"),
        &json!({"reason": "暂不需要融资"}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["state"], "declined");
    assert_eq!(a.body["declineReason"], "暂不需要融资");
    let a = w
        .client(&w.enterprise)
        .post(&format!("/v1/consent-requests/{by_platform}/decline"), &json!({}));
    assert_eq!((a.status, a.problem()), (409, "conflict"), "{}", a.text);
    let a = w.client(&w.enterprise).get("/v1/consent-requests?state=pending");
    assert!(ids(&a).is_empty());
}

#[test]
fn scoping_and_refusals_sqlite() {
    scoping_and_refusals(Backend::Sqlite);
}

#[test]
fn scoping_and_refusals_postgres() {
    scoping_and_refusals(Backend::Postgres);
}

/// A change to a grant draft.
type Edit = Box<dyn FnOnce(&mut GrantDraft)>;

const EVENTS: [&str; 3] = [
    "consent-request.signed",
    "consent-request.declined",
    "consent-request.expired",
];

fn answers_and_webhooks(backend: Backend) {
    let w = World::new(backend);
    let receiver = Receiver::start(Duration::ZERO);
    register(&w.client(&w.bank), &receiver.url("/bank"), &EVENTS);
    register(&w.client(&w.platform), &receiver.url("/platform"), &EVENTS);
    let a = w.client(&w.enterprise).post(
        "/v1/webhooks",
        &json!({"url": receiver.url("/enterprise"), "events": ["consent-request.signed"]}),
    );
    assert_eq!(
        (a.status, a.problem()),
        (400, "invalid-webhook-events"),
        "{}",
        a.text
    );
    let a = w.client(&w.platform).post(
        "/v1/banks",
        &json!({"uscc": BANK2, "name": "第二银行", "did": new_key().did.as_str()}),
    );
    assert_eq!(a.status, 201, "{}", a.text);

    // The bank asks for SOC-01 derived too; every grant that exceeds the request is refused with its
    // reason, nothing is stored, the request stays pending.
    let req = create(
        &w,
        &w.bank,
        &request_body(|b| {
            b["terms"]["onwardRecipients"][0]["categories"] = json!([{"code": "TAX-03", "granularity": "derived"}, {"code": "SOC-01", "granularity": "derived"}]);
            b["terms"]["dataPeriod"] = json!({"from": "2024-01-01", "until": "2026-10-31"});
        }),
    );
    let t = now();
    let cases: Vec<(&str, Edit)> = vec![
        (
            "category-not-requested",
            Box::new(|d| {
                d.terms.categories.push(CategoryGrant {
                    code: "REG-01".into(),
                    granularity: Granularity::Derived,
                })
            }),
        ),
        (
            "granularity-not-requested",
            Box::new(|d| d.terms.categories[1].granularity = Granularity::Raw),
        ),
        (
            "recipient-not-requested",
            Box::new(|d| {
                d.terms.onward_recipients.push(OnwardRecipient {
                    uscc: BANK2.into(),
                    name: "第二银行".into(),
                    role: RecipientRole::Bank,
                    categories: vec![CategoryGrant {
                        code: "TAX-03".into(),
                        granularity: Granularity::Derived,
                    }],
                })
            }),
        ),
        (
            "purpose-not-requested",
            Box::new(|d| d.terms.purposes.push("post-loan-management".into())),
        ),
        (
            "data-period-outside",
            Box::new(|d| d.terms.data_period.from = "2023-12-31".into()),
        ),
        (
            "validity-outside",
            Box::new(move |d| d.valid_until = t + time::Duration::days(366)),
        ),
        (
            "usage-exceeds",
            Box::new(|d| {
                d.terms.usage = Usage::Periodic {
                    max_releases: 1,
                    per: RatePeriod::Day,
                }
            }),
        ),
        (
            "grantee-not-requested",
            Box::new(|d| d.terms.grantee.uscc = OTHER_PLATFORM.into()),
        ),
    ];
    for (code, edit) in cases {
        let (grant, _, a) = answer(&w, &req, edit);
        assert_eq!(
            (a.status, a.problem()),
            (422, "grant-exceeds-request"),
            "{code}: {}",
            a.text
        );
        assert_eq!(a.reasons(), [code], "{}", a.text);
        let g = w.client(&w.enterprise).get(&format!("/v1/grants/{grant}"));
        assert_eq!(g.status, 404, "{code}: nothing stored: {}", g.text);
    }
    let a = w.client(&w.bank).get(&format!("/v1/consent-requests/{req}"));
    assert_eq!(a.body["state"], "pending", "{}", a.text);
    // Another enterprise's grant cannot answer it: to that enterprise, the request does not exist.
    let other = new_key();
    register_enterprise(&w.node, &other, OTHER_ENTERPRISE, "其他企业有限公司");
    let slot = w.client(&other).post("/v1/status/slots", &json!({}));
    let mut d = draft(
        &other,
        slot.body["statusList"].as_str().unwrap(),
        slot.body["statusIndex"].as_u64().unwrap(),
    );
    d.terms.enterprise.uscc = OTHER_ENTERPRISE.into();
    let bytes = serde_json::to_string(&create_proof(&d.to_credential(), &other, now()).unwrap()).unwrap();
    let a = w
        .client(&other)
        .post_raw(&format!("/v1/consent-requests/{req}/accept"), &bytes, false);
    assert_eq!((a.status, a.problem()), (404, "not-found"), "{}", a.text);
    // A grant that does not verify is refused as a submission is.
    let a = w
        .client(&w.enterprise)
        .post_raw(&format!("/v1/consent-requests/{req}/accept"), "{}", false);
    assert_eq!((a.status, a.problem()), (422, "grant-invalid"), "{}", a.text);

    // Within: narrower in every term (SOC-01 dropped for the bank, 2 a month, a shorter period).
    let (grant, bytes, a) = answer(&w, &req, |d| {
        d.terms.usage = Usage::Periodic {
            max_releases: 2,
            per: RatePeriod::Month,
        };
        d.terms.data_period.from = "2024-06-01".into();
    });
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["consentRequest"]["state"], "signed");
    assert_eq!(a.body["consentRequest"]["grant"], grant.as_str());
    assert_eq!(a.body["grant"]["id"], grant.as_str());
    assert_eq!(a.body["grant"]["state"], "active");
    let log_index = a.body["grant"]["logIndex"].as_u64().unwrap();
    // The same bytes again: the same answer, nothing new.
    let again =
        w.client(&w.enterprise)
            .post_raw(&format!("/v1/consent-requests/{req}/accept"), &bytes, false);
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["grant"]["id"], grant.as_str());
    // Another grant for a signed request: conflict.
    let (_, _, a) = answer(&w, &req, |_| {});
    assert_eq!((a.status, a.problem()), (409, "conflict"), "{}", a.text);
    // The log entry of the submission names the request.
    let e = w
        .client(&w.regulator)
        .get(&format!("/v1/log/entries?grant={grant}&kind=grant-submitted"));
    assert_eq!(e.status, 200, "{}", e.text);
    assert!(e.text.contains(&req), "{}", e.text);

    // The bank receives through its platform under the new grant.
    let r = w.release(json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["TAX-03"]["granularity"], "derived");

    // The bank is told, by a delivery signed by the node; the platform asked nothing and hears nothing.
    wait_until("the signed event", Duration::from_secs(30), || {
        !receiver.deliveries("/bank").is_empty()
    });
    let d = &receiver.deliveries("/bank")[0];
    verify(d, receiver.port, &w.node.did).unwrap();
    let p = d.payload();
    assert_eq!(p["type"], "consent-request.signed");
    assert_eq!(p["recipient"], BANK);
    assert_eq!(p["data"]["consentRequest"], req.as_str());
    assert_eq!(p["data"]["grant"], grant.as_str());
    assert_eq!(p["data"]["state"], "signed");
    assert_eq!(p["data"]["logIndex"], log_index);
    assert!(p["data"]["message"].as_str().unwrap().contains("signed"));
    let n = w.client(&w.bank).get("/v1/notices");
    assert!(n.text.contains("consent-request-signed"), "{}", n.text);

    // A declined request: the platform is told, with the reason.
    let declined = create(
        &w,
        &w.platform,
        &request_body(|b| b["terms"]["onwardRecipients"] = json!([])),
    );
    let a = w.client(&w.enterprise).post(
        &format!("/v1/consent-requests/{declined}/decline"),
        &json!({"reason": "条件不合适"}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    wait_until("the declined event", Duration::from_secs(30), || {
        !receiver.deliveries("/platform").is_empty()
    });
    let d = &receiver.deliveries("/platform")[0];
    verify(d, receiver.port, &w.node.did).unwrap();
    let p = d.payload();
    assert_eq!(p["type"], "consent-request.declined");
    assert_eq!(p["data"]["consentRequest"], declined.as_str());
    assert_eq!(p["data"]["reason"], "条件不合适");

    // An unanswered request expires (at the requested validUntil, three seconds away): the sweep
    // marks it and the requester is told.
    let soon = create(
        &w,
        &w.bank,
        &request_body(|b| {
            b["validUntil"] = json!(consentry::credential::datetime::format_utc_seconds(
                w.node.clock_now() + time::Duration::seconds(3)
            ))
        }),
    );
    wait_until("the expired event", Duration::from_secs(30), || {
        receiver.deliveries("/bank").len() >= 2
    });
    let d = &receiver.deliveries("/bank")[1];
    verify(d, receiver.port, &w.node.did).unwrap();
    assert_eq!(d.payload()["type"], "consent-request.expired");
    assert_eq!(d.payload()["data"]["consentRequest"], soon.as_str());
    let a = w.client(&w.bank).get(&format!("/v1/consent-requests/{soon}"));
    assert_eq!(a.body["state"], "expired", "{}", a.text);
    let (_, _, a) = answer(&w, &soon, |d| d.valid_until = now() + time::Duration::days(1));
    assert_eq!((a.status, a.problem()), (409, "conflict"), "{}", a.text);
}

#[test]
fn answers_and_webhooks_sqlite() {
    answers_and_webhooks(Backend::Sqlite);
}

#[test]
fn answers_and_webhooks_postgres() {
    answers_and_webhooks(Backend::Postgres);
}

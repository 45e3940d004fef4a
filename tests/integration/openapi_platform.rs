//! spec/openapi-platform.yaml against the platform role's code, as tests/integration/openapi.rs
//! checks spec/openapi.yaml against the node's: every route of `consentry::platform::all_routes()`
//! is an operation of the document and nothing else is; every operation is described, every
//! `$ref` resolves — locally or into spec/openapi.yaml, whose schemas it reuses — and every error
//! answer is a problem; and a running node and platform answer every platform operation, its
//! successes and its main refusals, as the schemas say (the same checker, which resolves the
//! `openapi.yaml#/…` references).

use std::collections::BTreeSet;

use consentry::clock::Clock as _;
use serde_json::{Value, json};

use crate::common::server::{Answer, Backend, TestPlatform, get_public, new_key};
use crate::openapi::{PROBLEM_JSON, Spec, refs, validate};
use crate::service::{ENTERPRISE, World};

const NAME: &str = "openapi-platform.yaml";
const PLATFORM_USCC: &str = "91330000MA28PLAT2L";
const BANK_USCC: &str = "91330300MA2GHJK66N";

fn load() -> Spec {
    Spec::load_named(NAME)
}

fn routes() -> BTreeSet<(String, String)> {
    consentry::platform::all_routes()
        .iter()
        .flat_map(|r| r.iter())
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect()
}

#[test]
fn platform_routes_and_operations_match_both_ways() {
    let spec = load();
    let routes = routes();
    let listed: usize = consentry::platform::all_routes().iter().map(|r| r.len()).sum();
    assert_eq!(routes.len(), listed, "all_routes() lists a route twice");
    let ops: BTreeSet<(String, String)> = spec.operations().into_iter().map(|(m, p, _)| (m, p)).collect();
    let missing: Vec<_> = routes.difference(&ops).collect();
    let extra: Vec<_> = ops.difference(&routes).collect();
    assert!(
        missing.is_empty(),
        "platform routes without an operation in spec/{NAME}: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "operations in spec/{NAME} the platform does not serve: {extra:?}"
    );
}

#[test]
fn platform_spec_is_described_and_resolves() {
    let spec = load();
    let version = spec.doc["openapi"].as_str().expect("openapi is a string");
    assert!(version.starts_with("3.1."), "openapi: {version}");
    let info = spec.doc["info"]["description"].as_str().unwrap_or_default();
    for needle in ["GET /v1/platform", "nodeDid", "aud"] {
        assert!(info.contains(needle), "info says how a bank starts: {needle}");
    }
    let scheme = &spec.doc["components"]["securitySchemes"]["clientAssertion"];
    assert_eq!(scheme["scheme"], "bearer");
    let d = scheme["description"].as_str().unwrap_or_default();
    assert!(d.contains("htu") && d.contains("this platform's DID"), "{d}");
    assert_eq!(spec.doc["security"], json!([{"clientAssertion": []}]));
    // Response keys are strings in YAML too.
    for (path, item) in spec.yaml["paths"].as_mapping().expect("paths") {
        for (method, op) in item.as_mapping().expect("path item") {
            for key in op["responses"].as_mapping().expect("responses").keys() {
                assert!(key.is_string(), "{path:?} {method:?}: response key {key:?}");
            }
        }
    }

    // Every reference resolves; external ones only into spec/openapi.yaml; every local component
    // is used.
    let mut found = Vec::new();
    refs(&spec.doc, "#", &mut found);
    for (at, r) in &found {
        assert!(
            r.starts_with("#/") || r.starts_with("openapi.yaml#/"),
            "{at}: {r}"
        );
        assert!(spec.target(r).is_some(), "{at}: $ref {r} does not resolve");
    }
    assert_eq!(spec.external.keys().collect::<Vec<_>>(), ["openapi.yaml"]);
    let used: BTreeSet<&str> = found.iter().map(|(_, r)| r.as_str()).collect();
    for section in ["schemas", "responses", "parameters"] {
        for name in spec.doc["components"][section]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            let r = format!("#/components/{section}/{name}");
            assert!(used.contains(r.as_str()), "{r} is never used");
        }
    }

    // The checks every spec's operations pass, then the platform's own: every refusal a Problem.
    spec.each_operation_described(|what, method, op, responses| {
        for (status, r) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert!(Spec::is_problem(r), "{what} {status}: not a Problem response");
            }
        }
        if spec.needs_assertion(op) {
            assert!(responses.contains_key("401"), "{what}: authenticated but no 401");
            assert!(responses.contains_key("403"), "{what}: authenticated but no 403");
        } else {
            assert_eq!(method, "GET", "{what}: public operations are reads");
        }
    });
}

/// The checker follows references into spec/openapi.yaml, and through that document's own local
/// references: a passing answer means something.
#[test]
fn platform_schema_checker_refuses_wrong_answers() {
    let spec = load();
    let errors_of = |name: &str, v: &Value| {
        let mut e = Vec::new();
        validate(
            &spec,
            &json!({"$ref": format!("#/components/schemas/{name}")}),
            v,
            "$",
            &mut e,
        );
        e
    };
    let hex = "0".repeat(64);
    let promise = json!({"type": "inclusion-promise", "origin": "o", "index": 1, "leafHash": "x", "timeMs": 1,
                         "signer": "did:key:z6Mk", "signature": "s", "proof": "/v1/log/receipts/1"});
    let answer = json!({"requestId": "r", "enterprise": ENTERPRISE, "grant": null, "purpose": "credit-approval",
        "data": {"REG-01": {"granularity": "raw", "records": []}}, "dataSha256": hex, "logIndex": 2,
        "leafHash": hex, "receipt": promise,
        "upstream": {"origin": "o", "index": 1, "leafHash": hex, "receipt": promise}});
    assert_eq!(errors_of("BankReleaseAnswer", &answer), Vec::<String>::new());
    let mut bad = answer.clone();
    bad["granularity"] = json!("derived");
    assert_eq!(errors_of("BankReleaseAnswer", &bad).len(), 1, "no granularity");
    bad = answer.clone();
    bad["upstream"]["receipt"]
        .as_object_mut()
        .unwrap()
        .remove("signer");
    assert_eq!(errors_of("BankReleaseAnswer", &bad).len(), 1, "into openapi.yaml");
    bad = answer.clone();
    bad["data"]["REG-01"] = json!({"granularity": "raw", "records": [{"date": "d"}]});
    assert_eq!(
        errors_of("BankReleaseAnswer", &bad).len(),
        1,
        "and through its own references (CategoryData → RawRecord)"
    );
    let info = json!({"uscc": "u", "did": "d", "node": "n", "nodeDid": null, "logOrigin": "o", "logSize": 0, "logRoot": hex});
    assert_eq!(errors_of("PlatformInfo", &info), Vec::<String>::new());
    let mut bad = info.clone();
    bad["nodeDid"] = json!(7);
    assert_eq!(errors_of("PlatformInfo", &bad).len(), 1);
}

/// Today, China Standard Time (a loan event's date).
fn today() -> String {
    consentry::clock::SystemClock
        .now()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date()
        .to_string()
}

/// A node, a platform process admitted to it with one bank, and a grant naming both (for data and
/// for a credit evaluation): every platform operation, answered live, against the platform's spec.
#[test]
fn live_platform_answers_match_the_platform_spec() {
    let spec = load();
    let w = World::new(Backend::Sqlite);
    let p = TestPlatform::start(&w.node.url, PLATFORM_USCC);
    let public = |path: &str| get_public(&format!("{}{path}", p.url));
    let check = |method: &str, template: &str, a: &Answer, status: u16| {
        assert_eq!(a.status, status, "{method} {template}: {}", a.text);
        spec.check(method, template, a);
    };
    let problem = |a: &Answer, code: &str| {
        assert_eq!(a.header("content-type"), Some(PROBLEM_JSON), "{}", a.text);
        assert_eq!(a.problem(), code, "{}", a.text);
    };

    // Public reads, before the platform is admitted: the node's DID is known all the same.
    for path in ["/healthz", "/readyz", "/livez"] {
        check("GET", path, &public(path), 200);
    }
    let info = public("/v1/platform");
    check("GET", "/v1/platform", &info, 200);
    assert_eq!(info.body["did"], p.key.did.as_str());
    assert_eq!(info.body["uscc"], PLATFORM_USCC);
    assert_eq!(info.body["nodeDid"], w.node.did.as_str());
    let a = public("/v1/log/receipts/999");
    check("GET", "/v1/log/receipts/{index}", &a, 404);
    problem(&a, "not-found");

    let r = w.node.operator().post(
        "/v1/admin/platforms",
        &json!({"uscc": p.uscc, "name": "平台服务", "did": p.key.did.as_str(), "endpoint": p.url}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let operator = p.client(&p.key);
    let bank = new_key();
    let bank_client = p.client(&bank);

    // Without an assertion, every operation that needs one is 401.
    let anonymous = p.client(&new_key());
    for (method, template) in routes() {
        let op = spec.op(&method, &template);
        if spec.needs_assertion(op) {
            let path = template.replace("{uscc}", BANK_USCC);
            let a = if method == "GET" {
                anonymous.get(&path)
            } else {
                anonymous.post_raw(&path, "{}", false)
            };
            check(&method, &template, &a, 401);
            problem(&a, "unauthenticated");
            assert_eq!(
                a.header("www-authenticate"),
                Some("Bearer error=\"invalid_token\"")
            );
            // A key the platform does not know is 401 too.
            if method == "POST" {
                let a = anonymous.post(&path, &json!({}));
                check(&method, &template, &a, 401);
            }
        }
    }

    // POST /v1/banks: the platform's own key registers its bank (201); a bank may not (403);
    // a bad body is 400; a code that names another participant at the node is the node's 409;
    // the same bank again is 409 at the platform.
    let new_bank = json!({"uscc": BANK_USCC, "name": "平台银行", "did": bank.did.as_str()});
    let a = operator.post("/v1/banks", &json!({"uscc": BANK_USCC}));
    check("POST", "/v1/banks", &a, 400);
    problem(&a, "invalid-body");
    let a = operator.post_raw("/v1/banks", "{", true);
    check("POST", "/v1/banks", &a, 400);
    problem(&a, "malformed-json");
    let a = operator.post("/v1/banks", &new_bank);
    check("POST", "/v1/banks", &a, 201);
    assert_eq!(a.body["platform"], PLATFORM_USCC);
    let a = operator.post("/v1/banks", &new_bank);
    check("POST", "/v1/banks", &a, 409);
    problem(&a, "conflict");
    let a = operator.post(
        "/v1/banks",
        &json!({"uscc": ENTERPRISE, "name": "冒名银行", "did": new_key().did.as_str()}),
    );
    check("POST", "/v1/banks", &a, 409);
    problem(&a, "conflict");
    assert!(a.text.contains("the node refused the bank"), "{}", a.text);
    let a = operator.post(
        "/v1/banks",
        &json!({"uscc": "91330000MA28PLAT2X", "name": "坏码银行", "did": new_key().did.as_str()}),
    );
    check("POST", "/v1/banks", &a, 400);
    problem(&a, "invalid-body");
    assert!(a.text.contains("the node refused the bank"), "{}", a.text);
    let a = bank_client.post("/v1/banks", &new_bank);
    check("POST", "/v1/banks", &a, 403);
    problem(&a, "forbidden");
    // GET /v1/banks and POST /v1/banks/{uscc}/state: the operator's list and state changes (the
    // bank suspended and resumed, so that the rest runs with it active); a bank may not; a bank
    // the node does not hold for this platform is the node's 404; a bad state 400.
    let a = operator.get("/v1/banks");
    check("GET", "/v1/banks", &a, 200);
    assert_eq!(a.body["banks"][0]["uscc"], BANK_USCC);
    let a = bank_client.get("/v1/banks");
    check("GET", "/v1/banks", &a, 403);
    let state = format!("/v1/banks/{BANK_USCC}/state");
    for s in ["suspended", "active"] {
        let a = operator.post(&state, &json!({"state": s}));
        check("POST", "/v1/banks/{uscc}/state", &a, 200);
        assert_eq!(a.body["state"], s);
    }
    let a = operator.post(&state, &json!({"state": "frozen"}));
    check("POST", "/v1/banks/{uscc}/state", &a, 400);
    problem(&a, "invalid-state");
    let a = bank_client.post(&state, &json!({"state": "suspended"}));
    check("POST", "/v1/banks/{uscc}/state", &a, 403);
    let a = operator.post(
        "/v1/banks/91330200MA2CDEF57N/state",
        &json!({"state": "suspended"}),
    );
    check("POST", "/v1/banks/{uscc}/state", &a, 404);
    problem(&a, "not-found");
    // A registered key whose assertion is addressed to the node, not to the platform: 401.
    let to_node = crate::common::server::Client {
        audience: w.node.did.clone(),
        ..p.client(&bank)
    };
    let a = to_node.post("/v1/releases", &json!({}));
    check("POST", "/v1/releases", &a, 401);

    // A grant naming the platform and the bank, for data and for the credit evaluation.
    let (grant, r) = w.grant_with(&w.enterprise.clone(), |d| {
        d.terms.grantee.uscc = PLATFORM_USCC.to_owned();
        d.terms.onward_recipients[0].uscc = BANK_USCC.to_owned();
        d.terms.purposes.push("financing-credit-evaluation".into());
    });
    assert_eq!(r.status, 201, "{}", r.text);

    // POST /v1/releases.
    let ask = json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "purpose": "credit-approval"});
    let a = bank_client.post("/v1/releases", &ask);
    check("POST", "/v1/releases", &a, 200);
    assert!(a.body.get("granularity").is_none() && a.body.get("onBehalfOf").is_none());
    assert_eq!(a.body["receipt"]["signer"], p.key.did.as_str());
    assert_eq!(a.body["upstream"]["receipt"]["signer"], w.node.did.as_str());
    let release_index = a.body["logIndex"].as_u64().unwrap();
    let node_release = a.body["upstream"]["index"].as_u64().unwrap();
    let mut bad = ask.clone();
    bad["onBehalfOf"] = json!(BANK_USCC);
    let a = bank_client.post("/v1/releases", &bad);
    check("POST", "/v1/releases", &a, 400);
    problem(&a, "invalid-body");
    let a = operator.post("/v1/releases", &ask);
    check("POST", "/v1/releases", &a, 403);
    problem(&a, "release-refused");
    assert_eq!(a.reasons(), ["caller-role"]);
    let mut raw = ask.clone();
    raw["granularity"] = json!("raw");
    let a = bank_client.post("/v1/releases", &raw);
    check("POST", "/v1/releases", &a, 403);
    assert!(
        a.reasons().contains(&"bank-raw-non-public".to_owned()),
        "{:?}",
        a.reasons()
    );
    assert!(a.body["logIndex"].is_u64());

    // POST /v1/evaluations.
    let a = bank_client.post(
        "/v1/evaluations",
        &json!({"enterprise": ENTERPRISE, "grant": grant}),
    );
    check("POST", "/v1/evaluations", &a, 200);
    let a = bank_client.post("/v1/evaluations", &json!({"enterprise": ENTERPRISE}));
    check("POST", "/v1/evaluations", &a, 400);
    problem(&a, "invalid-body");
    let a = operator.post(
        "/v1/evaluations",
        &json!({"enterprise": ENTERPRISE, "grant": grant}),
    );
    check("POST", "/v1/evaluations", &a, 403);
    assert_eq!(a.reasons(), ["caller-role"]);

    // POST /v1/loan-reports: the bank's signed request, addressed to the node, relayed.
    let report = |id: &str, releases: Value| {
        json!({"reportId": id, "loan": "L-1", "enterprise": ENTERPRISE, "grant": grant, "releases": releases,
               "event": {"type": "decision", "decision": "approved", "amount": 500000, "termMonths": 12,
                         "rateBand": "3-4", "security": "credit", "firstLoan": true, "on": today()}})
    };
    let signed = |aud: &str, report: Value| {
        let token = consentry::node::auth::make_request(
            &bank,
            aud,
            "loan-report",
            json!({"report": report}),
            w.node.clock_now(),
        )
        .unwrap();
        json!({"request": token})
    };
    let a = bank_client.post(
        "/v1/loan-reports",
        &signed(&w.node.did, report("r-1", json!([node_release]))),
    );
    check("POST", "/v1/loan-reports", &a, 201);
    assert_eq!(a.body["upstream"]["receipt"]["signer"], w.node.did.as_str());
    assert!(a.body["logIndex"].as_u64().unwrap() > release_index);
    let a = bank_client.post(
        "/v1/loan-reports",
        &signed(&w.node.did, report("r-1", json!([node_release]))),
    );
    check("POST", "/v1/loan-reports", &a, 409);
    problem(&a, "report-conflict");
    let a = bank_client.post(
        "/v1/loan-reports",
        &signed(&w.node.did, report("r-2", json!([0]))),
    );
    check("POST", "/v1/loan-reports", &a, 403);
    problem(&a, "report-refused");
    let a = bank_client.post(
        "/v1/loan-reports",
        &signed(p.key.did.as_str(), report("r-3", json!([node_release]))),
    );
    check("POST", "/v1/loan-reports", &a, 400);
    problem(&a, "signed-request");
    let a = bank_client.post("/v1/loan-reports", &json!({"report": {}}));
    check("POST", "/v1/loan-reports", &a, 400);
    problem(&a, "invalid-body");
    let a = operator.post(
        "/v1/loan-reports",
        &signed(&w.node.did, report("r-4", json!([node_release]))),
    );
    check("POST", "/v1/loan-reports", &a, 403);
    problem(&a, "forbidden");

    // The platform's log, public: a receipt of the bank's release once a checkpoint covers it,
    // checkpoints, leaves, proofs and tiles.
    let receipt = format!("/v1/log/receipts/{release_index}");
    let start = std::time::Instant::now();
    let a = loop {
        let a = public(&receipt);
        if a.status == 200 || start.elapsed().as_secs() > 20 {
            break a;
        }
        spec.check("GET", "/v1/log/receipts/{index}", &a);
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    check("GET", "/v1/log/receipts/{index}", &a, 200);
    check("GET", "/v1/log/checkpoint", &public("/v1/log/checkpoint"), 200);
    let size = public("/v1/platform").body["logSize"].as_u64().unwrap();
    for (path, template, status) in [
        ("/v1/log/checkpoints".to_owned(), "/v1/log/checkpoints", 200),
        ("/v1/log/leaves?from=0&limit=2".to_owned(), "/v1/log/leaves", 200),
        (
            format!("/v1/log/proof/inclusion?index=0&size={size}"),
            "/v1/log/proof/inclusion",
            200,
        ),
        (
            format!("/v1/log/proof/inclusion?index={size}&size={size}"),
            "/v1/log/proof/inclusion",
            400,
        ),
        (
            format!("/v1/log/proof/consistency?from=1&to={size}"),
            "/v1/log/proof/consistency",
            200,
        ),
        (
            "/v1/log/tile/0/000.p/1".to_owned(),
            "/v1/log/tile/{level}/{n}",
            200,
        ),
        (
            "/v1/log/tile/entries/000.p/1".to_owned(),
            "/v1/log/tile/entries/{n}",
            200,
        ),
        ("/v1/log/tile/0/001".to_owned(), "/v1/log/tile/{level}/{n}", 404),
        ("/v1/log/tile/0/1".to_owned(), "/v1/log/tile/{level}/{n}", 400),
    ] {
        check("GET", template, &public(&path), status);
    }
    // The platform's log for callers the node registered (resolved there): a regulator reads and
    // exports it; the enterprise reads its own entries and may not export; the bank reads its
    // own; an unknown kind is 400.
    let regulator = p.client(&w.regulator);
    let a = regulator.get("/v1/log/entries?kind=onward-release");
    check("GET", "/v1/log/entries", &a, 200);
    assert_eq!(a.body["entries"][0]["index"], release_index);
    let a = regulator.get("/v1/log/entries?kind=no-such-kind");
    check("GET", "/v1/log/entries", &a, 400);
    problem(&a, "invalid-query");
    let a = p.client(&w.enterprise).get("/v1/log/entries");
    check("GET", "/v1/log/entries", &a, 200);
    assert!(!a.body["entries"].as_array().unwrap().is_empty());
    check("GET", "/v1/log/entries", &bank_client.get("/v1/log/entries"), 200);
    check("GET", "/v1/log/export", &regulator.get("/v1/log/export"), 200);
    let a = p.client(&w.enterprise).get("/v1/log/export");
    check("GET", "/v1/log/export", &a, 403);
    problem(&a, "forbidden");

    // The enterprise's self-query and an objection filed here, forwarded to the node.
    let a = p.client(&w.enterprise).get("/v1/enterprise/recipients");
    check("GET", "/v1/enterprise/recipients", &a, 200);
    assert_eq!(a.body["recipients"][0]["bank"], BANK_USCC);
    check(
        "GET",
        "/v1/enterprise/recipients",
        &bank_client.get("/v1/enterprise/recipients"),
        403,
    );
    let filing = w.client(&w.enterprise).signed_request(
        "object",
        json!({"enterprise": ENTERPRISE, "target": {"type": "access", "logIndex": node_release}, "reason": "不认可"}),
    );
    let a = p
        .client(&w.enterprise)
        .post("/v1/objections", &json!({"filing": filing}));
    check("POST", "/v1/objections", &a, 201);
    assert_eq!(a.body["objection"]["state"], "forwarded");
    let a = p
        .client(&w.enterprise)
        .post("/v1/objections", &json!({"filing": filing}));
    check("POST", "/v1/objections", &a, 409);
    let a = p
        .client(&w.enterprise)
        .post("/v1/objections", &json!({"filing": "x"}));
    check("POST", "/v1/objections", &a, 400);
    check(
        "POST",
        "/v1/objections",
        &operator.post("/v1/objections", &json!({"filing": filing})),
        403,
    );

    // A query or path that does not parse: a problem, though not with the node's code (the
    // platform's routes lack the node's query and path error handlers; the spec says so).
    let a = public("/v1/log/leaves?from=x");
    check("GET", "/v1/log/leaves", &a, 400);
    problem(&a, "invalid-request");
    let a = public("/v1/log/checkpoints?foo=1");
    check("GET", "/v1/log/checkpoints", &a, 400);
    problem(&a, "invalid-request");
    let a = public("/v1/log/receipts/x");
    check("GET", "/v1/log/receipts/{index}", &a, 404);
    problem(&a, "not-found");
    let a = public("/v1/log/tile/0/1");
    problem(&a, "invalid-path");
}

//! spec/openapi.yaml against the code, both ways: every route of [`consentry::http::ROUTES`] is an
//! operation of the document and nothing else is; the document is OpenAPI 3.1 and every `$ref`
//! resolves; error answers are RFC 9457 problems; spec/problems.md lists every problem and reason
//! code; and real answers of a running node match the schemas the document gives for them.
//!
//! The answers are checked with a small JSON Schema checker for the keywords the document uses
//! (`$ref`, `type`, `enum`, `const`, `properties`, `required`, `additionalProperties`, `items`,
//! `oneOf`, `allOf`, `minimum`, `maximum`, `minLength`, `minItems`). `pattern` and `format` are
//! annotations here (no regex engine), and so are `contentMediaType`, `contentEncoding` and
//! `contentSchema` (annotations in JSON Schema 2020-12 too: the payload of a signed string is not
//! decoded); any other keyword makes the checker fail, so the document cannot use a keyword these
//! tests silently skip.
//!
//! [`Spec`] also resolves references into a document next to the one loaded (`openapi.yaml#/…`, as
//! spec/openapi-platform.yaml uses them; tests/integration/openapi_platform.rs).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::common::server::{Answer, Backend, TestNode, get_public, new_key};
use crate::service::{BANK, ENTERPRISE, OTHER_ENTERPRISE, OTHER_PLATFORM, PLATFORM, World, now};

pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// Public reads that cannot answer a 4xx problem: they take no parameter, read no body and need
/// no caller (`/healthz`, `/readyz` and `/v1/node` can only fail with `503`; the others never fail).
const NO_CLIENT_ERROR: [(&str, &str); 9] = [
    ("GET", "/healthz"),
    ("GET", "/livez"),
    ("GET", "/readyz"),
    ("GET", "/v1/node"),
    ("GET", "/v1/log/keys"),
    ("GET", "/v1/catalog"),
    ("GET", "/v1/catalog/derivations"),
    ("GET", "/v1/catalog/letters"),
    ("GET", "/ns/v1"),
];

/// Media types whose answers are not JSON documents (the schema checker does not apply).
const NON_JSON: [&str; 4] = [
    "text/plain",
    "text/csv",
    "application/octet-stream",
    "application/x-ndjson",
];

const PROBLEM_REF: &str = "#/components/schemas/Problem";
/// The same schema referenced from another document next to spec/openapi.yaml.
const PROBLEM_REF_EXTERNAL: &str = "openapi.yaml#/components/schemas/Problem";
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

pub(crate) fn spec_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("spec")
        .join(name)
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// YAML to JSON; mapping keys must be scalars and become strings.
fn to_json(y: &serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match y {
        Y::Null => Value::Null,
        Y::Bool(b) => json!(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                json!(n.as_f64())
            }
        }
        Y::String(s) => json!(s),
        Y::Sequence(s) => Value::Array(s.iter().map(to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s.clone(),
                        Y::Number(n) => n.to_string(),
                        Y::Bool(b) => b.to_string(),
                        other => panic!("mapping key {other:?} is not a scalar"),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => to_json(&t.value),
    }
}

/// The parsed document, with the documents next to it that its `$ref`s name (`openapi.yaml#/…`).
pub(crate) struct Spec {
    /// The file name under spec/.
    pub(crate) name: &'static str,
    pub(crate) yaml: serde_yaml::Value,
    pub(crate) doc: Value,
    /// Other documents by file name, their own local references rewritten to `<file>#/…` so that
    /// every reference resolves wherever it is met.
    pub(crate) external: BTreeMap<String, Value>,
}

impl Spec {
    pub(crate) fn load() -> Self {
        Self::load_named("openapi.yaml")
    }

    /// Loads spec/`name` and every document under spec/ its references name.
    pub(crate) fn load_named(name: &'static str) -> Self {
        let parse = |file: &str| -> serde_yaml::Value {
            let text = read(&spec_path(file));
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("spec/{file} is not YAML: {e}"))
        };
        let yaml = parse(name);
        let doc = to_json(&yaml);
        let mut found = Vec::new();
        refs(&doc, "#", &mut found);
        let mut external = BTreeMap::new();
        for (_, r) in found {
            let Some((file, _)) = r.split_once('#') else {
                panic!("{name}: $ref {r} has no fragment");
            };
            if file.is_empty() || external.contains_key(file) {
                continue;
            }
            assert!(
                !file.contains('/') && file.ends_with(".yaml") && file != name,
                "{name}: $ref {r} must name a document next to it"
            );
            let mut other = to_json(&parse(file));
            qualify_refs(&mut other, file);
            external.insert(file.to_owned(), other);
        }
        Self {
            name,
            yaml,
            doc,
            external,
        }
    }

    /// Every operation: (METHOD, path, operation object).
    pub(crate) fn operations(&self) -> Vec<(String, String, &Value)> {
        let mut out = Vec::new();
        for (path, item) in self.doc["paths"].as_object().expect("paths") {
            for (key, op) in item.as_object().expect("path item") {
                if METHODS.contains(&key.as_str()) {
                    out.push((key.to_ascii_uppercase(), path.clone(), op));
                } else {
                    assert!(
                        ["parameters", "summary", "description", "servers"].contains(&key.as_str()),
                        "{path}: unexpected member {key}"
                    );
                }
            }
        }
        out
    }

    pub(crate) fn op(&self, method: &str, path: &str) -> &Value {
        let op = &self.doc["paths"][path][method.to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "no operation {method} {path} in spec/{}",
            self.name
        );
        op
    }

    /// The target of a `$ref`: local (`#/…`) or into a document next to this one (`file#/…`).
    pub(crate) fn target(&self, r: &str) -> Option<&Value> {
        let (file, pointer) = r.split_once('#')?;
        let doc = if file.is_empty() {
            &self.doc
        } else {
            self.external.get(file)?
        };
        doc.pointer(pointer)
    }

    /// Follows `$ref` until an object without one.
    pub(crate) fn resolve<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => v = self.target(r).unwrap_or_else(|| panic!("unresolved {r}")),
                None => return v,
            }
        }
        panic!("$ref chain too long")
    }

    /// Whether the operation needs the bearer client assertion (its own `security`, else the
    /// document's).
    pub(crate) fn needs_assertion(&self, op: &Value) -> bool {
        let security = op.get("security").unwrap_or(&self.doc["security"]);
        let list = security.as_array().expect("security is an array");
        list.iter().any(|req| req.get("clientAssertion").is_some())
    }

    /// The responses of an operation, resolved, by status.
    pub(crate) fn responses<'a>(&'a self, op: &'a Value) -> BTreeMap<String, &'a Value> {
        op["responses"]
            .as_object()
            .expect("responses")
            .iter()
            .map(|(k, v)| (k.clone(), self.resolve(v)))
            .collect()
    }

    /// Whether a (resolved) response is a problem with the shared schema.
    pub(crate) fn is_problem(response: &Value) -> bool {
        let r = &response["content"][PROBLEM_JSON]["schema"]["$ref"];
        r == PROBLEM_REF || r == PROBLEM_REF_EXTERNAL
    }

    /// Checks a real answer against the operation's declared response for its status.
    pub(crate) fn check(&self, method: &str, template: &str, a: &Answer) {
        let what = format!("{method} {template} → {}", a.status);
        let op = self.op(method, template);
        let response = op["responses"]
            .get(a.status.to_string())
            .unwrap_or_else(|| panic!("{what}: status not declared; body {}", a.text));
        let response = self.resolve(response);
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            assert!(
                a.text.is_empty(),
                "{what}: declared without content, got {}",
                a.text
            );
            return;
        };
        let media = a
            .header("content-type")
            .and_then(|c| c.split(';').next())
            .unwrap_or("")
            .trim()
            .to_owned();
        let declared = content
            .get(&media)
            .unwrap_or_else(|| panic!("{what}: media type {media:?} not declared; body {}", a.text));
        // Checkpoint notes, receipts, raw leaves and evidence bundles are not JSON documents: their
        // media type is declared (checked above); a text answer must be non-empty UTF-8.
        if NON_JSON.contains(&media.as_str()) {
            if media.starts_with("text/") {
                assert!(!a.text.is_empty(), "{what}: empty (or not UTF-8) {media} body");
            }
            return;
        }
        let body: Value = serde_json::from_str(&a.text)
            .unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {}", a.text));
        let mut errors = Vec::new();
        validate(self, &declared["schema"], &body, "$", &mut errors);
        assert!(errors.is_empty(), "{what}: {errors:#?}\nbody: {}", a.text);
        if media == PROBLEM_JSON {
            assert_eq!(body["status"], a.status, "{what}: problem status");
            let t = body["type"].as_str().unwrap_or_default();
            assert!(
                t.starts_with(consentry::error::PROBLEM_BASE)
                    && t.len() > consentry::error::PROBLEM_BASE.len(),
                "{what}: problem type {t}"
            );
        }
    }
}

/// JSON type names of a value (an integer is also a number).
fn json_types(v: &Value) -> &'static [&'static str] {
    match v {
        Value::Null => &["null"],
        Value::Bool(_) => &["boolean"],
        Value::Number(n) if n.is_i64() || n.is_u64() => &["integer", "number"],
        Value::Number(_) => &["number"],
        Value::String(_) => &["string"],
        Value::Array(_) => &["array"],
        Value::Object(_) => &["object"],
    }
}

/// Keywords that only annotate.
const ANNOTATIONS: [&str; 11] = [
    "description",
    "title",
    "format",
    "pattern",
    "examples",
    "default",
    "deprecated",
    "$comment",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
];

/// Rewrites the local references of a document read as `file` to `file#/…`.
fn qualify_refs(v: &mut Value, file: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match x {
                    Value::String(r) if k == "$ref" && r.starts_with('#') => {
                        *r = format!("{file}{r}");
                    }
                    _ => qualify_refs(x, file),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| qualify_refs(x, file)),
        _ => {}
    }
}

/// Validates `v` against `schema` (the subset of JSON Schema 2020-12 listed in the module doc).
pub(crate) fn validate(spec: &Spec, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let map = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            errors.push(format!("{at}: not allowed"));
            return;
        }
        Value::Object(m) => m,
        other => panic!("{at}: schema {other} is not an object"),
    };
    for (k, s) in map {
        match k.as_str() {
            "$ref" => {
                let r = s.as_str().expect("$ref is a string");
                let target = spec.target(r).unwrap_or_else(|| panic!("unresolved {r}"));
                validate(spec, target, v, at, errors);
            }
            "type" => {
                let allowed: Vec<&str> = match s {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().map(|t| t.as_str().expect("type name")).collect(),
                    other => panic!("{at}: type {other}"),
                };
                if !json_types(v).iter().any(|t| allowed.contains(t)) {
                    errors.push(format!("{at}: {v} is not of type {allowed:?}"));
                }
            }
            "enum" => {
                if !s.as_array().expect("enum is an array").contains(v) {
                    errors.push(format!("{at}: {v} is not one of {s}"));
                }
            }
            "const" => {
                if s != v {
                    errors.push(format!("{at}: {v} is not {s}"));
                }
            }
            "required" => {
                if let Value::Object(o) = v {
                    for name in s.as_array().expect("required is an array") {
                        let name = name.as_str().expect("required name");
                        if !o.contains_key(name) {
                            errors.push(format!("{at}: required member {name} is missing"));
                        }
                    }
                }
            }
            "properties" => {
                if let Value::Object(o) = v {
                    for (name, sub) in s.as_object().expect("properties is an object") {
                        if let Some(x) = o.get(name) {
                            validate(spec, sub, x, &format!("{at}.{name}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Value::Object(o) = v {
                    let declared = map.get("properties").and_then(Value::as_object);
                    for (name, x) in o {
                        if declared.is_none_or(|d| !d.contains_key(name)) {
                            validate(spec, s, x, &format!("{at}.{name}"), errors);
                        }
                    }
                }
            }
            "items" => {
                if let Value::Array(a) = v {
                    for (i, x) in a.iter().enumerate() {
                        validate(spec, s, x, &format!("{at}[{i}]"), errors);
                    }
                }
            }
            "oneOf" => {
                let matching = s
                    .as_array()
                    .expect("oneOf is an array")
                    .iter()
                    .filter(|sub| {
                        let mut e = Vec::new();
                        validate(spec, sub, v, at, &mut e);
                        e.is_empty()
                    })
                    .count();
                if matching != 1 {
                    errors.push(format!("{at}: {matching} branches of oneOf match {v}"));
                }
            }
            "allOf" => {
                for sub in s.as_array().expect("allOf is an array") {
                    validate(spec, sub, v, at, errors);
                }
            }
            "minimum" | "maximum" => {
                if let (Some(x), Some(bound)) = (v.as_f64(), s.as_f64()) {
                    if (k == "minimum" && x < bound) || (k == "maximum" && x > bound) {
                        errors.push(format!("{at}: {x} breaks {k} {bound}"));
                    }
                }
            }
            "minLength" | "maxLength" => {
                if let (Some(x), Some(bound)) = (v.as_str(), s.as_u64()) {
                    let n = x.chars().count() as u64;
                    if (k == "minLength" && n < bound) || (k == "maxLength" && n > bound) {
                        errors.push(format!("{at}: length {n} breaks {k} {bound}"));
                    }
                }
            }
            "minItems" => {
                if let (Some(x), Some(bound)) = (v.as_array(), s.as_u64()) {
                    if (x.len() as u64) < bound {
                        errors.push(format!("{at}: {} items, fewer than {bound}", x.len()));
                    }
                }
            }
            other if ANNOTATIONS.contains(&other) => {}
            other => panic!("{at}: schema keyword {other} is not supported by this checker"),
        }
    }
}

/// The checker itself: it refuses what the schemas forbid, so a passing answer means something.
#[test]
fn schema_checker_refuses_wrong_answers() {
    let spec = Spec::load();
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let errors_of = |s: &Value, v: &Value| {
        let mut e = Vec::new();
        validate(&spec, s, v, "$", &mut e);
        e
    };
    let problem = json!({"type": "https://w3id.org/consentry/problems#conflict", "title": "t", "status": 409, "detail": "d"});
    assert!(errors_of(&schema("Problem"), &problem).is_empty());
    let mut bad = problem.clone();
    bad.as_object_mut().unwrap().remove("title");
    assert_eq!(
        errors_of(&schema("Problem"), &bad).len(),
        1,
        "missing required member"
    );
    bad = problem.clone();
    bad["status"] = json!("409");
    assert_eq!(errors_of(&schema("Problem"), &bad).len(), 1, "wrong type");
    bad = problem.clone();
    bad["reasons"] = json!([{"code": "x"}]);
    assert_eq!(
        errors_of(&schema("Problem"), &bad).len(),
        1,
        "through items and $ref"
    );
    bad["reasons"] = json!([{"code": "x", "message": "m"}]);
    assert!(errors_of(&schema("Problem"), &bad).is_empty());
    // enum, const, nullable types, additionalProperties, oneOf, allOf.
    assert_eq!(errors_of(&schema("Role"), &json!("admin")).len(), 1);
    assert_eq!(
        errors_of(
            &schema("Health"),
            &json!({"status": "ok", "logSize": 1, "checks": {"database": "ok", "committer": "ok", "checkpoint": "late"}})
        )
        .len(),
        1,
        "readiness check states"
    );
    assert_eq!(
        errors_of(&schema("Health"), &json!({"status": "down", "logSize": 1, "checks": {"database": "ok", "committer": "ok", "checkpoint": "ok"}})).len(),
        1
    );
    assert_eq!(
        errors_of(&schema("Health"), &json!({"status": "ok", "logSize": -1, "checks": {"database": "ok", "committer": "ok", "checkpoint": "ok"}})).len(),
        1
    );
    let key = json!({"did": "did:key:z6Mk", "validFrom": "2026-01-01T00:00:00Z", "validUntil": null});
    assert!(errors_of(&schema("ParticipantKey"), &key).is_empty());
    let mut k = key.clone();
    k["validUntil"] = json!(5);
    assert_eq!(errors_of(&schema("ParticipantKey"), &k).len(), 1);
    let state = json!({"state": "active"});
    assert!(errors_of(&schema("StateChange"), &state).is_empty());
    assert_eq!(
        errors_of(&schema("StateChange"), &json!({"state": "active", "x": 1})).len(),
        1
    );
    let raw = json!({"granularity": "raw", "records": []});
    assert!(errors_of(&schema("CategoryData"), &raw).is_empty());
    assert_eq!(
        errors_of(&schema("CategoryData"), &json!({"granularity": "raw"})).len(),
        1
    );
    assert_eq!(
        errors_of(
            &schema("CategoryData"),
            &json!({"granularity": "derived", "records": []})
        )
        .len(),
        1
    );
    let mut grant = json!({
        "id": "urn:uuid:00000000-0000-4000-8000-000000000000", "sha256": "00", "envelope": "di",
        "enterprise": ENTERPRISE, "grantee": PLATFORM, "signer": "did:key:z6Mk", "delegation": null,
        "state": "active", "statusListIndex": 1, "statusListNumber": 1, "validFrom": "x", "validUntil": "x",
        "submittedAt": "x", "logIndex": 3, "credential": "{}", "events": []
    });
    assert!(errors_of(&schema("GrantDetail"), &grant).is_empty());
    grant.as_object_mut().unwrap().remove("logIndex");
    assert_eq!(
        errors_of(&schema("GrantDetail"), &grant).len(),
        1,
        "allOf reaches Grant"
    );
}

/// Every `$ref` string in the document, with where it is.
pub(crate) fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(r) = x.as_str() {
                        out.push((at.to_owned(), r.to_owned()));
                    }
                }
                refs(x, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                refs(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn spec_is_openapi_3_1() {
    let spec = Spec::load();
    let version = spec.doc["openapi"].as_str().expect("openapi is a string");
    assert!(
        version.starts_with("3.1.") && version[4..].chars().all(|c| c.is_ascii_digit()),
        "openapi: {version}"
    );
    assert!(spec.doc["info"]["title"].is_string() && spec.doc["info"]["version"].is_string());
    // Response status keys must be strings in YAML too (OpenAPI requires them to be).
    for (path, item) in spec.yaml["paths"].as_mapping().expect("paths") {
        for (method, op) in item.as_mapping().expect("path item") {
            if let Some(responses) = op.get("responses").and_then(serde_yaml::Value::as_mapping) {
                for key in responses.keys() {
                    assert!(
                        key.is_string(),
                        "{path:?} {method:?}: response key {key:?} must be quoted"
                    );
                }
            }
        }
    }
    // The bearer scheme the operations name.
    let scheme = &spec.doc["components"]["securitySchemes"]["clientAssertion"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert!(scheme["description"].as_str().is_some_and(|d| d.contains("htu")));
    assert_eq!(spec.doc["security"], json!([{"clientAssertion": []}]));
}

#[test]
fn routes_and_operations_match_both_ways() {
    let spec = Spec::load();
    let routes: BTreeSet<(String, String)> = consentry::http::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        routes.len(),
        consentry::http::ROUTES.len(),
        "ROUTES lists a route twice"
    );
    let ops: BTreeSet<(String, String)> = spec.operations().into_iter().map(|(m, p, _)| (m, p)).collect();
    let missing: Vec<_> = routes.difference(&ops).collect();
    let extra: Vec<_> = ops.difference(&routes).collect();
    assert!(
        missing.is_empty(),
        "routes without an operation in spec/openapi.yaml: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "operations in spec/openapi.yaml that are not routes: {extra:?}"
    );
}

#[test]
fn every_operation_is_described() {
    let spec = Spec::load();
    spec.each_operation_described(|_, _, _, _| {});
}

impl Spec {
    /// The checks every operation of a spec passes (the node's and the platform's): a method,
    /// `operationId` (unique), `summary` and `description`; exactly the template's path parameters,
    /// all required, every parameter with a schema; a success answer; every answer described, with
    /// a schema per media type; a request body exactly when a `413` answer is declared. `more` adds a
    /// spec's own checks, given the operation's description, method, operation and answers.
    pub(crate) fn each_operation_described(
        &self,
        mut more: impl FnMut(&str, &str, &Value, &BTreeMap<String, &Value>),
    ) {
        let mut ids = BTreeSet::new();
        for (method, path, op) in self.operations() {
            let what = format!("{method} {path}");
            assert!(METHODS.contains(&method.to_ascii_lowercase().as_str()), "{what}");
            for field in ["operationId", "summary", "description"] {
                assert!(
                    op[field].as_str().is_some_and(|s| !s.trim().is_empty()),
                    "{what}: {field} missing"
                );
            }
            assert!(
                ids.insert(op["operationId"].as_str().unwrap_or_default().to_owned()),
                "{what}: duplicate operationId"
            );
            // Path parameters: exactly the template's, all required.
            let template: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_owned)
                .collect();
            let mut declared = BTreeSet::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let p = self.resolve(p);
                if p["in"] == "path" {
                    assert_eq!(
                        p["required"], true,
                        "{what}: path parameter {} must be required",
                        p["name"]
                    );
                    declared.insert(p["name"].as_str().expect("parameter name").to_owned());
                }
                assert!(
                    p["schema"].is_object(),
                    "{what}: parameter {} has no schema",
                    p["name"]
                );
            }
            assert_eq!(declared, template, "{what}: path parameters");
            // A success answer with a body schema (or none at all, for 304).
            let responses = self.responses(op);
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{what}: no success response"
            );
            for (status, r) in &responses {
                assert!(r["description"].is_string(), "{what} {status}: no description");
                for (media, m) in r["content"].as_object().into_iter().flatten() {
                    assert!(m["schema"].is_object(), "{what} {status} {media}: no schema");
                }
            }
            // A body read by the handler can be too large; one that is not read cannot.
            assert_eq!(
                op.get("requestBody").is_some(),
                responses.contains_key("413"),
                "{what}: a request body and a 413 answer go together"
            );
            more(&what, &method, op, &responses);
        }
    }
}

#[test]
fn every_ref_resolves_and_every_schema_is_used() {
    let spec = Spec::load();
    let mut found = Vec::new();
    refs(&spec.doc, "#", &mut found);
    assert!(!found.is_empty());
    for (at, r) in &found {
        assert!(
            r.starts_with("#/"),
            "{at}: only local references are used, got {r}"
        );
        assert!(spec.target(r).is_some(), "{at}: $ref {r} does not resolve");
    }
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
    // The schemas the API is described with.
    for name in [
        "Problem",
        "Participant",
        "Grant",
        "ReleaseRequest",
        "ReleaseAnswer",
        "InclusionPromise",
        "StatusListCredential",
        "Catalog",
        "Letter",
    ] {
        assert!(
            spec.doc["components"]["schemas"][name].is_object(),
            "schema {name}"
        );
    }
    let problem = &spec.doc["components"]["schemas"]["Problem"];
    for member in ["type", "title", "status", "detail", "reasons", "logIndex"] {
        assert!(problem["properties"][member].is_object(), "Problem.{member}");
    }
}

#[test]
fn errors_are_problems_and_client_errors_are_declared() {
    let spec = Spec::load();
    let exempt: BTreeSet<(String, String)> = NO_CLIENT_ERROR
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    for (method, path, op) in spec.operations() {
        let what = format!("{method} {path}");
        let responses = spec.responses(op);
        // Every error answer the node declares is a problem with the shared schema.
        for (status, r) in &responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert!(Spec::is_problem(r), "{what} {status}: not a Problem response");
            }
        }
        let client_error = responses
            .iter()
            .any(|(s, r)| s.starts_with('4') && Spec::is_problem(r));
        let key = (method.clone(), path.clone());
        if exempt.contains(&key) {
            assert!(!client_error, "{what}: declared a 4xx the handler cannot answer");
            assert_eq!(op["security"], json!([]), "{what}: public");
            assert_eq!(method, "GET");
        } else {
            assert!(client_error, "{what}: no 4xx problem response");
        }
        if spec.needs_assertion(op) {
            assert!(responses.contains_key("401"), "{what}: authenticated but no 401");
        }
    }
}

/// Every problem code, and every reason code the code base writes, is in spec/problems.md; each
/// problem code with the HTTP status the code gives it.
#[test]
fn problems_md_lists_every_code() {
    use actix_web::ResponseError as _;
    use consentry::credential::ProofError as P;
    use consentry::error::Error;
    use consentry::grant::Violation as V;

    let md = read(&spec_path("problems.md"));
    // `| `code` | 403 | …` rows.
    let mut statuses: BTreeMap<String, u16> = BTreeMap::new();
    for line in md.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3 {
            if let (Some(code), Ok(status)) = (
                cells[1].strip_prefix('`').and_then(|c| c.strip_suffix('`')),
                cells[2].parse::<u16>(),
            ) {
                statuses.insert(code.to_owned(), status);
            }
        }
    }
    let listed = |code: &str| md.contains(&format!("`{code}`"));

    let errors = [
        Error::invalid("signed-request", "x"),
        Error::Unauthenticated("x".into()),
        Error::Forbidden("x".into()),
        Error::NotFound("x".into()),
        Error::Conflict("x".into()),
        Error::Grant(consentry::grant::GrantError::Rules(vec![])),
        Error::Refused {
            reasons: vec![],
            log_index: None,
        },
        Error::Report {
            conflict: false,
            reasons: vec![],
        },
        Error::Report {
            conflict: true,
            reasons: vec![],
        },
        Error::ConsentRequest(vec![]),
        Error::ExceedsRequest(vec![]),
        Error::TooLarge(1),
        Error::Storage(consentry::storage::StorageError::Task("x".into())),
        Error::Upstream("x".into()),
        Error::Internal("x".into()),
    ];
    for e in &errors {
        let code = e.code();
        if matches!(e, Error::Invalid { .. }) {
            assert!(listed(code), "{code}");
            continue;
        }
        assert_eq!(
            statuses.get(code).copied(),
            Some(e.status_code().as_u16()),
            "spec/problems.md: problem code {code} with its status"
        );
    }

    let violations = [
        V::NotAGrant,
        V::GrantId(String::new()),
        V::Issuer(String::new()),
        V::Malformed(String::new()),
        V::UnexpectedMember(String::new()),
        V::InvalidUscc {
            party: "enterprise",
            code: String::new(),
            reason: String::new(),
        },
        V::UnknownCategory(String::new()),
        V::DuplicateCategory(String::new()),
        V::NoCategories,
        V::DuplicatePurpose(String::new()),
        V::DuplicateLetter(String::new()),
        V::UnknownPurpose(String::new()),
        V::NoPurposes,
        V::BankRawNonPublic {
            bank: String::new(),
            code: String::new(),
        },
        V::RecipientNotCovered {
            bank: String::new(),
            code: String::new(),
            granularity: "raw",
        },
        V::RecipientsWithoutPlatform,
        V::DuplicateParticipant(String::new()),
        V::MissingLetter {
            code: String::new(),
            provider: String::new(),
        },
        V::UnknownLetter(String::new()),
        V::LetterDigest {
            id: String::new(),
            found: String::new(),
            expected: String::new(),
        },
        V::DataPeriod(String::new()),
        V::Rate,
        V::ValidityWindow,
        V::Status(String::new()),
        V::NotYetValid(String::new()),
        V::Expired(String::new()),
    ];
    for v in &violations {
        assert!(listed(v.code()), "spec/problems.md: rule violation {}", v.code());
    }

    let s = String::new;
    let proofs = [
        P::UnknownEnvelope,
        P::Json(consentry::crypto::json::parse(b"{").expect_err("not JSON")),
        P::MissingProof,
        P::ProofSet,
        P::ProofOption("created"),
        P::ProofType(s()),
        P::Cryptosuite(s()),
        P::ProofValue(consentry::crypto::multibase::MultibaseError::NotBase58Btc),
        P::ProofValueLength(0),
        P::ContextMismatch,
        P::Created(consentry::credential::datetime::parse_datetime_stamp("x").expect_err("no date")),
        P::CreatedInFuture(s()),
        P::Expires(consentry::credential::datetime::parse_datetime_stamp("x").expect_err("no date")),
        P::ProofExpired(s()),
        P::ProofPurpose(s()),
        P::VerificationMethod(consentry::identity::DidKey::parse("x").expect_err("no did")),
        P::IssuerMismatch {
            issuer: s(),
            controller: s(),
        },
        P::Canonicalization(consentry::crypto::jcs::JcsError::NonFinite),
        P::Signature,
        P::JwsFormat(""),
        P::Base64(""),
        P::Header(s()),
        P::Algorithm(s()),
        P::Critical(s()),
        P::MediaType {
            param: "typ",
            value: s(),
            expected: "",
        },
        P::MissingKid,
        P::ForbiddenClaim("vc"),
        P::Claim("exp"),
        P::IssMismatch {
            iss: s(),
            issuer: s(),
        },
        P::Expired(0),
        P::NotBefore(0),
        P::IssuedInFuture(0),
        P::MissingIssuer,
    ];
    for p in &proofs {
        assert!(listed(p.code()), "spec/problems.md: proof failure {}", p.code());
    }
    assert!(listed("vc-data-model"));

    // Literal codes in the source: `Error::invalid("code", …)`, the release reasons
    // `reason("code", …)` of the policy and the release paths (node and platform), and the loan report reasons
    // (`problem("code", …)` of the report's checks, `reason("code", …)` and
    // `refused(conflict, "code", …)` of the node's).
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut codes = BTreeSet::new();
    let mut files = vec![src.clone()];
    while let Some(f) = files.pop() {
        if f.is_dir() {
            files.extend(std::fs::read_dir(&f).unwrap().map(|e| e.unwrap().path()));
        } else if f.extension().is_some_and(|x| x == "rs") {
            let text = read(&f);
            codes.extend(literal_arguments(&text, "Error::invalid("));
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let in_node = f.parent().is_some_and(|p| p.ends_with("node"));
            let in_platform = f.parent().is_some_and(|p| p.ends_with("platform"));
            if f.ends_with("policy/mod.rs") || (name == "release.rs" && (in_node || in_platform)) {
                codes.extend(literal_arguments(&text, "reason("));
            }
            if f.ends_with("src/intake.rs") || (name == "intake.rs" && in_node) {
                codes.extend(literal_arguments(&text, "Problem::batch("));
                codes.extend(second_literal_arguments(&text, "Problem::record("));
            }
            if f.ends_with("src/loan.rs") {
                codes.extend(literal_arguments(&text, "problem("));
            }
            if name == "consent.rs" && in_node {
                codes.extend(literal_arguments(&text, "reason("));
            }
            if f.ends_with("grant/request.rs") {
                codes.extend(
                    literal_arguments(&text, "exceeds(")
                        .into_iter()
                        .filter(|c| !c.is_empty()),
                );
            }
            if name == "loans.rs" && in_node {
                codes.extend(literal_arguments(&text, "reason("));
                codes.extend(second_literal_arguments(&text, "refused("));
            }
        }
    }
    assert!(
        codes.contains("signed-request")
            && codes.contains("grant-required")
            && codes.contains("invalid-amount")
            && codes.contains("duplicate-report-id")
            && codes.contains("release-not-under-grant")
            && codes.contains("upstream-digest")
            && codes.contains("requester-not-recipient")
            && codes.contains("usage-exceeds"),
        "{codes:?}"
    );
    for code in &codes {
        assert!(listed(code), "spec/problems.md does not list {code}");
    }
}

/// The string literals that are the first argument of `call` in `text`.
fn literal_arguments(text: &str, call: &str) -> Vec<String> {
    text.match_indices(call)
        .filter_map(|(i, _)| {
            let rest = text[i + call.len()..].trim_start();
            let rest = rest.strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_owned())
        })
        .collect()
}

/// The string literals that are the second argument of `call` in `text` (the first one has no
/// comma in it).
fn second_literal_arguments(text: &str, call: &str) -> Vec<String> {
    text.match_indices(call)
        .filter_map(|(i, _)| {
            let rest = &text[i + call.len()..];
            let rest = rest[rest.find(',')? + 1..].trim_start();
            let rest = rest.strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_owned())
        })
        .collect()
}

/// Fills a path template with values the handlers accept.
fn concrete(template: &str) -> String {
    template
        .replace("{id}", "urn:uuid:00000000-0000-4000-8000-000000000000")
        .replace("{uscc}", ENTERPRISE)
        .replace("{role}", "platform")
        .replace("{provider}", "STA")
        .replace("{version}", "1")
        .replace("{list}", "1")
        .replace("{purpose}", "revocation")
        .replace("{index}", "0")
        .replace("{level}", "0")
        .replace("{n}", "000")
        .replace("{month}", "2026-01")
}

/// The static tile layout (spec/access-log.md §7.4): full and partial hash tiles and entry bundles,
/// tiles the log does not hold yet, paths not in the canonical form.
#[test]
fn live_tile_answers_match_the_spec() {
    let spec = Spec::load();
    let node = TestNode::start(Backend::Sqlite);
    let base = usize::try_from(crate::tiles::log_size(&node)).unwrap();
    crate::tiles::append_entries(&node, 300 - base);
    let get = |path: &str| get_public(&format!("{}{path}", node.url));
    let hashes = "/v1/log/tile/{level}/{n}";
    let entries = "/v1/log/tile/entries/{n}";
    let full = Some("public, max-age=31536000, immutable");
    let partial = Some("public, max-age=60");
    for (path, template, status, cache) in [
        ("/v1/log/tile/0/000", hashes, 200, full),
        ("/v1/log/tile/0/001.p/44", hashes, 200, partial),
        ("/v1/log/tile/1/000.p/1", hashes, 200, partial),
        ("/v1/log/tile/entries/000", entries, 200, full),
        ("/v1/log/tile/entries/001.p/44", entries, 200, partial),
        ("/v1/log/tile/entries/001.p/3", entries, 200, partial),
        ("/v1/log/tile/0/001", hashes, 404, None),
        ("/v1/log/tile/0/001.p/45", hashes, 404, None),
        ("/v1/log/tile/7/x001/000", hashes, 404, None),
        ("/v1/log/tile/63/000.p/1", hashes, 404, None),
        ("/v1/log/tile/entries/001", entries, 404, None),
        ("/v1/log/tile/0/1", hashes, 400, None),
        ("/v1/log/tile/00/000", hashes, 400, None),
        ("/v1/log/tile/0/000.p/0", hashes, 400, None),
        ("/v1/log/tile/0/x000/001", hashes, 400, None),
        ("/v1/log/tile/entries/000.p/256", entries, 400, None),
        ("/v1/log/tile/entries/00", entries, 400, None),
    ] {
        let a = get(path);
        assert_eq!(a.status, status, "{path}: {}", a.text);
        spec.check("GET", template, &a);
        if status == 200 {
            assert_eq!(
                a.header("content-type"),
                Some("application/octet-stream"),
                "{path}"
            );
            assert_eq!(a.header("cache-control"), cache, "{path}");
        } else {
            assert_eq!(a.header("content-type"), Some(PROBLEM_JSON), "{path}");
            let code = if status == 400 {
                "invalid-path"
            } else {
                "not-found"
            };
            assert_eq!(a.problem(), code, "{path}");
        }
    }
}

/// A real node's public answers and its answers to callers without an assertion.
#[test]
fn live_public_answers_match_the_spec() {
    let spec = Spec::load();
    let node = TestNode::start(Backend::Sqlite);
    let get = |path: &str| get_public(&format!("{}{path}", node.url));

    let a = get("/v1/node");
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("GET", "/v1/node", &a);
    assert_eq!(a.body["did"], node.did.as_str());

    let a = get("/v1/catalog");
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("GET", "/v1/catalog", &a);
    assert!(!a.body["categories"].as_array().unwrap().is_empty());

    let a = get("/v1/grants");
    assert_eq!(a.status, 401, "{}", a.text);
    spec.check("GET", "/v1/grants", &a);
    assert_eq!(a.header("content-type"), Some(PROBLEM_JSON));
    assert_eq!(a.problem(), "unauthenticated");
    assert_eq!(
        a.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );

    for (path, template, status) in [
        ("/healthz", "/healthz", 200),
        ("/livez", "/livez", 200),
        ("/readyz", "/readyz", 200),
        ("/v1/catalog/letters", "/v1/catalog/letters", 200),
        (
            "/v1/catalog/letters/STA/1",
            "/v1/catalog/letters/{provider}/{version}",
            200,
        ),
        (
            "/v1/catalog/letters/STA/999",
            "/v1/catalog/letters/{provider}/{version}",
            404,
        ),
        ("/ns/v1", "/ns/v1", 200),
        ("/status/999/revocation", "/status/{list}/{purpose}", 404),
        ("/status/1/expiry", "/status/{list}/{purpose}", 404),
    ] {
        let a = get(path);
        assert_eq!(a.status, status, "{path}: {}", a.text);
        spec.check("GET", template, &a);
    }

    // Without an assertion: every operation that needs one answers 401; the others do not, and
    // whatever they answer to an empty request is declared.
    let anonymous = node.client(&new_key());
    for (method, template) in consentry::http::ROUTES {
        let path = concrete(template);
        let a = match *method {
            "GET" => get(&path),
            "POST" => anonymous.post_raw(&path, "", false),
            other => panic!("method {other}"),
        };
        let op = spec.op(method, template);
        // `/metrics` takes the operator's metrics token, which the test node has.
        let metrics_token = op["security"][0].get("metricsToken").is_some();
        if spec.needs_assertion(op) || metrics_token {
            assert_eq!(
                a.status, 401,
                "{method} {template} without an assertion: {}",
                a.text
            );
            assert_eq!(a.problem(), "unauthenticated");
        } else {
            assert_ne!(
                a.status, 401,
                "{method} {template} is declared public: {}",
                a.text
            );
        }
        spec.check(method, template, &a);
    }

    // The operator's own views.
    let op = node.operator();
    for (path, template) in [
        ("/v1/participants", "/v1/participants"),
        ("/v1/participants?role=node", "/v1/participants"),
        ("/v1/participants/me", "/v1/participants/me"),
        ("/v1/admin/registrations", "/v1/admin/registrations"),
        ("/v1/grants", "/v1/grants"),
        ("/v1/notices", "/v1/notices"),
    ] {
        let a = op.get(path);
        assert_eq!(a.status, 200, "{path}: {}", a.text);
        spec.check("GET", template, &a);
    }
    let a = op.get("/v1/enterprise/data");
    assert_eq!(a.status, 403, "{}", a.text);
    spec.check("GET", "/v1/enterprise/data", &a);
}

/// The answers of a populated node: registration, grants, releases, refusals, status changes,
/// status lists, admin operations and key rotation.
#[test]
fn live_answers_of_every_area_match_the_spec() {
    let spec = Spec::load();
    let w = World::new(Backend::Sqlite);
    let op = w.node.operator();
    let (enterprise, platform) = (w.client(&w.enterprise), w.client(&w.platform));

    // A status slot, then a grant (201), and the same bytes again (201).
    let a = enterprise.post("/v1/status/slots", &json!({}));
    assert_eq!(a.status, 201, "{}", a.text);
    spec.check("POST", "/v1/status/slots", &a);
    let (grant, a) = w.grant_with(&w.enterprise.clone(), |_| {});
    assert_eq!(a.status, 201, "{}", a.text);
    spec.check("POST", "/v1/grants", &a);
    let a = platform.post_raw("/v1/grants", r#"{"a":1,"a":2}"#, false);
    assert_eq!(a.status, 422, "{}", a.text);
    spec.check("POST", "/v1/grants", &a);
    assert!(!a.reasons().is_empty());

    // Releases: derived for the bank, raw for the platform, public data; and a refusal.
    let body = json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK, "requestId": "req-1"});
    let a = w.release(body.clone());
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/releases", &a);
    let a = w.release(json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03", "SOC-01"], "granularity": "raw", "purpose": "credit-approval"}));
    assert!(a.status == 200 || a.status == 403, "{}", a.text);
    spec.check("POST", "/v1/releases", &a);
    let a = w.release(json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "raw", "purpose": "credit-approval"}));
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/releases", &a);
    assert!(!a.body["data"]["TAX-03"]["records"].as_array().unwrap().is_empty());
    let a = w.release(json!({"enterprise": ENTERPRISE, "categories": ["REG-01"], "granularity": "derived", "purpose": "credit-approval"}));
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/releases", &a);
    let mut refused = body.clone();
    refused["purpose"] = json!("marketing");
    let a = w.release(refused);
    assert_eq!(a.status, 403, "{}", a.text);
    spec.check("POST", "/v1/releases", &a);
    assert_eq!(a.problem(), "release-refused");
    assert!(a.body["logIndex"].is_u64());
    let a = platform.post_raw("/v1/releases", "not json", true);
    assert_eq!(a.status, 403, "{}", a.text);
    spec.check("POST", "/v1/releases", &a);

    // Views of grants.
    for (who, path, template) in [
        (&enterprise, "/v1/grants".to_owned(), "/v1/grants"),
        (&platform, "/v1/grants".to_owned(), "/v1/grants"),
        (&enterprise, format!("/v1/grants/{grant}"), "/v1/grants/{id}"),
    ] {
        let a = who.get(&path);
        assert_eq!(a.status, 200, "{path}: {}", a.text);
        spec.check("GET", template, &a);
    }
    let a = w.client(&new_key()).get(&format!("/v1/grants/{grant}"));
    assert_eq!(a.status, 401, "{}", a.text);

    // Status changes by signed request, then the grant with its events and the signed lists.
    let a = w.change(&w.enterprise, "suspend", &grant);
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/grants/{id}/suspend", &a);
    let a = w.change(&w.enterprise, "suspend", &grant);
    assert_eq!(a.status, 409, "{}", a.text);
    spec.check("POST", "/v1/grants/{id}/suspend", &a);
    let a = w.change(&w.platform, "resume", &grant);
    assert_eq!(a.status, 403, "{}", a.text);
    spec.check("POST", "/v1/grants/{id}/resume", &a);
    let a = w.change(&w.enterprise, "resume", &grant);
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/grants/{id}/resume", &a);
    let token = enterprise.signed_request("revoke", json!({"grant": grant}));
    let a = enterprise.post_raw(
        "/v1/grants/urn:uuid:00000000-0000-4000-8000-000000000000/revoke",
        &token,
        false,
    );
    assert_eq!(a.status, 400, "{}", a.text);
    spec.check("POST", "/v1/grants/{id}/revoke", &a);
    let a = w.change(&w.enterprise, "revoke", &grant);
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/grants/{id}/revoke", &a);
    let g = enterprise.get(&format!("/v1/grants/{grant}"));
    spec.check("GET", "/v1/grants/{id}", &g);
    assert_eq!(g.body["events"].as_array().unwrap().len(), 3);
    let list = g.body["statusListNumber"].as_i64().unwrap();
    for purpose in ["revocation", "suspension"] {
        let a = get_public(&format!("{}/status/{list}/{purpose}", w.node.url));
        assert_eq!(a.status, 200, "{}", a.text);
        spec.check("GET", "/status/{list}/{purpose}", &a);
    }

    // The enterprise's own views.
    for (path, template) in [
        ("/v1/participants/me", "/v1/participants/me"),
        ("/v1/enterprise/data", "/v1/enterprise/data"),
        ("/v1/notices", "/v1/notices"),
        ("/v1/participants", "/v1/participants"),
    ] {
        let a = enterprise.get(path);
        spec.check("GET", template, &a);
    }
    assert!(enterprise.get("/v1/participants/me").body["identityCredential"].is_object());

    // A delegation.
    let agent = new_key();
    let t = now();
    let fmt = |t: time::OffsetDateTime| consentry::credential::datetime::format_utc_seconds(t);
    let delegation = consentry::credential::data_integrity::create_proof(
        &json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": consentry::ids::GrantId::random().as_str(),
            "type": ["VerifiableCredential", "AgentDelegation"],
            "issuer": w.enterprise.did.as_str(),
            "validFrom": fmt(t - time::Duration::minutes(1)),
            "validUntil": fmt(t + time::Duration::days(30)),
            "credentialSubject": {"id": agent.did.as_str(), "name": "经办人", "uscc": ENTERPRISE, "scope": ["revoke", "suspend"]},
        }),
        &w.enterprise,
        t,
    )
    .unwrap();
    let a = enterprise.post("/v1/delegations", &delegation);
    assert_eq!(a.status, 201, "{}", a.text);
    spec.check("POST", "/v1/delegations", &a);
    let a = platform.post("/v1/delegations", &delegation);
    assert_eq!(a.status, 403, "{}", a.text);
    spec.check("POST", "/v1/delegations", &a);

    // Registry: a bank, a platform, a regulator's list, a second enterprise registered and
    // approved, another rejected.
    let a = platform.post(
        "/v1/banks",
        &json!({"uscc": "91330200MA2CDEF57N", "name": "第二银行", "did": new_key().did.as_str()}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    spec.check("POST", "/v1/banks", &a);
    let a = platform.post(
        "/v1/banks",
        &json!({"uscc": "1", "name": "x", "did": "did:key:x", "extra": 1}),
    );
    assert_eq!(a.status, 400, "{}", a.text);
    spec.check("POST", "/v1/banks", &a);
    assert_eq!(a.problem(), "invalid-body");
    let a = platform.get("/v1/participants");
    spec.check("GET", "/v1/participants", &a);
    assert_eq!(
        a.body["participants"].as_array().unwrap().len(),
        2,
        "a platform sees its banks"
    );
    let a = op.post(
        "/v1/admin/platforms",
        &json!({"uscc": OTHER_PLATFORM, "name": "另一平台", "did": new_key().did.as_str(), "endpoint": "https://other.example"}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    spec.check("POST", "/v1/admin/platforms", &a);
    let a = op.post("/v1/admin/platforms", &json!({"uscc": OTHER_PLATFORM, "name": "again", "did": new_key().did.as_str(), "endpoint": "https://x"}));
    assert_eq!(a.status, 409, "{}", a.text);
    spec.check("POST", "/v1/admin/platforms", &a);
    let a = w.client(&w.regulator).get("/v1/participants?role=enterprise");
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("GET", "/v1/participants", &a);
    let other = new_key();
    let c = w.client(&other);
    let token = c.signed_request("register", json!({"uscc": OTHER_ENTERPRISE, "name": "另一企业"}));
    let a = c.post_raw("/v1/registrations", &token, false);
    assert_eq!(a.status, 202, "{}", a.text);
    spec.check("POST", "/v1/registrations", &a);
    let a = c.post_raw("/v1/registrations", &token, false);
    assert_eq!(a.status, 401, "a replayed registration: {}", a.text);
    spec.check("POST", "/v1/registrations", &a);
    let a = c.get("/v1/participants/me");
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("GET", "/v1/participants/me", &a);
    let a = op.get("/v1/admin/registrations");
    spec.check("GET", "/v1/admin/registrations", &a);
    assert_eq!(a.body["registrations"].as_array().unwrap().len(), 1);
    let a = op.post(
        &format!("/v1/admin/registrations/{OTHER_ENTERPRISE}/approve"),
        &json!({}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/admin/registrations/{uscc}/approve", &a);
    let a = op.post(
        &format!("/v1/admin/registrations/{OTHER_ENTERPRISE}/reject"),
        &json!({}),
    );
    assert_eq!(a.status, 409, "{}", a.text);
    spec.check("POST", "/v1/admin/registrations/{uscc}/reject", &a);
    let third = new_key();
    let third_uscc = consentry::ids::Uscc::complete("91110108MA01ABCD").unwrap();
    let c = w.client(&third);
    let token = c.signed_request(
        "register",
        json!({"uscc": third_uscc.as_str(), "name": "第三企业"}),
    );
    let a = c.post_raw("/v1/registrations", &token, false);
    assert_eq!(a.status, 202, "{}", a.text);
    let a = op.post(
        &format!("/v1/admin/registrations/{}/reject", third_uscc.as_str()),
        &json!({}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/admin/registrations/{uscc}/reject", &a);
    assert!(a.body["identityCredential"].is_null());
    let token = c.signed_request("register", json!({"uscc": "91110108MA01ABCD00", "name": "x"}));
    let a = c.post_raw("/v1/registrations", &token, false);
    assert_eq!(a.status, 400, "{}", a.text);
    spec.check("POST", "/v1/registrations", &a);
    assert_eq!(a.problem(), "invalid-uscc");

    // A letter version.
    let mut letter = get_public(&format!("{}/v1/catalog/letters/STA/1", w.node.url)).body["letter"].clone();
    letter["id"] = json!("STA/99");
    letter["version"] = json!(99);
    let a = op.post("/v1/admin/letters", &letter);
    assert_eq!(a.status, 201, "{}", a.text);
    spec.check("POST", "/v1/admin/letters", &a);
    let a = op.post("/v1/admin/letters", &letter);
    assert_eq!(a.status, 409, "{}", a.text);
    spec.check("POST", "/v1/admin/letters", &a);

    // Key rotation (the regulator's) and recovery (the bank's).
    let new = new_key();
    let regulator = w.client(&w.regulator);
    let proof = w.client(&new).signed_request("accept-key", json!({}));
    let token = regulator.signed_request("rotate-key", json!({"newKey": new.did.as_str(), "proof": proof}));
    let a = regulator.post_raw("/v1/participants/me/keys", &token, false);
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/participants/me/keys", &a);
    let recovered = new_key();
    let pop = w.client(&recovered).signed_request("accept-key", json!({}));
    let a = op.post_raw(
        &format!("/v1/admin/participants/bank/{BANK}/recover-key"),
        &pop,
        true,
    );
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/admin/participants/{role}/{uscc}/recover-key", &a);

    // States: a bad state, the node itself, then removing the platform (its grants suspended, the
    // enterprise told).
    let state = |role: &str, uscc: &str, body: Value| {
        op.post(&format!("/v1/admin/participants/{role}/{uscc}/state"), &body)
    };
    let template = "/v1/admin/participants/{role}/{uscc}/state";
    let a = state("platform", PLATFORM, json!({"state": "gone"}));
    assert_eq!(a.status, 400, "{}", a.text);
    spec.check("POST", template, &a);
    let a = state("nobody", PLATFORM, json!({"state": "active"}));
    assert_eq!(a.status, 400, "{}", a.text);
    spec.check("POST", template, &a);
    let a = state("platform", "91330100716105852F", json!({"state": "suspended"}));
    assert_eq!(a.status, 404, "{}", a.text);
    spec.check("POST", template, &a);
    let (_, g2) = w.grant_with(&w.enterprise.clone(), |_| {});
    assert_eq!(g2.status, 201, "{}", g2.text);
    let a = state("platform", PLATFORM, json!({"state": "removed"}));
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", template, &a);
    assert_eq!(a.body["suspendedGrants"], 1);
    let a = enterprise.get("/v1/notices");
    spec.check("GET", "/v1/notices", &a);
    assert!(a.body["notices"][0]["body"].is_object());
    let a = state("platform", PLATFORM, json!({"state": "active"}));
    assert_eq!(a.status, 409, "{}", a.text);
    spec.check("POST", template, &a);
    let a = platform.get("/v1/grants");
    assert_eq!(a.status, 403, "{}", a.text);
    spec.check("GET", "/v1/grants", &a);
}

/// The answers of the objection, webhook and audit areas: objections lodged at the node and relayed
/// by a platform, forwarded, reviewed and resolved; webhook endpoints registered, listed, rotated and
/// deleted; every log route with good and bad input; each evidence-bundle record as an `AccessRecord`.
#[test]
fn live_answers_of_objections_webhooks_and_log_match_the_spec() {
    let spec = Spec::load();
    let w = World::new(Backend::Sqlite);
    let op = w.node.operator();
    let (ent, plat) = (w.client(&w.enterprise), w.client(&w.platform));
    let (bank, reg) = (w.client(&w.bank), w.client(&w.regulator));
    let sha = |s: &str| consentry::crypto::Sha256Digest::of(s.as_bytes()).to_hex();
    // a release to have entries of several kinds
    let (grant, a) = w.grant_with(&w.enterprise.clone(), |_| {});
    assert_eq!(a.status, 201, "{}", a.text);
    let a = w.release(json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK, "requestId": "req-1"}));
    assert_eq!(a.status, 200, "{}", a.text);
    let mut refused = json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "marketing"});
    let a = w.release(refused.take());
    assert_eq!(a.status, 403, "{}", a.text);
    // records
    let data = ent.get("/v1/enterprise/data");
    let record = data.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "TAX-03")
        .unwrap()
        .clone();
    let rid = record["id"].as_i64().unwrap();

    // Webhooks for platform (objection.updated), enterprise (data.released)
    let a = plat.post("/v1/webhooks", &json!({"url": "https://hooks.example/p", "events": ["objection.updated", "grant.revoked"], "description": "p"}));
    assert_eq!(a.status, 201, "{}", a.text);
    spec.check("POST", "/v1/webhooks", &a);
    let pid = a.body["id"].as_str().unwrap().to_owned();
    let a = ent.post(
        "/v1/webhooks",
        &json!({"url": "https://hooks.example/e", "events": ["data.released", "objection.updated"]}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    spec.check("POST", "/v1/webhooks", &a);
    let eid = a.body["id"].as_str().unwrap().to_owned();
    for (c, body, st) in [
        (&plat, json!({"url": "ftp://x", "events": ["grant.revoked"]}), 400),
        (
            &plat,
            json!({"url": "https://x.example/", "events": ["data.released"]}),
            400,
        ),
        (&plat, json!({"url": "https://x.example/", "events": []}), 400),
        (
            &reg,
            json!({"url": "https://x.example/", "events": ["grant.revoked"]}),
            403,
        ),
    ] {
        let a = c.post("/v1/webhooks", &body);
        assert_eq!(a.status, st, "{}", a.text);
        spec.check("POST", "/v1/webhooks", &a);
    }

    // Objections: enterprise at node (data target), platform relay without forward (access target)
    let filing = |target: Value, reason: &str| {
        ent.signed_request("object", json!({"enterprise": ENTERPRISE, "target": target, "reason": reason, "attachments": [{"name": "a.pdf", "sha256": "a".repeat(64), "mediaType": "application/pdf"}]}))
    };
    let t1 = filing(json!({"type": "data", "record": rid}), "wrong");
    let a = ent.post("/v1/objections", &json!({"filing": t1}));
    assert_eq!(a.status, 201, "{}", a.text);
    spec.check("POST", "/v1/objections", &a);
    let o1 = a.body["id"].as_str().unwrap().to_owned();
    let a = ent.post("/v1/objections", &json!({"filing": t1}));
    assert_eq!(a.status, 409, "{}", a.text);
    spec.check("POST", "/v1/objections", &a);
    let a = ent.post("/v1/objections", &json!({"filing": t1, "receipt": "x.y.z"}));
    assert_eq!(a.status, 400, "{}", a.text);
    spec.check("POST", "/v1/objections", &a);
    assert_eq!(a.problem(), "invalid-objection");
    let t2 = filing(json!({"type": "access", "logIndex": 0}), "not me");
    let digest = sha(&t2);
    let receipt = plat.signed_request(
        "receive-objection",
        json!({"filingSha256": digest, "receivedAt": consentry::calendar::format_cst(w.node.clock_now())}),
    );
    let a = plat.post("/v1/objections", &json!({"filing": t2, "receipt": receipt}));
    // log index 0 may not be the enterprise's: accept 201 or 404
    spec.check("POST", "/v1/objections", &a);
    let a2 = if a.status == 201 {
        a
    } else {
        let idx = ent.get("/v1/log/entries").body["entries"][0]["index"]
            .as_u64()
            .unwrap();
        let t2 = filing(json!({"type": "access", "logIndex": idx}), "not me");
        let digest = sha(&t2);
        let receipt = plat.signed_request("receive-objection", json!({"filingSha256": digest, "receivedAt": consentry::calendar::format_cst(w.node.clock_now())}));
        plat.post("/v1/objections", &json!({"filing": t2, "receipt": receipt}))
    };
    assert_eq!(a2.status, 201, "{}", a2.text);
    spec.check("POST", "/v1/objections", &a2);
    let o2 = a2.body["id"].as_str().unwrap().to_owned();
    let fsha = a2.body["filingSha256"].as_str().unwrap().to_owned();
    for (c, path) in [
        (&ent, "/v1/objections".to_owned()),
        (&plat, "/v1/objections?state=received".into()),
        (&reg, "/v1/objections?limit=1".into()),
        (&op, "/v1/objections?deadlineUnknown=true&overdue=false".into()),
    ] {
        let a = c.get(&path);
        assert_eq!(a.status, 200, "{path}: {}", a.text);
        spec.check("GET", "/v1/objections", &a);
    }
    for (c, path, st) in [
        (&bank, "/v1/objections".to_owned(), 403),
        (&op, "/v1/objections?state=gone".into(), 400),
        (&op, "/v1/objections?before=zz".into(), 400),
        (&op, "/v1/objections?x=1".into(), 400),
    ] {
        let a = c.get(&path);
        assert_eq!(a.status, st, "{path}: {}", a.text);
        spec.check("GET", "/v1/objections", &a);
    }
    for (c, id, st) in [
        (&ent, &o1, 200),
        (&plat, &o2, 200),
        (&bank, &o1, 404),
        (&plat, &o1, 404),
    ] {
        let a = c.get(&format!("/v1/objections/{id}"));
        assert_eq!(a.status, st, "{}", a.text);
        spec.check("GET", "/v1/objections/{id}", &a);
    }
    // forward o2
    let st = plat.signed_request("forward-objection", json!({"filingSha256": fsha}));
    let a = plat.post(&format!("/v1/objections/{o2}/forward"), &json!({"statement": st}));
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/objections/{id}/forward", &a);
    let a = plat.post(
        &format!("/v1/objections/{o2}/forward"),
        &json!({"statement": plat.signed_request("forward-objection", json!({"filingSha256": fsha}))}),
    );
    assert_eq!(a.status, 409, "{}", a.text);
    spec.check("POST", "/v1/objections/{id}/forward", &a);
    let a = plat.post(&format!("/v1/objections/{o2}/forward"), &json!({"statement": st}));
    spec.check("POST", "/v1/objections/{id}/forward", &a);
    eprintln!("replayed forward: {} {}", a.status, a.text);
    // review + resolve o1 (data, corrected), o2 (access, rejected)
    for (id, outcome, correction) in [
        (&o1, "corrected", Some(json!({"fields": {"taxPaid": 1.5}}))),
        (&o2, "rejected", None),
    ] {
        let a = op.post(
            &format!("/v1/objections/{id}/review"),
            &json!({"statement": op.signed_request("review-objection", json!({"objection": id}))}),
        );
        assert_eq!(a.status, 200, "{}", a.text);
        spec.check("POST", "/v1/objections/{id}/review", &a);
        let mut claims = json!({"objection": id, "outcome": outcome, "explanation": "checked"});
        if let Some(c) = correction {
            claims["correction"] = c;
        }
        let a = op.post(
            &format!("/v1/objections/{id}/resolve"),
            &json!({"statement": op.signed_request("resolve-objection", claims)}),
        );
        assert_eq!(a.status, 200, "{}", a.text);
        spec.check("POST", "/v1/objections/{id}/resolve", &a);
        eprintln!("resolved: {}", a.text);
    }
    let a = op.post(&format!("/v1/objections/{o1}/resolve"), &json!({"statement": op.signed_request("resolve-objection", json!({"objection": o1, "outcome": "maybe", "explanation": "x"}))}));
    assert_eq!(a.status, 400, "{}", a.text);
    spec.check("POST", "/v1/objections/{id}/resolve", &a);
    let a = ent.post(
        &format!("/v1/objections/{o1}/review"),
        &json!({"statement": "a.b.c"}),
    );
    spec.check("POST", "/v1/objections/{id}/review", &a);

    // Webhooks views
    for (c, id) in [(&plat, &pid), (&ent, &eid)] {
        let a = c.get("/v1/webhooks");
        assert_eq!(a.status, 200, "{}", a.text);
        spec.check("GET", "/v1/webhooks", &a);
        let a = c.get(&format!("/v1/webhooks/{id}"));
        assert_eq!(a.status, 200, "{}", a.text);
        spec.check("GET", "/v1/webhooks/{id}", &a);
        let a = c.get(&format!("/v1/webhooks/{id}/deliveries"));
        assert_eq!(a.status, 200, "{}", a.text);
        spec.check("GET", "/v1/webhooks/{id}/deliveries", &a);
        eprintln!("deliveries: {}", a.text);
        let a = c.get(&format!("/v1/webhooks/{id}/deliveries?limit=0"));
        assert_eq!(a.status, 400, "{}", a.text);
        spec.check("GET", "/v1/webhooks/{id}/deliveries", &a);
    }
    let a = plat.get(&format!("/v1/webhooks/{eid}"));
    assert_eq!(a.status, 404, "{}", a.text);
    spec.check("GET", "/v1/webhooks/{id}", &a);
    let a = plat.post(
        &format!("/v1/webhooks/{pid}/rotate"),
        &json!({"url": "https://HOOKS.example:443/q", "events": ["objection.updated"]}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/webhooks/{id}/rotate", &a);
    eprintln!("rotated: {}", a.text);
    let a = plat.post(&format!("/v1/webhooks/{pid}/delete"), &json!({}));
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("POST", "/v1/webhooks/{id}/delete", &a);
    let a = plat.post(&format!("/v1/webhooks/{pid}/delete"), &json!({}));
    assert_eq!(a.status, 404, "{}", a.text);
    spec.check("POST", "/v1/webhooks/{id}/delete", &a);

    // The log, once a checkpoint covers all of it (the background task signs one every second).
    let get = |path: &str| get_public(&format!("{}{path}", w.node.url));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let size = get("/v1/node").body["logSize"].as_u64().unwrap();
        let c = get("/v1/log/checkpoint");
        if c.status == 200 && c.text.lines().nth(1) == Some(size.to_string().as_str()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint of size {size} within 20 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let a = get("/v1/log/checkpoint");
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("GET", "/v1/log/checkpoint", &a);
    for (path, template, st) in [
        ("/v1/log/checkpoints", "/v1/log/checkpoints", 200),
        ("/v1/log/checkpoints?after=1&limit=5", "/v1/log/checkpoints", 200),
        ("/v1/log/checkpoints?after=x", "/v1/log/checkpoints", 400),
        ("/v1/log/leaves?from=1&limit=2", "/v1/log/leaves", 200),
        ("/v1/log/leaves?from=18446744073709551615", "/v1/log/leaves", 400),
        ("/v1/log/proof/inclusion?index=1", "/v1/log/proof/inclusion", 200),
        (
            "/v1/log/proof/inclusion?index=1&size=3",
            "/v1/log/proof/inclusion",
            200,
        ),
        (
            "/v1/log/proof/inclusion?index=9999",
            "/v1/log/proof/inclusion",
            400,
        ),
        (
            "/v1/log/proof/consistency?from=2&to=5",
            "/v1/log/proof/consistency",
            200,
        ),
        (
            "/v1/log/proof/consistency?from=5&to=2",
            "/v1/log/proof/consistency",
            400,
        ),
        ("/v1/log/receipts/1", "/v1/log/receipts/{index}", 200),
        ("/v1/log/receipts/99999", "/v1/log/receipts/{index}", 404),
        ("/v1/log/receipts/x", "/v1/log/receipts/{index}", 400),
    ] {
        let a = get(path);
        assert_eq!(a.status, st, "{path}: {}", a.text);
        spec.check("GET", template, &a);
    }
    for (c, path, st) in [
        (&ent, "/v1/log/entries", 200),
        (&plat, "/v1/log/entries?limit=2", 200),
        (&bank, "/v1/log/entries", 200),
        (&op, "/v1/log/entries", 200),
        (&reg, "/v1/log/entries?kind=objection", 200),
        (&op, "/v1/log/entries?kind=nope", 400),
        (&op, "/v1/log/entries?from=yesterday", 400),
        (&op, "/v1/log/export", 200),
        (&reg, "/v1/log/export?to=3", 200),
        (&ent, "/v1/log/export", 403),
    ] {
        let a = c.get(path);
        assert_eq!(a.status, st, "{path}: {}", a.text);
        let template = path.split('?').next().unwrap();
        spec.check("GET", template, &a);
        if path.starts_with("/v1/log/entries?kind=obj") {
            eprintln!("entries: {}", &a.text[..a.text.len().min(3000)]);
        }
        if path == "/v1/log/export" && st == 200 {
            for line in a.text.lines() {
                let v: Value = serde_json::from_str(line).unwrap();
                if let Some(r) = v.get("record").filter(|r| !r.is_null()) {
                    let mut e = Vec::new();
                    validate(
                        &spec,
                        &json!({"$ref": "#/components/schemas/AccessRecord"}),
                        r,
                        "$",
                        &mut e,
                    );
                    assert!(e.is_empty(), "{e:?} {r}");
                }
            }
        }
    }
}

/// What the loan tests start from: a grant of the enterprise naming the bank, one release of its data
/// to the bank under it (what loan reports rely on), and today's date in China Standard Time.
struct LoanStart {
    grant: String,
    release: u64,
    today: String,
}

impl LoanStart {
    fn new(w: &World) -> Self {
        let (grant, a) = w.grant_with(&w.enterprise.clone(), |_| {});
        assert_eq!(a.status, 201, "{}", a.text);
        let a = w.release(json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK}));
        assert_eq!(a.status, 200, "{}", a.text);
        let release = a.body["logIndex"].as_u64().unwrap();
        let today = w
            .node
            .clock_now()
            .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
            .date()
            .to_string();
        Self {
            grant,
            release,
            today,
        }
    }

    /// A report of the enterprise's loan `loan` under the grant, citing the release.
    fn report(&self, id: &str, loan: &str, event: Value) -> Value {
        json!({"reportId": id, "loan": loan, "enterprise": ENTERPRISE, "grant": self.grant,
               "releases": [self.release], "event": event})
    }

    /// The bank signs `report`; its platform relays it to the node.
    fn send(w: &World, report: Value) -> Answer {
        let token = w
            .client(&w.bank)
            .signed_request("loan-report", json!({"report": report}));
        w.client(&w.platform)
            .post("/v1/loan-reports", &json!({"request": token}))
    }
}

/// The loan routes of a node: a bank's reports relayed by its platform (accepted; refused,
/// conflicting and malformed), the loans each role may see, the loan figures in JSON and CSV, and
/// the `loan-report` entries of the access log.
#[test]
fn live_answers_of_loans_match_the_spec() {
    let spec = Spec::load();
    let w = World::new(Backend::Sqlite);
    let (plat, bank) = (w.client(&w.platform), w.client(&w.bank));
    let (ent, reg, op) = (w.client(&w.enterprise), w.client(&w.regulator), w.node.operator());
    let start = LoanStart::new(&w);
    let (release, today) = (start.release, start.today.clone());
    let report = |id: &str, loan: &str, event: Value| start.report(id, loan, event);
    let send = |report: Value| LoanStart::send(&w, report);
    let template = "/v1/loan-reports";
    let approve = json!({"type": "decision", "decision": "approved", "amount": 500_000, "termMonths": 12,
                         "rateBand": "3-4", "security": "credit", "firstLoan": true, "on": today});
    for (r, state) in [
        (report("r-1", "L-1", approve.clone()), "approved"),
        (
            report(
                "r-2",
                "L-1",
                json!({"type": "disbursement", "amount": 300_000, "on": today}),
            ),
            "disbursed",
        ),
        (
            report(
                "r-3",
                "L-1",
                json!({"type": "repayment", "status": "on-time", "amount": 50_000, "on": today}),
            ),
            "disbursed",
        ),
        (
            report(
                "r-4",
                "L-1",
                json!({"type": "repayment", "status": "overdue", "overdueDays": 3, "on": today}),
            ),
            "overdue",
        ),
        (
            report(
                "r-5",
                "L-2",
                json!({"type": "decision", "decision": "declined", "on": today}),
            ),
            "declined",
        ),
    ] {
        let a = send(r);
        assert_eq!(a.status, 201, "{}", a.text);
        spec.check("POST", template, &a);
        assert_eq!(a.body["state"], state, "{}", a.text);
    }
    // Problems: each status the operation declares, with its code.
    let mut not_a_release = report("x-1", "L-3", approve.clone());
    not_a_release["releases"] = json!([release, 0]);
    let mut no_release = report("x-2", "L-3", approve.clone());
    no_release["releases"] = json!([]);
    let mut negative = report("x-3", "L-3", approve.clone());
    negative["event"]["amount"] = json!(-5);
    let mut misspelt = report("x-8", "L-3", approve.clone());
    misspelt["event"]["termMonth"] = json!(12);
    let direct = bank.post(
        template,
        &json!({"request": bank.signed_request("loan-report", json!({"report": report("x-4", "L-3", approve.clone())}))}),
    );
    // Another enterprise, with its own grant and a release of its data to the bank: the bank's
    // reference `L-1` is already the first enterprise's loan.
    let (other, other_grant, other_release) = other_enterprise_release(&w);
    let mut of_another = report("x-7", "L-1", approve.clone());
    of_another["enterprise"] = json!(other);
    of_another["grant"] = json!(other_grant);
    of_another["releases"] = json!([other_release]);
    let of_another = send(of_another);
    assert_eq!(
        of_another.reasons(),
        ["loan-of-another-enterprise"],
        "{}",
        of_another.text
    );
    for (a, status, code) in [
        (send(not_a_release), 403, "report-refused"),
        (
            send(report("x-5", "L-1", approve.clone())),
            409,
            "report-conflict",
        ),
        (
            send(report("r-1", "L-3", approve.clone())),
            409,
            "report-conflict",
        ),
        (send(negative), 400, "invalid-amount"),
        (send(no_release), 400, "invalid-report"),
        (send(misspelt), 400, "invalid-report"),
        (of_another, 409, "report-conflict"),
        (
            send(report("x-6", "L-3", json!({"type": "gift", "on": today}))),
            400,
            "invalid-report",
        ),
        (
            plat.post(
                template,
                &json!({"request": bank.signed_request("object", json!({}))}),
            ),
            400,
            "signed-request",
        ),
        (
            plat.post(template, &json!({"request": "a.b.c", "x": 1})),
            400,
            "invalid-body",
        ),
        (direct, 403, "forbidden"),
    ] {
        assert_eq!(a.status, status, "{code}: {}", a.text);
        assert_eq!(a.problem(), code, "{}", a.text);
        spec.check("POST", template, &a);
        if matches!(code, "report-refused" | "report-conflict") {
            assert!(!a.reasons().is_empty(), "{}", a.text);
        }
    }

    // The loans, as each role may see them.
    let other = "91330106MA2B3C4D11";
    for (c, path, status) in [
        (&reg, "/v1/loans".to_owned(), 200),
        (&op, "/v1/loans?limit=1".into(), 200),
        (&plat, format!("/v1/loans?bank={BANK}"), 200),
        (&bank, "/v1/loans".into(), 200),
        (&ent, format!("/v1/loans?enterprise={ENTERPRISE}&after=0"), 200),
        (&ent, format!("/v1/loans?enterprise={other}"), 403),
        (&bank, format!("/v1/loans?bank={other}"), 403),
        (&reg, "/v1/loans?limit=0".into(), 400),
        (&reg, "/v1/loans?after=x".into(), 400),
        (&reg, "/v1/loans?state=open".into(), 400),
    ] {
        let a = c.get(&path);
        assert_eq!(a.status, status, "{path}: {}", a.text);
        spec.check("GET", "/v1/loans", &a);
    }
    let a = reg.get("/v1/loans");
    let loans = a.body["loans"].as_array().unwrap();
    assert_eq!(loans.len(), 2, "{}", a.text);
    assert_eq!(loans[0]["reports"].as_array().unwrap().len(), 4, "{}", a.text);
    assert!(
        loans[1]["rateBand"].is_null(),
        "a declined application: {}",
        a.text
    );
    assert!(op.get("/v1/loans?limit=1").body["next"].is_i64());

    // The figures.
    for (c, path, status) in [
        (&reg, "/v1/stats/loans", 200),
        (&op, "/v1/stats/loans?groupBy=bank,platform,month,region", 200),
        (&plat, "/v1/stats/loans?groupBy=", 200),
        (&bank, "/v1/stats/loans?groupBy=bank&format=json", 200),
        (&reg, "/v1/stats/loans?groupBy=region&format=csv", 200),
        (&reg, "/v1/stats/loans?groupBy=day", 400),
        (&reg, "/v1/stats/loans?from=2026-13", 400),
        (&reg, "/v1/stats/loans?from=2026-02&until=2026-01", 400),
        (&reg, "/v1/stats/loans?format=xml", 400),
        (&reg, "/v1/stats/loans?region=320100", 400),
        (&ent, "/v1/stats/loans", 403),
    ] {
        let a = c.get(path);
        assert_eq!(a.status, status, "{path}: {}", a.text);
        spec.check("GET", "/v1/stats/loans", &a);
        if path.contains("csv") {
            assert_eq!(
                a.header("content-type").and_then(|t| t.split(';').next()),
                Some("text/csv")
            );
        }
    }
    let a = reg.get("/v1/stats/loans?groupBy=bank");
    assert_eq!(a.body["rows"][0]["approvedAmount"], 500_000, "{}", a.text);
    assert_eq!(a.body["rows"][0]["creditShare"], 1.0, "{}", a.text);

    // The reports in the enterprise's access history.
    let a = ent.get("/v1/log/entries?kind=loan-report");
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("GET", "/v1/log/entries", &a);
    assert_eq!(a.body["entries"].as_array().unwrap().len(), 5, "{}", a.text);
}

/// Registers [`OTHER_ENTERPRISE`], has it grant the platform and the bank TAX-03, and releases its
/// data to the bank: the enterprise, the grant and the release's log index.
fn other_enterprise_release(w: &World) -> (&'static str, String, u64) {
    use consentry::credential::data_integrity::create_proof;
    let key = new_key();
    crate::service::register_enterprise(&w.node, &key, OTHER_ENTERPRISE, "另一企业");
    let c = w.client(&key);
    let slot = c.post("/v1/status/slots", &json!({}));
    assert_eq!(slot.status, 201, "{}", slot.text);
    let mut d = crate::service::draft(
        &key,
        slot.body["statusList"].as_str().unwrap(),
        slot.body["statusIndex"].as_u64().unwrap(),
    );
    d.terms.enterprise.uscc = OTHER_ENTERPRISE.into();
    d.terms.enterprise.name = "另一企业".into();
    let bytes = serde_json::to_string(&create_proof(&d.to_credential(), &key, now()).unwrap()).unwrap();
    let a = c.post_raw("/v1/grants", &bytes, false);
    assert_eq!(a.status, 201, "{}", a.text);
    let grant = d.id.as_str().to_owned();
    let a = w.release(json!({"enterprise": OTHER_ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK}));
    assert_eq!(a.status, 200, "{}", a.text);
    (OTHER_ENTERPRISE, grant, a.body["logIndex"].as_u64().unwrap())
}

/// The node's day (China Standard Time) `back` months before the current month: `YYYY-MM` and its
/// day `d` (as in tests/integration/loans.rs).
fn month_back(w: &World, back: i32) -> (String, impl Fn(u8) -> String) {
    let today = w
        .node
        .clock_now()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date();
    let total = today.year() * 12 + i32::from(u8::from(today.month())) - 1 - back;
    let name = format!("{:04}-{:02}", total.div_euclid(12), total.rem_euclid(12) + 1);
    let n = name.clone();
    (name, move |d: u8| format!("{n}-{d:02}"))
}

/// A new data record of the test enterprise (as an import adds it), dated `day`: its row id.
fn import_record(w: &World, category: &str, day: &str, fields: Value) -> i64 {
    use diesel::prelude::*;
    let catalog = consentry::catalog::Catalog::builtin();
    let provider = catalog.category(category).unwrap().providers[0].clone();
    let line = json!({"uscc": ENTERPRISE, "category": category, "date": day, "provider": provider, "fields": fields});
    let records = consentry::node::data::parse_import(line.to_string().as_bytes(), &catalog, None, 0)
        .unwrap()
        .records;
    let store = &w.node.node.store;
    store
        .run(|c| consentry::storage::data::insert(c, &records))
        .unwrap();
    store
        .run(|c| {
            use consentry::storage::schema::data_records as d;
            Ok(d::table.select(diesel::dsl::max(d::id)).first::<Option<i64>>(c)?)
        })
        .unwrap()
        .unwrap()
}

/// Waits until the node's risk sweep has read record `id`.
fn wait_swept(w: &World, id: i64) {
    let start = std::time::Instant::now();
    while w
        .node
        .node
        .store
        .run(|c| consentry::storage::cursors::get(c, consentry::storage::cursors::Reader::RiskAlerts))
        .unwrap()
        < id
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "the sweep did not reach {id}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Post-loan risk alerts (sent and refused) as each role may list them, the bank's `risk-alert`
/// notice and its `risk.alert` subscription; the monthly bulletin archived by the operator, listed,
/// read as JSON (signed) and CSV, and the answers refusing each.
#[test]
fn live_answers_of_alerts_and_bulletins_match_the_spec() {
    use consentry::grant::model::{CategoryGrant, Granularity};
    let spec = Spec::load();
    let w = World::new(Backend::Sqlite);
    let (plat, bank) = (w.client(&w.platform), w.client(&w.bank));
    let (ent, reg, op) = (w.client(&w.enterprise), w.client(&w.regulator), w.node.operator());
    let start = LoanStart::new(&w);
    let today = start.today.clone();
    let send = |id: &str, loan: &str, event: Value| {
        let a = LoanStart::send(&w, start.report(id, loan, event));
        assert_eq!(a.status, 201, "{id}: {}", a.text);
    };
    let approve = |on: &str| {
        json!({"type": "decision", "decision": "approved", "amount": 300_000, "termMonths": 12,
               "rateBand": "4-5", "security": "credit", "firstLoan": true, "on": on})
    };

    // An open loan, a post-loan grant of social-insurance data to the bank, and two arrears
    // records: the first alerted under the live grant, the second refused once it is revoked.
    send("a-1", "L-1", approve(&today));
    send(
        "a-2",
        "L-1",
        json!({"type": "disbursement", "amount": 300_000, "on": today}),
    );
    let soc = || CategoryGrant {
        code: "SOC-02".into(),
        granularity: Granularity::Derived,
    };
    let (post_loan, a) = w.grant_with(&w.enterprise.clone(), |d| {
        d.terms.onward_recipients[0].categories = vec![soc()];
        d.terms.categories = vec![soc()];
        d.terms.purposes = vec!["post-loan-management".into()];
        d.terms.data_period.until = "2030-12-31".into();
        d.attach_current_letters(&consentry::catalog::Catalog::builtin());
    });
    assert_eq!(a.status, 201, "{}", a.text);
    let arrears = json!({"arrearsBalance": 4321.5, "status": "inArrears"});
    let id = import_record(&w, "SOC-02", &today, arrears.clone());
    wait_swept(&w, id);
    assert_eq!(w.change(&w.enterprise, "revoke", &post_loan).status, 200);
    let id = import_record(&w, "SOC-02", &today, arrears);
    wait_swept(&w, id);

    let template = "/v1/alerts";
    let a = reg.get(template);
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("GET", template, &a);
    let outcomes: Vec<&Value> = a.body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["outcome"])
        .collect();
    assert_eq!(outcomes, [&json!("sent"), &json!("refused")], "{}", a.text);
    assert_eq!(a.body["alerts"][0]["grant"], post_loan.as_str());
    assert!(!a.text.contains("4321"), "no field value: {}", a.text);
    let page = op.get("/v1/alerts?limit=1");
    assert_eq!(page.status, 200, "{}", page.text);
    spec.check("GET", template, &page);
    let next = page.body["next"].as_i64().expect("a full page has a cursor");
    // A pending enterprise (authenticated, not active).
    let pending = w.client(&new_key());
    let token = pending.signed_request("register", json!({"uscc": OTHER_ENTERPRISE, "name": "另一企业"}));
    assert_eq!(pending.post_raw("/v1/registrations", &token, false).status, 202);
    for (c, path, status) in [
        (&bank, "/v1/alerts".to_owned(), 200),
        (&plat, "/v1/alerts?limit=200".into(), 200),
        (&ent, "/v1/alerts".into(), 200),
        (&op, format!("/v1/alerts?after={next}&limit=1"), 200),
        (&reg, "/v1/alerts?limit=0".into(), 400),
        (&reg, "/v1/alerts?limit=201".into(), 400),
        (&reg, "/v1/alerts?after=x".into(), 400),
        (&reg, "/v1/alerts?rule=tax-arrears".into(), 400),
        (&pending, "/v1/alerts".into(), 403),
    ] {
        let a = c.get(&path);
        assert_eq!(a.status, status, "{path}: {}", a.text);
        spec.check("GET", template, &a);
        if status == 400 {
            assert_eq!(a.problem(), "invalid-query", "{path}: {}", a.text);
        }
    }
    // The bank's inbox holds the sent alert (the refused one is not sent).
    let a = bank.get("/v1/notices");
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("GET", "/v1/notices", &a);
    let kinds: Vec<&Value> = a.body["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["kind"])
        .filter(|k| *k == "risk-alert")
        .collect();
    assert_eq!(kinds.len(), 1, "{}", a.text);

    // The bulletin of the month two months back: a loan decided and paid out in it.
    let (month, day) = month_back(&w, 2);
    send("b-1", "L-9", approve(&day(3)));
    send(
        "b-2",
        "L-9",
        json!({"type": "disbursement", "amount": 100_000, "on": day(5)}),
    );
    let admin = "/v1/admin/bulletins";
    let made = op.post(admin, &json!({ "month": month }));
    assert_eq!(made.status, 201, "{}", made.text);
    spec.check("POST", admin, &made);
    let (this_month, _) = month_back(&w, 0);
    for (c, body, status, code) in [
        (&op, json!({ "month": month }), 409, "conflict"),
        (&op, json!({ "month": this_month }), 400, "invalid-month"),
        (&op, json!({"month": "2026-1"}), 400, "invalid-month"),
        (&op, json!({"month": month, "x": 1}), 400, "invalid-body"),
        (&reg, json!({ "month": month }), 403, "forbidden"),
    ] {
        let a = c.post(admin, &body);
        assert_eq!(a.status, status, "{body}: {}", a.text);
        assert_eq!(a.problem(), code, "{}", a.text);
        spec.check("POST", admin, &a);
    }
    for (c, path, status) in [
        (&reg, "/v1/bulletins", 200),
        (&op, "/v1/bulletins", 200),
        (&reg, "/v1/bulletins?month=2026-01", 400),
        (&bank, "/v1/bulletins", 403),
    ] {
        let a = c.get(path);
        assert_eq!(a.status, status, "{path}: {}", a.text);
        spec.check("GET", "/v1/bulletins", &a);
    }
    assert_eq!(
        reg.get("/v1/bulletins").body["bulletins"][0]["month"],
        month.as_str()
    );
    let template = "/v1/bulletins/{month}";
    let got = reg.get(&format!("/v1/bulletins/{month}"));
    assert_eq!(got.status, 200, "{}", got.text);
    spec.check("GET", template, &got);
    let b = &got.body["bulletin"];
    let bytes = consentry::crypto::jcs::canonicalize(b).unwrap();
    assert_eq!(
        got.body["sha256"],
        consentry::crypto::Sha256Digest::of(&bytes).to_hex()
    );
    assert_eq!(got.body["signer"], w.node.did.as_str());
    assert_eq!(b["loans"]["total"]["approvedAmount"], 300_000, "{b}");
    assert_eq!(b["loans"]["total"]["creditShare"], "1.0000", "{b}");
    assert!(b["loans"]["byRegion"][0]["name"].is_string(), "{b}");
    assert!(b["loans"]["byBank"][0].get("name").is_none(), "{b}");
    for (c, path, status) in [
        (&op, format!("/v1/bulletins/{month}?format=json"), 200),
        (&reg, format!("/v1/bulletins/{month}?format=csv"), 200),
        (&reg, format!("/v1/bulletins/{month}?format=xml"), 400),
        (&reg, format!("/v1/bulletins/{month}?x=1"), 400),
        (&reg, "/v1/bulletins/2026-13".into(), 400),
        (&reg, "/v1/bulletins/1999-01".into(), 404),
        (&bank, format!("/v1/bulletins/{month}"), 403),
        (&ent, format!("/v1/bulletins/{month}?format=csv"), 403),
    ] {
        let a = c.get(&path);
        assert_eq!(a.status, status, "{path}: {}", a.text);
        spec.check("GET", template, &a);
        if path.ends_with("csv") && status == 200 {
            assert_eq!(
                a.header("content-type").and_then(|t| t.split(';').next()),
                Some("text/csv")
            );
            assert!(
                a.text.starts_with("section,group,key,name,figure,value\r\n"),
                "{}",
                a.text
            );
            assert!(
                a.text.contains("loans,total,total,,approvedAmount,300000\r\n"),
                "{}",
                a.text
            );
        }
    }
    assert_eq!(reg.get("/v1/bulletins/2026-13").problem(), "invalid-path");
    assert_eq!(
        reg.get(&format!("/v1/bulletins/{month}?format=xml")).problem(),
        "invalid-query"
    );

    // `risk.alert`: platforms and banks subscribe to it, enterprises cannot (registered last, so
    // that nothing is delivered to the example URL).
    let hook = |events: Value| json!({"url": "https://hooks.example.com/consentry", "events": events});
    let a = bank.post("/v1/webhooks", &hook(json!(["risk.alert", "grant.revoked"])));
    assert_eq!(a.status, 201, "{}", a.text);
    spec.check("POST", "/v1/webhooks", &a);
    assert_eq!(a.body["events"], json!(["grant.revoked", "risk.alert"]));
    let a = ent.post("/v1/webhooks", &hook(json!(["risk.alert"])));
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.problem(), "invalid-webhook-events");
    spec.check("POST", "/v1/webhooks", &a);
}

/// A GET by `c` with an `Accept` header.
fn get_accepting(c: &crate::common::server::Client, path: &str, accept: &str) -> Answer {
    let token = consentry::node::auth::make(&c.key, &c.audience, "GET", path, c.clock.now()).unwrap();
    crate::common::server::answer(
        crate::common::server::http()
            .get(&format!("{}{path}", c.base))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Accept", accept)
            .call(),
    )
}

/// The batch push of public information: a bank's subscriptions (made, listed, refused, deleted), a
/// batch pushed for new public records of Jiangsu enterprises (listed, paged, read in full, in the
/// enterprise's history, the bank's `public-batch` notice, the `public.batch` webhook event), and
/// the active enterprises by 设区市 in JSON and CSV.
#[test]
fn live_answers_of_the_public_feed_and_enterprise_counts_match_the_spec() {
    let spec = Spec::load();
    let w = World::new(Backend::Sqlite);
    let (plat, bank) = (w.client(&w.platform), w.client(&w.bank));
    let (ent, reg, op) = (w.client(&w.enterprise), w.client(&w.regulator), w.node.operator());
    let code = |head: &str| consentry::ids::Uscc::complete(head).unwrap().as_str().to_owned();
    // Two Nanjing enterprises (one registered), one of Suzhou, one of Wuxi.
    let (nanjing, nanjing2, suzhou, wuxi) = (
        code("91320102MA000001"),
        code("91320104MA000002"),
        code("91320505MA000003"),
        code("91320211MA000004"),
    );
    let nanjing_key = new_key();
    crate::service::register_enterprise(&w.node, &nanjing_key, &nanjing, "南京示例有限公司");

    // Subscriptions: made, listed; refused for each reason.
    let subs = "/v1/feed/subscriptions";
    let good = json!({"regions": ["320100", "320500"], "categories": ["REG-01"]});
    let sub = bank.post(subs, &good);
    assert_eq!(sub.status, 201, "{}", sub.text);
    spec.check("POST", subs, &sub);
    assert_eq!(sub.body["regions"], json!(["320100", "320500"]));
    let sid = sub.body["id"].as_str().unwrap().to_owned();
    let one = |regions: Value, categories: Value| json!({"regions": regions, "categories": categories});
    for (c, body, status, code) in [
        (
            &bank,
            one(json!(["320100"]), json!(["TAX-03"])),
            400,
            "invalid-subscription",
        ),
        (
            &bank,
            one(json!(["320000"]), json!(["REG-01"])),
            400,
            "invalid-subscription",
        ),
        (
            &bank,
            one(json!(["320102"]), json!(["REG-01"])),
            400,
            "invalid-subscription",
        ),
        (
            &bank,
            one(json!(["330100"]), json!(["REG-01"])),
            400,
            "invalid-subscription",
        ),
        (
            &bank,
            one(json!([]), json!(["REG-01"])),
            400,
            "invalid-subscription",
        ),
        (
            &bank,
            one(json!(["320100", "320100"]), json!(["REG-01"])),
            400,
            "invalid-subscription",
        ),
        (
            &bank,
            one(json!(["320100"]), json!(["NOPE-1"])),
            400,
            "invalid-subscription",
        ),
        (
            &bank,
            one(json!(["320100"]), json!([])),
            400,
            "invalid-subscription",
        ),
        (
            &bank,
            one(json!(["320100"]), json!(["REG-01", "REG-01"])),
            400,
            "invalid-subscription",
        ),
        (
            &bank,
            json!({"regions": ["320100"], "categories": ["REG-01"], "industry": "C"}),
            400,
            "invalid-body",
        ),
        (
            &bank,
            json!({"regions": "320100", "categories": ["REG-01"]}),
            400,
            "invalid-body",
        ),
        (&bank, json!({"regions": ["320100"]}), 400, "invalid-body"),
        (&plat, good.clone(), 403, "forbidden"),
        (&ent, json!({"x": 1}), 403, "forbidden"),
        (&reg, json!({}), 403, "forbidden"),
    ] {
        let a = c.post(subs, &body);
        assert_eq!(a.status, status, "{body}: {}", a.text);
        assert_eq!(a.problem(), code, "{body}: {}", a.text);
        spec.check("POST", subs, &a);
    }
    let a = bank.post_raw(subs, "{\"regions\": [", true);
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.problem(), "malformed-json");
    spec.check("POST", subs, &a);
    for (c, path, status) in [
        (&bank, subs, 200),
        (&bank, "/v1/feed/subscriptions?all=1", 400),
        (&plat, subs, 403),
        (&op, subs, 403),
    ] {
        let a = c.get(path);
        assert_eq!(a.status, status, "{path}: {}", a.text);
        spec.check("GET", subs, &a);
    }
    assert_eq!(bank.get(subs).body["subscriptions"], json!([sub.body]));

    // New records: REG-01 of the Nanjing and Suzhou enterprises (pushed), REG-01 of the Wuxi one
    // (another region) and TAX-03 (not public), not pushed.
    let reg01 = |uscc: &str, date: &str, person: &str| {
        json!({"uscc": uscc, "category": "REG-01", "date": date, "provider": "SAMR",
               "fields": {"name": "示例有限公司", "legalRepresentative": person, "status": "active"}})
    };
    let lines = [
        reg01(&nanjing, "2026-11-02", "王小明"),
        reg01(&nanjing, "2026-11-20", "王小明"),
        json!({"uscc": nanjing, "category": "TAX-03", "date": "2026-10-31", "provider": "STA", "fields": {"taxPaid": 100.0}}),
        reg01(&nanjing2, "2026-11-03", "赵六"),
        reg01(&suzhou, "2026-11-04", "李四"),
        reg01(&wuxi, "2026-11-05", "钱七"),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let catalog = consentry::catalog::Catalog::builtin();
    let records = consentry::node::data::parse_import(lines.as_bytes(), &catalog, None, 0)
        .unwrap()
        .records;
    w.node
        .node
        .store
        .run(|c| consentry::storage::data::insert(c, &records))
        .unwrap();
    // The push (every 2 seconds) makes one batch of the three enterprises, four records.
    let batches = "/v1/feed/batches";
    let start = std::time::Instant::now();
    let list = loop {
        let a = bank.get(batches);
        assert_eq!(a.status, 200, "{}", a.text);
        if !a.body["batches"].as_array().unwrap().is_empty() {
            break a;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "no batch pushed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    spec.check("GET", batches, &list);
    let summary = &list.body["batches"][0];
    assert_eq!(list.body["batches"].as_array().unwrap().len(), 1, "{}", list.text);
    assert_eq!(summary["enterprises"], 3, "{}", list.text);
    assert_eq!(summary["records"], 4, "{}", list.text);
    assert_eq!(
        summary["lastIndex"].as_i64().unwrap() - summary["firstIndex"].as_i64().unwrap(),
        2,
        "one release entry per enterprise: {}",
        list.text
    );
    assert!(list.body["next"].is_null(), "{}", list.text);
    let bid = summary["id"].as_str().unwrap().to_owned();
    let page = bank.get("/v1/feed/batches?limit=1");
    let next = page.body["next"].as_i64().expect("a full page has a cursor");
    for (c, path, status) in [
        (&bank, "/v1/feed/batches?limit=1".to_owned(), 200),
        (&bank, format!("/v1/feed/batches?after={next}&limit=200"), 200),
        (&bank, "/v1/feed/batches?limit=0".into(), 400),
        (&bank, "/v1/feed/batches?limit=201".into(), 400),
        (&bank, "/v1/feed/batches?after=x".into(), 400),
        (&bank, "/v1/feed/batches?region=320100".into(), 400),
        (&plat, "/v1/feed/batches".into(), 403),
        (&reg, "/v1/feed/batches".into(), 403),
    ] {
        let a = c.get(&path);
        assert_eq!(a.status, status, "{path}: {}", a.text);
        spec.check("GET", batches, &a);
        if status == 400 {
            assert_eq!(a.problem(), "invalid-query", "{path}: {}", a.text);
        }
    }
    assert_eq!(
        bank.get(&format!("/v1/feed/batches?after={next}")).body["batches"],
        json!([])
    );

    // The batch in full: per enterprise its region, its entry and its records, persons masked.
    let template = "/v1/feed/batches/{id}";
    let full = bank.get(&format!("/v1/feed/batches/{bid}"));
    assert_eq!(full.status, 200, "{}", full.text);
    spec.check("GET", template, &full);
    let b = &full.body;
    assert_eq!(
        (&b["id"], &b["subscription"], &b["bank"]),
        (&json!(bid), &json!(sid), &json!(BANK))
    );
    for k in ["enterprises", "records", "firstIndex", "lastIndex", "createdAt"] {
        assert_eq!(b[k], summary[k], "{k}");
    }
    let entries = b["entries"].as_array().unwrap();
    let who: Vec<(&str, &str, usize)> = entries
        .iter()
        .map(|e| {
            (
                e["enterprise"].as_str().unwrap(),
                e["region"].as_str().unwrap(),
                e["records"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        who,
        [
            (nanjing.as_str(), "320100", 2),
            (nanjing2.as_str(), "320100", 1),
            (suzhou.as_str(), "320500", 1)
        ],
        "{}",
        full.text
    );
    assert_eq!(entries[0]["records"][1]["date"], "2026-11-20");
    assert_eq!(entries[0]["records"][0]["category"], "REG-01");
    assert_eq!(entries[0]["records"][0]["provider"], "SAMR");
    assert!(
        !full.text.contains("王小明") && full.text.contains("王某"),
        "{}",
        full.text
    );
    assert!(
        !full.text.contains("taxPaid") && !full.text.contains(&wuxi),
        "{}",
        full.text
    );
    for (c, path, status) in [
        (
            &bank,
            "/v1/feed/batches/urn:uuid:00000000-0000-4000-8000-000000000000".to_owned(),
            404,
        ),
        (&bank, format!("/v1/feed/batches/{sid}"), 404),
        (&plat, format!("/v1/feed/batches/{bid}"), 403),
        (&op, format!("/v1/feed/batches/{bid}"), 403),
    ] {
        let a = c.get(&path);
        assert_eq!(a.status, status, "{path}: {}", a.text);
        spec.check("GET", template, &a);
    }
    // The registered enterprise sees the release to the bank in its history; its `dataSha256` is
    // the digest of its records in the batch.
    let h = w.client(&nanjing_key).get("/v1/log/entries?kind=release");
    assert_eq!(h.status, 200, "{}", h.text);
    spec.check("GET", "/v1/log/entries", &h);
    let mine = h.body["entries"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "{}", h.text);
    assert_eq!(mine[0]["index"], entries[0]["logIndex"]);
    let record = &mine[0]["record"];
    assert_eq!(
        (&record["bank"], &record["detail"]["batch"]),
        (&json!(BANK), &json!(bid))
    );
    let digest = consentry::crypto::Sha256Digest::of(
        &consentry::crypto::jcs::canonicalize(&entries[0]["records"]).unwrap(),
    );
    assert_eq!(record["dataSha256"], digest.to_hex(), "{}", h.text);

    // The bank's notice of the batch.
    let a = bank.get("/v1/notices");
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("GET", "/v1/notices", &a);
    let notice = a.body["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "public-batch")
        .unwrap_or_else(|| panic!("no public-batch notice: {}", a.text))
        .clone();
    assert_eq!(
        notice["body"],
        json!({"batch": bid, "subscription": sid, "enterprises": 3, "records": 4,
               "firstIndex": summary["firstIndex"], "lastIndex": summary["lastIndex"]})
    );

    // At most 20 live subscriptions; deleting one (no body, or `{}`), once.
    for i in 0..19 {
        let a = bank.post(subs, &one(json!(["321300"]), json!(["REG-01"])));
        assert_eq!(a.status, 201, "{i}: {}", a.text);
    }
    let a = bank.post(subs, &one(json!(["321300"]), json!(["REG-01"])));
    assert_eq!(a.status, 409, "{}", a.text);
    assert_eq!(a.problem(), "conflict");
    spec.check("POST", subs, &a);
    let listed = bank.get(subs);
    spec.check("GET", subs, &listed);
    assert_eq!(listed.body["subscriptions"].as_array().unwrap().len(), 20);
    let delete = "/v1/feed/subscriptions/{id}/delete";
    let path = format!("/v1/feed/subscriptions/{sid}/delete");
    for (a, status, code) in [
        (bank.post(&path, &json!({"x": 1})), 400, "invalid-body"),
        (bank.post_raw(&path, "[", true), 400, "malformed-json"),
        (plat.post_raw(&path, "", true), 403, "forbidden"),
        (bank.post_raw(&path, "", true), 200, ""),
        (bank.post(&path, &json!({})), 404, "not-found"),
        (
            bank.post_raw(
                "/v1/feed/subscriptions/urn:uuid:00000000-0000-4000-8000-000000000000/delete",
                "",
                true,
            ),
            404,
            "not-found",
        ),
    ] {
        assert_eq!(a.status, status, "{code}: {}", a.text);
        assert_eq!(a.problem(), code, "{}", a.text);
        spec.check("POST", delete, &a);
        if status == 200 {
            assert_eq!(a.body, json!({"id": sid, "deleted": true}));
        }
    }
    assert_eq!(bank.get(subs).body["subscriptions"].as_array().unwrap().len(), 19);
    assert_eq!(
        bank.get(&format!("/v1/feed/batches/{bid}")).status,
        200,
        "a deleted subscription's batches stay"
    );

    // Active enterprises by 设区市, JSON and CSV.
    let stats = "/v1/stats/enterprises";
    let a = reg.get(stats);
    assert_eq!(a.status, 200, "{}", a.text);
    spec.check("GET", stats, &a);
    let rows = a.body["rows"].as_array().unwrap();
    let sum: i64 = rows.iter().map(|r| r["enterprises"].as_i64().unwrap()).sum();
    assert_eq!(a.body["total"], sum, "{}", a.text);
    assert!(
        rows.iter()
            .any(|r| r["region"] == "320100" && r["regionName"] == "南京市" && r["enterprises"] == 1),
        "{}",
        a.text
    );
    assert!(
        rows.iter()
            .any(|r| r["region"] == "000000" && r["regionName"] == "省外或未知"),
        "the Zhejiang enterprise: {}",
        a.text
    );
    let want_csv: String = std::iter::once("region,regionName,enterprises\r\n".to_owned())
        .chain(rows.iter().map(|r| {
            format!(
                "{},{},{}\r\n",
                r["region"].as_str().unwrap(),
                r["regionName"].as_str().unwrap(),
                r["enterprises"]
            )
        }))
        .collect();
    for (a, status) in [
        (op.get("/v1/stats/enterprises?format=json"), 200),
        (op.get("/v1/stats/enterprises?format=csv"), 200),
        (get_accepting(&reg, stats, "text/csv"), 200),
        (
            get_accepting(&reg, stats, "text/csv;q=0.5, application/json"),
            200,
        ),
        (reg.get("/v1/stats/enterprises?format=xml"), 400),
        (reg.get("/v1/stats/enterprises?groupBy=sector"), 400),
        (reg.get("/v1/stats/enterprises?groupBy=region,region"), 400),
        (bank.get(stats), 403),
        (plat.get(stats), 403),
        (ent.get("/v1/stats/enterprises?format=csv"), 403),
    ] {
        assert_eq!(a.status, status, "{}", a.text);
        spec.check("GET", stats, &a);
        let media = a.header("content-type").and_then(|t| t.split(';').next());
        if media == Some("text/csv") {
            assert_eq!(a.text, want_csv);
        } else if status == 200 {
            assert_eq!(a.body, reg.get(stats).body);
        }
    }
    // By industry and region (the test node's made-up industry table): the live answer and its
    // CSV match the spec, and the rows add up to the same total.
    for group in ["region,industry", "industry", ""] {
        let a = reg.get(&format!("/v1/stats/enterprises?groupBy={group}"));
        assert_eq!(a.status, 200, "{}", a.text);
        spec.check("GET", stats, &a);
        assert_eq!(a.body["total"], sum, "{}", a.text);
        let c = reg.get(&format!("/v1/stats/enterprises?groupBy={group}&format=csv"));
        assert_eq!(c.status, 200, "{}", c.text);
        spec.check("GET", stats, &c);
    }
    assert_eq!(
        op.get("/v1/stats/enterprises?format=csv").header("content-type"),
        Some("text/csv; charset=utf-8; header=present")
    );
    assert_eq!(get_accepting(&reg, stats, "text/csv").text, want_csv);
    assert_eq!(
        reg.get("/v1/stats/enterprises?format=xml").problem(),
        "invalid-stats-query"
    );
    assert_eq!(reg.get("/v1/stats/enterprises?x=1").problem(), "invalid-query");

    // `public.batch`: banks subscribe to it, platforms cannot (registered last, so that nothing
    // is delivered to the example URL).
    let hook = |events: Value| json!({"url": "https://hooks.example.com/consentry", "events": events});
    let a = bank.post("/v1/webhooks", &hook(json!(["public.batch"])));
    assert_eq!(a.status, 201, "{}", a.text);
    spec.check("POST", "/v1/webhooks", &a);
    assert_eq!(a.body["events"], json!(["public.batch"]));
    let a = plat.post("/v1/webhooks", &hook(json!(["public.batch"])));
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.problem(), "invalid-webhook-events");
    spec.check("POST", "/v1/webhooks", &a);
}

/// The answer types against their schemas (`consentry::node::answers`).
mod answers;

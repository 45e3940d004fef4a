//! `GET /metrics` and the JSON logs (spec/ops/README.md): the metrics of a node that released and
//! refused, scraped and parsed with the Prometheus project's Python parser (`prometheus_client`),
//! counted exactly; access by token (`401` without it), default deny (`404`) and the separate
//! listener; every metric the sample dashboard and the alert rules name is exposed; and a node's JSON
//! log through a story carries the request id on the release lines and no USCC, assertion, token or
//! key material.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use consentry::credential::data_integrity::create_proof;
use consentry::identity::KeyFile;
use serde_json::{Value, json};

use crate::common::free_port;
use crate::common::server::{Answer, Backend, Client, TEST_METRICS_TOKEN, answer, http, new_key};
use crate::service::{BANK, ENTERPRISE, PLATFORM, World, draft, now};

/// Whether `python3` runs here. CI has it (scripts/test); a developer machine without it skips the
/// parsing tests with a message rather than failing.
fn have_python() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        crate::common::interop::python_deps();
    } else {
        eprintln!("SKIPPED: python3 is absent; /metrics is not parsed with prometheus_client");
    }
    ok
}

/// The families of a scrape as `prometheus_client.parser.text_string_to_metric_families` reads
/// them: name → `{type, samples: [{name, labels, value}]}`. A scrape it cannot parse fails.
fn parse(text: &str) -> BTreeMap<String, Value> {
    const SCRIPT: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(sys.stdin.read()):
    out[f.name] = {"type": f.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client could not parse /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The value of the sample `name` whose labels include `labels` (0 when there is none).
fn value(families: &BTreeMap<String, Value>, name: &str, labels: &[(&str, &str)]) -> f64 {
    families
        .values()
        .flat_map(|f| f["samples"].as_array().unwrap())
        .filter(|s| s["name"] == name)
        .filter(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .map(|s| s["value"].as_f64().unwrap())
        .sum()
}

/// Every metric name a scrape exposes: each family, its samples, and the sample names its type
/// gives (so a family with no sample yet still counts, by its `HELP`/`TYPE` lines).
fn exposed(families: &BTreeMap<String, Value>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (name, f) in families {
        names.insert(name.clone());
        let suffixes: &[&str] = match f["type"].as_str().unwrap() {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_count", "_sum"],
            _ => &[],
        };
        names.extend(suffixes.iter().map(|s| format!("{name}{s}")));
        for s in f["samples"].as_array().unwrap() {
            names.insert(s["name"].as_str().unwrap().to_owned());
        }
    }
    names
}

/// Every `consentry_…` identifier in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("consentry_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    out
}

fn scrape(base: &str, token: Option<&str>) -> Answer {
    let mut r = http().get(&format!("{base}/metrics"));
    if let Some(t) = token {
        r = r.set("Authorization", &format!("Bearer {t}"));
    }
    answer(r.call())
}

fn tax_release(grant: &str) -> Value {
    json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK})
}

/// `POST /v1/releases` by `c` with an `X-Request-Id` header.
fn release_with_header(c: &Client, body: &Value, request_id: &str) -> Answer {
    let token =
        consentry::node::auth::make(&c.key, &c.audience, "POST", "/v1/releases", c.clock.now()).unwrap();
    answer(
        http()
            .post(&format!("{}/v1/releases", c.base))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/json")
            .set("X-Request-Id", request_id)
            .send_string(&body.to_string()),
    )
}

#[test]
fn metrics_count_releases_and_refusals_and_need_the_token() {
    let w = World::new(Backend::Sqlite);
    let grant = w.grant();
    // Two plain releases, one naming its request id, one carrying it in X-Request-Id.
    for _ in 0..2 {
        let r = w.release(tax_release(&grant));
        assert_eq!(r.status, 200, "{}", r.text);
        let id = r.body["requestId"].as_str().unwrap();
        assert_eq!(
            r.header("x-request-id"),
            Some(id),
            "the header is the release's id"
        );
    }
    let mut named = tax_release(&grant);
    named["requestId"] = json!("metrics-test-named-0001");
    let r = w.release(named);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["requestId"], "metrics-test-named-0001");
    assert_eq!(r.header("x-request-id"), Some("metrics-test-named-0001"));
    let platform = w.client(&w.platform);
    let r = release_with_header(&platform, &tax_release(&grant), "metrics-test-header-0002");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["requestId"], "metrics-test-header-0002",
        "the header's id becomes the release's"
    );
    assert_eq!(r.header("x-request-id"), Some("metrics-test-header-0002"));
    let allowed = 4.0;
    // Three refusals for a grant the node does not hold; one names its id in the body.
    let unknown = "urn:uuid:00000000-0000-4000-8000-00000000dead";
    for i in 0..3 {
        let mut body = tax_release(unknown);
        if i == 0 {
            body["requestId"] = json!("metrics-test-refused-0003");
        }
        let r = w.release(body);
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(r.reasons(), ["unknown-grant"], "{}", r.text);
        if i == 0 {
            assert_eq!(r.header("x-request-id"), Some("metrics-test-refused-0003"));
        }
    }
    let refused = 3.0;
    // Another route's answer, and a request no route serves.
    let r = w.client(&w.enterprise).get("/v1/participants/me");
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.header("x-request-id")
            .is_some_and(|v| v.starts_with("urn:uuid:"))
    );
    assert_eq!(scrape(&w.node.url, None).status, 401);
    assert_eq!(
        answer(http().get(&format!("{}/no/such/{ENTERPRISE}", w.node.url)).call()).status,
        404
    );

    // Without the token, or with another: 401 problems.
    for token in [None, Some("test-metrics-token-0123456788"), Some("")] {
        let a = scrape(&w.node.url, token);
        assert_eq!(a.status, 401, "{token:?}: {}", a.text);
        assert_eq!(a.problem(), "unauthenticated");
    }
    let a = scrape(&w.node.url, Some(TEST_METRICS_TOKEN));
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        a.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        a.header("content-type")
    );
    for uscc in [ENTERPRISE, BANK, PLATFORM] {
        assert!(!a.text.contains(uscc), "a USCC in /metrics:\n{}", a.text);
    }
    // A platform serves its own metrics the same way.
    let p = crate::common::server::TestPlatform::start(&w.node.url, crate::service::OTHER_PLATFORM);
    assert_eq!(scrape(&p.url, None).status, 401);
    let pa = scrape(&p.url, Some(TEST_METRICS_TOKEN));
    assert_eq!(pa.status, 200, "{}", pa.text);
    assert!(
        pa.text.lines().any(|l| l.starts_with("consentry_log_entries ")),
        "{}",
        pa.text
    );
    assert!(
        pa.text.contains("route=\"/metrics\",status=\"401\""),
        "the platform counts its requests:\n{}",
        pa.text
    );
    if !have_python() {
        return;
    }
    let m = parse(&a.text);
    let d = "consentry_release_decisions_total";
    assert_eq!(value(&m, d, &[("decision", "allowed")]), allowed);
    assert_eq!(value(&m, d, &[("decision", "refused")]), refused);
    assert_eq!(
        value(
            &m,
            "consentry_release_refusal_reasons_total",
            &[("reason", "unknown-grant")]
        ),
        refused
    );
    assert_eq!(
        value(&m, "consentry_release_refusal_reasons_total", &[]),
        refused,
        "no other reason"
    );
    let reqs = "consentry_http_requests_total";
    let rel = [("method", "POST"), ("route", "/v1/releases")];
    assert_eq!(value(&m, reqs, &[rel[0], rel[1], ("status", "200")]), allowed);
    assert_eq!(value(&m, reqs, &[rel[0], rel[1], ("status", "403")]), refused);
    assert_eq!(
        value(&m, reqs, &[("route", "/v1/participants/me"), ("status", "200")]),
        1.0
    );
    assert_eq!(value(&m, reqs, &[("route", "unmatched"), ("status", "404")]), 1.0);
    assert_eq!(
        value(&m, reqs, &[("route", "/metrics"), ("status", "401")]),
        4.0,
        "the scrapes refused so far"
    );
    // The latency histogram counts the same requests, in buckets.
    let lat = "consentry_http_request_duration_seconds_count";
    assert_eq!(value(&m, lat, &[rel[1], ("status", "200")]), allowed);
    assert!(
        value(
            &m,
            "consentry_http_request_duration_seconds_bucket",
            &[rel[1], ("le", "+Inf")]
        ) >= allowed + refused
    );
    // Every release and refusal went through a group commit; the log holds them all.
    assert!(value(&m, "consentry_log_batch_jobs_count", &[]) >= 1.0);
    assert!(value(&m, "consentry_log_batch_jobs_sum", &[]) >= allowed + refused);
    assert_eq!(value(&m, "consentry_log_entries", &[]), w.log_size() as f64);
    assert!(value(&m, "consentry_checkpoint_entries", &[]) <= w.log_size() as f64);
    assert_eq!(value(&m, "consentry_database_up", &[]), 1.0);
    assert!(value(&m, "consentry_db_pool_max_connections", &[]) >= 2.0);
    assert_eq!(value(&m, "consentry_webhook_outbox_depth", &[]), 0.0);
    for risk in ["overdue", "due-24h", "unknown"] {
        assert_eq!(
            value(&m, "consentry_objection_deadlines_at_risk", &[("risk", risk)]),
            0.0
        );
        assert!(
            m["consentry_objection_deadlines_at_risk"]["samples"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["labels"]["risk"] == risk)
        );
    }
    assert_eq!(m["consentry_http_request_duration_seconds"]["type"], "histogram");
    assert_eq!(m["consentry_release_decisions"]["type"], "counter");
    assert_eq!(m["consentry_checkpoint_age_seconds"]["type"], "gauge");
}

/// A `consentry serve` process with a data folder of its own, its stderr in a file.
struct Served {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
    stderr: std::path::PathBuf,
}

impl Served {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listen = format!("127.0.0.1:{}", free_port());
        let stderr = dir.path().join("stderr.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_consentry"));
        cmd.env_clear()
            .envs(env.iter().copied())
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--listen", &listen, "--checkpoint-interval-secs", "1"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let mut s = Self {
            child: cmd.spawn().unwrap(),
            base: format!("http://{listen}"),
            dir,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !answer_ok(&format!("{}/readyz", s.base)) {
            if let Ok(Some(st)) = s.child.try_wait() {
                panic!("the node exited ({st}):\n{}", s.log());
            }
            assert!(Instant::now() < deadline, "the node did not start:\n{}", s.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn key(&self) -> KeyFile {
        KeyFile::read(&self.dir.path().join("node.key.json")).unwrap()
    }

    fn client(&self, key: &KeyFile) -> Client {
        Client {
            base: self.base.clone(),
            audience: self.key().did.as_str().to_owned(),
            key: key.clone(),
            clock: Arc::new(consentry::clock::SystemClock),
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop();
    }
}

fn answer_ok(url: &str) -> bool {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build()
        .get(url)
        .call()
        .is_ok_and(|r| r.status() == 200)
}

#[test]
fn dashboard_and_alerts_name_only_exposed_metrics_and_metrics_are_denied_by_default() {
    let metrics = format!("127.0.0.1:{}", free_port());
    let s = Served::start(&["--metrics-listen", &metrics], &[]);
    // No token: the main listener does not serve /metrics at all; the separate listener does, and
    // nothing else.
    let a = scrape(&s.base, None);
    assert_eq!(a.status, 404, "{}", a.text);
    assert_eq!(a.problem(), "not-found");
    assert_eq!(scrape(&s.base, Some(TEST_METRICS_TOKEN)).status, 404);
    let dedicated = format!("http://{metrics}");
    assert_eq!(
        answer(http().get(&format!("{dedicated}/v1/node")).call()).status,
        404,
        "the metrics listener serves /metrics only"
    );
    let a = scrape(&dedicated, None);
    assert_eq!(a.status, 200, "{}", a.text);
    if !have_python() {
        return;
    }
    let names = exposed(&parse(&a.text));

    let dashboard = std::fs::read_to_string(crate::openapi::spec_path("ops/grafana-dashboard.json")).unwrap();
    let doc: Value = serde_json::from_str(&dashboard).unwrap();
    let mut exprs = Vec::new();
    for p in doc["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().unwrap() {
            exprs.push(t["expr"].as_str().unwrap().to_owned());
        }
    }
    assert!(exprs.len() >= 12, "{} queries", exprs.len());
    let in_dashboard = metric_names(&dashboard);
    assert!(in_dashboard.len() >= 15, "{in_dashboard:?}");
    for e in &exprs {
        assert!(!metric_names(e).is_empty(), "a query naming no metric: {e}");
    }

    let alerts_text = std::fs::read_to_string(crate::openapi::spec_path("ops/alerts.yml")).unwrap();
    let alerts: serde_yaml::Value = serde_yaml::from_str(&alerts_text).unwrap();
    let rules: Vec<&serde_yaml::Value> = alerts["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_sequence().unwrap())
        .collect();
    let alert_names: BTreeSet<&str> = rules.iter().map(|r| r["alert"].as_str().unwrap()).collect();
    for wanted in [
        "ConsentryCheckpointStale",
        "ConsentryWitnessLagging",
        "ConsentryWebhookOutboxStuck",
        "ConsentryObjectionDeadlineAtRisk",
    ] {
        assert!(alert_names.contains(wanted), "alerts.yml lacks {wanted}");
    }
    for r in &rules {
        let expr = r["expr"].as_str().unwrap();
        assert!(
            !metric_names(expr).is_empty(),
            "an alert naming no metric: {expr}"
        );
    }
    let in_alerts = metric_names(&alerts_text);

    let unknown: Vec<&String> = in_dashboard
        .iter()
        .chain(&in_alerts)
        .filter(|n| !names.contains(*n))
        .collect();
    assert!(
        unknown.is_empty(),
        "metrics named by spec/ops but not exposed by the node: {unknown:?}\nexposed: {names:?}"
    );
    // And the README documents every metric the node exposes.
    let readme = std::fs::read_to_string(crate::openapi::spec_path("ops/README.md")).unwrap();
    let parsed = parse(&a.text);
    for (family, f) in &parsed {
        let shown = if f["type"] == "counter" {
            format!("`{family}_total`")
        } else {
            format!("`{family}`")
        };
        assert!(
            readme.contains(&shown),
            "spec/ops/README.md does not describe {shown}"
        );
    }
}

/// The lines of a JSON log, each parsed (a line that is not JSON fails).
fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

/// The lines logged while the request with `id` was served.
fn lines_of<'a>(lines: &'a [Value], id: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["span"]["request_id"] == id).collect()
}

#[test]
fn json_logs_carry_the_request_id_and_no_secrets_or_personal_data() {
    let token = "log-test-metrics-token-9f8e7d6c5b4a";
    let mut s = Served::start(
        &["--log-format", "json"],
        &[("CONSENTRY_LOG", "debug"), ("CONSENTRY_METRICS_TOKEN", token)],
    );
    let op = s.client(&s.key());
    let (platform, bank, enterprise) = (new_key(), new_key(), new_key());
    // Registration: the platform admitted, its bank, the enterprise registered and approved.
    let r = op.post(
        "/v1/admin/platforms",
        &json!({"uscc": PLATFORM, "name": "示例融资信用服务平台", "did": platform.did.as_str(), "endpoint": "http://platform.example"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.client(&platform).post(
        "/v1/banks",
        &json!({"uscc": BANK, "name": "示例银行", "did": bank.did.as_str()}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let ent = s.client(&enterprise);
    let reg = ent.signed_request(
        "register",
        json!({"uscc": ENTERPRISE, "name": "杭州示例科技有限公司"}),
    );
    assert_eq!(ent.post_raw("/v1/registrations", &reg, false).status, 202);
    let r = op.post(
        &format!("/v1/admin/registrations/{ENTERPRISE}/approve"),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // A grant.
    let slot = ent.post("/v1/status/slots", &json!({}));
    assert_eq!(slot.status, 201, "{}", slot.text);
    let d = draft(
        &enterprise,
        slot.body["statusList"].as_str().unwrap(),
        slot.body["statusIndex"].as_u64().unwrap(),
    );
    let vc = serde_json::to_string(&create_proof(&d.to_credential(), &enterprise, now()).unwrap()).unwrap();
    let r = ent.post_raw("/v1/grants", &vc, false);
    assert_eq!(r.status, 201, "{}", r.text);
    let grant = d.id.as_str().to_owned();
    // A release naming its request id, and a refusal whose id comes in X-Request-Id.
    let mut body = tax_release(&grant);
    body["requestId"] = json!("log-test-release-0001");
    let r = s.client(&platform).post("/v1/releases", &body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("x-request-id"), Some("log-test-release-0001"));
    let index = r.body["logIndex"].as_u64().unwrap();
    let r = release_with_header(
        &s.client(&platform),
        &tax_release("urn:uuid:00000000-0000-4000-8000-00000000beef"),
        "log-test-refusal-0002",
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.header("x-request-id"), Some("log-test-refusal-0002"));
    // An objection to that release.
    let filing = ent.signed_request(
        "object",
        json!({
            "enterprise": ENTERPRISE,
            "target": {"type": "access", "logIndex": index},
            "reason": "我未授权此次查询 I did not authorize this",
            "attachments": [],
        }),
    );
    let r = ent.post("/v1/objections", &json!({"filing": filing}));
    assert_eq!(r.status, 201, "{}", r.text);
    // The metrics token opens /metrics; without it, 401.
    assert_eq!(scrape(&s.base, None).status, 401);
    assert_eq!(scrape(&s.base, Some(token)).status, 200);
    std::thread::sleep(Duration::from_millis(300));
    s.stop();

    let log = s.log();
    let lines = json_lines(&log);
    assert!(lines.len() > 10, "too few log lines:\n{log}");
    for l in &lines {
        assert!(l["level"].is_string() && l["fields"].is_object(), "{l}");
    }
    let release = lines_of(&lines, "log-test-release-0001");
    assert!(
        release
            .iter()
            .any(|l| l["fields"]["message"] == "release allowed" && l["fields"]["log_index"] == index),
        "no release line with its request id:\n{log}"
    );
    assert!(
        release
            .iter()
            .any(|l| l["fields"]["message"] == "answered" && l["fields"]["status"] == 200)
    );
    let refusal = lines_of(&lines, "log-test-refusal-0002");
    assert!(
        refusal.iter().any(|l| l["fields"]["message"] == "release refused"
            && l["fields"]["reasons"] == "unknown-grant"),
        "no refusal line with its request id:\n{log}"
    );
    // Every request had its own span: the objection's lines carry an id too.
    assert!(
        lines
            .iter()
            .filter(|l| l["fields"]["message"] == "answered")
            .all(|l| l["span"]["request_id"].as_str().is_some_and(|id| !id.is_empty())),
        "an answered request without a request id:\n{log}"
    );

    // No personal data, no secrets.
    let node_key: Value =
        serde_json::from_str(&std::fs::read_to_string(s.dir.path().join("node.key.json")).unwrap()).unwrap();
    let secret = node_key["secretKeyMultibase"].as_str().unwrap().to_owned();
    assert!(secret.len() > 20);
    let forbidden: Vec<(&str, String)> = vec![
        ("the enterprise's USCC", ENTERPRISE.to_owned()),
        ("the bank's USCC", BANK.to_owned()),
        ("the platform's USCC", PLATFORM.to_owned()),
        ("the metrics token", token.to_owned()),
        (
            "a JWT or JWS (assertion, signed request, filing)",
            "eyJ".to_owned(),
        ),
        ("the grant credential", "DataIntegrityProof".to_owned()),
        ("the node's secret key", secret),
        ("a secret key field", "secretKeyMultibase".to_owned()),
        ("an Authorization header", "Bearer".to_owned()),
    ];
    for (what, needle) in &forbidden {
        let hit = log.lines().find(|l| l.contains(needle.as_str()));
        assert!(hit.is_none(), "{what} in the log: {}", hit.unwrap_or_default());
    }
    assert_json_log_only(&s.dir.path().join("stderr.log"));
}

/// The log file holds JSON lines only (nothing printed around them).
fn assert_json_log_only(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .all(|l| l.starts_with('{')),
        "{text}"
    );
}

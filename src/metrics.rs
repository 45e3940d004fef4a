//! The process's metrics (spec/ops/README.md): every metric defined here, once, with its name, type,
//! labels and help text; `GET /metrics` renders them in the Prometheus text format (version 0.0.4).
//!
//! **Crate.** `prometheus-client`, the Prometheus project's own Rust client: a registry of typed
//! metrics encoded by the library itself (no exporter thread, no HTTP server of its own — the
//! actix handler renders the text), few dependencies (`dtoa`, `itoa`, `parking_lot`), and counters
//! that are plain atomics behind an `Arc`, so a label set can be resolved once and its handle kept
//! ([`Metrics::release_allowed`] on the release path costs one atomic add). `metrics` with
//! `metrics-exporter-prometheus` was the alternative; it routes every update through a global
//! recorder and a key lookup, and brings a larger tree of dependencies.
//!
//! **Cost on the request path.** Per request: one counter add and one histogram observation by
//! (method, route, status), found in a map keyed by the route's template (which actix gives as a
//! `String`; no other allocation). Per release decision: one atomic add on a pre-resolved handle
//! (a refusal also adds one per reason, in a map). Per group commit: two histogram observations.
//! Nothing here touches the database: the gauges that need it (outbox, objections, checkpoint age,
//! log size) are read at scrape time (`crate::node::metrics`).
//!
//! **Access.** `/metrics` is served only when the operator asks for it (`metrics-token`, or a
//! separate `metrics-listen` address); otherwise it answers `404` (spec/ops/README.md §2).
//!
//! Guarantee: no label value is personal data or a secret — routes are templates
//! (`/v1/grants/{id}`, never the id), refusal reasons are the policy's codes, witnesses are named by
//! their configured URL.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of `GET /metrics`: the Prometheus text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Labels of the HTTP metrics: the method, the route's template (never the path itself: paths carry
/// USCCs and grant ids) and the status code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// `GET`, `POST`, … (`other` for an unusual method).
    pub method: &'static str,
    /// The route's template as served (`/v1/grants/{id}`), or `unmatched`.
    pub route: String,
    /// The status code of the answer.
    pub status: u16,
}

/// The label of a count by decision.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabel {
    decision: &'static str,
}

/// The label of a count by refusal reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

/// The label naming a witness.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WitnessLabel {
    witness: String,
}

/// The label of an objection deadline's risk.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RiskLabel {
    risk: &'static str,
}

/// A float gauge.
type FGauge = Gauge<f64, AtomicU64>;

/// A family whose `HELP` and `TYPE` lines are written even before its first series: a scrape names
/// every metric of the process, so dashboards and alerts can be checked against it
/// (spec/ops/README.md §4), and a rule over a series not yet seen is not mistaken for a typo.
#[derive(Debug)]
struct Declared<M>(M);

impl<M: prometheus_client::encoding::EncodeMetric> prometheus_client::encoding::EncodeMetric for Declared<M> {
    fn encode(&self, encoder: prometheus_client::encoding::MetricEncoder) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }

    fn metric_type(&self) -> prometheus_client::metrics::MetricType {
        self.0.metric_type()
    }
}

/// Buckets (seconds) of the request latency: 0.5 ms to about 16 s.
fn latency_buckets() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0005, 2.0, 16,
    ))
}

/// Registers `m` in `r` as `name` with `help` (its `HELP` and `TYPE` lines written even before its
/// first series, [`Declared`]) and returns it: the registry and the caller share the one metric.
fn reg<M>(r: &mut Registry, name: &str, help: &str, m: M) -> M
where
    M: prometheus_client::encoding::EncodeMetric + Clone + Send + Sync + std::fmt::Debug + 'static,
{
    r.register(name, help, Declared(m.clone()));
    m
}

/// What a witness has done, as the checkpoint rounds saw it.
#[derive(Debug, Clone, Copy, Default)]
struct WitnessProgress {
    /// The largest checkpoint size it is known to have cosigned.
    cosigned_size: u64,
    /// Since when the newest checkpoint has lacked its cosignature (`None`: it has it).
    waiting_since: Option<Instant>,
}

/// The gauges read at scrape time (`crate::node::metrics`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Entries in the access log (the database's count; when it does not answer, as this process
    /// last committed).
    pub log_size: u64,
    /// Seconds since this process's last successful checkpoint round.
    pub checkpoint_round_age: f64,
    /// Database pool: connections open, of which idle, and the most it opens.
    pub pool: (u32, u32, u32),
    /// What the database said; `None`: it did not answer (the gauges keep their last values and
    /// `consentry_database_up` is 0).
    pub db: Option<DbGauges>,
}

/// The gauges read from the database at scrape time, by cheap indexed queries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DbGauges {
    /// Entries covered by the newest checkpoint, and its age in seconds (none: no checkpoint yet).
    pub checkpoint: Option<(u64, f64)>,
    /// Webhook deliveries waiting in the outbox.
    pub outbox_depth: u64,
    /// Age in seconds of the oldest waiting delivery (0: none waits).
    pub outbox_oldest_age: f64,
    /// Objections whose forwarding deadline has passed without forwarding.
    pub objections_overdue: u64,
    /// Objections not forwarded whose deadline falls within the next 24 hours.
    pub objections_due_soon: u64,
    /// Objections not forwarded whose deadline the calendar cannot compute yet.
    pub objections_unknown_deadline: u64,
}

/// Every metric of the process, registered once (see the module documentation).
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<HttpLabels, Histogram>,
    /// `consentry_release_decisions_total{decision="allowed"}`, resolved once.
    release_allowed: Counter,
    /// `consentry_release_decisions_total{decision="refused"}`, resolved once.
    release_refused: Counter,
    refusal_reasons: Family<ReasonLabel, Counter>,
    batch_size: Histogram,
    batch_duration: Histogram,
    batch_failures: Counter,
    log_size: Gauge,
    checkpoint_size: Gauge,
    checkpoint_age: FGauge,
    checkpoint_round_age: FGauge,
    witness_lag: Family<WitnessLabel, FGauge>,
    witness_cosigned_size: Family<WitnessLabel, Gauge>,
    witnesses: Mutex<HashMap<String, WitnessProgress>>,
    outbox_depth: Gauge,
    outbox_oldest_age: FGauge,
    webhook_deliveries: Counter,
    webhook_failures: Counter,
    objection_deadlines: Family<RiskLabel, Gauge>,
    pool_connections: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    database_up: Gauge,
    /// The bearer token that opens `/metrics` on the main listener (`metrics-token`).
    token: Option<String>,
    /// Whether a separate listener serves `/metrics` (`metrics-listen`).
    dedicated: bool,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("dedicated", &self.dedicated)
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    /// Metrics that are counted but served nowhere (no token, no separate listener).
    fn default() -> Self {
        Self::new(None, false)
    }
}

/// Who may read `/metrics` on a listener (spec/ops/README.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Not served here: `404`.
    NotServed,
    /// Served, but the request lacks the token: `401`.
    Denied,
    /// Served.
    Granted,
}

impl Metrics {
    /// Registers every metric. `token` opens `/metrics` on the main listener to a request bearing
    /// it; `dedicated` says a separate listener (`metrics-listen`) serves it too.
    pub fn new(token: Option<String>, dedicated: bool) -> Self {
        let mut r = Registry::with_prefix("consentry");
        let decisions: Family<DecisionLabel, Counter> = reg(
            &mut r,
            "release_decisions",
            "Release and evaluation requests decided, by decision (allowed, refused)",
            Family::default(),
        );
        let batch_jobs = Histogram::new([
            1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0,
        ]);
        let seconds = |start| {
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                start, 2.0, 16,
            ))
        };
        Self {
            http_requests: reg(
                &mut r,
                "http_requests",
                "HTTP requests answered, by method, route template and status",
                Family::default(),
            ),
            http_duration: reg(
                &mut r,
                "http_request_duration_seconds",
                "Time from receiving a request to its answer, by method, route template and status",
                Family::new_with_constructor(latency_buckets as fn() -> Histogram),
            ),
            release_allowed: decisions.get_or_create_owned(&DecisionLabel { decision: "allowed" }),
            release_refused: decisions.get_or_create_owned(&DecisionLabel { decision: "refused" }),
            refusal_reasons: reg(
                &mut r,
                "release_refusal_reasons",
                "Reasons given in refusals, by reason code (a refusal may give several)",
                Family::default(),
            ),
            batch_size: reg(
                &mut r,
                "log_batch_jobs",
                "Jobs per group commit of the access log",
                batch_jobs,
            ),
            batch_duration: reg(
                &mut r,
                "log_batch_duration_seconds",
                "Time a group commit of the access log takes, transaction and fsync included",
                seconds(0.0001),
            ),
            batch_failures: reg(
                &mut r,
                "log_batch_failures",
                "Group commits that failed as a whole (their jobs were told; nothing was acknowledged)",
                Counter::default(),
            ),
            log_size: reg(
                &mut r,
                "log_entries",
                "Entries in the access log",
                Gauge::default(),
            ),
            checkpoint_size: reg(
                &mut r,
                "checkpoint_entries",
                "Entries covered by the newest signed checkpoint",
                Gauge::default(),
            ),
            checkpoint_age: reg(
                &mut r,
                "checkpoint_age_seconds",
                "Seconds since the newest checkpoint was signed (grows while the log is idle)",
                FGauge::default(),
            ),
            checkpoint_round_age: reg(
                &mut r,
                "checkpoint_round_age_seconds",
                "Seconds since this process's last successful checkpoint round (readiness fails past ten intervals)",
                FGauge::default(),
            ),
            witness_lag: reg(
                &mut r,
                "witness_lag_seconds",
                "Seconds the newest checkpoint has waited for this witness's cosignature (0: cosigned)",
                Family::default(),
            ),
            witness_cosigned_size: reg(
                &mut r,
                "witness_cosigned_entries",
                "Size of the largest checkpoint this witness is known to have cosigned",
                Family::default(),
            ),
            witnesses: Mutex::new(HashMap::new()),
            outbox_depth: reg(
                &mut r,
                "webhook_outbox_depth",
                "Webhook deliveries waiting in the outbox",
                Gauge::default(),
            ),
            outbox_oldest_age: reg(
                &mut r,
                "webhook_outbox_oldest_age_seconds",
                "Age of the oldest webhook delivery still waiting (0: none waits)",
                FGauge::default(),
            ),
            webhook_deliveries: reg(
                &mut r,
                "webhook_deliveries",
                "Webhook deliveries acknowledged by their endpoint",
                Counter::default(),
            ),
            webhook_failures: reg(
                &mut r,
                "webhook_delivery_failures",
                "Webhook delivery attempts that failed (each is retried with back-off)",
                Counter::default(),
            ),
            objection_deadlines: reg(
                &mut r,
                "objection_deadlines_at_risk",
                "Objections not yet forwarded whose forwarding deadline is at risk, by risk (overdue, due-24h, unknown)",
                Family::default(),
            ),
            pool_connections: reg(
                &mut r,
                "db_pool_connections",
                "Database connections the pool holds open",
                Gauge::default(),
            ),
            pool_idle: reg(
                &mut r,
                "db_pool_idle_connections",
                "Database connections of the pool not in use",
                Gauge::default(),
            ),
            pool_max: reg(
                &mut r,
                "db_pool_max_connections",
                "The most connections the pool opens",
                Gauge::default(),
            ),
            database_up: reg(
                &mut r,
                "database_up",
                "1 when the database answered this scrape's queries, 0 when it did not",
                Gauge::default(),
            ),
            registry: r,
            token: token.filter(|t| !t.is_empty()),
            dedicated,
        }
    }

    /// Who may read `/metrics` on this listener: a separate metrics listener serves it (to the
    /// token's bearer only, when a token is set); the main listener serves it only when a token is
    /// set, to its bearer. `bearer` is the request's bearer token; the comparison takes the same time
    /// wherever the tokens differ.
    pub fn access(&self, dedicated_listener: bool, bearer: Option<&str>) -> Access {
        match (&self.token, dedicated_listener) {
            (None, true) => Access::Granted,
            (None, false) => Access::NotServed,
            (Some(token), _) => match bearer {
                Some(b) if constant_time_eq(b.as_bytes(), token.as_bytes()) => Access::Granted,
                _ => Access::Denied,
            },
        }
    }

    /// Whether a separate listener (`metrics-listen`) serves `/metrics`.
    pub fn dedicated(&self) -> bool {
        self.dedicated
    }

    /// Counts an HTTP answer and its latency.
    pub fn http_answered(&self, labels: &HttpLabels, elapsed: Duration) {
        self.http_requests.get_or_create(labels).inc();
        self.http_duration
            .get_or_create(labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a release (or evaluation) that was allowed and logged.
    pub fn release_allowed(&self) {
        self.release_allowed.inc();
    }

    /// Counts a refusal and each of its reason codes.
    pub fn release_refused<'a>(&self, reasons: impl IntoIterator<Item = &'a str>) {
        self.release_refused.inc();
        for reason in reasons {
            self.refusal_reasons
                .get_or_create(&ReasonLabel {
                    reason: reason.to_owned(),
                })
                .inc();
        }
    }

    /// Records a group commit of `jobs` jobs that took `elapsed`; `failed`: it failed as a whole.
    pub fn log_batch(&self, jobs: usize, elapsed: Duration, failed: bool) {
        self.batch_size.observe(jobs as f64);
        self.batch_duration.observe(elapsed.as_secs_f64());
        if failed {
            self.batch_failures.inc();
        }
    }

    /// Counts a webhook delivery acknowledged (`ok`) or a failed attempt.
    pub fn webhook_attempt(&self, ok: bool) {
        if ok {
            self.webhook_deliveries.inc();
        } else {
            self.webhook_failures.inc();
        }
    }

    /// Records what a checkpoint round found of `witness` on the newest checkpoint (of `size`
    /// entries): `cosigned`, or still lacking its cosignature.
    pub fn witness_seen(&self, witness: &str, size: u64, cosigned: bool) {
        let mut map = self
            .witnesses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let p = map.entry(witness.to_owned()).or_default();
        if cosigned {
            p.cosigned_size = p.cosigned_size.max(size);
            p.waiting_since = None;
        } else if p.waiting_since.is_none() {
            p.waiting_since = Some(Instant::now());
        }
    }

    /// Sets the gauges read at scrape time, and renders every metric in the Prometheus text format.
    pub fn render(&self, s: &Snapshot) -> String {
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.log_size.set(int(s.log_size));
        self.checkpoint_round_age.set(s.checkpoint_round_age);
        self.database_up.set(i64::from(s.db.is_some()));
        if let Some(db) = &s.db {
            if let Some((size, age)) = db.checkpoint {
                self.checkpoint_size.set(int(size));
                self.checkpoint_age.set(age);
            }
            self.outbox_depth.set(int(db.outbox_depth));
            self.outbox_oldest_age.set(db.outbox_oldest_age);
            for (risk, n) in [
                ("overdue", db.objections_overdue),
                ("due-24h", db.objections_due_soon),
                ("unknown", db.objections_unknown_deadline),
            ] {
                self.objection_deadlines
                    .get_or_create(&RiskLabel { risk })
                    .set(int(n));
            }
        }
        self.pool_connections.set(i64::from(s.pool.0));
        self.pool_idle.set(i64::from(s.pool.1));
        self.pool_max.set(i64::from(s.pool.2));
        {
            let map = self
                .witnesses
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (w, p) in map.iter() {
                let label = WitnessLabel { witness: w.clone() };
                self.witness_lag
                    .get_or_create(&label)
                    .set(p.waiting_since.map_or(0.0, |t| t.elapsed().as_secs_f64()));
                self.witness_cosigned_size
                    .get_or_create(&label)
                    .set(i64::try_from(p.cosigned_size).unwrap_or(i64::MAX));
            }
        }
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

/// Whether `a` and `b` are equal, in a time that does not depend on where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_is_denied_by_default_and_needs_the_token() {
        let none = Metrics::new(None, false);
        assert_eq!(none.access(false, None), Access::NotServed);
        assert_eq!(none.access(false, Some("x")), Access::NotServed);
        assert_eq!(none.access(true, None), Access::Granted);
        let tok = Metrics::new(Some("s3cret-token".into()), true);
        assert_eq!(tok.access(false, None), Access::Denied);
        assert_eq!(tok.access(false, Some("s3cret-tokem")), Access::Denied);
        assert_eq!(tok.access(true, Some("s3cret")), Access::Denied);
        assert_eq!(tok.access(false, Some("s3cret-token")), Access::Granted);
        assert_eq!(tok.access(true, Some("s3cret-token")), Access::Granted);
        assert_eq!(
            Metrics::new(Some(String::new()), false).access(false, Some("")),
            Access::NotServed
        );
    }

    #[test]
    fn every_family_is_declared_before_its_first_series() {
        let text = Metrics::default().render(&Snapshot::default());
        for line in [
            "# TYPE consentry_release_refusal_reasons_total counter",
            "# TYPE consentry_witness_lag_seconds gauge",
            "# TYPE consentry_http_request_duration_seconds histogram",
            "# TYPE consentry_database_up gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        assert!(text.contains("consentry_database_up 0"), "{text}");
    }

    #[test]
    fn renders_counts_in_the_prometheus_text_format() {
        let m = Metrics::default();
        m.release_allowed();
        m.release_allowed();
        m.release_refused(["unknown-grant", "purpose-not-granted"]);
        m.http_answered(
            &HttpLabels {
                method: "POST",
                route: "/v1/releases".into(),
                status: 200,
            },
            Duration::from_millis(3),
        );
        m.witness_seen("https://w.test", 5, false);
        let text = m.render(&Snapshot {
            log_size: 9,
            db: Some(DbGauges::default()),
            ..Snapshot::default()
        });
        for line in [
            "# TYPE consentry_release_decisions_total counter",
            "consentry_release_decisions_total{decision=\"allowed\"} 2",
            "consentry_release_decisions_total{decision=\"refused\"} 1",
            "consentry_release_refusal_reasons_total{reason=\"unknown-grant\"} 1",
            "consentry_http_requests_total{method=\"POST\",route=\"/v1/releases\",status=\"200\"} 1",
            "consentry_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/releases\",status=\"200\"} 1",
            "consentry_log_entries 9",
            "consentry_witness_cosigned_entries{witness=\"https://w.test\"} 0",
            "consentry_objection_deadlines_at_risk{risk=\"overdue\"} 0",
            "consentry_database_up 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        // The witness lags while the newest checkpoint lacks its cosignature, not once it has it.
        let lag = |text: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix("consentry_witness_lag_seconds{witness=\"https://w.test\"} "))
                .and_then(|v| v.parse::<f64>().ok())
        };
        std::thread::sleep(Duration::from_millis(20));
        m.witness_seen("https://w.test", 6, false);
        let waiting = m.render(&Snapshot::default());
        assert!(lag(&waiting).is_some_and(|s| s >= 0.02), "{waiting}");
        m.witness_seen("https://w.test", 6, true);
        let cosigned = m.render(&Snapshot::default());
        assert_eq!(lag(&cosigned), Some(0.0), "{cosigned}");
        assert!(cosigned.contains("consentry_witness_cosigned_entries{witness=\"https://w.test\"} 6"));
    }
}

//! Release throughput and latency over HTTP, the node beside the bare baseline in one run (issue #15,
//! BENCHMARKS.md "Releases over HTTP"):
//!
//! ```text
//! cargo build --release --bin consentry --examples
//! target/release/examples/load_releases [--pg] [--processes 1|2] [--grants 20000] [--duration 5]
//!     [--connections 64] [--threads 2] [--workers 2] [--max-rate 15000] [--no-bare] [--node-bin PATH]
//! ```
//!
//! `--node-bin` runs another build of `consentry` (an earlier commit's, for a before/after pair).
//!
//! The service runs as its own process (`target/release/consentry serve`), the load comes from `wrk`
//! (an independent load generator, on the same cores), and every request carries its own pre-signed,
//! single-use client assertion. The run:
//!
//! 1. **Set-up** over the API and the operator's commands: a fresh SQLite folder (or with `--pg` a
//!    fresh PostgreSQL database on `CONSENTRY_TEST_PG`, default `postgres://postgres@127.0.0.1:5432`),
//!    a platform, its bank, an enterprise with tax data (`consentry admin import`), and `--grants`
//!    grants with status slots.
//! 2. **Restart** (SIGTERM, then `serve` again; with `--processes 2`, two processes on the one
//!    PostgreSQL database): nothing of the set-up is in any cache, so the first release under each
//!    grant really is the first the process sees — its proof is checked then.
//! 3. Phases, each a `wrk` run of `--duration` seconds with `--connections` connections:
//!    **first-seen** at peak (each request a different grant); restart; **first-seen at half** the
//!    peak rate (paced by `wrk`'s `delay()`); **repeat** at peak (the same grants again, now cached);
//!    **repeat at half**; `GET /healthz` at peak.
//! 4. The **bare server** (`examples/bare_server.rs`: per request one `verify_strict`, a JSON parse, a
//!    set lookup and a group-committed SQLite append with `synchronous=FULL`) gets the same phases
//!    with the same kind of assertions and bodies.
//! 5. The node's log is read back over `/v1/log/leaves` and its root recomputed (it must verify
//!    after the load), and a table is printed: releases/s, ratio to the bare server, p50/p99 (from
//!    `wrk --latency`), CPU µs per release (the service's processes, from /proc) and the machine's
//!    busy CPU per release (everything, `wrk` and PostgreSQL included), and the mean group commit.
//!
//! A phase that runs out of grants (more requests than `--grants` in `--duration`) says so: raise
//! `--grants`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use consentry::catalog::Catalog;
use consentry::clock::{Clock, SystemClock};
use consentry::credential::data_integrity::create_proof;
use consentry::crypto::SecretKey;
use consentry::grant::GrantDraft;
use consentry::grant::model::{RatePeriod, Usage};
use consentry::identity::KeyFile;
use consentry::ids::GrantId;
use consentry::log::entry::LEAF_LEN;
use consentry::log::merkle::{self, CompactRange};
use diesel::prelude::*;
use serde_json::{Value, json};

const ENTERPRISE: &str = "91330100716105852F";
const PLATFORM: &str = "91440300708461136T";
const BANK: &str = "911000001000013428";

const RECORDS: &str = r#"{"uscc":"91330100716105852F","category":"TAX-03","date":"2025-01-31","provider":"STA","fields":{"taxType":"VAT","taxPaid":1200.5,"declaredSales":48000}}
{"uscc":"91330100716105852F","category":"TAX-03","date":"2025-02-28","provider":"STA","fields":{"taxType":"VAT","taxPaid":1350,"declaredSales":52000}}
{"uscc":"91330100716105852F","category":"REG-01","date":"2020-05-01","provider":"SAMR","fields":{"name":"杭州示例科技有限公司","capital":1000000,"status":"存续"}}"#;

/// The `wrk` script: each thread takes every `threads`-th line (`token TAB body`) of the file in its
/// own order; `delay()` paces a connection when a pace is given. A thread that runs out of lines
/// starts over (those replays are refused, and counted as failures).
const LUA: &str = r#"
local n = 0
local threads = {}
function setup(thread)
  thread:set("id", n)
  n = n + 1
  table.insert(threads, thread)
end
function init(args)
  local file, count = args[1], tonumber(args[2])
  pace = tonumber(args[3]) or 0
  method = args[4] or "POST"
  reqs = {}
  local i = 0
  for line in io.lines(file) do
    if i % count == id then
      local tab = line:find("\t", 1, true)
      reqs[#reqs + 1] = wrk.format(method, "/v1/releases",
        {["Authorization"] = "Bearer " .. line:sub(1, tab - 1), ["Content-Type"] = "application/json"},
        line:sub(tab + 1))
    end
    i = i + 1
  end
  idx = 0
  wrapped = 0
end
function request()
  idx = idx + 1
  if idx > #reqs then idx = 1; wrapped = wrapped + 1 end
  return reqs[idx]
end
function delay()
  return pace
end
function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + (t:get("wrapped") or 0) end
  io.write(string.format("wrapped %d\n", w))
end
"#;

fn now() -> time::OffsetDateTime {
    SystemClock.now()
}

fn new_key() -> KeyFile {
    KeyFile::new(SecretKey::generate().unwrap())
}

/// A keep-alive HTTP caller with a key (set-up only; the load is `wrk`'s).
struct Caller {
    agent: ureq::Agent,
    base: String,
    audience: String,
    key: KeyFile,
}

impl Caller {
    fn new(base: &str, audience: &str, key: &KeyFile) -> Self {
        Self {
            agent: ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build(),
            base: base.to_owned(),
            audience: audience.to_owned(),
            key: key.clone(),
        }
    }

    fn send(&self, path: &str, body: &str, token: Option<String>) -> (u16, Value) {
        let mut r = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("Content-Type", "application/json");
        if let Some(t) = token {
            r = r.set("Authorization", &format!("Bearer {t}"));
        }
        let resp = match r.send_string(body) {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("transport: {e}"),
        };
        let s = resp.status();
        (
            s,
            serde_json::from_str(&resp.into_string().unwrap_or_default()).unwrap_or(Value::Null),
        )
    }

    /// POST with a fresh client assertion.
    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let token = consentry::node::auth::make(&self.key, &self.audience, "POST", path, now()).unwrap();
        self.send(path, &body.to_string(), Some(token))
    }

    /// POST without an assertion (self-authenticating bodies: registrations, grants).
    fn post_plain(&self, path: &str, body: &str) -> (u16, Value) {
        self.send(path, body, None)
    }
}

/// The database of this run, dropped at the end.
enum Db {
    Sqlite(PathBuf),
    Pg { base: String, name: String },
}

impl Db {
    fn url(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite://{}", p.display()),
            Self::Pg { base, name } => format!("{base}/{name}"),
        }
    }

    /// Entries per distinct sequencer instant over `from..=to`: the mean group commit.
    fn mean_commit(&self, from: u64, to: u64) -> f64 {
        let q = format!("SELECT COUNT(DISTINCT time) AS n FROM log_leaves WHERE seq BETWEEN {from} AND {to}");
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let n = match self {
            Self::Sqlite(p) => diesel::sql_query(q)
                .get_result::<N>(&mut SqliteConnection::establish(&p.display().to_string()).unwrap()),
            Self::Pg { .. } => {
                diesel::sql_query(q).get_result::<N>(&mut PgConnection::establish(&self.url()).unwrap())
            }
        }
        .unwrap()
        .n;
        (to - from + 1) as f64 / n.max(1) as f64
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Self::Pg { base, name } = self {
            if let Ok(mut admin) = PgConnection::establish(&format!("{base}/postgres")) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_ready(base: &str, child: &mut Child) {
    let t = Instant::now();
    loop {
        if let Ok(r) = ureq::get(&format!("{base}/healthz")).call() {
            if r.status() == 200 {
                return;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server at {base} exited: {status}");
        }
        assert!(t.elapsed() < Duration::from_secs(60), "{base} not ready in 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A service process under test.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let t = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if t.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// User + system CPU seconds of the process so far (/proc/PID/stat, fields 14 and 15).
    fn cpu(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split(' ').collect();
        // `rest` starts at field 3 (state): utime is field 14, stime 15.
        (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
    }
}

fn bin_dir() -> PathBuf {
    // target/release/examples/load_releases → target/release
    std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

fn start_node(data_dir: &Path, db: &Db, opts: &Opts) -> Server {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(data_dir.join(format!("serve-{port}.log"))).unwrap();
    let mut child = Command::new(&opts.node_bin)
        .env("CONSENTRY_LOG", "warn")
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &db.url()])
        .args(["--workers", &opts.workers.to_string()])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("target/release/consentry (cargo build --release --bin consentry)");
    wait_ready(&base, &mut child);
    Server { child, base }
}

fn start_bare(dir: &Path, caller: &str, grants: &[String], workers: usize) -> Server {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let setup = dir.join("bare-setup.json");
    std::fs::write(&setup, json!({"caller": caller, "grants": grants}).to_string()).unwrap();
    let mut child = Command::new(bin_dir().join("examples/bare_server"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--db")
        .arg(dir.join(format!("bare-{port}.sqlite3")))
        .arg("--setup")
        .arg(&setup)
        .args(["--workers", &workers.to_string()])
        .stdin(Stdio::null())
        .spawn()
        .expect("target/release/examples/bare_server (cargo build --release --examples)");
    wait_ready(&base, &mut child);
    Server { child, base }
}

fn draft(enterprise: &KeyFile, list: &str, index: u64) -> GrantDraft {
    let t = now();
    GrantDraft::example(enterprise.did.as_str())
        .with_id(GrantId::random())
        .with_validity(t - time::Duration::minutes(1), t + time::Duration::days(365))
        .with_status(list, index)
        .with_usage(Usage::Periodic {
            max_releases: 1_000_000,
            per: RatePeriod::Day,
        })
        .with_current_letters(&Catalog::builtin())
}

fn tax_release(grant: &str) -> String {
    json!({"enterprise": ENTERPRISE, "grant": grant, "categories": ["TAX-03"], "granularity": "derived", "purpose": "credit-approval", "onBehalfOf": BANK}).to_string()
}

/// Runs `f(i)` for `i in 0..n` on `threads` threads, results in order.
fn parallel<T: Send + 'static>(
    n: usize,
    threads: usize,
    f: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let next = Arc::new(AtomicUsize::new(0));
    let f = Arc::new(f);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (next, f) = (Arc::clone(&next), Arc::clone(&f));
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return mine;
                    }
                    mine.push((i, f(i)));
                }
            })
        })
        .collect();
    let mut all: Vec<(usize, T)> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

/// The node after set-up: its parties and grants.
struct Setup {
    did: String,
    platform: KeyFile,
    grants: Vec<String>,
}

fn set_up(base: &str, data_dir: &Path, db: &Db, n_grants: usize) -> Setup {
    let node_key = KeyFile::read(&data_dir.join("node.key.json")).unwrap();
    let did: Value = ureq::get(&format!("{base}/v1/node"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let did = did["did"].as_str().unwrap().to_owned();
    let (platform, bank, enterprise) = (new_key(), new_key(), new_key());
    let op = Caller::new(base, &did, &node_key);
    let (s, b) = op.post(
        "/v1/admin/platforms",
        &json!({"uscc": PLATFORM, "name": "示例融资信用服务平台", "did": platform.did.as_str(), "endpoint": "http://platform.example"}),
    );
    assert_eq!(s, 201, "{b}");
    let (s, b) = Caller::new(base, &did, &platform).post(
        "/v1/banks",
        &json!({"uscc": BANK, "name": "示例银行", "did": bank.did.as_str()}),
    );
    assert_eq!(s, 201, "{b}");
    let token = consentry::node::auth::make_request(
        &enterprise,
        &did,
        "register",
        json!({"uscc": ENTERPRISE, "name": "杭州示例科技有限公司"}),
        now(),
    )
    .unwrap();
    let (s, b) = Caller::new(base, &did, &enterprise).post_plain("/v1/registrations", &token);
    assert_eq!(s, 202, "{b}");
    let (s, b) = op.post(
        &format!("/v1/admin/registrations/{ENTERPRISE}/approve"),
        &json!({}),
    );
    assert_eq!(s, 200, "{b}");
    let records = data_dir.join("records.jsonl");
    std::fs::write(&records, RECORDS).unwrap();
    let out = Command::new(bin_dir().join("consentry"))
        .args(["admin", "--data-dir"])
        .arg(data_dir)
        .args(["--database-url", &db.url(), "import"])
        .arg(&records)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = Instant::now();
    let (b, d) = (base.to_owned(), did.clone());
    let grants = parallel(n_grants, 4, move |_| {
        let c = Caller::new(&b, &d, &enterprise);
        let (s, slot) = c.post("/v1/status/slots", &json!({}));
        assert_eq!(s, 201, "{slot}");
        let draft = draft(
            &enterprise,
            slot["statusList"].as_str().unwrap(),
            slot["statusIndex"].as_u64().unwrap(),
        );
        let bytes = serde_json::to_string(&create_proof(&draft.to_credential(), &enterprise, now()).unwrap())
            .unwrap();
        let (s, b) = c.post_plain("/v1/grants", &bytes);
        assert_eq!(s, 201, "{b}");
        draft.id.as_str().to_owned()
    });
    eprintln!(
        "set-up: {} grants in {:.1} s",
        grants.len(),
        t.elapsed().as_secs_f64()
    );
    Setup {
        did,
        platform,
        grants,
    }
}

/// One `wrk` run's figures.
#[derive(Debug, Default, Clone)]
struct Run {
    requests: u64,
    failed: u64,
    wrapped: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU seconds of the service's processes during the run.
    service_cpu: f64,
    /// Busy CPU seconds of the whole machine during the run.
    machine_cpu: f64,
}

impl Run {
    fn rate(&self) -> f64 {
        (self.requests - self.failed) as f64 / self.seconds
    }
    fn cpu_us(&self) -> f64 {
        self.service_cpu * 1e6 / (self.requests - self.failed).max(1) as f64
    }
    fn machine_us(&self) -> f64 {
        self.machine_cpu * 1e6 / (self.requests - self.failed).max(1) as f64
    }
}

/// Busy (non-idle, non-iowait) CPU seconds of the machine since boot (/proc/stat).
fn machine_busy() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let cpu: Vec<f64> = stat
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    (cpu.iter().sum::<f64>() - cpu[3] - cpu[4]) / 100.0
}

fn parse_ms(s: &str) -> f64 {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let v: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => v / 1e3,
        "ms" => v,
        "s" => v * 1e3,
        "m" => v * 60e3,
        _ => f64::NAN,
    }
}

/// Writes one line per body (`token TAB body`), each with its own fresh assertion for `audience`.
fn token_file(path: &Path, key: &KeyFile, audience: &str, bodies: &[String]) {
    let key = key.clone();
    let aud = audience.to_owned();
    let bodies = Arc::new(bodies.to_vec());
    let b2 = Arc::clone(&bodies);
    let lines = parallel(bodies.len(), 2, move |i| {
        let t = consentry::node::auth::make(&key, &aud, "POST", "/v1/releases", now()).unwrap();
        format!("{t}\t{}\n", b2[i])
    });
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for l in lines {
        f.write_all(l.as_bytes()).unwrap();
    }
}

/// Runs `wrk` against each of `servers` at once (connections and threads split among them), with
/// `files[i]` for server `i` (`None`: `GET /healthz`), paced at `pace_ms` per request per connection.
fn wrk(servers: &[&Server], files: &[Option<PathBuf>], dir: &Path, opts: &Opts, pace_ms: u64) -> Run {
    let script = dir.join("release.lua");
    std::fs::write(&script, LUA).unwrap();
    let per = servers.len() as u64;
    let threads = (opts.threads as u64 / per).max(1);
    let conns = (opts.connections as u64 / per).max(threads);
    let cpu0: f64 = servers.iter().map(|s| s.cpu()).sum();
    let busy0 = machine_busy();
    let children: Vec<_> = servers
        .iter()
        .zip(files)
        .map(|(s, f)| {
            let mut cmd = Command::new("wrk");
            cmd.args(["-t", &threads.to_string(), "-c", &conns.to_string()])
                .args([
                    "-d",
                    &format!("{}s", opts.duration),
                    "--latency",
                    "--timeout",
                    "10s",
                ]);
            match f {
                Some(f) => {
                    cmd.arg("-s")
                        .arg(&script)
                        .arg(format!("{}/v1/releases", s.base))
                        .arg("--");
                    cmd.arg(f).arg(threads.to_string()).arg(pace_ms.to_string());
                }
                None => {
                    cmd.arg(format!("{}/healthz", s.base));
                }
            }
            cmd.stdout(Stdio::piped())
                .spawn()
                .expect("wrk (apt-get install wrk)")
        })
        .collect();
    let mut total = Run::default();
    let (mut p50s, mut p99s) = (vec![], vec![]);
    for mut c in children {
        let mut out = String::new();
        c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        c.wait().unwrap();
        for line in out.lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            match w.as_slice() {
                ["50%", v] => p50s.push(parse_ms(v)),
                ["99%", v] => p99s.push(parse_ms(v)),
                [n, "requests", "in", secs, ..] => {
                    total.requests += n.parse::<u64>().unwrap();
                    total.seconds = total.seconds.max(parse_ms(secs.trim_end_matches(',')) / 1e3);
                }
                ["Non-2xx", "or", "3xx", "responses:", n] => total.failed += n.parse::<u64>().unwrap(),
                ["Socket", "errors:", ..] => eprintln!("wrk: {line}"),
                ["wrapped", n] => total.wrapped += n.parse::<u64>().unwrap(),
                _ => {}
            }
        }
    }
    total.service_cpu = servers.iter().map(|s| s.cpu()).sum::<f64>() - cpu0;
    total.machine_cpu = machine_busy() - busy0;
    // Several generators: the worse of their percentiles.
    total.p50_ms = p50s.iter().copied().fold(0.0, f64::max);
    total.p99_ms = p99s.iter().copied().fold(0.0, f64::max);
    total
}

struct Opts {
    pg: bool,
    processes: usize,
    grants: usize,
    duration: u64,
    connections: usize,
    threads: usize,
    workers: usize,
    bare: bool,
    node_bin: PathBuf,
    /// Requests prepared per second of a phase, where grants may repeat.
    max_rate: usize,
}

/// The phases of one service: first-seen (after a restart) and repeat, each at peak and at half.
#[derive(Default)]
struct Figures {
    first: Run,
    first_half: Run,
    repeat: Run,
    repeat_half: Run,
    healthz: Run,
}

/// One token file per server, `count` lines in all, line `i` a release under grant `i mod
/// grants` (so with `count` ≤ the grants, every line a different grant).
fn files_for(dir: &Path, tag: &str, setup: &Setup, count: usize, servers: usize) -> Vec<Option<PathBuf>> {
    let bodies: Vec<String> = (0..count)
        .map(|i| tax_release(&setup.grants[i % setup.grants.len()]))
        .collect();
    bodies
        .chunks(count.div_ceil(servers))
        .enumerate()
        .map(|(i, chunk)| {
            let p = dir.join(format!("{tag}-{i}.tsv"));
            token_file(&p, &setup.platform, &setup.did, chunk);
            Some(p)
        })
        .collect()
}

/// The pace (ms between requests on one connection) that gives about `rate` requests/s.
fn pace_for(rate: f64, opts: &Opts) -> u64 {
    ((opts.connections as f64 * 1000.0) / (rate / 2.0).max(1.0)).round() as u64
}

fn report(name: &str, phase: &str, r: &Run) {
    eprintln!(
        "{name:<6} {phase:<14} {:>7.0}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  {:>5.0} µs CPU/release ({:>5.0} machine){}{}",
        r.rate(),
        r.p50_ms,
        r.p99_ms,
        r.cpu_us(),
        r.machine_us(),
        if r.failed > 0 {
            format!("  {} FAILED", r.failed)
        } else {
            String::new()
        },
        if r.wrapped > 0 {
            "  RAN OUT OF REQUESTS: raise --grants (first-seen) or --max-rate"
        } else {
            ""
        },
    );
}

/// `first_seen`: the first-seen phases send each grant once (no more requests than grants);
/// otherwise, and for the repeat phases, `--max-rate × --duration` requests are prepared.
fn run_phases(
    name: &str,
    dir: &Path,
    opts: &Opts,
    setup: &Setup,
    first_seen: bool,
    mut start: impl FnMut() -> Vec<Server>,
) -> (Figures, Vec<Server>) {
    let many = opts.max_rate * opts.duration as usize;
    let first_count = if first_seen { setup.grants.len() } else { many };
    let mut f = Figures::default();
    let servers = start();
    let refs: Vec<&Server> = servers.iter().collect();
    let files = files_for(dir, "first", setup, first_count, refs.len());
    f.first = wrk(&refs, &files, dir, opts, 0);
    report(name, "first-seen", &f.first);
    for s in servers {
        s.stop();
    }
    let servers = start();
    let refs: Vec<&Server> = servers.iter().collect();
    let files = files_for(dir, "first-half", setup, first_count, refs.len());
    f.first_half = wrk(&refs, &files, dir, opts, pace_for(f.first.rate(), opts));
    report(name, "first-seen ½", &f.first_half);
    let files = files_for(dir, "repeat", setup, many, refs.len());
    f.repeat = wrk(&refs, &files, dir, opts, 0);
    report(name, "repeat", &f.repeat);
    let files = files_for(dir, "repeat-half", setup, many, refs.len());
    f.repeat_half = wrk(&refs, &files, dir, opts, pace_for(f.repeat.rate(), opts));
    report(name, "repeat ½", &f.repeat_half);
    f.healthz = wrk(&refs, &vec![None; refs.len()], dir, opts, 0);
    report(name, "GET /healthz", &f.healthz);
    (f, servers)
}

/// Reads the node's whole log over `/v1/log/leaves` and checks its root: the log verifies after the load.
fn verify_log(base: &str) -> u64 {
    let info: Value = ureq::get(&format!("{base}/v1/node"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let size = info["logSize"].as_u64().unwrap();
    let mut range = CompactRange::new();
    let agent = ureq::Agent::new();
    while range.size() < size {
        let mut page = Vec::new();
        agent
            .get(&format!("{base}/v1/log/leaves?from={}&limit=10000", range.size()))
            .call()
            .unwrap()
            .into_reader()
            .read_to_end(&mut page)
            .unwrap();
        assert!(!page.is_empty());
        for leaf in page.chunks_exact(LEAF_LEN) {
            range.push(&merkle::leaf_hash(leaf)).unwrap();
        }
    }
    assert_eq!(
        hex::encode(range.root()),
        info["logRoot"].as_str().unwrap(),
        "the log verifies"
    );
    size
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let opts = Opts {
        pg: args.iter().any(|a| a == "--pg"),
        processes: value("--processes", 1),
        grants: value("--grants", 20_000),
        duration: value("--duration", 5) as u64,
        connections: value("--connections", 64),
        threads: value("--threads", 2),
        workers: value("--workers", 2),
        bare: !args.iter().any(|a| a == "--no-bare"),
        max_rate: value("--max-rate", 15_000),
        node_bin: args
            .iter()
            .position(|a| a == "--node-bin")
            .and_then(|i| args.get(i + 1))
            .map_or_else(|| bin_dir().join("consentry"), PathBuf::from),
    };
    assert!(
        opts.processes == 1 || opts.pg,
        "--processes 2 needs --pg (one database, several processes)"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    std::fs::create_dir_all(&root).unwrap();
    let tmp = tempfile::tempdir_in(root).unwrap();
    let dir = tmp.path();
    let db = if opts.pg {
        let base = std::env::var("CONSENTRY_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("consentry_load_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&format!("{base}/postgres")).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        Db::Pg { base, name }
    } else {
        Db::Sqlite(dir.join("node").join("node.sqlite3"))
    };
    // One data folder per process, the node's key shared (spec: several processes, one database).
    let dirs: Vec<PathBuf> = (0..opts.processes)
        .map(|i| dir.join(if i == 0 { "node".into() } else { format!("node{i}") }))
        .collect();
    for d in &dirs {
        std::fs::create_dir_all(d).unwrap();
    }
    eprintln!(
        "{} × {} process(es), {} HTTP workers each; wrk {} threads, {} connections, {} s per phase; {} grants",
        if opts.pg { "PostgreSQL" } else { "SQLite" },
        opts.processes,
        opts.workers,
        opts.threads,
        opts.connections,
        opts.duration,
        opts.grants
    );
    let first = start_node(&dirs[0], &db, &opts);
    let setup = set_up(&first.base, &dirs[0], &db, opts.grants);
    let size_before = verify_log(&first.base);
    first.stop();
    for d in &dirs[1..] {
        std::fs::copy(dirs[0].join("node.key.json"), d.join("node.key.json")).unwrap();
    }
    let (node, servers) = run_phases("node", dir, &opts, &setup, true, || {
        dirs.iter().map(|d| start_node(d, &db, &opts)).collect()
    });
    let size = verify_log(&servers[0].base);
    let commit = db.mean_commit(size_before, size - 1);
    eprintln!("node: log of {size} entries verified after the load; mean group commit {commit:.1} entries");
    for s in servers {
        s.stop();
    }
    let bare = opts.bare.then(|| {
        let (f, servers) = run_phases("bare", dir, &opts, &setup, false, || {
            vec![start_bare(
                dir,
                setup.platform.did.as_str(),
                &setup.grants,
                opts.workers,
            )]
        });
        for s in servers {
            s.stop();
        }
        f
    });

    // The table (BENCHMARKS.md).
    println!(
        "\n{} × {} | phase | node releases/s | bare releases/s | node ÷ bare | node p50 / p99 ms | bare p50 / p99 ms | node µs CPU/release (machine) | bare µs CPU/release (machine) |",
        if opts.pg { "PostgreSQL" } else { "SQLite" },
        opts.processes
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    type Pick = fn(&Figures) -> &Run;
    let rows: [(&str, Pick); 5] = [
        ("first-seen, peak", |f| &f.first),
        ("first-seen, ½ peak", |f| &f.first_half),
        ("repeat, peak", |f| &f.repeat),
        ("repeat, ½ peak", |f| &f.repeat_half),
        ("GET /healthz", |f| &f.healthz),
    ];
    for (name, get) in rows {
        let n = get(&node);
        let b = bare.as_ref().map(get);
        println!(
            "| | {name} | {:.0} | {} | {} | {:.2} / {:.2} | {} | {:.0} ({:.0}) | {} |",
            n.rate(),
            b.map_or("—".into(), |b| format!("{:.0}", b.rate())),
            b.map_or("—".into(), |b| format!("{:.2}", n.rate() / b.rate())),
            n.p50_ms,
            n.p99_ms,
            b.map_or("—".into(), |b| format!("{:.2} / {:.2}", b.p50_ms, b.p99_ms)),
            n.cpu_us(),
            n.machine_us(),
            b.map_or("—".into(), |b| format!(
                "{:.0} ({:.0})",
                b.cpu_us(),
                b.machine_us()
            )),
        );
    }
    drop(db);
}

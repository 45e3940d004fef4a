//! The witness (`consentry witness`, C2SP tlog-witness): every status of `add-checkpoint`, state that
//! survives a restart of the real binary, a node collecting cosignatures end to end (including while
//! its witness is down), and a split view — two logs with one origin and one key — that the witness
//! refuses past the fork point.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use actix_web::{App, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use consentry::clock::{Clock, SystemClock};
use consentry::config::{Config, ServeArgs};
use consentry::crypto::SecretKey;
use consentry::log::checkpoint::{Checkpoint, CheckpointPolicy};
use consentry::log::entry::{AccessRecord, EntryKind};
use consentry::log::keys::{KeyRecord, KeyRecordKind, next_key_digest, record_digest};
use consentry::log::merkle::{self, MemoryTree};
use consentry::log::note::{Note, Signer, VerifierKey};
use consentry::node::Node;
use consentry::storage::log_store::{DbNodes, NewEntry};
use consentry::witness::protocol::AddCheckpoint;
use consentry::witness::{Witness, WitnessConfig};
use diesel::prelude::*;

const ORIGIN: &str = "node.test/consentry/access-log";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A witness served in this process.
struct TestWitness {
    url: String,
    vkey: VerifierKey,
    server: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestWitness {
    /// Starts a witness on `data_dir` for `logs`, on `addr` (`127.0.0.1:0` for any port).
    fn start(data_dir: &Path, logs: Vec<(String, VerifierKey)>, addr: &str) -> Self {
        let config = WitnessConfig {
            data_dir: data_dir.to_path_buf(),
            name: Some("witness.test/w1".into()),
            logs,
        };
        let (witness, _) = Witness::open(&config, Arc::new(SystemClock)).unwrap();
        let vkey = witness.vkey();
        let listener = bind(addr);
        let url = format!("http://{}", listener.local_addr().unwrap());
        let witness = web::Data::new(witness);
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(witness.clone())
                        .configure(consentry::witness::server::configure)
                })
                .workers(2)
                .listen(listener)
                .unwrap()
                .run();
                tx.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        Self {
            url,
            vkey,
            server: rx.recv().unwrap(),
            thread: Some(thread),
        }
    }

    /// The node's `--witness` entry for it.
    fn entry(&self) -> String {
        format!("{}#{}", self.url, self.vkey.to_vkey())
    }

    fn stop(&mut self) {
        actix_web::rt::System::new().block_on(self.server.stop(true));
        if let Some(t) = self.thread.take() {
            crate::common::server::join_within(t, "the witness's server thread");
        }
    }
}

impl Drop for TestWitness {
    fn drop(&mut self) {
        self.stop();
    }
}

fn bind(addr: &str) -> TcpListener {
    // Rebinding the port of a witness that has just stopped can take a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpListener::bind(addr) {
            Ok(l) => return l,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("bind {addr}: {e}"),
        }
    }
}

/// An HTTP answer: status, content type, body.
#[derive(Debug)]
struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

fn post(url: &str, body: &[u8]) -> Reply {
    let r = crate::common::server::http()
        .post(&format!("{url}/add-checkpoint"))
        .send_bytes(body);
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport: {e}"),
    };
    Reply {
        status: resp.status(),
        content_type: resp.header("Content-Type").unwrap_or("").to_owned(),
        body: resp.into_string().unwrap(),
    }
}

fn get_json(url: &str) -> serde_json::Value {
    crate::common::server::http()
        .get(&format!("{url}/"))
        .call()
        .unwrap()
        .into_json()
        .unwrap()
}

fn request(old: u64, proof: Vec<merkle::Hash>, checkpoint: &str) -> Vec<u8> {
    AddCheckpoint {
        old,
        proof,
        checkpoint: checkpoint.as_bytes().to_vec(),
    }
    .to_body()
}

/// A log kept in memory: its signer and its tree.
struct MemLog {
    signer: Signer,
    tree: MemoryTree,
}

impl MemLog {
    fn new(origin: &str, seed: u8, leaves: &[&[u8]]) -> Self {
        let signer = Signer::new(origin, SecretKey::from_seed(&[seed; 32])).unwrap();
        let tree = MemoryTree::from_leaf_hashes(leaves.iter().map(|l| merkle::leaf_hash(l))).unwrap();
        Self { signer, tree }
    }

    fn vkey(&self) -> VerifierKey {
        self.signer.verifier_key()
    }

    fn root(&self, size: u64) -> merkle::Hash {
        merkle::root(size, &self.tree).unwrap()
    }

    /// The signed checkpoint of the first `size` leaves, as `origin`.
    fn checkpoint_as(&self, origin: &str, size: u64) -> String {
        Checkpoint::new(origin, size, self.root(size))
            .unwrap()
            .sign(&self.signer)
            .unwrap()
            .to_text()
            .unwrap()
    }

    fn checkpoint(&self, size: u64) -> String {
        self.checkpoint_as(self.signer.verifier_key().name(), size)
    }

    fn proof(&self, old: u64, size: u64) -> Vec<merkle::Hash> {
        merkle::consistency_proof(old, size, &self.tree).unwrap()
    }
}

const LEAVES: [&[u8]; 8] = [b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h"];

/// Checks that `checkpoint` plus the cosignature lines of `reply` verifies with a quorum of 1.
fn assert_cosigned(log_key: &VerifierKey, witness: &VerifierKey, checkpoint: &str, reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body.starts_with("\u{2014} witness.test/w1 "),
        "{}",
        reply.body
    );
    let note = format!("{checkpoint}{}", reply.body);
    let policy = CheckpointPolicy::new(log_key.name(), log_key.clone(), vec![witness.clone()], 1).unwrap();
    let v = policy.verify(note.as_bytes(), SystemClock.now()).unwrap();
    assert_eq!(v.cosignatures().len(), 1);
}

/// A node on SQLite in `dir` (its key pre-created there), public URL http://node.test (so its
/// origin is [`ORIGIN`]), collecting from `witnesses`. No HTTP server: tests drive it directly.
fn open_node(dir: &Path, db: &Path, witnesses: Vec<String>) -> Node {
    let config = Config::resolve(&ServeArgs {
        data_dir: Some(dir.to_path_buf()),
        listen: Some("127.0.0.1:0".into()),
        database_url: Some(format!("sqlite://{}", db.display())),
        public_url: Some("http://node.test".into()),
        workers: Some(1),
        checkpoint_interval_secs: Some(1),
        witnesses,
        ..ServeArgs::default()
    })
    .unwrap();
    let (node, _) = consentry::node::start::open(&config, Arc::new(SystemClock)).unwrap();
    assert_eq!(node.origin, ORIGIN);
    node
}

/// The node key's log vkey, creating the key in `dir` first so the witness can be configured
/// before the node starts.
fn node_log_key(dir: &Path) -> VerifierKey {
    let (key, _) = consentry::node::identity::load_or_create_key(dir, "node.key.json").unwrap();
    Signer::new(ORIGIN, key.secret).unwrap().verifier_key()
}

pub(crate) fn append(node: &Node, what: &str) {
    let what = what.to_owned();
    node.committer
        .run_blocking(move |tx| {
            tx.append(NewEntry {
                kind: EntryKind::Objection,
                enterprise: None,
                grant: None,
                caller: None,
                platform: None,
                bank: None,
                categories: None,
                decision: Some(what.clone()),
                record: AccessRecord {
                    decision: Some(what),
                    ..Default::default()
                },
            })
        })
        .unwrap();
}

fn publish(node: &Node) -> String {
    actix_web::rt::System::new()
        .block_on(consentry::node::checkpoints::publish(node))
        .unwrap()
        .unwrap()
}

fn log_size(node: &Node) -> u64 {
    node.store.run(consentry::storage::log_store::head).unwrap().0
}

/// The newest stored checkpoint (size, note); (0, "") before the first.
fn latest(node: &Node) -> (u64, String) {
    use consentry::storage::schema::checkpoints;
    let row: Option<(i64, String)> = node
        .store
        .run(|c| {
            Ok(checkpoints::table
                .order(checkpoints::size.desc())
                .select((checkpoints::size, checkpoints::note))
                .first(c)
                .optional()?)
        })
        .unwrap();
    row.map_or((0, String::new()), |(s, n)| (u64::try_from(s).unwrap(), n))
}

fn node_proof(node: &Node, old: u64, size: u64) -> Vec<merkle::Hash> {
    let mut conn = node.store.conn().unwrap();
    merkle::consistency_proof(old, size, &DbNodes(std::cell::RefCell::new(&mut conn))).unwrap()
}

fn witnessed(log_key: &VerifierKey, witness: &VerifierKey, note: &str) -> bool {
    CheckpointPolicy::new(ORIGIN, log_key.clone(), vec![witness.clone()], 1)
        .unwrap()
        .verify(note.as_bytes(), SystemClock.now())
        .is_ok()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(45);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------------------------
// The protocol
// ---------------------------------------------------------------------------------------------

#[test]
fn add_checkpoint_cosigns_and_refuses_with_the_spec_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let log = MemLog::new(ORIGIN, 1, &LEAVES);
    let empty_origin = "empty.test/log";
    let empty_log = MemLog::new(empty_origin, 2, &[]);
    let w = TestWitness::start(
        dir.path(),
        vec![
            (ORIGIN.into(), log.vkey()),
            (empty_origin.into(), empty_log.vkey()),
        ],
        "127.0.0.1:0",
    );

    // First checkpoint: old 0, no proof.
    let cp3 = log.checkpoint(3);
    let r = post(&w.url, &request(0, vec![], &cp3));
    assert_cosigned(&log.vkey(), &w.vkey, &cp3, &r);
    assert!(r.content_type.starts_with("text/plain"), "{}", r.content_type);

    // Grown, with a valid consistency proof from 3.
    let cp6 = log.checkpoint(6);
    let r = post(&w.url, &request(3, log.proof(3, 6), &cp6));
    assert_cosigned(&log.vkey(), &w.vkey, &cp6, &r);

    // Unknown origin: 404.
    let stranger = MemLog::new("stranger.test/log", 3, &LEAVES);
    let r = post(&w.url, &request(0, vec![], &stranger.checkpoint(2)));
    assert_eq!(r.status, 404, "{}", r.body);

    // Known origin, signed by another key: 403.
    let impostor = MemLog::new(ORIGIN, 4, &LEAVES);
    let r = post(&w.url, &request(6, impostor.proof(6, 7), &impostor.checkpoint(7)));
    assert_eq!(r.status, 403, "{}", r.body);

    // Signed by the log key under another key name (so no trusted (name, key ID) matches): 403.
    let renamed = MemLog {
        signer: Signer::new("other-name", SecretKey::from_seed(&[1; 32])).unwrap(),
        tree: log.tree.clone(),
    };
    let r = post(
        &w.url,
        &request(6, log.proof(6, 7), &renamed.checkpoint_as(ORIGIN, 7)),
    );
    assert_eq!(r.status, 403, "{}", r.body);

    // old > size: 400.
    let r = post(&w.url, &request(7, vec![], &log.checkpoint(6)));
    assert_eq!(r.status, 400, "{}", r.body);

    // Malformed: 400.
    for body in [
        &b""[..],
        b"old 6\n",
        b"old 06\n\nx",
        b"old 6\nnot-a-hash\n\n",
        b"old 6\n\nnot a note\n",
    ] {
        let r = post(&w.url, body);
        assert_eq!(r.status, 400, "{body:?}: {}", r.body);
    }
    let mut too_long = String::from("old 6\n");
    for _ in 0..64 {
        too_long.push_str(&STANDARD.encode([0u8; 32]));
        too_long.push('\n');
    }
    too_long.push('\n');
    too_long.push_str(&log.checkpoint(8));
    assert_eq!(post(&w.url, too_long.as_bytes()).status, 400);

    // Stale old: 409 with the witness's size, as text/x.tlog.size.
    for old in [0, 3, 5] {
        let r = post(&w.url, &request(old, log.proof(old, 8), &log.checkpoint(8)));
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.content_type, "text/x.tlog.size");
        assert_eq!(r.body, "6\n");
    }

    // A bad proof: 422 (a flipped byte, a missing hash, a proof from the wrong size).
    let mut bad = log.proof(6, 8);
    bad[0][0] ^= 1;
    assert_eq!(post(&w.url, &request(6, bad, &log.checkpoint(8))).status, 422);
    let mut short = log.proof(6, 8);
    short.pop();
    assert_eq!(post(&w.url, &request(6, short, &log.checkpoint(8))).status, 422);
    assert_eq!(
        post(&w.url, &request(6, log.proof(5, 8), &log.checkpoint(8))).status,
        422
    );

    // A fork at the same size: 422. Same size, same root: cosigned again.
    let fork = MemLog::new(ORIGIN, 1, &[b"a", b"b", b"c", b"d", b"e", b"X"]);
    assert_ne!(fork.root(6), log.root(6));
    let r = post(&w.url, &request(6, vec![], &fork.checkpoint(6)));
    assert_eq!(r.status, 422, "{}", r.body);
    // ... and the fork's next checkpoint, with its own (valid for the fork) proof: 422 too.
    let fork7 = MemLog::new(ORIGIN, 1, &[b"a", b"b", b"c", b"d", b"e", b"X", b"g"]);
    let r = post(&w.url, &request(6, fork7.proof(6, 7), &fork7.checkpoint(7)));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = post(&w.url, &request(6, vec![], &cp6));
    assert_cosigned(&log.vkey(), &w.vkey, &cp6, &r);

    // None of the refusals moved the witness.
    let info = get_json(&w.url);
    assert_eq!(info["vkey"], w.vkey.to_vkey());
    let logs = info["logs"].as_array().unwrap();
    let mine = logs.iter().find(|l| l["origin"] == ORIGIN).unwrap();
    assert_eq!(mine["size"], 6);
    assert_eq!(mine["root"], STANDARD.encode(log.root(6)));
    let r = post(&w.url, &request(6, log.proof(6, 8), &log.checkpoint(8)));
    assert_cosigned(&log.vkey(), &w.vkey, &log.checkpoint(8), &r);

    // Size 0 with a root other than SHA-256(""): 422; with the right root: cosigned.
    let mut zero = Note::new(format!("{empty_origin}\n0\n{}\n", STANDARD.encode([1u8; 32]))).unwrap();
    zero.sign(&empty_log.signer).unwrap();
    let r = post(&w.url, &request(0, vec![], &zero.to_text().unwrap()));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = post(&w.url, &request(0, vec![], &empty_log.checkpoint(0)));
    assert_cosigned(&empty_log.vkey(), &w.vkey, &empty_log.checkpoint(0), &r);

    // Not the endpoint: 404.
    match crate::common::server::http()
        .get(&format!("{}/nope", w.url))
        .call()
    {
        Err(ureq::Error::Status(404, _)) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn concurrent_requests_never_roll_the_witness_back() {
    let dir = tempfile::tempdir().unwrap();
    let leaves: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i]).collect();
    let refs: Vec<&[u8]> = leaves.iter().map(Vec::as_slice).collect();
    let log = Arc::new(MemLog::new(ORIGIN, 1, &refs));
    let w = TestWitness::start(dir.path(), vec![(ORIGIN.into(), log.vkey())], "127.0.0.1:0");
    // Every size 1..=64 from old 0 at once: exactly one is cosigned; the rest learn its size.
    let handles: Vec<_> = (1..=64u64)
        .map(|size| {
            let (url, log) = (w.url.clone(), Arc::clone(&log));
            std::thread::spawn(move || (size, post(&url, &request(0, vec![], &log.checkpoint(size)))))
        })
        .collect();
    let replies: Vec<(u64, Reply)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let won: Vec<u64> = replies
        .iter()
        .filter(|(_, r)| r.status == 200)
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(won.len(), 1, "{replies:?}");
    for (_, r) in &replies {
        assert!(
            r.status == 200 || (r.status == 409 && r.body == format!("{}\n", won[0])),
            "{r:?}"
        );
    }
    assert_eq!(get_json(&w.url)["logs"][0]["size"], won[0]);
}

// ---------------------------------------------------------------------------------------------
// The binary: key, vkey, state across a restart
// ---------------------------------------------------------------------------------------------

pub(crate) struct WitnessProcess {
    child: Child,
    pub(crate) url: String,
    pub(crate) vkey: String,
    first_start: bool,
}

impl WitnessProcess {
    fn spawn(dir: &Path, extra: &[String]) -> Self {
        Self::spawn_on(dir, "127.0.0.1:0", extra)
    }

    /// `consentry witness --data-dir DIR --listen ADDR EXTRA…`, once it listens.
    pub(crate) fn spawn_on(dir: &Path, listen: &str, extra: &[String]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .arg("witness")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", listen])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut vkey, mut first_start) = (String::new(), false);
        let url = loop {
            let line = lines.next().expect("the witness exited").unwrap();
            if line.starts_with("first start:") {
                first_start = true;
            }
            if let Some(v) = line.strip_prefix("witness vkey (cosignature/v1): ") {
                vkey = v.to_owned();
            }
            if let Some((_, rest)) = line.split_once(" listening on ") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        Self {
            child,
            url,
            vkey,
            first_start,
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn the_binary_keeps_its_key_and_state_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let log = MemLog::new(ORIGIN, 1, &LEAVES);
    let args = vec!["--log".to_owned(), format!("{ORIGIN}={}", log.vkey().to_vkey())];

    let mut w = WitnessProcess::spawn(dir.path(), &args);
    assert!(w.first_start);
    let vkey = VerifierKey::parse(&w.vkey).unwrap();
    assert!(vkey.name().starts_with("consentry-witness/"), "{}", w.vkey);
    assert_eq!(get_json(&w.url)["vkey"], w.vkey);
    let cp = log.checkpoint(5);
    let r = post(&w.url, &request(0, vec![], &cp));
    assert_eq!(r.status, 200, "{}", r.body);
    let policy = CheckpointPolicy::new(ORIGIN, log.vkey(), vec![vkey.clone()], 1).unwrap();
    policy
        .verify(format!("{cp}{}", r.body).as_bytes(), SystemClock.now())
        .unwrap();
    // SIGKILL: the answer was only sent once the state was on disk.
    w.kill();

    let w2 = WitnessProcess::spawn(dir.path(), &args);
    assert!(!w2.first_start);
    assert_eq!(w2.vkey, w.vkey, "same key and name after a restart");
    assert_eq!(get_json(&w2.url)["logs"][0]["size"], 5);
    let r = post(&w2.url, &request(0, vec![], &log.checkpoint(7)));
    assert_eq!((r.status, r.body.as_str()), (409, "5\n"));
    let r = post(&w2.url, &request(5, vec![], &log.checkpoint(4)));
    assert_eq!(r.status, 400, "a smaller tree after a larger one: {}", r.body);
    let r = post(&w2.url, &request(5, log.proof(5, 7), &log.checkpoint(7)));
    assert_eq!(r.status, 200, "{}", r.body);
    drop(w2);

    // The name is part of the vkey: another one is refused rather than silently changing it.
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .arg("witness")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0", "--name", "someone-else"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A malformed --log is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["witness", "--listen", "127.0.0.1:0", "--log", "no-equals-sign"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

// ---------------------------------------------------------------------------------------------
// The node collecting cosignatures
// ---------------------------------------------------------------------------------------------

/// The node's background task, on its own actix system.
struct Background {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    fn start(node: Arc<Node>) -> Self {
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                consentry::node::background::spawn(node, 1);
                let _ = rx.await;
            });
        });
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_node_collects_cosignatures_and_survives_a_witness_outage() {
    let node_dir = tempfile::tempdir().unwrap();
    let witness_dir = tempfile::tempdir().unwrap();
    let log_key = node_log_key(node_dir.path());
    let mut w = TestWitness::start(
        witness_dir.path(),
        vec![(ORIGIN.into(), log_key.clone())],
        "127.0.0.1:0",
    );
    let addr = w.url.trim_start_matches("http://").to_owned();
    let wkey = w.vkey.clone();
    let node = Arc::new(open_node(
        node_dir.path(),
        &node_dir.path().join("node.sqlite3"),
        vec![w.entry()],
    ));
    append(&node, "first");
    let _bg = Background::start(Arc::clone(&node));

    // The first checkpoint (old 0) gets cosigned.
    wait_for("a cosigned first checkpoint", || {
        let (_, note) = latest(&node);
        witnessed(&log_key, &wkey, &note)
    });
    let first = latest(&node).0;

    // The log grows: the next checkpoint is cosigned from the previous size, with a proof.
    for i in 0..5 {
        append(&node, &format!("grown-{i}"));
    }
    let grown = log_size(&node);
    assert!(grown > first);
    wait_for("the grown checkpoint cosigned", || {
        let (size, note) = latest(&node);
        size == grown && witnessed(&log_key, &wkey, &note)
    });

    // The witness goes down: checkpoints are still signed and stored, without its cosignature.
    w.stop();
    append(&node, "while-down");
    let down = log_size(&node);
    wait_for("a checkpoint while the witness is down", || {
        latest(&node).0 == down
    });
    let (_, note) = latest(&node);
    assert!(!witnessed(&log_key, &wkey, &note));
    CheckpointPolicy::new(ORIGIN, log_key.clone(), vec![wkey.clone()], 0)
        .unwrap()
        .verify(note.as_bytes(), SystemClock.now())
        .unwrap();

    // It comes back on the same address with its state: the node catches up without new entries.
    let w2 = TestWitness::start(witness_dir.path(), vec![(ORIGIN.into(), log_key.clone())], &addr);
    assert_eq!(w2.vkey, wkey);
    wait_for("the checkpoint made during the outage cosigned", || {
        let (size, note) = latest(&node);
        size == down && witnessed(&log_key, &wkey, &note)
    });
    assert_eq!(get_json(&w2.url)["logs"][0]["size"], down);

    // What the node stores is what receipts and exports hand out: a note that a client requiring
    // the witness accepts, with exactly one line by the log and one by the witness.
    let note = Note::parse(latest(&node).1.as_bytes()).unwrap();
    assert_eq!(note.signatures().len(), 2);
}

#[test]
fn a_node_without_a_pinned_key_learns_it_from_a_consentry_witness() {
    let node_dir = tempfile::tempdir().unwrap();
    let witness_dir = tempfile::tempdir().unwrap();
    let log_key = node_log_key(node_dir.path());
    let w = TestWitness::start(
        witness_dir.path(),
        vec![(ORIGIN.into(), log_key.clone())],
        "127.0.0.1:0",
    );
    let node = open_node(
        node_dir.path(),
        &node_dir.path().join("node.sqlite3"),
        vec![format!("{}/", w.url)],
    );
    append(&node, "x");
    let note = publish(&node);
    assert!(witnessed(&log_key, &w.vkey, &note), "{note}");
    assert_eq!(node.witnesses.keys(), vec![w.vkey.clone()]);
}

// ---------------------------------------------------------------------------------------------
// Split view
// ---------------------------------------------------------------------------------------------

#[test]
fn a_split_view_cannot_get_cosigned_past_the_fork_point() {
    let node_dir = tempfile::tempdir().unwrap();
    let witness_dir = tempfile::tempdir().unwrap();
    let log_key = node_log_key(node_dir.path());
    let w = TestWitness::start(
        witness_dir.path(),
        vec![(ORIGIN.into(), log_key.clone())],
        "127.0.0.1:0",
    );
    let wkey = w.vkey.clone();

    // Log A: a common history, cosigned.
    let db_a: PathBuf = node_dir.path().join("a.sqlite3");
    let a = open_node(node_dir.path(), &db_a, vec![w.entry()]);
    for i in 0..3 {
        append(&a, &format!("common-{i}"));
    }
    let common = log_size(&a);
    assert!(witnessed(&log_key, &wkey, &publish(&a)));

    // Log B: a copy of A's database up to here, same key, same origin. From now on the two differ.
    let db_b = node_dir.path().join("b.sqlite3");
    a.store
        .run(|c| {
            let consentry::storage::DbConn::Sqlite(c) = c else {
                unreachable!()
            };
            diesel::sql_query(format!("VACUUM INTO '{}'", db_b.display())).execute(c)?;
            Ok(())
        })
        .unwrap();
    let b = open_node(node_dir.path(), &db_b, vec![w.entry()]);
    assert_eq!(log_size(&b), common);
    append(&a, "shown to regulator A");
    append(&b, "shown to regulator B");
    let fork_size = common + 1;
    let a_note = publish(&a);
    assert!(
        witnessed(&log_key, &wkey, &a_note),
        "A extends what the witness saw"
    );

    // B's checkpoint of the same size is refused (the node logs it as a possible split view) ...
    let b_note = publish(&b);
    assert_eq!(latest(&b).0, fork_size);
    assert!(!witnessed(&log_key, &wkey, &b_note));
    assert_ne!(
        Note::parse(a_note.as_bytes()).unwrap().text(),
        Note::parse(b_note.as_bytes()).unwrap().text()
    );
    // ... on the wire: same size, different root → 422; from the fork point → 409 (the witness is at
    // A's size); B's next checkpoint with B's own valid proof → 422.
    let b_cp = Note::parse(b_note.as_bytes()).unwrap().to_text().unwrap();
    assert_eq!(post(&w.url, &request(fork_size, vec![], &b_cp)).status, 422);
    let r = post(&w.url, &request(common, node_proof(&b, common, fork_size), &b_cp));
    assert_eq!((r.status, r.body.clone()), (409, format!("{fork_size}\n")));
    append(&b, "more for B");
    let b_next = publish(&b);
    assert!(!witnessed(&log_key, &wkey, &b_next));
    let b_next_cp = Note::parse(b_next.as_bytes()).unwrap().to_text().unwrap();
    let r = post(
        &w.url,
        &request(fork_size, node_proof(&b, fork_size, fork_size + 1), &b_next_cp),
    );
    assert_eq!(r.status, 422, "{}", r.body);

    // A carries on being witnessed.
    append(&a, "more for A");
    let a_next = publish(&a);
    assert!(witnessed(&log_key, &wkey, &a_next));
    assert_eq!(get_json(&w.url)["logs"][0]["size"], fork_size + 1);
    assert_eq!(
        get_json(&w.url)["logs"][0]["root"],
        STANDARD.encode(
            Checkpoint::parse_body(Note::parse(a_next.as_bytes()).unwrap().text())
                .unwrap()
                .root()
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Key rollover (spec/witness.md §4)
// ---------------------------------------------------------------------------------------------

fn post_keys(url: &str, records: &[String]) -> (u16, String) {
    let body = serde_json::json!({
        "origin": ORIGIN,
        "records": records.iter().map(|n| serde_json::json!({"note": n})).collect::<Vec<_>>(),
    });
    match crate::common::server::http()
        .post(&format!("{url}/log-keys"))
        .send_json(body)
    {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap()),
        Err(e) => panic!("transport: {e}"),
    }
}

/// A key record of [`ORIGIN`] introducing the key of `seed`, committing to the key of `seed + 1`,
/// signed by the keys of `signers`.
fn key_record(
    seq: u64,
    kind: KeyRecordKind,
    seed: u8,
    from: u64,
    prev: Option<&str>,
    signers: &[u8],
) -> String {
    let key = |s: u8| SecretKey::from_seed(&[s; 32]);
    let record = KeyRecord {
        origin: ORIGIN.into(),
        seq,
        kind,
        key: Signer::new(ORIGIN, key(seed)).unwrap().verifier_key(),
        from,
        prev: prev.map(|p| record_digest(Note::parse(p.as_bytes()).unwrap().text())),
        next: next_key_digest(&key(seed + 1).public_key()),
        time: 0,
    };
    let s: Vec<Signer> = signers
        .iter()
        .map(|&i| Signer::new(ORIGIN, key(i)).unwrap())
        .collect();
    record.sign(&s.iter().collect::<Vec<_>>()).unwrap()
}

#[test]
fn a_witness_follows_the_key_history_from_the_first_key() {
    let dir = tempfile::tempdir().unwrap();
    let old = MemLog::new(ORIGIN, 1, &LEAVES);
    let new = MemLog::new(ORIGIN, 2, &LEAVES);
    let w = TestWitness::start(dir.path(), vec![(ORIGIN.into(), old.vkey())], "127.0.0.1:0");
    // The new key is unknown: its checkpoint is refused.
    assert_eq!(post(&w.url, &request(0, vec![], &new.checkpoint(5))).status, 403);

    let genesis = key_record(0, KeyRecordKind::Genesis, 1, 0, None, &[1]);
    let planned = key_record(1, KeyRecordKind::Planned, 2, 4, Some(&genesis), &[1, 2]);
    // A planned record the old key did not sign, or one naming a key not committed to, is refused.
    let half = key_record(1, KeyRecordKind::Planned, 2, 4, Some(&genesis), &[2]);
    let (status, body) = post_keys(&w.url, &[genesis.clone(), half]);
    assert_eq!(status, 403, "{body}");
    let stranger = key_record(1, KeyRecordKind::Emergency, 7, 4, Some(&genesis), &[7]);
    let (status, body) = post_keys(&w.url, &[genesis.clone(), stranger]);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not the key committed"), "{body}");

    let (status, body) = post_keys(&w.url, &[genesis.clone(), planned.clone()]);
    assert_eq!((status, body.as_str()), (200, "2\n"));
    // Below the new key's `from` its checkpoint is refused; from there on it is cosigned.
    assert_eq!(post(&w.url, &request(0, vec![], &new.checkpoint(3))).status, 403);
    let cp = new.checkpoint(5);
    assert_cosigned(&new.vkey(), &w.vkey, &cp, &post(&w.url, &request(0, vec![], &cp)));
    // A history that drops a record is not an extension of the one it holds.
    let (status, _) = post_keys(&w.url, std::slice::from_ref(&genesis));
    assert_eq!(status, 403);
    assert_eq!(get_json(&w.url)["logs"][0]["keyHistory"], 2);

    // The history is durable: after a restart the new key's checkpoints are still accepted.
    let addr = w.url.trim_start_matches("http://").to_owned();
    drop(w);
    let w = TestWitness::start(dir.path(), vec![(ORIGIN.into(), old.vkey())], &addr);
    assert_eq!(get_json(&w.url)["logs"][0]["keyHistory"], 2);
    let cp = new.checkpoint(7);
    let proof = new.proof(5, 7);
    assert_cosigned(&new.vkey(), &w.vkey, &cp, &post(&w.url, &request(5, proof, &cp)));
}

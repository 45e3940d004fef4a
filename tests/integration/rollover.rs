//! Node key rollover (issue #16 item 4, spec/access-log.md §5.5), on SQLite and PostgreSQL: a
//! serving node under load and a witness process configured with the node's first key only; a
//! planned rollover (`consentry admin rotate-key`, run as another process while the node serves),
//! its completion, then an emergency rollover. Checkpoints before, during and after carry the
//! right signatures and stay cosigned (the witness follows the key history), and `consentry audit
//! verify` given only the first key verifies the whole history; tampered key records, a checkpoint
//! by an unknown key and one by the compromised key past the emergency cut are refused with their
//! codes. A status list signed by the first key still verifies; after a restart the node speaks
//! with the new key.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use consentry::clock::{Clock, SystemClock};
use consentry::crypto::SecretKey;
use consentry::identity::KeyFile;
use consentry::log::checkpoint::CheckpointPolicy;
use consentry::log::note::{Note, Signer, VerifierKey};
use consentry::node::Node;
use serde_json::Value;

use crate::admin::admin;
use crate::common::server::{Backend, PgDatabase, TestNode, get_public, test_webhooks};
use crate::witness::{WitnessProcess, append};

/// Appends entries every few milliseconds until dropped: the rollover happens mid-load.
struct Load {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Load {
    fn start(node: Arc<Node>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut i = 0;
            while !flag.load(Ordering::Relaxed) {
                append(&node, &format!("load-{i}"));
                i += 1;
                std::thread::sleep(Duration::from_millis(15));
            }
            i
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().map_or(0, |t| t.join().unwrap())
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The newest checkpoint the node serves.
fn newest(node: &TestNode) -> String {
    get_public(&format!("{}/v1/log/checkpoint", node.url)).text
}

fn vkey_of(origin: &str, key: &SecretKey) -> VerifierKey {
    Signer::new(origin, key.clone()).unwrap().verifier_key()
}

/// The log keys that signed `note` among `keys`, in the order given.
fn signed_by(note: &str, keys: &[&VerifierKey]) -> Vec<usize> {
    let n = Note::parse(note.as_bytes()).unwrap();
    keys.iter()
        .enumerate()
        .filter(|(_, k)| n.clone().verify(&[(**k).clone()]).is_ok())
        .map(|(i, _)| i)
        .collect()
}

fn cosigned(note: &str, witness: &VerifierKey) -> bool {
    let n = Note::parse(note.as_bytes()).unwrap();
    consentry::log::checkpoint::verify_cosignatures(&n, std::slice::from_ref(witness))
        .is_ok_and(|c| !c.is_empty())
}

fn size_of(note: &str) -> u64 {
    let n = Note::parse(note.as_bytes()).unwrap();
    consentry::log::checkpoint::Checkpoint::parse_body(n.text())
        .unwrap()
        .size()
}

/// `consentry audit verify BUNDLE --log-key VKEY --json`: exit code and report.
fn audit_verify(bundle: &Path, log_key: &VerifierKey) -> (Option<i32>, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["audit", "verify"])
        .arg(bundle)
        .args(["--log-key", &log_key.to_vkey(), "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn export(node: &Node, path: &Path) -> String {
    let mut f = std::fs::File::create(path).unwrap();
    let mut c = node.store.conn().unwrap();
    consentry::node::audit::export(node, &mut c, None, &mut f).unwrap();
    std::fs::read_to_string(path).unwrap()
}

fn failure_checks(report: &Value) -> Vec<String> {
    report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap().to_owned())
        .collect()
}

/// `consentry admin rotate-key --emergency --next-key NEXT --from FROM`.
fn emergency(dir: &Path, url: &str, next: &Path, from: u64) -> crate::admin::Ran {
    let from = from.to_string();
    admin(
        dir,
        url,
        &[
            "rotate-key",
            "--emergency",
            "--next-key",
            next.to_str().unwrap(),
            "--from",
            &from,
        ],
    )
}

fn rollover(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let witness_dir = tempfile::tempdir().unwrap();
    let pg = (backend == Backend::Postgres).then(PgDatabase::create);
    let database_url = match &pg {
        Some(db) => db.url(),
        None => format!("sqlite://{}", dir.path().join("node.sqlite3").display()),
    };
    // The witness's port is chosen first; the node learns its vkey from it (GET /).
    let witness_port = crate::common::free_port();
    let witness_url = format!("http://127.0.0.1:{witness_port}");
    let node = TestNode::start_full(
        dir,
        database_url.clone(),
        pg,
        test_webhooks(),
        Arc::new(consentry::clock::ShiftedClock::default()),
        None,
        vec![witness_url.clone()],
    );
    let origin = node.node.origin.clone();
    let k1 = vkey_of(&origin, &node.node_key.secret);
    let witness = WitnessProcess::spawn_on(
        witness_dir.path(),
        &format!("127.0.0.1:{witness_port}"),
        &["--log".into(), format!("{origin}={}", k1.to_vkey())],
    );
    let wkey = VerifierKey::parse(&witness.vkey).unwrap();
    let data_dir = node.dir.path().to_path_buf();
    let tag_key = node.node.tag_key;
    let load = Load::start(Arc::clone(&node.node));

    // Before: the first key signs, the witness cosigns.
    wait_for("a cosigned checkpoint under the first key", || {
        let n = newest(&node);
        n.contains('\n') && cosigned(&n, &wkey)
    });
    let before = newest(&node);
    assert_eq!(signed_by(&before, &[&k1]), vec![0]);
    // The genesis is in the history, committing to a next key kept in the data folder.
    let keys: Value = get_public(&format!("{}/v1/log/keys", node.url)).body;
    assert_eq!(keys["records"].as_array().unwrap().len(), 1);
    assert_eq!(keys["records"][0]["kind"], "genesis");
    assert_eq!(keys["current"], k1.to_vkey());
    // A status list signed by the first key, to verify after the rollovers.
    node.node
        .store
        .run(|c| consentry::storage::status_lists::allocate_slot(c, "91330000MA0000001X", 0))
        .unwrap();
    let old_list = get_public(&format!("{}/status/1/revocation", node.url));
    assert_eq!(old_list.status, 200, "{}", old_list.text);

    // Planned rollover, by another process while the node serves: both keys sign.
    let next = KeyFile::read(&data_dir.join("node.next.key.json")).unwrap();
    let k2 = vkey_of(&origin, &next.secret);
    let r = admin(&data_dir, &database_url, &["rotate-key"]).ok();
    assert!(r.out.contains("(planned)"), "{}", r.out);
    assert!(r.out.contains("move it offline"), "{}", r.out);
    wait_for("a checkpoint signed by both keys, cosigned", || {
        let n = newest(&node);
        signed_by(&n, &[&k1, &k2]) == vec![0, 1] && cosigned(&n, &wkey)
    });
    let during = newest(&node);
    // Refused while the overlap is open; a next key that is not the pre-committed one is refused.
    admin(&data_dir, &database_url, &["rotate-key"]).failed(2, "in progress");
    let stranger = data_dir.join("stranger.key.json");
    KeyFile::new(SecretKey::generate().unwrap())
        .write_new(&stranger)
        .unwrap();
    emergency(&data_dir, &database_url, &stranger, 1).failed(2, "not the key the history committed to");

    // Complete: only the new key signs, and the witness, which knows only the first key, follows
    // it through the key history the node sends.
    admin(&data_dir, &database_url, &["rotate-key", "--complete"]).ok();
    wait_for("a checkpoint signed by the new key only, cosigned", || {
        let n = newest(&node);
        signed_by(&n, &[&k1, &k2]) == vec![1] && cosigned(&n, &wkey)
    });
    let after = newest(&node);
    let info: Value = crate::common::server::http()
        .get(&format!("{}/", witness.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(info["logs"][0]["keyHistory"], 3, "{info}");

    // Emergency: the second key is "compromised"; the pre-committed third key takes over from the
    // current size, and the node re-signs its stored checkpoints from there.
    let k2_secret = KeyFile::read(&data_dir.join("node.key.json")).unwrap().secret;
    let next = KeyFile::read(&data_dir.join("node.next.key.json")).unwrap();
    let k3 = vkey_of(&origin, &next.secret);
    // The cut at a later checkpoint, so that `after` stays signed by the second key alone and
    // the checkpoint at the cut is re-signed.
    wait_for("a second checkpoint by the second key", || {
        size_of(&newest(&node)) > size_of(&after)
    });
    let cut = size_of(&newest(&node));
    emergency(
        &data_dir,
        &database_url,
        &data_dir.join("node.next.key.json"),
        cut,
    )
    .ok();
    wait_for("a checkpoint by the third key, cosigned", || {
        let n = newest(&node);
        size_of(&n) > cut && signed_by(&n, &[&k3]) == vec![0] && cosigned(&n, &wkey)
    });
    let entries = load.finish();
    assert!(entries > 20, "the load appended {entries} entries");
    let last = newest(&node);
    wait_for("the last entries checkpointed", || {
        let n = newest(&node);
        size_of(&n)
            == node
                .node
                .store
                .run(consentry::storage::log_store::head)
                .unwrap()
                .0
    });

    // GET /v1/log/keys: four records and each key's range.
    let keys: Value = get_public(&format!("{}/v1/log/keys", node.url)).body;
    let kinds: Vec<&str> = keys["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["genesis", "planned", "complete", "emergency"]);
    assert_eq!(keys["current"], k3.to_vkey());
    assert_eq!(keys["keys"][1]["until"], cut);
    assert_eq!(keys["keys"][2]["from"], cut);

    // The offline verifier, given only the first key, verifies the whole history.
    let bundle_dir = tempfile::tempdir().unwrap();
    let bundle = bundle_dir.path().join("bundle.jsonl");
    let text = export(&node.node, &bundle);
    // Its checkpoints: by the first key (before), by both (during the overlap), by the second
    // (after it), by the second and the third (re-signed from the emergency cut), by the third.
    let patterns: std::collections::BTreeSet<Vec<usize>> = text
        .lines()
        .filter_map(|l| {
            serde_json::from_str::<Value>(l).ok()?["checkpoint"]
                .as_str()
                .map(str::to_owned)
        })
        .map(|n| signed_by(&n, &[&k1, &k2, &k3]))
        .collect();
    let want: std::collections::BTreeSet<Vec<usize>> = [vec![0], vec![0, 1], vec![1], vec![1, 2], vec![2]]
        .into_iter()
        .collect();
    assert_eq!(patterns, want);
    for cp in [&before, &during, &after] {
        let cp_text = Note::parse(cp.as_bytes()).unwrap().text().to_owned();
        assert!(
            text.contains(
                &serde_json::to_string(&cp_text).unwrap()[1..]
                    .trim_end_matches('"')
                    .to_owned()
            )
        );
    }
    let (code, report, err) = audit_verify(&bundle, &k1);
    assert_eq!(code, Some(0), "{err}\n{report}");
    assert_eq!(report["valid"], true);
    assert!(report["checkpoints"].as_u64().unwrap() >= 4, "{report}");
    // So does `--node URL` (leaves and checkpoints, the key history from GET /v1/log/keys).
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["audit", "verify", "--node", &node.url, "--log-key", &k1.to_vkey()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A client pinned to the first key alone still verifies the checkpoints it signed.
    let policy = CheckpointPolicy::new(&origin, k1.clone(), vec![], 0).unwrap();
    policy.verify(before.as_bytes(), SystemClock.now()).unwrap();

    // Tampering is refused with its code.
    let tamper = |name: &str, f: &dyn Fn(&str) -> String| {
        let p = bundle_dir.path().join(name);
        std::fs::write(&p, f(&text)).unwrap();
        audit_verify(&p, &k1)
    };
    // A key record whose size was changed after signing.
    let (code, report, _) = tamper("record.jsonl", &|t| {
        let mut lines: Vec<String> = t.lines().map(str::to_owned).collect();
        let i = lines.iter().position(|l| l.contains("kind emergency")).unwrap();
        lines[i] = lines[i].replace(&format!("from {cut}\\n"), &format!("from {}\\n", cut + 1));
        lines.join("\n") + "\n"
    });
    assert_eq!(code, Some(1));
    assert!(
        failure_checks(&report).contains(&"key-history".to_owned()),
        "{report}"
    );
    // A checkpoint by the compromised key past the emergency cut.
    // The newest checkpoint's text signed by `key` alone, as one more bundle line.
    let forged = |t: &str, key: &SecretKey| {
        let n = Note::parse(last.as_bytes()).unwrap();
        let mut forged = Note::new(n.text()).unwrap();
        forged.sign(&Signer::new(&origin, key.clone()).unwrap()).unwrap();
        format!(
            "{t}{}\n",
            serde_json::json!({"checkpoint": forged.to_text().unwrap()})
        )
    };
    let (code, report, _) = tamper("revoked.jsonl", &|t| forged(t, &k2_secret));
    assert_eq!(code, Some(1));
    assert!(
        failure_checks(&report).contains(&"key-revoked".to_owned()),
        "{report}"
    );
    // A checkpoint by a key not in the history.
    let (code, report, _) = tamper("unknown.jsonl", &|t| forged(t, &SecretKey::from_seed(&[42; 32])));
    assert_eq!(code, Some(1));
    assert!(
        failure_checks(&report).contains(&"signature".to_owned()),
        "{report}"
    );

    // The status list signed by the first key still verifies: its issuer is a key of the history.
    let vc = consentry::credential::verify(old_list.text.as_bytes(), SystemClock.now()).unwrap();
    assert_eq!(vc.signer.as_str(), node.did);
    let dids: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["did"].as_str().unwrap())
        .collect();
    assert!(dids.contains(&vc.signer.as_str()));

    // After a restart the node speaks with the third key: its DID, new status lists, and its
    // own registry entry.
    drop(witness);
    let node = node.restart();
    let k3_did = consentry::identity::DidKey::from_public_key(&next.secret.public_key())
        .as_str()
        .to_owned();
    assert_eq!(node.did, k3_did);
    // The subject-tag key did not change with the signing key: the subject chains go on.
    assert_eq!(node.node.tag_key, tag_key);
    let info: Value = get_public(&format!("{}/v1/node", node.url)).body;
    assert_eq!(info["did"], k3_did.as_str());
    assert_eq!(info["logKey"], k3.to_vkey());
    assert_eq!(info["logKeys"].as_array().unwrap().len(), 3);
    let new_list = get_public(&format!("{}/status/1/revocation", node.url));
    let vc = consentry::credential::verify(new_list.text.as_bytes(), SystemClock.now()).unwrap();
    assert_eq!(vc.signer.as_str(), k3_did);
    let me = node.operator().get("/v1/participants/me");
    assert_eq!(me.status, 200, "{}", me.text);

    // Without its subject-tag key file a rotated node refuses to start (deriving it from the
    // current key would break every subject chain); with it back, it starts.
    let tag_file = node.dir.path().join("node.subject-tag.key");
    let aside = node.dir.path().join("tag.aside");
    std::fs::rename(&tag_file, &aside).unwrap();
    admin(node.dir.path(), &node.database_url, &["tag-key"]).failed(2, "node.subject-tag.key is missing");
    std::fs::rename(&aside, &tag_file).unwrap();
    let r = admin(node.dir.path(), &node.database_url, &["tag-key"]).ok();
    assert_eq!(r.out.trim(), hex::encode(tag_key));
}

#[test]
fn planned_then_emergency_rollover_on_sqlite() {
    rollover(Backend::Sqlite);
}

#[test]
fn planned_then_emergency_rollover_on_postgres() {
    rollover(Backend::Postgres);
}

/// The key is lost, not just compromised: no process can open the node, yet the pre-committed key
/// takes over through `rotate-key --emergency` on the database alone, and the node starts on it.
#[test]
fn an_emergency_rollover_replaces_a_lost_key() {
    let mut node = TestNode::start(Backend::Sqlite);
    let origin = node.node.origin.clone();
    let k1 = vkey_of(&origin, &node.node_key.secret);
    for i in 0..5 {
        append(&node.node, &format!("before-{i}"));
    }
    wait_for("a checkpoint", || newest(&node).contains('\n'));
    let cut = node
        .node
        .store
        .run(consentry::storage::log_store::head)
        .unwrap()
        .0;
    node.stop();
    let dir = node.dir.path().to_path_buf();
    std::fs::remove_file(dir.join("node.key.json")).unwrap();
    // Only an emergency rollover works without the key; it names the pre-committed key.
    admin(&dir, &node.database_url, &["rotate-key"]).failed(2, "node.key.json");
    let next = KeyFile::read(&dir.join("node.next.key.json")).unwrap();
    let r = emergency(&dir, &node.database_url, &dir.join("node.next.key.json"), cut).ok();
    assert!(r.out.contains("(emergency)"), "{}", r.out);
    let node = node.restart();
    let k2 = vkey_of(&origin, &next.secret);
    assert_eq!(node.node_key.secret.public_key(), next.secret.public_key());
    append(&node.node, "after");
    wait_for("a checkpoint by the new key", || {
        let n = newest(&node);
        size_of(&n) > cut && signed_by(&n, &[&k1, &k2]) == vec![1]
    });
    let bundle_dir = tempfile::tempdir().unwrap();
    let bundle = bundle_dir.path().join("bundle.jsonl");
    export(&node.node, &bundle);
    let (code, report, err) = audit_verify(&bundle, &k1);
    assert_eq!(code, Some(0), "{err}\n{report}");
}

/// Clients keep the DID they read from `GET /v1/node`: after a planned rotation and a restart, an
/// assertion addressed to the node's earlier DID is still accepted (spec/access-log.md §5.5.4), as
/// it is after the overlap completes. After an emergency rotation the DIDs of the keys it cut are
/// refused (401): whoever holds a cut key could pose as the node and replay here what clients sent
/// it. The current DID is accepted throughout.
#[test]
fn earlier_dids_stay_the_audience_until_an_emergency_cuts_them() {
    let node = TestNode::start(Backend::Sqlite);
    append(&node.node, "before");
    wait_for("a checkpoint (and the genesis record)", || {
        newest(&node).contains('\n')
    });
    let status_as = |node: &TestNode, audience: &str| {
        let mut c = node.operator();
        c.audience = audience.to_owned();
        c.get("/v1/participants/me").status
    };
    let d1 = node.did.clone();
    assert_eq!(status_as(&node, &d1), 200);
    assert_eq!(
        status_as(&node, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
        401
    );

    let (dir, url) = (node.dir.path().to_path_buf(), node.database_url.clone());
    admin(&dir, &url, &["rotate-key"]).ok();
    let node = node.restart();
    let d2 = node.did.clone();
    assert_ne!(d1, d2);
    assert_eq!(status_as(&node, &d2), 200);
    assert_eq!(
        status_as(&node, &d1),
        200,
        "the first DID after a planned rotation"
    );

    let (dir, url) = (node.dir.path().to_path_buf(), node.database_url.clone());
    admin(&dir, &url, &["rotate-key", "--complete"]).ok();
    let node = node.restart();
    assert_eq!(
        status_as(&node, &d1),
        200,
        "the first DID after the overlap completed"
    );

    append(&node.node, "later");
    let size = node
        .node
        .store
        .run(consentry::storage::log_store::head)
        .unwrap()
        .0;
    let (dir, url) = (node.dir.path().to_path_buf(), node.database_url.clone());
    emergency(&dir, &url, &dir.join("node.next.key.json"), size).ok();
    // The running process still holds the cut key; once it has read the new history (a checkpoint
    // round) it refuses assertions addressed to it, its own DID included, until it restarts.
    wait_for("the running node to refuse its own cut DID", || {
        status_as(&node, &d2) == 401
    });
    assert_eq!(status_as(&node, &d1), 401);
    let node = node.restart();
    let d3 = node.did.clone();
    assert!(d3 != d1 && d3 != d2);
    assert_eq!(status_as(&node, &d3), 200);
    assert_eq!(status_as(&node, &d1), 401, "a DID the emergency cut");
    assert_eq!(status_as(&node, &d2), 401, "a DID the emergency cut");
}

//! The access log as a static C2SP tlog-tiles layout (spec/access-log.md §7.4, §8.6), on SQLite, with
//! the real `consentry audit` binary: a node logs 600 entries (two full tiles, a partial level-0 tile
//! of 88 and a partial level-1 tile of 2) and checkpoints them; the tiles verify live (from the
//! node's base URL and from its tile prefix, against a trusted checkpoint saved half-way) and as a
//! folder mirrored with `audit export-tiles`. Then one byte of an exported entry bundle, and one byte
//! of an exported hash tile, are flipped: `audit verify --tiles DIR` exits 1 naming the entry, the
//! tile; a missing bundle, a newer trusted checkpoint (rollback) and a forged one (fork) are named
//! too, and a second export fetches only what the log added. The node's range reads are also run on
//! PostgreSQL.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use consentry::log::entry::{AccessRecord, EntryKind, LEAF_LEN};
use consentry::log::merkle;
use consentry::log::note::Signer;
use consentry::log::tiles::{self, Tile};
use consentry::storage::log_store::NewEntry;

use crate::common::server::{Backend, TestNode, get_public};

const ENTERPRISES: [&str; 3] = ["91330100716105852F", "91110000100000000X", "91440300708461136T"];

/// Appends `n` release entries about three enterprises (so the subject chains run through the log),
/// in one group commit.
pub fn append_entries(node: &TestNode, n: usize) {
    node.node
        .committer
        .run_blocking(move |tx| {
            for i in 0..n {
                let enterprise = ENTERPRISES[i % ENTERPRISES.len()].to_owned();
                tx.append(NewEntry {
                    kind: EntryKind::Release,
                    enterprise: Some(enterprise.clone()),
                    grant: None,
                    caller: None,
                    platform: None,
                    bank: None,
                    categories: Some("REG-01".into()),
                    decision: Some("allowed".into()),
                    record: AccessRecord {
                        enterprise: Some(enterprise),
                        decision: Some("allowed".into()),
                        ..Default::default()
                    },
                })?;
            }
            Ok(())
        })
        .unwrap();
}

pub fn log_size(node: &TestNode) -> u64 {
    get_public(&format!("{}/v1/node", node.url)).body["logSize"]
        .as_u64()
        .unwrap()
}

/// Waits until the newest checkpoint covers the whole log; returns its note.
fn wait_for_checkpoint(node: &TestNode) -> String {
    let size = log_size(node);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = get_public(&format!("{}/v1/log/checkpoint", node.url));
        if r.status == 200 && r.text.lines().nth(1) == Some(size.to_string().as_str()) {
            return r.text;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint of size {size} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn failures(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("invalid: "))
            .collect()
    }

    fn first_failure(&self) -> &str {
        self.failures()
            .first()
            .copied()
            .unwrap_or_else(|| panic!("no failure reported: {self:?}"))
    }
}

fn consentry(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn fetch(url: &str) -> (u16, Vec<u8>, Option<String>) {
    let r = match crate::common::server::http().get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{url}: {e}"),
    };
    let status = r.status();
    let cache = r.header("cache-control").map(str::to_owned);
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut bytes).unwrap();
    (status, bytes, cache)
}

fn flip(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn tiles_verify_live_and_exported_and_name_a_changed_entry_or_tile() {
    let node = TestNode::start(Backend::Sqlite);
    // A fresh node has logged its own start already: fill up to 300.
    let base = usize::try_from(log_size(&node)).unwrap();
    append_entries(&node, 300 - base);
    let half = wait_for_checkpoint(&node);
    append_entries(&node, 300);
    let note = wait_for_checkpoint(&node);
    assert_eq!(note.lines().nth(1), Some("600"));
    let files = tempfile::tempdir().unwrap();
    let trusted = files.path().join("half.checkpoint");
    std::fs::write(&trusted, &half).unwrap();
    let vkey = Signer::new(node.node.origin.clone(), node.node_key.secret.clone())
        .unwrap()
        .verifier_key()
        .to_vkey();
    let prefix = format!("{}/v1/log", node.url);

    // The node's tiles: the leaves, length-prefixed, and the stored hashes.
    let (status, bundle, cache) = fetch(&format!("{prefix}/tile/entries/001"));
    assert_eq!(status, 200);
    assert_eq!(cache.as_deref(), Some("public, max-age=31536000, immutable"));
    let (_, leaves, _) = fetch(&format!("{}/v1/log/leaves?from=256&limit=256", node.url));
    let entries = tiles::parse_bundle(&bundle).unwrap();
    assert_eq!(entries.len(), 256);
    assert_eq!(entries.concat(), leaves);
    let (status, tile, cache) = fetch(&format!("{prefix}/tile/0/001"));
    assert_eq!((status, tile.len()), (200, 8192));
    assert_eq!(cache.as_deref(), Some("public, max-age=31536000, immutable"));
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.len(), LEAF_LEN);
        assert_eq!(tile[i * 32..(i + 1) * 32], merkle::leaf_hash(e));
    }
    let (status, edge, cache) = fetch(&format!("{prefix}/tile/1/000.p/2"));
    assert_eq!((status, edge.len()), (200, 64));
    assert_eq!(cache.as_deref(), Some("public, max-age=60"));
    let hashes = tiles::decode_hashes(&tile, 256).unwrap();
    assert_eq!(edge[32..], merkle::root_from_leaf_hashes(&hashes));
    for (path, status) in [
        ("tile/0/002.p/88", 200),
        ("tile/entries/002.p/88", 200),
        ("tile/0/002.p/87", 200),
        ("tile/0/002.p/89", 404),
        ("tile/0/002", 404),
        ("tile/entries/003.p/1", 404),
        ("tile/1/000", 404),
        ("tile/2/000.p/1", 404),
        ("tile/9/000.p/1", 404),
        ("tile/0/2", 400),
        ("tile/0/002.p/088", 400),
        ("tile/0/x000/002", 400),
        ("tile/64/000", 400),
    ] {
        let (got, body, _) = fetch(&format!("{prefix}/{path}"));
        assert_eq!(got, status, "{path}: {}", String::from_utf8_lossy(&body));
    }

    // Live, from the base URL and from the prefix, against the checkpoint saved half-way.
    let trusted_arg = trusted.to_str().unwrap();
    for source in [node.url.as_str(), prefix.as_str()] {
        let r = consentry(&[
            "audit",
            "verify",
            "--tiles",
            source,
            "--log-key",
            &vkey,
            "--trusted-checkpoint",
            trusted_arg,
        ]);
        assert_eq!(r.code, Some(0), "{r:?}");
        assert!(r.stdout.contains("  entries: 600 (root "), "{}", r.stdout);
        assert!(
            r.stdout.contains(&format!(
                "  tiles: {prefix}: checkpoint of size 600, 3 entry bundles and 4 hash tiles"
            )),
            "{}",
            r.stdout
        );
        assert!(
            r.stdout
                .contains("  trusted checkpoint: size 300, extended by this log")
        );
    }
    // --log-key is required; a key that did not sign fails the checkpoint.
    let r = consentry(&["audit", "verify", "--tiles", &node.url]);
    assert_eq!(r.code, Some(2), "{r:?}");
    let other = Signer::new(
        node.node.origin.clone(),
        consentry::crypto::ed25519::SecretKey::generate().unwrap(),
    )
    .unwrap()
    .verifier_key()
    .to_vkey();
    let r = consentry(&["audit", "verify", "--tiles", &node.url, "--log-key", &other]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        r.first_failure().starts_with(&format!(
            "invalid: signature: {prefix}/checkpoint does not verify under the log key"
        )),
        "{r:?}"
    );

    // Exported, then verified offline; a second export finds every tile already there.
    let dir = files.path().join("mirror");
    let out = dir.to_str().unwrap();
    let r = consentry(&["audit", "export-tiles", "--node", &node.url, "--out", out]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains(" at size 600 to "), "{}", r.stdout);
    assert!(
        r.stdout
            .ends_with(": 7 fetched (102064 bytes), 0 already there\n"),
        "{}",
        r.stdout
    );
    assert_eq!(std::fs::read_to_string(dir.join("checkpoint")).unwrap(), note);
    for t in tiles::tiles_of(600) {
        let (_, live, _) = fetch(&format!("{prefix}/{}", t.path()));
        assert_eq!(std::fs::read(dir.join(t.path())).unwrap(), live, "{t}");
    }
    let r = consentry(&["audit", "export-tiles", "--node", &prefix, "--out", out]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.ends_with(": 0 fetched (0 bytes), 7 already there\n"),
        "{}",
        r.stdout
    );
    let verify = || {
        consentry(&[
            "audit",
            "verify",
            "--tiles",
            out,
            "--log-key",
            &vkey,
            "--trusted-checkpoint",
            trusted_arg,
        ])
    };
    let r = verify();
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("  tiles: {out}: checkpoint of size 600")),
        "{}",
        r.stdout
    );
    let r = consentry(&["audit", "verify", "--tiles", out, "--log-key", &vkey, "--json"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["tiles"]["entries"], 600);
    assert_eq!(json["tiles"]["hashTiles"], 4);

    // One byte of entry 301's leaf (its record commitment) in the exported bundle.
    let bundle = dir.join(Tile::entries(1, 256).unwrap().path());
    let saved = std::fs::read(&bundle).unwrap();
    flip(&bundle, 45 * (2 + LEAF_LEN) + 2 + 120);
    let r = verify();
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        r.first_failure()
            .starts_with("invalid: entry: entry 301 (in tile/entries/001): its bytes hash to "),
        "{r:?}"
    );
    assert!(
        r.first_failure()
            .ends_with("which the checkpoint's root covers: the entry was changed"),
        "{r:?}"
    );
    std::fs::write(&bundle, &saved).unwrap();

    // One byte of the hash of entry 519 in the exported partial level-0 tile.
    let tile = dir.join("tile/0/002.p/88");
    flip(&tile, 7 * 32 + 5);
    let r = verify();
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        r.first_failure()
            .starts_with("invalid: tile: tile/0/002.p/88: hash 7 (entry 519) is "),
        "{r:?}"
    );
    assert_eq!(r.failures().len(), 1, "{r:?}");
    flip(&tile, 7 * 32 + 5);

    // A bundle gone from the folder.
    std::fs::remove_file(&bundle).unwrap();
    let r = verify();
    assert_eq!(r.code, Some(1), "{r:?}");
    assert_eq!(
        r.first_failure(),
        "invalid: entry-bundle: tile/entries/001 is not served: entries 256..512 cannot be checked"
    );
    std::fs::write(&bundle, &saved).unwrap();
    assert_eq!(verify().code, Some(0));

    // The trusted checkpoint is checked through the tiles: a newer one than the mirror's is a
    // rollback; one of the same key whose root the first 300 entries do not give is a fork.
    append_entries(&node, 100);
    let newer = files.path().join("newer.checkpoint");
    std::fs::write(&newer, wait_for_checkpoint(&node)).unwrap();
    let r = consentry(&[
        "audit",
        "verify",
        "--tiles",
        out,
        "--log-key",
        &vkey,
        "--trusted-checkpoint",
        newer.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        r.first_failure().starts_with(
            "invalid: rollback: the log holds 600 entries, but the trusted checkpoint saved earlier has 700"
        ),
        "{r:?}"
    );
    let signer = Signer::new(node.node.origin.clone(), node.node_key.secret.clone()).unwrap();
    let forged = consentry::log::checkpoint::Checkpoint::new(node.node.origin.clone(), 300, [7; 32])
        .unwrap()
        .sign(&signer)
        .unwrap()
        .to_text()
        .unwrap();
    let forged_path = files.path().join("forged.checkpoint");
    std::fs::write(&forged_path, forged).unwrap();
    let r = consentry(&[
        "audit",
        "verify",
        "--tiles",
        out,
        "--log-key",
        &vkey,
        "--trusted-checkpoint",
        forged_path.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        r.first_failure().starts_with(
            "invalid: fork: the first 300 entries do not lead to the trusted checkpoint (size 300)"
        ),
        "{r:?}"
    );

    // A later export fetches only what the log added (the partial tiles of the new size).
    let r = consentry(&["audit", "export-tiles", "--node", &node.url, "--out", out]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.ends_with(": 2 fetched (31960 bytes), 5 already there\n"),
        "{}",
        r.stdout
    );
    let r = verify();
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("  entries: 700 (root "), "{}", r.stdout);

    // Not a folder, not a URL; a folder without a checkpoint.
    let r = consentry(&[
        "audit",
        "verify",
        "--tiles",
        "/nonexistent/tiles",
        "--log-key",
        &vkey,
    ]);
    assert_eq!(r.code, Some(2), "{r:?}");
    let r = consentry(&[
        "audit",
        "verify",
        "--tiles",
        files.path().to_str().unwrap(),
        "--log-key",
        &vkey,
    ]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("/checkpoint: not found"), "{r:?}");
}

/// The same range reads on PostgreSQL: a full and a partial tile of each kind, a tile not complete,
/// and the whole layout verified from the node's base URL.
#[test]
fn tiles_are_served_from_postgres() {
    let node = TestNode::start(Backend::Postgres);
    let base = usize::try_from(log_size(&node)).unwrap();
    append_entries(&node, 300 - base);
    let note = wait_for_checkpoint(&node);
    assert_eq!(note.lines().nth(1), Some("300"));
    let prefix = format!("{}/v1/log", node.url);
    for (path, status, len) in [
        ("tile/0/000", 200, 8192),
        ("tile/0/001.p/44", 200, 44 * 32),
        ("tile/1/000.p/1", 200, 32),
        ("tile/entries/000", 200, 256 * 138),
        ("tile/entries/001.p/44", 200, 44 * 138),
        ("tile/0/001", 404, 0),
        ("tile/entries/001.p/45", 404, 0),
    ] {
        let (got, body, _) = fetch(&format!("{prefix}/{path}"));
        assert_eq!(got, status, "{path}");
        if status == 200 {
            assert_eq!(body.len(), len, "{path}");
        }
    }
    let vkey = Signer::new(node.node.origin.clone(), node.node_key.secret.clone())
        .unwrap()
        .verifier_key()
        .to_vkey();
    let r = consentry(&["audit", "verify", "--tiles", &node.url, "--log-key", &vkey]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("  entries: 300 (root "), "{}", r.stdout);
}

//! Unit tests of the auditor: every check on edited bundles, the fast path against `serde_json`
//! and the strict reader (property tests), the file reader against the in-memory one at several
//! chunk sizes, and ignored speed measurements (`cargo test --release -- --ignored`).

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use time::OffsetDateTime;

use super::fast::{
    FastEntry, LEAF_BASE64_LEN, decode_hex32, decode_leaf_base64, is_canonical_json, next_special,
};
use super::reader::{audit_reader_with, entry_lines_span, lines, trim_line};
use super::*;
use crate::crypto::SecretKey;
use crate::crypto::jcs;
use crate::log::checkpoint::Checkpoint;
use crate::log::entry::{AccessRecord, EntryKind, subject_tag};
use crate::log::entry::{LEAF_LEN, Leaf, NO_PREVIOUS, record_commitment};
use crate::log::merkle::{self, CompactRange, Hash};
use crate::log::note::Signer;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-07-01 12:00 UTC);
const ORIGIN: &str = "example.com/consentry/access-log";

struct Fixture {
    signer: Signer,
    leaves: Vec<[u8; LEAF_LEN]>,
    records: Vec<(Option<[u8; 32]>, Option<Value>)>,
}

/// `n` entries over 5 grants and 3 enterprises, with records.
fn fixture(n: u64) -> Fixture {
    let signer = Signer::new(ORIGIN, SecretKey::from_seed(&[7; 32])).unwrap();
    let mut grant_heads: HashMap<[u8; 32], u64> = HashMap::new();
    let mut subject_heads: HashMap<[u8; 32], u64> = HashMap::new();
    let mut leaves = Vec::new();
    let mut records = Vec::new();
    for i in 0..n {
        let grant = (i % 7 != 0).then(|| [(i % 5) as u8 + 1; 32]);
        let tag = subject_tag(&[9; 32], &format!("E{}", i % 3));
        let record = AccessRecord {
            enterprise: Some(format!("E{}", i % 3)),
            purpose: Some("credit-approval".into()),
            decision: Some("allowed".into()),
            ..Default::default()
        };
        let salt = [(i % 251) as u8; 32];
        let leaf = Leaf {
            kind: EntryKind::Release,
            seq: i,
            time_ms: 1_800_000_000_000 + i / 3,
            grant_digest: grant.unwrap_or([0; 32]),
            prev_same_grant: grant
                .map(|g| grant_heads.insert(g, i).unwrap_or(NO_PREVIOUS))
                .unwrap_or(NO_PREVIOUS),
            subject_tag: tag,
            prev_same_subject: subject_heads.insert(tag, i).unwrap_or(NO_PREVIOUS),
            record_commitment: record_commitment(&salt, &record.canonical()),
        };
        leaves.push(leaf.to_bytes());
        records.push((Some(salt), Some(serde_json::to_value(&record).unwrap())));
    }
    Fixture {
        signer,
        leaves,
        records,
    }
}

impl Fixture {
    fn checkpoint(&self, size: u64) -> String {
        let hashes: Vec<Hash> = self.leaves[..size as usize]
            .iter()
            .map(|l| merkle::leaf_hash(l))
            .collect();
        let root = merkle::root_from_leaf_hashes(&hashes);
        let note = Checkpoint::new(ORIGIN, size, root)
            .unwrap()
            .sign(&self.signer)
            .unwrap();
        note.to_text().unwrap()
    }

    fn bundle(&self, sizes: &[u64]) -> Vec<u8> {
        let mut out = Vec::new();
        let header = serde_json::json!({"format": BUNDLE_FORMAT, "origin": ORIGIN,
            "logKey": self.signer.verifier_key().to_vkey(), "from": 0, "to": self.leaves.len()});
        out.extend_from_slice(format!("{header}\n").as_bytes());
        for (i, (leaf, (salt, record))) in self.leaves.iter().zip(&self.records).enumerate() {
            let line = serde_json::json!({"i": i, "leaf": STANDARD.encode(leaf),
                "salt": salt.map(hex::encode), "record": record});
            out.extend_from_slice(format!("{line}\n").as_bytes());
        }
        let mut prev: Option<u64> = None;
        for &s in sizes {
            out.extend_from_slice(
                format!("{}\n", serde_json::json!({"checkpoint": self.checkpoint(s)})).as_bytes(),
            );
            if let Some(p) = prev {
                let tree =
                    merkle::MemoryTree::from_leaf_hashes(self.leaves.iter().map(|l| merkle::leaf_hash(l)))
                        .unwrap();
                let proof: Vec<String> = merkle::consistency_proof(p, s, &tree)
                    .unwrap()
                    .iter()
                    .map(hex::encode)
                    .collect();
                out.extend_from_slice(
                    format!(
                        "{}\n",
                        serde_json::json!({"consistency": {"from": p, "to": s, "proof": proof}})
                    )
                    .as_bytes(),
                );
            }
            prev = Some(s);
        }
        out
    }

    fn opts(&self) -> AuditOptions {
        let mut o = AuditOptions::new(NOW);
        o.log_key = Some(self.signer.verifier_key());
        o
    }
}

/// [`audit_bundle`], checked against [`audit_reader`] with buffers small and large.
fn audit(bytes: &[u8], opts: AuditOptions) -> AuditReport {
    let report = audit_bundle(bytes, opts.clone(), &mut |_| {}).unwrap();
    for chunk in [1, 5, 64, 700, READ_CHUNK] {
        let read = audit_reader_with(std::io::Cursor::new(bytes), opts.clone(), &mut |_| {}, chunk).unwrap();
        assert_eq!(read, report, "chunk {chunk}");
    }
    report
}

#[test]
fn valid_bundle() {
    let f = fixture(100);
    let r = audit(&f.bundle(&[10, 64, 99, 100]), f.opts());
    assert!(r.valid, "{:#?}", r.failures);
    assert_eq!(r.entries, 100);
    assert_eq!(r.checkpoints, 4);
    assert_eq!(r.consistency_proofs, 3);
    assert_eq!(r.records_opened, 100);
    assert!(r.key_pinned);
}

#[test]
fn single_pass_settles_late_checkpoints_through_consistency() {
    let f = fixture(50);
    let bundle = f.bundle(&[3, 20, 50]);
    let mut a = LogAuditor::new(f.opts()).unwrap();
    for line in bundle.split(|&b| b == b'\n') {
        a.push_line(line);
    }
    let r = a.finish();
    assert!(r.valid, "{:#?}", r.failures);
    assert_eq!(r.checkpoints, 3);
}

#[test]
fn edited_record_names_its_entry() {
    let mut f = fixture(40);
    f.records[17].1 = Some(serde_json::json!({"enterprise": "E9"}));
    let r = audit(&f.bundle(&[40]), f.opts());
    assert_eq!(r.failures.len(), 1, "{:#?}", r.failures);
    assert_eq!(r.failures[0].check, Check::Record);
    assert_eq!(r.failures[0].index, Some(17));
    // Erasing is allowed.
    let mut f = fixture(40);
    f.records[17] = (None, None);
    let r = audit(&f.bundle(&[40]), f.opts());
    assert!(r.valid);
    assert_eq!(r.records_erased, 1);
}

#[test]
fn changed_leaf_implicates_checkpoint_range() {
    let mut f = fixture(60);
    let cps: Vec<String> = [20u64, 40, 60].iter().map(|&s| f.checkpoint(s)).collect();
    f.leaves[25][100] ^= 1; // prev_same_subject's low byte
    let mut a = LogAuditor::new(f.opts()).unwrap();
    a.push_header(BundleHeader {
        format: BUNDLE_FORMAT.into(),
        origin: ORIGIN.into(),
        log_key: f.signer.verifier_key().to_vkey(),
        from: 0,
        to: 60,
    });
    for c in &cps {
        a.push_checkpoint(c);
    }
    for l in &f.leaves {
        a.push_leaf(l);
    }
    let r = a.finish();
    assert!(!r.valid);
    let first = r.first_failure().unwrap();
    assert_eq!(first.check, Check::SubjectChain, "{:#?}", r.failures);
    assert_eq!(first.index, Some(25));
    let root = r.failures.iter().find(|f| f.check == Check::Root).unwrap();
    assert_eq!(root.checkpoint, Some(40));
    assert_eq!(root.range, Some((20, 40)));
    assert_eq!(r.records_not_supplied, 60);
}

#[test]
fn deleted_swapped_and_time() {
    let f = fixture(30);
    let mut lines: Vec<Vec<u8>> = f
        .bundle(&[30])
        .split(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    lines.remove(1 + 12);
    let r = audit(&lines.join(&b'\n'), f.opts());
    let first = r.first_failure().unwrap();
    assert_eq!(
        (first.check, first.index),
        (Check::Sequence, Some(12)),
        "{first:?}"
    );
    assert!(first.message.contains("entry 12 is missing"), "{}", first.message);

    let mut lines: Vec<Vec<u8>> = f
        .bundle(&[30])
        .split(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    // Swap the leaves of entries 5 and 9 but keep the `i` members.
    let leaf_of = |l: &[u8]| serde_json::from_slice::<Value>(l).unwrap();
    let (a, b) = (leaf_of(&lines[6]), leaf_of(&lines[10]));
    let mut a2 = b.clone();
    a2["i"] = a["i"].clone();
    let mut b2 = a.clone();
    b2["i"] = b["i"].clone();
    lines[6] = a2.to_string().into_bytes();
    lines[10] = b2.to_string().into_bytes();
    let r = audit(&lines.join(&b'\n'), f.opts());
    let first = r.first_failure().unwrap();
    assert_eq!(
        (first.check, first.index),
        (Check::Sequence, Some(5)),
        "{first:?}"
    );
    assert!(first.message.contains("carries seq 9"));
}

#[test]
fn trusted_checkpoint_rollback_and_fork() {
    let f = fixture(30);
    let mut opts = f.opts();
    opts.trusted_checkpoint = Some(f.checkpoint(30));
    // A shorter log: rollback.
    let short = fixture(20);
    let r = audit(&short.bundle(&[20]), opts.clone());
    assert_eq!(
        r.first_failure().unwrap().check,
        Check::Rollback,
        "{:#?}",
        r.failures
    );
    // The same log, grown: valid. Another log of the same key, rewritten from entry 27: fork at 30.
    let grown = fixture(40);
    let mut forked = fixture(40);
    forked.records[27].0 = Some([1; 32]);
    let rec: AccessRecord = serde_json::from_value(forked.records[27].1.clone().unwrap()).unwrap();
    let mut leaf = Leaf::from_bytes(&forked.leaves[27]).unwrap();
    leaf.record_commitment = record_commitment(&[1; 32], &rec.canonical());
    forked.leaves[27] = leaf.to_bytes();
    let r = audit(&forked.bundle(&[35, 40]), opts.clone());
    assert_eq!(r.failures.len(), 1, "{:#?}", r.failures);
    assert_eq!(r.failures[0].check, Check::Fork);
    assert_eq!(r.failures[0].checkpoint, Some(30));
    let r = audit(&grown.bundle(&[35, 40]), opts);
    assert!(r.valid, "{:#?}", r.failures);
    assert_eq!(r.trusted_checkpoint, Some(30));
}

#[test]
fn bad_signature_and_unpinned_key() {
    let f = fixture(10);
    let other = Signer::new(ORIGIN, SecretKey::from_seed(&[8; 32])).unwrap();
    let mut opts = f.opts();
    opts.log_key = Some(other.verifier_key());
    let r = audit(&f.bundle(&[10]), opts);
    assert!(
        r.failures
            .iter()
            .any(|x| x.check == Check::Signature && x.checkpoint == Some(10))
    );
    let mut opts = f.opts();
    opts.log_key = None;
    let r = audit(&f.bundle(&[10]), opts);
    assert!(r.valid && !r.key_pinned);
}

#[test]
fn roots_match_the_naive_definition_at_every_size() {
    let f = fixture(300);
    for n in [0u64, 1, 2, 3, 7, 8, 9, 127, 128, 129, 255, 256, 257, 300] {
        let mut a = LogAuditor::new(f.opts()).unwrap();
        a.push_header(BundleHeader {
            format: BUNDLE_FORMAT.into(),
            origin: ORIGIN.into(),
            log_key: f.signer.verifier_key().to_vkey(),
            from: 0,
            to: n,
        });
        a.push_checkpoint(&f.checkpoint(n));
        for l in &f.leaves[..n as usize] {
            a.push_leaf(l);
        }
        let r = a.finish();
        let hashes: Vec<Hash> = f.leaves[..n as usize]
            .iter()
            .map(|l| merkle::leaf_hash(l))
            .collect();
        assert_eq!(r.root, hex::encode(merkle::root_from_leaf_hashes(&hashes)));
        assert!(r.valid, "{n}: {:#?}", r.failures);
    }
}

/// The plain two passes over every line, without the fast path of [`audit_bundle`] for entries
/// and without its shortcut for pass 1.
fn audit_plain(bytes: &[u8], opts: AuditOptions) -> AuditReport {
    let mut a = LogAuditor::new(opts).unwrap();
    for line in bytes.split(|&b| b == b'\n') {
        a.push_metadata_line(line);
    }
    for line in bytes.split(|&b| b == b'\n') {
        let line = trim_line(line);
        if line.is_empty() {
            continue;
        }
        // A leading space keeps the line off the fast path: `serde_json` reads it.
        a.push_line(&[b" ", line].concat());
    }
    a.finish()
}

/// What two reports must agree on (messages may name columns that differ).
fn outcome(r: &AuditReport) -> impl PartialEq + std::fmt::Debug + use<> {
    (
        r.valid,
        r.entries,
        r.root.clone(),
        r.checkpoints,
        r.consistency_proofs,
        r.records_opened,
        r.records_erased,
        r.records_not_supplied,
        r.failures_omitted,
        r.failures
            .iter()
            .map(|f| (f.check, f.index, f.checkpoint, f.range))
            .collect::<Vec<_>>(),
    )
}

/// Entry lines as the node writes them (both member orders), and edited ones, give the same
/// report on the fast path as through `serde_json`.
#[test]
fn fast_path_agrees_with_serde_json() {
    let f = fixture(12);
    let canonical =
        |k: usize| String::from_utf8(jcs::canonicalize(f.records[k].1.as_ref().unwrap()).unwrap()).unwrap();
    let salt = |k: usize| hex::encode(f.records[k].0.unwrap());
    let leaf = |k: usize| STANDARD.encode(f.leaves[k]);
    let export = |k: usize, record: &str, salt: &str| {
        format!(
            r#"{{"i":{k},"leaf":"{}","salt":{salt},"record":{record}}}"#,
            leaf(k)
        )
    };
    let sorted = |k: usize, record: &str, salt: &str| {
        format!(
            r#"{{"i":{k},"leaf":"{}","record":{record},"salt":{salt}}}"#,
            leaf(k)
        )
    };
    let q = |s: String| format!("\"{s}\"");
    // (line for entry 5, whether the fast path takes it)
    let mut variants: Vec<(String, bool)> = vec![
        (export(5, &canonical(5), &q(salt(5))), true),
        (sorted(5, &canonical(5), &q(salt(5))), true),
        (export(5, "null", "null"), true),
        (sorted(5, "null", "null"), true),
        (export(5, &canonical(5), &q(salt(5).to_uppercase())), true),
        // Not canonical: members out of order, white space, an escape that need not be.
        (
            export(
                5,
                &serde_json::to_string(&serde_json::json!({"purpose": "credit-approval",
                    "enterprise": "E2", "decision": "allowed"}))
                .unwrap(),
                &q(salt(5)),
            ),
            false,
        ),
        (export(5, &canonical(5).replace(':', ": "), &q(salt(5))), false),
        (
            export(5, &canonical(5).replace("E2", "\\u00452"), &q(salt(5))),
            false,
        ),
        // Edited, or not strict I-JSON.
        (export(5, &canonical(5).replace("E2", "E1"), &q(salt(5))), true),
        (
            export(
                5,
                &canonical(5).replace(r#"{"decision""#, r#"{"decision":"x","decision""#),
                &q(salt(5)),
            ),
            false,
        ),
        (
            export(5, &canonical(5).replace('}', r#","z":1.5}"#), &q(salt(5))),
            false,
        ),
        (
            export(5, &canonical(5).replace('}', r#","z":-0}"#), &q(salt(5))),
            false,
        ),
        (
            export(
                5,
                &canonical(5).replace('}', r#","z":9007199254740993}"#),
                &q(salt(5)),
            ),
            false,
        ),
        (export(5, &canonical(5), "null"), false),
        (export(5, "null", &q(salt(5))), false),
        (export(5, &canonical(5), &q(salt(5)[2..].to_owned())), false),
        (export(5, &canonical(5), &q(format!("g{}", &salt(5)[1..]))), false),
        (export(5, r#"["a"]"#, &q(salt(5))), false),
        (
            export(5, &canonical(5), &q(salt(5))).replace(r#""i":5"#, r#""i":05"#),
            false,
        ),
        (
            export(5, &canonical(5), &q(salt(5))).replace(r#""i":5"#, r#""i":6"#),
            true,
        ),
        (export(5, &canonical(5), &q(salt(5))) + " ", false),
        (export(5, &canonical(5), &q(salt(5))).replace('}', "}}"), false),
    ];
    // A leaf whose last character carries unused bits, one that is short, one with an escape.
    let mut bad_bits = leaf(5);
    bad_bits.replace_range(181..182, "B");
    let l = leaf(5);
    variants.push((
        export(5, &canonical(5), &q(salt(5))).replace(&l, &bad_bits),
        false,
    ));
    variants.push((export(5, &canonical(5), &q(salt(5))).replace(&l, &l[4..]), false));
    let escaped = format!("{}\\u{:04x}{}", &l[..10], l.as_bytes()[10], &l[11..]);
    variants.push((export(5, &canonical(5), &q(salt(5))).replace(&l, &escaped), false));
    for (k, (line, fast)) in variants.iter().enumerate() {
        let mut bundle = Vec::new();
        for (n, l) in f.bundle(&[12]).split(|&b| b == b'\n').enumerate() {
            bundle.extend_from_slice(if n == 6 { line.as_bytes() } else { l });
            bundle.extend_from_slice(if k % 2 == 0 { b"\n" } else { b"\r\n" });
        }
        assert_eq!(
            FastEntry::scan(line.as_bytes()).is_some_and(|e| e.len == line.len()
                && decode_leaf_base64(e.leaf).is_some()
                && e.salt.is_some() == e.record.is_some()
                && e.salt.is_none_or(|s| decode_hex32(s).is_some())),
            *fast,
            "{line}"
        );
        let got = audit(&bundle, f.opts());
        let want = audit_plain(&bundle, f.opts());
        assert_eq!(outcome(&got), outcome(&want), "{line}\n{:#?}", got.failures);
    }
    // The canonical ones verify; the edited record and the duplicate name do not.
    let ok = |line: &str| {
        let mut bundle = Vec::new();
        for (n, l) in f.bundle(&[12]).split(|&b| b == b'\n').enumerate() {
            bundle.extend_from_slice(if n == 6 { line.as_bytes() } else { l });
            bundle.push(b'\n');
        }
        audit(&bundle, f.opts())
    };
    for (line, _) in &variants[..8] {
        let r = ok(line);
        assert!(r.valid, "{line}: {:#?}", r.failures);
    }
    let r = ok(&variants[8].0);
    assert_eq!(
        (r.failures[0].check, r.failures[0].index),
        (Check::Record, Some(5))
    );
    let r = ok(&variants[9].0);
    assert_eq!(
        (r.failures[0].check, r.failures[0].index),
        (Check::Record, Some(5))
    );
    assert!(
        r.failures[0].message.contains("duplicate"),
        "{}",
        r.failures[0].message
    );
    // Records nested near the limit.
    for depth in [100, 125, 126, 127, 128, 129] {
        let record = format!(r#"{{"a":{}{}}}"#, "[".repeat(depth - 1), "]".repeat(depth - 1));
        let line = export(5, &record, &q(salt(5)));
        let r = ok(&line);
        let mut bundle = Vec::new();
        for (n, l) in f.bundle(&[12]).split(|&b| b == b'\n').enumerate() {
            bundle.extend_from_slice(if n == 6 { line.as_bytes() } else { l });
            bundle.push(b'\n');
        }
        let plain = audit_plain(&bundle, f.opts());
        assert_eq!(outcome(&r), outcome(&plain), "{depth}: {:#?}", r.failures);
        assert!(!r.valid);
    }
}

/// A checkpoint between the entry lines: pass 1 is redone over every line, and the result is that
/// of the plain two passes.
#[test]
fn metadata_between_entries() {
    let f = fixture(40);
    let lines: Vec<Vec<u8>> = f
        .bundle(&[10, 30, 40])
        .split(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    let checkpoint_10 = lines
        .iter()
        .position(|l| l.starts_with(b"{\"checkpoint\""))
        .unwrap();
    for at in [1, 5, 20, 41] {
        let mut moved = lines.clone();
        let line = moved.remove(checkpoint_10);
        moved.insert(at, line);
        let bundle = moved.join(&b'\n');
        let r = audit(&bundle, f.opts());
        assert!(r.valid, "{at}: {:#?}", r.failures);
        assert_eq!(outcome(&r), outcome(&audit_plain(&bundle, f.opts())), "{at}");
    }
    // A header after the entries, and no header at all.
    let mut moved = lines.clone();
    let header = moved.remove(0);
    moved.insert(20, header);
    let bundle = moved.join(&b'\n');
    assert_eq!(
        outcome(&audit(&bundle, f.opts())),
        outcome(&audit_plain(&bundle, f.opts()))
    );
    let bundle = lines[1..].join(&b'\n');
    assert_eq!(
        outcome(&audit(&bundle, f.opts())),
        outcome(&audit_plain(&bundle, f.opts()))
    );
    // No line end at the end; nothing at all.
    let bundle = f.bundle(&[10, 30, 40]);
    let r = audit(&bundle[..bundle.len() - 1], f.opts());
    assert!(r.valid, "{:#?}", r.failures);
    let r = audit(b"", f.opts());
    assert_eq!(r.failures[0].check, Check::Bundle);
    assert_eq!(entry_lines_span(b""), (0, 0));
    assert_eq!(entry_lines_span(b"{}\n{}\n"), (6, 6));
    assert_eq!(entry_lines_span(b"{}\n{\"i\":0}\n{}\n"), (3, 11));
    assert_eq!(entry_lines_span(b"{\"i\":0}\n{\"i\":1}"), (0, 15));
}

/// `is_canonical_json` answers yes only for text that is its own RFC 8785 form.
fn assert_sound(text: &[u8]) -> bool {
    let fast = is_canonical_json(text);
    if fast {
        let node = crate::crypto::json::parse(text)
            .unwrap_or_else(|e| panic!("{:?} accepted: {e}", String::from_utf8_lossy(text)));
        let mut out = Vec::new();
        jcs::write_node(&node, &mut out).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(text),
            "accepted but not canonical"
        );
    }
    fast
}

#[test]
fn canonical_check_cases() {
    let yes = [
        r#"{}"#,
        r#"[]"#,
        r#"{"a":[1,-2,0,true,false,null,"x",{},[]],"b":{"c":"d"}}"#,
        "{\"a\":\"\\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}\"}",
        "{\"a\":\"\u{7f}é€😀\"}",
        "{\"1\":4,\"\u{f6}\":6,\"\u{20ac}\":1,\"\u{1f600}\":5,\"\u{fb33}\":3}",
        r#"{"m":-999999999999999,"n":999999999999999}"#,
        r#""""#,
        "0",
    ];
    for y in yes {
        assert!(assert_sound(y.as_bytes()), "{y}");
    }
    let no = [
        r#"{"b":1,"a":2}"#,
        r#"{"a":1,"a":1}"#,
        r#"{"a":"\u0041"}"#,
        r#"{"a":"\/"}"#,
        r#"{"a":"\u001F"}"#,
        r#"{"a":"\u000a"}"#,
        r#"{"a":"\u0008"}"#,
        r#"{"a":"\u007f"}"#,
        r#"{"\n":1}"#,
        r#"{"a": 1}"#,
        r#"{"a":1} "#,
        r#" {"a":1}"#,
        r#"{"a":1,}"#,
        r#"[1,]"#,
        r#"{"a":-0}"#,
        r#"{"a":01}"#,
        r#"{"a":1.0}"#,
        r#"{"a":1e2}"#,
        r#"{"a":1000000000000000}"#,
        r#"{"a":tru}"#,
        r#"{"a":nul}"#,
        "{\"a\":\"\t\"}",
        "{\"a\":\"\u{1}\"}",
        r#"{"a":"x}"#,
        r#"{"a"}"#,
        r#"{"a":}"#,
        "{\"\u{1f600}\":1,\"\u{fb33}\":2,\"\u{20ac}\":3}",
        "",
    ];
    for n in no {
        assert!(!assert_sound(n.as_bytes()), "{n}");
    }
    assert!(!is_canonical_json(b"{\"a\":\"\xff\"}"));
    assert!(!is_canonical_json(b"{\"a\":\"\xc3\"}"));
    assert!(!is_canonical_json(b"{\"\xe9\":1}"));
    let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
    assert!(assert_sound(deep(crate::crypto::json::MAX_DEPTH).as_bytes()));
    assert!(!assert_sound(deep(crate::crypto::json::MAX_DEPTH + 1).as_bytes()));
}

fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let text = proptest::collection::vec(
        prop_oneof![
            6 => proptest::char::range('a', 'z'),
            1 => Just('"'),
            1 => Just('\\'),
            1 => Just('/'),
            1 => proptest::char::range('\0', '\u{1f}'),
            1 => Just('\u{7f}'),
            1 => Just('é'),
            1 => Just('\u{20ac}'),
            1 => Just('\u{fb33}'),
            1 => Just('😀'),
        ],
        0..6,
    )
    .prop_map(|c| c.into_iter().collect::<String>());
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1_000_000_000_000_000i64..1_000_000_000_000_000).prop_map(Value::from),
        (-10i64..10).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        text.clone().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((text.clone(), inner), 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Whether the check is expected to recognise the canonical form of `v`: no fractions, no
/// member names with escapes.
fn plain(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_i64() || n.is_u64(),
        Value::Array(items) => items.iter().all(plain),
        Value::Object(m) => m
            .iter()
            .all(|(k, v)| !k.chars().any(|c| c == '"' || c == '\\' || c < ' ') && plain(v)),
        _ => true,
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Canonical forms are recognised (when plain), and nothing else is: not `serde_json`'s
    /// writing, not edits of a canonical form.
    #[test]
    fn canonical_check_is_sound(v in json_value(), at in 0usize..200, edit in 0usize..12) {
        let canonical = jcs::canonicalize(&v).unwrap();
        // Fractions may or may not be written as integers: only soundness is required then.
        let fast = assert_sound(&canonical);
        proptest::prop_assert!(fast || !plain(&v));
        assert_sound(&serde_json::to_vec(&v).unwrap());
        assert_sound(&serde_json::to_vec_pretty(&v).unwrap());
        let mut edited = canonical.clone();
        if !edited.is_empty() {
            let at = at % edited.len();
            let bytes: [&[u8]; 12] = [b" ", b"\"", b"\\", b",", b"}", b"]", b"0", b"-", b"a", b"\x1f", b"\xc3", b"\\u0041"];
            match edit % 3 {
                0 => { edited.remove(at); }
                1 => { edited.splice(at..at, bytes[edit].iter().copied()); }
                _ => { edited.splice(at..=at, bytes[edit].iter().copied()); }
            }
            assert_sound(&edited);
        }
    }

    #[test]
    fn next_special_finds_the_first_special_byte(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..80), from in 0usize..80) {
        let naive = bytes
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, c)| **c == b'"' || **c == b'\\' || **c < 0x20 || **c >= 0x80)
            .map(|(i, _)| i);
        proptest::prop_assert_eq!(next_special(&bytes, from), naive);
    }

    #[test]
    fn lines_split_like_split(bytes in proptest::collection::vec(proptest::sample::select(vec![b'\n', b'a', b'\r', 0xff]), 0..300)) {
        let ours: Vec<&[u8]> = lines(&bytes).collect();
        let std: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        proptest::prop_assert_eq!(ours, std);
    }

    #[test]
    fn leaf_and_salt_decode_as_the_crates_do(leaf in proptest::collection::vec(proptest::num::u8::ANY, LEAF_LEN), at in 0usize..LEAF_BASE64_LEN, to in proptest::num::u8::ANY) {
        let text = STANDARD.encode(&leaf);
        proptest::prop_assert_eq!(decode_leaf_base64(text.as_bytes()).map(|l| l.to_vec()), Some(leaf.clone()));
        let mut edited = text.into_bytes();
        edited[at] = to;
        if let Some(l) = decode_leaf_base64(&edited) {
            proptest::prop_assert_eq!(STANDARD.decode(&edited).ok(), Some(l.to_vec()));
        }
        let salt = &leaf[..32];
        for text in [hex::encode(salt), hex::encode_upper(salt)] {
            proptest::prop_assert_eq!(decode_hex32(text.as_bytes()).map(|s| s.to_vec()), Some(salt.to_vec()));
            let mut edited = text.into_bytes();
            edited[at % 64] = to;
            proptest::prop_assert_eq!(decode_hex32(&edited).map(|s| s.to_vec()), hex::decode(&edited).ok());
        }
    }
}

/// Throughput (release build):
/// `cargo test --release --lib log::audit::tests::bench -- --ignored --nocapture`; set
/// `CONSENTRY_AUDIT_BENCH_OUT=DIR` to also write the bundles (`with-records.jsonl`, `erased.jsonl`)
/// and the log key (`log.vkey`) there, to time `consentry audit verify` on them.
#[test]
#[ignore = "benchmark; run in release with --ignored --nocapture"]
fn bench() {
    use std::time::Instant;
    const N: u64 = 1_000_000;
    let t = Instant::now();
    let signer = Signer::new(ORIGIN, SecretKey::from_seed(&[7; 32])).unwrap();
    let mut grant_heads: HashMap<[u8; 32], u64> = HashMap::new();
    let mut subject_heads: HashMap<[u8; 32], u64> = HashMap::new();
    let mut tree = merkle::MemoryTree::new();
    let mut leaves: Vec<[u8; LEAF_LEN]> = Vec::with_capacity(N as usize);
    let mut bundle = Vec::with_capacity(800 * N as usize);
    let mut erased = Vec::with_capacity(300 * N as usize);
    let header = serde_json::json!({"format": BUNDLE_FORMAT, "origin": ORIGIN,
        "logKey": signer.verifier_key().to_vkey(), "from": 0, "to": N});
    bundle.extend_from_slice(format!("{header}\n").as_bytes());
    erased.extend_from_slice(format!("{header}\n").as_bytes());
    let mut checkpoints = Vec::new();
    for i in 0..N {
        // 20,000 grants, 5,000 enterprises, realistic records.
        let g = i % 20_000;
        let e = g % 5_000;
        let grant = crate::crypto::Sha256Digest::of(&g.to_be_bytes()).0;
        let uscc = format!("91330100{e:010}");
        let tag = subject_tag(&[9; 32], &uscc);
        let record = AccessRecord {
            enterprise: Some(uscc.clone()),
            caller: Some(crate::log::entry::PartyRef {
                uscc: "91440300708461136T".into(),
                role: "platform".into(),
                did: Some("did:key:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwtu".into()),
            }),
            platform: Some("91440300708461136T".into()),
            bank: Some("911000001000013428".into()),
            grant: Some(crate::log::entry::GrantRef {
                id: format!("urn:uuid:00000000-0000-4000-8000-{g:012}"),
                sha256: hex::encode(grant),
            }),
            categories: vec![crate::log::entry::CategoryRef {
                code: "TAX-03".into(),
                granularity: "derived".into(),
                providers: vec!["STA".into()],
            }],
            purpose: Some("credit-approval".into()),
            decision: Some("allowed".into()),
            request_id: Some(format!("req-{i}")),
            data_sha256: Some(hex::encode(crate::crypto::Sha256Digest::of(&i.to_le_bytes()).0)),
            ..Default::default()
        };
        let mut salt = [0u8; 32];
        salt[..8].copy_from_slice(&i.to_be_bytes());
        let canonical = record.canonical();
        let leaf = Leaf {
            kind: EntryKind::Release,
            seq: i,
            time_ms: 1_800_000_000_000 + i / 10,
            grant_digest: grant,
            prev_same_grant: grant_heads.insert(grant, i).unwrap_or(NO_PREVIOUS),
            subject_tag: tag,
            prev_same_subject: subject_heads.insert(tag, i).unwrap_or(NO_PREVIOUS),
            record_commitment: record_commitment(&salt, &canonical),
        }
        .to_bytes();
        tree.push(&merkle::leaf_hash(&leaf)).unwrap();
        leaves.push(leaf);
        let b64 = STANDARD.encode(leaf);
        bundle.extend_from_slice(
            format!(
                "{{\"i\":{i},\"leaf\":\"{b64}\",\"record\":{},\"salt\":\"{}\"}}\n",
                String::from_utf8_lossy(&canonical),
                hex::encode(salt)
            )
            .as_bytes(),
        );
        erased.extend_from_slice(
            format!("{{\"i\":{i},\"leaf\":\"{b64}\",\"record\":null,\"salt\":null}}\n").as_bytes(),
        );
        if (i + 1) % 1000 == 0 {
            checkpoints.push(i + 1);
        }
    }
    let mut tail = Vec::new();
    let mut prev = None;
    for &s in &checkpoints {
        let root = merkle::root(s, &tree).unwrap();
        let note = Checkpoint::new(ORIGIN, s, root)
            .unwrap()
            .sign(&signer)
            .unwrap()
            .to_text()
            .unwrap();
        tail.extend_from_slice(format!("{}\n", serde_json::json!({"checkpoint": note})).as_bytes());
        if let Some(p) = prev {
            let proof: Vec<String> = merkle::consistency_proof(p, s, &tree)
                .unwrap()
                .iter()
                .map(hex::encode)
                .collect();
            tail.extend_from_slice(
                format!(
                    "{}\n",
                    serde_json::json!({"consistency": {"from": p, "to": s, "proof": proof}})
                )
                .as_bytes(),
            );
        }
        prev = Some(s);
    }
    bundle.extend_from_slice(&tail);
    erased.extend_from_slice(&tail);
    eprintln!(
        "generated {N} entries, {} checkpoints in {:.1} s; bundle {} MB with records, {} MB erased",
        checkpoints.len(),
        t.elapsed().as_secs_f64(),
        bundle.len() >> 20,
        erased.len() >> 20
    );
    let notes: Vec<String> = checkpoints
        .iter()
        .map(|&s| {
            let root = merkle::root(s, &tree).unwrap();
            Checkpoint::new(ORIGIN, s, root)
                .unwrap()
                .sign(&signer)
                .unwrap()
                .to_text()
                .unwrap()
        })
        .collect();
    let mut opts = AuditOptions::new(NOW);
    opts.log_key = Some(signer.verifier_key());
    let rate = |d: std::time::Duration| N as f64 / d.as_secs_f64() / 1e6;
    // CPU time of this thread (the machine may be shared): /proc/thread-self/schedstat, ns.
    let cpu = || -> f64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()))
            .map_or(f64::NAN, |ns| ns / 1e9)
    };

    // Leaves only, as GET /v1/log/leaves serves them (the leaf/tree part).
    let t = Instant::now();
    let mut a = LogAuditor::new(opts.clone()).unwrap();
    a.push_header(serde_json::from_value(header.clone()).unwrap());
    for n in &notes {
        a.push_checkpoint(n);
    }
    let setup = t.elapsed();
    let (t, c) = (Instant::now(), cpu());
    for l in &leaves {
        a.push_leaf(l);
    }
    let (d, c) = (t.elapsed(), cpu() - c);
    let r = a.finish();
    assert!(r.valid, "{:#?}", r.failures);
    assert_eq!(r.checkpoints, checkpoints.len() as u64);
    eprintln!(
        "leaves (binary): {:.2} M entries/s wall, {:.2} M/s CPU ({:.0} ms; {} checkpoint signatures verified in {:.0} ms)",
        rate(d),
        N as f64 / c / 1e6,
        d.as_secs_f64() * 1e3,
        notes.len(),
        setup.as_secs_f64() * 1e3
    );

    // The bundle with erased records (leaf lines: JSON + base64 + the leaf/tree part).
    let (t, c) = (Instant::now(), cpu());
    let r = audit_bundle(&erased, opts.clone(), &mut |_| {}).unwrap();
    let (d, c) = (t.elapsed(), cpu() - c);
    assert!(r.valid, "{:#?}", r.failures);
    assert_eq!(r.records_erased, N);
    eprintln!(
        "bundle, records erased: {:.2} M entries/s wall, {:.2} M/s CPU ({:.0} ms)",
        rate(d),
        N as f64 / c / 1e6,
        d.as_secs_f64() * 1e3
    );

    // The bundle with every record opened (adds JSON parse, JCS and SHA-256 of each record).
    let (t, c) = (Instant::now(), cpu());
    let r = audit_bundle(&bundle, opts, &mut |_| {}).unwrap();
    let (d, c) = (t.elapsed(), cpu() - c);
    assert!(r.valid, "{:#?}", r.failures);
    assert_eq!(r.records_opened, N);
    eprintln!(
        "bundle, records opened: {:.2} M entries/s wall, {:.2} M/s CPU ({:.0} ms)",
        rate(d),
        N as f64 / c / 1e6,
        d.as_secs_f64() * 1e3
    );

    if let Some(dir) = std::env::var_os("CONSENTRY_AUDIT_BENCH_OUT") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::write(dir.join("with-records.jsonl"), &bundle).unwrap();
        std::fs::write(dir.join("erased.jsonl"), &erased).unwrap();
        std::fs::write(dir.join("log.vkey"), signer.verifier_key().to_vkey()).unwrap();
    }
}

#[test]
#[ignore = "benchmark"]
fn bench_parts() {
    use std::time::Instant;
    let cpu = || -> f64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()))
            .map_or(f64::NAN, |ns| ns / 1e9)
    };
    const N: u64 = 1_000_000;
    let f = fixture(1);
    let leaf = f.leaves[0];
    let mut acc = [0u8; 32];
    let c = cpu();
    let t = Instant::now();
    for i in 0..N {
        let mut l = leaf;
        l[8..16].copy_from_slice(&i.to_be_bytes());
        let h = merkle::leaf_hash(&l);
        acc[0] ^= h[0];
    }
    eprintln!(
        "leaf_hash: {:.0} ns cpu, {:.0} ns wall",
        (cpu() - c) * 1e9 / N as f64,
        t.elapsed().as_secs_f64() * 1e9 / N as f64
    );
    let c = cpu();
    let mut h = [1u8; 32];
    for _ in 0..N {
        h = merkle::node_hash(&h, &acc);
    }
    eprintln!("node_hash: {:.0} ns cpu {}", (cpu() - c) * 1e9 / N as f64, h[0]);
    let c = cpu();
    let mut r = CompactRange::new();
    for _ in 0..N {
        r.push(&h).unwrap();
    }
    eprintln!("range push: {:.0} ns cpu", (cpu() - c) * 1e9 / N as f64);
    let c = cpu();
    let mut x = 0u64;
    for _ in 0..N {
        x += Leaf::from_bytes(&leaf).unwrap().seq;
    }
    eprintln!("from_bytes: {:.0} ns cpu {x}", (cpu() - c) * 1e9 / N as f64);
    let c = cpu();
    let mut m: HashMap<[u8; 32], u64> = HashMap::new();
    for i in 0..N {
        let k = crate::crypto::Sha256Digest::of(&(i % 20000).to_be_bytes()).0;
        x += m.insert(k, i).unwrap_or(0);
    }
    eprintln!(
        "sha+map insert (20k keys): {:.0} ns cpu {x}",
        (cpu() - c) * 1e9 / N as f64
    );
    let b64 = STANDARD.encode(leaf);
    let c = cpu();
    let mut out = [0u8; 138];
    for _ in 0..N {
        x += STANDARD.decode_slice(b64.as_bytes(), &mut out).unwrap() as u64;
    }
    eprintln!("base64 decode: {:.0} ns cpu {x}", (cpu() - c) * 1e9 / N as f64);
    let record = br#"{"bank":"911000001000013428","caller":{"did":"did:key:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwtu","role":"platform","uscc":"91440300708461136T"},"categories":[{"code":"TAX-03","granularity":"derived","providers":["STA"]}],"dataSha256":"5b6fb58e61fa475939767d68a446f97f1bff02c0e5935a3ea8bb51e6515783d8","decision":"allowed","enterprise":"913301000000001234","grant":{"id":"urn:uuid:00000000-0000-4000-8000-000000001234","sha256":"5b6fb58e61fa475939767d68a446f97f1bff02c0e5935a3ea8bb51e6515783d8"},"platform":"91440300708461136T","purpose":"credit-approval","requestId":"req-123456"}"#;
    let n = 100_000u64;
    let c = cpu();
    for _ in 0..n {
        x += crate::crypto::json::parse(record).map(|_| 1).unwrap();
    }
    eprintln!("json::parse: {:.0} ns cpu", (cpu() - c) * 1e9 / n as f64);
    let node = crate::crypto::json::parse(record).unwrap();
    let c = cpu();
    let mut buf = Vec::new();
    for _ in 0..n {
        buf.clear();
        jcs::write_node(&node, &mut buf).unwrap();
    }
    eprintln!("write_node: {:.0} ns cpu", (cpu() - c) * 1e9 / n as f64);
    let c = cpu();
    for _ in 0..n {
        acc = record_commitment(&acc, record);
    }
    eprintln!("commitment sha: {:.0} ns cpu", (cpu() - c) * 1e9 / n as f64);
    let c = cpu();
    for _ in 0..n {
        let v: Value = serde_json::from_slice(record).unwrap();
        x += u64::from(v.is_object());
    }
    eprintln!(
        "serde Value: {:.0} ns cpu {x} {}",
        (cpu() - c) * 1e9 / n as f64,
        acc[0]
    );
}

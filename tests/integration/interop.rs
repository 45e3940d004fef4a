//! Cross-checks against an independent implementation (Python: rfc8785 + PyNaCl + jsonschema,
//! tests/interop/vc_check.py): credentials signed here verify there and the other way round, both
//! accept and refuse the same vectors, status lists decode alike, and the grant schema holds.
//! tests/interop/run.sh installs the Python packages it needs if they are missing.

use std::process::Command;

#[test]
fn python_cross_check() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .arg(format!("{root}/tests/interop/run.sh"))
        .arg(env!("CARGO_BIN_EXE_consentry"))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "interop failed:\n{stdout}\n{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("interop: ") && summary.ends_with(" 0 failed"),
        "{summary}"
    );
    // Guard against the script silently checking nothing.
    let passed: usize = summary
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 40, "only {passed} interop checks ran");
}

/// The node's published status lists, checked by the independent implementation: it verifies the
/// node's eddsa-jcs-2022 proof on each list, decodes the GZIP bitstring and reads the grant's bit.
#[test]
fn python_reads_the_nodes_status_lists() {
    use crate::common::server::{Backend, get_public};
    use crate::service::World;

    let w = World::new(Backend::Sqlite);
    let active = w.grant();
    let revoked = w.grant();
    assert_eq!(w.change(&w.enterprise, "revoke", &revoked).status, 200);
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let check = |grant: &str| -> (Option<i32>, String) {
        let g = w.client(&w.enterprise).get(&format!("/v1/grants/{grant}"));
        let cred = dir.path().join(format!("{}.json", grant.replace(':', "_")));
        std::fs::write(&cred, g.body["credential"].as_str().unwrap()).unwrap();
        let n = g.body["statusListNumber"].as_i64().unwrap();
        let mut args = vec![
            format!("{root}/tests/interop/vc_check.py"),
            "status-check".into(),
            cred.display().to_string(),
        ];
        for purpose in ["revocation", "suspension"] {
            let url = format!("{}/status/{n}/{purpose}", w.node.url);
            let list = get_public(&url);
            assert_eq!(list.status, 200);
            let file = dir.path().join(format!("{n}-{purpose}.json"));
            std::fs::write(&file, &list.text).unwrap();
            args.push("--list".into());
            args.push(format!("{url}={}", file.display()));
        }
        let out = Command::new("python3").args(&args).output().unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (code, text) = check(&active);
    assert_eq!(code, Some(0), "active grant: {text}");
    let (code, text) = check(&revoked);
    assert_eq!(code, Some(1), "revoked grant: {text}");
    assert!(text.contains("revoked"), "{text}");
}

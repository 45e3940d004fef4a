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

//! The `consentry` binary: exit codes 0 / 1 / 2, one reason per line, and the README walk-through.

use std::process::{Command, Output, Stdio};

use crate::common::vector_path;

fn consentry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(args)
        .output()
        .unwrap()
}

fn consentry_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn vc_verify_exit_codes() {
    let good = vector_path("eddsa-jcs-2022/signedJCS.json");
    let out = consentry(&["vc", "verify", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("valid: eddsa-jcs-2022 proof by did:key:z6MkrJVn"));

    let bad = vector_path("derived/eddsa-jcs-2022.reject.malleable-s-plus-l.json");
    let out = consentry(&["vc", "verify", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        "invalid: bad-signature: signature does not verify"
    );

    let out = consentry(&["vc", "verify", "/nonexistent/file.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/file.json"));

    let out = consentry(&["vc", "verify", "--no-such-flag", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn vc_verify_json_and_stdin() {
    let jwt = std::fs::read(vector_path("vc-jose-cose/derived-eddsa-vc.jwt")).unwrap();
    let out = consentry_stdin(&["vc", "verify", "--json", "-"], &jwt);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["envelope"], "jwt");
    assert_eq!(v["issuerBound"], true);

    let weak = std::fs::read(vector_path("derived/vc-jwt.reject.weak-key-identity.jwt")).unwrap();
    let out = consentry_stdin(&["vc", "verify", "--json", "-"], &weak);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["reasons"][0]["code"], "verification-method");
}

#[test]
fn did_resolve() {
    let out = consentry(&[
        "did",
        "resolve",
        "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verificationMethod"][0]["type"], "Multikey");
    let out = consentry(&[
        "did",
        "resolve",
        "did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("weak"), "{}", text(&out.stderr));
}

/// The README walk-through: make a key, make a grant, sign it, verify it, tamper with it.
#[test]
fn readme_walk_through() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("enterprise.key.json");
    let out = consentry(&["key", "new", "--out", key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let did = text(&out.stdout).trim().to_owned();
    assert!(did.starts_with("did:key:z6Mk"));
    // Refuses to overwrite.
    assert_eq!(
        consentry(&["key", "new", "--out", key.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );

    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "grant",
            "new",
            "--enterprise",
            "91330100716105852F",
            "--enterprise-name",
            "杭州示例科技有限公司",
            "--issuer",
            &did,
            "--grantee",
            "91440300708461136T",
            "--grantee-name",
            "示例融资信用服务平台",
            "--category",
            "TAX-03=raw",
            "--category",
            "SOC-01",
            "--purpose",
            "credit-approval",
            "--data-from",
            "2024-01-01",
            "--data-until",
            "2026-10-31",
            "--periodic",
            "4/month",
            "--valid-from",
            "2026-12-01T00:00:00Z",
            "--valid-until",
            "2027-12-01T00:00:00Z",
            "--status-list",
            "https://node.example/status/1",
            "--status-index",
            "4242",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        v.extend(extra.iter().map(|s| (*s).to_owned()));
        v
    };
    let a = args(&[]);
    let out = consentry(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("STA/1"),
        "letters are announced: {}",
        text(&out.stderr)
    );
    let unsigned = dir.path().join("grant.json");
    std::fs::write(&unsigned, &out.stdout).unwrap();

    // A grant that breaks two rules is refused with both reasons, one per line.
    let a = args(&[
        "--bank",
        "911000001000013428:示例银行:TAX-03=raw",
        "--purpose",
        "marketing",
    ]);
    let out = consentry(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("invalid: bank-raw-non-public:")),
        "{err}"
    );
    assert!(
        err.lines().any(|l| l.starts_with("invalid: unknown-purpose:")),
        "{err}"
    );

    for format in ["di", "jwt"] {
        let out = consentry(&[
            "vc",
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--format",
            format,
            "--created",
            "2026-11-30T08:00:00Z",
            unsigned.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let signed = dir.path().join(format!("grant.{format}"));
        std::fs::write(&signed, &out.stdout).unwrap();
        let out = consentry(&[
            "grant",
            "verify",
            "--at",
            "2027-01-01T00:00:00Z",
            signed.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let summary = text(&out.stdout);
        assert!(summary.contains("授权融资信用服务平台"), "{summary}");
        assert!(summary.contains("Only for: Credit approval."), "{summary}");

        let out = consentry(&[
            "grant",
            "verify",
            "--at",
            "2028-01-01T00:00:00Z",
            signed.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).starts_with("invalid: expired:"),
            "{}",
            text(&out.stderr)
        );
    }
    // Tamper: give the platform raw SOC-01 instead of derived.
    let signed = std::fs::read_to_string(dir.path().join("grant.di")).unwrap();
    let tampered = signed.replacen("\"derived\"", "\"raw\"", 1);
    assert_ne!(tampered, signed);
    let out = consentry_stdin(
        &["grant", "verify", "--at", "2027-01-01T00:00:00Z", "-"],
        tampered.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        "invalid: bad-signature: signature does not verify"
    );
}

#[test]
fn catalog_commands() {
    let out = consentry(&["catalog", "letters"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("STA/1"));
    let out = consentry(&["catalog", "letter", "STA/1"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["letter"]["provider"], "STA");
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(consentry(&["catalog", "letter", "NOPE/1"]).status.code(), Some(2));
}

/// Issue #17: integers beyond ±(2^53 − 1) that a double holds exactly are signed and verified (in
/// both envelopes); one no double holds is refused by sign and verify, naming the rounded value.
#[test]
fn big_integers_sign_and_verify_exactly_when_a_double_holds_them() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.json");
    assert_eq!(
        consentry(&["key", "new", "--out", key.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let did =
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&key).unwrap()).unwrap()["did"]
            .as_str()
            .unwrap()
            .to_owned();
    let credential = |numbers: &str| {
        format!(
            r#"{{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"{did}","credentialSubject":{{"id":"urn:example:1",{numbers}}}}}"#
        )
    };
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        credential(
            r#""a":1000000000000000000000,"b":1000000000000000019884624838656,"c":-10000000000000000000000"#,
        ),
    )
    .unwrap();
    for format in ["di", "jwt"] {
        let out = consentry(&[
            "vc",
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--format",
            format,
            good.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", text(&out.stderr));
        let signed = dir.path().join(format!("signed.{format}"));
        std::fs::write(&signed, &out.stdout).unwrap();
        let out = consentry(&["vc", "verify", signed.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", text(&out.stderr));
    }
    // The proof covers the numbers, not their spelling: the signed document written with the
    // integer digits again verifies under the same proof.
    let signed = std::fs::read_to_string(dir.path().join("signed.di")).unwrap();
    assert!(signed.contains("1e+21"), "{signed}");
    let respelled = signed.replacen("1e+21", "1000000000000000000000", 1);
    let r = dir.path().join("respelled.json");
    std::fs::write(&r, &respelled).unwrap();
    let out = consentry(&["vc", "verify", r.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, credential(r#""n":9007199254740993"#)).unwrap();
    let out = consentry(&[
        "vc",
        "sign",
        "--key",
        key.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_ne!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(
        err.contains("not exactly an IEEE double") && err.contains("9007199254740992"),
        "{err}"
    );
    // A signed document altered to hold it is refused by verify with the same reason.
    let tampered = signed.replacen(
        "\"id\": \"urn:example:1\",",
        "\"id\": \"urn:example:1\", \"n\": 9007199254740993,",
        1,
    );
    assert_ne!(tampered, signed);
    let t = dir.path().join("tampered.json");
    std::fs::write(&t, tampered).unwrap();
    let out = consentry(&["vc", "verify", t.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0));
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("not exactly an IEEE double"), "{all}");
}

#[test]
fn evaluation_model_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    // The built-in model, printed, checks.
    let out = consentry(&["catalog", "model"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let good = dir.path().join("model.json");
    std::fs::write(&good, &out.stdout).unwrap();
    let out = consentry(&["catalog", "model", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("valid: model consentry-sme-basic v1"),
        "{}",
        text(&out.stdout)
    );
    // An unknown indicator, a bad weight, and not JSON: exit 1, the problem named.
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    m["indicators"][1]["input"]["indicator"] = "noSuchIndicator".into();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, m.to_string()).unwrap();
    let out = consentry(&["catalog", "model", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unknown input TAX-01.noSuchIndicator"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(&bad, "{not json").unwrap();
    let out = consentry(&["catalog", "model", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("invalid-evaluation-model"),
        "{}",
        text(&out.stderr)
    );
    let out = consentry(&["catalog", "model", "/nonexistent/model.json"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The operator's industry table: a bad one stops `serve` and `admin` with the rule broken named
/// (exit 2); an import stating an industry is refused without a table and accepted with one.
#[test]
fn industry_tables_are_checked_and_imports_classify() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/industries.fixture.json");
    let mut t: serde_json::Value = serde_json::from_slice(&std::fs::read(&fixture).unwrap()).unwrap();
    t["sections"][1]["divisions"][0]["code"] = "01".into();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, t.to_string()).unwrap();
    let b = bad.to_str().unwrap();
    // The folder is a node's (admin commands refuse any other).
    let out = consentry(&["admin", "--data-dir", data, "init"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for args in [
        vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data,
            "--industries",
            b,
        ],
        vec!["admin", "--data-dir", data, "--industries", b, "registrations"],
    ] {
        let cmd = &args[..2];
        let out = consentry(&args);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("sections[1].divisions[0].code: 01 after 02"),
            "{}",
            text(&out.stderr)
        );
    }
    // A real-standard claim is held to the standard's shape.
    t = serde_json::from_slice(&std::fs::read(&fixture).unwrap()).unwrap();
    t["standard"] = "GB/T 4754-2017".into();
    std::fs::write(&bad, t.to_string()).unwrap();
    let out = consentry(&[
        "admin",
        "--data-dir",
        data,
        "--industries",
        bad.to_str().unwrap(),
        "registrations",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("20 sections A…T"),
        "{}",
        text(&out.stderr)
    );

    let file = dir.path().join("records.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"uscc":"91320102MA000001XX","category":"REG-01","date":"2026-11-02","provider":"SAMR","industry":"B03","fields":{"status":"active"}}"#,
            "\n"
        )
        .replace("91320102MA000001XX", consentry::ids::Uscc::complete("91320102MA000001").unwrap().as_str()),
    )
    .unwrap();
    let out = consentry(&["admin", "--data-dir", data, "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("invalid-industry"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("no industry table"),
        "{}",
        text(&out.stderr)
    );
    let out = consentry(&[
        "admin",
        "--data-dir",
        data,
        "--industries",
        fixture.to_str().unwrap(),
        "import",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 1 records and 1 enterprises' industries"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("batch "), "{}", text(&out.stdout));
    // The same file again: the same batch, nothing written (spec/intake.md §8).
    let again = consentry(&[
        "admin",
        "--data-dir",
        data,
        "--industries",
        fixture.to_str().unwrap(),
        "import",
        file.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let out2 = text(&again.stdout);
    assert!(out2.contains("imported 0 records"), "{out2}");
    assert!(out2.contains("batch already received"), "{out2}");
    assert!(
        out2.contains("nothing new: every record was already held"),
        "{out2}"
    );

    // A providing department, bound to a catalog provider (spec/intake.md §2).
    let key = crate::common::server::new_key();
    let code = consentry::ids::Uscc::complete("1132000001000009").unwrap();
    let out = consentry(&[
        "admin",
        "--data-dir",
        data,
        "department",
        "--uscc",
        code.as_str(),
        "--name",
        "江苏省税务局",
        "--did",
        key.did.as_str(),
        "--provider",
        "STA",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&v["role"], &v["provider"]),
        (&serde_json::json!("department"), &serde_json::json!("STA"))
    );
}

/// `consentry demo` plays the README's whole story as two processes and exits 0: every step
/// prints, the loan is reported hop by hop, the risk alert arrives, last month's bulletin counts the
/// approval, the 苏信码 page shows the evaluation after the enterprise's consent and nothing after
/// its revocation (the demo itself fails otherwise), and the request after revocation is refused.
#[test]
fn the_demo_plays_the_whole_story() {
    let out = consentry(&["demo"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for n in 1..=16 {
        assert!(
            stdout.contains(&format!("\n[{n}] ")),
            "step {n} missing:\n{stdout}"
        );
    }
    for want in [
        "loan-approved: loan approved",
        "loan-repaid: loan disbursed (balance ¥730000)",
        "electricity-overdue",
        "1 approval(s), ¥800000 approved, credit-loan share 1.0000",
        "refused: grant-revoked",
        "✓ shown: grade ",
        "✓ display-revoked: ",
    ] {
        assert!(stdout.contains(want), "{want:?} missing:\n{stdout}");
    }
}

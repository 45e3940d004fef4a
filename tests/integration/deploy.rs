//! The deployment files of `deploy/` (deploy/README.md) against the real binary: each systemd unit
//! passes `systemd-analyze verify` (skipped, and said so, where systemd is not installed), and each
//! service starts from its example configuration — only the data folder and the listen address
//! given on the command line, which override the file as they do in production. (That each unit's
//! `ExecStart` parses and each example resolves and lists every key: `cli::deploy_tests`.)

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::common::server::get_public;

fn deploy(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(name)
}

const UNITS: [&str; 3] = [
    "consentry-node.service",
    "consentry-platform.service",
    "consentry-witness.service",
];

#[test]
fn systemd_analyze_verifies_every_unit() {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for unit in UNITS {
        // `verify` requires ExecStart's program to exist: the binary under test stands in for
        // /usr/bin/consentry.
        let text = std::fs::read_to_string(deploy(unit)).unwrap();
        assert!(text.contains("ExecStart=/usr/bin/consentry "), "{unit}");
        let path = dir.path().join(unit);
        std::fs::write(
            &path,
            text.replace(
                "/usr/bin/consentry ",
                &format!("{} ", env!("CARGO_BIN_EXE_consentry")),
            ),
        )
        .unwrap();
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{unit}: systemd-analyze verify: {stderr}");
        // Warnings (an unknown or misspelt key, a bad value) exit 0: any line naming the unit fails.
        let about_unit: Vec<&str> = stderr.lines().filter(|l| l.contains(unit)).collect();
        assert!(about_unit.is_empty(), "{unit}: {about_unit:#?}");
    }
}

/// A service started from `deploy/<example>`, killed when dropped.
struct Service {
    child: Child,
    /// Its first line that says where it listens.
    banner: String,
}

impl Service {
    fn start(args: &[&str], example: &str, data_dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(args)
            .arg("--config")
            .arg(deploy(example))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let banner = lines
            .map_while(Result::ok)
            .find(|l| l.contains(" listening on "))
            .unwrap_or_else(|| panic!("{example}: the service exited before listening"));
        Self { child, banner }
    }

    /// The `http://…` address it listens on.
    fn url(&self) -> String {
        let (_, rest) = self.banner.split_once(" listening on ").unwrap();
        rest.split([' ', ',']).next().unwrap().to_owned()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn each_service_starts_from_its_example_configuration() {
    let dir = tempfile::tempdir().unwrap();

    let node_dir = dir.path().join("node");
    let node = Service::start(&["serve"], "node.toml", &node_dir);
    assert!(
        node.banner.contains("public URL https://node.example.cn"),
        "the file's public-url: {}",
        node.banner
    );
    let info = get_public(&format!("{}/v1/node", node.url()));
    assert_eq!(info.body["publicUrl"], "https://node.example.cn");
    assert_eq!(info.body["logOrigin"], "node.example.cn/consentry/access-log");
    drop(node);
    // The log origin was fixed by the first start: a later public URL (here a flag over the file)
    // changes the URL, not the origin (deploy/README.md §2).
    let node = Service::start(
        &["serve", "--public-url", "https://elsewhere.example.cn"],
        "node.toml",
        &node_dir,
    );
    let info = get_public(&format!("{}/v1/node", node.url()));
    assert_eq!(info.body["publicUrl"], "https://elsewhere.example.cn");
    assert_eq!(info.body["logOrigin"], "node.example.cn/consentry/access-log");
    assert_eq!(get_public(&format!("{}/livez", node.url())).status, 200);

    let platform = Service::start(&["serve"], "platform.toml", &dir.path().join("platform"));
    assert!(
        platform.banner.contains("91330000MA28PLAT2L")
            && platform.banner.contains("node https://node.example.cn"),
        "the file's USCC and node: {}",
        platform.banner
    );
    assert_eq!(get_public(&format!("{}/livez", platform.url())).status, 200);

    let witness = Service::start(&["witness"], "witness.toml", &dir.path().join("witness"));
    assert!(
        witness
            .banner
            .contains("(logs: node.example.cn/consentry/access-log)"),
        "the file's log: {}",
        witness.banner
    );
    let state = get_public(&witness.url());
    assert_eq!(state.status, 200);
    assert!(
        dir.path().join("witness").join("witness.key.json").is_file(),
        "the key is in the data folder the flag gave"
    );
}

//! The independent Python checkers of `tests/interop` as the integration tests run them.

use std::io::BufRead as _;

use serde_json::Value;

/// Installs `tests/interop/requirements.txt` when the webhook receiver's or the metrics parser's
/// packages are missing.
pub fn python_deps() {
    let ok = std::process::Command::new("python3")
        .args([
            "-c",
            "import http_message_signatures, cryptography, prometheus_client",
        ])
        .status()
        .unwrap()
        .success();
    if !ok {
        let req = format!("{}/tests/interop/requirements.txt", env!("CARGO_MANIFEST_DIR"));
        let st = std::process::Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "-r", &req])
            .status()
            .unwrap();
        assert!(st.success(), "pip install -r {req}");
    }
}

/// `tests/interop/webhook_receiver.py serve`: an independent RFC 9421 / RFC 9530 receiver that
/// resolves the node's did:key itself and writes every delivery, with its verdict, as a JSON line.
/// Stopped when dropped.
pub struct PyReceiver {
    child: std::process::Child,
    /// The loopback port it listens on.
    pub port: u16,
    out: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl PyReceiver {
    /// Starts a receiver that trusts signatures by `node_did`.
    pub fn start(node_did: &str) -> Self {
        python_deps();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("received.jsonl");
        let mut child = std::process::Command::new("python3")
            .arg(format!(
                "{}/tests/interop/webhook_receiver.py",
                env!("CARGO_MANIFEST_DIR")
            ))
            .args(["serve", "--node-did", node_did, "--out"])
            .arg(&out)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("receiver said {first:?}"))
            .parse()
            .unwrap();
        Self {
            child,
            port,
            out,
            _dir: dir,
        }
    }

    /// The deliveries received so far, oldest first.
    pub fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Stops the receiver (what it received stays readable).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PyReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}

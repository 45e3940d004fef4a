//! The witness (`consentry witness`): a regulator-run C2SP tlog-witness that cosigns the node's
//! checkpoints only after checking consistency with the last checkpoint it cosigned.
//!
//! * [`protocol`]: the `add-checkpoint` wire format (<https://c2sp.org/tlog-witness>).
//! * [`server`]: the witness — checks, per-origin lock, durable record, cosignature — and its routes.
//! * [`state`]: its on-disk state, one atomically replaced JSON record per log.
//! * [`client`]: the node's side, used by [`crate::node::checkpoints`] to collect cosignatures.
//!
//! A client that requires cosignatures from k witnesses can only be shown a forked history if k
//! witnesses collude: each honest witness cosigns one linear history per origin and refuses every
//! checkpoint that does not extend it (spec/witness.md).

pub mod client;
pub mod protocol;
pub mod server;
pub mod state;

use std::path::PathBuf;
use std::sync::Arc;

use actix_web::{App, HttpServer, web};

pub use server::{Outcome, WITNESS_KEY_FILE, Witness, WitnessConfig, parse_log_arg};

use crate::clock::SystemClock;
use crate::error::{Error, Result};

crate::config::settings! {
    /// `consentry witness` options (spec/witness.md §1), declared once as the node's are
    /// (`crate::config::ServeArgs`): each is a flag and a TOML key (the field's name in kebab-case;
    /// `logs` is the repeatable `--log`). Flags override the file given by `--config`, which
    /// overrides the defaults; unknown TOML keys are an error.
    #[derive(Debug, Clone, Default, clap::Args, serde::Deserialize)]
    #[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
    pub struct WitnessArgs {
        /// Configuration file (TOML); values there are overridden by flags.
        #[arg(long, value_name = "FILE")]
        #[serde(skip)]
        pub config: Option<PathBuf>,
        /// Folder for the witness's key and state. Default ./consentry-witness.
        #[arg(long, value_name = "DIR")]
        pub data_dir: Option<PathBuf>,
        /// Address to listen on. Default 127.0.0.1:8090.
        #[arg(long, value_name = "ADDR")]
        pub listen: Option<String>,
        /// A log to witness: its origin and its Ed25519 note key, ORIGIN=VKEY (repeatable; repeat an
        /// origin to trust several keys). Flags replace the file's list whole.
        #[arg(long = "log", value_name = "ORIGIN=VKEY")]
        pub logs: Vec<String>,
        /// The witness's name (key name of its cosignatures). Chosen on first start (default
        /// consentry-witness/<8 hex digits>) and kept.
        #[arg(long)]
        pub name: Option<String>,
    }
}

/// Where the witness listens and what it is started with: [`WitnessArgs`] resolved.
#[derive(Debug, Clone)]
pub struct WitnessSettings {
    /// Address to listen on.
    pub listen: String,
    /// Key and state folder, name and witnessed logs (each `--log` parsed and checked).
    pub witness: WitnessConfig,
}

impl WitnessArgs {
    /// Lays the flags over the `--config` file over the defaults (`./consentry-witness`,
    /// `127.0.0.1:8090`, no log) and checks every `ORIGIN=VKEY` ([`parse_log_arg`]): an unreadable
    /// file, an unknown key or a malformed log is a configuration error, found before anything is
    /// created or bound.
    pub fn resolve(&self) -> Result<WitnessSettings> {
        let file = match &self.config {
            Some(path) => crate::config::read_file(path).map_err(|e| config_error(e.0))?,
            None => Self::default(),
        };
        let s = self.clone().over(file);
        let logs = s
            .logs
            .iter()
            .map(|l| parse_log_arg(l))
            .collect::<Result<Vec<_>>>()?;
        Ok(WitnessSettings {
            listen: s.listen.unwrap_or_else(|| "127.0.0.1:8090".into()),
            witness: WitnessConfig {
                data_dir: s.data_dir.unwrap_or_else(|| PathBuf::from("consentry-witness")),
                name: s.name,
                logs,
            },
        })
    }
}

/// A configuration the witness or the node's witness list cannot use (found at start, so a usage
/// error of the command line rather than a problem of the HTTP API).
pub(crate) fn config_error(message: impl std::fmt::Display) -> Error {
    Error::Internal(format!("configuration: {message}"))
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONSENTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the witness until stopped.
pub fn serve(args: WitnessArgs) -> Result<()> {
    init_tracing();
    let WitnessSettings {
        listen,
        witness: config,
    } = args.resolve()?;
    let (witness, created) = Witness::open(&config, Arc::new(SystemClock))?;
    let witness = web::Data::new(witness);
    actix_web::rt::System::new().block_on(async move {
        let data = witness.clone();
        let server = HttpServer::new(move || App::new().app_data(data.clone()).configure(server::configure))
            .workers(2)
            .bind(&listen)
            .map_err(|e| Error::Internal(format!("cannot listen on {listen}: {e}")))?;
        let url = server
            .addrs()
            .first()
            .map(|a| format!("http://{a}"))
            .unwrap_or_default();
        let vkey = witness.vkey().to_vkey();
        if created {
            println!(
                "first start: created the witness key in {}",
                config.data_dir.join(WITNESS_KEY_FILE).display()
            );
        }
        println!("witness vkey (cosignature/v1): {vkey}");
        println!("configure the node with: --witness '{url}#{vkey}'");
        let origins: Vec<&str> = witness.origins().collect();
        if origins.is_empty() {
            tracing::warn!("no --log ORIGIN=VKEY given: every checkpoint will be refused (404)");
        }
        println!(
            "consentry witness {} listening on {url} (logs: {})",
            witness.name(),
            if origins.is_empty() {
                "none".to_owned()
            } else {
                origins.join(", ")
            }
        );
        server.run().await.map_err(|e| Error::Internal(e.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "node.example.cn/consentry/access-log=node.example.cn/consentry/access-log+0f00b6dd+AQBKimXsRq/afPDNRDrVbUEfFZ2Ru8UFzxz1b60MiCd3";

    fn with_file(text: &str) -> (tempfile::TempDir, WitnessArgs) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("witness.toml");
        std::fs::write(&file, text).unwrap();
        let args = WitnessArgs {
            config: Some(file),
            ..Default::default()
        };
        (dir, args)
    }

    #[test]
    fn flags_override_the_file_which_overrides_the_defaults() {
        let defaults = WitnessArgs::default().resolve().unwrap();
        assert_eq!(defaults.listen, "127.0.0.1:8090");
        assert_eq!(defaults.witness.data_dir, PathBuf::from("consentry-witness"));
        assert!(defaults.witness.logs.is_empty() && defaults.witness.name.is_none());

        let (_dir, args) = with_file(&format!(
            "data-dir = \"/var/lib/w\"\nlisten = \"127.0.0.1:9\"\nlogs = [\"{LOG}\"]\nname = \"w1\"\n"
        ));
        let s = args.resolve().unwrap();
        assert_eq!(s.listen, "127.0.0.1:9");
        assert_eq!(s.witness.data_dir, PathBuf::from("/var/lib/w"));
        assert_eq!(s.witness.name.as_deref(), Some("w1"));
        assert_eq!(s.witness.logs.len(), 1);
        assert_eq!(s.witness.logs[0].0, "node.example.cn/consentry/access-log");

        let flags = WitnessArgs {
            listen: Some("127.0.0.1:10".into()),
            logs: vec![format!("other.example/log={}", LOG.split_once('=').unwrap().1)],
            ..args
        }
        .resolve()
        .unwrap();
        assert_eq!(flags.listen, "127.0.0.1:10");
        assert_eq!(
            flags.witness.data_dir,
            PathBuf::from("/var/lib/w"),
            "not given: the file's"
        );
        let origins: Vec<&str> = flags.witness.logs.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(
            origins,
            ["other.example/log"],
            "--log replaces the file's list whole"
        );
    }

    #[test]
    fn unknown_keys_bad_logs_and_missing_files_are_configuration_errors() {
        for text in [
            "log = []\n",
            "data_dir = \"x\"\n",
            "config = \"other.toml\"\n",
            "logs = [\"no-equals-sign\"]\n",
            "listen = 8090\n",
        ] {
            let (_dir, args) = with_file(text);
            let err = args.resolve().unwrap_err().to_string();
            assert!(err.contains("configuration:"), "{text:?}: {err}");
        }
        let missing = WitnessArgs {
            config: Some(PathBuf::from("/nonexistent/witness.toml")),
            ..Default::default()
        };
        assert!(
            missing
                .resolve()
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/witness.toml")
        );
    }
}

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

/// `consentry witness` options.
#[derive(Debug, Clone, clap::Args)]
pub struct WitnessArgs {
    /// Folder for the witness's key and state.
    #[arg(long, default_value = "consentry-witness")]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: String,
    /// A log to witness: its origin and its Ed25519 note key, ORIGIN=VKEY (repeatable; repeat an
    /// origin to trust several keys).
    #[arg(long = "log", value_name = "ORIGIN=VKEY")]
    pub log: Vec<String>,
    /// The witness's name (key name of its cosignatures). Chosen on first start (default
    /// consentry-witness/<8 hex digits>) and kept.
    #[arg(long)]
    pub name: Option<String>,
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
    let logs = args
        .log
        .iter()
        .map(|l| parse_log_arg(l))
        .collect::<Result<Vec<_>>>()?;
    let config = WitnessConfig {
        data_dir: args.data_dir.clone(),
        name: args.name.clone(),
        logs,
    };
    let (witness, created) = Witness::open(&config, Arc::new(SystemClock))?;
    let witness = web::Data::new(witness);
    actix_web::rt::System::new().block_on(async move {
        let data = witness.clone();
        let server = HttpServer::new(move || App::new().app_data(data.clone()).configure(server::configure))
            .workers(2)
            .bind(&args.listen)
            .map_err(|e| Error::Internal(format!("cannot listen on {}: {e}", args.listen)))?;
        let url = server
            .addrs()
            .first()
            .map(|a| format!("http://{a}"))
            .unwrap_or_default();
        let vkey = witness.vkey().to_vkey();
        if created {
            println!(
                "first start: created the witness key in {}",
                args.data_dir.join(WITNESS_KEY_FILE).display()
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

//! `consentry key new`.

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliError, CliResult};
use crate::crypto::SecretKey;
use crate::identity::KeyFile;

#[derive(Debug, Subcommand)]
pub(super) enum KeyCommand {
    /// Create an Ed25519 key. With --out, write the key file (mode 0600) and print its DID;
    /// without, print the key file JSON (it contains the secret) to stdout.
    New {
        /// Where to write the key file. Never overwrites.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub(super) fn run(cmd: KeyCommand) -> CliResult {
    match cmd {
        KeyCommand::New { out } => {
            let secret = SecretKey::generate().map_err(|e| CliError::usage(e.to_string()))?;
            let file = KeyFile::new(secret);
            match out {
                Some(path) => {
                    file.write_new(&path)
                        .map_err(|e| CliError::usage(e.to_string()))?;
                    outln!("{}", file.did);
                    eprintln!(
                        "wrote {} (mode 0600): keep it secret, it signs for {}",
                        path.display(),
                        file.did
                    );
                }
                None => out!("{}", file.to_pretty_json()),
            }
            Ok(())
        }
    }
}

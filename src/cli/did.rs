//! `consentry did resolve`.

use clap::Subcommand;

use super::{CliError, CliResult, print_json};
use crate::identity::DidKey;

#[derive(Debug, Subcommand)]
pub(super) enum DidCommand {
    /// Print the DID document of a did:key (Multikey form).
    Resolve {
        /// The DID, e.g. did:key:z6Mk…
        did: String,
    },
}

pub(super) fn run(cmd: DidCommand) -> CliResult {
    match cmd {
        DidCommand::Resolve { did } => {
            let parsed = DidKey::parse(&did)
                .map_err(|e| CliError::Invalid(vec![("invalid-did".into(), e.to_string())]))?;
            print_json(&parsed.document())?;
            Ok(())
        }
    }
}

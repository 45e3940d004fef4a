//! The witness (`consentry witness`): a regulator-run C2SP tlog-witness that cosigns the node's
//! checkpoints only after checking consistency with the last checkpoint it cosigned.

use std::path::PathBuf;

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
}

/// Runs the witness.
pub fn serve(_args: WitnessArgs) -> Result<()> {
    Err(Error::Internal("the witness is not built yet".into()))
}

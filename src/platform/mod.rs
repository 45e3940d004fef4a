//! The platform role (`consentry serve --role platform`): placeholder until the platform service lands.

use crate::config::Config;
use crate::error::{Error, Result};

/// Runs the platform service.
pub fn serve(_config: Config) -> Result<()> {
    Err(Error::Internal("the platform role is not built yet".into()))
}

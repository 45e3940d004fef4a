//! Route handlers, one module per area.

pub mod admin;
pub mod audit;
pub mod grants;
pub mod participants;
pub mod public;

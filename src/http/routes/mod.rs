//! Route handlers, one module per area.

pub mod admin;
pub mod audit;
pub mod consent;
pub mod grants;
pub mod intake;
pub mod loans;
pub mod metrics;
pub mod notifications;
pub mod objections;

pub mod participants;
pub mod public;
pub mod stats;
pub mod tiles;

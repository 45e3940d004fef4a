//! Integration tests: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod admin;
mod architecture;
mod audit;
mod backup;
mod chain;
mod cli;
mod common;
mod conformance;
mod consent;
mod corrections;
mod deploy;
mod derivations;
mod durability;
mod evaluations;
mod grant_search;
mod grants;
mod industries;
mod intake;
mod interop;
#[path = "../support/jcs_reference.rs"]
mod jcs_reference;
mod loans;
mod metrics;
mod migrations;
mod notifications;
mod objections;
mod openapi;
mod openapi_platform;
mod paging;
mod platform;
mod portal;
mod rollover;
mod security;
mod service;
mod spec_examples;
mod stats;
mod tiles;
mod vectors_eddsa;
mod vectors_jcs;
mod vectors_jwt;
mod vectors_keys;
mod witness;

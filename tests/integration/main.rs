//! Integration tests: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
mod vectors_eddsa;
mod vectors_jcs;
mod vectors_jwt;
mod vectors_keys;

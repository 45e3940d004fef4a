//! # Consentry
//!
//! The trust layer for credit-data sharing between a provincial credit-information node, the
//! financing credit service platforms connected to it, and the banks behind them.
//!
//! An enterprise signs an authorization **grant** (a W3C Verifiable Credential) naming who may receive
//! which of its data, for which financing purposes, until when. Every release of data is checked
//! against a verified grant and recorded.
//!
//! ## Map
//!
//! | module | what it holds |
//! |---|---|
//! | [`crypto`] | Ed25519 (strict), Multikey, RFC 8785 JCS over strict I-JSON, SHA-256 |
//! | [`identity`] | `did:key` identities and key files |
//! | [`credential`] | VC Data Model 2.0 with eddsa-jcs-2022 proofs and VC-JWT |
//! | [`ids`] | checked identifiers: Unified Social Credit Codes, grant ids, category codes |
//! | [`catalog`] | data categories, providing departments, purposes, authorization letters |
//! | [`grant`] | the `CreditDataAuthorization` credential: model, rules, verification → [`grant::VerifiedGrant`] |
//! | [`status`] | W3C Bitstring Status List entries and bitstrings (revocation, suspension) |
//! | [`clock`] | the time source passed into every time-dependent check |
//! | [`calendar`] | Chinese working days (holidays and make-up days) and working-day deadlines in CST |
//!
//! The core modules do no I/O beyond what their names say and know nothing of HTTP or databases.

pub mod calendar;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod credential;
pub mod crypto;
pub mod error;
pub mod grant;
pub mod http;
pub mod identity;
pub mod ids;
pub mod log;
pub mod node;
pub mod platform;
pub mod policy;
pub mod portal;
pub mod status;
pub mod storage;
pub mod witness;

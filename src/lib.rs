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
//! Every module, grouped; a group may use the groups above it. The request path of a release, where
//! each kind of code lives and what each part must never import (checked by
//! `tests/integration/architecture.rs`) are in `docs/ARCHITECTURE.md`.
//!
//! **Pure core** — no database, no HTTP, no async runtime; time is passed in.
//!
//! | module | what it holds |
//! |---|---|
//! | [`ids`] | checked identifiers: Unified Social Credit Codes, grant ids |
//! | [`crypto`] | Ed25519 (strict), Multikey, RFC 8785 JCS over strict I-JSON, SHA-256, JWK, HTTP signatures; a leaf |
//! | [`identity`] | `did:key` identities, key files, the key resolver |
//! | [`credential`] | VC Data Model 2.0 with eddsa-jcs-2022 proofs and VC-JWT; the compact JWS keyed by `did:key` |
//! | [`catalog`] | data categories, providing departments, purposes, authorization letters |
//! | [`derivation`] | derived forms as data (blocks, thresholds, coarsened indicators) and masking of persons |
//! | [`evaluation`] | credit evaluation models as data, scoring, and the `CreditEvaluation` credential |
//! | [`grant`] | the `CreditDataAuthorization` credential: model, rules, verification → [`grant::VerifiedGrant`] |
//! | [`status`] | W3C Bitstring Status List entries and bitstrings (revocation, suspension) |
//! | [`calendar`] | Chinese working days (holidays and make-up days) and working-day deadlines in CST |
//! | [`intake`] | signed data batches of the providing departments: checked whole, content-addressed records |
//! | [`policy`] | the release decision: facts in, allow or refuse with every reason out |
//! | [`log`] | the access log as data: entries, Merkle tree, signed checkpoints, tiles, receipts, the auditor |
//!
//! **Shared by the service**
//!
//! | module | what it holds |
//! |---|---|
//! | [`clock`] | the time source passed into every time-dependent check |
//! | [`error`] | the service's one error type, with stable problem codes |
//! | [`config`] | service configuration, resolved once at start |
//! | [`metrics`] | the process's Prometheus metrics, defined once; rendered by `GET /metrics` |
//!
//! **The service**
//!
//! | module | what it holds |
//! |---|---|
//! | [`storage`] | every SQL statement (diesel over SQLite and PostgreSQL), migrations, the log's group committer |
//! | [`node`] | the node's operations: authentication, registry, grants, releases, audit, checkpoints, objections, webhooks |
//! | [`wire`] | the request and answer plumbing `http` and `portal` share: size-limited bodies, strict JSON, queries |
//! | [`http`] | the HTTP API (actix-web): routes, thin handlers, RFC 9457 problems; mounts the portal |
//! | [`portal`] | the web portal: static pages and a session API over the node's operations |
//! | [`platform`] | the platform role: its banks, grant checks against the node's status lists, onward releases |
//! | [`witness`] | the C2SP tlog-witness that cosigns the node's checkpoints, and its client |
//! | [`cli`] | the `consentry` command |

pub mod bulletin;
pub mod calendar;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod credential;
pub mod crypto;
pub mod derivation;
pub mod error;
pub mod evaluation;
pub mod grant;
pub mod http;
pub mod identity;
pub mod ids;
pub mod industry;
pub mod intake;
pub mod loan;
pub mod log;
pub mod metrics;
pub mod node;
pub mod platform;
pub mod policy;
pub mod portal;
pub mod region;
pub mod risk;
pub mod status;
pub mod storage;
pub mod wire;
pub mod witness;

//! The authorization grant: a `CreditDataAuthorization` Verifiable Credential issued and signed by an
//! enterprise's `did:key` (format: spec/grant.md, spec/grant.schema.json).
//!
//! * [`model`] — the terms as JSON;
//! * [`rules`] — what the terms must satisfy, every violation reported;
//! * [`verify()`] — proof, data model, rules and time → [`VerifiedGrant`];
//! * [`draft`] — building an unsigned grant;
//! * [`summary`] — the bilingual plain-language account;
//! * [`state`] — a stored grant's state and the enterprise's actions on it;
//! * [`request`] — consent requests: their state and the rule that a grant lies within one.

pub mod draft;
pub mod model;
pub mod request;
pub mod rules;
pub mod state;
pub mod summary;
pub mod verify;

pub use draft::{GrantDraft, StatusSlot};
pub use model::{GrantTerms, Granularity};
pub use rules::Violation;
pub use state::{GrantAction, GrantState};
pub use verify::{GrantError, VerifiedGrant, check_unsigned, verify};

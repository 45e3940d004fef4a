//! The answers of the HTTP API as types: one `#[derive(Serialize)]` struct per success body, named
//! after the schema it implements in `spec/openapi.yaml` (`components/schemas/X`), so that the
//! spec, the code and the client libraries have one shape to agree on.
//!
//! Why one home rather than a type beside each operation: the answers are the contract, and a
//! reader (or a client library's author) should find the whole of it in one place, one file per
//! area, in the same order as the spec. The node's operations build these values and return them;
//! the handlers only serialize them ([`crate::wire::json`] takes any `Serialize`).
//!
//! Conventions, so that each type serializes exactly as the answer always did:
//! * members are camelCase (`#[serde(rename_all = "camelCase")]`);
//! * an `Option<T>` field is `null` when `None` unless it carries
//!   `#[serde(skip_serializing_if = "Option::is_none")]`, which is used exactly where the schema
//!   lets the member be absent;
//! * states, roles and other closed sets are their enums, not strings; members whose content is a
//!   document of its own (a record's fields, a stored event, a signed receipt) stay
//!   [`serde_json::Value`];
//! * a page of a list is [`Paged`]: the items under the member the list's schema names (see
//!   [`Listed`]) and `next`, the cursor for the following page or `null`.
//!
//! `tests/integration/openapi.rs` (`answer_types_match_their_schemas`) serializes a value of every
//! type and checks it against the schema its doc names, and checks that the types cover every JSON
//! success answer of [`crate::http::ROUTES`] except the documents served as they are stored.

pub mod consent;
pub mod grants;
pub mod intake;
pub mod loans;
pub mod log;
pub mod objections;
mod paging;
pub mod registry;
pub mod stats;

pub use paging::{Listed, Page, PageQuery, Paged};
